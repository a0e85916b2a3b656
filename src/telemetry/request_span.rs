//! A request id and a span for every HTTP request, so that every log line a request causes
//! (the gate's denial, a handler's error) names it, its auction and its member.
//!
//! The id is taken from `x-request-id` only when the peer is a trusted proxy of the active
//! policy (a stranger could otherwise plant ids to confuse an operator's search); otherwise it is
//! generated. Either way it is returned in the response's `x-request-id`.

use std::sync::Arc;

use gavel_policy::PolicyStore;
use poem::http::{HeaderName, HeaderValue};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use tracing::Instrument;

/// The request id header, in and out.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id accepted from a proxy.
const MAX_ID_LEN: usize = 64;

/// A request's id, in the request's extensions (the Socket.IO handshake carries it on to the
/// socket's span).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// A random 128-bit id, in hex.
    pub fn generate() -> Self {
        Self(format!("{:032x}", rand::random::<u128>()))
    }

    /// An id a proxy sent, if it is short and made of visible ASCII without separators that
    /// could break a log line.
    pub fn parse(value: &HeaderValue) -> Option<Self> {
        let text = value.to_str().ok()?;
        let ok = !text.is_empty()
            && text.len() <= MAX_ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        ok.then(|| Self(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The middleware: outermost, so that the gate's own lines carry the id.
pub struct RequestSpan {
    store: Arc<PolicyStore>,
}

impl RequestSpan {
    /// Trusts `x-request-id` from the proxies the active policy of `store` trusts.
    pub fn new(store: Arc<PolicyStore>) -> Self {
        Self { store }
    }
}

impl<E: Endpoint> Middleware<E> for RequestSpan {
    type Output = RequestSpanEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestSpanEndpoint {
            inner,
            store: self.store.clone(),
        }
    }
}

/// [`RequestSpan`] around an endpoint.
pub struct RequestSpanEndpoint<E> {
    inner: E,
    store: Arc<PolicyStore>,
}

impl<E> RequestSpanEndpoint<E> {
    fn request_id(&self, req: &Request) -> RequestId {
        let from_proxy = req
            .remote_addr()
            .as_socket_addr()
            .is_some_and(|peer| self.store.current().trusted_proxies().is_trusted(peer.ip()));
        from_proxy
            .then(|| req.headers().get(&X_REQUEST_ID).and_then(RequestId::parse))
            .flatten()
            .unwrap_or_else(RequestId::generate)
    }
}

/// The auction a path is about (`/api/auctions/{id}/…`), for the span.
fn auction_of(path: &str) -> Option<u64> {
    let rest = path.strip_prefix("/api/auctions/")?;
    rest.split('/').next()?.parse().ok()
}

impl<E: Endpoint> Endpoint for RequestSpanEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let id = self.request_id(&req);
        let span = tracing::info_span!(
            "request",
            request_id = id.as_str(),
            method = %req.method(),
            path = req.uri().path(),
            auction = tracing::field::Empty,
            member = tracing::field::Empty,
        );
        if let Some(auction) = auction_of(req.uri().path()) {
            span.record("auction", auction);
        }
        let header = HeaderValue::from_str(id.as_str()).expect("ids are visible ASCII");
        req.extensions_mut().insert(id);
        let mut resp = match self.inner.call(req).instrument(span).await {
            Ok(out) => out.into_response(),
            Err(err) => err.into_response(),
        };
        resp.headers_mut().insert(X_REQUEST_ID.clone(), header);
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_proxies_are_short_and_plain() {
        let ok = HeaderValue::from_static("abc-123_x.y:z");
        assert_eq!(RequestId::parse(&ok).unwrap().as_str(), "abc-123_x.y:z");
        for bad in ["", "a b", "a\"b", "a=b"] {
            assert!(
                RequestId::parse(&HeaderValue::from_str(bad).unwrap()).is_none(),
                "{bad}"
            );
        }
        let long = HeaderValue::from_str(&"a".repeat(MAX_ID_LEN + 1)).unwrap();
        assert!(RequestId::parse(&long).is_none());
    }

    #[test]
    fn generated_ids_differ() {
        assert_ne!(RequestId::generate(), RequestId::generate());
        assert_eq!(RequestId::generate().as_str().len(), 32);
    }

    #[test]
    fn the_auction_comes_from_the_path() {
        assert_eq!(auction_of("/api/auctions/42/bids"), Some(42));
        assert_eq!(auction_of("/api/auctions/42"), Some(42));
        assert_eq!(auction_of("/api/auctions"), None);
        assert_eq!(auction_of("/api/me"), None);
    }
}
