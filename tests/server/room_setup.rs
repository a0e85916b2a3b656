//! Setting a room up over REST against a real server: players with a position and a team/bye
//! field (JSON and CSV, bad input naming its index or line and changing nothing), members seen
//! by name with emails shown only to the commissioner, display names, and `/api/me` listing a
//! user's auctions with their names and phases.

use crate::common;

use std::time::Duration;

use common::{TestApp, policy_allowing, spawn_app};
use gavel::auth::AccountRole;
use serde_json::{Value, json};

const COMM: &str = "cora@example.com";
const ANN: &str = "ann@example.com";
const BOB: &str = "bob@example.com";
const SAM: &str = "sam@example.com";

async fn app() -> TestApp {
    spawn_app(&policy_allowing(&["https://app.example"])).await
}

/// Creates an auction as `COMM` from `body`; its id.
async fn create(app: &TestApp, body: Value) -> i64 {
    let (status, created) = app.call(COMM, "POST", "/api/auctions", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().unwrap()
}

/// `POST …/players` with a CSV body.
async fn import_csv(app: &TestApp, id: i64, csv: &str) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url(&format!("/api/auctions/{id}/players")))
        .bearer_auth(
            app.keys
                .mint(COMM, AccountRole::User, Duration::from_secs(300)),
        )
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn state(app: &TestApp, sub: &str, id: i64) -> Value {
    let (status, state) = app
        .call(sub, "GET", &format!("/api/auctions/{id}/state"), None)
        .await;
    assert_eq!(status, 200, "{state}");
    state
}

fn assert_problem(answer: &(u16, Value), status: u16, kind: &str, mentions: &[&str]) {
    let (got, body) = answer;
    assert_eq!(
        (*got, body["type"].as_str()),
        (status, Some(format!("/problems/{kind}").as_str())),
        "{body}"
    );
    let detail = body["detail"].as_str().unwrap();
    for m in mentions {
        assert!(detail.contains(m), "{detail:?} names {m:?}");
    }
}

#[tokio::test]
async fn players_carry_a_position_and_a_team_bye_and_a_bad_one_names_its_index() {
    let app = app().await;
    let teams = json!([{"name": "A"}, {"name": "B"}]);
    let long = "x".repeat(11);
    let bad = app
        .call(
            COMM,
            "POST",
            "/api/auctions",
            Some(json!({"name": "x", "teams": teams, "players": [
                {"name": "Allen", "rank": 1},
                {"name": "Kelce", "rank": 2, "position": long},
            ]})),
        )
        .await;
    assert_problem(&bad, 400, "invalid_players", &["players[1]", "position"]);

    let id = create(
        &app,
        json!({"name": "pool", "teams": teams, "players": [
            {"name": "Allen", "rank": 1, "position": "  QB ", "team_bye": "BUF (7)"},
            {"name": "Kelce", "rank": 2, "position": "", "team_bye": "   "},
            {"name": "Hill", "rank": 3},
        ]}),
    )
    .await;
    let players = &state(&app, COMM, id).await["state"]["players"];
    assert_eq!(
        players[0],
        json!({"name": "Allen", "rank": 1, "position": "QB", "team_bye": "BUF (7)"}),
        "trimmed"
    );
    assert_eq!(
        players[1],
        json!({"name": "Kelce", "rank": 2, "position": null, "team_bye": null}),
        "empty is absent, written as null"
    );
    assert_eq!(players[2]["position"], Value::Null);
}

