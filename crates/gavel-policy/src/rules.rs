//! Rules and their compiled form.
//!
//! All the rules of one kind (allow or deny) are compiled together: exact origins into a hash
//! map, every glob (as the regex `globset` translates it to) into one multi-pattern automaton
//! over label paths, every regex into one multi-pattern automaton over origins. Both automata
//! search anchored with leftmost-first semantics, so the lowest pattern — the first rule in
//! file order — wins without collecting every match. Finding the first matching rule then costs
//! a hash lookup and two automaton runs, whatever the number of rules.
//!
//! (`GlobSet` and `RegexSet` were measured first: both report *every* matching pattern through a
//! set as large as the pattern count, which made a 10,000-rule decision 5× slower than a
//! 10-rule one.)

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use regex_automata::meta::Regex as MultiRegex;
use regex_automata::{Anchored, Input};

use super::diagnostics::Location;
use super::glob::{OriginGlob, build_glob, label_path};
use super::limits::{MAX_REGEX_BYTES, MAX_REGEXES_BYTES};
use super::origin::Origin;
use super::pattern::syntax_config;

/// Whether a rule allows or denies: `[[allow]]` or `[[deny]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// An `[[allow]]` rule.
    Allow,
    /// A `[[deny]]` rule.
    Deny,
}

impl Action {
    /// `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }
}

/// The kind of a rule's one matcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    /// `exact = "https://app.example.com"`: one origin, compared normalized.
    Exact,
    /// `glob = "https://*.example.com"`: `*` is one DNS label, `**` one or more.
    Glob,
    /// `regex = '^https://pr-[0-9]+\.example\.com$'`: matched against the whole origin.
    Regex,
    /// `wildcard = true`: every origin.
    Wildcard,
    /// `same_origin = true`: the request's own public origin.
    SameOrigin,
}

impl RuleKind {
    /// `exact`, `glob`, `regex`, `wildcard` or `same-origin`: how decisions report the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Glob => "glob",
            Self::Regex => "regex",
            Self::Wildcard => "wildcard",
            Self::SameOrigin => "same-origin",
        }
    }

    /// The key a policy file writes for this kind (`same_origin`, not `same-origin`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::SameOrigin => "same_origin",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one matcher of a rule.
#[derive(Clone, Debug)]
pub(crate) enum Matcher {
    Exact(Origin),
    Glob(OriginGlob),
    /// The pattern as written; it is always matched whole.
    Regex(String),
    Wildcard,
    SameOrigin,
}

impl Matcher {
    pub(crate) fn kind(&self) -> RuleKind {
        match self {
            Self::Exact(_) => RuleKind::Exact,
            Self::Glob(_) => RuleKind::Glob,
            Self::Regex(_) => RuleKind::Regex,
            Self::Wildcard => RuleKind::Wildcard,
            Self::SameOrigin => RuleKind::SameOrigin,
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(o) => write!(f, "exact = \"{o}\""),
            Self::Glob(g) => write!(f, "glob = \"{g}\""),
            Self::Regex(r) => write!(f, "regex = '{r}'"),
            Self::Wildcard => f.write_str("wildcard = true"),
            Self::SameOrigin => f.write_str("same_origin = true"),
        }
    }
}

/// One `[[allow]]` or `[[deny]]` entry, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    /// The `name`, or `allow[N]` / `deny[N]` (0-based, in file order).
    pub(crate) name: String,
    pub(crate) matcher: Matcher,
    pub(crate) location: Location,
    /// What decisions report, built once (decisions only clone the `Arc`).
    reference: Arc<RuleRef>,
}

impl Rule {
    pub(crate) fn new(name: String, action: Action, matcher: Matcher, location: Location) -> Self {
        let reference = Arc::new(RuleRef {
            name: name.clone(),
            action,
            kind: matcher.kind(),
            matcher: matcher.to_string(),
            file: location.file.display().to_string(),
            line: location.line,
        });
        Self {
            name,
            matcher,
            location,
            reference,
        }
    }

