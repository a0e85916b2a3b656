//! One `spawn_app()` for black-box tests: a real server on a random port, its policy in a
//! fresh temporary directory.

// Each test tier (domain, server, clients) uses part of these helpers.
#![allow(dead_code, unused_imports)]

pub mod binary;
pub mod clients;
mod eventually;

pub use eventually::{eventually, eventually_blocking};

use std::path::PathBuf;
use std::time::Duration;

use gavel::auth::{AccountRole, JwtKeys};
use gavel::clock::{SharedClock, SystemClock};
use gavel::config::{JwtSecret, LogFormat, ServerSettings};
use gavel::startup::Application;

pub const SECRET: &str = "test-secret-test-secret-test-secret!";

/// Which database a spawned server uses: a fresh SQLite file, or a fresh database on the
/// machine's PostgreSQL (dropped by [`TestApp::finish`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Creates a fresh PostgreSQL database; its name.
pub async fn fresh_postgres() -> String {
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(PG_ADMIN)
        .await
        .expect("the machine's PostgreSQL is running");
    let name = format!(
        "gavel_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    name
}

pub async fn drop_postgres(name: &str) {
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(PG_ADMIN).await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
    admin.close().await.unwrap();
}

pub struct TestApp {
    pub database_url: String,
    pg_database: Option<String>,
    pub base: String,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub policy: PathBuf,
    pub client: reqwest::Client,
    pub keys: JwtKeys,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A server with `policy`, watching its file, on a fresh SQLite file: the usual test app.
pub async fn spawn_app(policy: &str) -> TestApp {
    TestApp::builder(policy).spawn().await
}

/// How a test wants its server: [`TestApp::builder`], then [`TestAppBuilder::spawn`].
pub struct TestAppBuilder<'a> {
    policy: &'a str,
    watch: bool,
    db: Db,
    customize: Box<dyn FnOnce(&mut ServerSettings) + 'a>,
    clock: SharedClock,
}

impl TestApp {
    /// A server with `policy`; by default it watches the policy file and uses a fresh SQLite
    /// file.
    pub fn builder(policy: &str) -> TestAppBuilder<'_> {
        TestAppBuilder {
            policy,
            watch: true,
            db: Db::Sqlite,
            customize: Box::new(|_| {}),
            clock: SystemClock::shared(),
        }
    }
}

impl<'a> TestAppBuilder<'a> {
    /// `false` leaves reloads to SIGHUP and the admin API.
    pub fn watching(mut self, watch: bool) -> Self {
        self.watch = watch;
        self
    }

    /// On a fresh database of this kind.
    pub fn on(mut self, db: Db) -> Self {
        self.db = db;
        self
    }

    /// Adjusts the settings before the server starts.
    pub fn settings(mut self, customize: impl FnOnce(&mut ServerSettings) + 'a) -> Self {
        self.customize = Box::new(customize);
        self
    }

    /// The server (and the test's token keys) on `clock` instead of the system clock: a test
    /// that moves a [`gavel::clock::ManualClock`] decides when deadlines come.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds and starts the server on a random port.
    pub async fn spawn(self) -> TestApp {
        let TestAppBuilder {
            policy,
            watch,
            db,
            customize,
            clock,
        } = self;
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg_database) = match db {
            // A real SQLite file per test (WAL), as served.
            Db::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("gavel.db").display()
                ),
                None,
            ),
            Db::Postgres => {
                let name = fresh_postgres().await;
                (
                    format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    Some(name),
                )
            }
        };
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, policy).unwrap();
        let mut settings = ServerSettings {
            bind: "127.0.0.1:0".parse().unwrap(),
            policy: path.clone(),
            database_url: database_url.clone().into(),
            jwt_secret: JwtSecret {
                value: SECRET.into(),
                generated: false,
            },
            log_format: LogFormat::Text,
            disconnect_denied_sessions: true,
            watch_policy: watch,
            reload_debounce: Duration::from_millis(50),
            smtp_url: None,
            mail_from: "Gavel <gavel@localhost>".into(),
            web_root: None,
            redis_url: None,
            dev_outbox: true,
            ops_bind: None,
            limits: Default::default(),
        };
        customize(&mut settings);
        let app = Application::build_on(&settings, clock.clone())
            .await
            .expect("server starts");
        let port = app.addr().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        TestApp {
            database_url,
            pg_database,
            base: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            policy: path,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            keys: JwtKeys::new(SECRET.as_bytes()).with_clock(clock),
            stop: Some(stop),
        }
    }
}

impl TestApp {
    /// `method path` as `sub` (a user JWT), with an optional JSON body: the status and the body
    /// (JSON, or the text as a JSON string).
    pub async fn call(
        &self,
        sub: &str,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(
                self.keys
                    .mint(sub, AccountRole::User, Duration::from_secs(600)),
            );
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, body)
    }

    /// Creates a small auction (two teams, no managers) whose commissioner is `sub`; its id.
    pub async fn create_auction(&self, sub: &str) -> i64 {
        let (status, body) = self
            .call(
                sub,
                "POST",
                "/api/auctions",
                Some(serde_json::json!({
                    "name": "room",
                    "teams": [{"name": "A"}, {"name": "B"}],
                    "players": (0..6).map(|i| serde_json::json!({"name": format!("P{i}"), "rank": i + 1})).collect::<Vec<_>>(),
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// Stops the server and drops its PostgreSQL database, if it had one.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(name) = self.pg_database.take() {
            drop_postgres(&name).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn admin_token(&self) -> String {
        self.keys
            .mint("admin", AccountRole::Admin, Duration::from_secs(300))
    }

    pub async fn get_with_origin(&self, path: &str, origin: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("origin", origin)
            .send()
            .await
            .unwrap()
    }

    /// A GET without credentials, its body read as JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// `POST /api/admin/policy/reload` with an admin token.
    pub async fn reload(&self) -> reqwest::Response {
        self.client
            .post(self.url("/api/admin/policy/reload"))
            .bearer_auth(self.admin_token())
            .send()
            .await
            .unwrap()
    }

    pub async fn status_for(&self, origin: &str) -> u16 {
        self.get_with_origin("/healthz", origin)
            .await
            .status()
            .as_u16()
    }
}

/// A policy allowing exactly these origins (by exact rules), credentials on.
pub fn policy_allowing(origins: &[&str]) -> String {
    let mut s = String::from(
        "version = 1\n[cors]\ncredentials = true\nmax_age_secs = 600\nallow_methods = [\"GET\", \"POST\"]\nallow_headers = [\"authorization\", \"content-type\"]\nexpose_headers = [\"x-request-id\"]\n",
    );
    for (i, o) in origins.iter().enumerate() {
        s.push_str(&format!(
            "[[allow]]\nname = \"origin-{i}\"\nexact = \"{o}\"\n"
        ));
    }
    s
}
