//! From committed auction events to Socket.IO messages: one task receives what the auction store
//! published (in `seq` order per auction) and emits it to the auction's room.
//!
//! With the Redis adapter the room spans every server process: each process broadcasts what it
//! committed, and the adapter delivers it to the room's sockets on the others.
//!
//! Every message carries `auction_id`, `seq` and `server_now`; `team:updated` repeats the `seq`
//! of the event that changed the team. A client keeps the last `seq` it applied, ignores
//! anything at or below it, and on a gap (or a reconnect) sends `auction:join` with `last_seq`.

use serde_json::{Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::operators::BroadcastOperators;
use socketioxide::{BroadcastError, SocketIo};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use super::NAMESPACE;
use crate::auction::store::Published;
use crate::auction::{Auction, Event, Millis, TeamId};

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
) -> Vec<(&'static str, Value)> {
    let mut body = serde_json::to_value(event).expect("events serialize");
    let fields = body.as_object_mut().expect("events are objects");
    fields.insert("auction_id".into(), json!(auction_id));
    fields.insert("seq".into(), json!(seq));
    fields.insert("server_now".into(), json!(server_now));
    let (name, team): (&str, Option<TeamId>) = match event {
        Event::PlayersAdded { .. } => ("pool:updated", None),
        Event::SettingsChanged { .. } => ("auction:settings", None),
        Event::NominationOpened { .. } => ("nomination:opened", None),
        Event::LotOpened { .. } => ("lot:opened", None),
        Event::BidAccepted { .. } => ("bid:accepted", None),
        Event::LotSold { team, .. } => ("lot:sold", Some(*team)),
        Event::LotAbandoned { .. } => ("lot:abandoned", None),
        Event::Paused { .. } => ("auction:paused", None),
        Event::Resumed { .. } => ("auction:resumed", None),
        Event::SaleVoided { team, .. } => ("sale:voided", Some(*team)),
        Event::SaleEdited { team, .. } => ("sale:edited", Some(*team)),
        Event::Completed => ("auction:completed", None),
    };
    let mut out = vec![(name, body)];
    if let Some(team) = team {
        out.push((
            "team:updated",
            team_updated(auction_id, seq, state, team, server_now),
        ));
    }
    out
}

/// A team as it stands in `state`, stamped with `seq`.
pub(super) fn team_updated(
    auction_id: i64,
    seq: i64,
    state: &Auction,
    team: TeamId,
    server_now: Millis,
) -> Value {
    let t = state.team(team);
    json!({
        "auction_id": auction_id,
        "seq": seq,
        "server_now": server_now,
        "team": team,
        "name": t.name,
        "budget_left": t.budget_left,
        "roster": t.roster,
        "max_bid": state.max_bid(team),
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
                for (name, body) in messages(p.auction_id, *seq, event, &p.state, p.server_now) {
                    emit_to_room(|| ns.clone().to(room.clone()), name, &body).await;
                }
            }
        }
    })
}

/// Emits to a room across processes. The Redis adapter publishes first and, when that fails,
/// skips this process's own sockets too; they get the message anyway (`local`), and the other
/// processes' clients catch up by `seq` (`time:sync`). Only an adapter failure falls back: a
/// failed send to one local socket (closing, full) already reached the rest.
pub(super) async fn emit_to_room<A: Adapter>(
    to_room: impl Fn() -> BroadcastOperators<A>,
    name: &str,
    body: &Value,
) {
    match to_room().emit(name, body).await {
        Ok(()) => {}
        Err(BroadcastError::Adapter(e)) => {
            tracing::warn!(event = name, error = %e, "broadcast to other processes failed; delivering locally");
            if let Err(e) = to_room().local().emit(name, body).await {
                tracing::warn!(event = name, error = %e, "local broadcast failed");
            }
        }
        Err(e) => tracing::warn!(event = name, error = %e, "broadcast failed"),
    }
}
