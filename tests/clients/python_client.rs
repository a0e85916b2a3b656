//! python-socketio (the seed app's stack, pip) against a real server.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::clients::{Driven, python, repo};
use common::{TestApp, policy_allowing};
use gavel::auth::AccountRole;

const ALLOWED: &str = "http://localhost:5173";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_socketio_on_both_transports() {
    let app = TestApp::builder(&policy_allowing(&[ALLOWED]))
        .watching(false)
        .spawn()
        .await;
    let token = app
        .keys
        .mint("py", AccountRole::User, Duration::from_secs(300));
    let base = app.base.clone();
    let auction = app.create_auction("py").await.to_string();
    let lines = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(python());
        cmd.arg(repo().join("tests/py/socketio_clients.py")).args([
            &base,
            &token,
            ALLOWED,
            "https://evil.example",
            &auction,
        ]);
        Driven::spawn(cmd).finish(Duration::from_secs(60))
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
    // Polling: the Engine.IO error body reaches the client as a connect_error.
    let polling = check("denied-polling");
    assert_eq!(
        polling["error"],
        "Unexpected status code 403 in server response"
    );
    assert_eq!(polling["namespace_errors"][0]["message"], "Forbidden");
    assert_eq!(check("denied-websocket")["error"], "Connection error");
    let bad = check("bad-jwt");
    assert!(bad.to_string().contains("malformed token"), "{bad}");
}
