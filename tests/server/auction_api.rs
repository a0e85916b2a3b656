//! The auction REST API against a real server (SQLite in memory): membership, the rules'
//! refusals as problem+json, idempotent bids, events by seq.

use crate::common;

use std::time::Duration;

use common::{TestApp, policy_allowing, spawn_app};
use gavel::auth::AccountRole;
use serde_json::{Value, json};

fn token(app: &TestApp, sub: &str) -> String {
    app.keys
        .mint(sub, AccountRole::User, Duration::from_secs(300))
}

async fn post(app: &TestApp, sub: &str, path: &str, body: Value) -> (u16, Value) {
    app.call(sub, "POST", path, Some(body)).await
}

async fn get(app: &TestApp, sub: &str, path: &str) -> (u16, Value) {
    app.call(sub, "GET", path, None).await
}

async fn create(app: &TestApp) -> i64 {
    let players: Vec<Value> = (0..6)
        .map(|i| json!({"name": format!("P{i}"), "rank": i + 1}))
        .collect();
    let (status, body) = post(
        app,
        "comm",
        "/api/auctions",
        json!({
            "name": "league",
            "settings": {"budget": 50, "roster_slots": 2},
            "teams": [{"name": "Ann's", "manager": "ann"}, {"name": "Bob's", "manager": "bob"}],
            "players": players,
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_lot_from_start_to_bids_through_rest() {
    let app = spawn_app(&policy_allowing(&["https://app.example"])).await;
    let id = create(&app).await;
    let path = |p: &str| format!("/api/auctions/{id}{p}");

    let (status, body) = get(&app, "eve", &path("/state")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["type"], "/problems/forbidden");
    let (status, _) = post(&app, "ann", &path("/start"), json!({})).await;
    assert_eq!(status, 403, "only the commissioner starts");
    let (status, body) = post(&app, "comm", &path("/start"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"][0]["event"]["kind"], "nomination:opened");
    assert_eq!(body["seq"], 1);

    let (status, body) = post(
        &app,
        "bob",
        &path("/lots"),
        json!({"player": 0, "opening_bid": 3}),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (409, Some("/problems/not_your_turn")),
        "{body}"
    );
    let (status, body) = post(
        &app,
        "ann",
        &path("/lots"),
        json!({"player": 0, "opening_bid": 3}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"][0]["event"]["lot"]["id"], 1);

    let (status, body) = post(&app, "bob", &path("/lots/1/bids"), json!({"amount": 3})).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (409, Some("/problems/outbid")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("at least 4"),
        "{body}"
    );
    let (status, body) = post(&app, "bob", &path("/lots/1/bids"), json!({"amount": 60})).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (409, Some("/problems/over_max_bid")),
        "{body}"
    );

    // The same Idempotency-Key twice: one bid, the same answer.
    let bid = |key: &'static str| {
        app.client
            .post(app.url(&path("/lots/1/bids")))
            .bearer_auth(token(&app, "bob"))
            .header("Idempotency-Key", key)
            .json(&json!({"amount": 5, "expected_version": 1}))
            .send()
    };
    let first: Value = bid("k-1").await.unwrap().json().await.unwrap();
    let second: Value = bid("k-1").await.unwrap().json().await.unwrap();
    assert_eq!(first["seq"], second["seq"]);
    assert_eq!(first["events"], second["events"]);
    assert_eq!(first["events"][0]["event"]["kind"], "bid:accepted");
    // The same key for another command, or from someone else, is refused, not answered with the
    // first result.
    let (status, body) = {
        let resp = app
            .client
            .post(app.url(&path("/lots/1/bids")))
            .bearer_auth(token(&app, "ann"))
            .header("Idempotency-Key", "k-1")
            .json(&json!({"amount": 5, "expected_version": 1}))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    };
    assert_eq!(
        (status, body["type"].as_str()),
        (409, Some("/problems/conflict")),
        "{body}"
    );
    // A stale version is refused as such.
    let (status, body) = post(
        &app,
        "ann",
        &path("/lots/1/bids"),
        json!({"amount": 9, "expected_version": 1}),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (409, Some("/problems/stale")),
        "{body}"
    );

    let (status, events) = get(&app, "ann", &path("/events?after_seq=0")).await;
    assert_eq!(status, 200);
    let events = events["events"].as_array().unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "gapless");
    let bids = events
        .iter()
        .filter(|e| e["event"]["kind"] == "bid:accepted")
        .count();
    assert_eq!(bids, 1);
    let (status, later) = get(&app, "bob", &path("/events?after_seq=2")).await;
    assert_eq!(status, 200);
    assert_eq!(later["events"][0]["seq"], 3);

    let (status, state) = get(&app, "bob", &path("/state")).await;
    assert_eq!(status, 200);
    assert_eq!(state["seq"], seqs.len() as i64);
    assert_eq!(
        state["commissioner_name"], "Commissioner",
        "a name, never the sub"
    );
    assert!(state.get("commissioner").is_none());
    assert_eq!(state["state"]["phase"]["Bidding"]["high_bid"], 5);
    assert!(state["server_now"].as_u64().unwrap() > 1_700_000_000_000);
}

#[tokio::test]
async fn bad_requests_unknown_auctions_and_missing_tokens() {
    let app = spawn_app(&policy_allowing(&["https://app.example"])).await;
    let (status, body) = post(
        &app,
        "comm",
        "/api/auctions",
        json!({"name": "x", "teams": [], "players": []}),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("/problems/bad_request")),
        "{body}"
    );
    let (status, body) = post(
        &app,
        "comm",
        "/api/auctions",
        json!({"name": "x", "settings": {"budget": 2, "roster_slots": 3},
               "teams": [{"name": "a"}, {"name": "b"}], "players": []}),
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("/problems/invalid_auction")),
        "{body}"
    );
    let (status, body) = get(&app, "comm", "/api/auctions/999/state").await;
    assert_eq!(
        (status, body["type"].as_str()),
        (404, Some("/problems/not_found")),
        "{body}"
    );
    let resp = app
        .client
        .get(app.url("/api/auctions/1/state"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}

/// An auction with lot 1 open (Ann nominated at 3); its id.
async fn open_lot(app: &TestApp) -> i64 {
    let id = create(app).await;
    let (status, _) = post(app, "comm", &format!("/api/auctions/{id}/start"), json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = post(
        app,
        "ann",
        &format!("/api/auctions/{id}/lots"),
        json!({"player": 0, "opening_bid": 3}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    id
}

#[tokio::test]
async fn client_ids_follow_one_rule_and_a_refused_one_changes_nothing() {
    let app = spawn_app(&policy_allowing(&["https://app.example"])).await;
    let id = open_lot(&app).await;
    let bids = format!("/api/auctions/{id}/lots/1/bids");
    let (_, before) = get(&app, "bob", &format!("/api/auctions/{id}/state")).await;
    let too_long = "k".repeat(201);
    for (header, body) in [
        (Some(too_long.as_str()), json!({"amount": 5})),
        (Some("two words"), json!({"amount": 5})),
        (None, json!({"amount": 5, "client_bid_id": too_long})),
        (None, json!({"amount": 5, "client_bid_id": ""})),
    ] {
        let mut req = app
            .client
            .post(app.url(&bids))
            .bearer_auth(token(&app, "bob"))
            .json(&body);
        if let Some(key) = header {
            req = req.header("Idempotency-Key", key);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(
            (status, problem["type"].as_str()),
            (400, Some("/problems/bad_request")),
            "{header:?} {body}: {problem}"
        );
        assert!(
            problem["detail"].as_str().unwrap().len() <= 250,
            "{problem}"
        );
    }
    let (_, after) = get(&app, "bob", &format!("/api/auctions/{id}/state")).await;
    assert_eq!(after["seq"], before["seq"], "nothing was decided");
    let (_, history) = get(&app, "bob", &bids).await;
    assert_eq!(history["bids"], json!([]), "nothing was stored");
    // 200 visible ASCII characters are a client id.
    let (status, body) = post(
        &app,
        "bob",
        &bids,
        json!({"amount": 5, "client_bid_id": "~".repeat(200)}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_bid_history_comes_in_pages() {
    let app = spawn_app(&policy_allowing(&["https://app.example"])).await;
    let id = open_lot(&app).await;
    let bids = format!("/api/auctions/{id}/lots/1/bids");
    for (sub, amount) in [("bob", 4), ("ann", 4), ("ann", 5), ("bob", 5), ("bob", 6)] {
        post(&app, sub, &bids, json!({"amount": amount})).await;
    }
    let (status, whole) = get(&app, "ann", &bids).await;
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["bids"].as_array().unwrap().len(), 5, "{whole}");
    assert!(whole.get("next").is_none(), "{whole}");
    let mut paged = Vec::new();
    let mut path = format!("{bids}?limit=2");
    loop {
        let (status, page) = get(&app, "ann", &path).await;
        assert_eq!(status, 200, "{page}");
        let list = page["bids"].as_array().unwrap();
        assert!(list.len() <= 2, "{page}");
        paged.extend(list.iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("{bids}?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(Value::from(paged), whole["bids"]);
    for bad in ["?limit=0", "?limit=501", "?after=x", "?after=1.-1"] {
        let (status, problem) = get(&app, "ann", &format!("{bids}{bad}")).await;
        assert_eq!(status, 400, "{bad}: {problem}");
        assert!(
            problem["type"]
                .as_str()
                .is_some_and(|t| t == "/problems/bad_request" || t == "/problems/invalid_cursor"),
            "{bad}: {problem}"
        );
    }
}
