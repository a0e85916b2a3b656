//! Runs the rules against the database: every accepted command changes the auction's state
//! and appends its events (gapless per-auction `seq`) in one transaction, guarded by one
//! conditional update (`… WHERE id = ? AND seq = ?`), so that concurrent writers — tasks or
//! server processes — never both win. A command sent with a client id gets its first answer
//! again on a retry and changes nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqliteTransactionMode, TransactionOptions, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use super::{Auction, Command, Event, Millis, Rejection, TeamId};
use crate::db::entities::{
    auction_events, auctions, command_results, invitations, members, refused_bids,
};

/// How often a command is retried after losing a race to another writer.
const MAX_ATTEMPTS: usize = 64;

/// An accepted command: its events, each with its `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub events: Vec<(i64, Event)>,
    /// The auction's `seq` after the command.
    pub seq: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("no such auction")]
    NotFound,
    #[error("this client id was already used for another command")]
    ClientIdReused,
    #[error("the auction changed {MAX_ATTEMPTS} times while this command was decided")]
    Contention,
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("stored data is not readable: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// What a committed command changed, for the broadcasters: its events and the state after.
#[derive(Clone, Debug)]
pub struct Published {
    pub auction_id: i64,
    pub events: Vec<(i64, Event)>,
    pub state: Arc<Auction>,
    pub server_now: Millis,
}

/// An auction as stored.
pub struct Stored {
    pub name: String,
    /// The JWT `sub` of its commissioner.
    pub commissioner: String,
    pub state: Auction,
    pub seq: i64,
}

/// One bid of a lot's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BidRecord {
    pub team: TeamId,
    pub amount: u32,
    pub accepted: bool,
    /// Why it was refused (`outbid`, `stale`, …).
    pub reason: Option<String>,
    /// The `seq` of its `bid_accepted` event.
    pub seq: Option<i64>,
    pub at: Millis,
}

/// A member as stored at creation: `sub`, role (`commissioner`, `manager`, `spectator`), team.
pub struct NewMember<'a> {
    pub sub: &'a str,
    pub role: &'a str,
    pub team: Option<usize>,
}

#[derive(Clone)]
pub struct AuctionService {
    db: DatabaseConnection,
    /// One lock per auction: this process commits and publishes an auction's commands one at a
    /// time, so its broadcasts go out in `seq` order. The database stays the arbiter between
    /// processes (the conditional update).
    order: Arc<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>>,
    publish: Option<UnboundedSender<Published>>,
}

