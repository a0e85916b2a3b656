//! The answer of the policy: a verdict *and* everything needed to understand it.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use crate::facts::Surface;
use crate::hint::Hint;
use crate::origin::{MalformedOrigin, Origin};
use crate::proxy::ProxyReport;
use crate::rules::RuleRef;

/// Allowed or denied: the answer of a decision, and what `[requests]` settings and table cases
/// say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The request may proceed (and, over HTTP, gets CORS headers).
    Allow,
    /// The request is refused (unless the policy is report-only).
    Deny,
}

impl Verdict {
    /// `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "allow" => Ok(Self::Allow),
            "deny" => Ok(Self::Deny),
            _ => Err(format!(
                "`{s}` is not a verdict; expected `allow` or `deny`"
            )),
        }
    }
}

/// Why the verdict is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// An allow rule matched (not `same_origin`).
    AllowRule,
    /// The `same_origin` rule matched: the origin is the request's public origin.
    SameOrigin,
    /// A deny rule matched.
    DenyRule,
    /// No rule matched.
    NoRuleMatched,
    /// The `Origin` header is not an origin: always refused (400).
    MalformedOrigin,
    /// `Origin: null`, decided by `requests.null_origin`.
    NullOrigin,
    /// No `Origin` header, decided by `requests.missing_origin`.
    MissingOrigin,
}

impl Reason {
    /// The kebab-case name logs, metrics and JSON use, e.g. `no-rule-matched`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllowRule => "allow-rule",
            Self::SameOrigin => "same-origin",
            Self::DenyRule => "deny-rule",
            Self::NoRuleMatched => "no-rule-matched",
            Self::MalformedOrigin => "malformed-origin",
            Self::NullOrigin => "null-origin",
            Self::MissingOrigin => "missing-origin",
        }
    }
}

/// One decision about one request: the verdict *and* everything needed to understand it.
///
/// Read it through its accessors. It displays as the multi-line form `gavel policy explain`
/// prints, and serializes (see [`Decision::to_json`]) as the JSON the CLI and the admin API
/// answer with.
///
/// ```
/// use gavel_policy::{ConnScheme, Policy, Reason, RequestFacts, RuleKind, Surface, Verdict};
/// use http::HeaderMap;
///
/// let policy = Policy::from_source("p.toml", r#"
/// version = 1
/// [[allow]]
/// name = "previews"
/// glob = "https://*.preview.example.com"
/// "#)?;
/// let mut headers = HeaderMap::new();
/// headers.insert("origin", "https://PR-7.preview.example.com".parse()?);
/// headers.insert("host", "api.example.com".parse()?);
/// let decision = policy.decide(&RequestFacts {
///     headers: &headers,
///     peer: "203.0.113.7".parse()?,
///     scheme: ConnScheme::Https,
///     surface: Surface::Websocket,
///     path: "/api/socket.io/",
/// });
///
/// assert!(decision.is_allowed());
/// assert_eq!(decision.reason(), Reason::AllowRule);
/// let rule = decision.rule().expect("a rule decided");
/// assert_eq!((rule.name(), rule.kind(), rule.line()), ("previews", RuleKind::Glob, 3));
/// assert_eq!(decision.raw_origin(), Some("https://PR-7.preview.example.com"));
/// assert_eq!(decision.origin().map(|o| o.as_str()), Some("https://pr-7.preview.example.com"));
/// assert_eq!(decision.surface(), Surface::Websocket);
/// assert!(decision.hints().is_empty());
/// assert!(decision.is_enforced());
/// assert_eq!(decision.policy_version(), policy.version());
/// assert_eq!(
///     decision.summary(),
///     "origin `https://pr-7.preview.example.com` is allowed by rule `previews`"
/// );
/// assert_eq!(decision.to_json()["rule_detail"]["kind"], "glob");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Decision {
    pub(crate) verdict: Verdict,
    pub(crate) reason: Reason,
    pub(crate) rule: Option<Arc<RuleRef>>,
    pub(crate) raw_origin: Option<String>,
    pub(crate) origin: Option<Origin>,
    pub(crate) malformed: Option<MalformedOrigin>,
    pub(crate) public_origin: Option<Origin>,
    pub(crate) proxy: ProxyReport,
    pub(crate) surface: Surface,
    pub(crate) peer: IpAddr,
    pub(crate) path: String,
    pub(crate) hints: Vec<Hint>,
    pub(crate) enforced: bool,
    pub(crate) policy_version: Arc<str>,
}

impl Decision {
    /// Allowed or denied.
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// Why the verdict is what it is.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// The rule that decided, if a rule did. Shared: cloning the `Arc` costs no allocation.
    pub fn rule(&self) -> Option<&Arc<RuleRef>> {
        self.rule.as_ref()
    }

    /// The `Origin` header as received, lossily decoded (`None` when there was none).
    pub fn raw_origin(&self) -> Option<&str> {
        self.raw_origin.as_deref()
    }

    /// The normalized origin (`None` when missing, `null` or malformed).
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// What is wrong with a malformed origin.
    pub fn malformed(&self) -> Option<&MalformedOrigin> {
        self.malformed.as_ref()
    }

    /// The origin the client used to reach the server, from the connection and trusted proxy
    /// headers. Computed when a `same_origin` rule or a denial needed it (always by
    /// [`Policy::explain`](crate::Policy::explain)); `None` otherwise, or without a usable `Host`.
    pub fn public_origin(&self) -> Option<&Origin> {
        self.public_origin.as_ref()
    }

    /// How the public origin was found: which headers, from which proxy, what was ignored.
    pub fn proxy(&self) -> &ProxyReport {
        &self.proxy
    }

    /// Where the request arrived.
    pub fn surface(&self) -> Surface {
        self.surface
    }

