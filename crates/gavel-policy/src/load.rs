//! Loading a policy file: parse, validate (every error with `file:line:col` and, where it can
//! be told, what was meant), compile, run the guard rails.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;
use toml::de::DeTable;

use super::cases::{self, CaseDefaults};
use super::decision::Verdict;
use super::diagnostics::Diagnostics;
use super::glob::OriginGlob;
use super::origin::{MalformedOrigin, Origin};
use super::proxy::{FORWARDING_HEADERS, TrustedProxies};
use super::rules::{Action, Matcher, Rule, RuleSet};
use super::schema::{RawCors, RawPolicy, RawRule, RawTrustedProxies};
use super::{CorsSettings, Mode, Policy, PolicyError, PolicySource};
use super::{foreign, keys, limits, pattern, shadow};

/// Browsers cap `Access-Control-Max-Age` lower anyway (Chromium: 2 h, Firefox: 24 h).
pub const MAX_AGE_CAP_SECS: u32 = 86_400;

/// The content hash policies are versioned by.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<Policy, PolicyError> {
    limits::check_file_size(path, bytes.len() as u64)?;
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
    let refused = |d: Diagnostics| PolicyError {
        diagnostics: d.items,
    };
    let Some(raw) = parse(source, &mut d) else {
        return Err(refused(d));
    };
    // Counts before any rule is compiled: a file of 50,000 rules is refused for its count.
    limits::check_counts(&raw, &mut d);
    if d.has_errors() {
        return Err(refused(d));
    }
    let settings = settings(&raw, &mut d);
    let mut ctx = RuleContext {
        credentials: settings.cors.credentials,
        names: HashMap::new(),
        regex_bytes: 0,
    };
    let allow_rules = rules(&raw.allow, Action::Allow, &mut ctx, &mut d);
    let deny_rules = rules(&raw.deny, Action::Deny, &mut ctx, &mut d);
    if raw.allow.is_empty() {
        d.warning(
            &(0..0),
            "no [[allow]] rules: every request that carries an Origin is denied",
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
        return Err(refused(d));
    }
    let source = PolicySource {
        path: path.to_path_buf(),
        sha256,
    };
    let rules = (allow_rules, deny_rules);
    let Some(mut policy) = compile(source, settings, rules, expectations, &mut d) else {
        return Err(refused(d));
    };
    policy.set_counter(0);
    let mut failures = policy.check_expectations();
    if !failures.is_empty() {
        // The warnings may say why (a shadowed rule), so they come along.
        failures.extend(d.items);
        return Err(PolicyError {
            diagnostics: failures,
        });
    }
    policy.diagnostics = d.items;
    Ok(policy)
}

/// Compiles the validated (allow, deny) rules into rule sets, warns about rules that never
/// decide, and assembles the policy (its guard rails not run yet).
fn compile(
    source: PolicySource,
    settings: Settings,
    (allow_rules, deny_rules): (Vec<Rule>, Vec<Rule>),
    expectations: Vec<cases::Expectation>,
    d: &mut Diagnostics,
) -> Option<Policy> {
    let exact_by_host = exact_by_host(&allow_rules);
    let compiled =
        RuleSet::compile(allow_rules).and_then(|allow| Ok((allow, RuleSet::compile(deny_rules)?)));
    let (allow, deny) = match compiled {
        Ok(sets) => sets,
        Err(e) => {
            d.error(&(0..0), format!("the rules do not compile together: {e}"));
            return None;
        }
    };
    shadow::warn_shadowed(&allow, &deny, d);
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
        expectations,
        version: "".into(),
        cache: Default::default(),
    })
}

/// Parses the document, reports every unknown key at once, then reads it into the schema.
fn parse(source: &str, d: &mut Diagnostics) -> Option<RawPolicy> {
    let doc = match DeTable::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            d.error(&e.span().unwrap_or(0..0), e.message().trim().to_owned());
            return None;
        }
    };
    keys::check_policy_keys(doc.get_ref(), d);
    if d.has_errors() {
        return None;
    }
    match RawPolicy::deserialize(toml::de::Deserializer::from(doc)) {
        Ok(raw) => Some(raw),
        Err(e) => {
            d.error(&e.span().unwrap_or(0..0), e.message().trim().to_owned());
            None
        }
    }
}

