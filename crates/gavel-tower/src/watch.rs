//! Hot reload: the policy is re-read when its file changes.
//!
//! notify's own thread reports file events; one more thread lets a burst of them settle and
//! reloads once. No async runtime is needed. The store compares content hashes, so events that
//! did not change the file cost a read, and a file that does not load keeps the last good
//! policy active.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use gavel_policy::{PolicyStore, ReloadOutcome, ReloadRefused};
use notify::{RecursiveMode, Watcher};

/// The outcome of one reload, as [`PolicyStore::reload`] returns it.
pub type ReloadResult = Result<ReloadOutcome, ReloadRefused>;

/// Why a watcher could not start: notify's error.
pub type WatchError = notify::Error;

/// How long a burst of file events may last before the reload it triggers (an editor's save
/// is a write, a rename and a change of attributes).
const SETTLE: Duration = Duration::from_millis(100);

/// Reloads a [`PolicyStore`] whenever its file changes, for as long as it lives.
///
/// It watches the file's *directory*, so that saves by rename (editors) and Kubernetes
/// ConfigMap updates (a `..data` symlink swapped) are seen; other files beside the policy
/// trigger nothing.
pub struct PolicyWatcher {
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for PolicyWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyWatcher").finish_non_exhaustive()
    }
}

impl PolicyWatcher {
    /// Starts watching the file `store` loads from; `on_reload` is called with the outcome of
    /// every reload the watcher triggers (e.g. to log a refused file's diagnostics).
    pub fn start<F>(store: Arc<PolicyStore>, on_reload: F) -> Result<Self, WatchError>
    where
        F: Fn(&ReloadResult) + Send + 'static,
    {
        let policy = store.status().source;
        let dir = policy
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let name = policy.file_name().unwrap_or_default().to_owned();
        let (changed, changes) = std::sync::mpsc::channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if event.is_ok_and(|e| concerns_policy(&e, &name)) {
                    let _ = changed.send(());
                }
            })?;
        watcher.watch(&dir, RecursiveMode::NonRecursive)?;
        std::thread::Builder::new()
            .name("gavel-policy-reload".into())
            .spawn(move || reload_on_changes(&changes, &store, &on_reload))
            .map_err(notify::Error::io)?;
        Ok(Self { _watcher: watcher })
    }
}

/// Reloads once per burst of changes; ends when the watcher (the sender) is dropped.
fn reload_on_changes(
    changes: &Receiver<()>,
    store: &PolicyStore,
    on_reload: &dyn Fn(&ReloadResult),
) {
    while changes.recv().is_ok() {
        let settled = Instant::now() + SETTLE;
        loop {
            match changes.recv_timeout(settled.saturating_duration_since(Instant::now())) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        on_reload(&store.reload());
    }
}

/// Whether a directory event can change what the policy path (file name `name`) reads: an
/// event for that name, or for a Kubernetes ConfigMap atomic-writer entry (`..data`,
/// `..2024_01_01_00_00_00.123`), through which a mounted policy is a symlink. A rescan (the
/// kernel dropped events) may hide either, so it counts too. Reads never count. (The same
/// rule as Gavel's own watcher in `src/reload.rs`.)
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

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, EventKind, ModifyKind, RenameMode};

    fn event(kind: EventKind, paths: &[&str]) -> notify::Event {
        paths
            .iter()
            .fold(notify::Event::new(kind), |e, p| e.add_path(p.into()))
    }

    #[test]
    fn only_the_policy_file_and_configmap_entries_count() {
        let name = OsStr::new("policy.toml");
        let write = EventKind::Modify(ModifyKind::Any);
        assert!(concerns_policy(&event(write, &["/p/policy.toml"]), name));
        assert!(!concerns_policy(&event(write, &["/p/app.db"]), name));
        assert!(!concerns_policy(
            &event(write, &["/p/policy.toml.swp"]),
            name
        ));
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        assert!(concerns_policy(
            &event(rename, &["/p/.policy.toml.swp", "/p/policy.toml"]),
            name
        ));
        assert!(concerns_policy(
            &event(rename, &["/p/..data_tmp", "/p/..data"]),
            name
        ));
        let read = EventKind::Access(AccessKind::Any);
        assert!(!concerns_policy(&event(read, &["/p/policy.toml"]), name));
    }
}
