//! Deadlines: one task per auction sleeps until its absolute deadline (`ends_at`, or the
//! nomination deadline) and then asks the store to close the lot or nominate. Nothing counts
//! ticks; a bid that extended the clock just makes the close `not_yet_due`, and the task sleeps
//! again until the new deadline. At start-up every open deadline is re-armed from the database,
//! so a restart loses nothing; with several processes, each may try and the store lets
//! exactly one win. The tasks sleep on the server's [`Clock`](crate::clock::Clock), so a test
//! clock decides when a deadline has come.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::EntityTrait;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::store::{AuctionStore, StoreError};
use super::{Auction, Command, Millis, Phase};
use crate::clock::SharedClock;
use crate::db::entities::auctions;

pub struct Deadlines {
    store: AuctionStore,
    clock: SharedClock,
    armed: Mutex<HashMap<i64, Armed>>,
}

/// An auction's task, and how to make it read its deadline again.
struct Armed {
    task: JoinHandle<()>,
    moved: Arc<Notify>,
}

impl Drop for Deadlines {
    fn drop(&mut self) {
        for (_, armed) in self.armed.lock().expect("deadlines lock").drain() {
            armed.task.abort();
        }
    }
}

/// What falls due in `state`, and when.
fn due(state: &Auction) -> Option<(Millis, Command)> {
    match &state.phase {
        Phase::Nominating { deadline, .. } => Some((*deadline, Command::NominationTimeout)),
        Phase::Bidding(lot) => Some((lot.ends_at, Command::CloseLot)),
        Phase::Lobby | Phase::Paused { .. } | Phase::Completed => None,
    }
}

impl Deadlines {
    pub fn new(store: AuctionStore, clock: SharedClock) -> Arc<Self> {
        Arc::new(Self {
            store,
            clock,
            armed: Mutex::new(HashMap::new()),
        })
    }

    /// Arms every auction that has an open deadline (at start-up), from the rows read once.
    /// Returns how many.
    pub async fn rearm_all(self: &Arc<Self>) -> Result<usize, StoreError> {
        let rows = auctions::Entity::find().all(self.store.db()).await?;
        let mut armed = 0;
        for row in rows {
            let state: Auction = serde_json::from_value(row.state)?;
            if self.arm_with(row.id, due(&state).is_some()) {
                armed += 1;
            }
        }
        Ok(armed)
    }

    /// (Re)arms auction `id` from its stored state; `false` when it has no open deadline.
    /// Call it after a command that may have moved a deadline earlier (a nomination, a resume).
    pub async fn arm(self: &Arc<Self>, id: i64) -> Result<bool, StoreError> {
        let open = self.next(id).await?.is_some();
        Ok(self.arm_with(id, open))
    }

    /// A running task is told to read its deadline again rather than aborted, so a close or
    /// nomination it is committing right now is never cut off between commit and broadcast.
    fn arm_with(self: &Arc<Self>, id: i64, open: bool) -> bool {
        let mut armed = self.armed.lock().expect("deadlines lock");
        match armed.get(&id) {
            Some(running) if !running.task.is_finished() => running.moved.notify_one(),
            _ if open => {
                let moved = Arc::new(Notify::new());
                let task = self.spawn(id, moved.clone());
                armed.insert(id, Armed { task, moved });
            }
            _ => {
                armed.remove(&id);
            }
        }
        open
    }

    /// The auction's next deadline and what to do then.
    async fn next(&self, id: i64) -> Result<Option<(Millis, Command)>, StoreError> {
        let (state, _) = self.store.state(id).await?;
        Ok(due(&state))
    }

    /// One task per auction: sleep until the deadline, act, read the next deadline, repeat.
    fn spawn(self: &Arc<Self>, id: i64, moved: Arc<Notify>) -> JoinHandle<()> {
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(deadlines) = this.upgrade() else {
                    return;
                };
                let (at, command) = match deadlines.next(id).await {
                    Ok(Some(next)) => next,
                    Ok(None) => {
                        // Nothing due (paused, completed): park until a command moves a
                        // deadline. A notification sent meanwhile is kept, so none is missed.
                        drop(deadlines);
                        moved.notified().await;
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(auction = id, error = %e, "cannot read the next deadline; retrying");
                        drop(deadlines);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                let sleep = deadlines.clock.sleep_until(at);
                drop(deadlines);
                tokio::select! {
                    () = sleep => {}
                    // The deadline may have moved: read it again.
                    () = moved.notified() => continue,
                }
                let Some(deadlines) = this.upgrade() else {
                    return;
                };
                // Done, not yet due (a bid extended the clock), or the auction moved on: in
                // every case the next deadline comes from the stored state.
                let now = deadlines.clock.now_ms();
                if let Err(e) = deadlines
                    .store
                    .handle(id, "timer", &command, None, now)
                    .await
                    && !matches!(e, StoreError::Rejected(_))
                {
                    // A database hiccup: try again shortly rather than drop the deadline.
                    tracing::error!(auction = id, error = %e, "deadline action failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        })
    }
}