impl AuctionService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            order: Arc::default(),
            publish: None,
        }
    }

    /// Sends every committed change to `sink`, in `seq` order per auction, after its commit.
    pub fn publishing_to(mut self, sink: UnboundedSender<Published>) -> Self {
        self.publish = Some(sink);
        self
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Stores a new auction and its first members in one transaction; its id.
    pub async fn create(
        &self,
        name: &str,
        commissioner: &str,
        auction: &Auction,
        members: &[NewMember<'_>],
        now: Millis,
    ) -> Result<i64, ServiceError> {
        let txn = self.db.begin().await?;
        let row = auctions::ActiveModel {
            name: Set(name.to_owned()),
            commissioner: Set(commissioner.to_owned()),
            state: Set(serde_json::to_value(auction)?),
            seq: Set(0),
            created_at: Set(now as i64),
            ..Default::default()
        };
        let id = auctions::Entity::insert(row)
            .exec(&txn)
            .await?
            .last_insert_id;
        if !members.is_empty() {
            members::Entity::insert_many(members.iter().map(|m| members::ActiveModel {
                auction_id: Set(id),
                sub: Set(m.sub.to_owned()),
                role: Set(m.role.to_owned()),
                team: Set(m.team.map(|t| t as i32)),
                joined_at: Set(now as i64),
                ..Default::default()
            }))
            .exec(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(id)
    }

    /// The stored auction, read once: name, commissioner, state and the `seq` it reflects.
    pub async fn stored(&self, auction_id: i64) -> Result<Stored, ServiceError> {
        let row = auctions::Entity::find_by_id(auction_id)
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(Stored {
            name: row.name,
            commissioner: row.commissioner,
            state: serde_json::from_value(row.state)?,
            seq: row.seq,
        })
    }

    /// The latest committed `seq` alone (no state read).
    pub async fn latest_seq(&self, auction_id: i64) -> Result<i64, ServiceError> {
        auctions::Entity::find_by_id(auction_id)
            .select_only()
            .column(auctions::Column::Seq)
            .into_tuple::<i64>()
            .one(&self.db)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// The current state and the `seq` it reflects.
    pub async fn state(&self, auction_id: i64) -> Result<(Auction, i64), ServiceError> {
        let stored = self.stored(auction_id).await?;
        Ok((stored.state, stored.seq))
    }

    /// The events after `after_seq`, in order.
    pub async fn events_after(
        &self,
        auction_id: i64,
        after_seq: i64,
    ) -> Result<Vec<(i64, Event)>, ServiceError> {
        auction_events::Entity::find()
            .filter(auction_events::Column::AuctionId.eq(auction_id))
            .filter(auction_events::Column::Seq.gt(after_seq))
            .order_by_asc(auction_events::Column::Seq)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| Ok((e.seq, serde_json::from_value(e.payload)?)))
            .collect()
    }

    /// Decides and, if accepted, commits one command at server time `now`.
    pub async fn handle(
        &self,
        auction_id: i64,
        actor: &str,
        command: &Command,
        client_id: Option<&str>,
        now: Millis,
    ) -> Result<Accepted, ServiceError> {
        let lock = self
            .order
            .lock()
            .expect("order lock")
            .entry(auction_id)
            .or_default()
            .clone();
        let _turn = lock.lock().await;
        for _ in 0..MAX_ATTEMPTS {
            if let Some((outcome, after)) = self
                .attempt(auction_id, actor, command, client_id, now)
                .await?
            {
                if let (Some(sink), Some(state), Ok(accepted)) = (&self.publish, after, &outcome)
                    && !accepted.events.is_empty()
                {
                    // Only fails when the server is shutting down.
                    let _ = sink.send(Published {
                        auction_id,
                        events: accepted.events.clone(),
                        state: Arc::new(state),
                        server_now: now,
                    });
                }
                return outcome;
            }
        }
        Err(ServiceError::Contention)
    }

    /// One try; `None` when another writer changed the auction first. The state after an
    /// accepted command comes along (none for a repeated client id: that was published before).
    #[allow(clippy::type_complexity)]
    async fn attempt(
        &self,
        auction_id: i64,
        actor: &str,
        command: &Command,
        client_id: Option<&str>,
        now: Millis,
    ) -> Result<Option<(Result<Accepted, ServiceError>, Option<Auction>)>, ServiceError> {
        let immediate = TransactionOptions {
            // SQLite: take the write lock up front rather than fail a read-to-write upgrade.
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.db.begin_with_options(immediate).await?;
        if let Some(cid) = client_id {
            let earlier = command_results::Entity::find()
                .filter(command_results::Column::AuctionId.eq(auction_id))
                .filter(command_results::Column::ClientId.eq(cid))
                .one(&txn)
                .await?;
            if let Some(earlier) = earlier {
                // A retry is the same command from the same caller; anything else reusing the
                // id is refused rather than answered with someone else's result.
                if earlier.actor != actor || earlier.command != serde_json::to_value(command)? {
                    return Ok(Some((Err(ServiceError::ClientIdReused), None)));
                }
                let outcome: Result<Accepted, Rejection> = serde_json::from_value(earlier.outcome)?;
                return Ok(Some((outcome.map_err(ServiceError::Rejected), None)));
            }
        }
        let row = auctions::Entity::find_by_id(auction_id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let mut auction: Auction = serde_json::from_value(row.state)?;
        let decided = auction.decide(command, now);
        let outcome = match decided {
            Err(rejection) => Err(rejection),
            Ok(events) => {
                for e in &events {
                    auction.apply(e);
                }
                let seq = row.seq + events.len() as i64;
                let updated = auctions::Entity::update_many()
                    .col_expr(
                        auctions::Column::State,
                        Expr::value(serde_json::to_value(&auction)?),
                    )
                    .col_expr(auctions::Column::Seq, Expr::value(seq))
                    .filter(auctions::Column::Id.eq(auction_id))
                    .filter(auctions::Column::Seq.eq(row.seq))
                    .exec(&txn)
                    .await?;
                if updated.rows_affected == 0 {
                    return Ok(None);
                }
                let numbered: Vec<(i64, Event)> = (row.seq + 1..).zip(events).collect();
                if !numbered.is_empty() {
                    let rows = numbered
                        .iter()
                        .map(|(s, e)| {
                            let payload = serde_json::to_value(e)?;
                            Ok(auction_events::ActiveModel {
                                auction_id: Set(auction_id),
                                seq: Set(*s),
                                kind: Set(payload["kind"].as_str().unwrap_or("?").to_owned()),
                                payload: Set(payload),
                                actor: Set(actor.to_owned()),
                                at: Set(now as i64),
                                ..Default::default()
                            })
                        })
                        .collect::<Result<Vec<_>, serde_json::Error>>()?;
                    auction_events::Entity::insert_many(rows).exec(&txn).await?;
                }
                Ok(Accepted {
                    events: numbered,
                    seq,
                })
            }
        };
        // A refused bid is kept with its reason (an accepted one is its `bid_accepted` event).
        if let (
            Command::Bid {
                team, lot, amount, ..
            },
            Err(rejection),
        ) = (command, &outcome)
        {
            refused_bids::Entity::insert(refused_bids::ActiveModel {
                auction_id: Set(auction_id),
                lot: Set(*lot as i64),
                team: Set(*team as i32),
                amount: Set(i64::from(*amount)),
                actor: Set(actor.to_owned()),
                client_id: Set(client_id.map(str::to_owned)),
                reason: Set(rejection.kind().to_owned()),
                at: Set(now as i64),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
        if let Some(cid) = client_id {
            let row = command_results::ActiveModel {
                auction_id: Set(auction_id),
                client_id: Set(cid.to_owned()),
                actor: Set(actor.to_owned()),
                command: Set(serde_json::to_value(command)?),
                outcome: Set(serde_json::to_value(&outcome)?),
                at: Set(now as i64),
                ..Default::default()
            };
            // A concurrent twin that committed first made our conditional update fail above,
            // so a conflict here cannot happen; do nothing rather than abort if it does.
            command_results::Entity::insert(row)
                .on_conflict_do_nothing_on([
                    command_results::Column::AuctionId,
                    command_results::Column::ClientId,
                ])
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        let after = outcome.is_ok().then_some(auction);
        Ok(Some((outcome.map_err(ServiceError::Rejected), after)))
    }
}

impl AuctionService {
    /// The caller's membership row, if any (`NotFound` when there is no such auction).
    pub async fn membership(
        &self,
        auction_id: i64,
        sub: &str,
    ) -> Result<Option<members::Model>, ServiceError> {
        let row = members::Entity::find()
            .filter(members::Column::AuctionId.eq(auction_id))
            .filter(members::Column::Sub.eq(sub))
            .one(&self.db)
            .await?;
        if row.is_none()
            && auctions::Entity::find_by_id(auction_id)
                .one(&self.db)
                .await?
                .is_none()
        {
            return Err(ServiceError::NotFound);
        }
        Ok(row)
    }

    /// Every member of the auction.
    pub async fn members(&self, auction_id: i64) -> Result<Vec<members::Model>, ServiceError> {
        Ok(members::Entity::find()
            .filter(members::Column::AuctionId.eq(auction_id))
            .order_by_asc(members::Column::Id)
            .all(&self.db)
            .await?)
    }
}

impl AuctionService {
    /// The auctions `sub` belongs to.
    pub async fn memberships_of(&self, sub: &str) -> Result<Vec<members::Model>, ServiceError> {
        Ok(members::Entity::find()
            .filter(members::Column::Sub.eq(sub))
            .order_by_asc(members::Column::AuctionId)
            .all(&self.db)
            .await?)
    }

    pub async fn store_invitation(
        &self,
        auction_id: i64,
        code_hash: &str,
        role: &str,
        team: Option<usize>,
        expires_at: Millis,
    ) -> Result<(), ServiceError> {
        invitations::Entity::insert(invitations::ActiveModel {
            auction_id: Set(auction_id),
            code_hash: Set(code_hash.to_owned()),
            role: Set(role.to_owned()),
            team: Set(team.map(|t| t as i32)),
            expires_at: Set(expires_at as i64),
            ..Default::default()
        })
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// Marks the invitation used by `sub` and adds the member, in one transaction; the role
    /// and team it granted, or `None` when the code is unknown, used, expired, or its team has
    /// a manager already.
    pub async fn redeem_invitation(
        &self,
        auction_id: i64,
        code_hash: &str,
        sub: &str,
        now: Millis,
    ) -> Result<Option<(String, Option<i32>)>, ServiceError> {
        let txn = self.db.begin().await?;
        let used = invitations::Entity::update_many()
            .col_expr(invitations::Column::UsedBy, Expr::value(sub))
            .filter(invitations::Column::AuctionId.eq(auction_id))
            .filter(invitations::Column::CodeHash.eq(code_hash))
            .filter(invitations::Column::UsedBy.is_null())
            .filter(invitations::Column::ExpiresAt.gt(now as i64))
            .exec(&txn)
            .await?;
        if used.rows_affected != 1 {
            return Ok(None);
        }
        let invitation = invitations::Entity::find()
            .filter(invitations::Column::CodeHash.eq(code_hash))
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if let Some(team) = invitation.team {
            let taken = members::Entity::find()
                .filter(members::Column::AuctionId.eq(auction_id))
                .filter(members::Column::Team.eq(team))
                .one(&txn)
                .await?;
            if taken.is_some() {
                // Dropping the transaction rolls the redemption back.
                return Ok(None);
            }
        }
        let inserted = members::Entity::insert(members::ActiveModel {
            auction_id: Set(auction_id),
            sub: Set(sub.to_owned()),
            role: Set(invitation.role.clone()),
            team: Set(invitation.team),
            joined_at: Set(now as i64),
            ..Default::default()
        })
        .exec(&txn)
        .await;
        if let Err(e) = inserted {
            // A concurrent redemption took the team (or the caller joined meanwhile): the
            // unique indexes refuse the second, and the transaction rolls back.
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) {
                return Ok(None);
            }
            return Err(e.into());
        }
        txn.commit().await?;
        Ok(Some((invitation.role, invitation.team)))
    }
}

impl AuctionService {
    /// Every bid on one lot, accepted or refused: the lot's `bid_accepted` events (in `seq`
    /// order) and its refused bids (in the order stored), merged by server time.
    pub async fn bids(&self, auction_id: i64, lot: u64) -> Result<Vec<BidRecord>, ServiceError> {
        let accepted = auction_events::Entity::find()
            .filter(auction_events::Column::AuctionId.eq(auction_id))
            .filter(auction_events::Column::Kind.eq("bid_accepted"))
            .order_by_asc(auction_events::Column::Seq)
            .all(&self.db)
            .await?;
        let mut all = Vec::new();
        for e in accepted {
            if let Event::BidAccepted {
                lot: l,
                team,
                amount,
                ..
            } = serde_json::from_value(e.payload)?
                && l == lot
            {
                all.push(BidRecord {
                    team,
                    amount,
                    accepted: true,
                    reason: None,
                    seq: Some(e.seq),
                    at: e.at as Millis,
                });
            }
        }
        let refused = refused_bids::Entity::find()
            .filter(refused_bids::Column::AuctionId.eq(auction_id))
            .filter(refused_bids::Column::Lot.eq(lot as i64))
            .order_by_asc(refused_bids::Column::Id)
            .all(&self.db)
            .await?;
        let refused: Vec<BidRecord> = refused
            .into_iter()
            .map(|r| BidRecord {
                team: r.team as usize,
                amount: r.amount as u32,
                accepted: false,
                reason: Some(r.reason),
                seq: None,
                at: r.at as Millis,
            })
            .collect();
        // Merge the two lists, each already in the order it was decided (seq; id), by time.
        let mut merged = Vec::with_capacity(all.len() + refused.len());
        let (mut a, mut r) = (all.into_iter().peekable(), refused.into_iter().peekable());
        while let (Some(x), Some(y)) = (a.peek(), r.peek()) {
            let next = if x.at <= y.at { a.next() } else { r.next() };
            merged.extend(next);
        }
        merged.extend(a);
        merged.extend(r);
        Ok(merged)
    }
}
