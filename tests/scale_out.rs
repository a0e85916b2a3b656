//! Two server processes on one PostgreSQL database and one Redis: Socket.IO rooms span both
//! (socketioxide-redis), so a client on either sees what was committed on the other — once,
//! in `seq` order — and the deadlines armed on both close each lot exactly once.

mod common;

use std::process::Command;
use std::time::Duration;

use common::clients::{Driven, js_dir};
use common::{Db, drop_postgres, fresh_postgres, policy_allowing, spawn_app_custom};
use gavel::auth::Role;
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:5173";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_rooms_through_redis_and_the_database_arbitrates() {
    let name = fresh_postgres().await;
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let policy = policy_allowing(&[ORIGIN]);
    let node = |url: String| {
        spawn_app_custom(&policy, false, Db::Sqlite, move |s| {
            s.database_url = url;
            s.redis_url = Some("redis://127.0.0.1:6379".into());
        })
    };
    let one = node(url.clone()).await;
    let two = node(url.clone()).await;
    let token = |sub: &str| one.keys.mint(sub, Role::User, Duration::from_secs(600));
    let lots = 4u64;
    let (status, created) = one
        .call(
            "comm",
            "POST",
            "/api/auctions",
            Some(json!({
                "name": "two nodes",
                // 3 s: a lot opened on one node must outlive a bid's round trip through the
                // other, on a loaded machine.
                "settings": {"roster_slots": 3, "bid_secs": 3, "reset_secs": 3},
                "teams": [{"name": "A", "manager": "ann"}, {"name": "B", "manager": "bob"}],
                "players": (0..8).map(|i| json!({"name": format!("P{i}"), "rank": i + 1})).collect::<Vec<_>>(),
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("created");
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
    one.finish().await;
    two.finish().await;
    drop_postgres(&name).await;
}

/// With Redis configured, the login rate limits are kept there: a burst of 5 link requests per
/// email holds across both processes (alone, each would allow 5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rate_limits_hold_across_nodes() {
    // The test client stands behind a trusted proxy on loopback, so each run is a new client
    // address (the Redis server outlives test runs, and so would a limit on 127.0.0.1).
    let policy = format!(
        "{}[trusted_proxies]\ncidrs = [\"127.0.0.1/32\"]\nheaders = [\"x-forwarded-for\"]\n",
        policy_allowing(&[ORIGIN])
    );
    let node = || {
        spawn_app_custom(&policy, false, Db::Sqlite, |s| {
            s.redis_url = Some("redis://127.0.0.1:6379".into());
        })
    };
    let (one, two) = (node().await, node().await);
    // Unique per run: the Redis server outlives test runs.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let email = format!("limit-{nanos}@example.com");
    let client = format!("2001:db8::{:x}", nanos & 0xffff_ffff);
    let mut answers = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &one } else { &two };
        let resp = app
            .client
            .post(app.url("/api/auth/magic-link"))
            .header("origin", ORIGIN)
            .header("x-forwarded-for", &client)
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
    assert_eq!(
        answers.iter().map(|a| a.0).collect::<Vec<_>>(),
        [202, 202, 202, 202, 202, 429],
        "{answers:?}"
    );
    // The next request is allowed one period (3 minutes) after the first.
    let retry = answers[5].1.expect("Retry-After on 429");
    assert!((1..=180).contains(&retry), "{retry}");
    // Readiness covers the Redis the node depends on.
    let ready: Value = one.get_json("/readyz").await;
    assert_eq!(ready["redis"], "ok", "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    one.finish().await;
    two.finish().await;
}
