//! The official `socket.io-client` (npm, v4) from Node against a real server: both transports,
//! acks, broadcasts, denied origins, bad tokens, and a reload that revokes an open socket.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::clients::{Driven, js_dir};
use common::{TestApp, policy_allowing};
use gavel::auth::AccountRole;

const ALLOWED: &str = "http://localhost:5173";
const DENIED: &str = "https://evil.example";

fn node(args: &[&str]) -> Driven {
    let dir = js_dir();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("socketio_clients.mjs"))
        .args(args)
        .current_dir(dir);
    Driven::spawn(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_connects_acks_and_is_refused_where_it_must_be() {
    let app = TestApp::builder(&policy_allowing(&[ALLOWED]))
        .watching(false)
        .spawn()
        .await;
    let token = app
        .keys
        .mint("ann", AccountRole::User, Duration::from_secs(300));
    let base = app.base.clone();
    let auction = app.create_auction("ann").await.to_string();
    let lines = tokio::task::spawn_blocking(move || {
        node(&["checks", &base, &token, ALLOWED, DENIED, &auction]).finish(Duration::from_secs(60))
    })
    .await
    .unwrap();
    let check = |name: &str| {
        lines
            .iter()
            .find(|l| l["check"] == name)
            .unwrap_or_else(|| panic!("no result for {name}: {lines:#?}"))
            .clone()
    };
    assert_eq!(check("polling-then-upgrade")["transport"], "websocket");
    assert_eq!(check("websocket-only")["transport"], "websocket");
    assert_eq!(check("polling-only")["transport"], "polling");
    assert!(
        check("polling-then-upgrade")["server_now"]
            .as_u64()
            .unwrap()
            > 1_700_000_000_000
    );
    // Refused by the gate: the client reports a transport-level connect_error.
    assert_eq!(
        check("denied-polling")["error"],
        "xhr poll error",
        "{lines:#?}"
    );
    assert_eq!(
        check("denied-websocket")["error"],
        "websocket error",
        "{lines:#?}"
    );
    // Refused by the auth middleware: the message names the reason.
    assert_eq!(check("bad-jwt")["error"], "malformed token");
    assert_eq!(check("missing-jwt")["error"], "missing token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_denies_its_origin_disconnects_an_open_socket() {
    let app = TestApp::builder(&policy_allowing(&[ALLOWED]))
        .watching(false)
        .spawn()
        .await;
    let token = app
        .keys
        .mint("ann", AccountRole::User, Duration::from_secs(300));
    let base = app.base.clone();
    let mut client = tokio::task::spawn_blocking(move || {
        let mut c = node(&["revoke", &base, &token, ALLOWED]);
        c.expect_event("connected", Duration::from_secs(20));
        c
    })
    .await
    .unwrap();

    std::fs::write(&app.policy, policy_allowing(&["https://elsewhere.example"])).unwrap();
    let resp = app.reload().await;
    assert_eq!(resp.status(), 200);

    let revoked = tokio::task::spawn_blocking(move || {
        let v = client.expect_event("revoked", Duration::from_secs(20));
        drop(client);
        v
    })
    .await
    .unwrap();
    assert_eq!(revoked["why"]["reason"], "no-rule-matched");
    assert!(
        revoked["why"]["policy_version"]
            .as_str()
            .unwrap()
            .starts_with("2-")
    );
    assert_eq!(revoked["reason"], "io server disconnect");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("gavel_sessions_disconnected_by_reload_total 1"),
        "{metrics}"
    );
}
