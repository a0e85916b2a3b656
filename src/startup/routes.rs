//! The routes of the public listener and of the operators' one, and the listeners themselves.

use std::sync::Arc;

use poem::{EndpointExt, IntoEndpoint, Route, get};
use poem_openapi::OpenApiService;

use super::StartupError;
use super::ops::{Shared, healthz, metrics, outbox, readyz};
use crate::api::{self, AdminApi};
use crate::config::ServerSettings;
use crate::connections::body_limit::{self, BodyLimits};
use crate::connections::{Caps, Listener, Timeouts};
use crate::gate::GateMiddleware;
use crate::realtime::Realtime;
use crate::reload::Reloader;
use crate::telemetry::request_span::RequestSpan;

/// The operators' listener is for a few probes and scrapes: a small budget of its own.
const OPS_CAPS: Caps = Caps {
    total: 64,
    per_address: 32,
};

pub(super) fn body_limits(settings: &ServerSettings) -> BodyLimits {
    BodyLimits::new(
        settings.limits.max_body_bytes,
        settings.limits.max_import_bytes,
        body_limit::socket_io_limit(settings.limits.max_payload),
        settings.limits.body_read_timeout,
        settings.limits.max_in_flight_body_bytes,
    )
}

/// Every route of the public listener but the development outbox.
pub(super) fn public_routes(
    settings: &ServerSettings,
    apis: OpenApiService<api::Apis, ()>,
    realtime: &Realtime,
) -> Route {
    let spec = apis.spec_endpoint();
    let docs = apis.swagger_ui();
    let page = super::page::endpoint(settings.web_root.as_deref());
    Route::new()
        .nest("/", page)
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics))
        .at("/api/openapi.json", spec)
        .nest("/docs", docs)
        .at("/api/socket.io", realtime.endpoint())
        .at("/api/socket.io/*", realtime.endpoint())
        .nest(
            api::BASE_PATH,
            apis.into_endpoint()
                .catch_all_error(|e| async move { api::problem_response(e) }),
        )
}

pub(super) type OpsListener = Option<(Listener, poem::endpoint::BoxEndpoint<'static>)>;

/// Binds the public listener and, with `ops_bind`, the operators' one with its routes.
pub(super) async fn listeners(
    settings: &ServerSettings,
    data: &Shared,
    reloader: &Arc<Reloader>,
    body_limits: BodyLimits,
) -> Result<(Listener, OpsListener), StartupError> {
    let timeouts = Timeouts {
        header_read: settings.limits.header_read_timeout,
        idle: settings.limits.idle_timeout,
    };
    let store = data.gate.store.clone();
    let exempt: Arc<dyn Fn(std::net::IpAddr) -> bool + Send + Sync> =
        Arc::new(move |ip| store.current().trusted_proxies().is_trusted(ip));
    let caps = Caps {
        total: crate::connections::fit_to_fd_limit(settings.limits.max_connections),
        per_address: settings.limits.max_connections_per_address,
    };
    let public = Listener::bind(settings.bind, caps, timeouts, exempt.clone())
        .await
        .map_err(|e| StartupError::Bind(settings.bind, e))?;
    let Some(bind) = settings.ops_bind else {
        return Ok((public, None));
    };
    let ops = Listener::bind(bind, OPS_CAPS, timeouts, exempt)
        .await
        .map_err(|e| StartupError::Bind(bind, e))?;
    let routes = Route::new()
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics))
        .nest(
            api::BASE_PATH,
            api::admin_service(AdminApi::new(reloader.clone()))
                .into_endpoint()
                .catch_all_error(|e| async move { api::problem_response(e) }),
        );
    let app = data
        .attach(routes)
        .with(GateMiddleware::new(data.gate.clone()))
        .with(body_limits)
        .with(RequestSpan::new(data.gate.store.clone()))
        .boxed();
    tracing::info!(ops_address = %ops.local_addr(), "operators' listener (health, metrics, admin API)");
    Ok((public, Some((ops, app))))
}

/// The public listener's endpoint: every route behind the gate, the development outbox
/// beside it (it must never answer with CORS headers), body limits around both.
pub(super) fn public_app(
    settings: &ServerSettings,
    data: &Shared,
    apis: OpenApiService<api::Apis, ()>,
    realtime: &Realtime,
    outbox_readable: bool,
    body_limits: &BodyLimits,
) -> poem::endpoint::BoxEndpoint<'static> {
    let gated = data
        .attach(public_routes(settings, apis, realtime))
        .with(GateMiddleware::new(data.gate.clone()));
    let mut app = Route::new().nest("/", gated);
    if outbox_readable {
        app = app.at("/dev/outbox", get(outbox).data(data.login.clone()));
    }
    app.with(body_limits.clone())
        .with(RequestSpan::new(data.gate.store.clone()))
        .boxed()
}
