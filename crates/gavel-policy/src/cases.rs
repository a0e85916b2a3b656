//! Described requests: the cases of policy tables and the policy's own `[[expect]]` guard rails.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue};
use toml::Spanned;

use crate::decision::{Decision, Verdict};
use crate::diagnostics::{Diagnostic, Diagnostics, Location, Severity};
use crate::facts::{ConnScheme, RequestFacts, Surface};
use crate::policy::Policy;
use crate::schema::{RawExpect, RawRequest};

/// A request described in a table or a guard rail, ready to be decided.
#[derive(Clone, Debug)]
pub(crate) struct CaseRequest {
    /// The raw `Origin` value; `None` sends no `Origin` header.
    pub(crate) origin: Option<String>,
    pub(crate) surface: Surface,
    pub(crate) peer: IpAddr,
    pub(crate) scheme: ConnScheme,
    /// `Origin`, `Host` and any extra headers of the case.
    pub(crate) headers: HeaderMap,
}

impl CaseRequest {
    pub(crate) fn decide(&self, policy: &Policy) -> Decision {
        policy.decide(&self.facts())
    }

    fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            headers: &self.headers,
            peer: self.peer,
            scheme: self.scheme,
            surface: self.surface,
            path: "/",
        }
    }

    /// How the case reads in a report: its origin, or `(no Origin)`.
    pub(crate) fn label(&self) -> String {
        self.origin
            .as_ref()
            .map_or_else(|| "(no Origin)".to_owned(), |o| format!("{o:?}"))
    }
}

/// What a case does not say. Guard rails use the built-in defaults; tables may set their own.
#[derive(Clone, Debug)]
pub(crate) struct CaseDefaults {
    pub surface: Surface,
    pub peer: IpAddr,
    pub host: Option<String>,
    pub scheme: ConnScheme,
    pub headers: Vec<(String, String)>,
}

/// The peer of a described request that names none (table cases, guard rails, `explain`): a
/// documentation address ([RFC 5737](https://www.rfc-editor.org/rfc/rfc5737)), never a trusted
/// proxy unless a policy says so.
pub const DEFAULT_PEER: &str = "192.0.2.1";

impl Default for CaseDefaults {
    fn default() -> Self {
        Self {
            surface: Surface::Http,
            peer: DEFAULT_PEER.parse().expect("valid address"),
            host: None,
            scheme: ConnScheme::Http,
            headers: Vec::new(),
        }
    }
}

