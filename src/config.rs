//! Server configuration: a TOML file (`--config`), then environment variables on top.
//!
//! With nothing configured Gavel starts on `127.0.0.1:8000` with `policies/development.toml`
//! and an embedded SQLite file.

use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub const DEFAULT_BIND: &str = "127.0.0.1:8000";
pub const DEFAULT_POLICY: &str = "policies/development.toml";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://gavel.db?mode=rwc";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(format!(
                "`{s}` is not a log format; expected `text` or `json`"
            )),
        }
    }
}

/// The config file as written; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    policy: Option<PathBuf>,
    database_url: Option<String>,
    jwt_secret: Option<String>,
    log_format: Option<LogFormat>,
    /// Disconnect open Socket.IO sessions whose origin a reloaded policy denies.
    disconnect_denied_sessions: Option<bool>,
    /// Reload the policy when its file changes.
    watch_policy: Option<bool>,
    /// How long file events are collected before one reload.
    reload_debounce_ms: Option<u64>,
    /// Send login links over SMTP (`smtp://host:port`, `smtps://user:pass@host`); without it
    /// they go to the log and the development outbox.
    smtp_url: Option<String>,
    /// The sender of login mail.
    mail_from: Option<String>,
    /// Serve the page at `/` from this directory instead of the copy built into the binary
    /// (for frontend work).
    web_root: Option<PathBuf>,
    /// Redis for Socket.IO broadcasts across server processes (`redis://host:6379`).
    redis_url: Option<String>,
    /// Serve the development outbox (login links!) at `/dev/outbox`; only honoured on a
    /// loopback bind and without SMTP.
    dev_outbox: Option<bool>,
    /// A second listener for `/healthz`, `/readyz`, `/metrics` and the admin API, with its own
    /// connection budget that public traffic cannot use up.
    ops_bind: Option<String>,
    /// Bounds on what a client can make the server hold or do.
    #[serde(default)]
    limits: Limits,
}

/// The JWT signing secret, and whether it was generated for this process only.
#[derive(Clone)]
pub struct JwtSecret {
    pub value: String,
    pub generated: bool,
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "JwtSecret(<{} bytes>, generated: {})",
            self.value.len(),
            self.generated
        )
    }
}

/// Everything `gavel serve` needs, validated.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    pub policy: PathBuf,
    /// Database URL; may hold a password, so `Debug` shows it redacted.
    pub database_url: SecretString,
    pub jwt_secret: JwtSecret,
    pub log_format: LogFormat,
    pub disconnect_denied_sessions: bool,
    pub watch_policy: bool,
    pub reload_debounce: Duration,
    /// SMTP URL; may hold a password.
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    /// A built page on disk that replaces the embedded one; `None`: the embedded page.
    pub web_root: Option<PathBuf>,
    /// Redis URL; may hold a password.
    pub redis_url: Option<SecretString>,
    pub dev_outbox: bool,
    pub ops_bind: Option<SocketAddr>,
    pub limits: Limits,
}

/// Everything a stranger on the network can make the server hold or do has a bound here
/// (the `[limits]` table of the config file; docs/security.md lists the defaults).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Open connections in all (public listener).
    pub max_connections: usize,
    /// Open connections from one peer address; trusted proxies are exempt (they carry many
    /// clients, which are bounded per client address at the Socket.IO session level).
    pub max_connections_per_address: usize,
    /// A connection must send a request's complete headers within this time.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// An idle keep-alive connection (no request in progress) is closed after this time.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A request body must arrive whole within this time.
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// Request bodies: JSON commands, login and everything else.
    pub max_body_bytes: usize,
    /// Request bodies of the player import (JSON or CSV).
    pub max_import_bytes: usize,
    /// What all request bodies being received may hold at once (over it: 503, retry).
    pub max_in_flight_body_bytes: usize,
    /// Engine.IO sessions open at once, in all and per client address.
    pub max_sessions: usize,
    pub max_sessions_per_address: usize,
    /// A session that has not connected to a namespace within this time is closed.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Engine.IO `maxPayload`: the largest polling body and websocket message, in bytes.
    pub max_payload: u64,
    /// Client events per second per socket (a token bucket of `event_burst`).
    pub events_per_second: u32,
    pub event_burst: u32,
    /// Client events per second per member, across all their sockets.
    pub member_events_per_second: u32,
    pub member_event_burst: u32,
    /// Events refused by the rate limit within 10 s before the socket is disconnected.
    pub rate_limited_before_disconnect: u32,
    /// Refused bids stored per member and lot (the rest are answered, not stored).
    pub stored_refusals_per_lot: u32,
    /// Chat messages a member may send to one auction at once, then one more every
    /// `chat_refill` (per process; on top of the event limits above).
    pub chat_burst: u32,
    #[serde(with = "humantime_serde")]
    pub chat_refill: Duration,
    /// WARN lines about denied requests per second, in all (the rest are summarized).
    pub denial_logs_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_connections_per_address: 256,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024,
            max_import_bytes: 1024 * 1024,
            max_in_flight_body_bytes: 64 * 1024 * 1024,
            max_sessions: 10_000,
            max_sessions_per_address: 64,
            connect_timeout: Duration::from_secs(5),
            max_payload: 100_000,
            events_per_second: 20,
            event_burst: 40,
            member_events_per_second: 30,
            member_event_burst: 60,
            rate_limited_before_disconnect: 200,
            stored_refusals_per_lot: 20,
            chat_burst: 5,
            chat_refill: Duration::from_secs(2),
            denial_logs_per_second: 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("{0}: {1}")]
    Parse(PathBuf, String),
    #[error("{0}")]
    Invalid(String),
}

