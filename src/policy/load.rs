//! Loading a policy file: parse, validate (every error with `file:line:col` and, where it can
//! be told, what was meant), compile, run the guard rails.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use sha2::{Digest, Sha256};
use toml::Spanned;

use super::cases::{self, CaseDefaults};
use super::decision::Verdict;
use super::diagnostics::Diagnostics;
use super::glob::OriginGlob;
use super::origin::{MalformedOrigin, Origin};
use super::proxy::{FORWARDING_HEADERS, TrustedProxies};
use super::rules::{Action, Matcher, Rule, RuleSet, anchored};
use super::schema::{RawCors, RawPolicy, RawRule, RawTrustedProxies};
use super::{CorsSettings, Mode, Policy, PolicyError, PolicySource};

/// Browsers cap `Access-Control-Max-Age` lower anyway (Chromium: 2 h, Firefox: 24 h).
pub const MAX_AGE_CAP_SECS: u32 = 86_400;

/// The content hash policies are versioned by.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<Policy, PolicyError> {
    let sha256 = sha256_hex(bytes);
    let source = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let mut d = Diagnostics::new(path, valid);
            d.error(&(valid.len()..valid.len()), "the file is not valid UTF-8");
            return Err(PolicyError {
                diagnostics: d.items,
            });
        }
    };
    let mut d = Diagnostics::new(path, source);
    let raw: RawPolicy = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            d.error(&span, e.message().trim().to_owned());
            return Err(PolicyError {
                diagnostics: d.items,
            });
        }
    };

    let version = *raw.version.get_ref();
    if version != 1 {
        d.error_help(
            &raw.version.span(),
            format!("unsupported policy version {version}"),
            "this Gavel reads `version = 1`",
        );
    }
    let mode = match &raw.mode {
        None => Mode::Enforce,
        Some(m) => match m.get_ref().as_str() {
            "enforce" => Mode::Enforce,
            "report-only" => Mode::ReportOnly,
            other => {
                let help = if other
                    .replace(['_', ' '], "-")
                    .eq_ignore_ascii_case("report-only")
                {
                    "did you mean `report-only`?".to_owned()
                } else {
                    "expected `enforce` or `report-only`".to_owned()
                };
                d.error_help(&m.span(), format!("unknown mode `{other}`"), help);
                Mode::Enforce
            }
        },
    };

    let cors = cors(
        raw.cors
            .as_ref()
            .map_or(&RawCors::default(), Spanned::get_ref),
        &mut d,
    );
    let (missing_origin, null_origin) = match &raw.requests {
        Some(r) => (
            verdict_setting(&r.get_ref().missing_origin, Verdict::Allow, &mut d),
            verdict_setting(&r.get_ref().null_origin, Verdict::Deny, &mut d),
        ),
        None => (Verdict::Allow, Verdict::Deny),
    };
    let trusted_proxies = match &raw.trusted_proxies {
        Some(t) => trusted_proxies(t.get_ref(), &t.span(), &mut d),
        None => TrustedProxies::default(),
    };

    let mut names: HashMap<String, usize> = HashMap::new();
    let mut compile_rules = |raws: &[Spanned<RawRule>], action: Action, d: &mut Diagnostics| {
        raws.iter()
            .enumerate()
            .filter_map(|(i, raw)| rule(raw, action, i, cors.credentials, &mut names, d))
            .collect::<Vec<_>>()
    };
    let allow_rules = compile_rules(&raw.allow, Action::Allow, &mut d);
    let deny_rules = compile_rules(&raw.deny, Action::Deny, &mut d);
    if raw.allow.is_empty() {
        d.warning(
            &(0..0),
            "no [[allow]] rules: every request that carries an Origin is denied",
        );
    }
    if mode == Mode::ReportOnly {
        d.warning(
            &raw.mode.as_ref().map_or(0..0, Spanned::span),
            "report-only mode: denials are logged and counted but not enforced",
        );
    }

    let rule_names: Vec<String> = allow_rules
        .iter()
        .chain(deny_rules.iter())
        .map(|r| r.name.clone())
        .collect();
    let defaults = CaseDefaults::default();
    let expectations: Vec<_> = raw
        .expect
        .iter()
        .filter_map(|e| cases::expectation(e, &defaults, &rule_names, &mut d))
        .collect();

    if d.has_errors() {
        return Err(PolicyError {
            diagnostics: d.items,
        });
    }

    let mut exact_by_host: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, rule) in allow_rules.iter().enumerate() {
        if let Matcher::Exact(o) = &rule.matcher {
            exact_by_host
                .entry(o.host().trim_end_matches('.').to_owned())
                .or_default()
                .push(i);
        }
    }
    let compiled =
        RuleSet::compile(allow_rules).and_then(|allow| Ok((allow, RuleSet::compile(deny_rules)?)));
    let (allow, deny) = match compiled {
        Ok(sets) => sets,
        Err(e) => {
            d.error(&(0..0), format!("the rules do not compile together: {e}"));
            return Err(PolicyError {
                diagnostics: d.items,
            });
        }
    };
    let mut policy = Policy {
        source: PolicySource {
            path: path.to_path_buf(),
            sha256,
        },
        mode,
        cors,
        missing_origin,
        null_origin,
        trusted_proxies,
        diagnostics: Vec::new(),
        allow,
        deny,
        exact_by_host,
        expectations,
        version: "".into(),
        cache: Default::default(),
    };
    policy.set_counter(0);
    let failures = policy.check_expectations();
    if !failures.is_empty() {
        return Err(PolicyError {
            diagnostics: failures,
        });
    }
    policy.diagnostics = d.items;
    Ok(policy)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn verdict_setting(
    value: &Option<Spanned<String>>,
    default: Verdict,
    d: &mut Diagnostics,
) -> Verdict {
    let Some(v) = value else { return default };
    match v.get_ref().parse::<Verdict>() {
        Ok(verdict) => verdict,
        Err(e) => {
            d.error(&v.span(), e);
            default
        }
    }
}

