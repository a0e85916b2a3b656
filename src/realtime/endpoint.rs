//! socketioxide mounted in poem.
//!
//! poem's `tower-compat` serves polling but breaks the websocket upgrade (poem keeps hyper's
//! `OnUpgrade` in its private state), and `nest` strips the prefix engineioxide routes on.
//! So this endpoint (a) for polling, restores the original URI and calls the socketioxide
//! service with the converted request; (b) for a websocket upgrade, takes poem's upgrade,
//! answers 101 itself and hands the upgraded stream plus the request head to socketioxide.
//! The service is built once and cloned: each clone shares the session map.

use engineioxide::service::NotFoundService;
use http_body_util::BodyExt;
use poem::http::StatusCode;
use poem::http::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use poem::{Endpoint, Request, Response};
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::service::SocketIoService;
use tower::ServiceExt;

type RequestBody = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

pub struct SocketIoEndpoint<A: Adapter = LocalAdapter> {
    svc: SocketIoService<NotFoundService, A>,
}

impl<A: Adapter> Clone for SocketIoEndpoint<A> {
    fn clone(&self) -> Self {
        Self {
            svc: self.svc.clone(),
        }
    }
}

impl<A: Adapter> SocketIoEndpoint<A> {
    pub fn new(svc: SocketIoService<NotFoundService, A>) -> Self {
        Self { svc }
    }

    fn upgrade(&self, req: Request) -> poem::Result<Response> {
        let Some(key) = req.headers().get(SEC_WEBSOCKET_KEY) else {
            return Ok(crate::api::engine_io_error::bad_request());
        };
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let on_upgrade = req.take_upgrade()?;
        let mut head = http::Request::builder()
            .method(req.method().clone())
            .uri(req.original_uri().clone())
            .version(req.version())
            .body(())
            .map_err(|e| poem::Error::new(e, StatusCode::BAD_REQUEST))?;
        *head.headers_mut() = req.headers().clone();
        *head.extensions_mut() = req.extensions().clone();
        let svc = self.svc.clone();
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(stream) => {
                    if let Err(e) = svc.oneshot((stream, head)).await {
                        tracing::warn!(error = ?e, "websocket session refused by Engine.IO");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "websocket upgrade failed"),
            }
        });
        Ok(Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(UPGRADE, "websocket")
            .header(CONNECTION, "Upgrade")
            .header(SEC_WEBSOCKET_ACCEPT, accept)
            .finish())
    }
}

impl<A: Adapter> Endpoint for SocketIoEndpoint<A> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if crate::gate::http::is_websocket_upgrade(&req) {
            return self.upgrade(req);
        }
        let uri = req.original_uri().clone();
        let mut request: http::Request<RequestBody> = req.into();
        *request.uri_mut() = uri;
        let response = match self.svc.clone().oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        // Engine.IO answers a (long) poll with a complete body once it has one.
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(never) => match never {},
        };
        let mut out = Response::builder().status(parts.status).body(bytes);
        out.headers_mut().extend(parts.headers);
        Ok(out)
    }
}