#[tokio::test]
async fn a_csv_import_reads_position_and_team_bye_columns_and_a_bad_line_changes_nothing() {
    let app = app().await;
    let id = create(
        &app,
        json!({"name": "pool", "teams": [{"name": "A"}, {"name": "B"}], "players": [
            {"name": "Allen", "rank": 1, "position": "QB"},
        ]}),
    )
    .await;
    // Columns by any of their names, in any case and order; unknown ones ignored.
    let (status, body) = import_csv(
        &app,
        id,
        "Rank,NAME,Pos,Team,ADP\n4,Chase,WR,CIN (12),3.1\n5,Bijan,,,\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let event = &body["events"][0]["event"];
    assert_eq!(event["kind"], "pool:updated");
    assert_eq!(event["players"][0]["position"], "WR");
    assert_eq!(event["players"][0]["team_bye"], "CIN (12)");
    let (status, body) = import_csv(
        &app,
        id,
        "name,rank,position,team_bye\nMcCaffrey,6,RB,SF (9)\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let before = state(&app, COMM, id).await;
    let too_long = "y".repeat(41);
    let bad_line = import_csv(
        &app,
        id,
        &format!("name,rank,team_bye\nLamb,7,DAL (7)\nHurts,8,{too_long}\n"),
    )
    .await;
    assert_problem(
        &bad_line,
        400,
        "invalid_players",
        &["line 3", "team_bye", "40"],
    );
    let bad_rank = import_csv(&app, id, "name,rank\nLamb,first\n").await;
    assert_problem(&bad_rank, 400, "invalid_players", &["line 2", "rank"]);
    let no_rank = import_csv(&app, id, "name,position\nLamb,WR\n").await;
    assert_problem(&no_rank, 400, "invalid_players", &["`rank`"]);
    let after = state(&app, COMM, id).await;
    assert_eq!(
        (&after["seq"], &after["state"]),
        (&before["seq"], &before["state"]),
        "a refused import changes nothing"
    );

    let players = &state(&app, COMM, id).await["state"]["players"];
    let positions: Vec<&Value> = players
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["position"])
        .collect();
    assert_eq!(
        positions,
        [&json!("QB"), &json!("WR"), &Value::Null, &json!("RB")]
    );
}

/// An invitation code for `role` (and `team`), from the commissioner.
async fn invite(app: &TestApp, id: i64, body: Value) -> String {
    let (status, invitation) = app
        .call(
            COMM,
            "POST",
            &format!("/api/auctions/{id}/invitations"),
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{invitation}");
    invitation["code"].as_str().unwrap().to_owned()
}

async fn members(app: &TestApp, sub: &str, id: i64) -> Value {
    let (status, list) = app
        .call(sub, "GET", &format!("/api/auctions/{id}/members"), None)
        .await;
    assert_eq!(status, 200, "{list}");
    list
}

/// A room of Cora (commissioner, named), Ann (manages Sharks), Bob (joins for Jets without a
/// name) and Sam (spectator, joins named).
async fn room(app: &TestApp) -> i64 {
    let id = create(
        app,
        json!({"name": "League", "commissioner_name": " Cora ",
               "teams": [{"name": "Sharks", "manager": ANN}, {"name": "Jets"}]}),
    )
    .await;
    let code = invite(app, id, json!({"role": "spectator"})).await;
    let (status, sam) = app
        .call(
            SAM,
            "POST",
            &format!("/api/auctions/{id}/join"),
            Some(json!({"code": code, "display_name": " Sam "})),
        )
        .await;
    assert_eq!(status, 200, "{sam}");
    assert_eq!(
        sam,
        json!({"name": "Sam", "role": "spectator", "sub": SAM}),
        "the caller's own sub"
    );
    let code = invite(app, id, json!({"role": "manager", "team": 1})).await;
    let (status, bob) = app
        .call(
            BOB,
            "POST",
            &format!("/api/auctions/{id}/join"),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(status, 200, "{bob}");
    assert_eq!(
        bob,
        json!({"name": "Jets", "role": "manager", "team": 1, "sub": BOB}),
        "named after the team"
    );
    id
}

#[tokio::test]
async fn members_see_names_and_only_the_commissioner_sees_emails() {
    let app = app().await;
    let id = room(&app).await;
    let names = json!(["Cora", "Sharks", "Sam", "Jets"]);

    let seen_by_commissioner = members(&app, COMM, id).await;
    let subs: Vec<&Value> = seen_by_commissioner
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["sub"])
        .collect();
    assert_eq!(
        subs,
        [&json!(COMM), &json!(ANN), &json!(SAM), &json!(BOB)],
        "{seen_by_commissioner}"
    );

    for (viewer, own) in [(SAM, 2), (ANN, 1), (BOB, 3)] {
        let list = members(&app, viewer, id).await;
        let entries = list.as_array().unwrap();
        let shown: Vec<&Value> = entries.iter().map(|m| &m["name"]).collect();
        assert_eq!(json!(shown), names, "{viewer}: {list}");
        for (i, m) in entries.iter().enumerate() {
            assert_eq!(
                m.get("sub").is_some(),
                i == own,
                "{viewer} sees only their own sub: {list}"
            );
        }
        let others = [COMM, ANN, BOB, SAM].into_iter().filter(|s| *s != viewer);
        for email in others {
            assert!(
                !list.to_string().contains(email),
                "{viewer} sees {email}: {list}"
            );
        }
    }
    assert_eq!(
        seen_by_commissioner[1],
        json!({"name": "Sharks", "role": "manager", "team": 0, "sub": ANN})
    );

    for path in ["", "/state"] {
        let (status, body) = app
            .call(SAM, "GET", &format!("/api/auctions/{id}{path}"), None)
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["commissioner_name"], "Cora", "{path}: {body}");
        assert!(body.get("commissioner").is_none(), "{path}: {body}");
        assert!(!body.to_string().contains(COMM), "{path}: {body}");
    }
}

#[tokio::test]
async fn display_names_are_checked_and_any_member_sets_their_own() {
    let app = app().await;
    let id = room(&app).await;
    let me = format!("/api/auctions/{id}/members/me");
    let set = |sub: &'static str, name: Value| {
        app.call(sub, "PUT", &me, Some(json!({"display_name": name})))
    };

    let (status, ann) = set(ANN, json!(" Annie  ")).await;
    assert_eq!(status, 200, "{ann}");
    assert_eq!(
        ann,
        json!({"name": "Annie", "role": "manager", "team": 0, "sub": ANN})
    );
    let (status, sam) = set(SAM, json!("é".repeat(40))).await;
    assert_eq!(
        (status, sam["name"].as_str().map(|n| n.chars().count())),
        (200, Some(40)),
        "{sam}"
    );

    for bad in [
        json!("   "),
        json!("x".repeat(41)),
        json!("Ann\u{0}ie"),
        json!("Ann\nie"),
    ] {
        let answer = set(ANN, bad.clone()).await;
        assert_problem(&answer, 400, "invalid_name", &["display name"]);
    }
    let answer = set("eve@example.com", json!("Eve")).await;
    assert_problem(&answer, 403, "forbidden", &["not a member"]);
    let list = members(&app, BOB, id).await;
    assert_eq!(
        list[1]["name"], "Annie",
        "refused names changed nothing: {list}"
    );

    // At creation and when joining, a bad name is refused before anything is stored.
    let bad = app
        .call(
            COMM,
            "POST",
            "/api/auctions",
            Some(json!({"name": "x", "commissioner_name": "",
            "teams": [{"name": "A"}, {"name": "B"}]})),
        )
        .await;
    assert_problem(&bad, 400, "invalid_name", &[]);
    let code = invite(&app, id, json!({"role": "spectator"})).await;
    let join = format!("/api/auctions/{id}/join");
    let bad = app
        .call(
            "zoe@example.com",
            "POST",
            &join,
            Some(json!({"code": code, "display_name": "\u{7}"})),
        )
        .await;
    assert_problem(&bad, 400, "invalid_name", &[]);
    let (status, zoe) = app
        .call(
            "zoe@example.com",
            "POST",
            &join,
            Some(json!({"code": code, "display_name": "Zoe"})),
        )
        .await;
    assert_eq!(
        (status, zoe["name"].as_str()),
        (200, Some("Zoe")),
        "the invitation was not used up: {zoe}"
    );
}

