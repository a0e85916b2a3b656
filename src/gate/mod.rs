//! The gate: applies the policy's one decision to every surface.
//!
//! [`Gate::decide`] is the only way requests are judged here: it asks the active policy,
//! counts the decision and logs a denial (rate-limited). The poem middleware in [`http`]
//! calls it for every route, the Socket.IO endpoint included.

mod denials;
pub mod http;
mod metrics;
mod sessions;

use std::sync::Arc;

pub use self::http::GateMiddleware;
pub use denials::DenialLog;
pub use gavel_policy::cors_headers as cors;
pub use metrics::Metrics;
pub use sessions::{Binding, Check, SessionCap, SessionHandle, SessionSlot, Sessions};

use gavel_policy::{Decision, Policy, PolicyStore, ReloadOutcome, ReloadRefused, RequestFacts};

/// Where Socket.IO (Engine.IO) is served.
pub const SOCKET_IO_PATH: &str = "/api/socket.io";

pub struct Gate {
    pub store: Arc<PolicyStore>,
    pub metrics: Arc<Metrics>,
    pub sessions: Sessions,
    denials: DenialLog,
}

impl Gate {
    pub fn new(store: Arc<PolicyStore>, metrics: Arc<Metrics>) -> Self {
        Self::with_limits(store, metrics, &crate::config::Limits::default())
    }

    pub fn with_limits(
        store: Arc<PolicyStore>,
        metrics: Arc<Metrics>,
        limits: &crate::config::Limits,
    ) -> Self {
        metrics.activated(&store.status().version, None);
        Self {
            store,
            metrics,
            sessions: Sessions::new(limits.max_sessions, limits.max_sessions_per_address),
            denials: DenialLog::per_second(limits.denial_logs_per_second),
        }
    }

    /// Lines about refused requests share one rate bound.
    pub fn refusal_log(&self) -> &crate::telemetry::Throttle {
        self.denials.throttle()
    }

    /// Logs how many denial lines the rate bound suppressed, if any (a periodic task).
    pub fn summarize_suppressed(&self) {
        self.denials
            .throttle()
            .summary("origin denials and session mismatches over the log rate");
    }

    /// Decides one request with the active policy, counts it and logs a denial.
    pub fn decide(&self, facts: &RequestFacts<'_>) -> (Arc<Policy>, Decision) {
        let policy = self.store.current();
        let decision = policy.decide(facts);
        self.metrics.decision(&decision);
        if !decision.is_allowed() {
            self.denials.record(&decision);
        }
        (policy, decision)
    }

    /// Reloads the policy file; logs and counts the outcome. A file still as it was when it was
    /// last refused is neither logged at ERROR nor counted again: whatever triggers reloads
    /// (an editor's saves, a loop of signals) costs one refusal per content.
    pub fn reload(&self, trigger: &str) -> Result<ReloadOutcome, ReloadRefused> {
        let previous = self.store.status().version;
        let outcome = self.store.reload();
        match &outcome {
            Ok(ReloadOutcome::Activated(version)) => {
                self.metrics.activated(version, Some(&previous));
                let policy = self.store.current();
                for d in policy.diagnostics() {
                    tracing::warn!(trigger, "{d}");
                }
                tracing::info!(trigger, version = %version, previous = %previous, "policy activated");
            }
            Ok(ReloadOutcome::Unchanged(version)) => {
                tracing::debug!(trigger, version = %version, "policy unchanged");
            }
            Err(refused) if refused.repeated => {
                tracing::debug!(
                    trigger,
                    active_version = %previous,
                    "policy file unchanged since it was refused; nothing to do"
                );
            }
            Err(refused) => {
                self.metrics.reload_failed();
                tracing::error!(
                    trigger,
                    active_version = %previous,
                    "policy reload refused, the last good policy stays active:\n{}",
                    refused.error
                );
            }
        }
        outcome
    }
}
