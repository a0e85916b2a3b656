//! How an allowed origin is answered over HTTP: the policy's `[cors]` table, validated.
//!
//! The engine decides; answering (which headers a response gets) is the server's part. These
//! are the values it answers with, in the forms the
//! [Fetch standard's CORS protocol](https://fetch.spec.whatwg.org/#http-cors-protocol) headers
//! take.

use http::{HeaderName, HeaderValue, Method};

/// The cap on `max_age_secs`; browsers cap `Access-Control-Max-Age` lower anyway (Chromium:
/// 2 h, Firefox: 24 h).
pub const MAX_AGE_CAP_SECS: u32 = 86_400;

/// The `[cors]` settings of a policy, validated at load.
#[derive(Clone, Debug)]
pub struct CorsSettings {
    pub(crate) credentials: bool,
    pub(crate) max_age_secs: Option<u32>,
    pub(crate) allow_methods: Vec<Method>,
    pub(crate) allow_headers: Vec<HeaderName>,
    pub(crate) expose_headers: Vec<HeaderName>,
    pub(crate) allow_methods_value: HeaderValue,
    pub(crate) expose_headers_value: Option<HeaderValue>,
}

impl CorsSettings {
    /// Builds the settings and the header values joined from them.
    pub(crate) fn new(
        credentials: bool,
        max_age_secs: Option<u32>,
        allow_methods: Vec<Method>,
        allow_headers: Vec<HeaderName>,
        expose_headers: Vec<HeaderName>,
    ) -> Self {
        let join =
            |items: Vec<&str>| HeaderValue::from_str(&items.join(", ")).expect("validated tokens");
        Self {
            credentials,
            max_age_secs,
            allow_methods_value: join(allow_methods.iter().map(Method::as_str).collect()),
            expose_headers_value: (!expose_headers.is_empty())
                .then(|| join(expose_headers.iter().map(HeaderName::as_str).collect())),
            allow_methods,
            allow_headers,
            expose_headers,
        }
    }

    /// `credentials`: whether allowed origins get `Access-Control-Allow-Credentials: true`
    /// (the policy then refuses wildcards and insecure globs unless a rule consents).
    pub fn credentials(&self) -> bool {
        self.credentials
    }

    /// `max_age_secs` for `Access-Control-Max-Age`, capped at [`MAX_AGE_CAP_SECS`].
    pub fn max_age_secs(&self) -> Option<u32> {
        self.max_age_secs
    }

    /// `allow_methods` (default `GET`, `HEAD`, `POST`), upper-case.
    pub fn allow_methods(&self) -> &[Method] {
        &self.allow_methods
    }

    /// `allow_headers`: the request headers a preflight may be granted, lower-case.
    pub fn allow_headers(&self) -> &[HeaderName] {
        &self.allow_headers
    }

    /// `expose_headers`: the response headers scripts may read, lower-case.
    pub fn expose_headers(&self) -> &[HeaderName] {
        &self.expose_headers
    }

    /// [`CorsSettings::allow_methods`] joined for `Access-Control-Allow-Methods`.
    pub fn allow_methods_value(&self) -> &HeaderValue {
        &self.allow_methods_value
    }

    /// [`CorsSettings::expose_headers`] joined for `Access-Control-Expose-Headers`; `None`
    /// when there are none.
    pub fn expose_headers_value(&self) -> Option<&HeaderValue> {
        self.expose_headers_value.as_ref()
    }
}
