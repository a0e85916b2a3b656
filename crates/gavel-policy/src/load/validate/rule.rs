//! One `[[allow]]` / `[[deny]]` entry: its name, its one matcher, the consents it gives.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use super::matchers;
use crate::diagnostics::Diagnostics;
use crate::limits;
use crate::rules::{Action, Rule, RuleKind};
use crate::schema::RawRule;

/// What validating one rule needs to know of the others.
pub(super) struct RuleContext {
    /// `cors.credentials`: some matchers need consent with it.
    pub(super) credentials: bool,
    /// Names used so far, with their lines.
    names: HashMap<String, usize>,
    /// What the regexes so far compiled to, against [`limits::MAX_REGEXES_BYTES`].
    pub(super) regex_bytes: usize,
}

impl RuleContext {
    pub(super) fn new(credentials: bool) -> Self {
        Self {
            credentials,
            names: HashMap::new(),
            regex_bytes: 0,
        }
    }
}

/// The valid rules of one action, in file order.
pub(super) fn rules(
    raws: &[Spanned<RawRule>],
    action: Action,
    ctx: &mut RuleContext,
    d: &mut Diagnostics,
) -> Vec<Rule> {
    raws.iter()
        .enumerate()
        .filter_map(|(i, raw)| rule(raw, action, i, ctx, d))
        .collect()
}

/// Validates one entry; `None` when it is not a valid rule (its errors are in `d`).
fn rule(
    raw: &Spanned<RawRule>,
    action: Action,
    index: usize,
    ctx: &mut RuleContext,
    d: &mut Diagnostics,
) -> Option<Rule> {
    let span = raw.span();
    let r = raw.get_ref();
    let location = d.location(&span);
    let text_ok = limits::check_rule_text(r, d);
    let name = match &r.name {
        Some(n) if n.get_ref().len() <= limits::MAX_NAME_BYTES => {
            rule_name(n, location.line, &mut ctx.names, d)
        }
        // Over the limit (an error already): messages below use the default name rather than
        // repeat a long one.
        _ => format!("{}[{index}]", action.as_str()),
    };
    let kind = single_matcher(r, &name, &span, d)?;
    let mut consents = Consents::new(r);
    let matcher = matchers::matcher(kind, r, &span, action, ctx, &mut consents, d)?;
    consents.warn_unused(d);
    text_ok.then(|| Rule::new(name, action, matcher, location))
}

fn rule_name(
    n: &Spanned<String>,
    line: usize,
    names: &mut HashMap<String, usize>,
    d: &mut Diagnostics,
) -> String {
    let value = n.get_ref().trim().to_owned();
    if value.is_empty() {
        d.error(&n.span(), "a rule name cannot be empty");
    }
    if let Some(first) = names.get(&value) {
        d.error(
            &n.span(),
            format!("rule name `{value}` is already used on line {first}"),
        );
    }
    names.insert(value.clone(), line);
    value
}

/// The kind of the one matcher a rule gives; `None` (with an error) for none or several.
fn single_matcher(
    r: &RawRule,
    name: &str,
    span: &Range<usize>,
    d: &mut Diagnostics,
) -> Option<RuleKind> {
    let on = |f: &Option<Spanned<bool>>| f.as_ref().filter(|w| *w.get_ref()).map(Spanned::span);
    let given: Vec<(RuleKind, Range<usize>)> = [
        (RuleKind::Exact, r.exact.as_ref().map(Spanned::span)),
        (RuleKind::Glob, r.glob.as_ref().map(Spanned::span)),
        (RuleKind::Regex, r.regex.as_ref().map(Spanned::span)),
        (RuleKind::Wildcard, on(&r.wildcard)),
        (RuleKind::SameOrigin, on(&r.same_origin)),
    ]
    .into_iter()
    .filter_map(|(kind, s)| Some((kind, s?)))
    .collect();
    match given.as_slice() {
        [] => {
            d.error_help(
                span,
                format!("rule `{name}` has no matcher"),
                "give exactly one of exact, glob, regex, wildcard = true, same_origin = true",
            );
            None
        }
        [(kind, _)] => Some(*kind),
        [(first, _), (second, s), ..] => {
            d.error_help(
                s,
                format!(
                    "rule `{name}` has both `{}` and `{}`; a rule has exactly one matcher",
                    first.key(),
                    second.key()
                ),
                "split it into two rules",
            );
            None
        }
    }
}

/// A rule's explicit consent to a matcher the loader would otherwise refuse.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Consent {
    /// `allow_public_suffix`: a glob over a public suffix (`https://*.co.uk`) or every host.
    PublicSuffix,
    /// `allow_insecure_scheme`: a non-https glob while `cors.credentials = true`.
    InsecureScheme,
    /// `allow_credentials_with_wildcard`: a wildcard (or wildcard-like pattern) while
    /// `cors.credentials = true`.
    CredentialsWithWildcard,
}

impl Consent {
    const ALL: [Self; 3] = [
        Self::PublicSuffix,
        Self::InsecureScheme,
        Self::CredentialsWithWildcard,
    ];

    fn key(self) -> &'static str {
        match self {
            Self::PublicSuffix => "allow_public_suffix",
            Self::InsecureScheme => "allow_insecure_scheme",
            Self::CredentialsWithWildcard => "allow_credentials_with_wildcard",
        }
    }
}

/// The consents a rule gives, and which of them its matcher asked for.
pub(super) struct Consents<'r> {
    raw: &'r RawRule,
    asked: Vec<Consent>,
}

impl<'r> Consents<'r> {
    fn new(raw: &'r RawRule) -> Self {
        Self {
            raw,
            asked: Vec::new(),
        }
    }

    /// Whether the rule gives `consent`; records that the matcher asked.
    pub(super) fn given(&mut self, consent: Consent) -> bool {
        self.asked(consent);
        self.flag(consent).is_some_and(|f| *f.get_ref())
    }

    /// Records that the matcher has a use for `consent` whether or not it is given.
    pub(super) fn asked(&mut self, consent: Consent) {
        self.asked.push(consent);
    }

    fn flag(&self, consent: Consent) -> Option<&'r Spanned<bool>> {
        match consent {
            Consent::PublicSuffix => self.raw.allow_public_suffix.as_ref(),
            Consent::InsecureScheme => self.raw.allow_insecure_scheme.as_ref(),
            Consent::CredentialsWithWildcard => self.raw.allow_credentials_with_wildcard.as_ref(),
        }
    }

    /// A consent given where the matcher never asks for it is a mistake worth a warning.
    fn warn_unused(&self, d: &mut Diagnostics) {
        for consent in Consent::ALL {
            if let Some(f) = self.flag(consent)
                && !self.asked.contains(&consent)
            {
                d.warning(
                    &f.span(),
                    format!("`{}` has no effect on this rule", consent.key()),
                );
            }
        }
    }
}