#[tokio::test]
async fn me_lists_each_auction_with_its_name_and_phase() {
    let app = app().await;
    let id = room(&app).await;
    let players: Vec<Value> = (0..6)
        .map(|i| json!({"name": format!("P{i}"), "rank": i + 1}))
        .collect();
    let other = create(
        &app,
        json!({"name": "Dynasty", "teams": [{"name": "A", "manager": COMM}, {"name": "B", "manager": ANN}], "players": players}),
    )
    .await;
    let (status, started) = app
        .call(COMM, "POST", &format!("/api/auctions/{other}/start"), None)
        .await;
    assert_eq!(status, 200, "{started}");

    let (status, me) = app.call(ANN, "GET", "/api/me", None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["sub"], ANN);
    assert_eq!(
        me["memberships"],
        json!([
            {"auction_id": id, "auction_name": "League", "phase": "lobby", "name": "Sharks", "role": "manager", "team": 0, "sub": ANN},
            {"auction_id": other, "auction_name": "Dynasty", "phase": "nominating", "name": "B", "role": "manager", "team": 1, "sub": ANN},
        ])
    );
    let (_, me) = app.call(COMM, "GET", "/api/me", None).await;
    let summary: Vec<(&Value, &Value, &Value)> = me["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (&m["auction_name"], &m["phase"], &m["name"]))
        .collect();
    assert_eq!(
        summary,
        [
            (&json!("League"), &json!("lobby"), &json!("Cora")),
            (
                &json!("Dynasty"),
                &json!("nominating"),
                &json!("Commissioner")
            ),
        ],
        "{me}"
    );
}
