//! Policy tables: allow/deny cases kept beside a policy and run like tests
//! (`gavel policy test`, and `cargo test` for the project's tables).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeTable;

use crate::cases::{self, CaseDefaults};
use crate::decision::{Reason, Verdict};
use crate::diagnostics::Diagnostics;
use crate::facts::Surface;
use crate::policy::{Policy, PolicyError};
use crate::schema::RawRequest;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTable {
    policy: Spanned<String>,
    #[serde(default)]
    defaults: Option<RawRequest>,
    #[serde(default)]
    case: Vec<Spanned<RawCase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCase {
    name: Option<String>,
    /// For readers of the table only.
    #[allow(dead_code)]
    note: Option<String>,
    origin: Option<Spanned<String>>,
    surface: Option<Spanned<String>>,
    peer: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    scheme: Option<Spanned<String>>,
    headers: Option<Spanned<BTreeMap<String, String>>>,
    expect: Spanned<String>,
    expect_rule: Option<String>,
}

/// The result of one case of a table.
///
/// Serializes with the field names below (`gavel policy test --format json`).
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct CaseOutcome {
    /// The line of the `[[case]]` in the table file.
    pub line: usize,
    /// The case's name, or its origin.
    pub label: String,
    /// The surface the case was decided on.
    pub surface: Surface,
    /// The case's `expect`.
    pub expected: Verdict,
    /// The case's `expect_rule`, if it names one.
    pub expected_rule: Option<String>,
    /// The verdict the policy gave.
    pub got: Verdict,
    /// The rule that decided, if one did.
    pub got_rule: Option<String>,
    /// The reason of the decision, e.g. `no-rule-matched`.
    pub reason: Reason,
    /// Whether the verdict (and the rule, when named) is the expected one.
    pub passed: bool,
    /// The decision's summary, for failures.
    pub summary: String,
}

/// The result of one table: every case, in file order.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct TableReport {
    /// The table file.
    pub table: PathBuf,
    /// The policy file it names, relative to the table's directory.
    pub policy: PathBuf,
    /// One outcome per `[[case]]`.
    pub cases: Vec<CaseOutcome>,
}

impl TableReport {
    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }

    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

/// Parses a table, reporting every unknown key at once, then reads it into the schema.
fn parse(source: &str, d: &mut Diagnostics) -> Option<RawTable> {
    let doc = match DeTable::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            d.error(&e.span().unwrap_or(0..0), e.message().trim().to_owned());
            return None;
        }
    };
    crate::keys::check_table_keys(doc.get_ref(), d);
    if d.has_errors() {
        return None;
    }
    RawTable::deserialize(toml::de::Deserializer::from(doc))
        .map_err(|e| d.error(&e.span().unwrap_or(0..0), e.message().trim().to_owned()))
        .ok()
}

/// Reads a policy table, loads its policy (relative to the table file) and decides every case.
/// `Err` when the table or its policy cannot be read or is invalid; a failing case is an
/// outcome, not an error.
///
/// A table names its policy, may set `[defaults]` for what a case does not say (`surface`,
/// `peer`, `host`, `scheme`, `headers`), and lists `[[case]]`s: a request (`origin` — none for
/// a request without `Origin` — and any of the defaults' keys) and its `expect`ed verdict,
/// optionally with the `expect_rule` that must decide.
///
/// ```
/// use gavel_policy::{Verdict, run_table};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(
///     dir.path().join("policy.toml"),
///     "version = 1\n[[allow]]\nname = \"app\"\nexact = \"https://app.example\"\n",
/// )?;
/// let table = dir.path().join("cases.toml");
/// std::fs::write(&table, r#"
/// policy = "policy.toml"
/// [defaults]
/// surface = "polling-post"
/// [[case]]
/// origin = "https://app.example"
/// expect = "allow"
/// expect_rule = "app"
/// [[case]]
/// origin = "https://app.example.evil.io"
/// expect = "allow"
/// "#)?;
///
/// let report = run_table(&table)?;
/// assert_eq!((report.passed(), report.failed()), (1, 1));
/// let failed = &report.cases[1];
/// assert_eq!((failed.line, failed.got), (9, Verdict::Deny));
/// assert_eq!(failed.summary, "origin `https://app.example.evil.io` is denied because no allow rule matches");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_table(path: impl AsRef<Path>) -> Result<TableReport, PolicyError> {
    let path = path.as_ref();
    let source = std::fs::read_to_string(path).map_err(|e| PolicyError::io(path, &e))?;
    let mut d = Diagnostics::new(path, &source);
    let Some(raw) = parse(&source, &mut d) else {
        return Err(PolicyError::new(d.items));
    };
    let policy_path = path
        .parent()
        .unwrap_or(Path::new("."))
        .join(raw.policy.get_ref());
    let defaults = match &raw.defaults {
        Some(r) => cases::defaults(r, &mut d),
        None => CaseDefaults::default(),
    };
    let mut prepared = Vec::new();
    for case in &raw.case {
        let c = case.get_ref();
        let request = RawRequest {
            origin: c.origin.clone(),
            surface: c.surface.clone(),
            peer: c.peer.clone(),
            host: c.host.clone(),
            scheme: c.scheme.clone(),
            headers: c.headers.clone(),
        };
        let expected = match c.expect.get_ref().parse::<Verdict>() {
            Ok(v) => Some(v),
            Err(e) => {
                d.error(&c.expect.span(), e);
                None
            }
        };
        let built = cases::request(&request, &defaults, &mut d);
        if let (Some(request), Some(expected)) = (built, expected) {
            prepared.push((d.location(&case.span()).line, c, request, expected));
        }
    }
    if d.has_errors() {
        return Err(PolicyError::new(d.items));
    }
    let policy = Policy::from_file(&policy_path)?;
    let cases = prepared
        .into_iter()
        .map(|(line, c, request, expected)| {
            let decision = request.decide(&policy);
            let passed = cases::meets(&decision, expected, c.expect_rule.as_deref());
            CaseOutcome {
                line,
                label: c.name.clone().unwrap_or_else(|| request.label()),
                surface: request.surface,
                expected,
                expected_rule: c.expect_rule.clone(),
                got: decision.verdict,
                reason: decision.reason,
                passed,
                got_rule: decision.rule.as_ref().map(|r| r.name().to_owned()),
                summary: decision.summary(),
            }
        })
        .collect();
    Ok(TableReport {
        table: path.to_path_buf(),
        policy: policy_path,
        cases,
    })
}
