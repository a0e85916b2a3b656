//! Headless Chromium (Debian's `chromium`, driven by playwright-core): a page on
//! `http://127.0.0.1:P1` calls the API and opens Socket.IO on `http://localhost:P2`. The
//! browser's own CORS checks succeed when the policy allows the page's origin and fail when
//! it does not.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::clients::{Driven, js_dir};
use common::{TestApp, policy_allowing};
use gavel::auth::AccountRole;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn run_page(app: &common::TestApp, page_port: u16) -> serde_json::Value {
    let api = format!("http://localhost:{}", app.port);
    let admin = app.admin_token();
    let user = app
        .keys
        .mint("browser", AccountRole::User, Duration::from_secs(300));
    tokio::task::spawn_blocking(move || {
        let dir = js_dir();
        let mut cmd = Command::new("node");
        cmd.arg(dir.join("browser_cors.mjs"))
            .args([&page_port.to_string(), &api, &admin, &user])
            .current_dir(dir);
        let mut page = Driven::spawn(cmd);
        page.expect_event("result", Duration::from_secs(60))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_succeeds_when_allowed_and_fails_when_denied() {
    let page_port = free_port();
    let page_origin = format!("http://127.0.0.1:{page_port}");
    let app = TestApp::builder(&policy_allowing(&[&page_origin]))
        .watching(false)
        .spawn()
        .await;

    let allowed = run_page(&app, page_port).await;
    assert_eq!(allowed["fetch"]["ok"], true, "{allowed}");
    assert_eq!(allowed["fetch"]["status"], 200, "{allowed}");
    assert_eq!(allowed["fetch"]["verdict"], "allow", "{allowed}");
    assert_eq!(allowed["socket"]["ok"], true, "{allowed}");
    assert!(
        allowed["socket"]["server_now"].as_u64().is_some(),
        "{allowed}"
    );

    std::fs::write(
        &app.policy,
        policy_allowing(&["https://someone-else.example"]),
    )
    .unwrap();
    let resp = app.reload().await;
    assert_eq!(resp.status(), 200);

    let denied = run_page(&app, page_port).await;
    assert_eq!(denied["fetch"]["ok"], false, "{denied}");
    assert_eq!(
        denied["fetch"]["error"], "TypeError: Failed to fetch",
        "{denied}"
    );
    assert_eq!(denied["socket"]["ok"], false, "{denied}");
    assert_eq!(denied["socket"]["error"], "xhr poll error", "{denied}");
    let errors = denied["consoleErrors"].to_string();
    assert!(errors.contains("CORS policy"), "{errors}");
}
