//! Builds the server from its settings: `Parts` assembles the policy store, gate, database,
//! login, auctions, Socket.IO and reload triggers; `routes` mounts them on the listeners; `ops`
//! holds the handlers outside the API (health, readiness, metrics, the development outbox).

mod components;
mod ops;
mod page;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::api::{self, AdminApi};
use crate::auction::deadlines::Deadlines;
use crate::auction::requests::MemberRequests;
use crate::auction::store::AuctionStore;
use crate::auth::JwtKeys;
use crate::clock::{SharedClock, SystemClock};
use crate::config::ServerSettings;
use crate::connections::Listener;
use crate::gate::{Gate, Metrics};
use crate::realtime::Realtime;
use crate::reload::{self, Reloader};
use gavel_policy::{PolicyError, PolicyStore};
use ops::{Shared, SharedRedis};

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

/// The server's parts, assembled from the settings before any route exists.
struct Parts {
    gate: Arc<Gate>,
    keys: JwtKeys,
    auctions: AuctionStore,
    deadlines: Arc<Deadlines>,
    requests: MemberRequests,
    login: Arc<crate::login::LoginService>,
    redis_store: Option<crate::login::limits::SharedStore>,
    realtime: Realtime,
    reloader: Arc<Reloader>,
    watcher: Option<notify::RecommendedWatcher>,
    outbox_readable: bool,
}

impl Parts {
    /// Every part reads the time from `clock`.
    async fn assemble(settings: &ServerSettings, clock: SharedClock) -> Result<Self, StartupError> {
        let store = Arc::new(PolicyStore::open(&settings.policy)?);
        for d in store.current().diagnostics() {
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
        let redis = components::redis(settings, &clock).await?;
        let secret = settings.jwt_secret.value.as_bytes();
        let redis_store = redis.as_ref().map(|(conn, _)| {
            crate::login::limits::SharedStore::new(conn.clone(), secret, clock.clone())
        });
        let keys = JwtKeys::new(secret).with_clock(clock.clone());
        let login = Arc::new(crate::login::LoginService::new(
            db.clone(),
            keys.clone(),
            components::mailer(settings, outbox_readable)?,
            store.clone(),
            redis_store.clone(),
            clock.clone(),
        ));
        let (published_tx, published_rx) = tokio::sync::mpsc::unbounded_channel();
        let auctions = AuctionStore::new(db).publishing_to(published_tx);
        let deadlines = components::rearmed_deadlines(&auctions, &clock).await?;
        let limits = &settings.limits;
        let gate = Arc::new(Gate::with_limits(store, Arc::new(Metrics::new()), limits));
        components::summarize_suppressed_lines(&gate);
        let reloader = Arc::new(Reloader::new(
            gate.clone(),
            settings.disconnect_denied_sessions,
        ));
        let requests =
            MemberRequests::new(auctions.clone(), deadlines.clone(), clock).with_limits(limits);
        let realtime = match redis {
            Some((_, driver)) => {
                Realtime::with_redis(driver, keys.clone(), requests.clone(), published_rx, limits)
                    .await?
            }
            None => Realtime::new(keys.clone(), requests.clone(), published_rx, limits),
        };
        reloader.attach(realtime.clone());
        let watcher = reload_triggers(settings, &reloader)?;
        Ok(Self {
            gate,
            keys,
            auctions,
            deadlines,
            requests,
            login,
            redis_store,
            realtime,
            reloader,
            watcher,
            outbox_readable,
        })
    }
}

/// The policy file watcher (when `watch_policy`) and SIGHUP.
fn reload_triggers(
    settings: &ServerSettings,
    reloader: &Arc<Reloader>,
) -> Result<Option<notify::RecommendedWatcher>, StartupError> {
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
    Ok(watcher)
}

impl Application {
    /// The server on the system clock.
    pub async fn build(settings: &ServerSettings) -> Result<Self, StartupError> {
        Self::build_on(settings, SystemClock::shared()).await
    }

    /// Assembles the server's parts with every one reading the time from `clock` (deadlines,
    /// token and link expiry, `server_now`), mounts the routes and binds the listeners. Tests
    /// that run the server in-process pass a manual clock.
    pub async fn build_on(
        settings: &ServerSettings,
        clock: SharedClock,
    ) -> Result<Self, StartupError> {
        let parts = Parts::assemble(settings, clock).await?;
        let apis = api::service((
            AdminApi::new(parts.reloader.clone()),
            api::AuctionApi::new(parts.requests.clone()),
            api::MemberApi::new(parts.requests.clone()),
            api::LoginApi::new(parts.login.clone(), parts.requests),
        ));
        let data = Shared {
            gate: parts.gate,
            keys: parts.keys,
            auctions: parts.auctions,
            deadlines: parts.deadlines,
            login: parts.login,
            redis: SharedRedis(parts.redis_store),
        };
        let body_limits = routes::body_limits(settings);
        let app = routes::public_app(
            settings,
            &data,
            apis,
            &parts.realtime,
            parts.outbox_readable,
            &body_limits,
        );
        let (listener, ops) =
            routes::listeners(settings, &data, &parts.reloader, body_limits).await?;
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
            reloader: parts.reloader,
            _watcher: parts.watcher,
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
