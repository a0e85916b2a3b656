//! The origin policy engine: policy files in, one explainable decision out.
//!
//! It knows nothing of poem, Socket.IO or auctions; its inputs are `http` types. A [`Policy`] is
//! loaded (parsed, validated, compiled, its `[[expect]]` guard rails run) from TOML, and
//! [`Policy::decide`] answers every question about a request's origin with a [`Decision`] that
//! carries the verdict *and* its diagnostics: the deciding rule with its file and line, the
//! normalized and public origins, and near-miss hints for denials.
//!
//! ```
//! use gavel_policy::{Policy, RequestFacts, Surface, ConnScheme, Verdict};
//! use http::HeaderMap;
//!
//! let policy = Policy::from_source("inline.toml", r#"
//!     version = 1
//!     [[allow]]
//!     name = "frontend"
//!     exact = "https://draft.example.com"
//! "#).unwrap();
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("origin", "https://draft.example.com:443".parse().unwrap());
//! let facts = RequestFacts {
//!     headers: &headers,
//!     peer: "203.0.113.7".parse().unwrap(),
//!     scheme: ConnScheme::Https,
//!     surface: Surface::PollingPost,
//!     path: "/api/socket.io/",
//! };
//! let decision = policy.decide(&facts);
//! assert_eq!(decision.verdict, Verdict::Allow);
//! assert_eq!(decision.rule.unwrap().name, "frontend");
//! ```

mod cases;
mod decide;
mod decision;
mod diagnostics;
mod facts;
mod foreign;
mod glob;
mod hints;
mod keys;
pub mod limits;
mod load;
mod origin;
mod pattern;
mod proxy;
mod rules;
mod schema;
mod shadow;
mod store;
mod table;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use cases::{CaseRequest, DEFAULT_PEER, header};
pub use decide::ScanningPolicy;
pub use decision::{Decision, Reason, Verdict};
pub use diagnostics::{Diagnostic, Location, Severity};
pub use facts::{ConnScheme, RequestFacts, Surface};
pub use foreign::PROBES as FOREIGN_PROBES;
pub use glob::{OriginGlob, label_path};
pub use origin::{MAX_ORIGIN_LEN, MalformedOrigin, Origin, RequestOrigin};
pub use proxy::{FORWARDING_HEADERS, ProxyReport, TrustedProxies};
pub use rules::{Action, Matcher, Rule, RuleRef};
pub use store::{PolicyStore, ReloadFailure, ReloadOutcome, ReloadRefused, StoreStatus};
pub use table::{CaseOutcome, TableReport, run_table};

use cases::Expectation;
use rules::RuleSet;

/// `enforce` or `report-only`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Enforce,
    ReportOnly,
}

/// How an allowed origin is answered over HTTP (`[cors]`).
#[derive(Clone, Debug)]
pub struct CorsSettings {
    pub credentials: bool,
    /// Capped at 86400 s at load.
    pub max_age_secs: Option<u32>,
    pub allow_methods: Vec<http::Method>,
    pub allow_headers: Vec<http::HeaderName>,
    pub expose_headers: Vec<http::HeaderName>,
    /// `allow_methods` joined for `Access-Control-Allow-Methods`.
    pub allow_methods_value: http::HeaderValue,
    /// `expose_headers` joined for `Access-Control-Expose-Headers` (`None` when empty).
    pub expose_headers_value: Option<http::HeaderValue>,
}

/// Where the policy came from.
#[derive(Clone, Debug)]
pub struct PolicySource {
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// A loaded, validated and compiled origin policy.
#[derive(Debug)]
pub struct Policy {
    pub source: PolicySource,
    pub mode: Mode,
    pub cors: CorsSettings,
    /// The verdict for a request without `Origin`.
    pub missing_origin: Verdict,
    /// The verdict for `Origin: null`.
    pub null_origin: Verdict,
    pub trusted_proxies: TrustedProxies,
    /// Warnings and notes found while loading (errors prevent loading).
    pub diagnostics: Vec<Diagnostic>,
    allow: RuleSet,
    deny: RuleSet,
    /// Exact allow rules by host without a trailing dot, for near-miss hints.
    exact_by_host: HashMap<String, Vec<usize>>,
    expectations: Vec<Expectation>,
    version: std::sync::Arc<str>,
    cache: decide::DecisionCache,
}

/// A policy file that cannot be loaded: every error found, each with `file:line:col`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.render())]
pub struct PolicyError {
    pub diagnostics: Vec<Diagnostic>,
}

impl PolicyError {
    fn render(&self) -> String {
        self.diagnostics
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        Self {
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                location: Location {
                    file: path.to_path_buf(),
                    line: 0,
                    column: 0,
                },
                message: format!("cannot read the file: {e}"),
                help: None,
            }],
        }
    }
}

impl Policy {
    /// Reads, validates and compiles a policy file, and runs its `[[expect]]` guard rails.
    /// A file over [`limits::MAX_FILE_BYTES`] is refused without being read whole.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let path = path.as_ref();
        load::load(path, &limits::read_bounded(path)?)
    }

    /// Like [`Policy::from_file`], from text; `path` is used in messages only.
    pub fn from_source(path: impl AsRef<Path>, source: &str) -> Result<Self, PolicyError> {
        load::load(path.as_ref(), source.as_bytes())
    }

    /// Decides one request. This is the only place an origin is judged.
    pub fn decide(&self, facts: &RequestFacts<'_>) -> Decision {
        decide::decide(self, &self.allow, &self.deny, Some(&self.cache), facts)
    }

    /// [`Policy::decide`] without its cache of repeated allowed origins: what the benchmark of
    /// the matching itself measures.
    #[doc(hidden)]
    pub fn decide_uncached(&self, facts: &RequestFacts<'_>) -> Decision {
        decide::decide(self, &self.allow, &self.deny, None, facts)
    }

    /// [`Policy::decide`], with the public origin filled in even where the verdict did not need
    /// it (the CLI's and the admin API's `explain`).
    pub fn explain(&self, facts: &RequestFacts<'_>) -> Decision {
        let mut decision = self.decide(facts);
        if decision.proxy.source.is_empty() {
            (decision.public_origin, decision.proxy) = self.trusted_proxies.public_origin(facts);
        }
        decision
    }

    /// The allow rules, then the deny rules, in file order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.allow.rules.iter().chain(self.deny.rules.iter())
    }

    /// `counter-hash`; the counter is 0 until a store activates the policy.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Sets the activation counter (the store does this when it swaps the policy in).
    pub fn set_counter(&mut self, counter: u64) {
        self.version = format!("{counter}-{}", &self.source.sha256[..12]).into();
    }

    /// The same decisions, computed by trying every rule in turn (benchmark and test baseline).
    #[doc(hidden)]
    pub fn scanning(&self) -> ScanningPolicy<'_> {
        ScanningPolicy::new(self)
    }

    /// Runs the policy's own `[[expect]]` guard rails; the failures, if any.
    pub fn check_expectations(&self) -> Vec<Diagnostic> {
        cases::check_expectations(self, &self.expectations)
    }
}
