//! Duplicate and shadowed rules: rules that can never decide, warned about with both lines.
//!
//! `exact = "https://a.com:443"` beside `exact = "https://a.com"` is one origin written twice;
//! an exact allow rule after a glob that already matches it never decides (the first allow
//! rule in file order is the one reported); an allowed origin that a deny rule matches is never
//! allowed (deny wins). None of these is an error, but each is a rule that does not do what
//! it reads as doing. The compiled rule sets answer these questions as they answer requests.

use std::collections::HashMap;

use super::diagnostics::Diagnostics;
use super::rules::{Matcher, Rule, RuleSet};

/// Warns about rules of `allow` and `deny` that never decide.
pub(crate) fn warn_shadowed(allow: &RuleSet, deny: &RuleSet, d: &mut Diagnostics) {
    exact_rules(allow, Some(deny), d);
    exact_rules(deny, None, d);
    same_patterns(&allow.rules, d);
    same_patterns(&deny.rules, d);
}

/// Exact rules of `set` matched first by an earlier rule of `set`, or by any rule of `deny`.
fn exact_rules(set: &RuleSet, deny: Option<&RuleSet>, d: &mut Diagnostics) {
    let no_public = || None;
    for rule in &set.rules {
        let Matcher::Exact(origin) = &rule.matcher else {
            continue;
        };
        if let Some(first) = set.first_match(origin, &no_public)
            && !std::ptr::eq(first, rule)
        {
            let message = match &first.matcher {
                Matcher::Exact(_) => format!(
                    "rule `{}` and rule `{}` on line {} are the same origin `{origin}` once normalized: this rule never decides",
                    rule.name, first.name, first.location.line
                ),
                _ => format!(
                    "rule `{}` ({}) is shadowed by rule `{}` on line {} ({}), which matches `{origin}` first: this rule never decides",
                    rule.name, rule.matcher, first.name, first.location.line, first.matcher
                ),
            };
            warn(d, rule, message);
        } else if let Some(denied) = deny.and_then(|deny| deny.first_match(origin, &no_public)) {
            warn(
                d,
                rule,
                format!(
                    "rule `{}` allows `{origin}`, but deny rule `{}` on line {} ({}) matches it and deny wins: this rule never allows",
                    rule.name, denied.name, denied.location.line, denied.matcher
                ),
            );
        }
    }
}

/// Globs and regexes written twice (globs compared as normalized).
fn same_patterns(rules: &[Rule], d: &mut Diagnostics) {
    let mut seen: HashMap<String, &Rule> = HashMap::new();
    for rule in rules {
        if !matches!(rule.matcher, Matcher::Glob(_) | Matcher::Regex(_)) {
            continue;
        }
        let key = rule.matcher.to_string();
        match seen.get(&key) {
            Some(first) => warn(
                d,
                rule,
                format!(
                    "rule `{}` ({key}) duplicates rule `{}` on line {}: this rule never decides",
                    rule.name, first.name, first.location.line
                ),
            ),
            None => {
                seen.insert(key, rule);
            }
        }
    }
}

fn warn(d: &mut Diagnostics, rule: &Rule, message: String) {
    d.items.push(super::Diagnostic {
        severity: super::Severity::Warning,
        location: rule.location.clone(),
        message,
        help: Some("remove one of the two rules, or change one of them".to_owned()),
    });
}
