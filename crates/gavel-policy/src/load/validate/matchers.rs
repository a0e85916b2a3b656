//! A rule's matcher: its value checked, and the risky ones (public suffixes, insecure schemes,
//! wildcards and patterns that match like one) refused or warned about.

use std::ops::Range;

use toml::Spanned;

use super::lint;
use super::rule::{Consent, Consents, RuleContext};
use crate::diagnostics::{Diagnostics, Severity};
use crate::foreign;
use crate::glob::OriginGlob;
use crate::origin::{MalformedOrigin, Origin};
use crate::pattern::{self, CheckedRegex};
use crate::rules::{Action, Matcher, RuleKind};
use crate::schema::RawRule;

/// The matcher of `kind` that `r` gives; `None` when its value is refused (the errors are in
/// `d`).
pub(super) fn matcher(
    kind: RuleKind,
    r: &RawRule,
    span: &Range<usize>,
    action: Action,
    ctx: &mut RuleContext,
    consents: &mut Consents<'_>,
    d: &mut Diagnostics,
) -> Option<Matcher> {
    let allow = action == Action::Allow;
    Some(match kind {
        RuleKind::Exact => Matcher::Exact(exact_origin(r.exact.as_ref()?, d)?),
        RuleKind::Glob => {
            let glob = r.glob.as_ref()?;
            let g = glob_matcher(glob, ctx.credentials, consents, d)?;
            if allow && let Some(probe) = foreign::glob_probe(&g) {
                let what = format!("glob `{g}`");
                wildcard_like(&what, probe, glob, ctx.credentials, consents, d);
            }
            Matcher::Glob(g)
        }
        RuleKind::Regex => {
            let regex = r.regex.as_ref()?;
            let checked = origin_regex(regex, ctx, d)?;
            if allow && let Some(probe) = foreign::regex_probe(&checked) {
                let what = format!("regex `{}`", regex.get_ref());
                wildcard_like(&what, probe, regex, ctx.credentials, consents, d);
            }
            Matcher::Regex(regex.get_ref().clone())
        }
        RuleKind::Wildcard => {
            let s = r.wildcard.as_ref().map_or(span.clone(), Spanned::span);
            if allow {
                wildcard(&s, ctx.credentials, consents, d);
            } else {
                consents.asked(Consent::CredentialsWithWildcard);
            }
            Matcher::Wildcard
        }
        RuleKind::SameOrigin => Matcher::SameOrigin,
    })
}

fn glob_matcher(
    glob: &Spanned<String>,
    credentials: bool,
    consents: &mut Consents<'_>,
    d: &mut Diagnostics,
) -> Option<OriginGlob> {
    let g = match OriginGlob::parse(glob.get_ref()) {
        Ok(g) => g,
        Err(e) => {
            d.push(Severity::Error, &glob.span(), e.message, e.help);
            return None;
        }
    };
    if g.has_host_wildcard() {
        public_suffix_glob(&g, glob, consents, d);
    }
    if credentials && g.scheme() != "https" && !g.is_loopback() {
        insecure_glob(&g, glob, consents, d);
    }
    // A port-only glob (`http://localhost:*`) is fine as it is.
    if !g.has_host_wildcard() && !g.to_string().ends_with(":*") {
        d.warning(
            &glob.span(),
            format!("glob `{g}` has no wildcard; `exact` says the same more plainly"),
        );
    }
    unicode_note(glob, &g.to_string(), d);
    Some(g)
}

/// A glob whose fixed part is a public suffix, or nothing: refused unless consented.
fn public_suffix_glob(
    g: &OriginGlob,
    glob: &Spanned<String>,
    consents: &mut Consents<'_>,
    d: &mut Diagnostics,
) {
    let fixed = g.fixed_suffix().unwrap_or_default();
    if !(fixed.is_empty() || is_public_suffix(&fixed)) {
        return;
    }
    let what = if fixed.is_empty() {
        "every host".to_owned()
    } else {
        format!("the public suffix `{fixed}`: anyone can register a name under it")
    };
    if consents.given(Consent::PublicSuffix) {
        d.warning(
            &glob.span(),
            format!("glob `{g}` covers {what} (allowed explicitly)"),
        );
    } else {
        d.error_help(
            &glob.span(),
            format!("glob `{g}` covers {what}"),
            "name a registrable domain (`https://*.example.com`), or set allow_public_suffix = true on this rule if you really mean it",
        );
    }
}

/// A non-https glob while credentials are on: refused unless consented.
fn insecure_glob(
    g: &OriginGlob,
    glob: &Spanned<String>,
    consents: &mut Consents<'_>,
    d: &mut Diagnostics,
) {
    if consents.given(Consent::InsecureScheme) {
        d.warning(
            &glob.span(),
            format!("non-https glob `{g}` with credentials (allowed explicitly)"),
        );
    } else {
        d.error_help(
            &glob.span(),
            format!("non-https glob `{g}` while cors.credentials = true: anyone on the network path can act with the user's cookies"),
            "use https, list exact origins, or set allow_insecure_scheme = true on this rule",
        );
    }
}

