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

/// A problem+json response outside poem-openapi's operations (middleware, the gate's edges):
/// `kind` is the stable slug of `type`.
pub fn response(status: poem::http::StatusCode, kind: &str, detail: &str) -> poem::Response {
    let body = serde_json::json!({
        "type": format!("/problems/{kind}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": excerpt(detail),
    });
    poem::Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(body.to_string())
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
}
