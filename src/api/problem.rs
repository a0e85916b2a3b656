//! `application/problem+json` bodies (RFC 9457).

use poem_openapi::Object;

/// An error, as RFC 9457 describes it, with a stable `type` per kind of error.
#[derive(Debug, Clone, Object)]
pub struct Problem {
    /// A stable identifier of the kind of error, e.g. `/problems/unauthorized`.
    #[oai(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Located diagnostics, when the error is about a policy file.
    #[oai(default, skip_serializing_if_is_empty)]
    pub diagnostics: Vec<String>,
}

impl Problem {
    pub fn new(kind: &str, title: &str, status: u16, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{kind}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            diagnostics: Vec::new(),
        }
    }
}
