//! The auction's client events on `/auction`, each answered by an ack `{ok, seq, error}`:
//! `auction:join {auction_id, last_seq}`, `lot:nominate {auction_id, player, opening_bid}`,
//! `bid:place {auction_id, lot_id, amount, client_bid_id, expected_version}`. They make the
//! same member requests as REST; broadcasts come from the store after commit.
//!
//! Every client event is admitted first ([`Admitted`]: rates and size, see `rate`); then its
//! payload is parsed into the same bounded types REST takes (numbers of REST's widths, a
//! [`ClientId`]), or refused as `bad_request` with a detail that quotes at most a short excerpt.

mod rate;

pub use rate::Admitted;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};

use super::broadcast::{messages, room, team_updated};
use crate::api::problem::excerpt;
use crate::auction::requests::{MemberAction, MemberRequests, RequestError};
use crate::auction::{ClientId, PlayerId};
use crate::auth::Claims;

/// How many missed events a rejoining client is sent one by one; beyond that, a snapshot.
const MAX_REPLAY: usize = 1000;

#[derive(Deserialize)]
struct JoinRequest {
    auction_id: i64,
    last_seq: Option<i64>,
}

/// As REST's `POST …/lots` (`player` an index of REST's width).
#[derive(Deserialize)]
struct NominateRequest {
    auction_id: i64,
    player: u32,
    opening_bid: u32,
}

/// As REST's `POST …/lots/{lot}/bids`.
#[derive(Deserialize)]
struct BidRequest {
    auction_id: i64,
    lot_id: u64,
    amount: u32,
    client_bid_id: Option<ClientId>,
    expected_version: Option<u32>,
}

/// Past its token's expiry a socket acts as nobody (refused as not a member), even before
/// the expiry timer has ended its session.
fn sub<A: Adapter>(socket: &SocketRef<A>) -> String {
    super::expiry::live_claims(socket)
        .map(|c: Claims| c.sub)
        .unwrap_or_default()
}

/// A refused event's ack.
#[derive(Serialize)]
struct Refusal<'a> {
    ok: bool,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    detail: String,
}

/// `{ok: false, error: {type, detail}}`; the detail cut to an excerpt, since it may quote the
/// input (a type error names the value it found).
fn error(kind: &str, detail: impl ToString) -> Value {
    let refusal = Refusal {
        ok: false,
        error: ErrorBody {
            kind,
            detail: excerpt(&detail.to_string()),
        },
    };
    serde_json::to_value(refusal).expect("a refusal serializes")
}

fn request_error(e: &RequestError) -> Value {
    if let RequestError::Unavailable(cause) = e {
        tracing::error!(error = %cause, "auction store failed");
    }
    error(e.kind(), e)
}

/// The payload as `T`, or a `bad_request` answer (logged at DEBUG: a client's mistake is not the
/// server's, and a flood of them must not become a flood of log lines).
fn parse<T: serde::de::DeserializeOwned>(data: Result<Value, impl ToString>) -> Result<T, Value> {
    let refuse = |e: String| {
        let answer = error("bad_request", e);
        tracing::debug!(detail = %answer["error"]["detail"], "refused a malformed client event");
        answer
    };
    let value = data.map_err(|e| refuse(e.to_string()))?;
    serde_json::from_value(value).map_err(|e| refuse(e.to_string()))
}

