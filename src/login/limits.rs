//! Login rate limits: a burst per key, refilled at a steady rate — the generic cell rate
//! algorithm (GCRA). In one process the state lives in memory (governor). With several
//! processes behind a balancer (`GAVEL_REDIS_URL`) it lives in Redis, so a limit holds across
//! all of them instead of once per process. When Redis fails or does not answer, each process
//! limits on its own for a few seconds (logged once) rather than refusing every login or none,
//! then tries Redis again.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use redis::aio::ConnectionManager;
use sha2::Sha256;

use crate::clock::SharedClock;

/// `burst` requests at once, then one more every `every`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub burst: u32,
    pub every: Duration,
}

impl Limit {
    fn quota(self) -> Quota {
        Quota::with_period(self.every)
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::new(self.burst).expect("a non-zero burst"))
    }
}

/// How long a request waits for Redis before limiting in this process alone.
const STORE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a process limits on its own after Redis failed, before it tries Redis again.
const STORE_RETRY_AFTER_MS: u64 = 5_000;

/// GCRA in one atomic step on the Redis server's clock: the key holds the theoretical arrival
/// time (ms); a request is allowed when `now >= tat - tolerance`, and then moves it on by one
/// period. Returns 0 when allowed, otherwise the milliseconds until it would be.
static GCRA: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat - tolerance
if now < allowed_at then return allowed_at - now end
tat = tat + period
redis.call('SET', KEYS[1], tat, 'PX', tat - now)
return 0
",
    )
});

/// The limits' state in Redis, shared by every process that uses the same server.
#[derive(Clone)]
pub struct SharedStore {
    redis: ConnectionManager,
    /// Keys are an HMAC of the email or address under the server's secret: the store holds
    /// neither, and they cannot be guessed back from it.
    key_secret: Arc<[u8]>,
    /// Until when (ms, on `clock`) Redis is skipped after a failure; 0 while it works.
    down_until: Arc<AtomicU64>,
    clock: SharedClock,
}

impl SharedStore {
    /// On `redis` (a connection that reconnects by itself). `key_secret` is shared by every
    /// process (the JWT secret), so they all name a key alike.
    pub fn new(redis: ConnectionManager, key_secret: &[u8], clock: SharedClock) -> Self {
        Self {
            redis,
            key_secret: key_secret.into(),
            down_until: Arc::default(),
            clock,
        }
    }

    /// Whether Redis answers a PING within a second.
    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.redis.clone();
        let cmd = redis::cmd("PING");
        match tokio::time::timeout(Duration::from_secs(1), cmd.query_async::<String>(&mut conn))
            .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 1 s".to_owned()),
        }
    }

    fn key(&self, limit: &str, key: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key_secret).expect("HMAC takes any key length");
        mac.update(limit.as_bytes());
        mac.update(b"\0");
        mac.update(key.as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("gavel:limit:{limit}:{hex}")
    }

    /// `None` when Redis is skipped or failed (the caller limits in process).
    async fn check(&self, name: &str, limit: Limit, key: &str) -> Option<Result<(), Duration>> {
        if self.clock.now_ms() < self.down_until.load(Ordering::Relaxed) {
            return None;
        }
        let period = limit.every.as_millis() as u64;
        let tolerance = period * u64::from(limit.burst - 1);
        let mut conn = self.redis.clone();
        let mut invocation = GCRA.prepare_invoke();
        invocation
            .key(self.key(name, key))
            .arg(period)
            .arg(tolerance);
        let failure =
            match tokio::time::timeout(STORE_TIMEOUT, invocation.invoke_async::<u64>(&mut conn))
                .await
            {
                Ok(Ok(wait_ms)) => {
                    if self.down_until.swap(0, Ordering::Relaxed) != 0 {
                        tracing::info!("rate limit store answers again; limits are shared again");
                    }
                    return Some(match wait_ms {
                        0 => Ok(()),
                        ms => Err(Duration::from_millis(ms)),
                    });
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => format!("no answer within {} ms", STORE_TIMEOUT.as_millis()),
            };
        let was = self.down_until.swap(
            self.clock.now_ms() + STORE_RETRY_AFTER_MS,
            Ordering::Relaxed,
        );
        if was == 0 {
            tracing::error!(error = %failure, retry_in_ms = STORE_RETRY_AFTER_MS, "rate limit store failed; each process limits on its own until it answers");
        }
        None
    }
}

/// One limit over many keys (emails, client addresses).
pub struct Limiter {
    name: &'static str,
    limit: Limit,
    local: DefaultKeyedRateLimiter<String>,
    shared: Option<SharedStore>,
}

impl Limiter {
    /// A limit kept in this process's memory.
    pub fn local(name: &'static str, limit: Limit) -> Self {
        Self {
            name,
            limit,
            local: RateLimiter::keyed(limit.quota()),
            shared: None,
        }
    }

    /// A limit kept in Redis, with this process's memory as the fallback.
    pub fn shared(name: &'static str, limit: Limit, store: SharedStore) -> Self {
        Self {
            shared: Some(store),
            ..Self::local(name, limit)
        }
    }

    /// Counts one request for `key`: `Err(wait)` when over the limit.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        if let Some(store) = &self.shared
            && let Some(verdict) = store.check(self.name, self.limit, key).await
        {
            return verdict;
        }
        if self.local.len() > 100_000 {
            self.local.retain_recent();
        }
        self.local
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}