const WILDCARD_CONSENT_HELP: &str = "list the origins, or set allow_credentials_with_wildcard = true on this rule if you really mean it";

/// `wildcard = true` on an allow rule: refused with credentials unless consented, always
/// warned about.
fn wildcard(s: &Range<usize>, credentials: bool, consents: &mut Consents<'_>, d: &mut Diagnostics) {
    let consented = consents.given(Consent::CredentialsWithWildcard);
    if credentials && !consented {
        d.error_help(
            s,
            "wildcard = true with cors.credentials = true would reflect every origin with the user's cookies",
            WILDCARD_CONSENT_HELP,
        );
    } else {
        d.warning(s, "wildcard = true allows every origin");
    }
}

/// An allow glob or regex that matched a foreign `probe`: treated like `wildcard = true`.
fn wildcard_like(
    what: &str,
    probe: &str,
    value: &Spanned<String>,
    credentials: bool,
    consents: &mut Consents<'_>,
    d: &mut Diagnostics,
) {
    let consented = consents.given(Consent::CredentialsWithWildcard);
    let finding = format!(
        "{what} matches origins no rule should allow (it matches `{probe}`): it allows like wildcard = true"
    );
    if credentials && !consented {
        d.error_help(
            &value.span(),
            format!("{finding}, and with cors.credentials = true it would reflect them with the user's cookies"),
            WILDCARD_CONSENT_HELP,
        );
    } else {
        d.warning(&value.span(), finding);
    }
}

fn exact_origin(value: &Spanned<String>, d: &mut Diagnostics) -> Option<Origin> {
    let text = value.get_ref();
    let span = value.span();
    if text.trim() != text {
        d.error_help(
            &span,
            "an origin has no surrounding whitespace",
            format!("did you mean `{}`?", text.trim()),
        );
        return None;
    }
    if text.eq_ignore_ascii_case("null") {
        d.error_help(
            &span,
            "`null` is not matched by rules",
            "set requests.null_origin = \"allow\"",
        );
        return None;
    }
    match Origin::parse(text) {
        Ok(origin) => {
            unicode_note(value, origin.as_str(), d);
            Some(origin)
        }
        Err(problem) => {
            let message = match &problem {
                MalformedOrigin::Path(_) => "an origin has no path".to_owned(),
                _ => problem.to_string(),
            };
            d.push(
                Severity::Error,
                &span,
                message,
                what_was_meant(text, &problem),
            );
            None
        }
    }
}

/// What an `exact` value that is not an origin probably meant.
fn what_was_meant(text: &str, problem: &MalformedOrigin) -> Option<String> {
    match problem {
        MalformedOrigin::Path(path) => Some(format!(
            "did you mean `{}`?",
            text.strip_suffix(path.as_str()).unwrap_or(text)
        )),
        MalformedOrigin::MissingScheme => Some(format!("did you mean `https://{text}`?")),
        MalformedOrigin::Wildcard => Some(format!("did you mean glob = \"{text}\"?")),
        MalformedOrigin::List => Some("write one rule per origin".to_owned()),
        MalformedOrigin::Whitespace => Some(format!(
            "did you mean `{}`?",
            text.split_whitespace().collect::<String>()
        )),
        _ => None,
    }
}

/// Checks one regex: its syntax, its compiled size (alone and with the file's others), and
/// what it probably gets wrong.
fn origin_regex(
    value: &Spanned<String>,
    ctx: &mut RuleContext,
    d: &mut Diagnostics,
) -> Option<CheckedRegex> {
    let checked = match pattern::check(value.get_ref(), ctx.regex_bytes) {
        Ok(checked) => checked,
        Err(refusal) => {
            d.push(
                Severity::Error,
                &value.span(),
                refusal.message,
                refusal.help,
            );
            return None;
        }
    };
    ctx.regex_bytes += checked.bytes;
    lint::warn_about_regex(value, d);
    Some(checked)
}

/// An origin written in Unicode is stored as punycode; say so.
fn unicode_note(value: &Spanned<String>, stored: &str, d: &mut Diagnostics) {
    if !value.get_ref().is_ascii() {
        d.note(
            &value.span(),
            format!("`{}` is stored as `{stored}`", value.get_ref()),
        );
    }
}

/// Whether `domain` is a public suffix (`com`, `co.uk`, `github.io`), or a single label such as
/// an unknown top-level domain (`localhost` aside).
fn is_public_suffix(domain: &str) -> bool {
    if domain == "localhost" {
        return false;
    }
    if !domain.contains('.') {
        return true;
    }
    psl::suffix(domain.as_bytes())
        .is_some_and(|s| s.is_known() && s.as_bytes() == domain.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_suffixes() {
        assert!(is_public_suffix("com"));
        assert!(is_public_suffix("co.uk"));
        assert!(is_public_suffix("github.io"));
        assert!(!is_public_suffix("example.com"));
        assert!(!is_public_suffix("localhost"));
    }
}
