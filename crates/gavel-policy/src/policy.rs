//! A loaded policy and what it answers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cases::Expectation;
use crate::cors::CorsSettings;
use crate::decide::{self, DecisionCache, ScanningPolicy};
use crate::decision::{Decision, Verdict};
use crate::diagnostics::{Diagnostic, Location, Severity};
use crate::facts::RequestFacts;
use crate::proxy::TrustedProxies;
use crate::rules::{RuleRef, RuleSet};
use crate::{cases, limits, load};

/// Whether denials are enforced: the policy file's `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `enforce` (the default): a denied request is refused.
    Enforce,
    /// `report-only`: a denial is logged and counted as if enforced, but the request passes
    /// (see [`Decision::is_enforced`]).
    ReportOnly,
}

impl Mode {
    /// `enforce` or `report-only`, as the policy file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::ReportOnly => "report-only",
        }
    }
}

/// Where a policy came from.
#[derive(Clone, Debug)]
pub(crate) struct PolicySource {
    pub(crate) path: PathBuf,
    /// SHA-256 of the file's bytes, hex.
    pub(crate) sha256: String,
}

/// A loaded, validated and compiled origin policy.
///
/// Immutable once loaded (only its activation counter can be set); share it behind an `Arc`
/// and decide from any number of threads. A server that reloads its policy keeps it in a
/// [`PolicyStore`](crate::PolicyStore).
#[derive(Debug)]
pub struct Policy {
    pub(crate) source: PolicySource,
    pub(crate) mode: Mode,
    pub(crate) cors: CorsSettings,
    pub(crate) missing_origin: Verdict,
    pub(crate) null_origin: Verdict,
    pub(crate) trusted_proxies: TrustedProxies,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) allow: RuleSet,
    pub(crate) deny: RuleSet,
    /// Exact allow rules by host without a trailing dot, for near-miss hints.
    pub(crate) exact_by_host: HashMap<String, Vec<usize>>,
    pub(crate) expectations: Vec<Expectation>,
    pub(crate) version: Arc<str>,
    pub(crate) cache: DecisionCache,
}

/// A policy file that cannot be loaded: every error found, each with `file:line:col`.
///
/// It displays as one diagnostic per line, errors first in file order, e.g.
/// `p.toml:3:9: error: an origin has no path; did you mean `https://a.com`?`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.render())]
pub struct PolicyError {
    diagnostics: Vec<Diagnostic>,
}

impl PolicyError {
    pub(crate) fn new(diagnostics: Vec<Diagnostic>) -> Self {
        Self { diagnostics }
    }

    /// The errors (and the warnings that may explain them), in the order they are displayed.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    fn render(&self) -> String {
        self.diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// An error about the file as a whole: `message` with no line.
    pub(crate) fn file(path: &Path, message: String) -> Self {
        Self::new(vec![Diagnostic {
            severity: Severity::Error,
            location: Location::whole(path),
            message,
            help: None,
        }])
    }

    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        Self::file(path, format!("cannot read the file: {e}"))
    }
}

