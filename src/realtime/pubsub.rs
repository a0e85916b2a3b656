//! Redis for several processes: one connection that survives Redis restarts, shared by the
//! Socket.IO adapter's pub/sub, the login rate limits and readiness.
//!
//! socketioxide-redis's own driver holds a plain multiplexed connection: once Redis restarts,
//! that process never hears from the others again until it is restarted itself. This driver
//! runs the adapter on a [`ConnectionManager`] instead — RESP3, so it notices a dropped
//! connection by itself, reconnects with backoff, and subscribes to the adapter's channels
//! again (any command, e.g. a readiness probe, also triggers a reconnect after a longer outage).
//! Broadcasts published while Redis was away are lost; clients catch up by `seq` when they
//! resync.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, FromRedisValue, PushInfo, PushKind};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// The adapter's pub/sub over a self-healing connection.
#[derive(Clone)]
pub struct PubSubDriver {
    conn: ConnectionManager,
    handlers: Handlers,
}

/// Connects to `url` (RESP3 is asked for when the URL does not say: pub/sub messages arrive as
/// pushes on the shared connection). Returns the connection for other uses and the driver.
pub async fn connect(url: &str) -> redis::RedisResult<(ConnectionManager, PubSubDriver)> {
    let url = if url.contains("protocol=") {
        url.to_owned()
    } else {
        format!(
            "{url}{}protocol=resp3",
            if url.contains('?') { '&' } else { '?' }
        )
    };
    let handlers: Handlers = Arc::default();
    let deliver = handlers.clone();
    let config = ConnectionManagerConfig::new()
        .set_automatic_resubscription()
        .set_push_sender(move |push: PushInfo| {
            deliver_push(push, &deliver);
            Ok::<(), std::convert::Infallible>(())
        });
    let conn = redis::Client::open(url)?
        .get_connection_manager_with_config(config)
        .await?;
    Ok((conn.clone(), PubSubDriver { conn, handlers }))
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
        && let Err(e) = tx.try_send((chan, body))
    {
        tracing::warn!(error = %e, "Socket.IO adapter channel full: a cross-process message was dropped");
    }
}

impl Driver for PubSubDriver {
    type Error = redis::RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        self.conn
            .clone()
            .publish::<_, _, redis::Value>(chan, val)
            .await?;
        Ok(())
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