pub fn register<A: Adapter>(socket: &SocketRef<A>) {
    socket.on(
        "auction:join",
        async |_: Admitted,
               socket: SocketRef<A>,
               TryData(data): TryData<Value>,
               ack: AckSender<A>,
               State(requests): State<MemberRequests>| {
            let answer = match parse::<JoinRequest>(data) {
                Ok(req) => join(&socket, &requests, req).await,
                Err(e) => e,
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on(
        "lot:nominate",
        async |_: Admitted,
               socket: SocketRef<A>,
               TryData(data): TryData<Value>,
               ack: AckSender<A>,
               State(requests): State<MemberRequests>| {
            let answer = match parse::<NominateRequest>(data) {
                Ok(req) => {
                    let action = MemberAction::Nominate {
                        player: PlayerId(req.player as usize),
                        opening_bid: req.opening_bid,
                    };
                    match requests
                        .act(req.auction_id, &sub(&socket), action, None)
                        .await
                    {
                        Ok(a) => json!({ "ok": true, "seq": a.seq }),
                        Err(e) => request_error(&e),
                    }
                }
                Err(e) => e,
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on(
        "bid:place",
        async |_: Admitted,
               socket: SocketRef<A>,
               TryData(data): TryData<Value>,
               ack: AckSender<A>,
               State(requests): State<MemberRequests>| {
            let answer = match parse::<BidRequest>(data) {
                Ok(req) => bid(&socket, &requests, req).await,
                Err(e) => e,
            };
            let _ = ack.send(&answer);
        },
    );
    // Events nobody handles still spend the sender's tokens, so a flood of them ends the same
    // way; asked for an answer, they get one.
    socket.on_fallback(async |_: Admitted, ack: AckSender<A>| {
        let _ = ack.send(&error("bad_request", "no such event"));
    });
}

/// Joins the auction's room first, then sends what the client missed (so nothing falls
/// between the two; a duplicate is possible and the client drops it by `seq`).
async fn join<A: Adapter>(
    socket: &SocketRef<A>,
    requests: &MemberRequests,
    req: JoinRequest,
) -> Value {
    if req.last_seq.is_some_and(|last| last < 0) {
        return error("bad_request", "last_seq is a seq: 0 or more");
    }
    let who = sub(socket);
    // Membership is checked once, before the room is joined; what follows reads for a member.
    let member = match requests.member(req.auction_id, &who).await {
        Ok(m) => m,
        Err(e) => return request_error(&e),
    };
    socket.join(room(req.auction_id));
    super::broadcast::emit_to_room(
        || socket.to(room(req.auction_id)),
        "presence",
        &json!({ "auction_id": req.auction_id, "sub": who, "online": true }),
    )
    .await;
    let store = requests.store();
    let snapshot = match store.stored(req.auction_id).await {
        Ok(s) => s,
        Err(e) => return request_error(&e.into()),
    };
    let now = requests.clock().now_ms();
    let missed = match req.last_seq {
        Some(last) if last <= snapshot.seq && snapshot.seq - last <= MAX_REPLAY as i64 => {
            match store.events_after(req.auction_id, last).await {
                Ok(events) => Some(events),
                Err(e) => return request_error(&e.into()),
            }
        }
        _ => None,
    };
    match missed {
        Some(events) => {
            // Up to the snapshot's seq (later ones arrive as broadcasts), then every team as it
            // stands at that seq.
            for (seq, event) in events.iter().filter(|(seq, _)| *seq <= snapshot.seq) {
                for (name, body) in messages(req.auction_id, *seq, event, &snapshot.state, now) {
                    if name != "team:updated" {
                        let _ = socket.emit(name, &body);
                    }
                }
            }
            for team in snapshot.state.team_ids() {
                let body = team_updated(req.auction_id, snapshot.seq, &snapshot.state, team, now);
                let _ = socket.emit("team:updated", &body);
            }
        }
        None => {
            let _ = socket.emit(
                "auction:snapshot",
                &json!({
                    "auction_id": req.auction_id,
                    "seq": snapshot.seq,
                    "server_now": now,
                    "commissioner": snapshot.commissioner,
                    "state": snapshot.state,
                }),
            );
        }
    }
    json!({
        "ok": true,
        "seq": snapshot.seq,
        "server_now": now,
        "role": member.role,
        "team": member.team,
    })
}

async fn bid<A: Adapter>(
    socket: &SocketRef<A>,
    requests: &MemberRequests,
    req: BidRequest,
) -> Value {
    let action = MemberAction::Bid {
        lot: req.lot_id,
        amount: req.amount,
        expected_version: req.expected_version,
    };
    match requests
        .act(
            req.auction_id,
            &sub(socket),
            action,
            req.client_bid_id.as_ref(),
        )
        .await
    {
        Ok(a) => json!({ "ok": true, "seq": a.seq }),
        Err(e) => {
            let answer = request_error(&e);
            if let RequestError::Rejected(_) = e {
                // To the bidder only.
                let _ = socket.emit(
                    "bid:rejected",
                    &json!({
                        "auction_id": req.auction_id,
                        "lot_id": req.lot_id,
                        "amount": req.amount,
                        "client_bid_id": req.client_bid_id,
                        "error": answer["error"],
                        "server_now": requests.clock().now_ms(),
                    }),
                );
            }
            answer
        }
    }
}
