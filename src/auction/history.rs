//! A lot's bid history, page by page: its `bid_accepted` events (in `seq` order) and its refused
//! bids (in the order stored), merged by server time. A page ends at a cursor naming the last
//! accepted `seq` and the last refused row it holds, so the next page continues both lists from
//! there and rows written meanwhile never shift a page.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::store::{AuctionStore, StoreError};
use super::{Event, Millis, TeamId};
use crate::db::entities::{auction_events, refused_bids};

/// Bids per page when the caller does not say.
pub const DEFAULT_PAGE: u32 = 100;
/// The most bids one page holds (a larger `limit` is refused by the API).
pub const MAX_PAGE: u32 = 500;
/// `bid_accepted` events read at once while looking for one lot's.
const SCAN_CHUNK: u64 = 256;

/// One bid of a lot's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBid {
    pub team: TeamId,
    pub amount: u32,
    pub accepted: bool,
    /// Why it was refused (`outbid`, `stale`, …).
    pub reason: Option<String>,
    /// The `seq` of its `bid_accepted` event.
    pub seq: Option<i64>,
    pub at: Millis,
}

/// Where a page ended: the last accepted bid's `seq` and the last refused bid's row id it held
/// (0: none yet). Written `<seq>.<id>`; clients pass it back as they got it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BidCursor {
    pub seq: i64,
    pub refused: i64,
}

impl std::fmt::Display for BidCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.seq, self.refused)
    }
}

impl std::str::FromStr for BidCursor {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "a cursor is the `next` of an earlier page";
        let (seq, refused) = s.split_once('.').ok_or(WHAT)?;
        let number = |t: &str| t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or(WHAT);
        Ok(Self {
            seq: number(seq)?,
            refused: number(refused)?,
        })
    }
}

/// One page, and the cursor of the next when there is more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBidPage {
    pub bids: Vec<StoredBid>,
    pub next: Option<BidCursor>,
}

impl AuctionStore {
    /// Up to `limit` bids of `lot` after `after` (from the first without one).
    pub async fn bids(
        &self,
        auction_id: i64,
        lot: u64,
        after: Option<BidCursor>,
        limit: u32,
    ) -> Result<StoredBidPage, StoreError> {
        let after = after.unwrap_or_default();
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        // One more of each than a page holds tells whether another page follows.
        let accepted = self
            .accepted_bids(auction_id, lot, after.seq, limit + 1)
            .await?;
        let refused = self
            .refused_bids(auction_id, lot, after.refused, limit + 1)
            .await?;
        Ok(merge(accepted, refused, after, limit))
    }

    /// Up to `want` accepted bids on `lot` with a `seq` above `after_seq`. A lot's bids come
    /// after its `lot_opened` event and before the next lot's: the scan starts there and stops
    /// at the first bid on a later lot.
    async fn accepted_bids(
        &self,
        auction_id: i64,
        lot: u64,
        after_seq: i64,
        want: usize,
    ) -> Result<Vec<StoredBid>, StoreError> {
        let Some(opened) = self.lot_opened_seq(auction_id, lot).await? else {
            return Ok(Vec::new());
        };
        let mut from = after_seq.max(opened);
        let mut found = Vec::new();
        loop {
            let chunk = auction_events::Entity::find()
                .filter(auction_events::Column::AuctionId.eq(auction_id))
                .filter(auction_events::Column::Kind.eq("bid_accepted"))
                .filter(auction_events::Column::Seq.gt(from))
                .order_by_asc(auction_events::Column::Seq)
                .limit(SCAN_CHUNK)
                .all(self.db())
                .await?;
            let complete = (chunk.len() as u64) < SCAN_CHUNK;
            for e in chunk {
                from = e.seq;
                let Event::BidAccepted {
                    lot: l,
                    team,
                    amount,
                    ..
                } = serde_json::from_value(e.payload)?
                else {
                    continue;
                };
                if l > lot {
                    return Ok(found);
                }
                if l == lot {
                    found.push(StoredBid {
                        team,
                        amount,
                        accepted: true,
                        reason: None,
                        seq: Some(e.seq),
                        at: e.at as Millis,
                    });
                    if found.len() == want {
                        return Ok(found);
                    }
                }
            }
            if complete {
                return Ok(found);
            }
        }
    }

