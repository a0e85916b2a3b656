//! The room's chat over Socket.IO: `chat:send` (any member) and `chat:delete` (the
//! commissioner), broadcast to the auction's room as `chat:message` and `chat:deleted` — across
//! processes with the Redis adapter, like the auction's own events — and `chat:history` to a
//! socket that joins. Log lines name messages by id and length, never by their text.

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};

use super::auction_events::{Admitted, error, parse, request_error, sub};
use super::broadcast::{emit_to, emit_to_room, room};
use crate::auction::requests::{ChatError, ChatText, MemberRequests, MemberRole, RequestError};
use crate::contract::{
    Acknowledged, ChatDeleteAck, ChatDeleteRequest, ChatDeleted, ChatHistory, ChatMessage,
    ChatSendAck, ChatSendRequest, ChatSent, Command, Refusal, ServerEvent, True,
};
use crate::db::entities::chat_messages;

/// How many messages a joining socket is sent.
pub const HISTORY: u64 = 100;

pub fn register<A: Adapter>(socket: &SocketRef<A>) {
    socket.on(
        ChatSendRequest::NAME,
        async |_: Admitted,
               socket: SocketRef<A>,
               TryData(data): TryData<Value>,
               ack: AckSender<A>,
               State(requests): State<MemberRequests>| {
            let answer = match parse::<ChatSendRequest>(data) {
                Ok(req) => send(&socket, &requests, req).await,
                Err(refusal) => refusal.into(),
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on(
        ChatDeleteRequest::NAME,
        async |_: Admitted,
               socket: SocketRef<A>,
               TryData(data): TryData<Value>,
               ack: AckSender<A>,
               State(requests): State<MemberRequests>| {
            let answer = match parse::<ChatDeleteRequest>(data) {
                Ok(req) => delete(&socket, &requests, req).await,
                Err(refusal) => refusal.into(),
            };
            let _ = ack.send(&answer);
        },
    );
}

/// A stored message as members see it.
fn message(row: &chat_messages::Model) -> ChatMessage {
    ChatMessage {
        auction_id: row.auction_id,
        id: row.id,
        name: row.name.clone(),
        role: MemberRole::parse(&row.role).unwrap_or(MemberRole::Spectator),
        team: row.team.and_then(|t| u32::try_from(t).ok()),
        text: row.text.clone(),
        at: u64::try_from(row.at).unwrap_or_default(),
    }
}

fn chat_error(e: &ChatError) -> Refusal {
    match e {
        ChatError::Request(inner) => request_error(inner),
        other => error(other.kind(), other),
    }
}

async fn send<A: Adapter>(
    socket: &SocketRef<A>,
    requests: &MemberRequests,
    req: ChatSendRequest,
) -> ChatSendAck {
    let text = match ChatText::parse(&req.text) {
        Ok(text) => text,
        Err(why) => return error("invalid_message", why).into(),
    };
    let row = match requests
        .send_chat(req.auction_id, &sub(socket), &text)
        .await
    {
        Ok(row) => row,
        Err(e) => {
            tracing::debug!(
                auction = req.auction_id,
                kind = e.kind(),
                "chat message refused"
            );
            return chat_error(&e).into();
        }
    };
    tracing::debug!(
        auction = req.auction_id,
        id = row.id,
        chars = text.as_str().chars().count(),
        "chat message sent"
    );
    let sent = ServerEvent::Chat(message(&row));
    // `within`: the sender's own sockets in the room get it too.
    emit_to_room(|| socket.within(room(req.auction_id)), &sent).await;
    ChatSent {
        ok: True,
        id: row.id,
    }
    .into()
}

async fn delete<A: Adapter>(
    socket: &SocketRef<A>,
    requests: &MemberRequests,
    req: ChatDeleteRequest,
) -> ChatDeleteAck {
    match requests
        .delete_chat(req.auction_id, &sub(socket), req.id)
        .await
    {
        Ok(true) => {
            tracing::info!(
                auction = req.auction_id,
                id = req.id,
                "the commissioner deleted a chat message"
            );
            let deleted = ServerEvent::ChatDeleted(ChatDeleted {
                auction_id: req.auction_id,
                id: req.id,
            });
            emit_to_room(|| socket.within(room(req.auction_id)), &deleted).await;
            Acknowledged { ok: True }.into()
        }
        // Deleted before: everyone was told then.
        Ok(false) => Acknowledged { ok: True }.into(),
        Err(e) => chat_error(&e).into(),
    }
}

/// Sends a joining socket the room's last [`HISTORY`] messages, oldest first.
pub async fn send_history<A: Adapter>(
    socket: &SocketRef<A>,
    requests: &MemberRequests,
    auction_id: i64,
) -> Result<(), RequestError> {
    let rows = requests.store().chat_history(auction_id, HISTORY).await?;
    let history = ServerEvent::ChatHistory(ChatHistory {
        auction_id,
        messages: rows.iter().map(message).collect(),
    });
    emit_to(socket, &history);
    Ok(())
}
