//! Redis for several processes: one connection that survives Redis restarts, shared by the
//! Socket.IO adapter's pub/sub, the login rate limits and readiness.
//!
//! socketioxide-redis's own driver holds a plain multiplexed connection: once Redis restarts,
//! that process never hears from the others again until it is restarted itself. This driver
//! runs the adapter on a [`ConnectionManager`] instead — RESP3, so it notices a dropped
//! connection by itself, reconnects with backoff, and subscribes to the adapter's channels
//! again (a PING every 2 s keeps it trying after a longer outage).
//!
//! While Redis is away, publishing fails fast (after one 0.5 s attempt, for 5 s at a time) so
//! that broadcasts go on locally without waiting (see `broadcast.rs`); what other processes
//! missed, their clients fetch when `time:sync` shows them behind.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, FromRedisValue, PushInfo, PushKind};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

use crate::clock::SharedClock;

/// Each subscribed channel's receiver in the adapter.
type Channels = RwLock<HashMap<String, mpsc::Sender<ChanItem>>>;
type Handlers = Arc<Channels>;

/// How long one publish may wait for Redis.
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);
/// How long publishing is skipped after a failure (the connection heals meanwhile).
const PAUSE_AFTER_FAILURE_MS: u64 = 5_000;

/// The adapter's pub/sub over a self-healing connection.
#[derive(Clone)]
pub struct PubSubDriver {
    conn: ConnectionManager,
    handlers: Handlers,
    /// Until when (ms, on `clock`) publishing fails at once; 0 while Redis answers.
    paused_until: Arc<AtomicU64>,
    clock: SharedClock,
}

/// Connects to `url` (RESP3 is asked for when the URL does not say: pub/sub messages arrive as
/// pushes on the shared connection). Returns the connection for other uses and the driver.
pub async fn connect(
    url: &str,
    clock: SharedClock,
) -> redis::RedisResult<(ConnectionManager, PubSubDriver)> {
    let url = if url.contains("protocol=") {
        url.to_owned()
    } else {
        format!(
            "{url}{}protocol=resp3",
            if url.contains('?') { '&' } else { '?' }
        )
    };
    let handlers: Handlers = Arc::default();
    // Weak: the connection (kept by the keep-alive task) must not keep the driver alive.
    let deliver = Arc::downgrade(&handlers);
    let config = ConnectionManagerConfig::new()
        .set_automatic_resubscription()
        .set_push_sender(move |push: PushInfo| {
            if let Some(handlers) = deliver.upgrade() {
                deliver_push(push, &handlers);
            }
            Ok::<(), std::convert::Infallible>(())
        });
    let conn = redis::Client::open(url)?
        .get_connection_manager_with_config(config)
        .await?;
    keep_alive(conn.clone(), Arc::downgrade(&handlers));
    let driver = PubSubDriver {
        conn: conn.clone(),
        handlers,
        paused_until: Arc::default(),
        clock,
    };
    Ok((conn, driver))
}

/// The manager gives up reconnecting after a few retries (~6 s) until a command asks again: a
/// process that neither publishes nor is probed would stay cut off. A PING every 2 s asks
/// again, for as long as the driver lives.
fn keep_alive(conn: ConnectionManager, alive: std::sync::Weak<Channels>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(2));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while alive.strong_count() > 0 {
            every.tick().await;
            let mut conn = conn.clone();
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                redis::cmd("PING").query_async::<redis::Value>(&mut conn),
            )
            .await;
        }
    });
}

/// A message on a channel goes to that channel's subscriber; anything else is not ours.
fn deliver_push(push: PushInfo, handlers: &Handlers) {
    if !matches!(push.kind, PushKind::Message | PushKind::SMessage) || push.data.len() < 2 {
        return;
    }
    let mut data = push.data.into_iter();
    let (Some(chan), Some(body)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(chan), Ok(body)) = (
        String::from_redis_value(chan),
        Vec::<u8>::from_redis_value(body),
    ) else {
        tracing::warn!("unreadable pub/sub message from Redis");
        return;
    };
    if let Some(tx) = handlers.read().expect("handlers lock").get(&chan)
        && let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send((chan, body))
    {
        // A closed channel is an adapter shutting down: nothing to say.
        tracing::warn!("Socket.IO adapter channel full: a cross-process message was dropped");
    }
}

impl Driver for PubSubDriver {
    type Error = redis::RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        if self.clock.now_ms() < self.paused_until.load(Ordering::Relaxed) {
            return Err((redis::ErrorKind::Io, "Redis unavailable: publishing paused").into());
        }
        let mut conn = self.conn.clone();
        let failure = match tokio::time::timeout(
            PUBLISH_TIMEOUT,
            conn.publish::<_, _, redis::Value>(chan, val),
        )
        .await
        {
            Ok(Ok(_)) => {
                if self.paused_until.swap(0, Ordering::Relaxed) != 0 {
                    tracing::info!("Redis answers again: broadcasts reach the other processes");
                }
                return Ok(());
            }
            Ok(Err(e)) => e,
            Err(_) => (
                redis::ErrorKind::Io,
                "Redis did not answer a publish within 0.5 s",
            )
                .into(),
        };
        let was = self.paused_until.swap(
            self.clock.now_ms() + PAUSE_AFTER_FAILURE_MS,
            Ordering::Relaxed,
        );
        if was == 0 {
            tracing::error!(error = %failure, "Redis failed: broadcasts reach this process's sockets only until it answers");
        }
        Err(failure)
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let (tx, rx) = mpsc::channel(size);
        self.handlers
            .write()
            .expect("handlers lock")
            .insert(chan.clone(), tx);
        // Through the manager, so that it subscribes again after a reconnect.
        self.conn.clone().subscribe(chan).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers.write().expect("handlers lock").remove(&chan);
        self.conn.clone().unsubscribe(chan).await
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(count)
    }
}