fn cors(raw: &RawCors, d: &mut Diagnostics) -> CorsSettings {
    let max_age_secs = raw.max_age_secs.as_ref().and_then(|m| {
        let secs = *m.get_ref();
        if secs < 0 {
            d.error(&m.span(), "max_age_secs cannot be negative");
            None
        } else if secs > i64::from(MAX_AGE_CAP_SECS) {
            d.warning(
                &m.span(),
                format!("max_age_secs {secs} is capped at {MAX_AGE_CAP_SECS} (browsers cap it lower anyway)"),
            );
            Some(MAX_AGE_CAP_SECS)
        } else {
            Some(secs as u32)
        }
    });
    let allow_methods = match &raw.allow_methods {
        None => vec![http::Method::GET, http::Method::HEAD, http::Method::POST],
        Some(list) => list
            .iter()
            .filter_map(|m| {
                let upper = m.get_ref().to_ascii_uppercase();
                if upper == "*" {
                    d.error_help(&m.span(), "`*` is not a method", "list the methods");
                    return None;
                }
                http::Method::from_bytes(upper.as_bytes())
                    .map_err(|_| {
                        d.error(
                            &m.span(),
                            format!("`{}` is not an HTTP method", m.get_ref()),
                        )
                    })
                    .ok()
            })
            .collect(),
    };
    let header_names = |list: &Option<Vec<Spanned<String>>>, d: &mut Diagnostics| {
        list.iter()
            .flatten()
            .filter_map(|h| {
                let value = h.get_ref();
                if value == "*" {
                    d.error_help(
                        &h.span(),
                        "`*` is not supported here",
                        "list the header names (with credentials, browsers read `*` literally)",
                    );
                    return None;
                }
                http::HeaderName::from_bytes(value.trim().to_ascii_lowercase().as_bytes())
                    .map_err(|_| d.error(&h.span(), format!("`{value}` is not a header name")))
                    .ok()
            })
            .collect::<Vec<_>>()
    };
    let expose_headers = header_names(&raw.expose_headers, d);
    let join = |items: Vec<&str>| {
        http::HeaderValue::from_str(&items.join(", ")).expect("validated tokens")
    };
    CorsSettings {
        credentials: raw.credentials.unwrap_or(false),
        max_age_secs,
        allow_methods_value: join(allow_methods.iter().map(http::Method::as_str).collect()),
        expose_headers_value: (!expose_headers.is_empty()).then(|| {
            join(
                expose_headers
                    .iter()
                    .map(http::HeaderName::as_str)
                    .collect(),
            )
        }),
        allow_methods,
        allow_headers: header_names(&raw.allow_headers, d),
        expose_headers,
    }
}

fn trusted_proxies(
    raw: &RawTrustedProxies,
    span: &Range<usize>,
    d: &mut Diagnostics,
) -> TrustedProxies {
    let mut cidrs = Vec::new();
    for c in &raw.cidrs {
        let text = c.get_ref().trim();
        let parsed = text
            .parse::<ipnet::IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
        match parsed {
            Ok(net) => {
                if net.prefix_len() == 0 {
                    d.warning(
                        &c.span(),
                        format!("`{text}` trusts every peer: anyone can forge forwarding headers"),
                    );
                }
                cidrs.push(net.trunc());
            }
            Err(_) => d.error_help(
                &c.span(),
                format!("`{text}` is not a CIDR or an IP address"),
                "write e.g. `10.0.0.0/8` or `127.0.0.1`",
            ),
        }
    }
    let mut headers = Vec::new();
    for h in &raw.headers {
        let name = h.get_ref().trim().to_ascii_lowercase();
        match FORWARDING_HEADERS.iter().find(|known| **known == name) {
            Some(known) => headers.push(*known),
            None => d.error_help(
                &h.span(),
                format!("`{}` is not a forwarding header Gavel reads", h.get_ref()),
                format!(
                    "expected one of {}",
                    FORWARDING_HEADERS.map(|n| format!("`{n}`")).join(", ")
                ),
            ),
        }
    }
    if !raw.cidrs.is_empty() && raw.headers.is_empty() {
        d.warning(
            span,
            "trusted_proxies.headers is empty: forwarding headers are never read",
        );
    }
    if raw.cidrs.is_empty() && !raw.headers.is_empty() {
        d.warning(
            span,
            "trusted_proxies.cidrs is empty: no peer is trusted, headers are never read",
        );
    }
    TrustedProxies::new(cidrs, &headers)
}

