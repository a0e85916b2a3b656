//! From committed auction events to Socket.IO messages: one task receives what the auction store
//! published (in `seq` order per auction) and emits it to the auction's room.
//!
//! With the Redis adapter the room spans every server process: each process broadcasts what it
//! committed, and the adapter delivers it to the room's sockets on the others.
//!
//! Every message is a [`ServerEvent`] and carries `auction_id`, `seq` and `server_now` (an
//! auction's event also its name, as `kind`); `team:updated` repeats the `seq` of the event that
//! changed the team. A client keeps the last `seq` it applied, ignores anything at or below it,
//! and on a gap (or a reconnect) sends `auction:join` with `last_seq`.

use socketioxide::adapter::Adapter;
use socketioxide::operators::BroadcastOperators;
use socketioxide::{BroadcastError, SocketIo};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use super::NAMESPACE;
use crate::auction::store::Published;
use crate::auction::{Auction, Event, Millis, TeamId};
use crate::contract::{ServerEvent, Stamp, Stamped, TeamUpdated};

/// The room of one auction.
pub fn room(auction_id: i64) -> String {
    format!("auction:{auction_id}")
}

/// The Socket.IO messages for one event: its own, then `team:updated` for a team it changed.
pub fn messages(
    auction_id: i64,
    seq: i64,
    event: &Event,
    state: &Auction,
    server_now: Millis,
) -> Vec<ServerEvent> {
    let stamp = Stamp {
        auction_id,
        seq,
        server_now,
    };
    let team = match event {
        Event::LotSold { team, .. }
        | Event::SaleVoided { team, .. }
        | Event::SaleEdited { team, .. } => Some(*team),
        _ => None,
    };
    let mut out = vec![ServerEvent::auction(stamp, event)];
    out.extend(team.map(|team| team_updated(stamp, state, team)));
    out
}

/// A team as it stands in `state`, under `stamp`.
pub(super) fn team_updated(stamp: Stamp, state: &Auction, team: TeamId) -> ServerEvent {
    ServerEvent::TeamUpdated(Stamped {
        stamp,
        body: TeamUpdated::of(state, team),
    })
}

/// Emits what the auction store publishes, in order, to each auction's room.
pub fn spawn<A: Adapter>(
    io: SocketIo<A>,
    mut published: UnboundedReceiver<Published>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(p) = published.recv().await {
            let Some(ns) = io.of(NAMESPACE) else {
                continue;
            };
            let room = room(p.auction_id);
            for (seq, event) in &p.events {
                for message in messages(p.auction_id, *seq, event, &p.state, p.server_now) {
                    emit_to_room(|| ns.clone().to(room.clone()), &message).await;
                }
            }
        }
    })
}

/// Sends `message` to this socket alone, under its name. (A full send buffer drops it: the
/// client resyncs by `seq`.)
pub(super) fn emit_to<A: Adapter>(
    socket: &socketioxide::extract::SocketRef<A>,
    message: &ServerEvent,
) {
    if let Err(e) = socket.emit(message.name(), message) {
        tracing::debug!(sid = %socket.id, event = message.name(), error = %e, "a message to one socket was dropped");
    }
}

/// Emits to a room across processes. The Redis adapter publishes first and, when that fails,
/// skips this process's own sockets too; they get the message anyway (`local`), and the other
/// processes' clients catch up by `seq` (`time:sync`). Only an adapter failure falls back: a
/// failed send to one local socket (closing, full) already reached the rest.
pub(super) async fn emit_to_room<A: Adapter>(
    to_room: impl Fn() -> BroadcastOperators<A>,
    message: &ServerEvent,
) {
    let name = message.name();
    match to_room().emit(name, message).await {
        Ok(()) => {}
        Err(BroadcastError::Adapter(e)) => {
            tracing::warn!(event = name, error = %e, "broadcast to other processes failed; delivering locally");
            if let Err(e) = to_room().local().emit(name, message).await {
                tracing::warn!(event = name, error = %e, "local broadcast failed");
            }
        }
        Err(e) => tracing::warn!(event = name, error = %e, "broadcast failed"),
    }
}
