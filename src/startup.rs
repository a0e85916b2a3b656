//! Builds the server from its settings: policy store, gate, Socket.IO, API, reload triggers.

use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::web::Data;
use poem::{EndpointExt, IntoEndpoint, IntoResponse, Route, get, handler};
use poem_openapi::OpenApiService;

use crate::api::{self, AdminApi};
use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::connections::body_limit::{self, BodyLimits};
use crate::connections::{Caps, Listener, Timeouts};
use crate::gate::{Gate, GateMiddleware, Metrics};
use crate::realtime::Realtime;
use crate::reload::{self, Reloader};
use crate::telemetry::request_span::RequestSpan;
use gavel_policy::{PolicyError, PolicyStore};

/// Why the server could not start. A policy error means exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the policy cannot be loaded:\n{0}")]
    Policy(#[from] PolicyError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("cannot watch the policy file: {0}")]
    Watch(#[from] notify::Error),
    #[error("cannot install the SIGHUP handler: {0}")]
    Signal(std::io::Error),
    #[error("the database is not usable: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("mail is not configured correctly: {0}")]
    Mail(String),
    #[error(transparent)]
    Redis(#[from] crate::realtime::RedisError),
}

/// A built server, bound to its port(s), not yet serving.
pub struct Application {
    addr: SocketAddr,
    listener: Listener,
    app: poem::endpoint::BoxEndpoint<'static>,
    /// The operators' listener (health, metrics, admin), when `ops_bind` is set.
    ops: Option<(Listener, poem::endpoint::BoxEndpoint<'static>)>,
    reloader: Arc<Reloader>,
    _watcher: Option<notify::RecommendedWatcher>,
}

/// The operators' listener is for a few probes and scrapes: a small budget of its own.
const OPS_CAPS: Caps = Caps {
    total: 64,
    per_address: 32,
};

#[handler]
fn healthz() -> &'static str {
    "ok"
}

/// Redis, when several processes share it (broadcasts, rate limits); readiness reports it.
#[derive(Clone)]
struct SharedRedis(Option<crate::login::limits::SharedStore>);

/// What handlers outside poem-openapi find in the request's data.
struct Shared {
    gate: Arc<Gate>,
    keys: JwtKeys,
    auctions: crate::auction::service::AuctionService,
    deadlines: Arc<crate::auction::deadlines::Deadlines>,
    login: Arc<crate::login::LoginService>,
    redis: SharedRedis,
}

impl Shared {
    fn attach(&self, routes: Route) -> impl poem::Endpoint + 'static {
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
async fn readyz(
    gate: Data<&Arc<Gate>>,
    auctions: Data<&crate::auction::service::AuctionService>,
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

/// `/` when the web page has not been built.
#[handler]
fn no_page() -> poem::Response {
    poem::Response::builder()
        .status(poem::http::StatusCode::NOT_FOUND)
        .content_type("text/plain; charset=utf-8")
        .body(
            "Gavel is running. The auction page is not built here: \
             npm --prefix web ci && npm --prefix web run build, then restart (or set GAVEL_WEB_ROOT).\n\
             API docs: /docs\n",
        )
}

/// The development outbox (login mail), when no SMTP server is configured. It holds login
/// links, so it answers only requests addressed to a loopback host (a forged or rebinding DNS
/// name gets 404) and is mounted outside the gate: no CORS header ever lets another page read it.
#[handler]
fn outbox(req: &poem::Request, login: Data<&Arc<crate::login::LoginService>>) -> poem::Response {
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
fn metrics(gate: Data<&Arc<Gate>>) -> impl IntoResponse {
    gate.metrics
        .render()
        .with_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let store = Arc::new(PolicyStore::open(&settings.policy)?);
        for d in &store.current().diagnostics {
            tracing::warn!("{d}");
        }
        if settings.jwt_secret.generated {
            tracing::warn!(
                "no JWT secret configured (GAVEL_JWT_SECRET): generated one for this process; \
                 its tokens stop working when it exits"
            );
        }
        // Connecting migrates: the schema is always current before the first request.
        let db = crate::db::connect(settings.database_url.expose_secret()).await?;
        // Login links are credentials: the outbox is readable only when asked for, without
        // SMTP, by a server that nobody but this machine can reach.
        let outbox_readable =
            settings.dev_outbox && settings.smtp_url.is_none() && settings.bind.ip().is_loopback();
        if settings.dev_outbox && !outbox_readable {
            tracing::warn!("dev_outbox ignored: it needs a loopback bind address and no SMTP");
        }
        let redis = redis(settings).await?;
        let redis_store = redis.as_ref().map(|(conn, _)| {
            crate::login::limits::SharedStore::new(
                conn.clone(),
                settings.jwt_secret.value.as_bytes(),
            )
        });
        let keys = JwtKeys::new(settings.jwt_secret.value.as_bytes());
        let login = Arc::new(crate::login::LoginService::new(
            db.clone(),
            keys.clone(),
            mailer(settings, outbox_readable)?,
            store.clone(),
            redis_store.clone(),
        ));
        let (published_tx, published_rx) = tokio::sync::mpsc::unbounded_channel();
        let auctions = crate::auction::service::AuctionService::new(db).publishing_to(published_tx);
        let deadlines = rearmed_deadlines(&auctions).await?;
        let gate = Arc::new(Gate::with_limits(
            store,
            Arc::new(Metrics::new()),
            &settings.limits,
        ));
        summarize_suppressed_lines(&gate);
        let reloader = Arc::new(Reloader::new(
            gate.clone(),
            settings.disconnect_denied_sessions,
        ));
        let house = crate::auction::house::AuctionHouse::new(auctions.clone(), deadlines.clone())
            .with_limits(&settings.limits);
        let realtime = match redis {
            Some((_, driver)) => {
                let limits = &settings.limits;
                Realtime::with_redis(driver, keys.clone(), house.clone(), published_rx, limits)
                    .await?
            }
            None => Realtime::new(keys.clone(), house.clone(), published_rx, &settings.limits),
        };
        reloader.attach(realtime.clone());
        let watcher = if settings.watch_policy {
            Some(reload::watch(
                &settings.policy,
                settings.reload_debounce,
                reloader.clone(),
            )?)
        } else {
            None
        };
        #[cfg(unix)]
        reload::on_sighup(reloader.clone()).map_err(StartupError::Signal)?;

        let apis = api::service((
            AdminApi::new(reloader.clone()),
            api::AuctionApi::new(house.clone()),
            api::LoginApi::new(login.clone(), house),
        ));
        let data = Shared {
            gate,
            keys,
            auctions,
            deadlines,
            login,
            redis: SharedRedis(redis_store),
        };
        let body_limits = body_limits(settings);
        let app = public_app(
            settings,
            &data,
            apis,
            &realtime,
            outbox_readable,
            &body_limits,
        );
        let (listener, ops) = listeners(settings, &data, &reloader, body_limits).await?;
        let addr = listener.local_addr();
        tracing::info!(
            address = %addr,
            policy = %settings.policy.display(),
            policy_version = %data.gate.store.status().version,
            "Gavel is listening on http://{addr}/ (health: /healthz, metrics: /metrics, API docs: /docs)"
        );
        Ok(Self {
            addr,
            listener,
            app,
            ops,
            reloader,
            _watcher: watcher,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn reloader(&self) -> Arc<Reloader> {
        self.reloader.clone()
    }

    /// The operators' listener's address, when there is one.
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.ops.as_ref().map(|(l, _)| l.local_addr())
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests (10 s at most).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        const GRACE: Duration = Duration::from_secs(10);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let ops = self.ops.map(|(listener, app)| {
            tokio::spawn(listener.serve(Arc::new(app), stopped.clone(), GRACE))
        });
        let public = self.listener.serve(Arc::new(self.app), stopped, GRACE);
        tokio::pin!(public);
        tokio::select! {
            () = &mut public => {}
            () = shutdown => {
                let _ = stop.send(true);
                public.await;
            }
        }
        if let Some(ops) = ops {
            let _ = ops.await;
        }
        Ok(())
    }
}

/// With several processes (Redis configured): one self-healing connection for the Socket.IO
/// adapter, the login rate limits (held across processes) and readiness.
async fn redis(
    settings: &Settings,
) -> Result<
    Option<(
        redis::aio::ConnectionManager,
        crate::realtime::pubsub::PubSubDriver,
    )>,
    StartupError,
> {
    match &settings.redis_url {
        Some(url) => Ok(Some(
            crate::realtime::pubsub::connect(url.expose_secret())
                .await
                .map_err(|e| crate::realtime::RedisError(e.to_string()))?,
        )),
        None => Ok(None),
    }
}

/// The public listener's endpoint: every route behind the gate, the development outbox
/// beside it (it must never answer with CORS headers), body limits around both.
fn public_app(
    settings: &Settings,
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

/// SMTP when configured; otherwise the log and the development outbox.
fn mailer(
    settings: &Settings,
    outbox_readable: bool,
) -> Result<Arc<dyn crate::login::Mailer>, StartupError> {
    Ok(match &settings.smtp_url {
        Some(url) => Arc::new(
            crate::login::SmtpMailer::new(url.expose_secret(), &settings.mail_from)
                .map_err(|e| StartupError::Mail(e.to_string()))?,
        ),
        None => {
            tracing::warn!(
                "no SMTP configured (GAVEL_SMTP_URL): login links go to the log{}",
                if outbox_readable {
                    " and the development outbox at /dev/outbox"
                } else {
                    ""
                }
            );
            Arc::new(crate::login::DevOutbox::new(200))
        }
    })
}

/// A restart loses no deadline: every open one is armed again from the database.
async fn rearmed_deadlines(
    auctions: &crate::auction::service::AuctionService,
) -> Result<Arc<crate::auction::deadlines::Deadlines>, StartupError> {
    let deadlines = crate::auction::deadlines::Deadlines::new(auctions.clone());
    let rearmed = deadlines.rearm_all().await.map_err(|e| match e {
        crate::auction::service::ServiceError::Db(e) => StartupError::Database(e),
        other => StartupError::Database(sea_orm::DbErr::Custom(other.to_string())),
    })?;
    if rearmed > 0 {
        tracing::info!(rearmed, "auction deadlines re-armed");
    }
    Ok(deadlines)
}

/// What the log-rate bound suppressed is summarized every 10 s, while the gate lives.
fn summarize_suppressed_lines(gate: &Arc<Gate>) {
    let gate = Arc::downgrade(gate);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(10));
        loop {
            every.tick().await;
            match gate.upgrade() {
                Some(gate) => gate.summarize_suppressed(),
                None => return,
            }
        }
    });
}

fn body_limits(settings: &Settings) -> BodyLimits {
    BodyLimits::new(
        settings.limits.max_body_bytes,
        settings.limits.max_import_bytes,
        body_limit::socket_io_limit(settings.limits.max_payload),
        settings.limits.body_read_timeout,
        settings.limits.max_in_flight_body_bytes,
    )
}

/// Every route of the public listener but the development outbox.
fn public_routes(
    settings: &Settings,
    apis: OpenApiService<api::Apis, ()>,
    realtime: &Realtime,
) -> Route {
    let spec = apis.spec_endpoint();
    let docs = apis.swagger_ui();
    let page = if settings.web_root.join("index.html").exists() {
        poem::endpoint::StaticFilesEndpoint::new(&settings.web_root)
            .index_file("index.html")
            .boxed()
    } else {
        tracing::warn!(
            web_root = %settings.web_root.display(),
            "the web page is not built (npm --prefix web ci && npm --prefix web run build): `/` explains"
        );
        no_page.boxed()
    };
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

type OpsListener = Option<(Listener, poem::endpoint::BoxEndpoint<'static>)>;

/// Binds the public listener and, with `ops_bind`, the operators' one with its routes.
async fn listeners(
    settings: &Settings,
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
        Arc::new(move |ip| store.current().trusted_proxies.is_trusted(ip));
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
        .boxed();
    tracing::info!(ops_address = %ops.local_addr(), "operators' listener (health, metrics, admin API)");
    Ok((public, Some((ops, app))))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
