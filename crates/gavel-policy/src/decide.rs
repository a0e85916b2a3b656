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

use crate::decision::{Decision, Reason, Verdict};
use crate::facts::RequestFacts;
use crate::hints;
use crate::origin::{Origin, RequestOrigin};
use crate::policy::{Mode, Policy};
use crate::proxy::ProxyReport;
use crate::rules::{Matcher, Rule, RuleRef, RuleSet, ScanningRuleSet};

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

fn lossy(value: &http::HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// The request's public origin, computed at most once and only when asked: when a
/// `same_origin` rule needs it or a denial must be explained (it costs more than the rest of a
/// decision).
struct LazyPublic<'a> {
    policy: &'a Policy,
    facts: &'a RequestFacts<'a>,
    cell: OnceCell<(Option<Origin>, ProxyReport)>,
}

impl<'a> LazyPublic<'a> {
    fn new(policy: &'a Policy, facts: &'a RequestFacts<'a>) -> Self {
        Self {
            policy,
            facts,
            cell: OnceCell::new(),
        }
    }

    fn get(&self) -> &(Option<Origin>, ProxyReport) {
        self.cell
            .get_or_init(|| self.policy.trusted_proxies.public_origin(self.facts))
    }

    fn origin(&self) -> Option<&Origin> {
        self.get().0.as_ref()
    }

    fn was_computed(&self) -> bool {
        self.cell.get().is_some()
    }
}

/// A denial with no reason yet, carrying what every decision reports.
fn undecided(policy: &Policy, facts: &RequestFacts<'_>) -> Decision {
    Decision {
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
    }
}

/// Decides one request with the given lookups (compiled or scanning) and, optionally, the
/// cache of allowed origins.
pub(crate) fn decide(
    policy: &Policy,
    allow: &dyn Lookup,
    deny: &dyn Lookup,
    cache: Option<&DecisionCache>,
    facts: &RequestFacts<'_>,
) -> Decision {
    let single = single_origin(facts.headers);
    let mut decision = undecided(policy, facts);
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
    let lookups = Lookups { allow, deny };
    let public = LazyPublic::new(policy, facts);
    match RequestOrigin::from_headers(facts.headers) {
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
            (decision.public_origin, decision.proxy) = public.get().clone();
            decision.reason = Reason::MalformedOrigin;
            decision.hints = hints::for_malformed(allow, deny, &raw, &problem, &decision);
            decision.raw_origin = Some(raw);
            decision.malformed = Some(problem);
        }
        RequestOrigin::Present(origin) => {
            decide_present(policy, &lookups, &public, &origin, &mut decision);
            decision.raw_origin = facts.headers.get(http::header::ORIGIN).map(lossy);
            if let (Some(cache), Some(value), Some(rule)) = (cache, single, &decision.rule)
                && decision.reason == Reason::AllowRule
                && !public.was_computed()
            {
                cache.insert(value.as_bytes(), &origin, rule);
            }
            decision.origin = Some(origin);
        }
    }
    finish(decision, public)
}

/// The allow and deny lookups of one decision.
struct Lookups<'l> {
    allow: &'l dyn Lookup,
    deny: &'l dyn Lookup,
}

/// Steps 3 to 5 for a well-formed origin: deny rules, allow rules, near misses.
fn decide_present(
    policy: &Policy,
    lookups: &Lookups<'_>,
    public: &LazyPublic<'_>,
    origin: &Origin,
    decision: &mut Decision,
) {
    let public_origin = || public.origin();
    if let Some(rule) = lookups.deny.first_match(origin, &public_origin) {
        decision.reason = Reason::DenyRule;
        decision.rule = Some(rule.reference());
    } else if let Some(rule) = lookups.allow.first_match(origin, &public_origin) {
        decision.verdict = Verdict::Allow;
        decision.reason = match rule.matcher {
            Matcher::SameOrigin => Reason::SameOrigin,
            _ => Reason::AllowRule,
        };
        decision.rule = Some(rule.reference());
    } else {
        (decision.public_origin, decision.proxy) = public.get().clone();
        decision.hints = hints::near_misses(policy, lookups.allow, lookups.deny, origin, decision);
    }
}

/// What every denial gets: the `[requests]` hint where one applies, and the public origin (a
/// denial's log line always shows it).
fn finish(mut decision: Decision, public: LazyPublic<'_>) -> Decision {
    if decision.verdict == Verdict::Deny {
        if let Some(hint) = hints::for_requests_setting(&decision) {
            decision.hints.push(hint);
        }
        public.get();
    }
    if let Some((origin, proxy)) = public.cell.into_inner() {
        (decision.public_origin, decision.proxy) = (origin, proxy);
    }
    decision
}

/// A policy whose rules are tried one by one, each with its own compiled matcher: the naive
/// baseline of the decision benchmark, and the oracle of the property test that the compiled
/// rule sets decide alike. Get one from [`Policy::scanning`].
///
/// ```
/// use gavel_policy::{ConnScheme, Policy, RequestFacts, Surface};
/// use http::HeaderMap;
///
/// let policy = Policy::from_source("p.toml", "version = 1\n[[allow]]\nglob = \"https://*.a.example\"\n")?;
/// let mut headers = HeaderMap::new();
/// headers.insert("origin", "https://x.a.example".parse()?);
/// let facts = RequestFacts {
///     headers: &headers,
///     peer: "203.0.113.7".parse()?,
///     scheme: ConnScheme::Https,
///     surface: Surface::Http,
///     path: "/",
/// };
/// assert_eq!(policy.scanning().decide(&facts).verdict(), policy.decide(&facts).verdict());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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

    /// Decides like [`Policy::decide`] (without its cache), trying every rule in turn.
    pub fn decide(&self, facts: &RequestFacts<'_>) -> Decision {
        decide(self.policy, &self.allow, &self.deny, None, facts)
    }
}