/// Overrides defaults with what a `[defaults]` table says.
pub(crate) fn defaults(raw: &RawRequest, d: &mut Diagnostics) -> CaseDefaults {
    let base = CaseDefaults::default();
    if let Some(o) = &raw.origin {
        d.error(
            &o.span(),
            "[defaults] cannot set an origin; each case says its own",
        );
    }
    CaseDefaults {
        surface: field(&raw.surface, base.surface, d),
        peer: field(&raw.peer, base.peer, d),
        host: raw.host.as_ref().map(|h| h.get_ref().clone()),
        scheme: field(&raw.scheme, base.scheme, d),
        headers: raw
            .headers
            .as_ref()
            .map(|h| {
                h.get_ref()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn field<T: std::str::FromStr>(
    value: &Option<Spanned<String>>,
    default: T,
    d: &mut Diagnostics,
) -> T
where
    T::Err: std::fmt::Display,
{
    match value {
        None => default,
        Some(v) => match v.get_ref().parse() {
            Ok(parsed) => parsed,
            Err(e) => {
                d.error(&v.span(), e.to_string());
                default
            }
        },
    }
}

/// Builds the request a case describes; `None` (with errors recorded) when it can't be sent.
pub(crate) fn request(
    raw: &RawRequest,
    defaults: &CaseDefaults,
    d: &mut Diagnostics,
) -> Option<CaseRequest> {
    let errors_before = d.items.len();
    let surface = field(&raw.surface, defaults.surface, d);
    let peer = field(&raw.peer, defaults.peer, d);
    let scheme = field(&raw.scheme, defaults.scheme, d);
    let mut headers = HeaderMap::new();
    let mut add =
        |name: &str, value: &str, span: &std::ops::Range<usize>, d: &mut Diagnostics| match (
            HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            (Ok(n), Ok(v)) => {
                headers.append(n, v);
            }
            (Err(_), _) => d.error(span, format!("`{name}` is not a header name")),
            (_, Err(_)) => d.error(
                span,
                format!(
                    "`{}` cannot be sent as an HTTP header value",
                    value.escape_debug()
                ),
            ),
        };
    if let Some(o) = &raw.origin {
        add("origin", o.get_ref(), &o.span(), d);
    }
    let host = raw.host.as_ref().map(|h| (h.get_ref().clone(), h.span()));
    match (&host, &defaults.host) {
        (Some((h, s)), _) => add("host", h, s, d),
        (None, Some(h)) => add("host", h, &(0..0), d),
        (None, None) => {}
    }
    for (k, v) in &defaults.headers {
        add(k, v, &(0..0), d);
    }
    if let Some(h) = &raw.headers {
        for (k, v) in h.get_ref() {
            add(k, v, &h.span(), d);
        }
    }
    if d.items[errors_before..]
        .iter()
        .any(|i| i.severity == Severity::Error)
    {
        return None;
    }
    Some(CaseRequest {
        origin: raw.origin.as_ref().map(|o| o.get_ref().clone()),
        surface,
        peer,
        scheme,
        headers,
    })
}

/// A header as a table case, a guard rail or a described request names it: the name trimmed and
/// lower-cased, the value as given. The error says which part can't be sent.
///
/// ```
/// use gavel_policy::header;
///
/// let (name, value) = header(" X-Forwarded-Proto", "https")?;
/// assert_eq!((name.as_str(), value.to_str().unwrap()), ("x-forwarded-proto", "https"));
/// assert_eq!(header("bad name", "x").unwrap_err(), "`bad name` is not a header name");
/// # Ok::<(), String>(())
/// ```
pub fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let n = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes())
        .map_err(|_| format!("`{name}` is not a header name"))?;
    let v = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| {
        format!(
            "`{}` cannot be sent as an HTTP header value",
            value.escape_debug()
        )
    })?;
    Ok((n, v))
}

/// Whether a decision is what a case or guard rail expects: the verdict and, when named, the
/// deciding rule.
pub(crate) fn meets(decision: &Decision, verdict: Verdict, rule: Option<&str>) -> bool {
    decision.verdict == verdict
        && rule.is_none_or(|want| decision.rule.as_ref().is_some_and(|r| r.name() == want))
}

/// One `[[expect]]` guard rail.
#[derive(Clone, Debug)]
pub(crate) struct Expectation {
    request: CaseRequest,
    verdict: Verdict,
    rule: Option<String>,
    location: Location,
}

pub(crate) fn expectation(
    raw: &Spanned<RawExpect>,
    defaults: &CaseDefaults,
    rule_names: &[String],
    d: &mut Diagnostics,
) -> Option<Expectation> {
    let e = raw.get_ref();
    let verdict = match e.verdict.get_ref().parse::<Verdict>() {
        Ok(v) => Some(v),
        Err(msg) => {
            d.error(&e.verdict.span(), msg);
            None
        }
    };
    if let Some(rule) = &e.rule
        && !rule_names.contains(rule.get_ref())
    {
        d.error(
            &rule.span(),
            format!("no rule is named `{}`", rule.get_ref()),
        );
        return None;
    }
    let request = request(&e.request(), defaults, d)?;
    Some(Expectation {
        request,
        verdict: verdict?,
        rule: e.rule.as_ref().map(|r| r.get_ref().clone()),
        location: d.location(&raw.span()),
    })
}

/// Runs guard rails; one error per failed expectation.
pub(crate) fn check_expectations(policy: &Policy, expectations: &[Expectation]) -> Vec<Diagnostic> {
    expectations
        .iter()
        .filter_map(|e| {
            let decision = e.request.decide(policy);
            if meets(&decision, e.verdict, e.rule.as_deref()) {
                return None;
            }
            let want = match &e.rule {
                Some(rule) => format!("{} by rule `{rule}`", e.verdict.as_str()),
                None => e.verdict.as_str().to_owned(),
            };
            Some(Diagnostic {
                severity: Severity::Error,
                location: e.location.clone(),
                message: format!(
                    "guard rail failed: {} on {} must be {want}, but {}",
                    e.request.label(),
                    e.request.surface,
                    decision.summary()
                ),
                help: decision.hints.first().map(ToString::to_string),
            })
        })
        .collect()
}
