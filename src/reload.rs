//! Reload triggers — file changes, `SIGHUP`, the admin API — and what a reload reaches:
//! after a new policy is active, open Socket.IO sessions it denies are disconnected.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use crate::gate::Gate;
use crate::realtime::Realtime;
use gavel_policy::{ReloadOutcome, ReloadRefused};

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
    pub fn reload(&self, trigger: &str) -> Result<ReloadOutcome, ReloadRefused> {
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
/// symlink), collects events for `debounce`, then reloads once. Only events that can change
/// what the policy path reads count (the policy file itself, or a Kubernetes `..data` entry):
/// a database, a log file or anything else written beside the policy costs nothing. The store compares content hashes,
/// so events that did not change the file do nothing. A missing file is no reason to stop
/// watching. The watcher lives as long as the returned handle.
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
    let name = policy.file_name().unwrap_or_default().to_owned();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| concerns_policy(&e, &name)) {
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

/// Whether a directory event can change what the policy path (file name `name`) reads: an
/// event for that name, or for a Kubernetes ConfigMap atomic-writer entry (`..data`,
/// `..2024_01_01_00_00_00.123`, `..data_tmp`), through which a mounted policy is a symlink. A
/// rescan (the kernel dropped events) may hide either, so it counts too. Reads never count.
fn concerns_policy(event: &notify::Event, name: &OsStr) -> bool {
    if event.kind.is_access() {
        return false;
    }
    event.need_rescan()
        || event.paths.iter().any(|p| {
            p.file_name()
                .is_some_and(|n| n == name || n.as_encoded_bytes().starts_with(b".."))
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, EventKind, ModifyKind, RenameMode};
    use notify::{Event, event::Flag};

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        paths
            .iter()
            .fold(Event::new(kind), |e, p| e.add_path(p.into()))
    }

    #[test]
    fn only_the_policy_file_and_configmap_entries_count() {
        let name = OsStr::new("policy.toml");
        let write = EventKind::Modify(ModifyKind::Any);
        assert!(concerns_policy(&event(write, &["/p/policy.toml"]), name));
        assert!(concerns_policy(&event(write, &["policy.toml"]), name));
        for other in [
            "/p/gavel.db",
            "/p/gavel.db-wal",
            "/p/gavel.log",
            "/p/policy.toml.swp",
        ] {
            assert!(!concerns_policy(&event(write, &[other]), name), "{other}");
        }
        // An editor's save: a temporary file renamed over the policy.
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        assert!(concerns_policy(
            &event(rename, &["/p/.policy.toml.swp", "/p/policy.toml"]),
            name
        ));
        // The kubelet's update: `..data_tmp` renamed over `..data`.
        assert!(concerns_policy(
            &event(rename, &["/p/..data_tmp", "/p/..data"]),
            name
        ));
        let create = EventKind::Create(CreateKind::Folder);
        assert!(concerns_policy(
            &event(create, &["/p/..2024_01_01_00_00_00.1"]),
            name
        ));
        // Reading the policy changes nothing.
        let read = EventKind::Access(AccessKind::Any);
        assert!(!concerns_policy(&event(read, &["/p/policy.toml"]), name));
        // Dropped events may have been about the policy.
        let rescan = Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert!(concerns_policy(&rescan, name));
    }
}
