//! An axum + socketioxide app behind Gavel's origin gate, with hot reload.
//!
//! ```sh
//! cargo run -p gavel-tower --example axum_socketio -- policies/development.toml
//! ADDR=127.0.0.1:3000 cargo run -p gavel-tower --example axum_socketio -- my-policy.toml
//! ```
//!
//! It listens on `$ADDR` (default `127.0.0.1:0`, a free port) and prints `listening on
//! http://…`. `GET /api/hello` answers `hello`; Socket.IO's namespace `/` (path `/socket.io`)
//! echoes the `echo` event. Editing the policy file reloads it; so does `SIGHUP`. A file that
//! does not load keeps the last good policy and is reported on stderr.

mod app;

use std::path::PathBuf;

use gavel_tower::ReloadResult;
use gavel_tower::gavel_policy::ReloadOutcome;

/// Says what a reload did; a refused file's diagnostics name its lines.
fn report(trigger: &str, outcome: &ReloadResult) {
    match outcome {
        Ok(ReloadOutcome::Activated(version)) => eprintln!("{trigger}: policy {version} active"),
        Ok(ReloadOutcome::Unchanged(_)) => {}
        Err(refused) if refused.repeated => {}
        Err(refused) => eprintln!(
            "{trigger}: policy refused, the last good one stays active:\n{}",
            refused.error
        ),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(policy) = std::env::args_os().nth(1).map(PathBuf::from) else {
        return Err("usage: axum_socketio POLICY.toml".into());
    };
    let gate = app::gate(&policy)?.on_denial(|decision| {
        // The client sees the reason only; the rule and hints are for whoever fixes the policy.
        eprintln!("denied: {}", decision.summary());
    });
    let _watcher = gate.watch_with(|outcome| report("file change", outcome))?;
    #[cfg(unix)]
    reload_on_sighup(gate.store().clone())?;

    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    app::serve(listener, app::router(gate)).await?;
    Ok(())
}

/// Reloads on every `SIGHUP`, through the same store the gate decides with.
#[cfg(unix)]
fn reload_on_sighup(
    store: std::sync::Arc<gavel_tower::gavel_policy::PolicyStore>,
) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let store = store.clone();
            if let Ok(outcome) = tokio::task::spawn_blocking(move || store.reload()).await {
                report("SIGHUP", &outcome);
            }
        }
    });
    Ok(())
}
