//! The gate over plain HTTP, against a real server on a random port.

use crate::common;

use common::{TestApp, policy_allowing, spawn_app};
use reqwest::header::HeaderMap;
use serde_json::Value;

const APP: &str = "https://app.example.com";

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn preflight_from_an_allowed_origin_gets_exactly_the_allowed_headers() {
    let app = spawn_app(&policy_allowing(&[APP])).await;
    let resp = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/admin/policy"))
        .header("origin", APP)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "Content-Type, X-Not-Allowed, authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let h = resp.headers();
    assert_eq!(header(h, "access-control-allow-origin"), Some(APP));
    assert_eq!(header(h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(header(h, "access-control-allow-methods"), Some("GET, POST"));
    assert_eq!(
        header(h, "access-control-allow-headers"),
        Some("content-type, authorization")
    );
    assert_eq!(header(h, "access-control-max-age"), Some("600"));
    assert_eq!(
        header(h, "vary"),
        Some("Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
    );
}

#[tokio::test]
async fn actual_request_from_an_allowed_origin_gets_cors_headers() {
    let app = spawn_app(&policy_allowing(&[APP])).await;
    let resp = app.get_with_origin("/healthz", APP).await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(header(h, "access-control-allow-origin"), Some(APP));
    assert_eq!(header(h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(
        header(h, "access-control-expose-headers"),
        Some("x-request-id")
    );
    assert_eq!(header(h, "vary"), Some("Origin"));
    assert_eq!(resp.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn denied_and_malformed_origins_get_problem_json_and_never_reach_the_handler() {
    let app = TestApp::builder(&policy_allowing(&[APP]))
        .watching(false)
        .spawn()
        .await;
    // Preflight and actual request from a denied origin.
    let resp = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/healthz"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let resp = app
        .get_with_origin("/healthz", "https://evil.example")
        .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        header(resp.headers(), "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(header(resp.headers(), "vary"), Some("Origin"));
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "/problems/origin_denied");
    assert_eq!(body["status"], 403);
    assert_eq!(body["reason"], "no-rule-matched");
    assert_eq!(body["origin"], "https://evil.example");

    let resp = app
        .get_with_origin("/healthz", "https://app.example.com/")
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        header(resp.headers(), "content-type"),
        Some("application/problem+json")
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "/problems/malformed_origin");
    assert!(
        body["detail"].as_str().unwrap().contains("no path"),
        "{body}"
    );

    // Two different Origin headers are malformed too.
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("origin", APP)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // The handler is never reached: a denied reload request changes nothing.
    std::fs::write(&app.policy, policy_allowing(&[APP, "https://b.example"])).unwrap();
    let resp = app
        .client
        .post(app.url("/api/admin/policy/reload"))
        .header("origin", "https://evil.example")
        .bearer_auth(app.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let status: Value = app
        .client
        .get(app.url("/api/admin/policy"))
        .bearer_auth(app.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["activations"], 1, "{status}");
    assert_eq!(
        status["version"].as_str().unwrap().split('-').next(),
        Some("1")
    );
}

#[tokio::test]
async fn null_and_missing_origins_follow_the_requests_settings() {
    let app = spawn_app(&policy_allowing(&[APP])).await;
    let resp = app.get_with_origin("/healthz", "null").await;
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["reason"], "null-origin");

    let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(resp.headers(), "vary"), Some("Origin"));
    assert!(resp.headers().get("access-control-allow-origin").is_none());

    let app = spawn_app(
        "version = 1\n[requests]\nnull_origin = \"allow\"\nmissing_origin = \"deny\"\n[[allow]]\nexact = \"https://a.example\"\n",
    )
    .await;
    let resp = app.get_with_origin("/healthz", "null").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(resp.headers(), "access-control-allow-origin"),
        Some("null")
    );
    let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn wildcard_without_credentials_is_answered_with_a_star() {
    let app = spawn_app("version = 1\n[[allow]]\nwildcard = true\n").await;
    let resp = app
        .get_with_origin("/healthz", "https://anyone.example")
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(resp.headers(), "access-control-allow-origin"),
        Some("*")
    );
    assert!(
        resp.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}

#[tokio::test]
async fn report_only_lets_denied_origins_through_and_counts_them() {
    let app = spawn_app(&format!(
        "mode = \"report-only\"\n{}",
        policy_allowing(&[APP])
    ))
    .await;
    let resp = app
        .get_with_origin("/healthz", "https://evil.example")
        .await;
    assert_eq!(resp.status(), 200);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"gavel_origin_decisions_total{verdict="deny",surface="http",rule="no-rule-matched",enforced="false"} 1"#),
        "{metrics}"
    );
}

/// The seed incident behind an ingress: same-origin through trusted proxy headers only.
#[tokio::test]
async fn same_origin_behind_a_trusted_proxy() {
    let proxy_policy = |cidr: &str| {
        format!(
            "version = 1\n[[allow]]\nname = \"same-origin\"\nsame_origin = true\n[trusted_proxies]\ncidrs = [\"{cidr}\"]\nheaders = [\"x-forwarded-proto\", \"x-forwarded-host\"]\n"
        )
    };
    let send = |app: &common::TestApp| {
        app.client
            .post(app.url("/healthz"))
            .header("origin", "https://draft.example.io")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "draft.example.io")
            .send()
    };
    // The test client connects from 127.0.0.1: a trusted proxy here.
    let trusted = spawn_app(&proxy_policy("127.0.0.0/8")).await;
    let resp = send(&trusted).await.unwrap();
    assert_ne!(resp.status(), 403, "{:?}", resp.text().await);
    // The same headers from a peer that is not a trusted proxy are ignored.
    let untrusted = spawn_app(&proxy_policy("10.0.0.0/8")).await;
    let resp = send(&untrusted).await.unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["public_origin"],
        format!("http://127.0.0.1:{}", untrusted.port)
    );
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app(&policy_allowing(&[APP])).await;
    let ready: Value = app.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["redis"], Value::Null, "not configured: {ready}");
    assert!(ready["policy_version"].as_str().unwrap().starts_with("1-"));
    app.get_with_origin("/healthz", APP).await;
    let metrics = app.metrics().await;
    assert!(metrics.contains(r#"gavel_origin_decisions_total{verdict="allow",surface="http",rule="origin-0",enforced="true"} 1"#), "{metrics}");
    assert!(
        metrics.contains(&format!(
            r#"gavel_policy_active{{version="{}"}} 1"#,
            ready["policy_version"].as_str().unwrap()
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("gavel_policy_reload_failures_total 0"),
        "{metrics}"
    );
}

/// Every answer carries a request id; the one a client sends is kept only when the client is
/// a trusted proxy of the active policy (a stranger can't plant ids in the operator's logs).
#[tokio::test]
async fn every_answer_names_its_request_id_and_only_trusted_proxies_choose_it() {
    let id_of =
        |resp: &reqwest::Response| header(resp.headers(), "x-request-id").map(str::to_owned);
    let sent = |app: &common::TestApp, path: &str| {
        app.client
            .get(app.url(path))
            .header("x-request-id", "edge-7f3a")
            .send()
    };

    let app = spawn_app(&policy_allowing(&[APP])).await;
    let first = id_of(&app.get_with_origin("/healthz", APP).await).expect("an id");
    let denied = app
        .get_with_origin("/healthz", "https://evil.example")
        .await;
    assert_eq!(denied.status(), 403);
    let second = id_of(&denied).expect("denials carry an id too");
    assert_eq!(first.len(), 32, "{first}");
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()), "{first}");
    assert_ne!(first, second);
    let untrusted = sent(&app, "/healthz").await.unwrap();
    assert_ne!(id_of(&untrusted).as_deref(), Some("edge-7f3a"));

    let trusting = format!(
        "{}[trusted_proxies]\ncidrs = [\"127.0.0.1/32\", \"::1/128\"]\n",
        policy_allowing(&[APP])
    );
    let app = spawn_app(&trusting).await;
    let proxied = sent(&app, "/healthz").await.unwrap();
    assert_eq!(id_of(&proxied).as_deref(), Some("edge-7f3a"));
    let malformed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "a b\"c")
        .send()
        .await
        .unwrap();
    assert_ne!(id_of(&malformed).as_deref(), Some("a b\"c"));
    assert_eq!(id_of(&malformed).map(|id| id.len()), Some(32));
}
