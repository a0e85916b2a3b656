//! The error object Engine.IO clients understand (`{"code":N,"message":"…"}`): official clients
//! turn it into a `connect_error`. One builder, so every refusal on the Socket.IO path has the
//! same shape. Codes are Engine.IO's
//! (<https://github.com/socketio/engine.io/blob/main/lib/server.ts>, `Server.errors`).

use poem::Response;
use poem::http::StatusCode;

/// The Engine.IO error codes Gavel answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineIoCode {
    /// `BAD_REQUEST` (3): malformed request, or a cap on sessions was reached.
    BadRequest = 3,
    /// `FORBIDDEN` (4): the origin policy or the session binding refused it.
    Forbidden = 4,
}

/// An Engine.IO error response with `status` and a short human `message`.
pub fn response(status: StatusCode, code: EngineIoCode, message: &str) -> Response {
    let body = serde_json::json!({ "code": code as u8, "message": message });
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// `400 {"code":3,"message":"Bad request"}`.
pub fn bad_request() -> Response {
    response(
        StatusCode::BAD_REQUEST,
        EngineIoCode::BadRequest,
        "Bad request",
    )
}

/// `403 {"code":4,"message":"Forbidden"}`.
pub fn forbidden() -> Response {
    response(StatusCode::FORBIDDEN, EngineIoCode::Forbidden, "Forbidden")
}
