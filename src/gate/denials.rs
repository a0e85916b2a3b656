//! The denial log: every denial at WARN with everything needed to fix the policy, at most once
//! per (origin, surface, reason) per minute, and at most so many lines per second in all (a
//! flood of unique origins would otherwise be a flood of log lines); what the rate cut is
//! summarized as "N similar lines suppressed".

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::telemetry::Throttle;
use gavel_policy::{Decision, Reason, Surface};

const WINDOW: Duration = Duration::from_secs(60);
/// Past this many remembered keys, expired ones are swept.
const SWEEP_AT: usize = 10_000;

pub struct DenialLog {
    last: Mutex<HashMap<(String, Surface, Reason), Instant>>,
    throttle: Throttle,
}

impl Default for DenialLog {
    fn default() -> Self {
        Self::per_second(crate::config::Limits::default().denial_logs_per_second)
    }
}

impl DenialLog {
    pub fn per_second(lines: u32) -> Self {
        Self {
            last: Mutex::new(HashMap::new()),
            throttle: Throttle::per_second(lines),
        }
    }

    /// The global bound, shared with other lines about refused requests (session mismatches).
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// Logs the denial unless the same one was logged within the last minute.
    /// Returns whether it logged.
    pub fn record(&self, decision: &Decision) -> bool {
        let key = (
            // An over-long origin is malformed anyway: its first bytes are key enough.
            decision
                .raw_origin()
                .map(crate::api::problem::excerpt)
                .unwrap_or_default(),
            decision.surface(),
            decision.reason(),
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
            // Still full: a flood of unique origins. The rate bound below still holds.
            if last.len() < SWEEP_AT {
                last.insert(key, now);
            }
        }
        if !self.throttle.allow() {
            return false;
        }
        let suppressed = self.throttle.take_suppressed();
        let opt = |o: Option<&gavel_policy::Origin>| o.map(|o| o.to_string());
        // The hints' sentences, logged as the list of strings they always were.
        let hints: Vec<String> = decision.hints().iter().map(ToString::to_string).collect();
        tracing::warn!(
            origin = decision.raw_origin().map(crate::api::problem::excerpt),
            normalized_origin = opt(decision.origin()),
            public_origin = opt(decision.public_origin()),
            public_origin_from = decision.proxy().source,
            peer = %decision.peer(),
            surface = %decision.surface(),
            path = %decision.path(),
            reason = decision.reason().as_str(),
            rule = decision.rule().map(|r| r.name()),
            rule_line = decision.rule().map(|r| r.line()),
            hints = ?hints,
            enforced = decision.is_enforced(),
            policy_version = %decision.policy_version(),
            suppressed_since_last = suppressed,
            "{}",
            if decision.is_enforced() {
                format!("origin denied: {}", crate::api::problem::excerpt(&decision.summary()))
            } else {
                format!(
                    "origin would be denied (report-only): {}",
                    crate::api::problem::excerpt(&decision.summary())
                )
            }
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gavel_policy::{ConnScheme, Policy, RequestFacts};

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

    #[test]
    fn unique_origins_are_logged_at_a_bounded_rate() {
        let policy = Policy::from_source(
            "p.toml",
            "version = 1\n[[allow]]\nexact = \"https://a.io\"\n",
        )
        .unwrap();
        let log = DenialLog::per_second(5);
        let logged = (0..1000)
            .filter(|i| log.record(&denial(&policy, &format!("https://x{i}.io"), Surface::Http)))
            .count();
        assert!(logged <= 10, "{logged} lines for 1000 unique origins");
        assert!(log.throttle().take_suppressed() >= 990);
    }
}
