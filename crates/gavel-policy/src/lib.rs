//! Gavel's origin policy engine: TOML policy files in, one explainable decision out.
//!
//! It knows nothing of a web framework, Socket.IO or auctions; its inputs are [`http`] types,
//! so any Rust server (or a CLI, or a test) can embed it. The crate's whole API is what this
//! page lists; every module is private but [`cors_headers`].
//!
//! * A [`Policy`] is loaded from a file ([`Policy::from_file`]) or a string
//!   ([`Policy::from_source`]): parsed, validated (every error with `file:line:col` and, where
//!   it can be told, what was meant), compiled, and its own `[[expect]]` guard rails run. A file
//!   that fails any of it is a [`PolicyError`]; risky but valid content loads with warnings
//!   ([`Policy::diagnostics`]).
//! * [`Policy::decide`] answers every question about one request's origin — described by
//!   [`RequestFacts`] — with a [`Decision`]: the [`Verdict`], its [`Reason`], the deciding rule
//!   ([`RuleRef`], with its file and line), the normalized and public [`Origin`]s and, for a
//!   denial, near-miss [`Hint`]s.
//! * [`PolicyStore`] holds the active policy of a server and swaps in a reloaded file only when
//!   it passes every check.
//! * [`run_table`] runs a policy table: allow/deny cases kept beside a policy, run like tests.
//! * [`cors_headers`] turns a decision into the CORS headers of its answer (a preflight's or
//!   any other's), the same for every server that embeds the engine: Gavel's own and the
//!   `gavel-tower` layer.
//!
//! Origins are the serialization of [RFC 6454](https://www.rfc-editor.org/rfc/rfc6454) (see
//! [`Origin`]); a request's public origin comes from the connection and, from trusted proxies
//! only, from [RFC 7239](https://www.rfc-editor.org/rfc/rfc7239) `Forwarded` or `X-Forwarded-*`
//! (see [`TrustedProxies`]).
//!
//! ```
//! use gavel_policy::{ConnScheme, Policy, Reason, RequestFacts, Surface, Verdict};
//! use http::HeaderMap;
//!
//! let policy = Policy::from_source("inline.toml", r#"
//!     version = 1
//!     [[allow]]
//!     name = "frontend"
//!     exact = "https://draft.example.com"
//! "#)?;
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("origin", "https://draft.example.com:443".parse()?);
//! let facts = RequestFacts {
//!     headers: &headers,
//!     peer: "203.0.113.7".parse()?,
//!     scheme: ConnScheme::Https,
//!     surface: Surface::PollingPost,
//!     path: "/api/socket.io/",
//! };
//! let decision = policy.decide(&facts);
//! assert_eq!(decision.verdict(), Verdict::Allow);
//! assert_eq!(decision.reason(), Reason::AllowRule);
//! assert_eq!(decision.rule().map(|r| r.name()), Some("frontend"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod cases;
mod cors;
pub mod cors_headers;
mod decide;
mod decision;
mod diagnostics;
mod facts;
mod foreign;
mod glob;
mod hint;
mod hints;
mod keys;
mod limits;
mod load;
mod origin;
mod pattern;
mod policy;
mod proxy;
mod rules;
mod schema;
mod shadow;
mod store;
mod table;

pub use cases::{DEFAULT_PEER, header};
pub use cors::{CorsSettings, MAX_AGE_CAP_SECS};
pub use decide::ScanningPolicy;
pub use decision::{Decision, Reason, Verdict};
pub use diagnostics::{Diagnostic, Location, Severity};
pub use facts::{ConnScheme, RequestFacts, Surface};
pub use hint::{Difference, Hint};
pub use limits::{
    MAX_EXPECT, MAX_FILE_BYTES, MAX_NAME_BYTES, MAX_NOTE_BYTES, MAX_REGEX_BYTES, MAX_REGEXES_BYTES,
    MAX_RULES,
};
pub use origin::{MAX_ORIGIN_LEN, MalformedOrigin, Origin, RequestOrigin};
pub use policy::{Mode, Policy, PolicyError};
pub use proxy::{FORWARDING_HEADERS, ProxyReport, TrustedProxies};
pub use rules::{Action, RuleKind, RuleRef};
pub use store::{PolicyStore, ReloadFailure, ReloadOutcome, ReloadRefused, StoreStatus};
pub use table::{CaseOutcome, TableReport, run_table};
