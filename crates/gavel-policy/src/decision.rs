//! The answer of the policy: a verdict *and* everything needed to understand it.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use super::facts::Surface;
use super::origin::{MalformedOrigin, Origin};
use super::proxy::ProxyReport;
use super::rules::RuleRef;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
}

impl Verdict {
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

/// One decision about one request.
#[derive(Clone, Debug)]
pub struct Decision {
    pub verdict: Verdict,
    pub reason: Reason,
    /// The rule that decided, if a rule did.
    pub rule: Option<Arc<RuleRef>>,
    /// The `Origin` header as received (`None` when there was none).
    pub raw_origin: Option<String>,
    /// The normalized origin (`None` when missing, `null` or malformed).
    pub origin: Option<Origin>,
    /// What is wrong with a malformed origin.
    pub malformed: Option<MalformedOrigin>,
    /// The origin the client used to reach us, from the connection and trusted proxy headers.
    pub public_origin: Option<Origin>,
    pub proxy: ProxyReport,
    pub surface: Surface,
    pub peer: IpAddr,
    pub path: String,
    /// Near misses and other findings that explain a denial.
    pub hints: Vec<String>,
    /// `false` in `report-only` mode: a denial is logged and counted but not enforced.
    pub enforced: bool,
    /// The version of the policy that decided (`counter-hash` once a store activated it).
    pub policy_version: Arc<str>,
}

impl Decision {
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
            Reason::AllowRule | Reason::DenyRule => format!(
                "by rule `{}`",
                self.rule.as_ref().map_or("?", |r| r.name.as_str())
            ),
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

    /// The JSON form shared by the CLI and the admin API.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "verdict": self.verdict,
            "reason": self.reason,
            "summary": self.summary(),
            "rule": self.rule.as_ref().map(|r| r.name.clone()),
            "rule_detail": self.rule,
            "raw_origin": self.raw_origin,
            "origin": self.origin,
            "malformed": self.malformed.as_ref().map(ToString::to_string),
            "public_origin": self.public_origin,
            "proxy": self.proxy,
            "surface": self.surface,
            "peer": self.peer,
            "path": self.path,
            "hints": self.hints,
            "enforced": self.enforced,
            "policy_version": self.policy_version,
        })
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
                r.name,
                r.action.as_str(),
                r.matcher,
                r.file,
                r.line
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
