//! The decision: one order of questions, the same for every surface.
//!
//! 1. a malformed origin is refused (400);
//! 2. `null` is decided by `requests.null_origin`, a missing `Origin` by `requests.missing_origin`;
//! 3. any matching deny rule denies;
//! 4. the first allow rule in file order that matches allows;
//! 5. otherwise: denied, with near-miss hints.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::decision::{Decision, Reason, Verdict};
use super::facts::RequestFacts;
use super::hints;
use super::origin::{Origin, RequestOrigin};
use super::proxy::ProxyReport;
use super::rules::{Matcher, Rule, RuleRef, RuleSet, ScanningRuleSet};
use super::{Mode, Policy};

/// Finds the first rule of a kind that matches; compiled sets and the scanning baseline both
/// implement it, so they share everything else.
pub(crate) trait Lookup {
    fn first_match<'p>(
        &self,
        origin: &Origin,
        public: &dyn Fn() -> Option<&'p Origin>,
    ) -> Option<&Rule>;
}

impl Lookup for RuleSet {
    fn first_match<'p>(
        &self,
        origin: &Origin,
        public: &dyn Fn() -> Option<&'p Origin>,
    ) -> Option<&Rule> {
        RuleSet::first_match(self, origin, public)
    }
}

impl Lookup for ScanningRuleSet<'_> {
    fn first_match<'p>(
        &self,
        origin: &Origin,
        public: &dyn Fn() -> Option<&'p Origin>,
    ) -> Option<&Rule> {
        ScanningRuleSet::first_match(self, origin, public)
    }
}

/// Allowed decisions that depended on the `Origin` value alone — not on the public origin,
/// the peer or any other header — keyed by the header's bytes: a repeat skips parsing and
/// matching. Bounded: once full, nothing more is added (a policy reload starts afresh).
#[derive(Default)]
pub(crate) struct DecisionCache {
    map: RwLock<HashMap<Box<[u8]>, Cached>>,
}

/// What a cached decision needs: the normalized origin and the allow rule that decided.
type Cached = (Origin, Arc<RuleRef>);

const CACHE_CAPACITY: usize = 1024;

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.map.read().map_or(0, |m| m.len());
        write!(f, "DecisionCache({len} entries)")
    }
}

impl DecisionCache {
    fn get(&self, raw: &[u8]) -> Option<Cached> {
        self.map.read().ok()?.get(raw).cloned()
    }

    fn insert(&self, raw: &[u8], origin: &Origin, rule: &Arc<RuleRef>) {
        if let Ok(mut map) = self.map.write()
            && map.len() < CACHE_CAPACITY
        {
            map.insert(raw.into(), (origin.clone(), rule.clone()));
        }
    }
}

/// The request's only `Origin` header, when it has exactly one.
fn single_origin(headers: &http::HeaderMap) -> Option<&http::HeaderValue> {
    let mut values = headers.get_all(http::header::ORIGIN).iter();
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

pub(crate) fn decide(
    policy: &Policy,
    allow: &dyn Lookup,
    deny: &dyn Lookup,
    cache: Option<&DecisionCache>,
    facts: &RequestFacts<'_>,
) -> Decision {
    let single = single_origin(facts.headers);
    let lossy = |v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let mut decision = Decision {
        verdict: Verdict::Deny,
        reason: Reason::NoRuleMatched,
        rule: None,
        raw_origin: None,
        origin: None,
        malformed: None,
        public_origin: None,
        proxy: ProxyReport::default(),
        surface: facts.surface,
        peer: facts.peer,
        path: facts.path.to_owned(),
        hints: Vec::new(),
        enforced: policy.mode == Mode::Enforce,
        policy_version: policy.version.clone(),
    };
    if let (Some(cache), Some(value)) = (cache, single)
        && let Some((origin, rule)) = cache.get(value.as_bytes())
    {
        decision.verdict = Verdict::Allow;
        decision.reason = Reason::AllowRule;
        decision.rule = Some(rule);
        decision.raw_origin = Some(lossy(value));
        decision.origin = Some(origin);
        return decision;
    }
    let request_origin = RequestOrigin::from_headers(facts.headers);
    // Computed when a `same_origin` rule needs it or a denial must be explained.
    let public_cell = OnceCell::new();
    let public_of = || public_cell.get_or_init(|| policy.trusted_proxies.public_origin(facts));
    match request_origin {
        RequestOrigin::Missing => {
            decision.reason = Reason::MissingOrigin;
            decision.verdict = policy.missing_origin;
        }
        RequestOrigin::Null => {
            decision.raw_origin = Some("null".to_owned());
            decision.reason = Reason::NullOrigin;
            decision.verdict = policy.null_origin;
        }
        RequestOrigin::Malformed { raw, problem } => {
            (decision.public_origin, decision.proxy) = public_of().clone();
            decision.reason = Reason::MalformedOrigin;
            decision.hints = hints::for_malformed(allow, deny, &raw, &problem, &decision);
            decision.raw_origin = Some(raw);
            decision.malformed = Some(problem);
        }
        RequestOrigin::Present(origin) => {
            let public = || public_of().0.as_ref();
            if let Some(rule) = deny.first_match(&origin, &public) {
                decision.reason = Reason::DenyRule;
                decision.rule = Some(rule.reference());
            } else if let Some(rule) = allow.first_match(&origin, &public) {
                decision.verdict = Verdict::Allow;
                decision.reason = match rule.matcher {
                    Matcher::SameOrigin => Reason::SameOrigin,
                    _ => Reason::AllowRule,
                };
                decision.rule = Some(rule.reference());
            } else {
                (decision.public_origin, decision.proxy) = public_of().clone();
                decision.hints = hints::near_misses(policy, allow, deny, &origin, &decision);
            }
            decision.raw_origin = facts.headers.get(http::header::ORIGIN).map(lossy);
            if let (Some(cache), Some(value), Some(rule)) = (cache, single, &decision.rule)
                && decision.reason == Reason::AllowRule
                && public_cell.get().is_none()
            {
                cache.insert(value.as_bytes(), &origin, rule);
            }
            decision.origin = Some(origin);
        }
    }
    if decision.verdict == Verdict::Deny
        && let Some(hint) = hints::for_requests_setting(&decision)
    {
        decision.hints.push(hint);
    }
    if decision.verdict == Verdict::Deny {
        // A denial's log line always shows the public origin.
        public_of();
    }
    if let Some((public, proxy)) = public_cell.into_inner() {
        (decision.public_origin, decision.proxy) = (public, proxy);
    }
    decision
}

/// A policy whose rules are tried one by one: the naive baseline of the benchmark, and the
/// oracle of the property test that the compiled sets decide alike.
pub struct ScanningPolicy<'a> {
    policy: &'a Policy,
    allow: ScanningRuleSet<'a>,
    deny: ScanningRuleSet<'a>,
}

impl<'a> ScanningPolicy<'a> {
    pub(crate) fn new(policy: &'a Policy) -> Self {
        Self {
            policy,
            allow: ScanningRuleSet::new(&policy.allow.rules),
            deny: ScanningRuleSet::new(&policy.deny.rules),
        }
    }

    pub fn decide(&self, facts: &RequestFacts<'_>) -> Decision {
        decide(self.policy, &self.allow, &self.deny, None, facts)
    }
}
