//! Issue 9, rows 7–9, against the `gavel` binary: a socket's session ends with its token, a
//! replayed refresh token revokes its family, and login-link limits a stranger cannot turn
//! into someone else's lockout (in the process and shared through Redis).

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::binary::{self, Server};
use common::clients::{Driven, js_dir};
use gavel::auth::{AccountRole, Claims, JwtKeys};
use serde_json::{Value, json};

const SECRET: &str = "auth-abuse-secret-auth-abuse-secret!";
const ORIGIN: &str = "http://localhost:5173";
const SHARED_REDIS: &str = "redis://127.0.0.1:6379";

/// The binary on a fresh SQLite file with `policy`, the development outbox on (loopback), and
/// `extra` config lines.
fn start(dir: &std::path::Path, policy: &str, extra: &str) -> Server {
    start_on(dir, &binary::sqlite_in(dir), policy, extra)
}

/// Like [`start`], on `database`.
fn start_on(dir: &std::path::Path, database: &str, policy: &str, extra: &str) -> Server {
    let config = format!(
        "watch_policy = false\njwt_secret = \"{SECRET}\"\ndev_outbox = true\n\
         database_url = \"{database}\"\n{extra}"
    );
    binary::serve_in(dir, policy, &config, |cmd| {
        cmd.env_remove("RUST_LOG").env_remove("GAVEL_REDIS_URL");
    })
}

fn policy() -> String {
    format!("version = 1\n[[allow]]\nname = \"frontend\"\nexact = \"{ORIGIN}\"\n")
}

/// Trusts a proxy on loopback, so each request can name its own client address.
fn policy_behind_proxy() -> String {
    format!(
        "{}[trusted_proxies]\ncidrs = [\"127.0.0.1/32\"]\nheaders = [\"x-forwarded-for\"]\n",
        policy()
    )
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

struct Api {
    base: String,
    http: reqwest::Client,
    keys: JwtKeys,
}

impl Api {
    fn new(server: &Server) -> Self {
        Self {
            base: format!("http://127.0.0.1:{}", server.port),
            http: reqwest::Client::new(),
            keys: JwtKeys::new(SECRET.as_bytes()),
        }
    }

    /// `method path` as `sub`, with a JSON body: status and JSON answer.
    async fn call(&self, sub: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self
            .keys
            .mint(sub, AccountRole::User, Duration::from_secs(600));
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or_default(),
        )
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or_default(),
        )
    }

    /// A login-link request for `email` from `client` (as the trusted proxy reports it):
    /// status and `Retry-After`.
    async fn link(&self, email: &str, client: &str) -> (u16, Option<u64>) {
        let resp = self
            .http
            .post(format!("{}/api/auth/magic-link", self.base))
            .header("origin", ORIGIN)
            .header("x-forwarded-for", client)
            .json(&json!({"email": email, "redirect": format!("{ORIGIN}/")}))
            .send()
            .await
            .unwrap();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse().unwrap());
        (resp.status().as_u16(), retry)
    }

    async fn outbox(&self) -> Vec<Value> {
        let url = format!("{}/dev/outbox", self.base);
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Signs `email` in by link: the first token pair's refresh token.
    async fn login(&self, email: &str) -> String {
        assert_eq!(self.link(email, "192.0.2.1").await.0, 202);
        let mail = self
            .outbox()
            .await
            .into_iter()
            .rev()
            .find(|m| m["to"] == email);
        let link = url::Url::parse(mail.unwrap()["link"].as_str().unwrap()).unwrap();
        let token = link.query_pairs().find(|(k, _)| k == "token").unwrap().1;
        let (status, pair) = self.post("/api/auth/token", json!({"token": token})).await;
        assert_eq!(status, 200, "{pair}");
        pair["refresh_token"].as_str().unwrap().to_owned()
    }

    async fn refresh(&self, token: &str) -> (u16, Value) {
        self.post("/api/auth/refresh", json!({"refresh_token": token}))
            .await
    }
}

/// The JSON log lines received within `wait` that satisfy `matches`.
fn logged(server: &Server, wait: Duration, matches: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + wait;
    let mut found = Vec::new();
    while let Ok(line) = server
        .lines
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        if matches(&v) {
            found.push(v);
        }
    }
    found
}