/// Validates and compiles one `[[allow]]` / `[[deny]]` entry.
fn rule(
    raw: &Spanned<RawRule>,
    action: Action,
    index: usize,
    credentials: bool,
    names: &mut HashMap<String, usize>,
    d: &mut Diagnostics,
) -> Option<Rule> {
    let span = raw.span();
    let r = raw.get_ref();
    let location = d.location(&span);
    let name = match &r.name {
        Some(n) => {
            let value = n.get_ref().trim().to_owned();
            if value.is_empty() {
                d.error(&n.span(), "a rule name cannot be empty");
            }
            if let Some(line) = names.get(&value) {
                d.error(
                    &n.span(),
                    format!("rule name `{value}` is already used on line {line}"),
                );
            }
            names.insert(value.clone(), location.line);
            value
        }
        None => format!("{}[{index}]", action.as_str()),
    };

    let mut given: Vec<(&str, Range<usize>)> = Vec::new();
    for (key, s) in [
        ("exact", r.exact.as_ref().map(Spanned::span)),
        ("glob", r.glob.as_ref().map(Spanned::span)),
        ("regex", r.regex.as_ref().map(Spanned::span)),
        (
            "wildcard",
            r.wildcard
                .as_ref()
                .filter(|w| *w.get_ref())
                .map(Spanned::span),
        ),
        (
            "same_origin",
            r.same_origin
                .as_ref()
                .filter(|w| *w.get_ref())
                .map(Spanned::span),
        ),
    ] {
        if let Some(s) = s {
            given.push((key, s));
        }
    }
    match given.as_slice() {
        [] => {
            d.error_help(
                &span,
                format!("rule `{name}` has no matcher"),
                "give exactly one of exact, glob, regex, wildcard = true, same_origin = true",
            );
            return None;
        }
        [_] => {}
        [(first, _), (second, s), ..] => {
            d.error_help(
                s,
                format!("rule `{name}` has both `{first}` and `{second}`; a rule has exactly one matcher"),
                "split it into two rules",
            );
            return None;
        }
    }

    let consent = |flag: &Option<Spanned<bool>>| flag.as_ref().is_some_and(|f| *f.get_ref());
    let mut used_consents: Vec<&str> = Vec::new();
    let matcher = if let Some(exact) = &r.exact {
        Matcher::Exact(exact_origin(exact, d)?)
    } else if let Some(glob) = &r.glob {
        let g = origin_glob(glob, d)?;
        if g.has_host_wildcard() {
            let fixed = g.fixed_suffix().unwrap_or_default();
            let public = fixed.is_empty() || is_public_suffix(&fixed);
            if public {
                used_consents.push("allow_public_suffix");
                let what = if fixed.is_empty() {
                    "every host".to_owned()
                } else {
                    format!("the public suffix `{fixed}`: anyone can register a name under it")
                };
                if consent(&r.allow_public_suffix) {
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
        }
        if credentials && g.scheme() != "https" && !g.is_loopback() {
            used_consents.push("allow_insecure_scheme");
            if consent(&r.allow_insecure_scheme) {
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
        if !g.has_host_wildcard() && g.to_string().ends_with(":*") {
            // A port-only glob (`http://localhost:*`) is fine as it is.
        } else if !g.has_host_wildcard() {
            d.warning(
                &glob.span(),
                format!("glob `{g}` has no wildcard; `exact` says the same more plainly"),
            );
        }
        unicode_note(glob, &g.to_string(), d);
        Matcher::Glob(g)
    } else if let Some(regex) = &r.regex {
        Matcher::Regex(origin_regex(regex, d)?)
    } else if r.wildcard.is_some() {
        used_consents.push("allow_credentials_with_wildcard");
        let s = r
            .wildcard
            .as_ref()
            .map(Spanned::span)
            .unwrap_or(span.clone());
        if action == Action::Allow {
            if credentials && !consent(&r.allow_credentials_with_wildcard) {
                d.error_help(
                    &s,
                    "wildcard = true with cors.credentials = true would reflect every origin with the user's cookies",
                    "list the origins, or set allow_credentials_with_wildcard = true on this rule if you really mean it",
                );
            } else {
                d.warning(&s, "wildcard = true allows every origin");
            }
        }
        Matcher::Wildcard
    } else {
        Matcher::SameOrigin
    };
    for (flag, key) in [
        (&r.allow_public_suffix, "allow_public_suffix"),
        (&r.allow_insecure_scheme, "allow_insecure_scheme"),
        (
            &r.allow_credentials_with_wildcard,
            "allow_credentials_with_wildcard",
        ),
    ] {
        if let Some(f) = flag
            && !used_consents.contains(&key)
        {
            d.warning(&f.span(), format!("`{key}` has no effect on this rule"));
        }
    }
    Some(Rule::new(name, action, matcher, r.note.clone(), location))
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
            let help = match &problem {
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
            };
            let message = problem.to_string();
            let message = match &problem {
                MalformedOrigin::Path(_) => "an origin has no path".to_owned(),
                _ => message,
            };
            d.push(super::Severity::Error, &span, message, help);
            None
        }
    }
}

fn origin_glob(value: &Spanned<String>, d: &mut Diagnostics) -> Option<OriginGlob> {
    match OriginGlob::parse(value.get_ref()) {
        Ok(g) => Some(g),
        Err(e) => {
            d.push(super::Severity::Error, &value.span(), e.message, e.help);
            None
        }
    }
}

fn origin_regex(value: &Spanned<String>, d: &mut Diagnostics) -> Option<String> {
    let pattern = value.get_ref();
    let span = value.span();
    if let Err(e) = regex_syntax::Parser::new().parse(&anchored(pattern)) {
        let kind = match &e {
            regex_syntax::Error::Parse(p) => p.kind().to_string(),
            regex_syntax::Error::Translate(t) => t.kind().to_string(),
            other => other.to_string(),
        };
        d.error(&span, format!("invalid regex: {kind}"));
        return None;
    }
    if !(pattern.starts_with('^') && pattern.ends_with('$')) {
        d.push(
            super::Severity::Warning,
            &span,
            "this regex is matched against the whole origin, as if anchored",
            Some(format!(
                "write `^…$` to make that visible: `^{}$`",
                pattern.trim_start_matches('^').trim_end_matches('$')
            )),
        );
    }
    if let Some(dot) = unescaped_host_dot(pattern) {
        d.push(
            super::Severity::Warning,
            &span,
            format!(
                "unescaped `.` in the host part (at character {}) matches any character",
                dot + 1
            ),
            Some("write `\\.` for a literal dot".to_owned()),
        );
    }
    if !pattern.contains("(?i") && has_uppercase_literal(pattern) {
        d.warning(
            &span,
            "origins are matched lower-case; upper-case letters in this regex never match",
        );
    }
    Some(pattern.clone())
}

/// The position of the first `.` after `://` that is neither escaped, inside a class, nor
/// followed by a repetition (`.*` and `.+` are deliberate).
fn unescaped_host_dot(pattern: &str) -> Option<usize> {
    let start = pattern
        .find("://")
        .map(|i| i + 3)
        .or_else(|| pattern.find(r":\/\/").map(|i| i + 5))?;
    let chars: Vec<char> = pattern.chars().collect();
    let start = pattern[..start].chars().count();
    let (mut escaped, mut in_class) = (false, false);
    for i in start..chars.len() {
        let c = chars[i];
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            '.' if !in_class && !matches!(chars.get(i + 1), Some('*' | '+' | '?' | '{')) => {
                return Some(i);
            }
            _ => {}
        }
    }
    None
}

fn has_uppercase_literal(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some('p' | 'P') = chars.next() {
                    // `\p{Lu}`: skip the class name
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                    }
                }
            }
            c if c.is_ascii_uppercase() => return true,
            _ => {}
        }
    }
    false
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

    #[test]
    fn host_dots() {
        assert_eq!(
            unescaped_host_dot(r"^https://pr-[0-9]+\.example\.com$"),
            None
        );
        assert_eq!(
            unescaped_host_dot(r"^https://pr-[0-9]+.example\.com$"),
            Some(18)
        );
        assert_eq!(unescaped_host_dot(r"^https://.*\.example\.com$"), None);
        assert_eq!(unescaped_host_dot(r"^https://[a.]\.com$"), None);
    }

    #[test]
    fn uppercase() {
        assert!(has_uppercase_literal(r"^https://App\.com$"));
        assert!(!has_uppercase_literal(r"^https://\w+\.com$"));
        assert!(!has_uppercase_literal(r"^https://\p{Ll}+\.com$"));
        assert!(has_uppercase_literal(r"^https://\D\.COM$"));
    }
}
