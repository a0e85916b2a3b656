//! Phase three: validated rules compiled into rule sets, warnings about rules that never
//! decide, and the policy assembled (its guard rails not run yet).

use std::collections::HashMap;

use super::validate::Validated;
use crate::diagnostics::Diagnostics;
use crate::policy::{Policy, PolicySource};
use crate::rules::{Matcher, Rule, RuleSet};
use crate::shadow;

/// The policy of `valid` rules and settings; `None` (with an error) when the rules do not
/// compile together.
pub(super) fn compile(
    source: PolicySource,
    valid: Validated,
    d: &mut Diagnostics,
) -> Option<Policy> {
    let exact_by_host = exact_by_host(&valid.allow);
    let compiled =
        RuleSet::compile(valid.allow).and_then(|allow| Ok((allow, RuleSet::compile(valid.deny)?)));
    let (allow, deny) = match compiled {
        Ok(sets) => sets,
        Err(e) => {
            d.error(&(0..0), format!("the rules do not compile together: {e}"));
            return None;
        }
    };
    shadow::warn_shadowed(&allow, &deny, d);
    let settings = valid.settings;
    Some(Policy {
        source,
        mode: settings.mode,
        cors: settings.cors,
        missing_origin: settings.missing_origin,
        null_origin: settings.null_origin,
        trusted_proxies: settings.trusted_proxies,
        diagnostics: Vec::new(),
        allow,
        deny,
        exact_by_host,
        expectations: valid.expectations,
        version: "".into(),
        cache: Default::default(),
    })
}

/// Exact allow rules by host without a trailing dot, for near-miss hints.
fn exact_by_host(allow: &[Rule]) -> HashMap<String, Vec<usize>> {
    let mut by_host: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, rule) in allow.iter().enumerate() {
        if let Matcher::Exact(o) = &rule.matcher {
            by_host
                .entry(o.host().trim_end_matches('.').to_owned())
                .or_default()
                .push(i);
        }
    }
    by_host
}
