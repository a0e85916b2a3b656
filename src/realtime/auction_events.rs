//! The auction's client events on `/auction`, each answered by an ack `{ok, seq, error}`:
//! `auction:join {auction_id, last_seq}`, `lot:nominate {auction_id, player, opening_bid}`,
//! `bid:place {auction_id, lot_id, amount, client_bid_id, expected_version}`, and the chat's
//! (`super::chat`). They make the same member requests as REST; broadcasts come from the store
//! after commit.
//!
//! Every client event is admitted first ([`Admitted`]: rates and size, see `rate`); then its
//! payload is parsed into the same bounded types REST takes (numbers of REST's widths, a
//! [`ClientId`]), or refused as `bad_request` with a detail that quotes at most a short excerpt.

mod rate;

pub use rate::Admitted;

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};

use super::broadcast::{emit_to, messages, room, team_updated};
use super::{chat, presence};
use crate::api::problem::excerpt;
use crate::auction::PlayerId;
use crate::auction::requests::{MemberAction, MemberRequests, RequestError};
use crate::auth::Claims;
use crate::contract::{
    AuctionSnapshot, BidRejected, BidRequest, Command, CommandAck, Done, JoinAck, JoinRequest,
    Joined, NominateRequest, Refusal, ServerEvent, Stamp, Stamped, True,
};

/// How many missed events a rejoining client is sent one by one; beyond that, a snapshot.
const MAX_REPLAY: usize = 1000;

/// Past its token's expiry a socket acts as nobody (refused as not a member), even before
/// the expiry timer has ended its session.
pub(super) fn sub<A: Adapter>(socket: &SocketRef<A>) -> String {
    super::expiry::live_claims(socket)
        .map(|c: Claims| c.sub)
        .unwrap_or_default()
}

/// `{ok: false, error: {type, detail}}`; the detail cut to an excerpt, since it may quote the
/// input (a type error names the value it found).
pub(super) fn error(kind: &str, detail: impl ToString) -> Refusal {
    Refusal::new(kind, excerpt(&detail.to_string()))
}

pub(super) fn request_error(e: &RequestError) -> Refusal {
    if let RequestError::Unavailable(cause) = e {
        tracing::error!(error = %cause, "auction store failed");
    }
    error(e.kind(), e)
}

/// The payload as `C`, or a `bad_request` refusal (logged at DEBUG: a client's mistake is not
/// the server's, and a flood of them must not become a flood of log lines).
pub(super) fn parse<C: Command>(data: Result<Value, impl ToString>) -> Result<C, Refusal> {
    let refuse = |e: String| {
        let refusal = error("bad_request", e);
        tracing::debug!(event = C::NAME, detail = %refusal.error.detail, "refused a malformed client event");
        refusal
    };
    let value = data.map_err(|e| refuse(e.to_string()))?;
    serde_json::from_value(value).map_err(|e| refuse(e.to_string()))
}

