//! The policy file as written: serde types with spans, before any validation.
//!
//! Every table refuses unknown keys, so a typo (`exct = …`) is an error at its line, not a rule
//! that silently matches nothing (`keys` reports all of them at once before serde is asked).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub version: Spanned<i64>,
    #[serde(default)]
    pub mode: Option<Spanned<String>>,
    #[serde(default)]
    pub cors: Option<Spanned<RawCors>>,
    #[serde(default)]
    pub requests: Option<Spanned<RawRequests>>,
    #[serde(default)]
    pub allow: Vec<Spanned<RawRule>>,
    #[serde(default)]
    pub deny: Vec<Spanned<RawRule>>,
    #[serde(default)]
    pub trusted_proxies: Option<Spanned<RawTrustedProxies>>,
    #[serde(default)]
    pub expect: Vec<Spanned<RawExpect>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCors {
    pub credentials: Option<bool>,
    pub max_age_secs: Option<Spanned<i64>>,
    pub allow_methods: Option<Vec<Spanned<String>>>,
    pub allow_headers: Option<Vec<Spanned<String>>>,
    pub expose_headers: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequests {
    pub missing_origin: Option<Spanned<String>>,
    pub null_origin: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub name: Option<Spanned<String>>,
    pub note: Option<Spanned<String>>,
    pub exact: Option<Spanned<String>>,
    pub glob: Option<Spanned<String>>,
    pub regex: Option<Spanned<String>>,
    pub wildcard: Option<Spanned<bool>>,
    pub same_origin: Option<Spanned<bool>>,
    /// Explicit consent for `wildcard = true` while `cors.credentials = true`.
    pub allow_credentials_with_wildcard: Option<Spanned<bool>>,
    /// Explicit consent for a glob whose fixed part is a public suffix (`https://*.co.uk`).
    pub allow_public_suffix: Option<Spanned<bool>>,
    /// Explicit consent for a non-https glob while `cors.credentials = true`.
    pub allow_insecure_scheme: Option<Spanned<bool>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrustedProxies {
    #[serde(default)]
    pub cidrs: Vec<Spanned<String>>,
    #[serde(default)]
    pub headers: Vec<Spanned<String>>,
}

/// The request a guard rail or a table case describes.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    pub origin: Option<Spanned<String>>,
    pub surface: Option<Spanned<String>>,
    pub peer: Option<Spanned<String>>,
    pub host: Option<Spanned<String>>,
    pub scheme: Option<Spanned<String>>,
    pub headers: Option<Spanned<BTreeMap<String, String>>>,
}

/// `[[expect]]`: a request and the verdict the policy must give it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub origin: Option<Spanned<String>>,
    pub surface: Option<Spanned<String>>,
    pub peer: Option<Spanned<String>>,
    pub host: Option<Spanned<String>>,
    pub scheme: Option<Spanned<String>>,
    pub headers: Option<Spanned<BTreeMap<String, String>>>,
    pub verdict: Spanned<String>,
    pub rule: Option<Spanned<String>>,
    /// For readers of the policy only.
    #[allow(dead_code)]
    pub note: Option<String>,
}

impl RawExpect {
    pub(crate) fn request(&self) -> RawRequest {
        RawRequest {
            origin: self.origin.clone(),
            surface: self.surface.clone(),
            peer: self.peer.clone(),
            host: self.host.clone(),
            scheme: self.scheme.clone(),
            headers: self.headers.clone(),
        }
    }
}
