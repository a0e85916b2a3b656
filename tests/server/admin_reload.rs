//! The admin API and hot reload against a real server.

use crate::common;

use std::time::Duration;

use common::{TestApp, policy_allowing, spawn_app};
use gavel::auth::AccountRole;
use serde_json::Value;

const A: &str = "https://a.example";
const B: &str = "https://b.example";
const SECOND: Duration = Duration::from_secs(1);

async fn policy_status(app: &common::TestApp) -> Value {
    let resp = app
        .client
        .get(app.url("/api/admin/policy"))
        .bearer_auth(app.admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn admin_api_requires_an_admin_token() {
    let app = spawn_app(&policy_allowing(&[A])).await;
    let url = app.url("/api/admin/policy");
    let resp = app.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let user = app
        .keys
        .mint("bob", AccountRole::User, Duration::from_secs(60));
    let resp = app.client.get(&url).bearer_auth(user).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let forged = gavel::auth::JwtKeys::new(b"some-other-secret-some-other-secret").mint(
        "eve",
        AccountRole::Admin,
        Duration::from_secs(60),
    );
    let resp = app
        .client
        .get(&url)
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "/problems/unauthorized");

    let status = policy_status(&app).await;
    assert!(status["version"].as_str().unwrap().starts_with("1-"));
    assert_eq!(status["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(status["source"], app.policy.display().to_string());
    assert_eq!(status["mode"], "enforce");
    assert_eq!(status["last_error"], Value::Null);
    assert!(status["loaded_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn explain_returns_the_decision() {
    let app = spawn_app(&policy_allowing(&[A])).await;
    let explain = |body: Value| {
        app.client
            .post(app.url("/api/admin/policy/explain"))
            .bearer_auth(app.admin_token())
            .json(&body)
            .send()
    };
    let resp =
        explain(serde_json::json!({"origin": "https://a.example:443", "surface": "polling-post"}))
            .await
            .unwrap();
    assert_eq!(resp.status(), 200);
    let d: Value = resp.json().await.unwrap();
    assert_eq!(d["verdict"], "allow");
    assert_eq!(d["rule"], "origin-0");
    assert_eq!(d["origin"], A);
    assert_eq!(d["surface"], "polling-post");
    let d: Value = explain(serde_json::json!({"origin": "http://a.example"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["verdict"], "deny");
    assert!(d["hints"].to_string().contains("only by its scheme"), "{d}");
    let resp = explain(serde_json::json!({"surface": "pigeon"}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn reload_through_the_api_and_refused_reloads() {
    let app = TestApp::builder(&policy_allowing(&[A]))
        .watching(false)
        .spawn()
        .await;
    let r: Value = app.reload().await.json().await.unwrap();
    assert_eq!(r["outcome"], "unchanged");

    std::fs::write(&app.policy, policy_allowing(&[B])).unwrap();
    let r: Value = app.reload().await.json().await.unwrap();
    assert_eq!(r["outcome"], "activated");
    assert!(r["version"].as_str().unwrap().starts_with("2-"));
    assert_eq!(app.status_for(A).await, 403);
    assert_eq!(app.status_for(B).await, 200);

    // An invalid file: refused, the last good policy stays, the error is shown.
    std::fs::write(
        &app.policy,
        "version = 1\n[[allow]]\nexact = \"https://c.example/\"\n",
    )
    .unwrap();
    let resp = app.reload().await;
    assert_eq!(resp.status(), 422);
    let p: Value = resp.json().await.unwrap();
    assert!(
        p["diagnostics"][0]
            .as_str()
            .unwrap()
            .contains("policy.toml:3:9: error: an origin has no path"),
        "{p}"
    );
    assert_eq!(app.status_for(B).await, 200);
    let status = policy_status(&app).await;
    assert!(status["version"].as_str().unwrap().starts_with("2-"));
    assert_eq!(status["failures"], 1);
    assert!(
        status["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains(":3:9:"),
        "{status}"
    );

    // A guard-rail violation: refused the same way.
    std::fs::write(
        &app.policy,
        format!(
            "{}[[expect]]\norigin = \"{B}\"\nverdict = \"allow\"\n",
            policy_allowing(&[A])
        ),
    )
    .unwrap();
    let resp = app.reload().await;
    assert_eq!(resp.status(), 422);
    assert_eq!(app.status_for(B).await, 200);
    let status = policy_status(&app).await;
    assert_eq!(status["failures"], 2);
    assert!(
        status["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("guard rail failed"),
        "{status}"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("gavel_policy_reload_failures_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("gavel_policy_reloads_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn file_edits_in_place_and_saves_by_rename_reload_within_a_second() {
    let app = spawn_app(&policy_allowing(&[A])).await;
    assert_eq!(app.status_for(B).await, 403);
    std::fs::write(&app.policy, policy_allowing(&[B])).unwrap();
    common::eventually("edit in place", SECOND, || async {
        app.status_for(B).await == 200
    })
    .await;

    // An editor's save: write a temporary file, rename it over the policy.
    let tmp = app.dir.path().join(".policy.toml.swp");
    std::fs::write(&tmp, policy_allowing(&[A])).unwrap();
    std::fs::rename(&tmp, &app.policy).unwrap();
    common::eventually("save by rename", SECOND, || async {
        app.status_for(A).await == 200
    })
    .await;
    assert_eq!(app.status_for(B).await, 403);

    // Deleting the file keeps the last good policy; writing it again reloads.
    std::fs::remove_file(&app.policy).unwrap();
    common::eventually("failure recorded", SECOND, || async {
        policy_status(&app).await["failures"].as_u64().unwrap() >= 1
    })
    .await;
    assert_eq!(app.status_for(A).await, 200);
    std::fs::write(&app.policy, policy_allowing(&[B])).unwrap();
    common::eventually("re-created file", SECOND, || async {
        app.status_for(B).await == 200
    })
    .await;
}

/// A Kubernetes ConfigMap volume: `policy.toml -> ..data/policy.toml`, `..data -> ..<stamp>`,
/// and an update swaps the `..data` symlink.
#[cfg(unix)]
#[tokio::test]
async fn configmap_style_symlink_swap_reloads() {
    use std::os::unix::fs::symlink;
    let app = spawn_app(&policy_allowing(&[A])).await;
    let root = app.dir.path();
    // Turn the watched directory into a ConfigMap volume holding the same policy.
    std::fs::create_dir(root.join("..v1")).unwrap();
    std::fs::write(root.join("..v1/policy.toml"), policy_allowing(&[A])).unwrap();
    symlink("..v1", root.join("..data")).unwrap();
    std::fs::remove_file(&app.policy).unwrap();
    symlink("..data/policy.toml", &app.policy).unwrap();
    assert_eq!(app.status_for(A).await, 200);

    // The kubelet's update: a new timestamped directory, then an atomic rename of `..data`.
    std::fs::create_dir(root.join("..v2")).unwrap();
    std::fs::write(root.join("..v2/policy.toml"), policy_allowing(&[B])).unwrap();
    symlink("..v2", root.join("..data_tmp")).unwrap();
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    common::eventually("symlink swap", SECOND, || async {
        app.status_for(B).await == 200
    })
    .await;
    assert_eq!(app.status_for(A).await, 403);
}

/// Requests during 50 reloads only ever see the verdicts one of the two policies gives.
#[tokio::test]
async fn concurrent_requests_during_fifty_reloads() {
    let app = std::sync::Arc::new(
        TestApp::builder(&policy_allowing(&[A]))
            .watching(false)
            .spawn()
            .await,
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut loads = Vec::new();
    for _ in 0..4 {
        let (app, stop) = (app.clone(), stop.clone());
        loads.push(tokio::spawn(async move {
            let mut seen = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for origin in [A, B, "https://never.example"] {
                    let status = app.status_for(origin).await;
                    match origin {
                        "https://never.example" => assert_eq!(status, 403),
                        _ => assert!(status == 200 || status == 403, "{origin}: {status}"),
                    }
                    seen += 1;
                }
            }
            seen
        }));
    }
    for i in 0..50 {
        std::fs::write(
            &app.policy,
            policy_allowing(&[if i % 2 == 0 { B } else { A }]),
        )
        .unwrap();
        let resp = app.reload().await;
        assert_eq!(resp.status(), 200, "reload {i}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in loads {
        assert!(l.await.unwrap() > 0);
    }
    let status = policy_status(&app).await;
    assert_eq!(status["activations"], 51);
    assert_eq!(status["failures"], 0);
    // 50 reloads alternate B, A, …: the last (i = 49) allows A.
    assert_eq!(app.status_for(A).await, 200);
}

/// Issue 9: reloading content that was refused already refuses it again without counting it;
/// the status keeps the first refusal's error until the file changes.
#[tokio::test]
async fn a_refused_file_is_counted_once_until_it_changes() {
    let app = TestApp::builder(&policy_allowing(&[A]))
        .watching(false)
        .spawn()
        .await;
    std::fs::write(
        &app.policy,
        "version = 1\n[[allow]]\nexact = \"https://c.example/\"\n",
    )
    .unwrap();
    let first: Value = app.reload().await.json().await.unwrap();
    let at = policy_status(&app).await["last_error"]["at"].clone();
    for _ in 0..5 {
        let resp = app.reload().await;
        assert_eq!(resp.status(), 422);
        let p: Value = resp.json().await.unwrap();
        assert_eq!(p["diagnostics"], first["diagnostics"], "{p}");
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("has not changed since it was refused"),
            "{p}"
        );
    }
    let status = policy_status(&app).await;
    assert_eq!(status["failures"], 1, "{status}");
    assert_eq!(status["last_error"]["at"], at, "{status}");
    assert!(
        app.metrics()
            .await
            .contains("gavel_policy_reload_failures_total 1\n")
    );
    assert_eq!(app.status_for(A).await, 200);

    // An edit is judged again.
    std::fs::write(
        &app.policy,
        "version = 1\n[[allow]]\nexact = \"https://d.example/\"\n",
    )
    .unwrap();
    let p: Value = app.reload().await.json().await.unwrap();
    assert_eq!(p["detail"], first["detail"], "{p}");
    assert_eq!(policy_status(&app).await["failures"], 2);
}
