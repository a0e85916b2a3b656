//! Issue 9, row 6, against the real `gavel` binary with the official socket.io-client: a
//! manager's flood of `bid:place` is answered `rate_limited`, ends in a disconnect, and writes
//! a bounded number of rows while another member's `time:sync` keeps answering; a 1 MiB
//! `client_bid_id` and other malformed commands are refused as `bad_request` and write nothing.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::binary::{self, Server};
use common::clients::{Driven, js_dir};
use gavel::auth::{AccountRole, JwtKeys};
use gavel::db::entities::{command_results, refused_bids};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const SECRET: &str = "commands-test-secret-commands-test-secret";
const ORIGIN: &str = "http://localhost:5173";
/// The defaults of `stored_refusals_per_lot` and `rate_limited_before_disconnect`.
const STORED_REFUSALS_PER_LOT: u64 = 20;
const RATE_LIMITED_BEFORE_DISCONNECT: u64 = 200;

fn token(sub: &str) -> String {
    JwtKeys::new(SECRET.as_bytes()).mint(sub, AccountRole::User, Duration::from_secs(600))
}

/// The binary on a fresh SQLite file in `dir`, with `limits` as the config's `[limits]` table.
fn start(dir: &Path, limits: &str) -> Server {
    binary::serve_in(
        dir,
        &format!("version = 1\n[[allow]]\nname = \"web\"\nexact = \"{ORIGIN}\"\n"),
        &format!(
            "watch_policy = false\njwt_secret = \"{SECRET}\"\ndatabase_url = \"{}\"\n\
             [limits]\n{limits}",
            binary::sqlite_in(dir)
        ),
        |_| {},
    )
}

fn db_file(dir: &Path) -> PathBuf {
    dir.join("gavel.db")
}

