//! The auction store: auctions, their event logs and members in the database, and the one
//! path a command takes into them. Every accepted command changes the auction's state and
//! appends its events (gapless per-auction `seq`) in one transaction, guarded by one
//! conditional update (`… WHERE id = ? AND seq = ?`), so that concurrent writers — tasks or
//! server processes — never both win. A command sent with a client id gets its first answer
//! again on a retry and changes nothing.
//!
//! What a member can make it write is bounded: accepted commands are bounded by the rules
//! (each accepted bid beats the last by the increment, within a budget); refused bids are kept
//! with their reason up to `stored_refusals_per_lot` per member and lot, and the answer a retry
//! gets (`command_results`) is kept for exactly those refusals and every accepted command.
//! Beyond the bound a refused bid is answered, counted ([`AuctionStore::unstored_refusals`])
//! and forgotten: a retry of it is decided again, which is safe because it changed nothing.
//!
//! The store takes the time (`now`) from its caller and never reads a clock.

pub mod chat;
mod membership;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqliteTransactionMode,
    TransactionOptions, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use super::{Auction, ClientId, Command, Event, Millis, Rejection, TeamId};
use crate::db::entities::{auction_events, auctions, command_results, members, refused_bids};

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
pub enum StoreError {
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
pub struct StoredAuction {
    pub name: String,
    /// The JWT `sub` of its commissioner.
    pub commissioner: String,
    pub state: Auction,
    pub seq: i64,
}

/// A member as stored at creation: `sub`, role (`commissioner`, `manager`, `spectator`), team,
/// and the display name they chose, if any.
pub struct NewMember<'a> {
    pub sub: &'a str,
    pub role: &'a str,
    pub team: Option<TeamId>,
    pub display_name: Option<&'a str>,
}

/// Auctions, their event logs and members in the database; commands run in transactions.
#[derive(Clone)]
pub struct AuctionStore {
    db: DatabaseConnection,
    /// One lock per auction: this process commits and publishes an auction's commands one at a
    /// time, so its broadcasts go out in `seq` order. The database stays the arbiter between
    /// processes (the conditional update).
    order: Arc<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>>,
    publish: Option<UnboundedSender<Published>>,
    /// Refused bids stored per member and lot; beyond it they are answered and counted.
    refusals_per_lot: u32,
    unstored_refusals: Arc<AtomicU64>,
}

