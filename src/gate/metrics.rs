//! Prometheus metrics of the gate and the policy store (`/metrics`, text format).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::policy::{Decision, RuleRef};

/// The deciding rule's name, or the reason kind when no rule decided. Holds the decision's
/// `Arc` so counting a decision allocates nothing.
#[derive(Clone, Debug)]
enum RuleLabel {
    Rule(Arc<RuleRef>),
    Reason(&'static str),
}

impl RuleLabel {
    fn as_str(&self) -> &str {
        match self {
            Self::Rule(r) => &r.name,
            Self::Reason(r) => r,
        }
    }
}

impl PartialEq for RuleLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RuleLabel {}

impl Hash for RuleLabel {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for RuleLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    verdict: &'static str,
    surface: &'static str,
    rule: RuleLabel,
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
        let rule = match &d.rule {
            Some(r) => RuleLabel::Rule(r.clone()),
            None => RuleLabel::Reason(d.reason.as_str()),
        };
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