pub fn register<A: Adapter>(socket: &SocketRef<A>) {
    socket.on(
        JoinRequest::NAME,
        async |_: Admitted,
               socket: SocketRef<A>,
               TryData(data): TryData<Value>,
               ack: AckSender<A>,
               State(requests): State<MemberRequests>| {
            let answer = match parse::<JoinRequest>(data) {
                Ok(req) => join(&socket, &requests, req).await,
                Err(refusal) => refusal.into(),
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on(
        NominateRequest::NAME,
        async |_: Admitted,
               socket: SocketRef<A>,
               TryData(data): TryData<Value>,
               ack: AckSender<A>,
               State(requests): State<MemberRequests>| {
            let answer = match parse::<NominateRequest>(data) {
                Ok(req) => nominate(&socket, &requests, req).await,
                Err(refusal) => refusal.into(),
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on(
        BidRequest::NAME,
        async |_: Admitted,
               socket: SocketRef<A>,
               TryData(data): TryData<Value>,
               ack: AckSender<A>,
               State(requests): State<MemberRequests>| {
            let answer = match parse::<BidRequest>(data) {
                Ok(req) => bid(&socket, &requests, req).await,
                Err(refusal) => refusal.into(),
            };
            let _ = ack.send(&answer);
        },
    );
    chat::register(socket);
    // Events nobody handles still spend the sender's tokens, so a flood of them ends the same
    // way; asked for an answer, they get one.
    socket.on_fallback(async |_: Admitted, ack: AckSender<A>| {
        let _ = ack.send(&error("bad_request", "no such event"));
    });
}

/// An accepted command's ack.
fn done(seq: i64) -> CommandAck {
    Done { ok: True, seq }.into()
}

/// Joins the auction's room first, then sends what the client missed (so nothing falls
/// between the two; a duplicate is possible and the client drops it by `seq`), then the chat.
async fn join<A: Adapter>(
    socket: &SocketRef<A>,
    requests: &MemberRequests,
    req: JoinRequest,
) -> JoinAck {
    if req.last_seq.is_some_and(|last| last < 0) {
        return error("bad_request", "last_seq is a seq: 0 or more").into();
    }
    // Membership is checked once, before the room is joined; what follows reads for a member.
    let who = match requests.named_member(req.auction_id, &sub(socket)).await {
        Ok(m) => m,
        Err(e) => return request_error(&e).into(),
    };
    socket.join(room(req.auction_id));
    presence::online(socket, req.auction_id, &who).await;
    let stamp = match catch_up(socket, requests, &req).await {
        Ok(stamp) => stamp,
        Err(e) => return request_error(&e).into(),
    };
    if let Err(e) = chat::send_history(socket, requests, req.auction_id).await {
        return request_error(&e).into();
    }
    Joined {
        ok: True,
        seq: stamp.seq,
        server_now: stamp.server_now,
        role: who.member.role,
        team: who.member.team.map(crate::contract::state::id),
        name: who.name,
    }
    .into()
}

/// Sends a joining socket what it missed since `last_seq` (or the auction as it stands); the
/// stamp of what it was sent.
async fn catch_up<A: Adapter>(
    socket: &SocketRef<A>,
    requests: &MemberRequests,
    req: &JoinRequest,
) -> Result<Stamp, RequestError> {
    let store = requests.store();
    let snapshot = store.stored(req.auction_id).await?;
    let now = requests.clock().now_ms();
    let missed = match req.last_seq {
        Some(last) if last <= snapshot.seq && snapshot.seq - last <= MAX_REPLAY as i64 => {
            Some(store.events_after(req.auction_id, last).await?)
        }
        _ => None,
    };
    let stamp = Stamp {
        auction_id: req.auction_id,
        seq: snapshot.seq,
        server_now: now,
    };
    let replay = match missed {
        Some(events) => replay(req.auction_id, &events, &snapshot.state, stamp),
        None => vec![ServerEvent::Snapshot(Stamped {
            stamp,
            body: AuctionSnapshot {
                commissioner_name: requests
                    .commissioner_name(req.auction_id, &snapshot)
                    .await?,
                state: (&snapshot.state).into(),
            },
        })],
    };
    for message in &replay {
        emit_to(socket, message);
    }
    Ok(stamp)
}

/// What a rejoining client missed: the events up to the snapshot's `seq` under their live
/// names (later ones arrive as broadcasts), then every team as it stands at that `seq`.
fn replay(
    auction_id: i64,
    events: &[(i64, crate::auction::Event)],
    state: &crate::auction::Auction,
    now: Stamp,
) -> Vec<ServerEvent> {
    let missed = events
        .iter()
        .filter(|(seq, _)| *seq <= now.seq)
        .flat_map(|(seq, event)| messages(auction_id, *seq, event, state, now.server_now))
        .filter(|m| !matches!(m, ServerEvent::TeamUpdated(_)));
    let teams = state.team_ids().map(|team| team_updated(now, state, team));
    missed.chain(teams).collect()
}

async fn nominate<A: Adapter>(
    socket: &SocketRef<A>,
    requests: &MemberRequests,
    req: NominateRequest,
) -> CommandAck {
    let action = MemberAction::Nominate {
        player: PlayerId(req.player as usize),
        opening_bid: req.opening_bid,
    };
    match requests
        .act(req.auction_id, &sub(socket), action, None)
        .await
    {
        Ok(a) => done(a.seq),
        Err(e) => request_error(&e).into(),
    }
}

async fn bid<A: Adapter>(
    socket: &SocketRef<A>,
    requests: &MemberRequests,
    req: BidRequest,
) -> CommandAck {
    let action = MemberAction::Bid {
        lot: req.lot_id,
        amount: req.amount,
        expected_version: req.expected_version,
    };
    let acted = requests
        .act(
            req.auction_id,
            &sub(socket),
            action,
            req.client_bid_id.as_ref(),
        )
        .await;
    match acted {
        Ok(a) => done(a.seq),
        Err(e) => {
            let refusal = request_error(&e);
            if let RequestError::Rejected(_) = e {
                // To the bidder only.
                let rejected = ServerEvent::BidRejected(BidRejected {
                    auction_id: req.auction_id,
                    lot_id: req.lot_id,
                    amount: req.amount,
                    client_bid_id: req.client_bid_id.as_ref().map(|id| id.as_str().to_owned()),
                    error: refusal.error.clone(),
                    server_now: requests.clock().now_ms(),
                });
                emit_to(socket, &rejected);
            }
            refusal.into()
        }
    }
}
