//! Login rate limits: a burst per key, refilled at a steady rate — the generic cell rate
//! algorithm (GCRA). In one process the state lives in memory (governor). With several
//! processes behind a balancer (`GAVEL_REDIS_URL`) it lives in Redis, so a limit holds across
//! all of them instead of once per process; when Redis cannot be reached, the process falls
//! back to its own in-memory limit (logged) rather than refusing every login or none.

use std::num::NonZeroU32;
use std::sync::LazyLock;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use redis::aio::ConnectionManager;

use super::secret;

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

/// How long a login waits for the shared store before limiting in this process alone.
const STORE_TIMEOUT: Duration = Duration::from_millis(500);

/// One limit over many keys (emails, client addresses).
pub struct Limiter {
    name: &'static str,
    limit: Limit,
    local: DefaultKeyedRateLimiter<String>,
    shared: Option<ConnectionManager>,
}

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

    /// A limit kept in Redis, shared by every process that uses the same server.
    pub fn shared(name: &'static str, limit: Limit, redis: ConnectionManager) -> Self {
        Self {
            shared: Some(redis),
            ..Self::local(name, limit)
        }
    }

    /// Counts one request for `key`: `Err(wait)` when over the limit.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        if let Some(redis) = &self.shared {
            // A store that does not answer must not hold a login up.
            match tokio::time::timeout(STORE_TIMEOUT, self.check_shared(redis.clone(), key)).await {
                Ok(Ok(verdict)) => return verdict,
                Ok(Err(e)) => {
                    tracing::error!(limit = self.name, error = %e, "rate limit store failed; limiting in this process only");
                }
                Err(_) => {
                    tracing::error!(
                        limit = self.name,
                        timeout_ms = STORE_TIMEOUT.as_millis() as u64,
                        "rate limit store did not answer; limiting in this process only"
                    );
                }
            }
        }
        self.check_local(key)
    }

    async fn check_shared(
        &self,
        mut redis: ConnectionManager,
        key: &str,
    ) -> redis::RedisResult<Result<(), Duration>> {
        let period = self.limit.every.as_millis() as u64;
        let tolerance = period * u64::from(self.limit.burst - 1);
        // Hashed: the store holds no email addresses.
        let key = format!("gavel:limit:{}:{}", self.name, secret::hash(key));
        let wait_ms: u64 = GCRA
            .key(key)
            .arg(period)
            .arg(tolerance)
            .invoke_async(&mut redis)
            .await?;
        Ok(match wait_ms {
            0 => Ok(()),
            ms => Err(Duration::from_millis(ms)),
        })
    }

    fn check_local(&self, key: &str) -> Result<(), Duration> {
        if self.local.len() > 100_000 {
            self.local.retain_recent();
        }
        self.local
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Opens the shared store for the limits (a connection that reconnects by itself).
pub async fn connect(url: &str) -> redis::RedisResult<ConnectionManager> {
    redis::Client::open(url)?.get_connection_manager().await
}
