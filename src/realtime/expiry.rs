//! A socket's session lasts as long as its token. At connect a timer is armed for the token's
//! `exp`; when it fires, the socket is told (`auth:expired {reason, detail, exp}`) and
//! disconnected, logged at INFO once per socket. Every client event checks `exp` too (one
//! extension read and the clock), so an event that arrives after expiry is refused even before
//! the timer has fired, and ends the session the same way.
//!
//! A client may instead stay connected by sending a fresh access token for the same subject
//! before the old one expires: `auth:refresh {token}` → ack `{ok: true, exp}` (the timer then
//! runs to the new `exp`) or `{ok: false, error: {type, detail}}` (the old token still holds
//! until it expires). A client that misses it refreshes over REST and reconnects, resyncing by
//! `last_seq`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};
use tokio::sync::Notify;

use crate::auth::{Claims, JwtKeys};
use crate::clock::{Millis, SharedClock};
use crate::contract::{
    AuthExpired, AuthRefreshAck, AuthRefreshRequest, Command as _, Refreshed, Refusal, ServerEvent,
    True,
};

/// A JWT of Gavel's is some 250 bytes; anything much longer is not one (and is not verified).
const MAX_TOKEN_BYTES: usize = 4096;

/// A socket's expiry state, in its extensions.
#[derive(Clone)]
struct Session {
    /// Set by whoever ends the session first (the timer or an event), so it ends once.
    ended: Arc<AtomicBool>,
    /// Stops the timer when the socket goes first (the task holds the socket).
    stop: Arc<Notify>,
}

/// Whether a token with `claims` still holds at `now` (ms). The leeway `JwtKeys::verify`
/// grants clock skew is not granted here: a session ends at `exp`.
pub fn holds(claims: &Claims, now: u64) -> bool {
    now < claims.exp.saturating_mul(1000)
}

/// Once the socket is connected (its claims in its extensions): arms the timer and listens
/// for `auth:refresh`.
pub fn start<A: Adapter>(socket: &SocketRef<A>) {
    let session = Session {
        ended: Arc::default(),
        stop: Arc::default(),
    };
    socket.extensions.insert(session.clone());
    socket.on(AuthRefreshRequest::NAME, refresh::<A>);
    // Called after `on_disconnect` is registered: a socket that left before that is not
    // watched (the task would hold it, and its session's place, until `exp`); one that
    // leaves after it stops the timer through `stop`.
    if socket.connected() {
        tokio::spawn(watch(socket.clone(), session.stop));
    }
}

/// When the socket disconnects: the timer has nothing left to do.
pub fn stop<A: Adapter>(socket: &SocketRef<A>) {
    if let Some(session) = socket.extensions.get::<Session>() {
        // A permit is kept if the timer is not waiting at this instant.
        session.stop.notify_one();
    }
}

/// The time on the clock the socket's token was verified on (put beside its claims at
/// connect); `None` before then.
fn now_ms<A: Adapter>(socket: &SocketRef<A>) -> Option<Millis> {
    socket
        .extensions
        .get::<SharedClock>()
        .map(|clock| clock.now_ms())
}

/// The claims a socket acts under while its token holds. Past `exp` it ends the session (if
/// the timer has not yet) and gives `None`: the event is refused.
pub fn live_claims<A: Adapter>(socket: &SocketRef<A>) -> Option<Claims> {
    let claims = socket.extensions.get::<Claims>()?;
    if holds(&claims, now_ms(socket)?) {
        return Some(claims);
    }
    end(socket, &claims);
    None
}

/// Sleeps until the current claims' `exp` (again, if `auth:refresh` moved it), then ends the
/// session.
async fn watch<A: Adapter>(socket: SocketRef<A>, stop: Arc<Notify>) {
    loop {
        let (Some(claims), Some(clock)) = (
            socket.extensions.get::<Claims>(),
            socket.extensions.get::<SharedClock>(),
        ) else {
            return;
        };
        if !holds(&claims, clock.now_ms()) {
            end(&socket, &claims);
            return;
        }
        tokio::select! {
            () = clock.sleep_until(claims.exp.saturating_mul(1000)) => {}
            () = stop.notified() => return,
        }
    }
}

