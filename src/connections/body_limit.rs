//! Request bodies have a size per route and a time to arrive in: a declared `Content-Length`
//! over the limit is refused (413) before a byte of the body is read, and a body read to the
//! limit without ending is refused the same way; a body that trickles in for longer than the
//! timeout is refused with 408. Handlers then get the body whole, from memory.

use std::time::Duration;

use std::sync::Arc;

use http_body_util::{BodyExt, Limited};
use poem::http::{StatusCode, header::CONTENT_LENGTH};
use poem::{Endpoint, Middleware, Request, Response};
use tokio::sync::Semaphore;

use crate::api::problem;

/// The limits, by kind of route.
#[derive(Clone, Debug)]
pub struct BodyLimits {
    /// JSON commands, login and everything else.
    pub default: usize,
    /// The player import (JSON or CSV).
    pub import: usize,
    /// Engine.IO polling bodies (its `maxPayload`, plus room for the packet framing).
    pub socket_io: usize,
    pub read_timeout: Duration,
    /// Bodies are read before authentication (poem-openapi checks the bearer token after the
    /// body is there), so the bytes held by bodies being read, in all, have a bound too: in
    /// KiB, one permit each.
    pub in_flight: Arc<Semaphore>,
}

impl BodyLimits {
    /// `in_flight_bytes`: what all bodies being read may hold at once.
    pub fn new(
        default: usize,
        import: usize,
        socket_io: usize,
        read_timeout: Duration,
        in_flight_bytes: usize,
    ) -> Self {
        Self {
            default,
            import,
            socket_io,
            read_timeout,
            in_flight: Arc::new(Semaphore::new(kib(in_flight_bytes) as usize)),
        }
    }
}

fn kib(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

impl BodyLimits {
    fn for_path(&self, path: &str) -> usize {
        if crate::gate::http::is_socket_io(path) {
            self.socket_io
        } else if path.starts_with("/api/auctions/") && path.ends_with("/players") {
            self.import
        } else {
            self.default
        }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimits {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyLimitEndpoint {
            inner,
            limits: self.clone(),
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    limits: BodyLimits,
}

/// The connection is closed after these answers: the rest of the body is not worth reading.
fn closing(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    resp
}

fn too_large(limit: usize) -> Response {
    closing(
        problem::Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is over this route's limit of {limit} bytes"),
        )
        .into_response(),
    )
}

fn has_body(req: &Request) -> bool {
    req.headers().contains_key(CONTENT_LENGTH)
        || req.headers().contains_key(http::header::TRANSFER_ENCODING)
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        if !has_body(&req) {
            return Ok(self.inner.get_response(req).await);
        }
        let limit = self.limits.for_path(req.uri().path());
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Ok(too_large(limit));
        }
        let reserve = declared.map_or(limit, |n| n as usize);
        let Ok(_reserved) = self
            .limits
            .in_flight
            .clone()
            .try_acquire_many_owned(kib(reserve))
        else {
            let mut busy = problem::Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many request bodies are being received; retry shortly",
            )
            .into_response();
            busy.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
            return Ok(closing(busy));
        };
        let body: http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error> =
            req.take_body().into();
        let body = Limited::new(body, limit);
        let bytes = match tokio::time::timeout(self.limits.read_timeout, body.collect()).await {
            Err(_) => {
                return Ok(closing(
                    problem::Problem::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "request_timeout",
                        format!(
                            "the request body did not arrive within {} s",
                            self.limits.read_timeout.as_secs()
                        ),
                    )
                    .into_response(),
                ));
            }
            Ok(Err(e))
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Ok(too_large(limit));
            }
            Ok(Err(_)) => {
                return Ok(problem::Problem::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "the request body could not be read",
                )
                .into_response());
            }
            Ok(Ok(collected)) => collected.to_bytes(),
        };
        req.set_body(bytes);
        Ok(self.inner.get_response(req).await)
    }
}

/// Engine.IO polling bodies carry packets of at most `max_payload` bytes in all, plus their
/// framing.
pub fn socket_io_limit(max_payload: u64) -> usize {
    max_payload as usize + 1024
}