/// The database's size on disk: the file and its write-ahead log.
fn db_bytes(dir: &Path) -> u64 {
    ["gavel.db", "gavel.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// Rows of `refused_bids` and `command_results`, counted in the SQLite file itself.
async fn rows(dir: &Path) -> (u64, u64) {
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", db_file(dir).display()))
        .await
        .unwrap();
    let refused = refused_bids::Entity::find()
        .filter(refused_bids::Column::Lot.eq(1))
        .count(&db)
        .await
        .unwrap();
    let results = command_results::Entity::find().count(&db).await.unwrap();
    db.close().await.unwrap();
    (refused, results)
}

async fn call(port: u16, sub: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .request(
            method.parse().unwrap(),
            format!("http://127.0.0.1:{port}{path}"),
        )
        .bearer_auth(token(sub))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// An auction of Ann's team and Bob's whose lot 1 is open for minutes, Ann high at 1; its id.
async fn open_lot(port: u16) -> i64 {
    let (status, created) = call(
        port,
        "comm",
        "POST",
        "/api/auctions",
        json!({
            "name": "flood",
            "settings": {"roster_slots": 1, "bid_secs": 600, "reset_secs": 10},
            "teams": [{"name": "A", "manager": "ann"}, {"name": "B", "manager": "bob"}],
            "players": [{"name": "P0", "rank": 1}, {"name": "P1", "rank": 2}],
        }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let at = |p: &str| format!("/api/auctions/{id}{p}");
    assert_eq!(
        call(port, "comm", "POST", &at("/start"), json!({})).await.0,
        200
    );
    let nominate = json!({"player": 0, "opening_bid": 1});
    let (status, body) = call(port, "ann", "POST", &at("/lots"), nominate).await;
    assert_eq!(status, 200, "{body}");
    id
}

fn node(args: Vec<String>) -> Driven {
    let dir = js_dir();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join("commands_flood.mjs"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped());
    Driven::spawn(cmd)
}

fn node_args(mode: &str, port: u16, id: i64, rest: &[String]) -> Vec<String> {
    let mut args = vec![
        mode.to_owned(),
        format!("http://127.0.0.1:{port}"),
        ORIGIN.to_owned(),
        id.to_string(),
    ];
    args.extend_from_slice(rest);
    args
}

async fn drive(args: Vec<String>) -> Vec<Value> {
    tokio::task::spawn_blocking(move || node(args).finish(Duration::from_secs(150)))
        .await
        .unwrap()
}

/// The server's log lines that contain `text`, read until `deadline` once one has come.
fn logged(server: &Server, text: &str, deadline: Duration) -> usize {
    let until = Instant::now() + deadline;
    let mut seen = 0;
    while let Ok(line) = server
        .lines
        .recv_timeout(until.saturating_duration_since(Instant::now()))
    {
        seen += usize::from(line.contains(text));
        if seen > 0 && server.lines.try_recv().is_err() {
            break;
        }
    }
    seen + server.lines.try_iter().filter(|l| l.contains(text)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bids_is_rate_limited_cut_off_and_stores_a_bounded_number_of_rows() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "");
    let id = open_lot(server.port).await;
    let before = db_bytes(dir.path());
    // Ann watches the clock from a process of her own while Bob floods.
    let watch_args = node_args("watch", server.port, id, &[token("ann")]);
    let mut watcher = tokio::task::spawn_blocking(move || {
        let mut w = node(watch_args);
        w.expect_event("watching", Duration::from_secs(20));
        w
    })
    .await
    .unwrap();
    let flood_args = node_args("flood", server.port, id, &[token("bob"), "10000".into()]);
    let lines = drive(flood_args).await;
    let after = db_bytes(dir.path());
    drop(watcher.child.stdin.take());
    let watched = tokio::task::spawn_blocking(move || watcher.finish(Duration::from_secs(20)))
        .await
        .unwrap();
    let flood = lines.iter().find(|l| l["event"] == "flood").unwrap();
    let sync = watched.iter().find(|l| l["event"] == "sync").unwrap();
    let kinds = &flood["kinds"];
    let rate_limited = kinds["rate_limited"].as_u64().unwrap_or(0);
    let outbid = kinds["outbid"].as_u64().unwrap_or(0);
    let answered = flood["answered"].as_u64().unwrap();
    eprintln!(
        "flood: {flood}\nsync: {sync}\ndatabase + WAL: {before} -> {after} bytes (+{})",
        after - before
    );
    assert_eq!(flood["disconnect"], "io server disconnect", "{flood}");
    assert!(
        rate_limited >= RATE_LIMITED_BEFORE_DISCONNECT,
        "the run that ends the socket was answered rate_limited: {flood}"
    );
    assert_eq!(
        answered,
        rate_limited + outbid,
        "only refusals by rate or by the rules: {flood}"
    );
    assert!(
        outbid > 0 && outbid < rate_limited,
        "a burst got through, most were rate-limited: {flood}"
    );
    let (refused_rows, result_rows) = rows(dir.path()).await;
    // Every refusal the client was answered is stored, up to the bound; one more may be stored
    // whose answer the disconnect cut off.
    assert!(
        refused_rows >= outbid.min(STORED_REFUSALS_PER_LOT)
            && refused_rows <= STORED_REFUSALS_PER_LOT,
        "refused bids stored up to the bound: {refused_rows} rows, {outbid} answered outbid"
    );
    assert_eq!(
        result_rows, refused_rows,
        "and the answers to their retries"
    );
    assert!(
        after - before < 1024 * 1024,
        "the flood grew the database by {} bytes",
        after - before
    );
    assert_eq!(
        sync["failed"], 0,
        "another member's time:sync kept answering: {sync}"
    );
    assert!(sync["n"].as_u64().unwrap() >= 10, "{sync}");
    assert_eq!(sync["still_connected"], true, "{sync}");
    let warnings = logged(
        &server,
        "disconnecting a socket that kept sending events over its rate limit",
        Duration::from_secs(10),
    );
    assert_eq!(warnings, 1, "the disconnect is logged once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mebibyte_client_bid_id_and_other_malformed_commands_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Engine.IO lets a 1 MiB message through here, so the command's own bounds are what refuse
    // it (by default the transport's `max_payload` of 100 kB closes the connection first).
    let server = start(
        dir.path(),
        "max_payload = 2097152\nevent_burst = 100\nmember_event_burst = 100",
    );
    let id = open_lot(server.port).await;
    let before = db_bytes(dir.path());
    let lines = drive(node_args(
        "bad-input",
        server.port,
        id,
        &[token("bob"), "50".into()],
    ))
    .await;
    let after = db_bytes(dir.path());
    eprintln!(
        "50 x 1 MiB client_bid_id: database + WAL {before} -> {after} bytes (+{})",
        after - before
    );
    let acks: Vec<(&str, &Value)> = lines
        .iter()
        .filter(|l| l["event"] == "ack")
        .map(|l| (l["case"].as_str().unwrap(), &l["ack"]))
        .collect();
    assert_eq!(acks.len(), 57, "{lines:#?}");
    for (case, ack) in &acks {
        if *case == "valid" {
            assert_eq!(ack["ok"], true, "{ack}");
            continue;
        }
        assert_eq!(ack["ok"], false, "{case}: {ack}");
        assert_eq!(ack["error"]["type"], "bad_request", "{case}: {ack}");
        let detail = ack["error"]["detail"].as_str().unwrap();
        assert!(
            detail.len() <= 250,
            "{case}: a {}-byte detail",
            detail.len()
        );
        assert!(!detail.contains("xxxxxxxxxx"), "{case}: {detail}");
    }
    let detail = |case: &str| {
        acks.iter().find(|(c, _)| *c == case).unwrap().1["error"]["detail"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(detail("mib-client-id").contains("at most 16384 bytes"));
    assert!(detail("long-client-id").contains("at most 200 bytes"));
    assert!(detail("space-client-id").contains("visible ASCII"));
    assert_eq!(detail("unknown-event"), "no such event");
    let (refused_rows, result_rows) = rows(dir.path()).await;
    assert_eq!(
        (refused_rows, result_rows),
        (0, 1),
        "only the valid bid left a row"
    );
    // One accepted bid writes a few pages; 50 MiB of ids wrote nothing.
    assert!(
        after - before < 128 * 1024,
        "grew by {} bytes",
        after - before
    );
}
