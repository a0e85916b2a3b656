//! Finding the hints of a denial.
//!
//! Hints never scan the rules: they try a handful of *variants* of the denied origin (other
//! scheme, default port, no trailing dot, one label less or more) against the same compiled
//! lookups, and look up exact rules on the same host in a small index.

use crate::Policy;
use crate::decide::Lookup;
use crate::decision::{Decision, Reason, Verdict};
use crate::hint::{Difference, Hint};
use crate::origin::{MalformedOrigin, Origin};
use crate::rules::{Matcher, Rule};

/// A changed copy of the denied origin, and what was changed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Scheme,
    Port,
    TrailingDot,
    LabelTooDeep,
    BareParent,
}

/// Hints in the order found, each once.
#[derive(Default)]
struct Found(Vec<Hint>);

impl Found {
    fn push(&mut self, hint: Hint) {
        if !self.0.contains(&hint) {
            self.0.push(hint);
        }
    }
}

/// The allow rule that would allow `origin`, unless a deny rule matches it.
fn allowed_by<'a>(
    allow: &'a dyn Lookup,
    deny: &dyn Lookup,
    origin: &Origin,
    public: Option<&Origin>,
) -> Option<&'a Rule> {
    let public = || public;
    if deny.first_match(origin, &public).is_some() {
        return None;
    }
    allow.first_match(origin, &public)
}

/// Hints for an origin that no allow rule matched.
pub(crate) fn near_misses(
    policy: &Policy,
    allow: &dyn Lookup,
    deny: &dyn Lookup,
    origin: &Origin,
    decision: &Decision,
) -> Vec<Hint> {
    let mut found = Found::default();
    let hinted = variant_hints(allow, deny, origin, decision, &mut found);
    same_host_hints(policy, origin, &hinted, &mut found);
    if let Some(rule) = policy.allow.same_origin_rule() {
        same_origin_hint(rule, origin, decision, &mut found);
    }
    for ignored in &decision.proxy.ignored {
        found.push(Hint::ForwardingIgnored(ignored.clone()));
    }
    found.0
}

/// The variants of `origin` worth trying.
fn variants(origin: &Origin) -> Vec<(Variant, Origin)> {
    let host = origin.host();
    let mut variants = Vec::new();
    let swapped = match origin.scheme() {
        "http" => Some("https"),
        "https" => Some("http"),
        "ws" => Some("wss"),
        "wss" => Some("ws"),
        _ => None,
    };
    if let Some(s) = swapped {
        variants.push((Variant::Scheme, origin.with_scheme(s)));
    }
    if origin.port().is_some() {
        variants.push((Variant::Port, origin.with_port(None)));
    }
    if let Some(stripped) = host.strip_suffix('.') {
        variants.push((Variant::TrailingDot, origin.with_host(stripped)));
    }
    if !host.starts_with('[')
        && let Some((_, parent)) = host.split_once('.')
        && parent.contains('.')
    {
        variants.push((Variant::LabelTooDeep, origin.with_host(parent)));
    }
    if !host.starts_with('[') {
        variants.push((Variant::BareParent, origin.with_host(&format!("x.{host}"))));
    }
    variants
}

/// Hints for variants an allow rule would allow; returns the names of the rules that did.
fn variant_hints<'a>(
    allow: &'a dyn Lookup,
    deny: &dyn Lookup,
    origin: &Origin,
    decision: &Decision,
    found: &mut Found,
) -> Vec<&'a str> {
    let public = decision.public_origin.as_ref();
    let mut hinted = Vec::new();
    for (variant, candidate) in variants(origin) {
        let Some(rule) = allowed_by(allow, deny, &candidate, public) else {
            continue;
        };
        hinted.push(rule.name.as_str());
        let is_glob = matches!(rule.matcher, Matcher::Glob(_));
        let near_miss = |difference| Hint::NearMiss {
            difference,
            rule: rule.reference(),
            allowed: candidate.clone(),
        };
        let hint = match variant {
            Variant::Scheme => near_miss(Difference::Scheme),
            Variant::Port => near_miss(Difference::Port),
            Variant::TrailingDot => near_miss(Difference::TrailingDot),
            Variant::LabelTooDeep if is_glob => Hint::LabelTooDeep {
                rule: rule.reference(),
            },
            Variant::BareParent if is_glob => Hint::BareParent {
                rule: rule.reference(),
                origin: origin.clone(),
            },
            _ => continue,
        };
        found.push(hint);
    }
    hinted
}

