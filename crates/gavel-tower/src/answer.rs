//! The answers the gate gives itself, without the inner service: refusals and preflights.
//! Their shapes are Gavel's own (`docs/gate.md`): problem+json over HTTP, Engine.IO's error
//! object on the Socket.IO path (official clients turn it into a `connect_error`).

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};

use gavel_policy::{Decision, Policy, Reason, cors_headers};

/// The longest text of the request a refusal echoes (Gavel's `MAX_DETAIL_BYTES`).
const MAX_ECHO_BYTES: usize = 200;

/// `text` cut to [`MAX_ECHO_BYTES`] at a character boundary, marked when cut.
fn excerpt(text: &str) -> String {
    if text.len() <= MAX_ECHO_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_ECHO_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

fn response(status: StatusCode, content_type: &'static str, body: String) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::from(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    cors_headers::add_vary(headers, cors_headers::VARY_ACTUAL);
    resp
}

/// Engine.IO's error object: `403 {"code":4,"message":"Forbidden"}` for a refused origin or
/// session, `400 {"code":3,"message":"Bad request"}` for a malformed origin.
pub(crate) fn engine_io_error(status: StatusCode) -> Response<Bytes> {
    let (code, message) = if status == StatusCode::BAD_REQUEST {
        (3, "Bad request")
    } else {
        (4, "Forbidden")
    };
    let body = serde_json::json!({ "code": code, "message": message });
    response(status, "application/json", body.to_string())
}

/// An RFC 9457 problem: `origin_denied` (403) or `malformed_origin` (400). Clients get the
/// reason, not the policy: no rule names, no hints.
fn problem(decision: &Decision, status: StatusCode) -> Response<Bytes> {
    let (kind, title) = if decision.reason() == Reason::MalformedOrigin {
        ("malformed_origin", "Malformed Origin header")
    } else {
        ("origin_denied", "Origin not allowed")
    };
    let body = serde_json::json!({
        "type": format!("/problems/{kind}"),
        "title": title,
        "status": status.as_u16(),
        "detail": excerpt(&decision.summary()),
        "origin": decision.raw_origin().map(excerpt),
        "reason": decision.reason(),
        "public_origin": decision.public_origin(),
    });
    response(status, "application/problem+json", body.to_string())
}

/// The refusal of a denied request: Engine.IO's error object on the Socket.IO path,
/// problem+json elsewhere.
pub(crate) fn refusal(decision: &Decision, socket_io: bool) -> Response<Bytes> {
    let status = StatusCode::from_u16(decision.denial_status()).unwrap_or(StatusCode::FORBIDDEN);
    if socket_io {
        engine_io_error(status)
    } else {
        problem(decision, status)
    }
}

/// `204` with the CORS headers the policy grants this preflight.
pub(crate) fn preflight(
    policy: &Policy,
    decision: &Decision,
    request: &http::HeaderMap,
) -> Response<Bytes> {
    let mut resp = Response::new(Bytes::new());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    cors_headers::preflight(policy, decision, request, resp.headers_mut());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_are_cut_to_an_excerpt() {
        assert_eq!(excerpt("short"), "short");
        let cut = excerpt(&"é".repeat(1000));
        assert!(cut.ends_with("(2000 bytes in all)"), "{cut}");
        assert!(cut.len() < MAX_ECHO_BYTES + 40);
    }

    #[test]
    fn engine_io_errors_are_what_official_clients_expect() {
        let forbidden = engine_io_error(StatusCode::FORBIDDEN);
        assert_eq!(forbidden.status(), 403);
        assert_eq!(forbidden.body(), r#"{"code":4,"message":"Forbidden"}"#);
        assert_eq!(forbidden.headers()["vary"], "Origin");
        let bad = engine_io_error(StatusCode::BAD_REQUEST);
        assert_eq!(bad.body(), r#"{"code":3,"message":"Bad request"}"#);
    }
}