impl Policy {
    /// Reads, validates and compiles a policy file, and runs its `[[expect]]` guard rails.
    /// A file over [`MAX_FILE_BYTES`](crate::MAX_FILE_BYTES) is refused without being read
    /// whole.
    ///
    /// ```
    /// use gavel_policy::Policy;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("policy.toml");
    /// std::fs::write(&path, "version = 1\n[[allow]]\nexact = \"https://a.example\"\n")?;
    /// let policy = Policy::from_file(&path)?;
    /// assert_eq!(policy.rules().count(), 1);
    ///
    /// std::fs::write(&path, "version = 1\n[[allow]]\nexact = \"https://a.example/\"\n")?;
    /// let error = Policy::from_file(&path).unwrap_err();
    /// assert!(error.to_string().ends_with(
    ///     "policy.toml:3:9: error: an origin has no path; did you mean `https://a.example`?"
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let path = path.as_ref();
        load::load(path, &limits::read_bounded(path)?)
    }

    /// Like [`Policy::from_file`], from text; `path` is used in messages only.
    ///
    /// ```
    /// use gavel_policy::{Policy, Severity};
    ///
    /// let policy = Policy::from_source("inline.toml", "version = 1\n[[allow]]\nwildcard = true\n")?;
    /// let warning = &policy.diagnostics()[0];
    /// assert_eq!(warning.severity, Severity::Warning);
    /// assert_eq!(warning.to_string(), "inline.toml:3:12: warning: wildcard = true allows every origin");
    ///
    /// let refused = Policy::from_source("inline.toml", "version = 1\n[cors]\ncredential = true\n");
    /// assert!(refused.unwrap_err().to_string().ends_with("did you mean `credentials`?"));
    /// # Ok::<(), gavel_policy::PolicyError>(())
    /// ```
    pub fn from_source(path: impl AsRef<Path>, source: &str) -> Result<Self, PolicyError> {
        load::load(path.as_ref(), source.as_bytes())
    }

    /// Decides one request. This is the only place an origin is judged.
    ///
    /// The questions are asked in one order, the same for every [`Surface`](crate::Surface):
    /// a malformed `Origin` is denied (400); `Origin: null` and a missing `Origin` are decided
    /// by the policy's `[requests]`; any matching deny rule denies; the first allow rule in
    /// file order that matches allows; otherwise the request is denied, with near-miss hints.
    ///
    /// ```
    /// use gavel_policy::{ConnScheme, Policy, Reason, RequestFacts, Surface, Verdict};
    /// use http::HeaderMap;
    ///
    /// let policy = Policy::from_source("p.toml", "version = 1\n[[allow]]\nname = \"app\"\nexact = \"https://app.example\"\n")?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert("origin", "http://app.example".parse()?);
    /// let decision = policy.decide(&RequestFacts {
    ///     headers: &headers,
    ///     peer: "198.51.100.4".parse()?,
    ///     scheme: ConnScheme::Https,
    ///     surface: Surface::Http,
    ///     path: "/api/auctions",
    /// });
    /// assert_eq!((decision.verdict(), decision.reason()), (Verdict::Deny, Reason::NoRuleMatched));
    /// assert_eq!(decision.denial_status(), 403);
    /// assert_eq!(
    ///     decision.hints()[0].to_string(),
    ///     "differs from allowed `exact = \"https://app.example\"` (rule `app`, line 2) only by \
    ///      its scheme: `https://app.example` would be allowed"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decide(&self, facts: &RequestFacts<'_>) -> Decision {
        decide::decide(self, &self.allow, &self.deny, Some(&self.cache), facts)
    }

    /// [`Policy::decide`] without its cache of repeated allowed origins: the same decision,
    /// computed afresh (what a benchmark of the matching itself measures).
    pub fn decide_uncached(&self, facts: &RequestFacts<'_>) -> Decision {
        decide::decide(self, &self.allow, &self.deny, None, facts)
    }

    /// [`Policy::decide`], with the public origin filled in even where the verdict did not need
    /// it: what a person asking "why?" wants to see (`gavel policy explain`, the admin API).
    pub fn explain(&self, facts: &RequestFacts<'_>) -> Decision {
        let mut decision = self.decide(facts);
        if decision.proxy.source.is_empty() {
            (decision.public_origin, decision.proxy) = self.trusted_proxies.public_origin(facts);
        }
        decision
    }

    /// The same decisions, computed by trying every rule in turn: the baseline that benchmarks
    /// and differential tests compare the compiled rule sets with.
    pub fn scanning(&self) -> ScanningPolicy<'_> {
        ScanningPolicy::new(self)
    }

    /// The allow rules, then the deny rules, in file order.
    pub fn rules(&self) -> impl Iterator<Item = &RuleRef> {
        self.allow
            .rules
            .iter()
            .chain(self.deny.rules.iter())
            .map(|r| r.reference_ref())
    }

    /// `counter-hash`, e.g. `3-1db5841628f5`; every decision carries it. The counter is 0
    /// until [`Policy::set_counter`] (or a [`PolicyStore`](crate::PolicyStore)) sets it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Sets the activation counter of [`Policy::version`]. A [`PolicyStore`](crate::PolicyStore)
    /// does this as it swaps a policy in; an embedder that swaps policies itself can count its
    /// own activations.
    pub fn set_counter(&mut self, counter: u64) {
        self.version = format!("{counter}-{}", &self.source.sha256[..12]).into();
    }

    /// The file the policy was loaded from (for [`Policy::from_source`], the name given).
    pub fn path(&self) -> &Path {
        &self.source.path
    }

    /// The SHA-256 of the policy file's bytes, in hex: what reloads compare.
    pub fn sha256(&self) -> &str {
        &self.source.sha256
    }

    /// Whether denials are enforced or only reported.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// How an allowed origin is answered over HTTP (the `[cors]` table).
    pub fn cors(&self) -> &CorsSettings {
        &self.cors
    }

    /// The verdict for a request without `Origin` (`requests.missing_origin`; default allow).
    pub fn missing_origin(&self) -> Verdict {
        self.missing_origin
    }

    /// The verdict for `Origin: null` (`requests.null_origin`; default deny).
    pub fn null_origin(&self) -> Verdict {
        self.null_origin
    }

    /// Which peers are proxies and which of their forwarding headers are believed.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }

    /// Warnings and notes found while loading (errors prevent loading).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Runs the policy's own `[[expect]]` guard rails; the failures, if any.
    pub(crate) fn check_expectations(&self) -> Vec<Diagnostic> {
        cases::check_expectations(self, &self.expectations)
    }
}
