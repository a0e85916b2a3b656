//! The auction end to end on a real server backed by a fresh SQLite file and by a fresh
//! PostgreSQL database: a full auction (4 teams × 3 slots) driven through REST, and one through
//! the official `socket.io-client` with a spectator who drops off and resyncs by `seq`; bursts of
//! concurrent bidders over Socket.IO.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::clients::{Driven, js_dir};
use common::{Db, TestApp, policy_allowing};
use gavel::auction::{Auction, AuctionSettings, Command as Cmd, Event, Phase, TeamId};
use gavel::auth::AccountRole;
use gavel::clock::ManualClock;
use gavel::contract::AuctionEvent;
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:5173";
/// Where a test's manual clock starts: any time will do.
const CLOCK_START_MS: u64 = 1_700_000_000_000;

fn token(app: &TestApp, sub: &str) -> String {
    app.keys
        .mint(sub, AccountRole::User, Duration::from_secs(600))
}

fn node(script: &str, args: &[String]) -> Driven {
    let dir = js_dir();
    let mut cmd = Command::new("node");
    cmd.arg(dir.join(script)).args(args).current_dir(dir);
    Driven::spawn(cmd)
}

/// Lots run 2 s after the last bid: long enough for a client's round trip on a loaded machine.
fn settings(slots: u32) -> AuctionSettings {
    AuctionSettings {
        budget: 200,
        roster_slots: slots,
        min_bid: 1,
        increment: 1,
        nomination_ms: 10_000,
        bid_ms: 2_000,
        reset_ms: 2_000,
    }
}

fn players(n: usize) -> Vec<(String, u32)> {
    (0..n).map(|i| (format!("P{i}"), i as u32 + 1)).collect()
}