/// Exact allow rules on the same host with another port or scheme (ports cannot be
/// enumerated as variants), unless a variant named the rule already.
fn same_host_hints(policy: &Policy, origin: &Origin, hinted: &[&str], found: &mut Found) {
    let bare_host = origin.host().trim_end_matches('.');
    for &i in policy.exact_by_host.get(bare_host).into_iter().flatten() {
        let rule = &policy.allow.rules[i];
        let Matcher::Exact(allowed) = &rule.matcher else {
            continue;
        };
        if hinted.contains(&rule.name.as_str()) {
            continue;
        }
        let mut differences = Vec::new();
        if allowed.scheme() != origin.scheme() {
            differences.push(Difference::Scheme);
        }
        if allowed.port() != origin.port() {
            differences.push(Difference::Port);
        }
        if allowed.host() != origin.host() {
            differences.push(Difference::TrailingDot);
        }
        if !differences.is_empty() {
            found.push(Hint::SameHost {
                rule: rule.reference(),
                differences,
            });
        }
    }
}

/// Why the `same_origin` rule did not allow `origin`.
fn same_origin_hint(rule: &Rule, origin: &Origin, decision: &Decision, found: &mut Found) {
    match decision.public_origin.as_ref() {
        Some(public) if public != origin => found.push(Hint::NotPublicOrigin {
            rule: rule.reference(),
            public_origin: public.clone(),
            computed_from: decision.proxy.source,
            only_scheme_differs: public.host() == origin.host()
                && public.scheme() != origin.scheme(),
            peer: decision.peer,
            peer_trusted: decision.proxy.peer_trusted,
        }),
        None => found.push(Hint::NoUsableHost {
            rule: rule.reference(),
        }),
        _ => {}
    }
}

/// Hints for a malformed `Origin` header.
pub(crate) fn for_malformed(
    allow: &dyn Lookup,
    deny: &dyn Lookup,
    raw: &str,
    problem: &MalformedOrigin,
    decision: &Decision,
) -> Vec<Hint> {
    let public = decision.public_origin.as_ref();
    let hint = match problem {
        MalformedOrigin::Path(path) => {
            let trimmed = raw.trim_matches([' ', '\t']);
            let without = trimmed.strip_suffix(path.as_str()).unwrap_or(trimmed);
            let allowed = Origin::parse(without)
                .ok()
                .and_then(|o| allowed_by(allow, deny, &o, public).map(|rule| (o, rule)));
            match allowed {
                Some((allowed, rule)) => Hint::PathWouldBeAllowed {
                    allowed,
                    path: path.clone(),
                    rule: rule.reference(),
                },
                None => Hint::HasPath,
            }
        }
        MalformedOrigin::UserInfo => Hint::UserInfo,
        MalformedOrigin::List => Hint::List,
        MalformedOrigin::Conflicting => Hint::ConflictingHeaders,
        MalformedOrigin::Wildcard => Hint::WildcardHost,
        _ => return Vec::new(),
    };
    vec![hint]
}

/// A hint for denials decided by `[requests]`.
pub(crate) fn for_requests_setting(decision: &Decision) -> Option<Hint> {
    debug_assert_eq!(decision.verdict, Verdict::Deny);
    match decision.reason {
        Reason::NullOrigin => Some(Hint::NullOriginDenied),
        Reason::MissingOrigin => Some(Hint::MissingOriginDenied),
        _ => None,
    }
}