    /// The reference decisions carry.
    pub(crate) fn reference(&self) -> Arc<RuleRef> {
        self.reference.clone()
    }

    /// The reference, borrowed.
    pub(crate) fn reference_ref(&self) -> &RuleRef {
        &self.reference
    }
}

/// A rule as decisions and [`Policy::rules`](crate::Policy::rules) report it: its name, what
/// it does and where it is written.
///
/// Serializes as `{"name", "action", "kind", "matcher", "file", "line"}` (the `rule_detail` of
/// a decision's JSON).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RuleRef {
    name: String,
    action: Action,
    kind: RuleKind,
    matcher: String,
    file: String,
    line: usize,
}

impl RuleRef {
    /// The rule's `name`, or `allow[N]` / `deny[N]` (0-based, in file order) when it has none.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is an allow or a deny rule.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The kind of its matcher.
    pub fn kind(&self) -> RuleKind {
        self.kind
    }

    /// The matcher as a policy file writes it, normalized: e.g. `exact = "https://a.com"`.
    pub fn matcher(&self) -> &str {
        &self.matcher
    }

    /// The policy file it is written in.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The line of its `[[allow]]` or `[[deny]]` header (1-based).
    pub fn line(&self) -> usize {
        self.line
    }
}

/// The rules of one action, compiled for lookup.
#[derive(Debug)]
pub(crate) struct RuleSet {
    pub(crate) rules: Vec<Rule>,
    exact: HashMap<Origin, usize>,
    globs: Option<MultiRegex>,
    glob_rules: Vec<usize>,
    regexes: Option<MultiRegex>,
    regex_rules: Vec<usize>,
    wildcard: Option<usize>,
    same_origin: Option<usize>,
}

impl RuleSet {
    /// Compiles rules whose matchers were validated one by one already.
    pub(crate) fn compile(rules: Vec<Rule>) -> Result<Self, String> {
        let mut exact = HashMap::new();
        let mut globs = Vec::new();
        let mut glob_rules = Vec::new();
        let mut patterns = Vec::new();
        let mut regex_rules = Vec::new();
        let mut wildcard = None;
        let mut same_origin = None;
        for (i, rule) in rules.iter().enumerate() {
            match &rule.matcher {
                Matcher::Exact(origin) => {
                    exact.entry(origin.clone()).or_insert(i);
                }
                Matcher::Glob(glob) => {
                    let compiled =
                        build_glob(&glob.label_path_pattern()).map_err(|e| e.to_string())?;
                    globs.push(compiled.regex().to_owned());
                    glob_rules.push(i);
                }
                Matcher::Regex(pattern) => {
                    patterns.push(anchored(pattern));
                    regex_rules.push(i);
                }
                Matcher::Wildcard => {
                    wildcard.get_or_insert(i);
                }
                Matcher::SameOrigin => {
                    same_origin.get_or_insert(i);
                }
            }
        }
        Ok(Self {
            rules,
            exact,
            globs: multi_regex(&globs)?,
            glob_rules,
            regexes: multi_regex(&patterns)?,
            regex_rules,
            wildcard,
            same_origin,
        })
    }

    /// The first `same_origin = true` rule, if any.
    pub(crate) fn same_origin_rule(&self) -> Option<&Rule> {
        self.same_origin.map(|i| &self.rules[i])
    }

    /// The first rule in file order that matches `origin`.
    /// `public` gives the request's public origin; it is asked only when a `same_origin` rule
    /// could still decide (computing it costs more than the rest of a decision).
    pub(crate) fn first_match<'p>(
        &self,
        origin: &Origin,
        public: &dyn Fn() -> Option<&'p Origin>,
    ) -> Option<&Rule> {
        let mut best = self.exact.get(origin).copied();
        let mut consider = |i: usize| {
            if best.is_none_or(|b| i < b) {
                best = Some(i);
            }
        };
        if let Some(i) = self.wildcard {
            consider(i);
        }
        if let Some(globs) = &self.globs
            && let Some(g) = first_pattern(globs, &label_path(origin))
        {
            consider(self.glob_rules[g]);
        }
        if let Some(regexes) = &self.regexes
            && let Some(r) = first_pattern(regexes, origin.as_str())
        {
            consider(self.regex_rules[r]);
        }
        // Last, and only if it would come first: the public origin is the costly part.
        if let Some(i) = self.same_origin
            && best.is_none_or(|b| i < b)
            && public() == Some(origin)
        {
            best = Some(i);
        }
        best.map(|i| &self.rules[i])
    }
}

