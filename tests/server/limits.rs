//! Bounds on what a stranger on the network can make the server hold, against the real
//! binary: connections (caps, header-read and idle timeouts, health on the operators'
//! listener), request bodies, Engine.IO payloads and sessions, log lines, the development
//! outbox. Each test fails on a server without the bound.

use crate::common;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use common::binary::{self, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const SECRET: &str = "limits-test-secret-limits-test-secret";
const APP: &str = "http://localhost:5173";

/// Starts the binary with a policy allowing [`APP`] and `limits` as its `[limits]` table.
fn start(dir: &Path, extra: &str, limits: &str) -> Server {
    binary::serve_in(
        dir,
        &format!("version = 1\n[cors]\ncredentials = true\n[[allow]]\nexact = \"{APP}\"\n"),
        &format!(
            "jwt_secret = \"{SECRET}\"\ndatabase_url = \"{}\"\n{extra}\n[limits]\n{limits}",
            binary::sqlite_in(dir)
        ),
        |_| {},
    )
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A TCP connection to `port` from the loopback address `from` (127.0.0.0/8 is all ours).
async fn connect_from(from: &str, port: u16) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))?;
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
}

/// Waits until the server closes `conn` (EOF or reset); how long that took.
async fn closed_within(conn: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((start + limit).into(), conn.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

async fn get_status(port: u16, path: &str) -> Result<u16, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .map(|r| r.status().as_u16())
}

#[tokio::test]
async fn connections_that_send_no_complete_headers_are_closed_at_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        "",
        "header_read_timeout = \"1s\"\nidle_timeout = \"30s\"",
    );
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(connect_from("127.0.0.1", server.port).await.unwrap());
    }
    // Slowloris: a header line every 200 ms, never the blank line that ends them.
    let mut slow = connect_from("127.0.0.1", server.port).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let slow_closed = loop {
        if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
            break started.elapsed();
        }
        let mut buf = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(200), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break started.elapsed(),
            _ => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a slowloris connection is still open after 10 s"
        );
    };
    assert!(slow_closed < Duration::from_secs(4), "{slow_closed:?}");
    for conn in &mut silent {
        let took = closed_within(conn, Duration::from_secs(5)).await;
        assert!(
            took.is_some(),
            "a silent connection outlived the header timeout"
        );
    }
    assert_eq!(get_status(server.port, "/healthz").await.unwrap(), 200);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        "",
        "header_read_timeout = \"1s\"\nidle_timeout = \"3s\"",
    );
    let mut conn = connect_from("127.0.0.1", server.port).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let took = closed_within(&mut conn, Duration::from_secs(8))
        .await
        .expect("an idle keep-alive connection is closed");
    // Idle is its own timeout: longer than the header timeout (1 s), about 3 s.
    assert!(took > Duration::from_millis(2500), "closed after {took:?}");
}

#[tokio::test]
async fn connection_caps_hold_and_health_answers_on_the_operators_listener() {
    let dir = tempfile::tempdir().unwrap();
    let ops = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ops_port = ops.local_addr().unwrap().port();
    drop(ops);
    let server = start(
        dir.path(),
        &format!("ops_bind = \"127.0.0.1:{ops_port}\""),
        "max_connections = 60\nmax_connections_per_address = 40\nheader_read_timeout = \"60s\"",
    );
    let mut held = Vec::new();
    for _ in 0..40 {
        held.push(connect_from("127.0.0.2", server.port).await.unwrap());
    }
    // Over the per-address cap: closed at once.
    let mut over = connect_from("127.0.0.2", server.port).await.unwrap();
    assert!(
        closed_within(&mut over, Duration::from_secs(3))
            .await
            .is_some(),
        "the 41st connection from one address is closed"
    );
    // Another address is still served.
    assert_eq!(get_status(server.port, "/healthz").await.unwrap(), 200);
    for _ in 0..20 {
        held.push(connect_from("127.0.0.3", server.port).await.unwrap());
    }
    // The total cap is full: the public port refuses, the operators' port answers.
    let mut refused = connect_from("127.0.0.4", server.port).await.unwrap();
    assert!(
        closed_within(&mut refused, Duration::from_secs(3))
            .await
            .is_some()
    );
    assert_eq!(get_status(ops_port, "/healthz").await.unwrap(), 200);
    assert_eq!(get_status(ops_port, "/readyz").await.unwrap(), 200);
    assert_eq!(get_status(ops_port, "/metrics").await.unwrap(), 200);
    assert_eq!(
        get_status(ops_port, "/").await.unwrap(),
        404,
        "only operators' routes"
    );
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    while get_status(server.port, "/healthz").await.ok() != Some(200) {
        assert!(
            Instant::now() < deadline,
            "the public port serves again once connections close"
        );
    }
}

