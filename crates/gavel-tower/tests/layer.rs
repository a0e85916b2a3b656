//! The gate as a tower layer: every case of the origin tables through it, agreeing with
//! `Policy::decide`; and the example app (axum + socketioxide behind the layer) with the
//! official `socket.io-client`, session binding and hot reload.

#[path = "../examples/axum_socketio/app.rs"]
mod app;
#[path = "support/tables.rs"]
mod tables;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gavel_policy::{PolicyStore, Reason};
use gavel_tower::OriginGateLayer;
use http::{Request, Response, StatusCode};
use tower::{Layer, ServiceExt, service_fn};

const ALLOWED: &str = "http://localhost:5173";
const ALSO_ALLOWED: &str = "http://localhost:5174";
const DENIED: &str = "https://evil.example";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A policy that allows `origins` (and requests without `Origin`).
fn policy_allowing(origins: &[&str]) -> String {
    let mut text = String::from("version = 1\n[requests]\nmissing_origin = \"allow\"\n");
    for (i, origin) in origins.iter().enumerate() {
        text.push_str(&format!(
            "[[allow]]\nname = \"allowed-{i}\"\nexact = \"{origin}\"\n"
        ));
    }
    text
}

/// Replaces the policy file the way editors and deploy tools do: write beside, rename over.
fn rewrite(path: &Path, text: &str) {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

// --- the origin tables -----------------------------------------------------------------------

#[tokio::test]
async fn every_table_case_gets_the_answer_its_decision_says() {
    let mut ran = 0;
    for table in tables::project_tables(&repo()) {
        ran += tables::run_through_layer(&table).await;
    }
    // development (13), production (20) and the copy of the shared table (39).
    assert!(ran >= 72, "only {ran} cases in the project's tables");
    let shared = repo().join("../shared/origin-cases/cases.toml");
    if shared.exists() {
        assert_eq!(tables::run_through_layer(&shared).await, 39);
    } else {
        println!("the shared origin table is not beside the checkout; ran the project's only");
    }
}

/// The inner service of the unit checks: 200 `inner`, and a count of its calls.
fn counted() -> (
    Arc<AtomicUsize>,
    impl tower::Service<
        Request<String>,
        Response = Response<String>,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let service = service_fn(move |_req: Request<String>| {
        seen.fetch_add(1, Ordering::SeqCst);
        async { Ok(Response::new(String::from("inner"))) }
    });
    (calls, service)
}

fn get(uri: &str, origin: Option<&str>) -> Request<String> {
    let mut builder = Request::get(uri);
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    let mut req = builder.body(String::new()).unwrap();
    req.extensions_mut()
        .insert(std::net::SocketAddr::from(([127, 0, 0, 1], 40000)));
    req
}

#[tokio::test]
async fn preflights_are_answered_by_the_gate_with_the_policys_cors() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "{}[cors]\ncredentials = true\nmax_age_secs = 600\nallow_methods = [\"GET\", \"POST\"]\nallow_headers = [\"content-type\"]\n",
            policy_allowing(&[ALLOWED])
        ),
    )
    .unwrap();
    let (calls, inner) = counted();
    let gate = OriginGateLayer::open(&policy).unwrap().layer(inner);
    let mut req = get("/api/hello", Some(ALLOWED));
    *req.method_mut() = http::Method::OPTIONS;
    let headers = req.headers_mut();
    headers.insert("access-control-request-method", "POST".parse().unwrap());
    headers.insert(
        "access-control-request-headers",
        "content-type, x-other".parse().unwrap(),
    );
    let resp = gate.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], ALLOWED);
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-allow-methods"], "GET, POST");
    assert_eq!(h["access-control-allow-headers"], "content-type");
    assert_eq!(h["access-control-max-age"], "600");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "a preflight never reaches the app"
    );

    let actual = gate
        .oneshot(get("/api/hello", Some(ALLOWED)))
        .await
        .unwrap();
    assert_eq!(actual.headers()["access-control-allow-credentials"], "true");
    assert_eq!(actual.headers()["vary"], "Origin");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn report_only_lets_a_denied_origin_through_without_cors_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let text = policy_allowing(&[ALLOWED]).replacen(
        "version = 1\n",
        "version = 1\nmode = \"report-only\"\n[cors]\ncredentials = true\n",
        1,
    );
    std::fs::write(&policy, text).unwrap();
    let denials = Arc::new(AtomicUsize::new(0));
    let seen = denials.clone();
    let (calls, inner) = counted();
    let gate = OriginGateLayer::open(&policy)
        .unwrap()
        .on_denial(move |d| {
            assert_eq!(d.reason(), Reason::NoRuleMatched);
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .layer(inner);
    let resp = gate.oneshot(get("/api/hello", Some(DENIED))).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(denials.load(Ordering::SeqCst), 1);
    assert!(
        !resp
            .headers()
            .contains_key("access-control-allow-credentials")
    );
}

#[tokio::test]
async fn the_store_handle_reloads_and_keeps_the_last_good_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, policy_allowing(&[ALLOWED])).unwrap();
    let layer = OriginGateLayer::open(&policy).unwrap();
    let (_, inner) = counted();
    let gate = layer.clone().layer(inner);
    let status = |resp: Response<_>| resp.status();
    let ask = || gate.clone().oneshot(get("/api/hello", Some(ALLOWED)));
    assert_eq!(status(ask().await.unwrap()), StatusCode::OK);

    // What an application's SIGHUP handler does.
    rewrite(&policy, &policy_allowing(&[ALSO_ALLOWED]));
    layer.store().reload().unwrap();
    assert_eq!(status(ask().await.unwrap()), StatusCode::FORBIDDEN);

    rewrite(
        &policy,
        "version = 1\n[[allow]]\nexact = \"https://a.example/\"\n",
    );
    assert!(layer.store().reload().is_err(), "an origin with a path");
    assert_eq!(status(ask().await.unwrap()), StatusCode::FORBIDDEN);
    let still = gate
        .clone()
        .oneshot(get("/api/hello", Some(ALSO_ALLOWED)))
        .await
        .unwrap();
    assert_eq!(still.status(), StatusCode::OK, "the last good policy stays");
}

