//! Phase two: every value of the parsed file checked — the settings, each rule, the guard
//! rails — into what compiling needs. Errors and warnings go to the file's [`Diagnostics`];
//! the caller compiles only when there is no error.

mod lint;
mod matchers;
mod rule;
mod settings;

use crate::cases::{self, CaseDefaults, Expectation};
use crate::diagnostics::Diagnostics;
use crate::rules::{Action, Rule};
use crate::schema::RawPolicy;

pub(super) use settings::Settings;

/// A policy file's content, checked value by value.
pub(super) struct Validated {
    pub(super) settings: Settings,
    pub(super) allow: Vec<Rule>,
    pub(super) deny: Vec<Rule>,
    pub(super) expectations: Vec<Expectation>,
}

/// Checks everything in `raw`; what is wrong is in `d`, and what was right is returned.
pub(super) fn validate(raw: &RawPolicy, d: &mut Diagnostics) -> Validated {
    let settings = settings::settings(raw, d);
    let mut ctx = rule::RuleContext::new(settings.cors.credentials());
    let allow = rule::rules(&raw.allow, Action::Allow, &mut ctx, d);
    let deny = rule::rules(&raw.deny, Action::Deny, &mut ctx, d);
    if raw.allow.is_empty() {
        d.warning(
            &(0..0),
            "no [[allow]] rules: every request that carries an Origin is denied",
        );
    }
    let rule_names: Vec<String> = allow
        .iter()
        .chain(deny.iter())
        .map(|r| r.name.clone())
        .collect();
    let defaults = CaseDefaults::default();
    let expectations = raw
        .expect
        .iter()
        .filter_map(|e| cases::expectation(e, &defaults, &rule_names, d))
        .collect();
    Validated {
        settings,
        allow,
        deny,
        expectations,
    }
}