/// An auction whose lot 1 (opened by ann at 1) runs for a minute; bob manages the other team.
async fn auction_with_open_lot(api: &Api) -> i64 {
    auction_managed_by(api, &["ann", "bob"]).await
}

/// An auction of one team per manager whose lot 1 (opened by the first at 1) runs a minute.
async fn auction_managed_by(api: &Api, managers: &[&str]) -> i64 {
    let players: Vec<Value> = (0..8)
        .map(|i| json!({"name": format!("P{i}"), "rank": i + 1}))
        .collect();
    let (status, body) = api
        .call(
            "comm",
            "POST",
            "/api/auctions",
            Some(json!({
                "name": "expiry",
                "settings": {"budget": 50, "roster_slots": 2, "nomination_secs": 60, "bid_secs": 60, "reset_secs": 10},
                "teams": managers.iter().map(|m| json!({"name": format!("{m}'s"), "manager": m})).collect::<Vec<_>>(),
                "players": players,
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (status, body) = api
        .call("comm", "POST", &format!("/api/auctions/{id}/start"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let lot = json!({"player": 0, "opening_bid": 1});
    let (status, body) = api
        .call(
            managers[0],
            "POST",
            &format!("/api/auctions/{id}/lots"),
            Some(lot),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    id
}

/// A token of `sub` that expires in 2 to 3 s (`exp` is whole seconds, rounded up); its `exp`.
fn two_second_token(sub: &str) -> (String, u64) {
    short_token(sub, 2)
}

/// A token of `sub` that expires in `secs` to `secs + 1` seconds; its `exp`.
fn short_token(sub: &str, secs: u64) -> (String, u64) {
    let exp = (now_ms() + secs * 1000).div_ceil(1000);
    let claims = Claims {
        sub: sub.into(),
        role: AccountRole::User,
        aud: gavel::auth::AUDIENCE.into(),
        iat: exp - secs,
        exp,
    };
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    (token, exp)
}

/// `auth_expiry.mjs MODE BASE TOKEN ORIGIN ARGS…` run to its end: its JSON lines.
async fn expiry_driver(api: &Api, args: &[&str]) -> Vec<Value> {
    let mut all: Vec<String> = vec![
        args[0].into(),
        api.base.clone(),
        args[1].into(),
        ORIGIN.into(),
    ];
    all.extend(args[2..].iter().map(|a| a.to_string()));
    tokio::task::spawn_blocking(move || {
        let dir = js_dir();
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("auth_expiry.mjs"))
            .args(&all)
            .current_dir(dir);
        Driven::spawn(cmd).finish(Duration::from_secs(40))
    })
    .await
    .unwrap()
}

fn find(lines: &[Value], event: &str) -> Value {
    lines
        .iter()
        .find(|l| l["event"] == event)
        .unwrap_or_else(|| panic!("no {event}: {lines:#?}"))
        .clone()
}

fn token_expired_lines(server: &Server, sub: &str) -> Vec<Value> {
    logged(server, Duration::from_millis(500), |v| {
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("token expired"))
            && v["sub"] == sub
    })
}

/// Row 7: a socket opened with a 2 s token is told `auth:expired` and disconnected at its
/// `exp`; a bid sent after that is not accepted, and the same token cannot connect again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_session_ends_when_its_token_expires() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &policy(), "");
    let api = Api::new(&server);
    let id = auction_with_open_lot(&api).await;
    let (token, exp) = two_second_token("bob");
    let lines = expiry_driver(&api, &["expire", &token, &id.to_string(), "1"]).await;
    let line = |event: &str| find(&lines, event);
    assert_eq!(line("early-bid")["ack"]["ok"], true, "{lines:#?}");
    let expired = line("expired");
    assert_eq!(expired["payload"]["reason"], "token_expired", "{expired}");
    assert_eq!(expired["payload"]["exp"], exp, "{expired}");
    // Told at `exp`, not before, and within a second after.
    let told_at = expired["at"].as_u64().unwrap();
    assert!(
        (exp * 1000..exp * 1000 + 1000).contains(&told_at),
        "told at {told_at}, exp {exp}"
    );
    assert_eq!(line("disconnected")["reason"], "io server disconnect");
    let late = line("late-bid");
    assert_ne!(late["ack"]["ok"], true, "{late}");
    assert_eq!(line("reconnect-refused")["error"], "token expired");

    // Only the bid before expiry stands.
    let (_, state) = api
        .call("comm", "GET", &format!("/api/auctions/{id}/state"), None)
        .await;
    let lot = &state["state"]["phase"]["Bidding"];
    assert_eq!(
        (&lot["high_bid"], &lot["high_team"]),
        (&json!(2), &json!(1)),
        "{state}"
    );
    // Logged once for the socket, although a bid arrived after expiry too.
    let ended = token_expired_lines(&server, "bob");
    assert_eq!(ended.len(), 1, "{ended:#?}");
    assert_eq!(ended[0]["level"], "INFO");
}

/// Re-authentication over the socket: `auth:refresh` with a fresh token of the same subject
/// keeps the socket past the first token's `exp`; another subject's token, a malformed one and
/// a missing one are refused with their reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_refresh_keeps_a_socket_past_its_first_tokens_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &policy(), "");
    let api = Api::new(&server);
    let (short, _) = two_second_token("carol");
    let fresh = api
        .keys
        .mint("carol", AccountRole::User, Duration::from_secs(600));
    let other = api
        .keys
        .mint("dave", AccountRole::User, Duration::from_secs(600));
    // Past its exp, within the seconds of leeway REST grants clock skew.
    let (just_expired, _) = short_token("carol", 0);
    let just_expired = {
        let mut claims = api.keys.verify(&just_expired).unwrap();
        claims.exp -= 2;
        let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    };
    let lines = expiry_driver(&api, &["refresh", &short, &fresh, &other, &just_expired]).await;
    let error = |event: &str| find(&lines, event)["ack"]["error"]["type"].clone();
    assert_eq!(error("wrong-subject"), "wrong_subject");
    assert_eq!(error("not-a-jwt"), "invalid_token");
    let just_expired = find(&lines, "just-expired");
    assert_eq!(
        just_expired["ack"]["error"]["detail"], "token expired",
        "{just_expired}"
    );
    assert_eq!(error("no-token"), "bad_request");
    let refreshed = find(&lines, "refreshed");
    assert_eq!(refreshed["ack"]["ok"], true, "{refreshed}");
    let fresh_exp = api.keys.verify(&fresh).unwrap().exp;
    assert_eq!(refreshed["ack"]["exp"], fresh_exp);
    assert_eq!(find(&lines, "survived")["connected"], true);
    assert!(token_expired_lines(&server, "carol").is_empty());
}

/// The page (web/, headless Chromium, page and API on two origins) when its access token runs
/// out: refreshed ahead, the socket stays (A); a page that could not refresh ahead is ended by
/// the server at `exp`, refreshes, reconnects and catches up on the bid it missed (B).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_refreshes_its_token_and_reconnects_without_losing_its_place() {
    let web = common::clients::repo().join("web/dist");
    assert!(
        web.join("index.html").exists(),
        "web/dist is missing: run `npm --prefix web ci && npm --prefix web run build`"
    );
    let dir = tempfile::tempdir().unwrap();
    let policy = "version = 1\n[cors]\nallow_methods = [\"GET\", \"POST\"]\n\
                  allow_headers = [\"authorization\", \"content-type\"]\n\
                  [[allow]]\nname = \"api\"\nglob = \"http://localhost:*\"\n\
                  [[allow]]\nname = \"page\"\nglob = \"http://127.0.0.1:*\"\n";
    let server = start(
        dir.path(),
        policy,
        &format!("web_root = \"{}\"\n", web.display()),
    );
    let api = Api::new(&server);
    let [a, b] = ["bob@example.com", "cat@example.com"];
    let id = auction_managed_by(&api, &["ann@example.com", a, b]).await;
    let (refresh_a, refresh_b) = (api.login(a).await, api.login(b).await);
    let (access_a, _) = short_token(a, 6);
    let (access_b, _) = short_token(b, 9);
    let args = [
        format!("http://127.0.0.1:{}", server.port),
        format!("http://localhost:{}", server.port),
        id.to_string(),
        access_a,
        refresh_a,
        access_b,
        refresh_b,
    ];
    let lines = tokio::task::spawn_blocking(move || {
        let dir = js_dir();
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("auth_web_expiry.mjs"))
            .args(args)
            .current_dir(dir);
        Driven::spawn(cmd).finish(Duration::from_secs(90))
    })
    .await
    .unwrap();
    let a_bid = find(&lines, "a-bid");
    assert_eq!(
        (&a_bid["amount"], &a_bid["token_replaced"]),
        (&json!(2), &json!(true)),
        "{a_bid}"
    );
    let caught_up = find(&lines, "b-caught-up");
    assert!(
        caught_up["seq_before"].as_u64() < a_bid["seq"].as_u64(),
        "B missed the bid live: {caught_up}"
    );
    assert!(
        caught_up["seq"].as_u64() >= a_bid["seq"].as_u64(),
        "{caught_up}"
    );
    assert_eq!(
        (&caught_up["high_bid"], &caught_up["token_replaced"]),
        (&json!(2), &json!(true)),
        "{caught_up}"
    );
    let b_bid = find(&lines, "b-bid");
    assert_eq!(
        (&b_bid["amount"], &b_bid["refreshes"]),
        (&json!(3), &json!(2)),
        "{b_bid}"
    );
    // The server ended B's session (once), never A's.
    let ended = logged(&server, Duration::from_millis(500), |v| {
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("token expired"))
    });
    let subs: Vec<_> = ended
        .iter()
        .map(|v| v["sub"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(subs, [b], "{ended:#?}");
    let (_, state) = api
        .call(a, "GET", &format!("/api/auctions/{id}/state"), None)
        .await;
    assert_eq!(state["state"]["phase"]["Bidding"]["high_bid"], 3, "{state}");
}

/// Row 8: R1 rotated to R2, then R1 replayed: 401, and R2 is revoked with it (its family);
/// another login's family is untouched. One WARN line names the replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_refresh_token_revokes_its_family() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &policy(), "");
    let api = Api::new(&server);
    let r1 = api.login("ann@example.com").await;
    let other_device = api.login("ann@example.com").await;
    let (status, pair) = api.refresh(&r1).await;
    assert_eq!(status, 200, "{pair}");
    let r2 = pair["refresh_token"].as_str().unwrap().to_owned();

    let (status, body) = api.refresh(&r1).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some("/problems/invalid_token")),
        "{body}"
    );
    let (status, body) = api.refresh(&r2).await;
    assert_eq!(
        status, 401,
        "the newest token of the family is revoked too: {body}"
    );
    let (status, body) = api.refresh(&other_device).await;
    assert_eq!(status, 200, "another login's family still works: {body}");
    // Replaying again changes nothing and logs no more warnings.
    assert_eq!(api.refresh(&r1).await.0, 401);

    let warnings = logged(&server, Duration::from_millis(500), |v| {
        v["level"] == "WARN"
    });
    let replays: Vec<_> = warnings
        .iter()
        .filter(|v| v["message"].as_str().unwrap_or("").contains("replayed"))
        .collect();
    assert_eq!(replays.len(), 1, "{warnings:#?}");
    assert_eq!(replays[0]["sub"], "ann@example.com");
    assert_eq!(replays[0]["tokens_revoked"], 2, "R1 and R2");
}

