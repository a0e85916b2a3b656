//! The active policy, swapped atomically on reload.
//!
//! Readers never lock and never see half a policy: the store is an `ArcSwap`. A reload reads
//! the file, and only when its content hash differs from the active one parses, validates,
//! compiles and runs the guard rails; only a policy that passes all of it replaces the active
//! one. Otherwise the last good policy stays and the error is kept for the admin API (like
//! OPA's status: active version, last successful activation, last error).
//!
//! A refused file's hash is remembered too: reloading the same refused content again does
//! nothing (no parse, no compile, no count), so that reload triggers, however many, cost one
//! refusal per content.
//!
//! What triggers a reload (file watching, `SIGHUP`, the admin API) lives with the server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::SystemTime;

use arc_swap::ArcSwap;

use crate::policy::{Policy, PolicyError};

/// What the store can tell about itself (like OPA's status: active version, last successful
/// activation, last error).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StoreStatus {
    /// The file the store reloads from.
    pub source: PathBuf,
    /// `counter-hash` of the active policy.
    pub version: String,
    /// The SHA-256 of the active policy file, hex.
    pub sha256: String,
    /// When the active policy was activated (start-up or last successful reload).
    pub activated_at: SystemTime,
    /// The last reload attempt that failed after the last activation, if any.
    pub last_error: Option<ReloadFailure>,
    /// Activations since start-up (the first load counts as 1).
    pub activations: u64,
    /// Reload attempts that failed.
    pub failures: u64,
}

/// A reload that was refused; the active policy did not change.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReloadFailure {
    /// When it was refused.
    pub at: SystemTime,
    /// Why.
    pub error: PolicyError,
}

/// What a successful reload did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// A new policy is active, with this version.
    Activated(String),
    /// The file's content is the active one's: nothing was done.
    Unchanged(String),
}

/// A reload that did not activate the file; the active policy did not change.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{error}")]
#[non_exhaustive]
pub struct ReloadRefused {
    /// Why the file was refused.
    pub error: PolicyError,
    /// The file still reads as it did when it was last refused (the same content, or the same
    /// read error): nothing was parsed or compiled again, and nothing was counted. `error` is
    /// that refusal's.
    pub repeated: bool,
}

/// The active policy of a server and its reload bookkeeping.
///
/// Readers never lock and never see half a policy. A reload activates the file only when its
/// content changed and passes every check; otherwise the last good policy stays active and
/// the refusal is kept in [`PolicyStore::status`]. What triggers reloads (a file watcher, a
/// signal, an admin API) is the embedder's.
///
/// ```
/// use gavel_policy::{PolicyStore, ReloadOutcome};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("policy.toml");
/// std::fs::write(&path, "version = 1\n[[allow]]\nexact = \"https://a.example\"\n")?;
/// let store = PolicyStore::open(&path)?;
/// assert!(store.current().version().starts_with("1-"));
///
/// // Unchanged content: nothing to do.
/// assert!(matches!(store.reload(), Ok(ReloadOutcome::Unchanged(_))));
///
/// // A file that fails a check is refused; the last good policy stays active.
/// std::fs::write(&path, "version = 1\n[[allow]]\nexact = \"https://b.example/\"\n")?;
/// let refused = store.reload().unwrap_err();
/// assert!(refused.to_string().contains("policy.toml:3:9: error: an origin has no path"));
/// assert_eq!(store.status().failures, 1);
/// assert!(store.current().version().starts_with("1-"));
///
/// // A good file is activated with the next counter.
/// std::fs::write(&path, "version = 1\n[[allow]]\nexact = \"https://b.example\"\n")?;
/// let Ok(ReloadOutcome::Activated(version)) = store.reload() else { panic!("activated") };
/// assert!(version.starts_with("2-"));
/// assert_eq!(store.current().version(), version);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PolicyStore {
    source: PathBuf,
    active: ArcSwap<Policy>,
    status: Mutex<StoreStatus>,
    /// What the file read as when it was last refused (see [`fingerprint`]).
    refused: Mutex<Option<String>>,
    /// Serializes reloads so that two triggers at once cannot interleave their bookkeeping.
    reloading: Mutex<()>,
}

