//! The parts the server is assembled from that need more than a constructor call: Redis, the
//! mailer, deadlines re-armed from the database, the log-rate summaries.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::StartupError;
use crate::auction::deadlines::Deadlines;
use crate::auction::store::{AuctionStore, StoreError};
use crate::clock::SharedClock;
use crate::config::ServerSettings;
use crate::gate::Gate;

/// With several processes (Redis configured): one self-healing connection for the Socket.IO
/// adapter, the login rate limits (held across processes) and readiness.
pub(super) async fn redis(
    settings: &ServerSettings,
    clock: &SharedClock,
) -> Result<
    Option<(
        redis::aio::ConnectionManager,
        crate::realtime::pubsub::PubSubDriver,
    )>,
    StartupError,
> {
    match &settings.redis_url {
        Some(url) => Ok(Some(
            crate::realtime::pubsub::connect(url.expose_secret(), clock.clone())
                .await
                .map_err(|e| crate::realtime::RedisError(e.to_string()))?,
        )),
        None => Ok(None),
    }
}

/// SMTP when configured; otherwise the log and the development outbox.
pub(super) fn mailer(
    settings: &ServerSettings,
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
pub(super) async fn rearmed_deadlines(
    auctions: &AuctionStore,
    clock: &SharedClock,
) -> Result<Arc<Deadlines>, StartupError> {
    let deadlines = Deadlines::new(auctions.clone(), clock.clone());
    let rearmed = deadlines.rearm_all().await.map_err(|e| match e {
        StoreError::Db(e) => StartupError::Database(e),
        other => StartupError::Database(sea_orm::DbErr::Custom(other.to_string())),
    })?;
    if rearmed > 0 {
        tracing::info!(rearmed, "auction deadlines re-armed");
    }
    Ok(deadlines)
}

/// What the log-rate bound suppressed is summarized every 10 s, while the gate lives.
pub(super) fn summarize_suppressed_lines(gate: &Arc<Gate>) {
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