impl ServerSettings {
    /// Reads the optional config file, then applies `GAVEL_*` variables from `env`.
    pub fn load(
        config: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let file = match config {
            None => FileConfig::default(),
            Some(path) => FileConfig::read(path)?,
        };
        let bind_text = env("GAVEL_BIND")
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind = bind_text.parse().map_err(|_| {
            ConfigError::Invalid(format!("bind address `{bind_text}` is not host:port"))
        })?;
        let log_format = match env("GAVEL_LOG_FORMAT") {
            Some(v) => v.parse().map_err(ConfigError::Invalid)?,
            None => file.log_format.unwrap_or(LogFormat::Text),
        };
        let jwt_secret = JwtSecret::configured(env("GAVEL_JWT_SECRET").or(file.jwt_secret))?;
        let ops_bind = match env("GAVEL_OPS_BIND").or(file.ops_bind) {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| {
                ConfigError::Invalid(format!("ops bind address `{text}` is not host:port"))
            })?),
        };
        Ok(Self {
            bind,
            ops_bind,
            limits: file.limits,
            policy: env("GAVEL_POLICY")
                .map(PathBuf::from)
                .or(file.policy)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY)),
            database_url: env("GAVEL_DATABASE_URL")
                .or_else(|| env("DATABASE_URL"))
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
                .into(),
            jwt_secret,
            log_format,
            disconnect_denied_sessions: file.disconnect_denied_sessions.unwrap_or(true),
            watch_policy: file.watch_policy.unwrap_or(true),
            reload_debounce: Duration::from_millis(file.reload_debounce_ms.unwrap_or(200)),
            smtp_url: env("GAVEL_SMTP_URL").or(file.smtp_url).map(Into::into),
            mail_from: env("GAVEL_MAIL_FROM")
                .or(file.mail_from)
                .unwrap_or_else(|| "Gavel <gavel@localhost>".to_owned()),
            web_root: env("GAVEL_WEB_ROOT").map(PathBuf::from).or(file.web_root),
            redis_url: env("GAVEL_REDIS_URL").or(file.redis_url).map(Into::into),
            dev_outbox: match env("GAVEL_DEV_OUTBOX") {
                Some(v) => matches!(v.as_str(), "1" | "true" | "yes"),
                None => file.dev_outbox.unwrap_or(false),
            },
        })
    }
}

impl FileConfig {
    /// The config file, with `file:line:col` on a syntax or type error.
    fn read(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_path_buf(), e))?;
        toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| gavel_policy::Location::at(path, &text, s.start).to_string())
                .unwrap_or_else(|| path.display().to_string());
            ConfigError::Parse(PathBuf::from(at), e.message().trim().to_owned())
        })
    }
}

impl JwtSecret {
    /// The configured secret (32 bytes or more), or a random one for this process.
    fn configured(value: Option<String>) -> Result<Self, ConfigError> {
        match value {
            Some(value) if value.len() < 32 => Err(ConfigError::Invalid(
                "the JWT secret must be at least 32 bytes".to_owned(),
            )),
            Some(value) => Ok(Self {
                value,
                generated: false,
            }),
            None => Ok(Self {
                value: random_secret(),
                generated: true,
            }),
        }
    }
}

fn random_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_configuration() {
        let s = ServerSettings::load(None, |_| None).unwrap();
        assert_eq!(s.bind.to_string(), DEFAULT_BIND);
        assert_eq!(s.policy, PathBuf::from(DEFAULT_POLICY));
        assert!(s.jwt_secret.generated);
        assert_eq!(s.jwt_secret.value.len(), 64);
        assert!(s.disconnect_denied_sessions);
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gavel.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\nlog_format = \"json\"\n").unwrap();
        let s = ServerSettings::load(Some(&file), |k| {
            (k == "GAVEL_BIND").then(|| "0.0.0.0:7000".to_owned())
        })
        .unwrap();
        assert_eq!(s.bind.to_string(), "0.0.0.0:7000");
        assert_eq!(s.log_format, LogFormat::Json);
        std::fs::write(&file, "bnd = 1\n").unwrap();
        let e = ServerSettings::load(Some(&file), |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("gavel.toml:1:1: unknown field `bnd`"), "{e}");
        let e = ServerSettings::load(None, |k| (k == "GAVEL_JWT_SECRET").then(|| "short".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 32 bytes"), "{e}");
    }
}