// --- the example app with real clients --------------------------------------------------------

/// The example's router on a random loopback port; its base URL.
async fn serve(gate: OriginGateLayer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app::serve(listener, app::router(gate)));
    base
}

/// The official socket.io-client over polling, websocket and polling-then-upgrade; every line
/// it printed.
async fn socket_io_client(base: &str, origin: &str, expect: &str) -> Vec<serde_json::Value> {
    let js = repo().join("tests/js");
    assert!(
        js.join("node_modules/socket.io-client").exists(),
        "tests/js/node_modules is missing: run `scripts/test` (or `npm ci --prefix tests/js`)"
    );
    let mut cmd = Command::new("node");
    cmd.arg(js.join("tower_layer.mjs"))
        .args([base, origin, expect])
        .current_dir(&js);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("node runs"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn check<'a>(lines: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    lines
        .iter()
        .find(|l| l["check"] == name)
        .unwrap_or_else(|| panic!("no {name} in {lines:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_client_connects_from_an_allowed_origin_and_is_refused_from_a_denied_one() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, policy_allowing(&[ALLOWED])).unwrap();
    let base = serve(app::gate(&policy).unwrap()).await;

    let allowed = socket_io_client(&base, ALLOWED, "connect").await;
    assert_eq!(check(&allowed, "connect-polling")["transport"], "polling");
    assert_eq!(
        check(&allowed, "connect-websocket")["transport"],
        "websocket"
    );
    assert_eq!(
        check(&allowed, "connect-polling+websocket")["transport"],
        "websocket"
    );
    assert_eq!(check(&allowed, "connect-polling")["echo"]["n"], 42);

    let denied = socket_io_client(&base, DENIED, "refuse").await;
    assert_eq!(check(&denied, "refuse-polling")["error"], "xhr poll error");
    assert_eq!(
        check(&denied, "refuse-websocket")["error"],
        "websocket error"
    );

    // Plain HTTP through the same router.
    let http = reqwest::Client::new();
    let hello = http
        .get(format!("{base}/api/hello"))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(hello.headers()["access-control-allow-origin"], ALLOWED);
    assert_eq!(hello.text().await.unwrap(), "hello");
    let refused = http
        .get(format!("{base}/api/hello"))
        .header("origin", DENIED)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    assert_eq!(problem["type"], "/problems/origin_denied");
    assert_eq!(problem["reason"], "no-rule-matched");
}

/// An Engine.IO polling handshake (no `sid`); its status and body.
async fn handshake(http: &reqwest::Client, base: &str, origin: Option<&str>) -> (u16, String) {
    let mut req = http.get(format!("{base}/socket.io/?EIO=4&transport=polling"));
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polling_session_stays_bound_to_the_first_origin_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, policy_allowing(&[ALLOWED, ALSO_ALLOWED])).unwrap();
    let base = serve(app::gate(&policy).unwrap()).await;
    let http = reqwest::Client::new();

    // The incident's shape: a handshake without Origin, then POSTs with it.
    let (status, body) = handshake(&http, &base, None).await;
    assert_eq!(status, 200, "{body}");
    let open: serde_json::Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
    let session = format!(
        "{base}/socket.io/?EIO=4&transport=polling&sid={}",
        open["sid"].as_str().unwrap()
    );
    let post = |origin: &str| {
        http.post(&session)
            .header("origin", origin)
            .body("40")
            .send()
    };
    assert_eq!(post(ALLOWED).await.unwrap().status(), StatusCode::OK);
    let other = post(ALSO_ALLOWED).await.unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        other.text().await.unwrap(),
        r#"{"code":4,"message":"Forbidden"}"#
    );
    // The bound origin still passes (what it receives — a ping, the connect answer — is
    // socketioxide's business).
    let receive = http
        .get(&session)
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(receive.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_policy_file_denies_new_handshakes_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, policy_allowing(&[ALLOWED])).unwrap();
    let gate = app::gate(&policy).unwrap();
    let _watcher = gate.watch().unwrap();
    let store: Arc<PolicyStore> = gate.store().clone();
    let base = serve(gate).await;
    let http = reqwest::Client::new();
    assert_eq!(handshake(&http, &base, Some(ALLOWED)).await.0, 200);

    rewrite(&policy, &policy_allowing(&[ALSO_ALLOWED]));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = handshake(&http, &base, Some(ALLOWED)).await;
        if status == 403 {
            assert_eq!(body, r#"{"code":4,"message":"Forbidden"}"#);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after the file changed; store: {:?}",
            store.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.status().activations, 2);

    let refused = socket_io_client(&base, ALLOWED, "refuse").await;
    assert_eq!(check(&refused, "refuse-polling")["error"], "xhr poll error");
    assert_eq!(
        check(&refused, "refuse-websocket")["error"],
        "websocket error"
    );
    assert_eq!(handshake(&http, &base, Some(ALSO_ALLOWED)).await.0, 200);
}

#[test]
fn the_layer_brings_no_server_stack() {
    // `cargo tree -e normal` is what an embedder pulls in.
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "gavel-tower",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    for heavy in [
        "poem",
        "sea-orm",
        "socketioxide",
        "tokio ",
        "axum",
        "hyper ",
    ] {
        assert!(
            !tree.lines().any(|l| l.starts_with(heavy)),
            "{heavy} is in gavel-tower's tree:\n{tree}"
        );
    }
}