/// Tells the socket why and disconnects it, once.
fn end<A: Adapter>(socket: &SocketRef<A>, claims: &Claims) {
    let Some(session) = socket.extensions.get::<Session>() else {
        return;
    };
    // An `auth:refresh` may have landed just before: the claims now in place decide.
    if let (Some(current), Some(now)) = (socket.extensions.get::<Claims>(), now_ms(socket))
        && holds(&current, now)
    {
        return;
    }
    if session.ended.swap(true, Ordering::AcqRel) {
        return;
    }
    tracing::info!(sid = %socket.id, sub = %claims.sub, exp = claims.exp, "socket session ended: its access token expired");
    let expired = ServerEvent::AuthExpired(AuthExpired {
        reason: "token_expired".to_owned(),
        detail: format!(
            "the access token expired at {} (Unix time); refresh it and reconnect, or send auth:refresh before it expires",
            claims.exp
        ),
        exp: claims.exp,
    });
    super::broadcast::emit_to(socket, &expired);
    let _ = socket.clone().disconnect();
}

async fn refresh<A: Adapter>(
    // Rates and size first, as for every client event.
    _: super::auction_events::Admitted,
    socket: SocketRef<A>,
    TryData(data): TryData<AuthRefreshRequest>,
    ack: AckSender<A>,
    State(keys): State<JwtKeys>,
) {
    let answer = match reauthenticate(&socket, data.map_err(|e| e.to_string()), &keys) {
        Ok(exp) => AuthRefreshAck::from(Refreshed { ok: True, exp }),
        Err((kind, detail)) => {
            tracing::debug!(sid = %socket.id, kind, %detail, "auth:refresh refused");
            Refusal::new(kind, detail).into()
        }
    };
    let _ = ack.send(&answer);
}

/// Replaces the socket's claims with those of `data`'s token, which must be valid and name the
/// same subject (a socket does not change hands: its rooms and presence are the subject's).
fn reauthenticate<A: Adapter>(
    socket: &SocketRef<A>,
    data: Result<AuthRefreshRequest, String>,
    keys: &JwtKeys,
) -> Result<u64, (&'static str, String)> {
    let current = live_claims(socket).ok_or((
        "token_expired",
        "the session's token has already expired: reconnect with a fresh one".to_owned(),
    ))?;
    let request = data.map_err(|e| {
        (
            "bad_request",
            format!("expected {{token}}: {}", excerpt(&e)),
        )
    })?;
    if request.token.len() > MAX_TOKEN_BYTES {
        return Err((
            "bad_request",
            format!("a token is at most {MAX_TOKEN_BYTES} bytes"),
        ));
    }
    let fresh = keys
        .verify(&request.token)
        .map_err(|e| ("invalid_token", e.to_string()))?;
    if !holds(&fresh, keys.clock().now_ms()) {
        // Within the leeway `verify` grants clock skew, but a session would end as it began.
        return Err(("invalid_token", "token expired".to_owned()));
    }
    if fresh.sub != current.sub {
        return Err((
            "wrong_subject",
            "the token is for another subject than this socket's".to_owned(),
        ));
    }
    let exp = fresh.exp;
    socket.extensions.insert(fresh);
    Ok(exp)
}

/// At most 200 bytes of a parser's message, which may quote the input.
fn excerpt(text: &str) -> &str {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AccountRole;

    #[test]
    fn a_session_ends_at_exp_without_leeway() {
        let claims = Claims {
            sub: "ann".into(),
            role: AccountRole::User,
            aud: "gavel".into(),
            iat: 100,
            exp: 200,
        };
        assert!(holds(&claims, 199_999));
        assert!(!holds(&claims, 200_000));
        assert!(!holds(&claims, 205_000));
    }

    #[test]
    fn excerpts_stop_at_200_bytes_on_a_char_boundary() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(300);
        assert_eq!(excerpt(&long).len(), 200);
    }
}
