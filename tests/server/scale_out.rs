//! Two server processes on one PostgreSQL database and one Redis: Socket.IO rooms span both
//! (socketioxide-redis), so a client on either sees what was committed on the other — once,
//! in `seq` order — and the deadlines armed on both close each lot exactly once.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::clients::{Driven, js_dir};
use common::{TestApp, drop_postgres, fresh_postgres, policy_allowing};
use gavel::auth::AccountRole;
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:5173";

/// The machine's Redis, shared by the tests that do not stop it.
const SHARED_REDIS: &str = "redis://127.0.0.1:6379";

/// Two server processes on one Redis and, given `database`, one database (otherwise a SQLite
/// file each).
async fn two_nodes(policy: &str, database: Option<&str>, redis: &str) -> (TestApp, TestApp) {
    let node = || {
        TestApp::builder(policy)
            .watching(false)
            .settings(|s| {
                if let Some(url) = database {
                    s.database_url = url.to_owned().into();
                }
                s.redis_url = Some(redis.to_owned().into());
            })
            .spawn()
    };
    (node().await, node().await)
}

/// An auction created by `comm` on `node`: teams A (managed by ann) and B (bob), `players`
/// players, `settings`.
async fn auction_of_ann_and_bob(
    node: &TestApp,
    name: &str,
    settings: Value,
    players: usize,
) -> i64 {
    let (status, created) = node
        .call(
            "comm",
            "POST",
            "/api/auctions",
            Some(json!({
                "name": name,
                "settings": settings,
                "teams": [{"name": "A", "manager": "ann"}, {"name": "B", "manager": "bob"}],
                "players": (0..players).map(|i| json!({"name": format!("P{i}"), "rank": i + 1})).collect::<Vec<_>>(),
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().expect("created")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_rooms_through_redis_and_the_database_arbitrates() {
    let name = fresh_postgres().await;
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let (one, two) = two_nodes(&policy_allowing(&[ORIGIN]), Some(&url), SHARED_REDIS).await;
    let token = |sub: &str| {
        one.keys
            .mint(sub, AccountRole::User, Duration::from_secs(600))
    };
    let lots = 4u64;
    let id = auction_of_ann_and_bob(
        &one,
        "two nodes",
        // 3 s: a lot opened on one node must outlive a bid's round trip through the other, on
        // a loaded machine.
        json!({"roster_slots": 3, "bid_secs": 3, "reset_secs": 3}),
        8,
    )
    .await;
    let args = vec![
        one.base.clone(),
        two.base.clone(),
        ORIGIN.to_owned(),
        id.to_string(),
        token("comm"),
        token("ann"),
        token("bob"),
        lots.to_string(),
    ];
    let lines = tokio::task::spawn_blocking(move || {
        let dir = js_dir();
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("auction_two_nodes.mjs"))
            .args(&args)
            .current_dir(dir);
        Driven::spawn(cmd).finish(Duration::from_secs(90))
    })
    .await
    .unwrap();
    let members: Vec<&Value> = lines.iter().filter(|l| l["event"] == "member").collect();
    assert_eq!(members.len(), 2, "{lines:#?}");
    let (_, state) = two
        .call("comm", "GET", &format!("/api/auctions/{id}/state"), None)
        .await;
    for m in &members {
        assert_eq!(m["gapless"], true, "{m}");
        assert_eq!(
            m["resyncs"], 0,
            "delivered live, not recovered by a resync: {m}"
        );
        assert_eq!(m["last"], state["seq"], "{m}");
        assert_eq!(
            m["sold"],
            json!((1..=lots).collect::<Vec<_>>()),
            "each sale once: {m}"
        );
        // Each member saw the other's bids, committed on the other node.
        let accepted = m["accepted"].as_array().unwrap();
        assert_eq!(accepted.len(), lots as usize, "{m}");
        for team in [0, 1] {
            assert!(accepted.iter().any(|a| a[0] == team), "{m}");
        }
    }
    assert_eq!(members[0]["accepted"], members[1]["accepted"]);
    let chat = lines.iter().find(|l| l["event"] == "chat").expect("chat");
    assert_eq!(chat["sent"]["ok"], true, "{chat}");
    assert_eq!(
        (&chat["heard"]["id"], &chat["heard"]["name"]),
        (&chat["sent"]["id"], &json!("A")),
        "sent on one node, heard on the other: {chat}"
    );
    one.finish().await;
    two.finish().await;
    drop_postgres(&name).await;
}

/// A policy that trusts a proxy on loopback, so each test can be its own client address (the
/// Redis server outlives test runs, and so would a limit on 127.0.0.1).
fn policy_behind_proxy() -> String {
    format!(
        "{}[trusted_proxies]\ncidrs = [\"127.0.0.1/32\"]\nheaders = [\"x-forwarded-for\"]\n",
        policy_allowing(&[ORIGIN])
    )
}

/// An email and a client address of their own for this run.
fn fresh_requester() -> (String, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    (
        format!("limit-{nanos}@example.com"),
        format!("2001:db8::{:x}", nanos & 0xffff_ffff),
    )
}

/// Six login-link requests for `email` from `client`, sent to `nodes` in turn: each answer's
/// status and `Retry-After`.
async fn six_link_requests(
    nodes: &[&TestApp],
    email: &str,
    client: &str,
) -> Vec<(u16, Option<u64>)> {
    let mut answers = Vec::new();
    for i in 0..6 {
        let app = nodes[i % nodes.len()];
        let resp = app
            .client
            .post(app.url("/api/auth/magic-link"))
            .header("origin", ORIGIN)
            .header("x-forwarded-for", client)
            .json(&json!({"email": email, "redirect": format!("{ORIGIN}/")}))
            .send()
            .await
            .unwrap();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        answers.push((resp.status().as_u16(), retry));
    }
    answers
}

/// Five 202s, then a 429 asking to come back within one period (3 minutes).
fn assert_burst_of_five(answers: &[(u16, Option<u64>)]) {
    assert_eq!(
        answers.iter().map(|a| a.0).collect::<Vec<_>>(),
        [202, 202, 202, 202, 202, 429],
        "{answers:?}"
    );
    let retry = answers[5].1.expect("Retry-After on 429");
    assert!((1..=180).contains(&retry), "{retry}");
}

/// With Redis configured, the login rate limits are kept there: a burst of 5 link requests per
/// email holds across both processes (alone, each would allow 5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rate_limits_hold_across_nodes() {
    let (one, two) = two_nodes(&policy_behind_proxy(), None, SHARED_REDIS).await;
    let (email, client) = fresh_requester();
    assert_burst_of_five(&six_link_requests(&[&one, &two], &email, &client).await);
    // Readiness covers the Redis the node depends on.
    let ready: Value = one.get_json("/readyz").await;
    assert_eq!(ready["redis"], "ok", "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    one.finish().await;
    two.finish().await;
}

/// A Redis server of the test's own, killed under a running node: the node keeps serving,
/// says it is degraded (not unready), and still limits login links, on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_limits_fall_back_to_the_process_when_redis_dies() {
    let socket = tempfile::tempdir().unwrap();
    let redis = OwnRedis::start(socket.path()).await;
    let app = TestApp::builder(&policy_behind_proxy())
        .watching(false)
        .settings(|s| {
            s.redis_url = Some(OwnRedis::url(socket.path()).into());
        })
        .spawn()
        .await;
    let ready: Value = app.get_json("/readyz").await;
    assert_eq!(
        (&ready["status"], &ready["redis"]),
        (&json!("ready"), &json!("ok")),
        "{ready}"
    );
    drop(redis); // SIGKILL, waited for
    let ready: Value = app.get_json("/readyz").await;
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["database"], "ok", "{ready}");
    assert_ne!(ready["redis"], "ok", "{ready}");
    let (email, client) = fresh_requester();
    assert_burst_of_five(&six_link_requests(&[&app], &email, &client).await);
    app.finish().await;
}

/// `redis-server` (Debian's, beside the machine's own) listening only on a Unix socket in `dir`
/// (no port to race for), with nothing on disk; killed (SIGKILL, waited for) when dropped.
struct OwnRedis {
    child: std::process::Child,
}

impl OwnRedis {
    async fn start(dir: &std::path::Path) -> Self {
        let path = dir.join("redis.sock");
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(&path)
            .args([
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (Debian's redis-server package) runs");
        common::eventually("redis-server listens", Duration::from_secs(10), || async {
            tokio::net::UnixStream::connect(&path).await.is_ok()
        })
        .await;
        Self { child }
    }

    fn url(dir: &std::path::Path) -> String {
        format!("redis+unix://{}", dir.join("redis.sock").display())
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Redis goes away under two running nodes. Restarted, a client on one again receives live what
/// the other commits (the adapter reconnects and subscribes again). Down, what a node commits
/// still reaches its own clients live, and the other node's clients through the seq check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_survive_redis_going_away() {
    let socket = tempfile::tempdir().unwrap();
    let redis = OwnRedis::start(socket.path()).await;
    let name = fresh_postgres().await;
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let (one, two) = two_nodes(
        &policy_allowing(&[ORIGIN]),
        Some(&url),
        &OwnRedis::url(socket.path()),
    )
    .await;
    let id = auction_of_ann_and_bob(
        &one,
        "redis goes away",
        // No automatic nomination or sale during the test: every event comes from it.
        json!({"roster_slots": 2, "nomination_secs": 600, "bid_secs": 600}),
        4,
    )
    .await;
    let token = |sub: &str| {
        one.keys
            .mint(sub, AccountRole::User, Duration::from_secs(600))
    };
    let mut members = Driven::spawn({
        let mut cmd = Command::new("node");
        cmd.arg(js_dir().join("redis_restart.mjs"))
            .args([&one.base, &two.base, ORIGIN, &id.to_string()])
            .args([token("ann"), token("bob")])
            .current_dir(js_dir());
        cmd
    });
    tokio::task::block_in_place(|| members.expect_event("joined", Duration::from_secs(30)));

    // Restarted: both nodes connect again by themselves.
    drop(redis);
    let redis = OwnRedis::start(socket.path()).await;
    for app in [&one, &two] {
        common::eventually(
            "the node is connected to Redis again",
            Duration::from_secs(30),
            || async {
                let ready: Value = app.get_json("/readyz").await;
                ready["redis"] == "ok"
            },
        )
        .await;
    }
    let (status, started) = one
        .call("comm", "POST", &format!("/api/auctions/{id}/start"), None)
        .await;
    assert_eq!(status, 200, "{started}");
    let live =
        tokio::task::block_in_place(|| members.expect_event("live", Duration::from_secs(60)));
    assert_eq!(
        live["resyncs"], 0,
        "delivered through Redis, not by a resync: {live}"
    );
    assert_eq!(live["gapless"], true, "{live}");

    // Down: a nomination committed on node one.
    drop(redis);
    let nominator = ["ann", "bob"][live["nominator"].as_u64().expect("nominator") as usize];
    let (status, nominated) = one
        .call(
            nominator,
            "POST",
            &format!("/api/auctions/{id}/lots"),
            Some(json!({"player": 0, "opening_bid": 1})),
        )
        .await;
    assert_eq!(status, 200, "{nominated}");
    let after = tokio::task::block_in_place(|| {
        members.expect_event("after-outage", Duration::from_secs(60))
    });
    assert_eq!(
        after["near_resyncs"], 0,
        "node one's own client, live: {after}"
    );
    assert_eq!(
        after["far_resyncs"], 1,
        "node two's client, by one resync: {after}"
    );
    assert_eq!(after["gapless"], true, "{after}");
    let (_, state) = one
        .call("comm", "GET", &format!("/api/auctions/{id}/state"), None)
        .await;
    assert_eq!(
        after["last"],
        json!([state["seq"], state["seq"]]),
        "{after}"
    );
    tokio::task::block_in_place(|| members.finish(Duration::from_secs(30)));
    let _redis = OwnRedis::start(socket.path()).await; // lets the nodes shut down as usual
    one.finish().await;
    two.finish().await;
    drop_postgres(&name).await;
}
