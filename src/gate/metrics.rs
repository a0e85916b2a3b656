//! Prometheus metrics of the gate and the policy store (`/metrics`, text format).
//!
//! Label values come from the policy (rule names), so their length and number are bounded
//! here: whatever the policy and the traffic, `/metrics` stays small enough to scrape.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use gavel_policy::{Decision, RuleRef};

/// Label values are cut to this many bytes (at a character boundary). Rule names may be twice
/// as long; two names that agree on their first 64 bytes share a series.
pub const MAX_LABEL_BYTES: usize = 64;

/// Distinct label sets of the decisions family that name a rule. Decisions that would add more
/// are counted under `rule="other"` (with their verdict, surface and enforcement), which adds
/// at most 2 × 5 × 2 sets; decisions no rule made are labelled with their reason, a fixed set.
/// About 100 kB of `/metrics` in all.
pub const MAX_LABEL_SETS: usize = 500;

/// The rule label of decisions past [`MAX_LABEL_SETS`].
const OTHER: &str = "other";

/// `value` cut to [`MAX_LABEL_BYTES`] at a character boundary.
fn bounded(value: &str) -> &str {
    if value.len() <= MAX_LABEL_BYTES {
        return value;
    }
    let mut end = MAX_LABEL_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// The deciding rule's name, or the reason kind when no rule decided. Holds the decision's
/// `Arc` so counting a decision allocates nothing.
#[derive(Clone, Debug)]
enum RuleLabel {
    Rule(Arc<RuleRef>),
    Reason(&'static str),
}

impl RuleLabel {
    /// The value as exported: compared, hashed and encoded bounded.
    fn as_str(&self) -> &str {
        match self {
            Self::Rule(r) => bounded(r.name()),
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
    /// Label sets created in `decisions` (may count a set twice when two threads race to
    /// create it: the bound errs on the small side).
    decision_sets: AtomicUsize,
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
    /// The longest rule label on `/metrics`, in bytes (longer names are cut).
    pub const MAX_LABEL_BYTES: usize = MAX_LABEL_BYTES;
    /// The most label sets naming a rule per family (the rest count under `rule="other"`).
    pub const MAX_LABEL_SETS: usize = MAX_LABEL_SETS;

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
            decision_sets: AtomicUsize::new(0),
            reloads,
            reload_failures,
            active_version,
            sessions_disconnected,
        }
    }

    pub fn decision(&self, d: &Decision) {
        let rule = match d.rule() {
            Some(r) => RuleLabel::Rule(r.clone()),
            None => RuleLabel::Reason(d.reason().as_str()),
        };
        let mut labels = DecisionLabels {
            verdict: d.verdict().as_str(),
            surface: d.surface().as_str(),
            rule,
            enforced: if d.is_enforced() { "true" } else { "false" },
        };
        // The usual case: a series that exists already.
        if let Some(counter) = self.decisions.get(&labels) {
            counter.inc();
            return;
        }
        // Reasons are a fixed set; only rule names, which the policy chooses, are capped.
        if matches!(labels.rule, RuleLabel::Rule(_))
            && self.decision_sets.fetch_add(1, Ordering::Relaxed) >= MAX_LABEL_SETS
        {
            self.decision_sets.fetch_sub(1, Ordering::Relaxed);
            labels.rule = RuleLabel::Reason(OTHER);
        }
        self.decisions.get_or_create(&labels).inc();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_cut_at_a_character_boundary() {
        assert_eq!(bounded("frontend"), "frontend");
        assert_eq!(bounded(&"a".repeat(128)).len(), MAX_LABEL_BYTES);
        // `é` is two bytes: cutting at 64 would split the last one.
        let name = format!("a{}", "é".repeat(70));
        assert_eq!(bounded(&name).len(), MAX_LABEL_BYTES - 1);
    }
}