/// Refresh tokens issued before the families migration (each its own family) rotate, and a
/// replay revokes the token it was rotated for; on SQLite and PostgreSQL.
async fn tokens_from_before_families(database: &str) {
    use gavel_migrations::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(database).await.unwrap();
    Migrator::up(&db, Some(4)).await.unwrap();
    let legacy = gavel::login::secret::generate();
    let far = (now_ms() + 86_400_000) as i64;
    db.execute_unprepared(&format!(
        "INSERT INTO refresh_tokens (token_hash, sub, expires_at) VALUES ('{}', 'old@example.com', {far})",
        gavel::login::secret::hash(&legacy)
    ))
    .await
    .unwrap();
    db.close().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_on(dir.path(), database, &policy(), "");
    let api = Api::new(&server);
    let (status, pair) = api.refresh(&legacy).await;
    assert_eq!(
        (status, pair["sub"].as_str()),
        (200, Some("old@example.com")),
        "{pair}"
    );
    assert_eq!(api.refresh(&legacy).await.0, 401);
    let newest = pair["refresh_token"].as_str().unwrap();
    assert_eq!(
        api.refresh(newest).await.0,
        401,
        "revoked with the legacy token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_from_before_families_are_a_family_each_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    tokens_from_before_families(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("old.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_from_before_families_are_a_family_each_on_postgres() {
    let name = common::fresh_postgres().await;
    tokens_from_before_families(&format!("postgres://postgres@127.0.0.1:5432/{name}")).await;
    common::drop_postgres(&name).await;
}

/// A victim and a network prefix of this run's own: Redis outlives test runs.
fn fresh(tag: &str) -> (String, u32) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    (
        format!("victim-{tag}-{nanos}@example.com"),
        (nanos & 0xffff) as u32,
    )
}

/// Row 9: five link requests for the victim from five addresses, then the victim from a new
/// address still gets a link; one client network alone still gets 429 on its 6th. Then the
/// bound: 200 links in all (the daily ceiling) take 40 networks at once (5 each). With
/// `redis`, two processes share the limits: requests alternate between them.
async fn link_limits(redis: Option<&str>, tag: &str) {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let extra = redis.map(|url| format!("redis_url = \"{url}\"\n"));
    let servers: Vec<Server> = dirs[..if redis.is_some() { 2 } else { 1 }]
        .iter()
        .map(|d| {
            start(
                d.path(),
                &policy_behind_proxy(),
                extra.as_deref().unwrap_or(""),
            )
        })
        .collect();
    let nodes: Vec<Api> = servers.iter().map(Api::new).collect();
    if redis.is_some() {
        for node in &nodes {
            let ready: Value = node
                .http
                .get(format!("{}/readyz", node.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(ready["redis"], "ok", "{ready}");
        }
    }
    let mut turn = 0;
    let (victim, prefix) = fresh(tag);
    let mut link = async |client: String| {
        turn += 1;
        nodes[turn % nodes.len()].link(&victim, &client).await
    };
    // Addresses in /64s of their own: 2001:db8:PREFIX:N::1.
    let address = |n: u32| format!("2001:db8:{prefix:x}:{n:x}::1");
    for n in 1..=5 {
        assert_eq!(link(address(n)).await.0, 202, "stranger {n}");
    }
    assert_eq!(
        link(address(100)).await.0,
        202,
        "the victim, from an address of their own"
    );
    // Four more from the first stranger's /64: five from that network, and the 6th refused.
    for i in 2..6 {
        assert_eq!(link(format!("2001:db8:{prefix:x}:1::{i}")).await.0, 202);
    }
    let (status, retry) = link(format!("2001:db8:{prefix:x}:1::6")).await;
    assert_eq!(status, 429, "the 6th from one network");
    assert!((1..=180).contains(&retry.unwrap()), "{retry:?}");

    // 10 sent so far; 38 more networks × 5 make 200, the ceiling.
    for n in 101..=138 {
        for _ in 0..5 {
            assert_eq!(link(address(n)).await.0, 202, "network {n}");
        }
    }
    let (status, retry) = link(address(1000)).await;
    assert_eq!(status, 429, "the daily ceiling, from a network never seen");
    assert!((1..=432).contains(&retry.unwrap()), "{retry:?}");
    let mut mails = 0;
    for node in &nodes {
        mails += node
            .outbox()
            .await
            .iter()
            .filter(|m| m["to"] == victim)
            .count();
    }
    assert_eq!(mails, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_lock_a_victim_out_of_login_links() {
    link_limits(None, "local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_lock_a_victim_out_with_limits_in_redis() {
    link_limits(Some(SHARED_REDIS), "redis").await;
}
