//! Names and chat in the room with the official `socket.io-client` (`tests/js/room_chat.mjs`):
//! presence, the snapshot and the join ack carry names, never emails; chat messages reach every
//! socket of the room, the last 100 are replayed on join, deleted ones never again; bad text,
//! outsiders, non-commissioners deleting and a member over the chat rate are refused.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::clients::{Driven, js_dir};
use common::{Db, TestApp, policy_allowing};
use gavel::auth::AccountRole;
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:5173";
const COMM: &str = "cora@example.com";

fn tokens(app: &TestApp, who: &[(&str, &str)]) -> String {
    let map: serde_json::Map<String, Value> = who
        .iter()
        .map(|(name, sub)| {
            let token = app
                .keys
                .mint(sub, AccountRole::User, Duration::from_secs(600));
            ((*name).to_owned(), Value::String(token))
        })
        .collect();
    Value::Object(map).to_string()
}

/// Cora (commissioner, named), Ann (manages Sharks, no name), Sam (spectator), Bob (manages
/// Jets); its id.
async fn room(app: &TestApp) -> i64 {
    let (status, created) = app
        .call(
            COMM,
            "POST",
            "/api/auctions",
            Some(
                json!({"name": "League", "commissioner_name": "Cora", "teams": [
                    {"name": "Sharks", "manager": "ann@example.com"},
                    {"name": "Jets", "manager": "bob@example.com"},
                ]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (_, invitation) = app
        .call(
            COMM,
            "POST",
            &format!("/api/auctions/{id}/invitations"),
            Some(json!({"role": "spectator"})),
        )
        .await;
    let (status, sam) = app
        .call(
            "sam@example.com",
            "POST",
            &format!("/api/auctions/{id}/join"),
            Some(json!({"code": invitation["code"]})),
        )
        .await;
    assert_eq!(status, 200, "{sam}");
    id
}

async fn run(app: &TestApp, mode: &str, id: i64, tokens: String) -> Vec<Value> {
    let args = vec![
        mode.to_owned(),
        app.base.clone(),
        ORIGIN.to_owned(),
        id.to_string(),
        tokens,
    ];
    tokio::task::spawn_blocking(move || {
        let dir = js_dir();
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("room_chat.mjs"))
            .args(&args)
            .current_dir(dir);
        Driven::spawn(cmd).finish(Duration::from_secs(90))
    })
    .await
    .unwrap()
}

fn line<'a>(lines: &'a [Value], event: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["event"] == event)
        .unwrap_or_else(|| panic!("no `{event}` line: {lines:#?}"))
}

fn refused(ack: &Value, kind: &str) {
    assert_eq!(
        (&ack["ok"], ack["error"]["type"].as_str()),
        (&json!(false), Some(kind)),
        "{ack}"
    );
}

fn assert_names(names: &Value) {
    let joined = &names["joined"];
    assert_eq!(joined["cora"]["name"], "Cora");
    assert_eq!(
        joined["ann"]["name"], "Sharks",
        "a manager is named after the team"
    );
    assert_eq!(joined["sam"]["name"], "Spectator");
    assert_eq!(
        names["presence"]["ann"],
        json!({"auction_id": names["first_history"]["auction_id"], "name": "Sharks", "role": "manager", "team": 0, "online": true})
    );
    assert_eq!(names["presence"]["sam"]["name"], "Spectator");
    assert_eq!(names["presence"]["sam"]["team"], Value::Null);
    assert_eq!(names["snapshot_commissioner_name"], "Cora");
    assert_eq!(names["snapshot_has_commissioner"], false);
    assert_eq!(names["first_history"]["messages"], json!([]));
}

/// `hello` reached every socket; bad text, outsiders and non-commissioners were refused; the
/// commissioner's delete reached everyone.
fn assert_sent_refused_and_deleted(lines: &[Value], id: i64) {
    let hello = line(lines, "hello");
    assert_eq!(hello["ack"]["ok"], true);
    for seen in hello["seen"].as_array().unwrap() {
        assert_eq!(
            seen,
            &json!({"auction_id": id, "id": hello["ack"]["id"], "name": "Sharks", "role": "manager",
                    "team": 0, "text": "hello <b>all</b>", "at": seen["at"]}),
            "every socket of the room, the sender's too; the text trimmed, otherwise as sent"
        );
        assert!(seen["at"].as_u64().unwrap() > 1_700_000_000_000);
    }

    let r = line(lines, "refusals");
    for case in ["too_long", "blank", "control"] {
        refused(&r[case], "invalid_message");
    }
    assert_eq!(
        r["longest"]["ok"], true,
        "500 characters (1,000 bytes) are allowed: {r}"
    );
    refused(&r["outsider_send"], "forbidden");
    refused(&r["manager_delete"], "forbidden");
    refused(&r["spectator_delete"], "forbidden");
    refused(&r["unknown_delete"], "not_found");
    refused(&r["malformed"], "bad_request");

    let deleted = line(lines, "deleted");
    assert_eq!(deleted["ack"], json!({"ok": true}));
    assert_eq!(
        deleted["again"],
        json!({"ok": true}),
        "deleting twice is not an error"
    );
    let told = json!({"auction_id": id, "id": hello["ack"]["id"]});
    assert_eq!(
        deleted["told"],
        json!([told, told, told]),
        "everyone is told"
    );
}

/// 105 messages, then a join: the last 100, oldest first; a deleted one never again.
fn assert_history(lines: &[Value], id: i64) {
    let history = line(lines, "history");
    assert_eq!(
        (&history["count"], &history["first"], &history["last"]),
        (&json!(100), &json!("m5"), &json!("m104")),
        "the last 100 of 105, oldest first: {history}"
    );
    assert_eq!(history["ids_ascending"], true);
    assert_eq!(history["auction_id"], id);
    assert_eq!(history["senders"], json!(["Cora/commissioner/null"]));
    assert_eq!(history["has_hello"], false);
    let after = line(lines, "history-after-delete");
    assert_eq!(after["ack"], json!({"ok": true}));
    assert_eq!(
        (&after["count"], &after["first"], &after["has_m100"]),
        (&json!(100), &json!("m4"), &json!(false)),
        "a deleted message is never replayed, and the window is of those left: {after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_instead_of_emails_and_chat_sent_replayed_and_deleted_on_sqlite() {
    names_and_chat(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_instead_of_emails_and_chat_sent_replayed_and_deleted_on_postgres() {
    names_and_chat(Db::Postgres).await;
}

async fn names_and_chat(db: Db) {
    // Event and chat rates lifted: the driver sends 105 messages as fast as acks come back.
    let app = TestApp::builder(&policy_allowing(&[ORIGIN]))
        .watching(false)
        .on(db)
        .settings(|s| {
            s.limits.events_per_second = 1000;
            s.limits.event_burst = 1000;
            s.limits.member_events_per_second = 1000;
            s.limits.member_event_burst = 1000;
            s.limits.chat_burst = 1000;
        })
        .spawn()
        .await;
    let id = room(&app).await;
    let who = [
        ("cora", COMM),
        ("ann", "ann@example.com"),
        ("sam", "sam@example.com"),
        ("bob", "bob@example.com"),
        ("eve", "eve@example.com"),
    ];
    let lines = run(&app, "flow", id, tokens(&app, &who)).await;
    assert_names(line(&lines, "names"));

    assert_sent_refused_and_deleted(&lines, id);
    assert_history(&lines, id);

    let privacy = line(&lines, "privacy");
    assert_eq!(
        privacy["emails_seen"],
        json!({"cora": false, "ann": false, "sam": false}),
        "no socket payload carries an email"
    );
    assert_eq!(privacy["chat_messages_seen_by_sam"], 2 + 105);
    assert_eq!(
        privacy["offline"],
        json!({"auction_id": id, "name": "Jets", "role": "manager", "team": 1, "online": false}),
        "who left, by name"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_over_the_chat_rate_is_refused_and_others_are_not_held_back() {
    // The default limits: 5 messages at once per member and auction, then one every 2 s.
    let app = TestApp::builder(&policy_allowing(&[ORIGIN]))
        .watching(false)
        .spawn()
        .await;
    let id = room(&app).await;
    let who = [("ann", "ann@example.com"), ("bob", "bob@example.com")];
    let lines = run(&app, "rate", id, tokens(&app, &who)).await;
    let rate = line(&lines, "rate");
    let acks = rate["acks"].as_array().unwrap();
    assert!(acks[..5].iter().all(|a| a["ok"] == true), "{rate}");
    refused(&acks[5], "rate_limited");
    let detail = acks[5]["error"]["detail"].as_str().unwrap();
    assert!(
        detail.contains("chat") && detail.contains("retry in"),
        "{detail}"
    );
    assert_eq!(rate["other"]["ok"], true, "{rate}");
    assert_eq!(
        rate["bob_saw"], 6,
        "the refused message went nowhere: {rate}"
    );
}
