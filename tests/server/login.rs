//! Magic-link login, refresh tokens and `/api/me` on a real server (SQLite file), and bad
//! tokens — expired, forged, `alg: none`, wrong audience, not yet valid (`nbf`) — refused on
//! REST and on Socket.IO.

use crate::common;

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::clients::{Driven, js_dir};
use common::{SECRET, TestApp, policy_allowing, spawn_app};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};

const FRONTEND: &str = "http://localhost:5173";

async fn request_link(app: &TestApp, email: &str, redirect: &str) -> (u16, Value, Option<String>) {
    let resp = app
        .client
        .post(app.url("/api/auth/magic-link"))
        .header("origin", FRONTEND)
        .json(&json!({"email": email, "redirect": redirect}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, resp.json().await.unwrap_or_default(), retry)
}

async fn outbox(app: &TestApp) -> Vec<Value> {
    app.get_json("/dev/outbox").await
}

async fn post(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or_default(),
    )
}

async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    let resp = app
        .client
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or_default(),
    )
}

fn token_of(link: &str) -> String {
    let url = url::Url::parse(link).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .expect("the link carries a token")
}

async fn database(app: &TestApp) -> sea_orm::DatabaseConnection {
    sea_orm::Database::connect(&app.database_url).await.unwrap()
}

