//! The `gavel` binary as operators run it: start-up, SIGHUP, graceful shutdown, the OpenAPI
//! document.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::binary::Server;

const SECRET: &str = "binary-test-secret-binary-test-secret";

fn policy(origin: &str) -> String {
    format!("version = 1\n[[allow]]\nname = \"only\"\nexact = \"{origin}\"\n")
}

fn start(dir: &std::path::Path) -> Server {
    let config = dir.join("gavel.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:0\"\npolicy = \"{}\"\nwatch_policy = false\njwt_secret = \"{SECRET}\"\n\
             database_url = \"sqlite://{}?mode=rwc\"\n",
            dir.join("policy.toml").display(),
            dir.join("gavel.db").display()
        ),
    )
    .unwrap();
    Server::start(&["serve", "--config", config.to_str().unwrap()], |_| {})
}

fn status(port: u16, origin: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .header("origin", origin)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[cfg(unix)]
#[test]
fn sighup_reloads_and_sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy("https://a.example")).unwrap();
    let mut server = start(dir.path());
    assert_eq!(status(server.port, "https://b.example"), 403);
    std::fs::write(dir.path().join("policy.toml"), policy("https://b.example")).unwrap();
    // The file is not watched here: only the signal reloads it.
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    common::eventually_blocking("SIGHUP reloads the policy", Duration::from_secs(1), || {
        status(server.port, "https://b.example") == 200
    });
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn an_invalid_policy_refuses_to_start_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "version = 1\n[[allow]]\nexact = \"https://a.example/\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gavel"))
        .arg("serve")
        .env("GAVEL_POLICY", &policy)
        .env("GAVEL_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "{}:3:9: error: an origin has no path; did you mean `https://a.example`?",
        policy.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn token_needs_a_configured_secret_and_mints_a_verifiable_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_gavel"))
        .args(["token", "--sub", "ops", "--role", "admin", "--ttl", "5m"])
        .env_remove("GAVEL_JWT_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_gavel"))
        .args(["token", "--sub", "ops", "--role", "admin", "--ttl", "5m"])
        .env("GAVEL_JWT_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap();
    let claims = gavel::auth::JwtKeys::new(SECRET.as_bytes())
        .verify(token.trim())
        .unwrap();
    assert_eq!(claims.sub, "ops");
    assert_eq!(claims.role, gavel::auth::AccountRole::Admin);
    assert!(claims.exp - claims.iat == 300);
}

/// `openapi/openapi.json` is what the code generates (`gavel openapi` rewrites it).
#[test]
fn committed_openapi_document_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    assert_eq!(
        committed,
        gavel::api::document() + "\n",
        "openapi/openapi.json is stale: run `cargo run -- openapi`"
    );
}

/// The committed Socket.IO contract files are what the code generates (`gavel contract`
/// rewrites both): the TypeScript event types and the AsyncAPI document.
#[test]
fn committed_event_types_match_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/client/events.ts");
    let committed = std::fs::read_to_string(path).expect("openapi/client/events.ts is committed");
    assert_eq!(
        committed,
        gavel::contract::typescript::generate(),
        "openapi/client/events.ts is stale: run `cargo run -- contract`"
    );
}

#[test]
fn committed_asyncapi_document_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/asyncapi.json");
    let committed = std::fs::read_to_string(path).expect("openapi/asyncapi.json is committed");
    assert_eq!(
        committed,
        gavel::contract::asyncapi::generate(),
        "openapi/asyncapi.json is stale: run `cargo run -- contract`"
    );
}

/// `gavel contract` writes both files where the drift tests look for them.
#[test]
fn contract_command_writes_both_files() {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gavel"))
        .args(["contract", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let written = |p: &str| std::fs::read_to_string(root.path().join(p)).unwrap();
    assert_eq!(
        written("openapi/client/events.ts"),
        gavel::contract::typescript::generate()
    );
    assert_eq!(
        written("openapi/asyncapi.json"),
        gavel::contract::asyncapi::generate()
    );
}

/// Blocking JSON over HTTP for the durability test (the server is a separate process).
fn call(
    port: u16,
    method: &str,
    path: &str,
    sub: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let token = gavel::auth::JwtKeys::new(SECRET.as_bytes()).mint(
        sub,
        gavel::auth::AccountRole::User,
        Duration::from_secs(300),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .request(
                method.parse().unwrap(),
                format!("http://127.0.0.1:{port}{path}"),
            )
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or_default(),
        )
    })
}

