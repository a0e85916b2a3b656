//! Policy tables: allow/deny cases kept beside a policy and run like tests
//! (`gavel policy test`, and `cargo test` for the tables under `tests/policy/`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeTable;

use super::cases::{self, CaseDefaults};
use super::decision::Verdict;
use super::diagnostics::Diagnostics;
use super::schema::RawRequest;
use super::{Policy, PolicyError};

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

/// The result of one case.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseOutcome {
    /// The line of the `[[case]]` in the table file.
    pub line: usize,
    /// The case's name, or its origin.
    pub label: String,
    pub surface: String,
    pub expected: Verdict,
    pub expected_rule: Option<String>,
    pub got: Verdict,
    pub got_rule: Option<String>,
    /// The kind of reason of the decision, e.g. `no-rule-matched`.
    pub reason: &'static str,
    pub passed: bool,
    /// The decision's summary, for failures.
    pub summary: String,
}

/// The result of one table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableReport {
    pub table: PathBuf,
    pub policy: PathBuf,
    pub cases: Vec<CaseOutcome>,
}

impl TableReport {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }

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
    super::keys::check_table_keys(doc.get_ref(), d);
    if d.has_errors() {
        return None;
    }
    RawTable::deserialize(toml::de::Deserializer::from(doc))
        .map_err(|e| d.error(&e.span().unwrap_or(0..0), e.message().trim().to_owned()))
        .ok()
}

/// Reads a table, loads its policy (relative to the table file) and decides every case.
/// `Err` when the table or its policy cannot be read or is invalid.
pub fn run_table(path: impl AsRef<Path>) -> Result<TableReport, PolicyError> {
    let path = path.as_ref();
    let source = std::fs::read_to_string(path).map_err(|e| PolicyError::io(path, &e))?;
    let mut d = Diagnostics::new(path, &source);
    let Some(raw) = parse(&source, &mut d) else {
        return Err(PolicyError {
            diagnostics: d.items,
        });
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
        return Err(PolicyError {
            diagnostics: d.items,
        });
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
                surface: request.surface.to_string(),
                expected,
                expected_rule: c.expect_rule.clone(),
                got: decision.verdict,
                reason: decision.reason.as_str(),
                passed,
                got_rule: decision.rule.as_ref().map(|r| r.name.clone()),
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
