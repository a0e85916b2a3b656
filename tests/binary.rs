//! The `gavel` binary as operators run it: start-up, SIGHUP, graceful shutdown, the OpenAPI
//! document.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SECRET: &str = "binary-test-secret-binary-test-secret";

fn policy(origin: &str) -> String {
    format!("version = 1\n[[allow]]\nname = \"only\"\nexact = \"{origin}\"\n")
}

struct Server {
    child: Child,
    port: u16,
    _lines: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path) -> Server {
    let config = dir.join("gavel.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:0\"\npolicy = \"{}\"\nwatch_policy = false\njwt_secret = \"{SECRET}\"\n",
            dir.join("policy.toml").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gavel"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("GAVEL_LOG_FORMAT", "json")
        .env_remove("GAVEL_BIND")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let port = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server logs its address");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if let Some(addr) = v["address"].as_str() {
            break addr.rsplit(':').next().unwrap().parse().unwrap();
        }
    };
    Server {
        child,
        port,
        _lines: rx,
    }
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
    let deadline = Instant::now() + Duration::from_secs(1);
    while status(server.port, "https://b.example") != 200 {
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload within a second"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
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
    assert_eq!(claims.role, gavel::auth::Role::Admin);
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