#[tokio::test]
async fn a_huge_body_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "", "");
    let before = rss_kib(server.child.id());
    // Declared: refused from the headers alone.
    let mut conn = connect_from("127.0.0.1", server.port).await.unwrap();
    conn.write_all(
        b"POST /api/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 104857600\r\n\r\n{\"token\": \"",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("application/problem+json"), "{head}");
    // Not declared (chunked), 8 at once: each read only to the limit, then refused.
    let client = reqwest::Client::new();
    let sends = (0..8).map(|_| {
        let chunks = futures_stream(100);
        client
            .post(format!("http://127.0.0.1:{}/api/auth/token", server.port))
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
    });
    // The server may close before the client has sent everything; then there is no status,
    // and any status there is must be 413.
    let answers = futures_util::future::join_all(sends).await;
    for r in answers.iter().flatten() {
        assert_eq!(r.status(), 413);
    }
    let grown = rss_kib(server.child.id()).saturating_sub(before);
    assert!(grown < 20 * 1024, "RSS grew by {grown} KiB");
}

/// `megabytes` MiB of a JSON string, in 1 MiB chunks.
fn futures_stream(
    megabytes: usize,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures_util::stream::iter((0..megabytes).map(|i| {
        let mut chunk = vec![b'A'; 1 << 20];
        if i == 0 {
            chunk[0] = b'"';
        }
        Ok(chunk)
    }))
}

#[tokio::test]
async fn error_details_quote_no_more_than_an_excerpt_of_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "", "");
    let body = format!("\"{}\"", "A".repeat(12_000));
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/api/auth/token", server.port))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap();
    let problem: serde_json::Value = serde_json::from_str(&text).unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.len() < 300, "{} bytes of detail", detail.len());
    assert!(text.len() < 600, "{} bytes of answer", text.len());
}

#[tokio::test]
async fn report_only_never_opens_the_door_wider_than_enforcing() {
    let app = common::spawn_app(
        "version = 1\nmode = \"report-only\"\n[cors]\ncredentials = true\n\
         [[allow]]\nexact = \"https://app.example\"\n[[deny]]\nexact = \"https://banned.example\"\n",
    )
    .await;
    let headers = |origin: &'static str, preflight: bool| {
        let app = &app;
        async move {
            let req = if preflight {
                app.client
                    .request(reqwest::Method::OPTIONS, app.url("/healthz"))
                    .header("access-control-request-method", "POST")
            } else {
                app.client.get(app.url("/healthz"))
            };
            let resp = req.header("origin", origin).send().await.unwrap();
            assert!(resp.status().is_success(), "report-only blocks nothing");
            let h = resp.headers();
            (
                h.get("access-control-allow-origin")
                    .map(|v| v.to_str().unwrap().to_owned()),
                h.contains_key("access-control-allow-credentials"),
            )
        }
    };
    for preflight in [false, true] {
        assert_eq!(
            headers("https://app.example", preflight).await,
            (Some("https://app.example".into()), true)
        );
        let (acao, credentials) = headers("https://evil.example", preflight).await;
        assert!(!credentials, "no credentials for an origin no rule allows");
        assert_eq!(acao.as_deref(), Some("https://evil.example"));
        for nothing in ["https://banned.example", "null", "https://a.example/path"] {
            assert_eq!(
                headers(nothing, preflight).await,
                (None, false),
                "{nothing}: no CORS headers at all"
            );
        }
    }
}

