//! The gate as a poem middleware around every route, the Socket.IO endpoint included.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use poem::http::header::{ACCESS_CONTROL_REQUEST_METHOD, CONNECTION, UPGRADE};
use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use super::{Check, Gate, SOCKET_IO_PATH, SessionHandle, SessionSlot, cors};
use crate::api::engine_io_error::{self, EngineIoCode};
use crate::api::problem::{self, Problem};
use gavel_policy::{ConnScheme, Decision, Policy, Reason, RequestFacts, Surface};

/// Wraps an endpoint so that every request is decided first.
pub struct GateMiddleware {
    gate: Arc<Gate>,
}

impl GateMiddleware {
    pub fn new(gate: Arc<Gate>) -> Self {
        Self { gate }
    }
}

impl<E: Endpoint> Middleware<E> for GateMiddleware {
    type Output = GateEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        GateEndpoint {
            inner,
            gate: self.gate.clone(),
        }
    }
}

pub struct GateEndpoint<E> {
    inner: E,
    gate: Arc<Gate>,
}

pub(crate) fn is_socket_io(path: &str) -> bool {
    path == SOCKET_IO_PATH || path.starts_with("/api/socket.io/")
}

pub(crate) fn is_websocket_upgrade(req: &Request) -> bool {
    let has = |name, token: &str| {
        req.headers().get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    has(UPGRADE, "websocket") && has(CONNECTION, "upgrade")
}

fn surface_of(req: &Request, socket_io: bool) -> Surface {
    if req.method() == Method::OPTIONS && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD)
    {
        Surface::Preflight
    } else if !socket_io {
        Surface::Http
    } else if is_websocket_upgrade(req) {
        Surface::Websocket
    } else if req.method() == Method::POST {
        Surface::PollingPost
    } else {
        Surface::PollingGet
    }
}

/// The Engine.IO session id of a request (`?sid=…`).
pub(crate) fn engine_sid(req: &Request) -> Option<String> {
    req.uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("sid=").map(str::to_owned))
}

/// The body of a refusal: problem+json over HTTP, Engine.IO's error object on its endpoint so
/// that official clients report a `connect_error`.
fn refusal(decision: &Decision, socket_io: bool) -> Response {
    let status = StatusCode::from_u16(decision.denial_status()).expect("400 or 403");
    let mut resp = if !socket_io {
        let (kind, title) = if decision.reason() == Reason::MalformedOrigin {
            ("malformed_origin", "Malformed Origin header")
        } else {
            ("origin_denied", "Origin not allowed")
        };
        // The log line carries the rule and the hints; clients get the reason, not the policy.
        let extensions = serde_json::json!({
            "origin": decision.raw_origin().map(problem::excerpt),
            "reason": decision.reason(),
            "public_origin": decision.public_origin(),
        });
        let serde_json::Value::Object(extensions) = extensions else {
            unreachable!("a JSON object literal")
        };
        Problem::new(status, kind, decision.summary())
            .titled(title)
            .into_response_with(extensions)
    } else if status == StatusCode::BAD_REQUEST {
        engine_io_error::bad_request()
    } else {
        engine_io_error::forbidden()
    };
    cors::add_vary(resp.headers_mut(), cors::VARY_ACTUAL);
    resp
}

fn session_mismatch(gate: &Gate, bound: &gavel_policy::Origin, decision: &Decision) -> Response {
    let log = gate.refusal_log();
    if log.allow() {
        tracing::warn!(
            origin = decision.raw_origin().map(problem::excerpt),
            bound_origin = %bound,
            peer = %decision.peer(),
            surface = %decision.surface(),
            suppressed_since_last = log.take_suppressed(),
            "origin refused: the Engine.IO session is bound to another origin"
        );
    }
    let mut resp = engine_io_error::forbidden();
    cors::add_vary(resp.headers_mut(), cors::VARY_ACTUAL);
    resp
}

/// A handshake over the session caps: 429 when this client has too many (it may retry after
/// closing some), 503 when the server has. Engine.IO's error body, so clients report a
/// `connect_error`.
fn too_many_sessions(gate: &Gate, cap: super::SessionCap, client: &str) -> Response {
    let (status, message) = match cap {
        super::SessionCap::PerClient => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sessions from this address",
        ),
        super::SessionCap::Total => (StatusCode::SERVICE_UNAVAILABLE, "Too many sessions"),
    };
    let log = gate.refusal_log();
    if log.allow() {
        tracing::warn!(
            client,
            cap = ?cap,
            open = gate.sessions.open(),
            suppressed_since_last = log.take_suppressed(),
            "Engine.IO handshake refused: {message}"
        );
    }
    let mut resp = engine_io_error::response(status, EngineIoCode::BadRequest, message);
    resp.headers_mut().insert(
        poem::http::header::RETRY_AFTER,
        poem::http::HeaderValue::from_static("5"),
    );
    cors::add_vary(resp.headers_mut(), cors::VARY_ACTUAL);
    resp
}

