//! Prometheus metrics of the gate and the policy store (`/metrics`, text format).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::policy::Decision;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    verdict: &'static str,
    surface: &'static str,
    /// The deciding rule's name, or the reason kind when no rule decided.
    rule: String,
    enforced: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: String,
}

pub struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    reloads: Counter,
    reload_failures: Counter,
    active_version: Family<VersionLabels, Gauge>,
    sessions_disconnected: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gavel");
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "origin_decisions",
            "Origin decisions by verdict, surface and deciding rule",
            decisions.clone(),
        );
        let reloads = Counter::default();
        registry.register(
            "policy_reloads",
            "Policy activations after start-up",
            reloads.clone(),
        );
        let reload_failures = Counter::default();
        registry.register(
            "policy_reload_failures",
            "Policy reloads refused (the last good policy stayed active)",
            reload_failures.clone(),
        );
        let active_version = Family::<VersionLabels, Gauge>::default();
        registry.register(
            "policy_active",
            "1 for the active policy version (counter-hash)",
            active_version.clone(),
        );
        let sessions_disconnected = Counter::default();
        registry.register(
            "sessions_disconnected_by_reload",
            "Socket.IO sessions disconnected because a reloaded policy denies their origin",
            sessions_disconnected.clone(),
        );
        Self {
            registry,
            decisions,
            reloads,
            reload_failures,
            active_version,
            sessions_disconnected,
        }
    }

    pub fn decision(&self, d: &Decision) {
        let rule = d
            .rule
            .as_ref()
            .map_or_else(|| d.reason.as_str().to_owned(), |r| r.name.clone());
        self.decisions
            .get_or_create(&DecisionLabels {
                verdict: d.verdict.as_str(),
                surface: d.surface.as_str(),
                rule,
                enforced: if d.enforced { "true" } else { "false" },
            })
            .inc();
    }

    pub fn activated(&self, version: &str, previous: Option<&str>) {
        if let Some(previous) = previous {
            self.active_version.remove(&VersionLabels {
                version: previous.to_owned(),
            });
            self.reloads.inc();
        }
        self.active_version
            .get_or_create(&VersionLabels {
                version: version.to_owned(),
            })
            .set(1);
    }

    pub fn reload_failed(&self) {
        self.reload_failures.inc();
    }

    pub fn sessions_disconnected(&self, n: u64) {
        self.sessions_disconnected.inc_by(n);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