/// An Engine.IO websocket opened directly; returns the socket after the open packet.
fn engine_websocket(
    port: u16,
) -> tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>> {
    let url = format!("ws://127.0.0.1:{port}/api/socket.io/?EIO=4&transport=websocket");
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
    request.headers_mut().insert("origin", APP.parse().unwrap());
    let (mut ws, _) = tungstenite::connect(request).unwrap();
    let open = ws.read().unwrap();
    assert!(open.to_text().unwrap().starts_with("0{"), "{open:?}");
    ws
}

#[tokio::test]
async fn websocket_messages_over_max_payload_close_the_session_before_login() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "", "max_payload = 100000");
    let port = server.port;
    let pid = server.child.id();
    let before = rss_kib(pid);
    tokio::task::spawn_blocking(move || {
        // Under the bound: the session lives (a ping from the client is ignored, not fatal).
        let mut ws = engine_websocket(port);
        ws.send(tungstenite::Message::text(format!(
            "4{}",
            "a".repeat(50_000)
        )))
        .unwrap();
        // Over it: the server closes the connection.
        for _ in 0..4 {
            let mut ws = engine_websocket(port);
            let big = format!("4{}", "a".repeat(60 << 20));
            let _ = ws.send(tungstenite::Message::text(big));
            let closed = loop {
                match ws.read() {
                    Ok(tungstenite::Message::Close(_)) | Err(_) => break true,
                    Ok(_) => {}
                }
            };
            assert!(closed);
        }
    })
    .await
    .unwrap();
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(
        grown < 40 * 1024,
        "RSS grew by {grown} KiB for 4 × 60 MB messages"
    );
}

async fn polling_handshake(client: &reqwest::Client, port: u16, forwarded_for: &str) -> u16 {
    client
        .get(format!(
            "http://127.0.0.1:{port}/api/socket.io/?EIO=4&transport=polling"
        ))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn sessions_that_never_connect_are_capped_per_client_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        "",
        "max_sessions_per_address = 10\nmax_sessions = 15\nconnect_timeout = \"3s\"",
    );
    // The peer is a trusted proxy: the client address is the one it forwards.
    std::fs::write(
        dir.path().join("policy.toml"),
        format!(
            "version = 1\n[[allow]]\nexact = \"{APP}\"\n[trusted_proxies]\n\
             cidrs = [\"127.0.0.1/32\"]\nheaders = [\"x-forwarded-for\"]\n"
        ),
    )
    .unwrap();
    let client = reqwest::Client::new();
    let reload = client
        .post(format!(
            "http://127.0.0.1:{}/api/admin/policy/reload",
            server.port
        ))
        .bearer_auth(admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(reload.status(), 200, "{}", reload.text().await.unwrap());
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(polling_handshake(&client, server.port, "203.0.113.7").await);
    }
    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10..], [429, 429], "over the per-client cap");
    for i in 0..5 {
        let other = format!("203.0.113.{}", 20 + i);
        assert_eq!(polling_handshake(&client, server.port, &other).await, 200);
    }
    assert_eq!(
        polling_handshake(&client, server.port, "203.0.113.99").await,
        503,
        "over the total cap"
    );
    // None of them connected a namespace: the connect timeout closes them and frees the places.
    let deadline = Instant::now() + Duration::from_secs(15);
    while polling_handshake(&client, server.port, "203.0.113.7").await != 200 {
        assert!(
            Instant::now() < deadline,
            "sessions are closed after the connect timeout"
        );
    }
}

fn admin_token() -> String {
    gavel::auth::JwtKeys::new(SECRET.as_bytes()).mint(
        "admin@example.com",
        gavel::auth::AccountRole::Admin,
        Duration::from_secs(600),
    )
}