/// The strategy `auction_full.mjs` plays, run on the pure rules: the nominator opens the best
/// available player at 1; the first team after the nominator with an open slot bids `1 + lot`.
fn simulate(teams: usize, slots: u32) -> (Auction, usize) {
    let names: Vec<String> = (0..teams).map(|i| format!("T{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let pool = players(teams * slots as usize + 2);
    let pool: Vec<(&str, u32)> = pool.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    let mut a = Auction::new(settings(slots), &names, &pool);
    let mut now = 1_000;
    let mut bids = 0;
    a.handle(Cmd::Start, now).unwrap();
    loop {
        match a.phase.clone() {
            Phase::Nominating { nominator, .. } => {
                let player = *a.pool.iter().next().unwrap();
                a.handle(
                    Cmd::Nominate {
                        team: nominator,
                        player,
                        opening_bid: 1,
                    },
                    now,
                )
                .unwrap();
            }
            Phase::Bidding(lot) => {
                let winner = (1..teams)
                    .map(|k| TeamId((lot.nominator.index() + k) % teams))
                    .find(|&t| a.open_slots(t) > 0);
                if let Some(team) = winner {
                    let bid = Cmd::Bid {
                        team,
                        lot: lot.id,
                        amount: 1 + lot.id as u32,
                        expected_version: Some(lot.version),
                    };
                    a.handle(bid, now + 1).unwrap();
                    bids += 1;
                }
                let Phase::Bidding(lot) = &a.phase else {
                    unreachable!()
                };
                now = lot.ends_at;
                a.handle(Cmd::CloseLot, now).unwrap();
            }
            Phase::Completed => return (a, bids),
            other => panic!("unexpected phase {other:?}"),
        }
    }
}

async fn create(app: &TestApp, teams: usize, slots: u32, extra_players: usize) -> i64 {
    let s = settings(slots);
    let body = json!({
        "name": "league",
        "settings": {
            "budget": s.budget, "roster_slots": slots, "nomination_secs": 10, "bid_secs": 2, "reset_secs": 2,
        },
        "teams": (0..teams).map(|i| json!({"name": format!("T{i}"), "manager": format!("m{i}")})).collect::<Vec<_>>(),
        "players": players(teams * slots as usize + extra_players)
            .into_iter()
            .map(|(name, rank)| json!({"name": name, "rank": rank}))
            .collect::<Vec<_>>(),
    });
    let (status, body) = app.call("comm", "POST", "/api/auctions", Some(body)).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// Replays the stored events on the auction as created and compares with the stored state.
async fn assert_replay_matches(app: &TestApp, id: i64, initial: Auction) -> Value {
    let (_, state) = app
        .call("comm", "GET", &format!("/api/auctions/{id}/state"), None)
        .await;
    let (_, events) = app
        .call(
            "comm",
            "GET",
            &format!("/api/auctions/{id}/events?after_seq=0"),
            None,
        )
        .await;
    let mut replayed = initial;
    let list = events["events"].as_array().unwrap();
    for (i, e) in list.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1, "gapless seq in the log");
        let event: AuctionEvent = serde_json::from_value(e["event"].clone()).unwrap();
        let event = Event::from(&event);
        replayed.apply(&event);
    }
    assert_eq!(list.len() as i64, state["seq"].as_i64().unwrap());
    assert_eq!(
        serde_json::to_value(&replayed).unwrap(),
        state["state"],
        "replay == state"
    );
    state
}

async fn full_auction(db: Db) {
    let app = TestApp::builder(&policy_allowing(&[ORIGIN]))
        .watching(false)
        .on(db)
        .spawn()
        .await;
    let (teams, slots) = (4, 3);
    let id = create(&app, teams, slots, 2).await;
    let (status, invitation) = app
        .call(
            "comm",
            "POST",
            &format!("/api/auctions/{id}/invitations"),
            Some(json!({"role": "spectator"})),
        )
        .await;
    assert_eq!(status, 201, "{invitation}");
    let (status, joined) = app
        .call(
            "spec",
            "POST",
            &format!("/api/auctions/{id}/join"),
            Some(json!({"code": invitation["code"]})),
        )
        .await;
    assert_eq!(
        (status, joined["role"].as_str()),
        (200, Some("spectator")),
        "{joined}"
    );

    let managers: Vec<String> = (0..teams).map(|i| token(&app, &format!("m{i}"))).collect();
    let args = vec![
        app.base.clone(),
        ORIGIN.to_owned(),
        id.to_string(),
        token(&app, "comm"),
        token(&app, "spec"),
        serde_json::to_string(&managers).unwrap(),
    ];
    let lines = tokio::task::spawn_blocking(move || {
        node("auction_full.mjs", &args).finish(Duration::from_secs(150))
    })
    .await
    .unwrap();

    let (expected, expected_bids) = simulate(teams, slots);
    let done = lines.iter().find(|l| l["event"] == "done").expect("done");
    assert_eq!(done["sold"], 12, "{lines:#?}");
    assert_eq!(
        done["idempotent_bids"], expected_bids,
        "one bid per retried client_bid_id"
    );

    let names: Vec<String> = (0..teams).map(|i| format!("T{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let pool = players(teams * slots as usize + 2);
    let pool: Vec<(&str, u32)> = pool.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    let state = assert_replay_matches(&app, id, Auction::new(settings(slots), &names, &pool)).await;
    let final_seq = state["seq"].as_i64().unwrap();
    assert_eq!(
        state["state"]["teams"],
        serde_json::to_value(&expected.teams).unwrap(),
        "rosters and budgets as the rules' simulation of the same strategy"
    );

    let members: Vec<&Value> = lines.iter().filter(|l| l["event"] == "member").collect();
    assert_eq!(members.len(), 5);
    for m in &members {
        assert_eq!(m["gapless"], true, "{m}");
        assert_eq!(m["last"], final_seq, "{m}");
        assert_eq!(m["sold"], 12, "every member saw every sale once: {m}");
    }
    let resync = lines
        .iter()
        .find(|l| l["event"] == "spectator-resynced")
        .unwrap();
    assert!(
        resync["rejoined_at"].as_i64() > resync["left_at"].as_i64(),
        "{resync}"
    );

    let (status, results) = app
        .call("spec", "GET", &format!("/api/auctions/{id}/results"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(results["completed"], true);
    let spent: u64 = results["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["spent"].as_u64().unwrap())
        .sum();
    let left: u64 = results["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["budget_left"].as_u64().unwrap())
        .sum();
    assert_eq!(
        spent + left,
        200 * teams as u64,
        "spent + left = total budgets"
    );
    let (status, csv) = app
        .call(
            "spec",
            "GET",
            &format!("/api/auctions/{id}/results.csv"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let csv = csv.as_str().unwrap().to_owned();
    assert_eq!(
        csv.lines().next(),
        Some("team,team_name,player,player_name,price")
    );
    assert_eq!(csv.lines().count(), 13, "{csv}");
    app.finish().await;
}

/// The same strategy as `auction_full.mjs`, played through REST alone (polling the state), on
/// a manual clock: when nothing is left to do on a lot, the test moves the clock to its end.
async fn full_auction_over_rest(db: Db) {
    let clock = ManualClock::starting_at(CLOCK_START_MS);
    let app = TestApp::builder(&policy_allowing(&[ORIGIN]))
        .watching(false)
        .on(db)
        .clock(clock.clone())
        .spawn()
        .await;
    let (teams, slots) = (4usize, 3u32);
    let id = create(&app, teams, 1, 2 + 2 * teams).await;
    let at = |p: &str| format!("/api/auctions/{id}{p}");
    // Settings can change in the lobby (here: back to three slots), by the commissioner only.
    let new = json!({"budget": 200, "roster_slots": slots, "nomination_secs": 10, "bid_secs": 2, "reset_secs": 2});
    assert_eq!(
        app.call("m0", "PUT", &at("/settings"), Some(new.clone()))
            .await
            .0,
        403
    );
    let (status, changed) = app.call("comm", "PUT", &at("/settings"), Some(new)).await;
    assert_eq!(status, 200, "{changed}");
    let (status, summary) = app.call("m1", "GET", &at(""), None).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (
            summary["phase"].as_str(),
            summary["settings"]["roster_slots"].as_u64()
        ),
        (Some("lobby"), Some(3))
    );
    assert_eq!(app.call("comm", "POST", &at("/start"), None).await.0, 200);
    let mut bids = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the auction did not finish"
        );
        let (_, state) = app.call("comm", "GET", &at("/state"), None).await;
        let phase = &state["state"]["phase"];
        if phase == "Completed" {
            break;
        }
        if let Some(n) = phase["Nominating"]["nominator"].as_u64() {
            let player = state["state"]["pool"][0].as_u64().unwrap();
            let (status, body) = app
                .call(
                    &format!("m{n}"),
                    "POST",
                    &at("/lots"),
                    Some(json!({"player": player, "opening_bid": 1})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        } else if let Some(lot) = phase.get("Bidding") {
            let filled: Vec<usize> = state["state"]["teams"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["roster"].as_array().unwrap().len())
                .collect();
            let nominator = lot["nominator"].as_u64().unwrap() as usize;
            let winner = (1..teams)
                .map(|k| (nominator + k) % teams)
                .find(|&t| filled[t] < slots as usize);
            if lot["version"] != 1 || winner.is_none() {
                // Nothing more to bid: the lot's clock runs out, and the timer closes it.
                clock.set_ms(lot["ends_at"].as_u64().unwrap());
            }
            if lot["version"] == 1
                && let Some(w) = winner
            {
                let lot_id = lot["id"].as_u64().unwrap();
                let bid = json!({"amount": 1 + lot_id, "expected_version": 1});
                let path = at(&format!("/lots/{lot_id}/bids"));
                let first = app
                    .client
                    .post(app.url(&path))
                    .bearer_auth(token(&app, &format!("m{w}")))
                    .header("Idempotency-Key", format!("rest-{lot_id}"))
                    .json(&bid)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(first.status(), 200);
                let first: Value = first.json().await.unwrap();
                // A retry with the same key: the first answer, no second bid.
                let again: Value = app
                    .client
                    .post(app.url(&path))
                    .bearer_auth(token(&app, &format!("m{w}")))
                    .header("Idempotency-Key", format!("rest-{lot_id}"))
                    .json(&bid)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(first["seq"], again["seq"]);
                bids += 1;
            }
        }
        // Wait for the next change (the timer closing the lot): poll the state's seq.
        let seq = state["seq"].as_i64().unwrap();
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        common::eventually(&format!("a change after seq {seq}"), left, || async {
            let (_, now) = app.call("comm", "GET", &at("/state"), None).await;
            now["seq"].as_i64().unwrap() > seq || now["state"]["phase"] != *phase
        })
        .await;
    }
    let (expected, expected_bids) = simulate(teams, slots);
    assert_eq!(bids, expected_bids);
    let names: Vec<String> = (0..teams).map(|i| format!("T{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let pool = players(2 + 3 * teams);
    let pool: Vec<(&str, u32)> = pool.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    let state = assert_replay_matches(&app, id, Auction::new(settings(1), &names, &pool)).await;
    assert_eq!(
        state["state"]["teams"],
        serde_json::to_value(&expected.teams).unwrap(),
        "rosters and budgets as the rules' simulation of the same strategy"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_auction_over_rest_on_sqlite() {
    full_auction_over_rest(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_auction_over_rest_on_postgres() {
    full_auction_over_rest(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_auction_over_socket_io_on_sqlite() {
    full_auction(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_auction_over_socket_io_on_postgres() {
    full_auction(Db::Postgres).await;
}

/// N managers bid at once on every lot; every client must have seen the same gapless events.
async fn bursts(db: Db, n: usize, lots: u64) {
    let app = TestApp::builder(&policy_allowing(&[ORIGIN]))
        .watching(false)
        .on(db)
        .spawn()
        .await;
    let slots = 2;
    let id = create(&app, n, slots, 2).await;
    let managers: Vec<String> = (0..n).map(|i| token(&app, &format!("m{i}"))).collect();
    let args = vec![
        app.base.clone(),
        ORIGIN.to_owned(),
        id.to_string(),
        token(&app, "comm"),
        serde_json::to_string(&managers).unwrap(),
        lots.to_string(),
    ];
    let lines = tokio::task::spawn_blocking(move || {
        node("auction_burst.mjs", &args).finish(Duration::from_secs(250))
    })
    .await
    .unwrap();
    let done = lines.iter().find(|l| l["event"] == "done").expect("done");
    assert_eq!(done["errors"], json!([]), "no server errors: {done}");
    assert_eq!(
        done["idempotent"], true,
        "a retried client_bid_id got its first answer"
    );
    let clients: Vec<&Value> = lines.iter().filter(|l| l["event"] == "client").collect();
    assert_eq!(clients.len(), n);
    let names: Vec<String> = (0..n).map(|i| format!("T{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let pool = players(n * slots as usize + 2);
    let pool: Vec<(&str, u32)> = pool.iter().map(|(p, r)| (p.as_str(), *r)).collect();
    let state = assert_replay_matches(&app, id, Auction::new(settings(slots), &names, &pool)).await;
    let (_, events) = app
        .call("comm", "GET", &format!("/api/auctions/{id}/events"), None)
        .await;
    let events = events["events"].as_array().unwrap().clone();
    let sold: Vec<u64> = events
        .iter()
        .filter(|e| e["event"]["kind"] == "lot:sold")
        .map(|e| e["event"]["lot"].as_u64().unwrap())
        .collect();
    assert_eq!(
        sold,
        (1..=lots).collect::<Vec<_>>(),
        "exactly one sale per lot"
    );
    // Accepted amounts per lot strictly increase in the log (so no amount is accepted twice).
    for lot in 1..=lots {
        let amounts: Vec<u64> = events
            .iter()
            .filter(|e| e["event"]["kind"] == "bid:accepted" && e["event"]["lot"] == lot)
            .map(|e| e["event"]["amount"].as_u64().unwrap())
            .collect();
        assert!(
            amounts.windows(2).all(|w| w[0] < w[1]),
            "lot {lot}: {amounts:?}"
        );
        // The bid history has every bid decided: the accepted ones as in the log, the refused
        // ones with their reason.
        let (status, page) = app
            .call(
                "m0",
                "GET",
                &format!("/api/auctions/{id}/lots/{lot}/bids?limit=500"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        assert!(page.get("next").is_none(), "one page holds this lot's bids");
        let history = page["bids"].as_array().unwrap();
        let accepted: Vec<u64> = history
            .iter()
            .filter(|b| b["accepted"] == true)
            .map(|b| b["amount"].as_u64().unwrap())
            .collect();
        assert_eq!(accepted, amounts, "lot {lot}");
        assert!(
            history
                .iter()
                .filter(|b| b["accepted"] == false)
                .all(|b| b["reason"].is_string()),
            "lot {lot}: {history:?}"
        );
        assert!(
            history.len() > accepted.len(),
            "refused bids are kept too (lot {lot})"
        );
    }
    let accepted_in_log = events
        .iter()
        .filter(|e| e["event"]["kind"] == "bid:accepted")
        .count();
    for c in &clients {
        assert_eq!(c["gapless"], true, "{c}");
        assert_eq!(c["increasing"], true, "{c}");
        assert_eq!(c["last"], state["seq"], "{c}");
        assert_eq!(
            c["hash"], clients[0]["hash"],
            "every client saw the same events: {c}"
        );
        assert_eq!(c["accepted"], accepted_in_log as u64, "{c}");
        assert_eq!(c["sold_lots"], json!((1..=lots).collect::<Vec<_>>()), "{c}");
    }
    eprintln!(
        "burst n={n}: {} bid acks, {} accepted bids, refusals {}",
        done["acks"], accepted_in_log, done["refused_kinds"]
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_3_12_and_50_bidders_on_sqlite() {
    for n in [3, 12, 50] {
        bursts(Db::Sqlite, n, 4).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_3_12_and_50_bidders_on_postgres() {
    for n in [3, 12, 50] {
        bursts(Db::Postgres, n, 4).await;
    }
}
