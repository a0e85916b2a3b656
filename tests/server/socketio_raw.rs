//! The seed incident over raw Engine.IO HTTP: a polling handshake without `Origin`, then the
//! POSTs of the same session with one.

use crate::common;

use common::{TestApp, spawn_app};
use gavel::auth::AccountRole;
use std::time::Duration;

const FRONTEND: &str = "https://draft.example.com";
const OTHER: &str = "https://other.example.com";
/// A Socket.IO event packet on the namespace.
const EVENT: &str = r#"42/auction,["time:sync",1]"#;

fn policy() -> String {
    common::policy_allowing(&[FRONTEND, OTHER])
}

/// Opens a polling session the way socket.io-client's first request does (no Origin: the
/// browser sends none on a same-site GET through some proxies).
async fn handshake(app: &TestApp) -> String {
    let resp = app
        .client
        .get(app.url("/api/socket.io/?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    let open: serde_json::Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

async fn post(app: &TestApp, sid: &str, origin: Option<&str>, body: String) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!(
            "/api/socket.io/?EIO=4&transport=polling&sid={sid}"
        )))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

fn connect_packet(app: &TestApp) -> String {
    let token = app
        .keys
        .mint("ann", AccountRole::User, Duration::from_secs(60));
    format!(r#"40/auction,{{"token":"{token}"}}"#)
}

#[tokio::test]
async fn handshake_without_origin_then_post_with_the_allowed_origin_succeeds() {
    let app = spawn_app(&policy()).await;
    let sid = handshake(&app).await;
    let resp = post(&app, &sid, Some(FRONTEND), connect_packet(&app)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], FRONTEND);
    assert_eq!(resp.headers()["access-control-allow-credentials"], "true");
    assert_eq!(resp.text().await.unwrap(), "ok");
    // The namespace answers the connect on the next poll, with the same origin.
    let resp = app
        .client
        .get(app.url(&format!(
            "/api/socket.io/?EIO=4&transport=polling&sid={sid}"
        )))
        .header("origin", FRONTEND)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    // A poll may carry several packets (a server ping among them), separated by \x1e.
    assert!(
        body.split('\u{1e}')
            .any(|p| p.starts_with("40/auction,{\"sid\"")),
        "{body:?}"
    );
}

#[tokio::test]
async fn a_denied_origin_on_a_post_is_refused_with_an_engine_io_error() {
    let app = spawn_app(&policy()).await;
    let sid = handshake(&app).await;
    let resp = post(
        &app,
        &sid,
        Some("https://evil.example"),
        connect_packet(&app),
    )
    .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"code":4,"message":"Forbidden"}"#
    );
    let resp = post(&app, &sid, Some("https://draft.example.com/"), EVENT.into()).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"code":3,"message":"Bad request"}"#
    );
}

#[tokio::test]
async fn a_session_keeps_the_origin_it_was_bound_to() {
    let app = spawn_app(&policy()).await;
    let sid = handshake(&app).await;
    assert_eq!(
        post(&app, &sid, Some(FRONTEND), connect_packet(&app))
            .await
            .status(),
        200
    );
    // Omitting Origin later is fine; another allowed origin is not.
    assert_eq!(post(&app, &sid, None, EVENT.into()).await.status(), 200);
    let resp = post(&app, &sid, Some(OTHER), EVENT.into()).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"code":4,"message":"Forbidden"}"#
    );
    // A session opened with an Origin is bound from the start.
    let resp = app
        .client
        .get(app.url("/api/socket.io/?EIO=4&transport=polling"))
        .header("origin", OTHER)
        .send()
        .await
        .unwrap();
    let body = resp.text().await.unwrap();
    let open: serde_json::Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
    let sid2 = open["sid"].as_str().unwrap();
    assert_eq!(
        post(&app, sid2, Some(FRONTEND), EVENT.into())
            .await
            .status(),
        403
    );
    assert_eq!(
        post(&app, sid2, Some(OTHER), connect_packet(&app))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn polling_preflights_are_answered_by_the_gate() {
    let app = spawn_app(&policy()).await;
    let resp = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            app.url("/api/socket.io/?EIO=4&transport=polling"),
        )
        .header("origin", FRONTEND)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.headers()["access-control-allow-origin"], FRONTEND);
    assert_eq!(
        resp.headers()["access-control-allow-headers"],
        "content-type"
    );
    let resp = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            app.url("/api/socket.io/?EIO=4&transport=polling"),
        )
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"code":4,"message":"Forbidden"}"#
    );
}
