//! Reload triggers — file changes, `SIGHUP`, the admin API — and what a reload reaches:
//! after a new policy is active, open Socket.IO sessions it denies are disconnected.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use crate::gate::Gate;
use crate::policy::{PolicyError, ReloadOutcome};
use crate::realtime::Realtime;

pub struct Reloader {
    gate: Arc<Gate>,
    realtime: OnceLock<Realtime>,
    disconnect_denied: bool,
}

impl Reloader {
    pub fn new(gate: Arc<Gate>, disconnect_denied: bool) -> Self {
        Self {
            gate,
            realtime: OnceLock::new(),
            disconnect_denied,
        }
    }

    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }

    /// Connects the Socket.IO side once it exists.
    pub fn attach(&self, realtime: Realtime) {
        let _ = self.realtime.set(realtime);
    }

    /// Reloads (blocking: reads and compiles the file). `trigger` is logged.
    pub fn reload(&self, trigger: &str) -> Result<ReloadOutcome, PolicyError> {
        let outcome = self.gate.reload(trigger);
        if let Ok(ReloadOutcome::Activated(_)) = &outcome
            && self.disconnect_denied
            && let Some(realtime) = self.realtime.get()
        {
            let n = realtime.disconnect_denied(&self.gate);
            if n > 0 {
                self.gate.metrics.sessions_disconnected(n);
            }
        }
        outcome
    }
}

/// Watches the policy file's *directory* (editors save by rename; Kubernetes swaps a `..data`
/// symlink), collects events for `debounce`, then reloads once. The store compares content
/// hashes, so events that did not change the file do nothing. A missing file is no reason to
/// stop watching. The watcher lives as long as the returned handle.
pub fn watch(
    policy: &Path,
    debounce: Duration,
    reloader: Arc<Reloader>,
) -> notify::Result<notify::RecommendedWatcher> {
    let dir = policy
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            tokio::time::sleep(debounce).await;
            while rx.try_recv().is_ok() {}
            let reloader = reloader.clone();
            let _ = tokio::task::spawn_blocking(move || reloader.reload("file-change")).await;
        }
    });
    Ok(watcher)
}

/// Reloads on every `SIGHUP`.
#[cfg(unix)]
pub fn on_sighup(reloader: Arc<Reloader>) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let reloader = reloader.clone();
            let _ = tokio::task::spawn_blocking(move || reloader.reload("sighup")).await;
        }
    });
    Ok(())
}