/// Everything of a policy but its rules and guard rails.
struct Settings {
    mode: Mode,
    cors: CorsSettings,
    missing_origin: Verdict,
    null_origin: Verdict,
    trusted_proxies: TrustedProxies,
}

fn settings(raw: &RawPolicy, d: &mut Diagnostics) -> Settings {
    let version = *raw.version.get_ref();
    if version != 1 {
        d.error_help(
            &raw.version.span(),
            format!("unsupported policy version {version}"),
            "this Gavel reads `version = 1`",
        );
    }
    let mode = mode(&raw.mode, d);
    let cors = cors(
        raw.cors
            .as_ref()
            .map_or(&RawCors::default(), Spanned::get_ref),
        d,
    );
    let (missing_origin, null_origin) = match &raw.requests {
        Some(r) => (
            verdict_setting(&r.get_ref().missing_origin, Verdict::Allow, d),
            verdict_setting(&r.get_ref().null_origin, Verdict::Deny, d),
        ),
        None => (Verdict::Allow, Verdict::Deny),
    };
    let trusted_proxies = match &raw.trusted_proxies {
        Some(t) => trusted_proxies(t.get_ref(), &t.span(), d),
        None => TrustedProxies::default(),
    };
    Settings {
        mode,
        cors,
        missing_origin,
        null_origin,
        trusted_proxies,
    }
}

/// What report-only lets through, said whenever such a policy is loaded (it is what the gate
/// does: `gate::cors` grants nothing more).
pub(crate) const REPORT_ONLY_WARNING: &str = "report-only mode: nothing is blocked. \
     Requests from origins no allow rule matches pass and get CORS headers without \
     credentials; requests whose origin a [[deny]] rule matches, `Origin: null` and malformed \
     origins pass but never get CORS headers. Every denial is logged and counted as if it \
     were enforced";

fn mode(raw: &Option<Spanned<String>>, d: &mut Diagnostics) -> Mode {
    let Some(m) = raw else {
        return Mode::Enforce;
    };
    match m.get_ref().as_str() {
        "enforce" => Mode::Enforce,
        "report-only" => {
            d.warning(&m.span(), REPORT_ONLY_WARNING);
            Mode::ReportOnly
        }
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
    }
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

/// What compiling one rule needs to know of the others.
struct RuleContext {
    credentials: bool,
    /// Names used so far, with their lines.
    names: HashMap<String, usize>,
    /// What the regexes so far compiled to, against [`limits::MAX_REGEXES_BYTES`].
    regex_bytes: usize,
}

fn rules(
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

/// The consents a rule may give, and which of them its matcher used.
struct Consents<'r> {
    raw: &'r RawRule,
    used: Vec<&'static str>,
}

impl<'r> Consents<'r> {
    /// Whether the rule consents to `key`; records that the matcher asked.
    fn given(&mut self, key: &'static str) -> bool {
        self.used.push(key);
        self.flag(key).is_some_and(|f| *f.get_ref())
    }

    fn flag(&self, key: &str) -> Option<&'r Spanned<bool>> {
        match key {
            "allow_public_suffix" => self.raw.allow_public_suffix.as_ref(),
            "allow_insecure_scheme" => self.raw.allow_insecure_scheme.as_ref(),
            "allow_credentials_with_wildcard" => self.raw.allow_credentials_with_wildcard.as_ref(),
            _ => None,
        }
    }

    /// A consent given where the matcher never asks for it is a mistake worth a warning.
    fn warn_unused(&self, d: &mut Diagnostics) {
        for key in [
            "allow_public_suffix",
            "allow_insecure_scheme",
            "allow_credentials_with_wildcard",
        ] {
            if let Some(f) = self.flag(key)
                && !self.used.contains(&key)
            {
                d.warning(&f.span(), format!("`{key}` has no effect on this rule"));
            }
        }
    }
}

