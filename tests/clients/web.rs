//! The auction-room page (`web/`, served by `gavel serve` at `/`) in headless Chromium, the page
//! on one origin (`http://127.0.0.1:P`) and the API on another (`http://localhost:P`): four
//! browser contexts run an auction to the end, one of them knocked offline for 5 s; from an
//! origin the policy denies, the page says so and the server logs why.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::binary::Server;
use common::clients::{Driven, js_dir, repo};
use serde_json::{Value, json};

const SECRET: &str = "web-test-secret-web-test-secret-web-test";

/// The binary, as operators run it, with JSON logs on stderr.
fn start(policy: &str) -> (Server, tempfile::TempDir) {
    assert!(
        repo().join("web/dist/index.html").exists(),
        "web/dist is missing: run `scripts/test` (or `npm --prefix web ci && npm --prefix web run build`)"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy).unwrap();
    let server = Server::start(&["serve"], |cmd| {
        cmd.env("GAVEL_BIND", "127.0.0.1:0")
            .env("GAVEL_POLICY", dir.path().join("policy.toml"))
            .env("GAVEL_JWT_SECRET", SECRET)
            .env(
                "GAVEL_DATABASE_URL",
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("gavel.db").display()
                ),
            )
            .env("GAVEL_WEB_ROOT", repo().join("web/dist"))
            .env("GAVEL_DEV_OUTBOX", "1")
            .env_remove("GAVEL_SMTP_URL");
    });
    (server, dir)
}

fn policy(allow_page: bool) -> String {
    let mut p = String::from(
        "version = 1\n[cors]\ncredentials = true\nallow_methods = [\"GET\", \"POST\", \"PUT\"]\n\
         allow_headers = [\"authorization\", \"content-type\", \"idempotency-key\"]\n\
         [[allow]]\nname = \"api-host\"\nglob = \"http://localhost:*\"\n\
         [[allow]]\nname = \"same-origin\"\nsame_origin = true\n",
    );
    if allow_page {
        p.push_str("[[allow]]\nname = \"page\"\nglob = \"http://127.0.0.1:*\"\n");
    }
    p
}

fn node(args: &[String]) -> Vec<Value> {
    let dir = js_dir();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("web_room.mjs"))
        .args(args)
        .current_dir(dir);
    Driven::spawn(cmd).finish(Duration::from_secs(180))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_browsers_run_an_auction_across_origins_and_one_survives_an_outage() {
    let (server, _dir) = start(&policy(true));
    let api = format!("http://localhost:{}", server.port);
    let page = format!("http://127.0.0.1:{}", server.port);
    let emails = [
        "comm@example.com",
        "m0@example.com",
        "m1@example.com",
        "m2@example.com",
    ];
    let keys = gavel::auth::JwtKeys::new(SECRET.as_bytes());
    let token = keys.mint(
        emails[0],
        gavel::auth::AccountRole::User,
        Duration::from_secs(600),
    );
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{api}/api/auctions"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "browsers",
            "settings": {"roster_slots": 2, "bid_secs": 3, "reset_secs": 3, "nomination_secs": 60},
            "teams": emails[1..].iter().enumerate().map(|(i, e)| json!({"name": format!("Team {i}"), "manager": e})).collect::<Vec<_>>(),
            "players": (0..8).map(|i| json!({"name": format!("Player {i}"), "rank": i + 1})).collect::<Vec<_>>(),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().expect("created");
    let shots = repo().join("target/web-screenshots");
    let mut args = vec![
        "auction".to_owned(),
        page,
        api.clone(),
        id.to_string(),
        shots.display().to_string(),
    ];
    args.extend(emails.iter().map(|e| e.to_string()));
    let lines = tokio::task::spawn_blocking(move || node(&args))
        .await
        .unwrap();
    let done = lines.iter().find(|l| l["event"] == "done").expect("done");
    assert_eq!(done["lots"], 6, "{done}");
    let rosters = done["rosters"].as_array().unwrap();
    assert!(
        rosters.iter().all(|r| r == &rosters[0]),
        "every page shows the same rosters: {rosters:#?}"
    );
    let seqs = done["seqs"].as_array().unwrap();
    assert!(seqs.iter().all(|s| s == &seqs[0]), "{seqs:?}");
    let state: Value = http
        .get(format!("{api}/api/auctions/{id}/state"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["seq"], seqs[0], "the pages end at the server's seq");
    for (i, team) in state["state"]["teams"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(team["roster"].as_array().unwrap().len(), 2);
        let name = format!("Team {i}");
        assert!(rosters[0].as_str().unwrap().contains(&name));
    }
    let shown = lines
        .iter()
        .find(|l| l["event"] == "indicator-shown")
        .expect("indicator");
    assert!(shown["after_ms"].as_u64().is_some());
    assert!(lines.iter().any(|l| l["event"] == "resynced"), "{lines:#?}");
    let shot = lines.iter().find(|l| l["event"] == "screenshots").unwrap();
    assert_eq!(
        shot["phone_horizontal_overflow_px"], 0,
        "the room fits a phone's width"
    );
    for f in ["room-desktop.png", "room-phone.png"] {
        assert!(
            std::fs::metadata(shots.join(f)).unwrap().len() > 1000,
            "{f}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_denied_origin_the_page_shows_an_error_and_the_server_logs_why() {
    let (server, _dir) = start(&policy(false));
    let api = format!("http://localhost:{}", server.port);
    let page = format!("http://127.0.0.1:{}", server.port);
    let args = vec!["denied".to_owned(), page.clone(), api];
    let lines = tokio::task::spawn_blocking(move || node(&args))
        .await
        .unwrap();
    let shown = lines
        .iter()
        .find(|l| l["event"] == "error-shown")
        .expect("an error");
    let error = shown["error"].as_str().unwrap();
    assert!(error.contains("origin policy"), "{error}");
    assert!(error.contains(&page), "{error}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let logged = loop {
        let line = server
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("no denial of {page} in the server's log"));
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        if v["origin"] == page.as_str() {
            break v;
        }
    };
    assert_eq!(logged["level"], "WARN", "{logged}");
    assert_eq!(logged["reason"], "no-rule-matched", "{logged}");
    assert_eq!(logged["path"], "/api/auth/magic-link", "{logged}");
    assert!(
        logged["message"]
            .as_str()
            .unwrap()
            .contains("origin denied"),
        "{logged}"
    );
}
