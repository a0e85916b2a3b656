//! The handlers outside the API: health, readiness, metrics, the development outbox, and `/`
//! when the page is not built; and the request data they read.

use std::sync::Arc;

use poem::web::Data;
use poem::{EndpointExt, IntoResponse, Route, handler};

use crate::auction::deadlines::Deadlines;
use crate::auction::store::AuctionStore;
use crate::auth::JwtKeys;
use crate::gate::Gate;

#[handler]
pub(super) fn healthz() -> &'static str {
    "ok"
}

/// Redis, when several processes share it (broadcasts, rate limits); readiness reports it.
#[derive(Clone)]
pub(super) struct SharedRedis(pub(super) Option<crate::login::limits::SharedStore>);

/// What handlers outside poem-openapi find in the request's data.
pub(super) struct Shared {
    pub(super) gate: Arc<Gate>,
    pub(super) keys: JwtKeys,
    pub(super) auctions: AuctionStore,
    pub(super) deadlines: Arc<Deadlines>,
    pub(super) login: Arc<crate::login::LoginService>,
    pub(super) redis: SharedRedis,
}

impl Shared {
    pub(super) fn attach(&self, routes: Route) -> impl poem::Endpoint + 'static {
        routes
            .data(self.gate.clone())
            .data(self.keys.clone())
            .data(self.auctions.clone())
            .data(self.deadlines.clone())
            .data(self.login.clone())
            .data(self.redis.clone())
    }
}

/// Ready while the database answers. Redis failing makes the process *degraded*, not unready:
/// every process shares the one Redis, so failing readiness on it would take them all out of
/// the balancer at once, while without it they still serve (each process's own broadcasts and
/// rate limits; clients on other processes catch up through `time:sync`).
#[handler]
pub(super) async fn readyz(
    gate: Data<&Arc<Gate>>,
    auctions: Data<&AuctionStore>,
    Data(redis): Data<&SharedRedis>,
) -> poem::Response {
    let database = auctions.db().ping().await.map_err(|e| e.to_string());
    let redis = match &redis.0 {
        Some(store) => Some(store.ping().await),
        None => None,
    };
    let verdict =
        |r: &Result<(), String>| r.as_ref().map_or_else(Clone::clone, |()| "ok".to_owned());
    let status = match (&database, &redis) {
        (Err(_), _) => "not-ready",
        (Ok(()), Some(Err(_))) => "degraded",
        _ => "ready",
    };
    let body = serde_json::json!({
        "status": status,
        "policy_version": gate.store.status().version,
        "database": verdict(&database),
        "redis": redis.as_ref().map(verdict),
    });
    let code = if database.is_ok() {
        poem::http::StatusCode::OK
    } else {
        poem::http::StatusCode::SERVICE_UNAVAILABLE
    };
    poem::web::Json(body).with_status(code).into_response()
}

/// The development outbox (login mail), when no SMTP server is configured. It holds login
/// links, so it answers only requests addressed to a loopback host (a forged or rebinding DNS
/// name gets 404) and is mounted outside the gate: no CORS header ever lets another page read it.
#[handler]
pub(super) fn outbox(
    req: &poem::Request,
    login: Data<&Arc<crate::login::LoginService>>,
) -> poem::Response {
    let host = req
        .headers()
        .get(poem::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !is_loopback_host(host) {
        return poem::http::StatusCode::NOT_FOUND.into_response();
    }
    match login.mailer().outbox() {
        Some(mails) => poem::web::Json(mails).into_response(),
        None => poem::http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// `localhost`, `127.x.y.z` or `[::1]`, with any port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[handler]
pub(super) fn metrics(gate: Data<&Arc<Gate>>) -> impl IntoResponse {
    gate.metrics
        .render()
        .with_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
}
