//! The active policy, swapped atomically on reload.
//!
//! Readers never lock and never see half a policy: the store is an `ArcSwap`. A reload reads
//! the file, and only when its content hash differs from the active one parses, validates,
//! compiles and runs the guard rails; only a policy that passes all of it replaces the active
//! one. Otherwise the last good policy stays and the error is kept for the admin API (like
//! OPA's status: active version, last successful activation, last error).
//!
//! What triggers a reload (file watching, `SIGHUP`, the admin API) lives with the server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::SystemTime;

use arc_swap::ArcSwap;

use super::{Policy, PolicyError};

/// What the store can tell about itself.
#[derive(Clone, Debug)]
pub struct StoreStatus {
    /// The file the store reloads from.
    pub source: PathBuf,
    /// `counter-hash` of the active policy.
    pub version: String,
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
pub struct ReloadFailure {
    pub at: SystemTime,
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

/// The active policy and its reload bookkeeping.
pub struct PolicyStore {
    source: PathBuf,
    active: ArcSwap<Policy>,
    status: Mutex<StoreStatus>,
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
            reloading: Mutex::new(()),
        })
    }

    /// The active policy. Cheap; never blocks on a reload.
    pub fn current(&self) -> Arc<Policy> {
        self.active.load_full()
    }

    pub fn status(&self) -> StoreStatus {
        self.status.lock().expect("status lock").clone()
    }

    /// Re-reads the source file and activates it if it changed and passes every check.
    pub fn reload(&self) -> Result<ReloadOutcome, PolicyError> {
        let _one_at_a_time = self.reloading.lock().expect("reload lock");
        let result = self.try_reload();
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
        result
    }

    fn try_reload(&self) -> Result<ReloadOutcome, PolicyError> {
        let bytes = std::fs::read(&self.source).map_err(|e| PolicyError::io(&self.source, &e))?;
        let active = self.active.load();
        if super::load::sha256_hex(&bytes) == active.source.sha256 {
            return Ok(ReloadOutcome::Unchanged(active.version().to_owned()));
        }
        let mut policy = super::load::load(&self.source, &bytes)?;
        let activations = self.status.lock().expect("status lock").activations;
        policy.set_counter(activations + 1);
        let version = policy.version().to_owned();
        self.active.store(Arc::new(policy));
        Ok(ReloadOutcome::Activated(version))
    }
}