    /// The `seq` of `lot`'s `lot_opened` event; `None` when it never opened. Lots are numbered
    /// 1, 2, … as they open, so it is the `lot`-th such event (checked; if not, every bid of the
    /// auction is scanned rather than one missed).
    async fn lot_opened_seq(&self, auction_id: i64, lot: u64) -> Result<Option<i64>, StoreError> {
        let Some(offset) = lot.checked_sub(1) else {
            return Ok(None);
        };
        let row = auction_events::Entity::find()
            .filter(auction_events::Column::AuctionId.eq(auction_id))
            .filter(auction_events::Column::Kind.eq("lot_opened"))
            .order_by_asc(auction_events::Column::Seq)
            .offset(offset)
            .limit(1)
            .one(self.db())
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(match serde_json::from_value(row.payload)? {
            Event::LotOpened { lot: opened } if opened.id == lot => Some(row.seq),
            _ => Some(0),
        })
    }

    /// Up to `want` refused bids on `lot` stored after row `after_id`, with their row ids.
    async fn refused_bids(
        &self,
        auction_id: i64,
        lot: u64,
        after_id: i64,
        want: usize,
    ) -> Result<Vec<(i64, StoredBid)>, StoreError> {
        let rows = refused_bids::Entity::find()
            .filter(refused_bids::Column::AuctionId.eq(auction_id))
            .filter(refused_bids::Column::Lot.eq(lot as i64))
            .filter(refused_bids::Column::Id.gt(after_id))
            .order_by_asc(refused_bids::Column::Id)
            .limit(want as u64)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let record = StoredBid {
                    team: TeamId(r.team as usize),
                    amount: r.amount as u32,
                    accepted: false,
                    reason: Some(r.reason),
                    seq: None,
                    at: r.at as Millis,
                };
                (r.id, record)
            })
            .collect())
    }
}

/// The first `limit` of the two lists merged by time (an accepted bid first on a tie), each kept
/// in its own order; the cursor after the last one taken when any is left.
fn merge(
    accepted: Vec<StoredBid>,
    refused: Vec<(i64, StoredBid)>,
    mut cursor: BidCursor,
    limit: usize,
) -> StoredBidPage {
    let (mut a, mut r) = (
        accepted.into_iter().peekable(),
        refused.into_iter().peekable(),
    );
    let mut bids = Vec::with_capacity(limit);
    while bids.len() < limit {
        let take_accepted = match (a.peek(), r.peek()) {
            (Some(x), Some((_, y))) => x.at <= y.at,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_accepted {
            let bid = a.next().expect("peeked");
            cursor.seq = bid.seq.expect("an accepted bid has a seq");
            bids.push(bid);
        } else {
            let (id, bid) = r.next().expect("peeked");
            cursor.refused = id;
            bids.push(bid);
        }
    }
    let more = a.peek().is_some() || r.peek().is_some();
    StoredBidPage {
        bids,
        next: more.then_some(cursor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bid(accepted: bool, at: Millis, seq: i64) -> StoredBid {
        StoredBid {
            team: TeamId(0),
            amount: 1,
            accepted,
            reason: (!accepted).then(|| "outbid".to_owned()),
            seq: accepted.then_some(seq),
            at,
        }
    }

    #[test]
    fn cursors_print_and_parse_back() {
        let c = BidCursor {
            seq: 12,
            refused: 340,
        };
        assert_eq!(c.to_string().parse::<BidCursor>(), Ok(c));
        for bad in ["", "12", "a.b", "-1.0", "1.2.3", "1.-2"] {
            assert!(bad.parse::<BidCursor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn pages_merge_by_time_and_resume_where_they_ended() {
        let accepted = vec![bid(true, 10, 5), bid(true, 30, 6), bid(true, 50, 9)];
        let refused = vec![(1, bid(false, 20, 0)), (2, bid(false, 30, 0))];
        let first = merge(accepted.clone(), refused.clone(), BidCursor::default(), 3);
        let ats: Vec<Millis> = first.bids.iter().map(|b| b.at).collect();
        assert_eq!(ats, [10, 20, 30]);
        assert!(first.bids[2].accepted, "an accepted bid first on a tie");
        let next = first.next.unwrap();
        assert_eq!(next, BidCursor { seq: 6, refused: 1 });
        // The caller then reads both lists after the cursor.
        let rest = merge(accepted[2..].to_vec(), refused[1..].to_vec(), next, 3);
        let ats: Vec<Millis> = rest.bids.iter().map(|b| b.at).collect();
        assert_eq!(ats, [30, 50]);
        assert_eq!(rest.next, None);
    }
}
