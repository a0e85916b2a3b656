//! Near-miss hints: what an admin needs to fix a policy from one log line.
//!
//! Hints never scan the rules: they try a handful of *variants* of the denied origin (other
//! scheme, default port, no trailing dot, one label less or more) against the same compiled
//! lookups, and look up exact rules on the same host in a small index.

use super::Policy;
use super::decide::Lookup;
use super::decision::{Decision, Reason, Verdict};
use super::origin::{MalformedOrigin, Origin};
use super::rules::{Matcher, Rule};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Scheme,
    Port,
    TrailingDot,
    LabelTooDeep,
    BareParent,
}

fn describe(rule: &Rule) -> String {
    format!(
        "`{}` (rule `{}`, line {})",
        rule.matcher, rule.name, rule.location.line
    )
}

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
) -> Vec<String> {
    let public = decision.public_origin.as_ref();
    let mut hints: Vec<String> = Vec::new();
    let mut hinted_rules: Vec<&str> = Vec::new();
    let mut push = |hint: String| {
        if !hints.contains(&hint) {
            hints.push(hint);
        }
    };

    let host = origin.host();
    let mut variants: Vec<(Variant, Origin)> = Vec::new();
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

    for (variant, candidate) in &variants {
        let Some(rule) = allowed_by(allow, deny, candidate, public) else {
            continue;
        };
        let is_glob = matches!(rule.matcher, Matcher::Glob(_));
        hinted_rules.push(&rule.name);
        match variant {
            Variant::Scheme => push(format!(
                "differs from allowed {} only by its scheme: `{candidate}` would be allowed",
                describe(rule)
            )),
            Variant::Port => push(format!(
                "differs from allowed {} only by its port: `{candidate}` would be allowed",
                describe(rule)
            )),
            Variant::TrailingDot => push(format!(
                "differs from allowed {} only by its trailing dot: `{candidate}` would be allowed",
                describe(rule)
            )),
            Variant::LabelTooDeep if is_glob => push(format!(
                "is one label too deep for {}: `*` matches exactly one DNS label; write `**` \
                 for one or more",
                describe(rule)
            )),
            Variant::BareParent if is_glob => push(format!(
                "is the bare parent domain of {}, which a glob never matches; add an exact rule \
                 for `{origin}`",
                describe(rule)
            )),
            _ => {}
        }
    }

    // Exact rules on the same host with another port or scheme (ports cannot be enumerated).
    let bare_host = host.trim_end_matches('.');
    for &i in policy.exact_by_host.get(bare_host).into_iter().flatten() {
        let rule = &policy.allow.rules[i];
        let Matcher::Exact(allowed) = &rule.matcher else {
            continue;
        };
        if hinted_rules.contains(&rule.name.as_str()) {
            continue;
        }
        let mut differences = Vec::new();
        if allowed.scheme() != origin.scheme() {
            differences.push("scheme");
        }
        if allowed.port() != origin.port() {
            differences.push("port");
        }
        if allowed.host() != host {
            differences.push("trailing dot");
        }
        if !differences.is_empty() {
            let only = if differences.len() == 1 { "only " } else { "" };
            push(format!(
                "differs from allowed {} {only}by its {}",
                describe(rule),
                differences.join(" and its ")
            ));
        }
    }

    if let Some(rule) = policy.allow.same_origin_rule() {
        match public {
            Some(public) if public != origin => {
                let why = if public.host() == origin.host() && public.scheme() != origin.scheme() {
                    format!(
                        "; it differs only by its scheme: if a proxy terminates TLS, peer {} must \
                         be in trusted_proxies.cidrs ({}) and send X-Forwarded-Proto or \
                         Forwarded proto",
                        decision.peer,
                        if decision.proxy.peer_trusted {
                            "it is"
                        } else {
                            "it is not"
                        }
                    )
                } else {
                    String::new()
                };
                push(format!(
                    "rule `{}` (same_origin) allows only this request's public origin \
                     `{public}`, computed from {}{why}",
                    rule.name, decision.proxy.source
                ));
            }
            None => push(format!(
                "rule `{}` (same_origin) cannot apply: the request has no usable Host",
                rule.name
            )),
            _ => {}
        }
    }
    for ignored in &decision.proxy.ignored {
        push(ignored.clone());
    }
    hints
}

/// Hints for a malformed `Origin` header.
pub(crate) fn for_malformed(
    allow: &dyn Lookup,
    deny: &dyn Lookup,
    raw: &str,
    problem: &MalformedOrigin,
    decision: &Decision,
) -> Vec<String> {
    let public = decision.public_origin.as_ref();
    match problem {
        MalformedOrigin::Path(path) => {
            let trimmed = raw.trim_matches([' ', '\t']);
            let without = trimmed.strip_suffix(path.as_str()).unwrap_or(trimmed);
            let allowed = Origin::parse(without).ok().and_then(|o| {
                allowed_by(allow, deny, &o, public).map(|rule| (o.clone(), describe(rule)))
            });
            match allowed {
                Some((o, rule)) => vec![format!(
                    "an origin has no path: `{o}` (without `{path}`) would be allowed by {rule}"
                )],
                None => vec!["an origin has no path; browsers never send one".to_owned()],
            }
        }
        MalformedOrigin::UserInfo => vec![
            "`user@host` in an origin is a bypass attempt: the host is what follows the `@`"
                .to_owned(),
        ],
        MalformedOrigin::List => vec![
            "one Origin header holds one origin; a proxy may have merged two headers".to_owned(),
        ],
        MalformedOrigin::Conflicting => vec![
            "two different Origin headers: a proxy or a client library added one (python-socketio's \
             websocket client adds its own unless `websocket_extra_options={\"origin\": …}` is set)"
                .to_owned(),
        ],
        MalformedOrigin::Wildcard => {
            vec!["`*` is a glob, not an origin: browsers never send it".to_owned()]
        }
        _ => Vec::new(),
    }
}

/// A hint for denials decided by `[requests]`.
pub(crate) fn for_requests_setting(decision: &Decision) -> Option<String> {
    debug_assert_eq!(decision.verdict, Verdict::Deny);
    match decision.reason {
        Reason::NullOrigin => Some(
            "`Origin: null` comes from sandboxed iframes, file: pages and some cross-origin \
             redirects; it is denied by requests.null_origin = \"deny\""
                .to_owned(),
        ),
        Reason::MissingOrigin => Some(
            "requests.missing_origin = \"deny\" refuses clients that send no Origin (native apps, \
             curl, same-origin GETs)"
                .to_owned(),
        ),
        _ => None,
    }
}
