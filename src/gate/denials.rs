//! The denial log: every denial at WARN with everything needed to fix the policy, at most once
//! per (origin, surface, reason) per minute.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::policy::{Decision, Reason, Surface};

const WINDOW: Duration = Duration::from_secs(60);
/// Past this many remembered keys, expired ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct DenialLog {
    last: Mutex<HashMap<(String, Surface, Reason), Instant>>,
}

impl DenialLog {
    /// Logs the denial unless the same one was logged within the last minute.
    /// Returns whether it logged.
    pub fn record(&self, decision: &Decision) -> bool {
        let key = (
            decision.raw_origin.clone().unwrap_or_default(),
            decision.surface,
            decision.reason,
        );
        let now = Instant::now();
        {
            let mut last = self.last.lock().expect("denial log lock");
            if last
                .get(&key)
                .is_some_and(|at| now.duration_since(*at) < WINDOW)
            {
                return false;
            }
            if last.len() >= SWEEP_AT {
                last.retain(|_, at| now.duration_since(*at) < WINDOW);
            }
            last.insert(key, now);
        }
        let opt = |o: &Option<crate::policy::Origin>| o.as_ref().map(|o| o.to_string());
        tracing::warn!(
            origin = decision.raw_origin.as_deref(),
            normalized_origin = opt(&decision.origin),
            public_origin = opt(&decision.public_origin),
            public_origin_from = decision.proxy.source,
            peer = %decision.peer,
            surface = %decision.surface,
            path = %decision.path,
            reason = decision.reason.as_str(),
            rule = decision.rule.as_ref().map(|r| r.name.as_str()),
            rule_line = decision.rule.as_ref().map(|r| r.line),
            hints = ?decision.hints,
            enforced = decision.enforced,
            policy_version = %decision.policy_version,
            "{}",
            if decision.enforced {
                format!("origin denied: {}", decision.summary())
            } else {
                format!("origin would be denied (report-only): {}", decision.summary())
            }
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{ConnScheme, Policy, RequestFacts};

    fn denial(policy: &Policy, origin: &str, surface: Surface) -> Decision {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::ORIGIN, origin.parse().unwrap());
        policy.decide(&RequestFacts {
            headers: &headers,
            peer: "203.0.113.1".parse().unwrap(),
            scheme: ConnScheme::Http,
            surface,
            path: "/",
        })
    }

    #[test]
    fn logs_each_origin_surface_and_reason_once_per_minute() {
        let policy = Policy::from_source(
            "p.toml",
            "version = 1\n[[allow]]\nexact = \"https://a.io\"\n",
        )
        .unwrap();
        let log = DenialLog::default();
        let d = denial(&policy, "https://evil.io", Surface::Http);
        assert!(log.record(&d));
        assert!(
            !log.record(&d),
            "the same denial within a minute is not logged again"
        );
        assert!(log.record(&denial(&policy, "https://evil.io", Surface::PollingPost)));
        assert!(log.record(&denial(&policy, "https://other.io", Surface::Http)));
        assert!(log.record(&denial(&policy, "https://evil.io/", Surface::Http)));
    }
}