/// The `sid` of an Engine.IO polling handshake answer (`0{"sid":"…",…}`).
fn handshake_sid(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find(r#""sid":""#)? + 7;
    let end = text[start..].find('"')?;
    Some(text[start..start + end].to_owned())
}

/// A polling handshake's binding, registered under its `sid` once the answer names it.
type Opened = Option<(SessionHandle, SessionSlot)>;

impl<E> GateEndpoint<E> {
    /// Engine.IO: later requests of a session must show its origin; a handshake opens a binding
    /// (within the session caps) that the socket created from it finds in the request's
    /// extensions.
    fn bind_session(
        &self,
        req: &mut Request,
        policy: &Policy,
        decision: &Decision,
        surface: Surface,
    ) -> Result<Opened, Box<Response>> {
        let peer = decision.peer();
        if let Some(sid) = engine_sid(req) {
            let check = self
                .gate
                .sessions
                .check(&sid, decision.origin(), peer, req.headers());
            if let Check::Mismatch { bound } = check {
                return Err(Box::new(session_mismatch(&self.gate, &bound, decision)));
            }
            return Ok(None);
        }
        // One IPv6 host holds a whole /64: the cap is per network.
        let client = crate::login::link_limits::network(&client_of(req, policy, decision));
        let slot = match self.gate.sessions.open_slot(&client) {
            Ok(slot) => slot,
            Err(cap) => return Err(Box::new(too_many_sessions(&self.gate, cap, &client))),
        };
        let handle = SessionHandle::new(decision.origin().cloned(), peer, req.headers());
        req.extensions_mut().insert(handle.clone());
        req.extensions_mut().insert(slot.clone());
        Ok((surface == Surface::PollingGet).then_some((handle, slot)))
    }
}

/// The client address as the trusted proxies report it (the peer without them); the decision
/// computes it only when a rule needed it.
fn client_of(req: &Request, policy: &Policy, decision: &Decision) -> String {
    if let Some(client) = &decision.proxy().client {
        return client.clone();
    }
    let facts = RequestFacts {
        headers: req.headers(),
        peer: decision.peer(),
        scheme: ConnScheme::Http,
        surface: decision.surface(),
        path: req.uri().path(),
    };
    let (_, proxy) = policy.trusted_proxies().public_origin(&facts);
    proxy.client.unwrap_or_else(|| decision.peer().to_string())
}

impl<E: Endpoint> Endpoint for GateEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let path = req.uri().path().to_owned();
        let socket_io = is_socket_io(&path);
        let surface = surface_of(&req, socket_io);
        let peer = req
            .remote_addr()
            .as_socket_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let (policy, decision) = self.gate.decide(&RequestFacts {
            headers: req.headers(),
            peer,
            scheme: ConnScheme::Http,
            surface,
            path: &path,
        });
        if !decision.is_allowed() && decision.is_enforced() {
            return Ok(refusal(&decision, socket_io));
        }
        if surface == Surface::Preflight {
            let mut resp = Response::builder().status(StatusCode::NO_CONTENT).finish();
            cors::preflight(&policy, &decision, req.headers(), resp.headers_mut());
            return Ok(resp);
        }

        let opened = if socket_io {
            match self.bind_session(&mut req, &policy, &decision, surface) {
                Ok(opened) => opened,
                Err(refused) => return Ok(*refused),
            }
        } else {
            None
        };

        let sent_origin = req.headers().get(poem::http::header::ORIGIN).cloned();
        let mut resp = match self.inner.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        if let Some((handle, slot)) = opened
            && resp.status() == StatusCode::OK
        {
            let body = resp.take_body().into_bytes().await?;
            if let Some(sid) = handshake_sid(&body) {
                self.gate.sessions.register(&sid, handle, Some(&slot));
            }
            resp.set_body(body);
        }
        cors::actual(&policy, &decision, sent_origin.as_ref(), resp.headers_mut());
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_sids() {
        assert_eq!(
            handshake_sid(br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"]}"#)
                .as_deref(),
            Some("lv_VI97HAXpY6yYWAAAC")
        );
        assert_eq!(handshake_sid(b"3probe"), None);
    }
}