impl PolicyStore {
    /// Loads the policy for start-up; an invalid policy is an error (the server refuses to start).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let source = path.as_ref().to_path_buf();
        let mut policy = Policy::from_file(&source)?;
        policy.set_counter(1);
        let status = StoreStatus {
            source: source.clone(),
            version: policy.version().to_owned(),
            sha256: policy.source.sha256.clone(),
            activated_at: SystemTime::now(),
            last_error: None,
            activations: 1,
            failures: 0,
        };
        Ok(Self {
            source,
            active: ArcSwap::from_pointee(policy),
            status: Mutex::new(status),
            refused: Mutex::new(None),
            reloading: Mutex::new(()),
        })
    }

    /// The active policy. Cheap; never blocks on a reload.
    pub fn current(&self) -> Arc<Policy> {
        self.active.load_full()
    }

    /// The store's status, copied.
    pub fn status(&self) -> StoreStatus {
        self.status.lock().expect("status lock").clone()
    }

    /// Re-reads the source file and activates it if it changed and passes every check.
    /// Blocking: it reads and compiles the file (call it off an async runtime's workers).
    /// Reloads are serialized; decisions go on meanwhile.
    pub fn reload(&self) -> Result<ReloadOutcome, ReloadRefused> {
        let _one_at_a_time = self.reloading.lock().expect("reload lock");
        let read = crate::limits::read_bounded(&self.source);
        let print = fingerprint(&read);
        let mut refused = self.refused.lock().expect("refused lock");
        if refused.as_deref() == Some(print.as_str()) {
            return Err(self.repeated_refusal());
        }
        let result = read.and_then(|bytes| self.try_reload(&bytes));
        *refused = result.is_err().then_some(print);
        drop(refused);
        let mut status = self.status.lock().expect("status lock");
        match &result {
            Ok(ReloadOutcome::Activated(_)) => {
                let active = self.active.load();
                status.version = active.version().to_owned();
                status.sha256 = active.source.sha256.clone();
                status.activated_at = SystemTime::now();
                status.last_error = None;
                status.activations += 1;
            }
            Ok(ReloadOutcome::Unchanged(_)) => {}
            Err(error) => {
                status.failures += 1;
                status.last_error = Some(ReloadFailure {
                    at: SystemTime::now(),
                    error: error.clone(),
                });
            }
        }
        result.map_err(|error| ReloadRefused {
            error,
            repeated: false,
        })
    }

    /// The refusal of content that was refused before, as it was given then.
    fn repeated_refusal(&self) -> ReloadRefused {
        let status = self.status.lock().expect("status lock");
        let error = match &status.last_error {
            Some(failure) => failure.error.clone(),
            None => PolicyError::io(&self.source, &std::io::Error::other("refused before")),
        };
        ReloadRefused {
            error,
            repeated: true,
        }
    }

    fn try_reload(&self, bytes: &[u8]) -> Result<ReloadOutcome, PolicyError> {
        let active = self.active.load();
        if crate::load::sha256_hex(bytes) == active.source.sha256 {
            return Ok(ReloadOutcome::Unchanged(active.version().to_owned()));
        }
        let mut policy = crate::load::load(&self.source, bytes)?;
        let activations = self.status.lock().expect("status lock").activations;
        policy.set_counter(activations + 1);
        let version = policy.version().to_owned();
        self.active.store(Arc::new(policy));
        Ok(ReloadOutcome::Activated(version))
    }
}

/// What a read of the policy file is remembered by: the content's hash, or the error that
/// kept it from being read (a file over the size limit is refused whatever its content, so its
/// error, which names its size, stands for it).
fn fingerprint(read: &Result<Vec<u8>, PolicyError>) -> String {
    match read {
        Ok(bytes) => crate::load::sha256_hex(bytes),
        Err(e) => format!("unreadable: {e}"),
    }
}