/// What one rule set's automaton may compile to. Its regexes were checked one by one against
/// [`MAX_REGEXES_BYTES`] already and globs are short (an origin's length), so this is a
/// backstop: 10,000 honest patterns take about 10 MiB.
const MAX_SET_BYTES: usize = 2 * MAX_REGEXES_BYTES;

/// The lazy DFA's cache per searching thread: enough that thousands of patterns do not thrash
/// it, bounded so that a policy cannot make every request thread hold more.
const SET_CACHE_BYTES: usize = 16 << 20;

/// One automaton for many patterns; `None` when there are none.
fn multi_regex(patterns: &[String]) -> Result<Option<MultiRegex>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    MultiRegex::builder()
        .configure(
            MultiRegex::config()
                // Thousands of origin patterns outgrow the defaults; each one is small.
                .nfa_size_limit(Some(MAX_SET_BYTES))
                .onepass_size_limit(Some(MAX_REGEX_BYTES))
                .dfa_size_limit(Some(MAX_REGEX_BYTES))
                .hybrid_cache_capacity(SET_CACHE_BYTES),
        )
        .syntax(syntax_config())
        .build_many(patterns)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The lowest-numbered pattern that matches the whole haystack. Every pattern is anchored at
/// both ends, so all matches are the same span and leftmost-first picks the first pattern.
fn first_pattern(regex: &MultiRegex, haystack: &str) -> Option<usize> {
    regex
        .search(&Input::new(haystack).anchored(Anchored::Yes))
        .map(|m| m.pattern().as_usize())
}

pub(crate) fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// Rules matched one by one, each with its own compiled matcher.
pub(crate) struct ScanningRuleSet<'a> {
    rules: &'a [Rule],
    compiled: Vec<Compiled>,
}

enum Compiled {
    Exact(Origin),
    Glob(globset::GlobMatcher),
    Regex(regex::Regex),
    Wildcard,
    SameOrigin,
}

impl<'a> ScanningRuleSet<'a> {
    pub(crate) fn new(rules: &'a [Rule]) -> Self {
        let compiled = rules
            .iter()
            .map(|r| match &r.matcher {
                Matcher::Exact(o) => Compiled::Exact(o.clone()),
                Matcher::Glob(g) => Compiled::Glob(g.matcher()),
                Matcher::Regex(p) => Compiled::Regex(
                    regex::RegexBuilder::new(&anchored(p))
                        .size_limit(MAX_REGEX_BYTES)
                        .dfa_size_limit(MAX_REGEX_BYTES)
                        .build()
                        .expect("validated regex"),
                ),
                Matcher::Wildcard => Compiled::Wildcard,
                Matcher::SameOrigin => Compiled::SameOrigin,
            })
            .collect();
        Self { rules, compiled }
    }

    pub(crate) fn first_match<'p>(
        &self,
        origin: &Origin,
        public: &dyn Fn() -> Option<&'p Origin>,
    ) -> Option<&'a Rule> {
        let path = label_path(origin);
        self.compiled
            .iter()
            .position(|c| match c {
                Compiled::Exact(o) => o == origin,
                Compiled::Glob(g) => g.is_match(&path),
                Compiled::Regex(r) => r.is_match(origin.as_str()),
                Compiled::Wildcard => true,
                Compiled::SameOrigin => public() == Some(origin),
            })
            .map(|i| &self.rules[i])
    }
}