impl AuctionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            order: Arc::default(),
            publish: None,
            refusals_per_lot: crate::config::Limits::default().stored_refusals_per_lot,
            unstored_refusals: Arc::default(),
        }
    }

    /// Stores at most `per_lot` refused bids per member and lot (the `stored_refusals_per_lot`
    /// limit); the rest are answered with their reason, counted, and not stored.
    pub fn storing_refusals(mut self, per_lot: u32) -> Self {
        self.refusals_per_lot = per_lot;
        self
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
    ) -> Result<i64, StoreError> {
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
                team: Set(m.team.map(|t| t.index() as i32)),
                joined_at: Set(now as i64),
                display_name: Set(m.display_name.map(str::to_owned)),
                ..Default::default()
            }))
            .exec(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(id)
    }

    /// The stored auction, read once: name, commissioner, state and the `seq` it reflects.
    pub async fn stored(&self, auction_id: i64) -> Result<StoredAuction, StoreError> {
        let row = auctions::Entity::find_by_id(auction_id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(StoredAuction {
            name: row.name,
            commissioner: row.commissioner,
            state: serde_json::from_value(row.state)?,
            seq: row.seq,
        })
    }

    /// The latest committed `seq` alone (no state read).
    pub async fn latest_seq(&self, auction_id: i64) -> Result<i64, StoreError> {
        auctions::Entity::find_by_id(auction_id)
            .select_only()
            .column(auctions::Column::Seq)
            .into_tuple::<i64>()
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The current state and the `seq` it reflects.
    pub async fn state(&self, auction_id: i64) -> Result<(Auction, i64), StoreError> {
        let stored = self.stored(auction_id).await?;
        Ok((stored.state, stored.seq))
    }

    /// The events after `after_seq`, in order.
    pub async fn events_after(
        &self,
        auction_id: i64,
        after_seq: i64,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
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
        client_id: Option<&ClientId>,
        now: Millis,
    ) -> Result<Accepted, StoreError> {
        let lock = self
            .order
            .lock()
            .expect("order lock")
            .entry(auction_id)
            .or_default()
            .clone();
        let _turn = lock.lock().await;
        let this = Attempt {
            auction_id,
            actor,
            command,
            client_id,
            now,
        };
        for _ in 0..MAX_ATTEMPTS {
            match self.attempt(&this).await? {
                Attempted::Lost => continue,
                Attempted::Repeated(answer) => return answer,
                Attempted::Refused(rejection) => return Err(rejection.into()),
                Attempted::Committed { accepted, state } => {
                    self.publish(auction_id, &accepted, state, now);
                    return Ok(accepted);
                }
            }
        }
        Err(StoreError::Contention)
    }

    /// Hands a committed change to the broadcasters (in this auction's order: the caller holds
    /// its turn).
    fn publish(&self, auction_id: i64, accepted: &Accepted, state: Auction, now: Millis) {
        let Some(sink) = &self.publish else {
            return;
        };
        if accepted.events.is_empty() {
            return;
        }
        // Only fails when the server is shutting down.
        let _ = sink.send(Published {
            auction_id,
            events: accepted.events.clone(),
            state: Arc::new(state),
            server_now: now,
        });
    }

    /// One try at a command, in one transaction.
    async fn attempt(&self, this: &Attempt<'_>) -> Result<Attempted, StoreError> {
        let immediate = TransactionOptions {
            // SQLite: take the write lock up front rather than fail a read-to-write upgrade.
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = self.db.begin_with_options(immediate).await?;
        if let Some(earlier) = earlier_answer(&txn, this).await? {
            return Ok(Attempted::Repeated(earlier));
        }
        let row = auctions::Entity::find_by_id(this.auction_id)
            .one(&txn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let mut auction: Auction = serde_json::from_value(row.state)?;
        // What is remembered for a retry stays bounded: every accepted command (the rules bound
        // those), and a refused bid only while its member has fewer than the bound stored on
        // its lot.
        let attempted = match auction.decide(this.command, this.now) {
            Ok(events) => {
                let Some(accepted) = commit(&txn, this, &mut auction, row.seq, events).await?
                else {
                    return Ok(Attempted::Lost);
                };
                if let Some(cid) = this.client_id {
                    remember_answer(&txn, this, cid, Ok(&accepted)).await?;
                }
                Attempted::Committed {
                    accepted,
                    state: auction,
                }
            }
            Err(rejection) => {
                if self.keep_refusal(&txn, this, &auction, &rejection).await?
                    && let Some(cid) = this.client_id
                {
                    remember_answer(&txn, this, cid, Err(&rejection)).await?;
                }
                Attempted::Refused(rejection)
            }
        };
        txn.commit().await?;
        Ok(attempted)
    }

    /// Stores a refused bid with its reason, unless its lot never existed or its member already
    /// has [`Self::storing_refusals`] stored on it: then it is only counted. Whether it was
    /// stored. Other refused commands change nothing and are not stored.
    async fn keep_refusal(
        &self,
        txn: &DatabaseTransaction,
        this: &Attempt<'_>,
        auction: &Auction,
        rejection: &Rejection,
    ) -> Result<bool, StoreError> {
        let Command::Bid {
            team, lot, amount, ..
        } = this.command
        else {
            return Ok(false);
        };
        let stored = if (1..=auction.last_lot).contains(lot) {
            refused_bids::Entity::find()
                .filter(refused_bids::Column::AuctionId.eq(this.auction_id))
                .filter(refused_bids::Column::Lot.eq(*lot as i64))
                .filter(refused_bids::Column::Actor.eq(this.actor))
                .count(txn)
                .await?
        } else {
            // A lot id from nowhere: storing it would let a member grow a list per made-up lot.
            u64::MAX
        };
        let bound = u64::from(self.refusals_per_lot);
        if stored >= bound {
            self.unstored_refusals.fetch_add(1, Ordering::Relaxed);
            return Ok(false);
        }
        if stored + 1 == bound {
            tracing::info!(
                auction = this.auction_id,
                lot,
                actor = this.actor,
                bound,
                "a member's refused bids on this lot reach the bound: later ones are answered, not stored"
            );
        }
        refused_bids::Entity::insert(refused_bids::ActiveModel {
            auction_id: Set(this.auction_id),
            lot: Set(*lot as i64),
            team: Set(team.index() as i32),
            amount: Set(i64::from(*amount)),
            actor: Set(this.actor.to_owned()),
            client_id: Set(this.client_id.map(|c| c.as_str().to_owned())),
            reason: Set(rejection.kind().to_owned()),
            at: Set(this.now as i64),
            ..Default::default()
        })
        .exec(txn)
        .await?;
        Ok(true)
    }

    /// Refused bids answered but not stored (over the bound, or on a lot that never existed)
    /// since this process started.
    pub fn unstored_refusals(&self) -> u64 {
        self.unstored_refusals.load(Ordering::Relaxed)
    }
}

/// How one try at a command ended.
enum Attempted {
    /// Another writer changed the auction first: decide again on the state it left.
    Lost,
    /// The client id was used before: the first answer (published back then), or a refusal
    /// of the id's reuse.
    Repeated(Result<Accepted, StoreError>),
    /// The rules refused it (a refused bid may have been stored, and committed).
    Refused(Rejection),
    /// Accepted and committed; the state after it, for the broadcasters.
    Committed { accepted: Accepted, state: Auction },
}

/// One command as [`AuctionStore::handle`] was asked for it.
struct Attempt<'a> {
    auction_id: i64,
    actor: &'a str,
    command: &'a Command,
    client_id: Option<&'a ClientId>,
    now: Millis,
}

/// The first answer to a command sent again with the same client id, if there was one. A retry
/// is the same command from the same caller; anything else reusing the id is refused rather
/// than answered with someone else's result.
async fn earlier_answer(
    txn: &DatabaseTransaction,
    this: &Attempt<'_>,
) -> Result<Option<Result<Accepted, StoreError>>, StoreError> {
    let Some(cid) = this.client_id else {
        return Ok(None);
    };
    let Some(earlier) = command_results::Entity::find()
        .filter(command_results::Column::AuctionId.eq(this.auction_id))
        .filter(command_results::Column::ClientId.eq(cid.as_str()))
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    if earlier.actor != this.actor || earlier.command != serde_json::to_value(this.command)? {
        return Ok(Some(Err(StoreError::ClientIdReused)));
    }
    let outcome: Result<Accepted, Rejection> = serde_json::from_value(earlier.outcome)?;
    Ok(Some(outcome.map_err(StoreError::Rejected)))
}

/// Applies an accepted command's events to `auction` and stores both, guarded by the
/// conditional update on `seq`; `None` when another writer moved the auction first.
async fn commit(
    txn: &DatabaseTransaction,
    this: &Attempt<'_>,
    auction: &mut Auction,
    seq_before: i64,
    events: Vec<Event>,
) -> Result<Option<Accepted>, StoreError> {
    for e in &events {
        auction.apply(e);
    }
    let seq = seq_before + events.len() as i64;
    let updated = auctions::Entity::update_many()
        .col_expr(
            auctions::Column::State,
            Expr::value(serde_json::to_value(&*auction)?),
        )
        .col_expr(auctions::Column::Seq, Expr::value(seq))
        .filter(auctions::Column::Id.eq(this.auction_id))
        .filter(auctions::Column::Seq.eq(seq_before))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(None);
    }
    let numbered: Vec<(i64, Event)> = (seq_before + 1..).zip(events).collect();
    if !numbered.is_empty() {
        let rows = numbered
            .iter()
            .map(|(s, e)| {
                let payload = serde_json::to_value(e)?;
                Ok(auction_events::ActiveModel {
                    auction_id: Set(this.auction_id),
                    seq: Set(*s),
                    kind: Set(payload["kind"].as_str().unwrap_or("?").to_owned()),
                    payload: Set(payload),
                    actor: Set(this.actor.to_owned()),
                    at: Set(this.now as i64),
                    ..Default::default()
                })
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        auction_events::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(Some(Accepted {
        events: numbered,
        seq,
    }))
}

/// Stores the answer a retry with the same client id gets.
async fn remember_answer(
    txn: &DatabaseTransaction,
    this: &Attempt<'_>,
    cid: &ClientId,
    // Stored as a `Result<Accepted, Rejection>` (what `earlier_answer` reads back).
    outcome: Result<&Accepted, &Rejection>,
) -> Result<(), StoreError> {
    let row = command_results::ActiveModel {
        auction_id: Set(this.auction_id),
        client_id: Set(cid.as_str().to_owned()),
        actor: Set(this.actor.to_owned()),
        command: Set(serde_json::to_value(this.command)?),
        outcome: Set(serde_json::to_value(outcome)?),
        at: Set(this.now as i64),
        ..Default::default()
    };
    // A concurrent twin that committed first made our conditional update fail above, so a
    // conflict here cannot happen; do nothing rather than abort if it does.
    command_results::Entity::insert(row)
        .on_conflict_do_nothing_on([
            command_results::Column::AuctionId,
            command_results::Column::ClientId,
        ])
        .exec(txn)
        .await?;
    Ok(())
}