#[tokio::test]
async fn a_magic_link_logs_in_once_and_refresh_tokens_rotate() {
    let app = spawn_app(&policy_allowing(&[FRONTEND])).await;
    let (status, body, _) = request_link(
        &app,
        " Ann@Example.com ",
        "http://localhost:5173/welcome?x=1",
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let mails = outbox(&app).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["to"], "ann@example.com");
    let link = mails[0]["link"].as_str().unwrap();
    assert!(
        link.starts_with("http://localhost:5173/welcome?x=1&token="),
        "{link}"
    );
    let token = token_of(link);

    // Stored only as a hash.
    let db = database(&app).await;
    let rows = gavel::db::entities::login_tokens::Entity::find()
        .all(&db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].token_hash, gavel::login::secret::hash(&token));
    assert!(!format!("{rows:?}").contains(&token));

    let (status, pair) = post(&app, "/api/auth/token", json!({"token": token})).await;
    assert_eq!(status, 200, "{pair}");
    assert_eq!(pair["sub"], "ann@example.com");
    let (status, who) = me(&app, pair["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, who["sub"].as_str()),
        (200, Some("ann@example.com")),
        "{who}"
    );
    assert_eq!(who["memberships"], json!([]));

    let (status, again) = post(&app, "/api/auth/token", json!({"token": token})).await;
    assert_eq!(
        (status, again["type"].as_str()),
        (401, Some("/problems/invalid_token")),
        "works once"
    );

    let refresh = pair["refresh_token"].as_str().unwrap();
    let (status, next) = post(&app, "/api/auth/refresh", json!({"refresh_token": refresh})).await;
    assert_eq!(status, 200, "{next}");
    assert_ne!(next["refresh_token"], pair["refresh_token"]);
    let (status, _) = post(&app, "/api/auth/refresh", json!({"refresh_token": refresh})).await;
    assert_eq!(status, 401, "a refresh token works once");
    let (status, _) = me(&app, next["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
}

/// Signs `email` in through a magic link; the token pair.
async fn sign_in(app: &TestApp, email: &str) -> Value {
    let (status, body, _) = request_link(app, email, "http://localhost:5173/").await;
    assert_eq!(status, 202, "{body}");
    let mails = outbox(app).await;
    let link = mails.last().unwrap()["link"].as_str().unwrap().to_owned();
    let (status, pair) = post(app, "/api/auth/token", json!({"token": token_of(&link)})).await;
    assert_eq!(status, 200, "{pair}");
    pair
}

#[tokio::test]
async fn signing_out_revokes_the_whole_refresh_family_and_reveals_nothing() {
    let app = spawn_app(&policy_allowing(&[FRONTEND])).await;
    let first = sign_in(&app, "ann@example.com").await;
    let (status, second) = post(
        &app,
        "/api/auth/refresh",
        json!({"refresh_token": first["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    // Another login of the same person (another device) is another family: it stays.
    let other_device = sign_in(&app, "ann@example.com").await;

    let logout = |token: Value| {
        app.client
            .post(app.url("/api/auth/logout"))
            .json(&json!({"refresh_token": token}))
            .send()
    };
    let resp = logout(second["refresh_token"].clone()).await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.text().await.unwrap(), "", "no body");

    for token in [&second["refresh_token"], &first["refresh_token"]] {
        let (status, body) = post(&app, "/api/auth/refresh", json!({"refresh_token": token})).await;
        assert_eq!(
            (status, body["type"].as_str()),
            (401, Some("/problems/invalid_token")),
            "every token of the family is refused after sign-out: {body}"
        );
    }
    let (status, body) = post(
        &app,
        "/api/auth/refresh",
        json!({"refresh_token": other_device["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 200, "the other login is untouched: {body}");

    // Unknown tokens and a second sign-out answer the same: nothing to learn from them.
    for token in [
        "never-issued",
        "",
        second["refresh_token"].as_str().unwrap(),
    ] {
        let resp = logout(json!(token)).await.unwrap();
        assert_eq!(resp.status(), 204, "{token:?}");
    }
    let db = database(&app).await;
    let rows = gavel::db::entities::refresh_tokens::Entity::find()
        .all(&db)
        .await
        .unwrap();
    let revoked = rows.iter().filter(|r| r.revoked_at.is_some()).count();
    assert_eq!(
        revoked, 2,
        "the signed-out family's two tokens, no more: {rows:?}"
    );
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let app = spawn_app(&policy_allowing(&[FRONTEND])).await;
    assert_eq!(request_link(&app, "bob@example.com", FRONTEND).await.0, 202);
    let token = token_of(outbox(&app).await[0]["link"].as_str().unwrap());
    let db = database(&app).await;
    db.execute_unprepared("UPDATE login_tokens SET expires_at = 0")
        .await
        .unwrap();
    let (status, body) = post(&app, "/api/auth/token", json!({"token": token})).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some("/problems/invalid_token"))
    );
}

#[tokio::test]
async fn a_redirect_to_an_origin_the_policy_denies_is_refused_and_nothing_is_sent() {
    let app = spawn_app(&policy_allowing(&[FRONTEND])).await;
    for redirect in [
        "https://evil.example/steal",
        "http://localhost:5174/",
        "javascript:alert(1)",
        "https://u:p@localhost:5173/",
        "/relative",
    ] {
        let (status, body, _) = request_link(&app, "ann@example.com", redirect).await;
        assert_eq!(status, 400, "{redirect}: {body}");
        let kind = body["type"].as_str().unwrap();
        assert!(
            kind == "/problems/redirect_not_allowed" || kind == "/problems/invalid_redirect",
            "{redirect}: {body}"
        );
    }
    let (_, body, _) = request_link(&app, "ann@example.com", "https://evil.example/steal").await;
    assert_eq!(body["type"], "/problems/redirect_not_allowed");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("https://evil.example"),
        "{body}"
    );
    let (status, body, _) = request_link(&app, "not-an-email", FRONTEND).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("/problems/invalid_email"))
    );
    assert!(
        outbox(&app).await.is_empty(),
        "no mail for a refused request"
    );
}

#[tokio::test]
async fn a_forged_host_cannot_make_a_same_origin_rule_approve_a_redirect() {
    // A policy that allows the server's own origin; the requester names another as its Host.
    let policy = format!(
        "{}[[allow]]\nname = \"same\"\nsame_origin = true\n",
        policy_allowing(&[FRONTEND])
    );
    let app = spawn_app(&policy).await;
    let resp = app
        .client
        .post(app.url("/api/auth/magic-link"))
        .header("host", "evil.example")
        .json(&json!({"email": "ann@example.com", "redirect": "http://evil.example/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "/problems/redirect_not_allowed", "{body}");
    // A redirect that already carries a token is refused too (it would sign the user in as
    // whoever planted it).
    let (status, body, _) = request_link(
        &app,
        "ann@example.com",
        "http://localhost:5173/?token=planted",
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (400, Some("/problems/invalid_redirect")),
        "{body}"
    );
    assert!(outbox(&app).await.is_empty());
}

#[tokio::test]
async fn link_requests_are_rate_limited_per_email() {
    let app = spawn_app(&policy_allowing(&[FRONTEND])).await;
    for _ in 0..5 {
        assert_eq!(
            request_link(&app, "carol@example.com", FRONTEND).await.0,
            202
        );
    }
    let (status, body, retry) = request_link(&app, "carol@example.com", FRONTEND).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (429, Some("/problems/rate_limited")),
        "{body}"
    );
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(outbox(&app).await.len(), 5);
    // Another address is not affected.
    assert_eq!(
        request_link(&app, "dave@example.com", FRONTEND).await.0,
        202
    );
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Tokens that must be refused: (name, token).
fn bad_tokens() -> Vec<(&'static str, String)> {
    use jsonwebtoken::{EncodingKey, Header, encode};
    let claims = |aud: &str, exp: u64| json!({"sub": "ann", "role": "user", "aud": aud, "iat": now(), "exp": exp});
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let expired = encode(&Header::default(), &claims("gavel", now() - 3600), &key).unwrap();
    let forged = encode(
        &Header::default(),
        &claims("gavel", now() + 3600),
        &EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .unwrap();
    let wrong_audience = encode(
        &Header::default(),
        &claims("someone-else", now() + 3600),
        &key,
    )
    .unwrap();
    let not_yet_valid = encode(
        &Header::default(),
        &json!({"sub": "ann", "role": "user", "aud": "gavel", "iat": now(), "nbf": now() + 3600, "exp": now() + 7200}),
        &key,
    )
    .unwrap();
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims("gavel", now() + 3600).to_string())
    );
    vec![
        ("expired", expired),
        ("forged", forged),
        ("wrong-audience", wrong_audience),
        ("alg-none", none),
        ("not-yet-valid", not_yet_valid),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_forged_alg_none_wrong_audience_and_not_yet_valid_tokens_are_refused_on_rest_and_sockets()
 {
    let app = spawn_app(&policy_allowing(&[FRONTEND])).await;
    let tokens = bad_tokens();
    for (name, token) in &tokens {
        let (status, body) = me(&app, token).await;
        assert_eq!(
            (status, body["type"].as_str()),
            (401, Some("/problems/unauthorized")),
            "{name}: {body}"
        );
        let resp = app
            .client
            .get(app.url("/api/auctions/1/state"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{name}");
    }
    let base = app.base.clone();
    let list: Vec<Value> = tokens
        .iter()
        .map(|(n, t)| json!({"name": n, "token": t}))
        .collect();
    let arg = serde_json::to_string(&list).unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let dir = js_dir();
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("socketio_clients.mjs"))
            .args(["tokens", &base, "", FRONTEND, "", &arg])
            .current_dir(dir);
        Driven::spawn(cmd).finish(Duration::from_secs(60))
    })
    .await
    .unwrap();
    for (name, expected) in [
        ("expired", "token expired"),
        ("forged", "not valid"),
        ("wrong-audience", "audience"),
        ("alg-none", ""),
        ("not-yet-valid", "not yet valid"),
    ] {
        let line = lines
            .iter()
            .find(|l| l["token"] == name)
            .unwrap_or_else(|| panic!("{name}: {lines:#?}"));
        assert_eq!(line["event"], "refused", "{line}");
        let error = line["error"].as_str().unwrap();
        assert!(error.contains(expected), "{name}: {error}");
        assert!(
            [
                "token expired",
                "wrong audience",
                "not valid",
                "not yet valid",
                "malformed"
            ]
            .iter()
            .any(|reason| error.contains(reason)),
            "{name}: the refusal names its reason: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_configured_the_link_is_mailed_and_the_outbox_is_gone() {
    use std::io::{BufRead, BufReader};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // aiosmtpd's Debugging handler prints every message it receives.
    let mut smtp = std::process::Command::new(common::clients::python())
        .args([
            "-u",
            "-m",
            "aiosmtpd",
            "-n",
            "-c",
            "aiosmtpd.handlers.Debugging",
            "-l",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("aiosmtpd starts");
    common::eventually_blocking("aiosmtpd listens", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let app = TestApp::builder(&policy_allowing(&[FRONTEND]))
        .settings(|s| {
            s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
            s.mail_from = "Gavel <login@gavel.test>".into();
        })
        .spawn()
        .await;
    let (status, body, _) = request_link(&app, "erin@example.com", FRONTEND).await;
    assert_eq!(status, 202, "{body}");
    let resp = app.client.get(app.url("/dev/outbox")).send().await.unwrap();
    assert_eq!(
        resp.status(),
        404,
        "no development outbox once SMTP is configured"
    );

    let out = smtp.stdout.take().unwrap();
    let mail = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
            if line.contains("END MESSAGE") {
                break;
            }
        }
        text
    })
    .await
    .unwrap();
    let _ = smtp.kill();
    let _ = smtp.wait();
    // The body may be quoted-printable (soft line breaks, `=3D`), as mail clients decode it.
    let mail = mail.replace("=\n", "").replace("=3D", "=");
    assert!(mail.contains("erin@example.com"), "{mail}");
    assert!(mail.contains("login@gavel.test"), "{mail}");
    let link = mail
        .split_whitespace()
        .find(|w| w.starts_with("http://localhost:5173/?token="))
        .unwrap_or_else(|| panic!("no link in {mail}"));
    let (status, pair) = post(&app, "/api/auth/token", json!({"token": token_of(link)})).await;
    assert_eq!(
        (status, pair["sub"].as_str()),
        (200, Some("erin@example.com")),
        "{pair}"
    );
}
