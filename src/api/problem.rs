//! `application/problem+json` bodies (RFC 9457): the one way Gavel builds an HTTP error.
//!
//! Every problem has a stable `type` of the form `/problems/<kind>`, where `kind` is a
//! **snake_case** slug (`origin_denied`, `not_your_turn`, `payload_too_large`). Handlers of
//! poem-openapi operations return [`Problem::json`]; middleware and the gate's edges return
//! [`Problem::into_response`]. Details never echo more than an [`excerpt`] of the input.
//!
//! ```
//! use gavel::api::problem::Problem;
//! use poem::http::StatusCode;
//!
//! let problem = Problem::new(StatusCode::CONFLICT, "not_your_turn", "team 2 nominates next")
//!     .titled("Refused by the auction rules");
//! assert_eq!(problem.kind, "/problems/not_your_turn");
//! assert_eq!(problem.status, 409);
//! ```

use poem::http::StatusCode;
use poem_openapi::Object;
use poem_openapi::payload::Json;
use poem_openapi::types::ToJSON;

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
    /// A problem of kind `kind` (a snake_case slug), titled with the status's reason phrase.
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        debug_assert!(
            !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "problem kinds are snake_case slugs: {kind}"
        );
        Self {
            kind: format!("/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: excerpt(&detail.into()),
            diagnostics: Vec::new(),
        }
    }

    /// The same problem with a title more specific than the status's reason phrase.
    pub fn titled(mut self, title: &str) -> Self {
        title.clone_into(&mut self.title);
        self
    }

    /// The same problem carrying located diagnostics (policy files).
    pub fn with_diagnostics(mut self, diagnostics: Vec<String>) -> Self {
        self.diagnostics = diagnostics;
        self
    }

    /// The body of a poem-openapi response variant.
    pub fn json(self) -> Json<Self> {
        Json(self)
    }

    /// A complete response, for answers outside poem-openapi's operations.
    pub fn into_response(self) -> poem::Response {
        self.into_response_with(serde_json::Map::new())
    }

    /// A complete response with RFC 9457 extension members beside the standard ones.
    pub fn into_response_with(
        self,
        extensions: serde_json::Map<String, serde_json::Value>,
    ) -> poem::Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = match self.to_json() {
            Some(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        body.extend(extensions);
        poem::Response::builder()
            .status(status)
            .content_type("application/problem+json")
            .body(serde_json::Value::Object(body).to_string())
    }
}

/// The longest detail a problem carries: an error about the input never echoes more than a
/// short excerpt of it (a type error on a 100 MB body would otherwise quote all of it).
pub const MAX_DETAIL_BYTES: usize = 200;

/// `detail` cut to [`MAX_DETAIL_BYTES`] at a character boundary, marked when cut.
pub fn excerpt(detail: &str) -> String {
    if detail.len() <= MAX_DETAIL_BYTES {
        return detail.to_owned();
    }
    let mut end = MAX_DETAIL_BYTES;
    while !detail.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &detail[..end], detail.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_cut_to_an_excerpt() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(1000);
        let cut = excerpt(&long);
        assert!(cut.len() < MAX_DETAIL_BYTES + 40, "{}", cut.len());
        assert!(cut.ends_with("(2000 bytes in all)"), "{cut}");
    }

    #[test]
    fn extension_members_sit_beside_the_standard_ones() {
        let mut extra = serde_json::Map::new();
        extra.insert("reason".into(), "no-rule-matched".into());
        let resp = Problem::new(StatusCode::FORBIDDEN, "origin_denied", "x")
            .titled("Origin not allowed")
            .into_response_with(extra);
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }
}