#[cfg(unix)]
#[test]
fn sigkill_during_an_open_lot_loses_nothing_and_the_deadline_is_rearmed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy("https://a.example")).unwrap();
    let mut server = start(dir.path());
    let (status, created) = call(
        server.port,
        "POST",
        "/api/auctions",
        "comm",
        Some(serde_json::json!({
            "name": "durable",
            "settings": {"roster_slots": 1, "bid_secs": 4, "reset_secs": 4},
            "teams": [{"name": "A", "manager": "ann"}, {"name": "B", "manager": "bob"}],
            "players": [{"name": "P0", "rank": 1}, {"name": "P1", "rank": 2}],
        })),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let at = |p: &str| format!("/api/auctions/{id}{p}");
    assert_eq!(
        call(server.port, "POST", &at("/start"), "comm", None).0,
        200
    );
    let (status, opened) = call(
        server.port,
        "POST",
        &at("/lots"),
        "ann",
        Some(serde_json::json!({"player": 0, "opening_bid": 1})),
    );
    assert_eq!(status, 200, "{opened}");
    let mut accepted = Vec::new();
    for (sub, amount) in [("bob", 2), ("ann", 3), ("bob", 7)] {
        let (status, bid) = call(
            server.port,
            "POST",
            &at("/lots/1/bids"),
            sub,
            Some(serde_json::json!({"amount": amount, "client_bid_id": format!("{sub}-{amount}")})),
        );
        assert_eq!(status, 200, "{bid}");
        accepted.push(bid["seq"].as_i64().unwrap());
    }
    let (_, before) = call(server.port, "GET", &at("/state"), "comm", None);
    let lot = before["state"]["phase"]["Bidding"].clone();
    assert_eq!(lot["high_bid"], 7, "{before}");
    let ends_at = lot["ends_at"].as_u64().unwrap();
    assert!(
        ends_at > before["server_now"].as_u64().unwrap(),
        "the lot is open"
    );

    server.child.kill().unwrap(); // SIGKILL: no shutdown code runs
    server.child.wait().unwrap();
    let restarted = start(dir.path());
    let (_, after) = call(restarted.port, "GET", &at("/state"), "comm", None);
    assert_eq!(after["seq"], before["seq"], "every accepted bid survived");
    assert_eq!(after["state"], before["state"]);
    // A retried bid after the restart gets its first answer, not a second bid.
    let (status, again) = call(
        restarted.port,
        "POST",
        &at("/lots/1/bids"),
        "bob",
        Some(serde_json::json!({"amount": 7, "client_bid_id": "bob-7"})),
    );
    assert_eq!(
        (status, again["seq"].as_i64()),
        (200, accepted.last().copied())
    );
    // The re-armed deadline closes the lot; a client resyncs with the events after its seq.
    let last_seen = before["seq"].as_i64().unwrap();
    let after = format!("/api/auctions/{id}/events?after_seq={last_seen}");
    let what = "the re-armed deadline closes the lot";
    let missed = common::eventually_blocking(what, Duration::from_secs(20), || {
        let (_, events) = call(restarted.port, "GET", &after, "comm", None);
        let list = events["events"].as_array().cloned().unwrap_or_default();
        list.iter()
            .any(|e| e["event"]["kind"] == "lot:sold")
            .then_some(list)
    });
    assert_eq!(missed[0]["seq"], last_seen + 1, "gapless after the restart");
    let sold = missed
        .iter()
        .find(|e| e["event"]["kind"] == "lot:sold")
        .unwrap();
    assert_eq!(sold["event"]["team"], 1);
    assert_eq!(sold["event"]["price"], 7);
    let (_, state) = call(restarted.port, "GET", &at("/state"), "comm", None);
    assert!(
        state["server_now"].as_u64().unwrap() >= ends_at,
        "not closed before ends_at"
    );
}