#[tokio::test]
async fn a_flood_of_unique_denied_origins_makes_a_bounded_number_of_log_lines() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "", "denial_logs_per_second = 20");
    let client = reqwest::Client::new();
    let started = Instant::now();
    for i in 0..3000 {
        let resp = client
            .get(format!("http://127.0.0.1:{}/healthz", server.port))
            .header("origin", format!("https://x{i}.evil.example"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403);
    }
    let seconds = started.elapsed().as_secs() + 1;
    // The next summary (every 10 s) reports what was suppressed.
    let mut denials = 0;
    let mut summarized = 0;
    let deadline = Instant::now() + Duration::from_secs(15);
    // Every denial is either a line or counted as suppressed (on a later line or in the
    // summary every 10 s): read until all 3,000 are accounted for.
    while denials + summarized < 3000 {
        let line = server
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("only {denials} lines + {summarized} suppressed seen"));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        let message = v["message"].as_str().unwrap_or_default();
        if message.starts_with("origin denied") {
            denials += 1;
            // What the bound cut since the line before is counted on the next line logged.
            summarized += v["suppressed_since_last"].as_u64().unwrap_or(0);
        }
        if message.contains("similar lines suppressed") {
            summarized += v["suppressed"].as_u64().unwrap();
        }
    }
    assert!(
        denials <= 20 * (seconds + 1),
        "{denials} denial lines in {seconds} s"
    );
    assert_eq!(denials + summarized, 3000, "{denials} + {summarized}");
}

#[tokio::test]
async fn the_development_outbox_answers_only_loopback_hosts_and_never_with_cors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "dev_outbox = true", "");
    let client = reqwest::Client::new();
    let outbox = |host: &'static str| {
        client
            .get(format!("http://127.0.0.1:{}/dev/outbox", server.port))
            .header("host", host)
            .header("origin", APP)
            .send()
    };
    assert_eq!(outbox("attacker.example").await.unwrap().status(), 404);
    assert_eq!(outbox("attacker.example:80").await.unwrap().status(), 404);
    for host in ["127.0.0.1", "localhost:8000", "[::1]:8000"] {
        let resp = outbox(host).await.unwrap();
        assert_eq!(resp.status(), 200, "{host}");
        assert!(
            !resp.headers().contains_key("access-control-allow-origin"),
            "{host}: no CORS headers on the outbox"
        );
    }
}

#[tokio::test]
async fn report_only_gives_null_no_cors_even_when_null_is_allowed() {
    let app = common::spawn_app(
        "version = 1\nmode = \"report-only\"\n[cors]\ncredentials = true\n\
         [requests]\nnull_origin = \"allow\"\n[[allow]]\nexact = \"https://app.example\"\n",
    )
    .await;
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "null")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
    assert!(
        !resp
            .headers()
            .contains_key("access-control-allow-credentials")
    );
}

#[tokio::test]
async fn an_oversized_origin_is_neither_kept_nor_echoed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "", "");
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/healthz", server.port);
    // Far over the 64 KiB request head (hyper may have read up to about twice that before
    // it judges): refused by the HTTP layer.
    let huge = format!("https://{}.example", "a".repeat(300_000));
    let resp = client
        .get(&url)
        .header("origin", huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 431);
    // Under it but far over an origin's 512 bytes: malformed, answered and logged in excerpt.
    let long = format!("https://{}.example", "b".repeat(20_000));
    let resp = client
        .get(&url)
        .header("origin", long)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body = resp.text().await.unwrap();
    assert!(body.len() < 1200, "{} bytes echoed", body.len());
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let line = server
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the denial is logged");
        if line.contains("malformed") || line.contains("origin denied") {
            break line;
        }
    };
    assert!(line.len() < 4096, "a log line of {} bytes", line.len());
}

#[tokio::test]
async fn bodies_being_received_have_a_bound_in_all() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "", "max_in_flight_body_bytes = 20480");
    // One slow upload holds 16,000 bytes of the 20 KiB...
    let mut slow = connect_from("127.0.0.1", server.port).await.unwrap();
    slow.write_all(
        b"POST /api/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 16000\r\n\r\n{\"token\": \"",
    )
    .await
    .unwrap();
    // ...so another one that would need as much is turned away at once (the order of the two
    // is fixed: the first one's answer only comes once its body is complete).
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        let resp = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/api/auth/token", server.port))
            .header("content-type", "application/json")
            .body(format!("{{\"token\": \"{}\"}}", "c".repeat(15_000)))
            .send()
            .await
            .unwrap();
        if resp.status() == 503 || Instant::now() > deadline {
            break resp.status().as_u16();
        }
    };
    assert_eq!(status, 503);
    // A small body still fits.
    let resp = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/api/auth/token", server.port))
        .header("content-type", "application/json")
        .body("{\"token\": \"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    drop(slow);
}
