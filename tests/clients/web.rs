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

fn draft(page: String, shots: &std::path::Path) -> Vec<Value> {
    let dir = js_dir();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("web_draft.mjs"))
        .arg(page)
        .arg(shots)
        .current_dir(dir);
    Driven::spawn(cmd).finish(Duration::from_secs(420))
}

fn found<'a>(lines: &'a [Value], event: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["event"] == event)
        .unwrap_or_else(|| panic!("no `{event}` line in {lines:#?}"))
}

/// The screens axe-core and the screenshots must cover.
const SCREENS: [&str; 7] = [
    "sign-in",
    "home",
    "create",
    "lobby",
    "room-bidding",
    "room-paused",
    "results",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commissioner_sets_up_and_runs_a_whole_draft_from_the_page_alone() {
    let (server, _dir) = start(&policy(true));
    let page = format!("http://127.0.0.1:{}", server.port);
    let shots = repo().join("target/web-screenshots");
    let lines = tokio::task::spawn_blocking(move || draft(page, &shots))
        .await
        .unwrap();
    let shots = repo().join("target/web-screenshots");
    for screen in SCREENS {
        let axe = lines
            .iter()
            .find(|l| l["event"] == "axe" && l["screen"] == screen)
            .unwrap_or_else(|| panic!("axe never ran on {screen}"));
        assert_eq!(axe["serious"], json!([]), "{screen}: {axe}");
        let shot = lines
            .iter()
            .find(|l| l["event"] == "screenshot" && l["screen"] == screen)
            .unwrap_or_else(|| panic!("no screenshot of {screen}"));
        assert_eq!(
            shot["phone_overflow_px"], 0,
            "{screen} fits a phone: {shot}"
        );
        for size in ["desktop", "phone"] {
            let file = shots.join(format!("{screen}-{size}.png"));
            assert!(std::fs::metadata(&file).unwrap().len() > 1000, "{file:?}");
        }
    }
    let links = found(&lines, "links")["links"].as_array().unwrap().clone();
    assert_eq!(links.len(), 3);
    assert!(
        links
            .iter()
            .all(|l| l.as_str().unwrap().contains("invite="))
    );
    assert_eq!(found(&lines, "joined")["others_emails_seen"], 0);
    let chat = found(&lines, "chat");
    assert_eq!(
        chat["markup_elements"], 0,
        "chat text is never HTML: {chat}"
    );
    assert_eq!(chat["kept"], 1, "the deleted message is gone: {chat}");
    let keyboard = found(&lines, "keyboard-bid");
    assert!(keyboard["amount"].as_u64().unwrap() >= 2, "{keyboard}");
    let reloaded = found(&lines, "reloaded");
    assert!(reloaded["log_after"].as_u64() >= reloaded["log_before"].as_u64());
    assert!(reloaded["log_before"].as_u64().unwrap() >= 5, "{reloaded}");
    assert!(reloaded["bids_after"].as_u64().unwrap() >= 1, "{reloaded}");
    assert_eq!(reloaded["chat_after"], 1, "chat replayed: {reloaded}");
    let done = found(&lines, "done");
    assert_eq!(done["same_board"], true, "{done}");
    assert_eq!(
        done["lots"], 10,
        "9 sales and one resold after its void: {done}"
    );
    check_results_csv(&lines, &server.port).await;
}

/// The downloaded CSV is the server's results: 3 teams × 3 players, the edited price kept and
/// the voided sale replaced by its resale.
async fn check_results_csv(lines: &[Value], port: &u16) {
    let csv = found(lines, "csv");
    assert!(csv["name"].as_str().unwrap().ends_with(".csv"), "{csv}");
    let text = csv["csv"].as_str().unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "team,team_name,player,player_name,price", "{text}");
    assert_eq!(rows.len(), 10, "{text}");
    let edited = found(lines, "edited-and-voided");
    let price = edited["edited_price"].as_u64().unwrap().to_string();
    assert!(
        rows[1..].iter().any(|r| r.ends_with(&format!(",{price}"))),
        "{text} {edited}"
    );
    let token = gavel::auth::JwtKeys::new(SECRET.as_bytes()).mint(
        "commissioner@example.com",
        gavel::auth::AccountRole::User,
        Duration::from_secs(60),
    );
    let served = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/api/auctions/1/results.csv"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, text, "the download is the server's CSV");
}

/// A bare clone serves the page with no Node toolchain: the build committed in `web/dist` is
/// compiled into the binary, and a `GAVEL_WEB_ROOT` that does not exist falls back to it.
#[tokio::test]
async fn the_page_is_built_into_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), policy(false)).unwrap();
    let server = Server::start(&["serve"], |cmd| {
        cmd.env("GAVEL_BIND", "127.0.0.1:0")
            .env("GAVEL_POLICY", dir.path().join("policy.toml"))
            .env("GAVEL_JWT_SECRET", SECRET)
            .env(
                "GAVEL_DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display()),
            )
            .env("GAVEL_WEB_ROOT", dir.path().join("no-such-dir"))
            .current_dir(dir.path()); // no web/dist beside it either
    });
    let base = format!("http://127.0.0.1:{}", server.port);
    let index = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(
        index.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = index.text().await.unwrap();
    let committed = std::fs::read_to_string(repo().join("web/dist/index.html")).unwrap();
    assert_eq!(html, committed, "the embedded page is the committed build");
    let script = html
        .split("src=\"./")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page loads a script");
    let js = reqwest::get(format!("{base}/{script}")).await.unwrap();
    assert_eq!(js.status(), 200, "{script}");
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(
        js.bytes().await.unwrap(),
        std::fs::read(repo().join("web/dist").join(script)).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_member_is_told_how_to_get_in_tabs_share_a_sign_in_and_sign_out_revokes_it() {
    let (server, _dir) = start(&policy(true));
    let page = format!("http://127.0.0.1:{}", server.port);
    let token = gavel::auth::JwtKeys::new(SECRET.as_bytes()).mint(
        "owner@example.com",
        gavel::auth::AccountRole::User,
        Duration::from_secs(600),
    );
    let created: Value = reqwest::Client::new()
        .post(format!("{page}/api/auctions"))
        .bearer_auth(&token)
        .json(&json!({"name": "private", "teams": [{"name": "A"}, {"name": "B"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().expect("created").to_string();
    let dir = js_dir();
    let lines = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("web_session.mjs"))
            .arg(page)
            .arg(id)
            .current_dir(dir);
        Driven::spawn(cmd).finish(Duration::from_secs(120))
    })
    .await
    .unwrap();
    let guidance = found(&lines, "not-member");
    let text = guidance["text"].as_str().unwrap();
    assert!(text.contains("not a member"), "{text}");
    assert!(text.contains("invitation link"), "{text}");
    assert_eq!(guidance["serious"], json!([]), "{guidance}");
    assert_eq!(found(&lines, "second-tab")["signed_in"], true);
    let out = found(&lines, "signed-out");
    assert_eq!(out["tokens_left"], 0, "{out}");
    assert_eq!(
        out["refresh_after"], 401,
        "the refresh token is revoked: {out}"
    );
}
