//! Everything of a policy but its rules and guard rails: `version`, `mode`, `[cors]`,
//! `[requests]` and `[trusted_proxies]`.

use std::ops::Range;

use toml::Spanned;

use crate::cors::{CorsSettings, MAX_AGE_CAP_SECS};
use crate::decision::Verdict;
use crate::diagnostics::Diagnostics;
use crate::policy::Mode;
use crate::proxy::{FORWARDING_HEADERS, TrustedProxies};
use crate::schema::{RawCors, RawPolicy, RawTrustedProxies};

/// The validated settings.
pub(in crate::load) struct Settings {
    pub(in crate::load) mode: Mode,
    pub(in crate::load) cors: CorsSettings,
    pub(in crate::load) missing_origin: Verdict,
    pub(in crate::load) null_origin: Verdict,
    pub(in crate::load) trusted_proxies: TrustedProxies,
}

pub(super) fn settings(raw: &RawPolicy, d: &mut Diagnostics) -> Settings {
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

/// What report-only lets through, said whenever such a policy is loaded (it is what the
/// server's gate must do: grant nothing more).
const REPORT_ONLY_WARNING: &str = "report-only mode: nothing is blocked. \
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
    let max_age_secs = raw.max_age_secs.as_ref().and_then(|m| max_age(m, d));
    let allow_methods = match &raw.allow_methods {
        None => vec![http::Method::GET, http::Method::HEAD, http::Method::POST],
        Some(list) => list.iter().filter_map(|m| method(m, d)).collect(),
    };
    // In this order: the file's errors are reported in the order they were found.
    let expose_headers = header_names(&raw.expose_headers, d);
    let allow_headers = header_names(&raw.allow_headers, d);
    CorsSettings::new(
        raw.credentials.unwrap_or(false),
        max_age_secs,
        allow_methods,
        allow_headers,
        expose_headers,
    )
}

fn max_age(m: &Spanned<i64>, d: &mut Diagnostics) -> Option<u32> {
    let secs = *m.get_ref();
    if secs < 0 {
        d.error(&m.span(), "max_age_secs cannot be negative");
        None
    } else if secs > i64::from(MAX_AGE_CAP_SECS) {
        d.warning(
            &m.span(),
            format!(
                "max_age_secs {secs} is capped at {MAX_AGE_CAP_SECS} (browsers cap it lower anyway)"
            ),
        );
        Some(MAX_AGE_CAP_SECS)
    } else {
        Some(secs as u32)
    }
}

fn method(m: &Spanned<String>, d: &mut Diagnostics) -> Option<http::Method> {
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
}

fn header_names(list: &Option<Vec<Spanned<String>>>, d: &mut Diagnostics) -> Vec<http::HeaderName> {
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
        .collect()
}

fn trusted_proxies(
    raw: &RawTrustedProxies,
    span: &Range<usize>,
    d: &mut Diagnostics,
) -> TrustedProxies {
    let cidrs = raw.cidrs.iter().filter_map(|c| cidr(c, d)).collect();
    let headers: Vec<&'static str> = raw
        .headers
        .iter()
        .filter_map(|h| forwarding_header(h, d))
        .collect();
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

fn cidr(c: &Spanned<String>, d: &mut Diagnostics) -> Option<ipnet::IpNet> {
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
            Some(net.trunc())
        }
        Err(_) => {
            d.error_help(
                &c.span(),
                format!("`{text}` is not a CIDR or an IP address"),
                "write e.g. `10.0.0.0/8` or `127.0.0.1`",
            );
            None
        }
    }
}

fn forwarding_header(h: &Spanned<String>, d: &mut Diagnostics) -> Option<&'static str> {
    let name = h.get_ref().trim().to_ascii_lowercase();
    let known = FORWARDING_HEADERS.iter().find(|known| **known == name);
    if known.is_none() {
        d.error_help(
            &h.span(),
            format!("`{}` is not a forwarding header Gavel reads", h.get_ref()),
            format!(
                "expected one of {}",
                FORWARDING_HEADERS.map(|n| format!("`{n}`")).join(", ")
            ),
        );
    }
    known.copied()
}