/// Validates and compiles one `[[allow]]` / `[[deny]]` entry.
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
    let key = single_matcher(r, &name, &span, d)?;
    let mut consents = Consents {
        raw: r,
        used: Vec::new(),
    };
    let allow = action == Action::Allow;
    let matcher = match key {
        "exact" => Matcher::Exact(exact_origin(r.exact.as_ref()?, d)?),
        "glob" => {
            let glob = r.glob.as_ref()?;
            let g = glob_matcher(glob, ctx.credentials, &mut consents, d)?;
            if allow && let Some(probe) = foreign::glob_probe(&g) {
                let what = format!("glob `{g}`");
                wildcard_like(&what, probe, glob, ctx.credentials, &mut consents, d);
            }
            Matcher::Glob(g)
        }
        "regex" => {
            let regex = r.regex.as_ref()?;
            let checked = origin_regex(regex, ctx, d)?;
            if allow && let Some(probe) = foreign::regex_probe(&checked) {
                let what = format!("regex `{}`", regex.get_ref());
                wildcard_like(&what, probe, regex, ctx.credentials, &mut consents, d);
            }
            Matcher::Regex(regex.get_ref().clone())
        }
        "wildcard" => {
            let s = r.wildcard.as_ref().map_or(span.clone(), Spanned::span);
            if allow {
                wildcard(&s, ctx.credentials, &mut consents, d);
            } else {
                consents.used.push("allow_credentials_with_wildcard");
            }
            Matcher::Wildcard
        }
        _ => Matcher::SameOrigin,
    };
    consents.warn_unused(d);
    let note = r.note.as_ref().map(|n| n.get_ref().clone());
    text_ok.then(|| Rule::new(name, action, matcher, note, location))
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

/// The one matcher key a rule gives; `None` (with an error) for none or several.
fn single_matcher(
    r: &RawRule,
    name: &str,
    span: &Range<usize>,
    d: &mut Diagnostics,
) -> Option<&'static str> {
    let on = |f: &Option<Spanned<bool>>| f.as_ref().filter(|w| *w.get_ref()).map(Spanned::span);
    let given: Vec<(&'static str, Range<usize>)> = [
        ("exact", r.exact.as_ref().map(Spanned::span)),
        ("glob", r.glob.as_ref().map(Spanned::span)),
        ("regex", r.regex.as_ref().map(Spanned::span)),
        ("wildcard", on(&r.wildcard)),
        ("same_origin", on(&r.same_origin)),
    ]
    .into_iter()
    .filter_map(|(key, s)| Some((key, s?)))
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
        [(key, _)] => Some(key),
        [(first, _), (second, s), ..] => {
            d.error_help(
                s,
                format!("rule `{name}` has both `{first}` and `{second}`; a rule has exactly one matcher"),
                "split it into two rules",
            );
            None
        }
    }
}

fn glob_matcher(
    glob: &Spanned<String>,
    credentials: bool,
    consents: &mut Consents<'_>,
    d: &mut Diagnostics,
) -> Option<OriginGlob> {
    let g = origin_glob(glob, d)?;
    if g.has_host_wildcard() {
        let fixed = g.fixed_suffix().unwrap_or_default();
        if fixed.is_empty() || is_public_suffix(&fixed) {
            let what = if fixed.is_empty() {
                "every host".to_owned()
            } else {
                format!("the public suffix `{fixed}`: anyone can register a name under it")
            };
            if consents.given("allow_public_suffix") {
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
        if consents.given("allow_insecure_scheme") {
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

const WILDCARD_CONSENT_HELP: &str = "list the origins, or set allow_credentials_with_wildcard = true on this rule if you really mean it";

/// `wildcard = true` on an allow rule: refused with credentials unless consented, always
/// warned about.
fn wildcard(s: &Range<usize>, credentials: bool, consents: &mut Consents<'_>, d: &mut Diagnostics) {
    let consented = consents.given("allow_credentials_with_wildcard");
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
    let consented = consents.given("allow_credentials_with_wildcard");
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

/// Checks one regex: its syntax, its compiled size (alone and with the file's others), and
/// what it probably gets wrong.
fn origin_regex(
    value: &Spanned<String>,
    ctx: &mut RuleContext,
    d: &mut Diagnostics,
) -> Option<pattern::CheckedRegex> {
    let pattern = value.get_ref();
    let span = value.span();
    let checked = match pattern::check(pattern, ctx.regex_bytes) {
        Ok(checked) => checked,
        Err(refusal) => {
            d.push(super::Severity::Error, &span, refusal.message, refusal.help);
            return None;
        }
    };
    ctx.regex_bytes += checked.bytes;
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
    Some(checked)
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
