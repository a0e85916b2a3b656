//! `presence`: who joined an auction's room or left it, by the name members see (never the
//! `sub`, which is an email). A socket remembers who it joined each room as, so that when it
//! disconnects each room is told who left under the same name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::broadcast::{emit_to_room, room};
use crate::auction::names::NamedMember;
use crate::contract::{Presence, ServerEvent, state};

/// The rooms a socket joined, each with who it is there.
#[derive(Clone, Default)]
struct JoinedAs(Arc<Mutex<HashMap<i64, Presence>>>);

/// Starts a socket's record (before any of its events can run, so two joins cannot race to
/// make it).
pub fn track<A: Adapter>(socket: &SocketRef<A>) {
    socket.extensions.insert(JoinedAs::default());
}

/// Tells the auction's room (but this socket) that `who` is here, and remembers it.
pub async fn online<A: Adapter>(socket: &SocketRef<A>, auction_id: i64, who: &NamedMember) {
    let presence = Presence {
        auction_id: Some(auction_id),
        name: who.name.clone(),
        role: who.member.role,
        team: who.member.team.map(state::id),
        online: true,
    };
    if let Some(joined) = socket.extensions.get::<JoinedAs>() {
        joined
            .0
            .lock()
            .expect("presence lock")
            .insert(auction_id, presence.clone());
    }
    let message = ServerEvent::Presence(presence);
    emit_to_room(|| socket.to(room(auction_id)), &message).await;
}

/// Tells every room the socket joined that it left.
pub async fn offline_everywhere<A: Adapter>(socket: &SocketRef<A>) {
    let Some(joined) = socket.extensions.get::<JoinedAs>() else {
        return;
    };
    let rooms: Vec<Presence> = joined
        .0
        .lock()
        .expect("presence lock")
        .drain()
        .map(|(_, p)| p)
        .collect();
    for presence in rooms {
        let Some(auction_id) = presence.auction_id else {
            continue;
        };
        let offline = ServerEvent::Presence(Presence {
            online: false,
            ..presence
        });
        emit_to_room(|| socket.to(room(auction_id)), &offline).await;
    }
}
