//! The CORS headers a decision is answered with, from the policy's `[cors]`.
//!
//! One implementation for every adapter (Gavel's poem gate, the `gavel-tower` layer), so that
//! the same decision gets the same headers whatever serves it. See the
//! [Fetch standard's CORS protocol](https://fetch.spec.whatwg.org/#http-cors-protocol).

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, HeaderMap, HeaderValue, VARY,
};

use crate::{Decision, Policy, Reason, RuleKind};

/// `Vary` for every response: caches must never mix answers for different origins.
pub const VARY_ACTUAL: &str = "Origin";
/// `Vary` for preflight answers.
pub const VARY_PREFLIGHT: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// The `Access-Control-Allow-Origin` value for a decision that lets the request through, or
/// `None` when there is nothing to allow (no Origin, or a malformed one).
fn allow_origin(
    policy: &Policy,
    decision: &Decision,
    sent: Option<&HeaderValue>,
) -> Option<HeaderValue> {
    let wildcard = decision
        .rule()
        .is_some_and(|r| r.kind() == RuleKind::Wildcard);
    if wildcard && !policy.cors().credentials() {
        return Some(HeaderValue::from_static("*"));
    }
    match decision.reason() {
        Reason::MissingOrigin | Reason::MalformedOrigin => None,
        Reason::NullOrigin => Some(HeaderValue::from_static("null")),
        // Echo what the browser sent (trimmed): it compares byte for byte with its own
        // serialization, which is what the normalized origin equals for every browser.
        _ => match sent {
            Some(v) if v.as_bytes().trim_ascii().len() == v.len() => Some(v.clone()),
            _ => decision
                .raw_origin()
                .and_then(|raw| HeaderValue::from_str(raw.trim()).ok()),
        },
    }
}

/// What a decision may be granted. A denial only reaches here in report-only mode, which
/// lets the request through but must not open the door wider than enforcing would: an origin
/// a `[[deny]]` rule matches, `null` and a malformed origin get no CORS headers at all, and an
/// origin that no allow rule matched gets them without credentials.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Grant {
    Nothing,
    WithoutCredentials,
    Full,
}

fn grant(decision: &Decision) -> Grant {
    // In report-only, `null` never gets CORS, whatever `requests.null_origin` says.
    if !decision.is_enforced() && decision.reason() == Reason::NullOrigin {
        return Grant::Nothing;
    }
    if decision.is_allowed() {
        return Grant::Full;
    }
    match decision.reason() {
        Reason::DenyRule | Reason::NullOrigin | Reason::MalformedOrigin => Grant::Nothing,
        _ => Grant::WithoutCredentials,
    }
}

/// `Access-Control-Allow-Origin` (and `-Allow-Credentials`); `false` when there is no origin
/// to allow.
fn insert_origin(
    policy: &Policy,
    decision: &Decision,
    sent: Option<&HeaderValue>,
    out: &mut HeaderMap,
) -> bool {
    let grant = grant(decision);
    if grant == Grant::Nothing {
        return false;
    }
    let Some(origin) = allow_origin(policy, decision, sent) else {
        return false;
    };
    out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if policy.cors().credentials() && grant == Grant::Full {
        out.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    true
}

/// Headers for an actual (non-preflight) request from an origin the gate lets through;
/// `sent` is the request's `Origin` header, echoed without a copy.
pub fn actual(
    policy: &Policy,
    decision: &Decision,
    sent: Option<&HeaderValue>,
    out: &mut HeaderMap,
) {
    out.reserve(4);
    add_vary(out, VARY_ACTUAL);
    if !insert_origin(policy, decision, sent, out) {
        return;
    }
    if let Some(expose) = policy.cors().expose_headers_value() {
        out.insert(ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
    }
}

/// Headers for a preflight the gate answers itself: only the methods and the requested
/// headers the policy allows.
pub fn preflight(policy: &Policy, decision: &Decision, request: &HeaderMap, out: &mut HeaderMap) {
    add_vary(out, VARY_PREFLIGHT);
    let sent = request.get(http::header::ORIGIN);
    if !insert_origin(policy, decision, sent, out) {
        return;
    }
    out.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        policy.cors().allow_methods_value().clone(),
    );
    let requested: Vec<String> = request
        .get_all(ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    let allowed: Vec<&str> = requested
        .iter()
        .filter(|h| {
            policy
                .cors()
                .allow_headers()
                .iter()
                .any(|a| a.as_str() == h.as_str())
        })
        .map(String::as_str)
        .collect();
    if !allowed.is_empty() {
        out.insert(ACCESS_CONTROL_ALLOW_HEADERS, join(allowed.into_iter()));
    }
    if let Some(age) = policy.cors().max_age_secs() {
        out.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(age));
    }
}

/// Adds `value` to `Vary` unless it is there already.
pub fn add_vary(out: &mut HeaderMap, value: &'static str) {
    let present = out
        .get_all(VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.eq_ignore_ascii_case(value));
    if !present {
        out.append(VARY, HeaderValue::from_static(value));
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> HeaderValue {
    HeaderValue::from_str(&items.collect::<Vec<_>>().join(", ")).expect("validated header names")
}
