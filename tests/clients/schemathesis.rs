//! API conformance: schemathesis (pip, in `.venv`) against the running server's own OpenAPI
//! document: no 5xx, and every status, content type, header and body as documented.

use crate::common;

use std::process::Command;
use std::time::Duration;

use common::clients::python;
use common::{policy_allowing, spawn_app};
use gavel::auth::AccountRole;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_conforms_to_its_openapi_document() {
    let app = spawn_app(&policy_allowing(&["http://localhost:5173"])).await;
    // Something to find: an auction the caller runs.
    let id = app.create_auction("schemathesis").await;
    let token = app
        .keys
        .mint("schemathesis", AccountRole::User, Duration::from_secs(3600));
    let base = app.base.clone();
    let report = app.dir.path().join("schemathesis");
    // Its caches (.schemathesis, .hypothesis) go to the test's own directory, not the repo.
    let work = app.dir.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        let bin = python().parent().unwrap().join("schemathesis");
        Command::new(bin)
            .current_dir(&work)
            .args([
                "run",
                &format!("{base}/api/openapi.json"),
                "--url",
                &format!("{base}/api"),
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance",
                "--max-examples",
                "40",
                "--seed",
                "1",
                "--generation-database",
                "none",
                "--request-timeout",
                "10",
                "--report-dir",
            ])
            .arg(&report)
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .env("NO_COLOR", "1")
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems (auction {id}):\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("passed"), "{stdout}");
}