    /// The address of the connection's peer.
    pub fn peer(&self) -> IpAddr {
        self.peer
    }

    /// The request path, for logs.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Near misses and other findings that explain a denial (empty for most allowed requests).
    pub fn hints(&self) -> &[Hint] {
        &self.hints
    }

    /// `false` in `report-only` mode: a denial is logged and counted but not enforced.
    pub fn is_enforced(&self) -> bool {
        self.enforced
    }

    /// The version of the policy that decided (see [`Policy::version`](crate::Policy::version)).
    pub fn policy_version(&self) -> &str {
        &self.policy_version
    }

    /// Whether the verdict is [`Verdict::Allow`].
    pub fn is_allowed(&self) -> bool {
        self.verdict == Verdict::Allow
    }

    /// The status a denial is answered with: 400 for a malformed origin, 403 otherwise.
    pub fn denial_status(&self) -> u16 {
        if self.reason == Reason::MalformedOrigin {
            400
        } else {
            403
        }
    }

    /// One line for humans, e.g. for a problem+json `detail`.
    pub fn summary(&self) -> String {
        let who = match (&self.origin, &self.raw_origin) {
            (Some(o), _) => format!("origin `{o}`"),
            (None, Some(raw)) => format!("origin header `{}`", raw.escape_debug()),
            (None, None) => "a request without Origin".to_owned(),
        };
        let why = match self.reason {
            Reason::AllowRule | Reason::DenyRule => {
                format!("by rule `{}`", self.rule.as_ref().map_or("?", |r| r.name()))
            }
            Reason::SameOrigin => "as the request's own public origin".to_owned(),
            Reason::NoRuleMatched => "because no allow rule matches".to_owned(),
            Reason::MalformedOrigin => format!(
                "because it is malformed: {}",
                self.malformed
                    .as_ref()
                    .map_or_else(|| "?".to_owned(), ToString::to_string)
            ),
            Reason::NullOrigin => "by requests.null_origin".to_owned(),
            Reason::MissingOrigin => "by requests.missing_origin".to_owned(),
        };
        let verb = match self.verdict {
            Verdict::Allow => "allowed",
            Verdict::Deny => "denied",
        };
        format!("{who} is {verb} {why}")
    }

    /// The JSON form shared by the CLI (`gavel policy explain --format json`) and the admin
    /// API: the [`Serialize`](serde::Serialize) form as a value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a decision serializes to JSON")
    }
}

impl serde::Serialize for Decision {
    /// `verdict`, `reason`, `summary`, `rule` (its name), `rule_detail`, `raw_origin`,
    /// `origin`, `malformed` (the problem as text), `public_origin`, `proxy`, `surface`,
    /// `peer`, `path`, `hints` (as text), `enforced`, `policy_version`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Decision", 16)?;
        s.serialize_field("verdict", &self.verdict)?;
        s.serialize_field("reason", &self.reason)?;
        s.serialize_field("summary", &self.summary())?;
        s.serialize_field("rule", &self.rule.as_ref().map(|r| r.name()))?;
        s.serialize_field("rule_detail", &self.rule)?;
        s.serialize_field("raw_origin", &self.raw_origin)?;
        s.serialize_field("origin", &self.origin)?;
        s.serialize_field(
            "malformed",
            &self.malformed.as_ref().map(ToString::to_string),
        )?;
        s.serialize_field("public_origin", &self.public_origin)?;
        s.serialize_field("proxy", &self.proxy)?;
        s.serialize_field("surface", &self.surface)?;
        s.serialize_field("peer", &self.peer)?;
        s.serialize_field("path", &self.path)?;
        s.serialize_field("hints", &self.hints)?;
        s.serialize_field("enforced", &self.enforced)?;
        s.serialize_field("policy_version", &*self.policy_version)?;
        s.end()
    }
}

impl fmt::Display for Decision {
    /// The multi-line form `gavel policy explain` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "verdict:        {}", self.verdict.as_str())?;
        writeln!(f, "reason:         {}", self.reason.as_str())?;
        writeln!(f, "summary:        {}", self.summary())?;
        match &self.rule {
            Some(r) => writeln!(
                f,
                "rule:           {} ({} {}) at {}:{}",
                r.name(),
                r.action().as_str(),
                r.matcher(),
                r.file(),
                r.line()
            )?,
            None => writeln!(f, "rule:           -")?,
        }
        let opt = |o: &Option<Origin>| o.as_ref().map_or("-".to_owned(), ToString::to_string);
        writeln!(
            f,
            "origin:         {}",
            self.raw_origin
                .as_deref()
                .map_or("(no Origin header)".to_owned(), |r| format!(
                    "{:?} -> {}",
                    r,
                    opt(&self.origin)
                ))
        )?;
        if let Some(m) = &self.malformed {
            writeln!(f, "malformed:      {m}")?;
        }
        writeln!(
            f,
            "public origin:  {} (from {})",
            opt(&self.public_origin),
            self.proxy.source
        )?;
        writeln!(
            f,
            "peer:           {} ({})",
            self.peer,
            if self.proxy.peer_trusted {
                "trusted proxy"
            } else {
                "not a trusted proxy"
            }
        )?;
        if let Some(via) = self.proxy.via {
            writeln!(f, "via proxy:      {via}")?;
        }
        writeln!(f, "surface:        {}", self.surface)?;
        if !self.enforced {
            writeln!(
                f,
                "mode:           report-only (a denial is logged, not enforced)"
            )?;
        }
        // A denial's hints repeat these already.
        if self.is_allowed() {
            for note in &self.proxy.ignored {
                writeln!(f, "ignored:        {note}")?;
            }
        }
        for hint in &self.hints {
            writeln!(f, "hint:           {hint}")?;
        }
        Ok(())
    }
}
