//! The origin model: an `Origin` header value parsed, validated and normalized.
//!
//! An origin is the serialization `scheme "://" host [ ":" port ]` of
//! [RFC 6454 §6.2](https://www.rfc-editor.org/rfc/rfc6454#section-6.2) and the
//! [Fetch standard](https://fetch.spec.whatwg.org/#origin-header). Anything else in the header
//! (a path, userinfo, a list, control characters) is *malformed*: it is refused with 400, never
//! compared as a raw string and never "best-effort" repaired.
//!
//! ```
//! use gavel_policy::Origin;
//!
//! let o = Origin::parse("HTTPS://Bücher.Example:443").unwrap();
//! assert_eq!(o.as_str(), "https://xn--bcher-kva.example");
//! assert!(Origin::parse("https://a.com/").is_err());
//! ```

use std::fmt;

use http::HeaderMap;
use http::header::ORIGIN;

/// Longer header values are refused: a real origin is a scheme, a host of at most 253 bytes and
/// a port.
pub const MAX_ORIGIN_LEN: usize = 512;

/// A normalized origin: lower-case scheme and host, IDN as punycode, default port dropped,
/// IPv6 in brackets. Two equal origins have equal serializations.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    serialized: String,
    scheme_len: usize,
    host_range: (usize, usize),
    port: Option<u16>,
}

/// Why a header value is not an origin.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MalformedOrigin {
    /// Two `Origin` headers with different values.
    #[error("two different Origin headers")]
    Conflicting,
    /// A comma-separated list where one origin is expected.
    #[error("a list of origins (comma) where one origin is expected")]
    List,
    /// An empty value.
    #[error("the value is empty")]
    Empty,
    /// Longer than [`MAX_ORIGIN_LEN`].
    #[error("the value is longer than {MAX_ORIGIN_LEN} bytes")]
    TooLong,
    /// Bytes that are not UTF-8.
    #[error("the value is not valid UTF-8")]
    NotUtf8,
    /// A control character.
    #[error("the value contains a control character")]
    ControlCharacter,
    /// Whitespace inside the value.
    #[error("the value contains whitespace")]
    Whitespace,
    /// No `scheme://`.
    #[error("no scheme: an origin looks like `https://host`")]
    MissingScheme,
    /// A scheme that is not `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    #[error("`{0}` is not a valid scheme")]
    InvalidScheme(String),
    /// A path (or a backslash, which URL parsers read as one); the path is kept.
    #[error("an origin has no path (`{0}`)")]
    Path(String),
    /// A `?query`.
    #[error("an origin has no query")]
    Query,
    /// A `#fragment`.
    #[error("an origin has no fragment")]
    Fragment,
    /// `user@` before the host.
    #[error("an origin has no user information (`user@`)")]
    UserInfo,
    /// A `*` in the host: a glob, not an origin.
    #[error("a `*` is not allowed in a host")]
    Wildcard,
    /// No host.
    #[error("the host is empty")]
    EmptyHost,
    /// A host that is neither a domain nor an IP address.
    #[error("invalid host `{0}`")]
    InvalidHost(String),
    /// A port that is not a number from 0 to 65535.
    #[error("invalid port `{0}`")]
    InvalidPort(String),
}

impl MalformedOrigin {
    /// A short, stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Conflicting => "conflicting-headers",
            Self::List => "list",
            Self::Empty => "empty",
            Self::TooLong => "too-long",
            Self::NotUtf8 => "not-utf8",
            Self::ControlCharacter => "control-character",
            Self::Whitespace => "whitespace",
            Self::MissingScheme => "missing-scheme",
            Self::InvalidScheme(_) => "invalid-scheme",
            Self::Path(_) => "path",
            Self::Query => "query",
            Self::Fragment => "fragment",
            Self::UserInfo => "userinfo",
            Self::Wildcard => "wildcard-host",
            Self::EmptyHost => "empty-host",
            Self::InvalidHost(_) => "invalid-host",
            Self::InvalidPort(_) => "invalid-port",
        }
    }
}

/// What the request said about its origin: the input of every decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestOrigin {
    /// No `Origin` header at all.
    Missing,
    /// The opaque origin `null` (sandboxed iframes, `file:` pages, some redirects).
    Null,
    /// A well-formed origin, normalized.
    Present(Origin),
    /// A value that is not an origin serialization, with the raw text when it was text.
    Malformed {
        /// The value as received (lossily decoded when it was not UTF-8).
        raw: String,
        /// What is wrong with it.
        problem: MalformedOrigin,
    },
}

impl RequestOrigin {
    /// Reads every `Origin` header of a request. Identical repeated headers count as one;
    /// different ones are malformed.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut values = headers.get_all(ORIGIN).iter();
        let Some(first) = values.next() else {
            return Self::Missing;
        };
        if values.any(|other| other.as_bytes().trim_ascii() != first.as_bytes().trim_ascii()) {
            return Self::Malformed {
                raw: String::from_utf8_lossy(first.as_bytes()).into_owned(),
                problem: MalformedOrigin::Conflicting,
            };
        }
        Self::from_bytes(first.as_bytes())
    }

    /// Classifies one header value given as raw bytes.
    pub fn from_bytes(raw: &[u8]) -> Self {
        match std::str::from_utf8(raw) {
            Ok(text) => Self::from_value(text),
            Err(_) => Self::Malformed {
                raw: String::from_utf8_lossy(raw).into_owned(),
                problem: MalformedOrigin::NotUtf8,
            },
        }
    }

    /// Classifies one header value.
    pub fn from_value(raw: &str) -> Self {
        let trimmed = raw.trim_matches([' ', '\t']);
        if trimmed.eq_ignore_ascii_case("null") {
            return Self::Null;
        }
        match Origin::parse(trimmed) {
            Ok(origin) => Self::Present(origin),
            Err(problem) => Self::Malformed {
                raw: raw.to_owned(),
                problem,
            },
        }
    }

    /// The normalized origin, when there is one.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Self::Present(origin) => Some(origin),
            _ => None,
        }
    }
}

impl Origin {
    /// Parses an origin serialization (surrounding spaces and tabs are trimmed first) and
    /// normalizes it; anything that is not `scheme "://" host [ ":" port ]` is refused with
    /// what is wrong.
    ///
    /// ```
    /// use gavel_policy::{MalformedOrigin, Origin};
    ///
    /// let o = Origin::parse("https://App.Example.COM:8443")?;
    /// assert_eq!((o.scheme(), o.host(), o.port()), ("https", "app.example.com", Some(8443)));
    /// assert_eq!(Origin::parse("wss://a.io:443")?.as_str(), "wss://a.io");
    /// assert_eq!(Origin::parse("http://[::1]:3000")?.is_loopback(), true);
    ///
    /// assert_eq!(Origin::parse("https://a.com/x"), Err(MalformedOrigin::Path("/x".into())));
    /// assert_eq!(Origin::parse("https://a.com@evil.io"), Err(MalformedOrigin::UserInfo));
    /// assert_eq!(Origin::parse("a.com"), Err(MalformedOrigin::MissingScheme));
    /// # Ok::<(), MalformedOrigin>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, MalformedOrigin> {
        let text = input.trim_matches([' ', '\t']);
        if text.is_empty() {
            return Err(MalformedOrigin::Empty);
        }
        if text.len() > MAX_ORIGIN_LEN {
            return Err(MalformedOrigin::TooLong);
        }
        // Most origins hold only these bytes; only other values need the checks below.
        let plain = text.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'/' | b'[' | b']' | b'+')
        });
        if !plain {
            if text.chars().any(char::is_control) {
                return Err(MalformedOrigin::ControlCharacter);
            }
            if text.contains(',') {
                return Err(MalformedOrigin::List);
            }
            if text.chars().any(char::is_whitespace) {
                return Err(MalformedOrigin::Whitespace);
            }
        }
        // `find(':')` then a check, rather than a substring search: this is the hot path.
        let Some((scheme, rest)) = text
            .find(':')
            .and_then(|i| Some((&text[..i], text[i + 1..].strip_prefix("//")?)))
        else {
            return Err(MalformedOrigin::MissingScheme);
        };
        if !is_scheme(scheme) {
            return Err(MalformedOrigin::InvalidScheme(scheme.to_owned()));
        }
        // These are caught on the raw text: the `url` crate silently drops userinfo from an
        // origin and gives `https://a.com` and `https://a.com/` the same path.
        if let Some(at) = rest.find(['/', '\\']) {
            return Err(MalformedOrigin::Path(rest[at..].to_owned()));
        }
        if !plain {
            if rest.contains('?') {
                return Err(MalformedOrigin::Query);
            }
            if rest.contains('#') {
                return Err(MalformedOrigin::Fragment);
            }
            if rest.contains('@') {
                return Err(MalformedOrigin::UserInfo);
            }
            if rest.contains('*') {
                return Err(MalformedOrigin::Wildcard);
            }
        }
        let (host_text, port_text) = split_host_port(rest)?;
        if host_text.is_empty() {
            return Err(MalformedOrigin::EmptyHost);
        }
        let port = match port_text {
            None => None,
            Some(p) => Some(parse_port(p)?),
        };
        let mut serialized = String::with_capacity(text.len());
        serialized.push_str(scheme);
        serialized.make_ascii_lowercase();
        serialized.push_str("://");
        let host_start = serialized.len();
        if !push_normalized_host(&mut serialized, host_text) {
            return Err(MalformedOrigin::InvalidHost(host_text.to_owned()));
        }
        Ok(Self::finish(serialized, scheme.len(), host_start, port))
    }

    /// Completes an origin whose buffer holds `scheme://host`; drops the default port.
    fn finish(
        mut serialized: String,
        scheme_len: usize,
        host_start: usize,
        port: Option<u16>,
    ) -> Self {
        let host_end = serialized.len();
        let port = port.filter(|p| default_port(&serialized[..scheme_len]) != Some(*p));
        if let Some(port) = port {
            use std::fmt::Write;
            let _ = write!(serialized, ":{port}");
        }
        Self {
            serialized,
            scheme_len,
            host_range: (host_start, host_end),
            port,
        }
    }

    /// Builds an origin from parts that are already normalized; drops the scheme's default port.
    pub(crate) fn from_parts(scheme: &str, host: &str, port: Option<u16>) -> Self {
        let mut serialized = String::with_capacity(scheme.len() + host.len() + 9);
        serialized.push_str(scheme);
        serialized.push_str("://");
        let host_start = serialized.len();
        serialized.push_str(host);
        Self::finish(serialized, scheme.len(), host_start, port)
    }

    /// The serialization, e.g. `https://app.example.com:8443`.
    pub fn as_str(&self) -> &str {
        &self.serialized
    }

    /// The scheme, lower-case.
    pub fn scheme(&self) -> &str {
        &self.serialized[..self.scheme_len]
    }

    /// The host as serialized: punycode, IPv6 in brackets, a trailing dot kept.
    pub fn host(&self) -> &str {
        &self.serialized[self.host_range.0..self.host_range.1]
    }

    /// The explicit port, `None` when it is the scheme's default (or the scheme has none).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port a connection would use: explicit, or the scheme's default.
    pub fn effective_port(&self) -> Option<u16> {
        self.port.or_else(|| default_port(self.scheme()))
    }

    /// Whether the host is a loopback name or address (`localhost`, `127.0.0.0/8`, `[::1]`).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.host())
    }

    /// The same origin with another scheme / port / host (used for near-miss hints).
    pub(crate) fn with_scheme(&self, scheme: &str) -> Self {
        Self::from_parts(scheme, self.host(), self.port)
    }

    pub(crate) fn with_port(&self, port: Option<u16>) -> Self {
        Self::from_parts(self.scheme(), self.host(), port)
    }

    pub(crate) fn with_host(&self, host: &str) -> Self {
        Self::from_parts(self.scheme(), host, self.port)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialized)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({})", self.serialized)
    }
}

impl serde::Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.serialized)
    }
}

/// The default port of the schemes that have one (WHATWG "special" schemes).
pub(crate) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// WHATWG host parsing for every scheme (lower-casing, IDNA, IPv4/IPv6 canonical forms), so
/// that `capacitor://LocalHost` is judged like `https://LocalHost` would be. `None` when the
/// host is invalid.
pub(crate) fn normalize_host(host: &str) -> Option<String> {
    let mut out = String::with_capacity(host.len());
    push_normalized_host(&mut out, host).then_some(out)
}

/// [`normalize_host`] into a buffer; `false` (buffer unchanged) when the host is invalid.
fn push_normalized_host(out: &mut String, host: &str) -> bool {
    // Strict dotted-decimal IPv4 (what a Host header usually holds) is already canonical.
    if host.starts_with(|c: char| c.is_ascii_digit()) && host.parse::<std::net::Ipv4Addr>().is_ok()
    {
        out.push_str(host);
        return true;
    }
    if is_simple_ascii_host(host) {
        let start = out.len();
        out.push_str(host);
        out[start..].make_ascii_lowercase();
        return true;
    }
    match url::Host::parse(host) {
        Ok(parsed) => {
            use std::fmt::Write;
            let _ = write!(out, "{parsed}");
            true
        }
        Err(_) => false,
    }
}

/// The common case without the full parser (it costs more than the rest of a decision): a
/// host of ASCII letters, digits, `-` and `.`, no punycode label to validate, and a last label
/// that is not a number (which would make it an IPv4 address to canonicalize). For such a host
/// the WHATWG result is just the lower-cased text; a property test checks that.
fn is_simple_ascii_host(host: &str) -> bool {
    let bytes = host.as_bytes();
    if bytes.is_empty()
        || !bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
    {
        return false;
    }
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    let mut last = "";
    for label in trimmed.split('.') {
        if label.is_empty() || label.len() >= 4 && label[..4].eq_ignore_ascii_case("xn--") {
            return false;
        }
        last = label;
    }
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || (last.len() >= 2
            && last[..2].eq_ignore_ascii_case("0x")
            && last[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    !(numeric || last.starts_with(|c: char| c.is_ascii_digit()))
}

pub(crate) fn is_loopback_host(host: &str) -> bool {
    match host {
        "localhost" | "[::1]" => true,
        _ => host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback()),
    }
}

pub(crate) fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Splits `host[:port]`, keeping IPv6 literals (`[::1]:8080`) whole.
pub(crate) fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), MalformedOrigin> {
    if authority.starts_with('[') {
        let Some(close) = authority.find(']') else {
            return Err(MalformedOrigin::InvalidHost(authority.to_owned()));
        };
        let (host, after) = authority.split_at(close + 1);
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(MalformedOrigin::InvalidHost(authority.to_owned())),
        };
    }
    Ok(match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

pub(crate) fn parse_port(text: &str) -> Result<u16, MalformedOrigin> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MalformedOrigin::InvalidPort(text.to_owned()));
    }
    text.parse()
        .map_err(|_| MalformedOrigin::InvalidPort(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        Origin::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalizes() {
        assert_eq!(ok("HTTPS://APP.Example.COM"), "https://app.example.com");
        assert_eq!(ok("https://app.example.com:443"), "https://app.example.com");
        assert_eq!(ok("http://app.example.com:80"), "http://app.example.com");
        assert_eq!(ok("wss://a.io:443"), "wss://a.io");
        assert_eq!(ok("ws://a.io:80"), "ws://a.io");
        assert_eq!(ok("http://a.io:443"), "http://a.io:443");
        assert_eq!(ok(" \thttps://a.io "), "https://a.io");
        assert_eq!(ok("https://bücher.de"), "https://xn--bcher-kva.de");
        assert_eq!(
            ok("http://[2001:DB8:0::1]:8080"),
            "http://[2001:db8::1]:8080"
        );
        assert_eq!(ok("capacitor://LocalHost"), "capacitor://localhost");
        assert_eq!(ok("app://x.y:9"), "app://x.y:9");
        assert_eq!(ok("https://app.example.com."), "https://app.example.com.");
        assert_eq!(ok("http://localhost:05173"), "http://localhost:5173");
    }

    proptest::proptest! {
        /// The fast path agrees with the full WHATWG host parser wherever it answers.
        #[test]
        fn simple_hosts_normalize_like_the_url_crate(host in "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,4}|[a-zA-Z0-9.-]{1,30}|[a-z]{1,5}\\.(xn--[a-z0-9]{1,6}|[0-9]{1,3}|0x[0-9a-f]{1,3})") {
            let full = url::Host::parse(&host).map(|h| h.to_string()).ok();
            proptest::prop_assert_eq!(normalize_host(&host), full, "{}", host);
        }
    }

    #[test]
    fn parts() {
        let o = Origin::parse("http://[::1]:3000").unwrap();
        assert_eq!(o.scheme(), "http");
        assert_eq!(o.host(), "[::1]");
        assert_eq!(o.port(), Some(3000));
        assert!(o.is_loopback());
        let o = Origin::parse("https://a.io").unwrap();
        assert_eq!(o.port(), None);
        assert_eq!(o.effective_port(), Some(443));
        assert!(!o.is_loopback());
    }

    #[test]
    fn refuses_what_is_not_an_origin() {
        use MalformedOrigin::*;
        let cases: &[(&str, MalformedOrigin)] = &[
            ("https://a.com/", Path("/".into())),
            ("https://a.com/x", Path("/x".into())),
            ("https://a.com\\x", Path("\\x".into())),
            ("https://a.com?x", Query),
            ("https://a.com#x", Fragment),
            ("https://a.com@evil.io", UserInfo),
            ("https://*.example.com", Wildcard),
            ("https://a.com, https://b.com", List),
            ("a.com", MissingScheme),
            ("1http://a.com", InvalidScheme("1http".into())),
            ("https://", EmptyHost),
            ("https://:443", EmptyHost),
            ("https://a.com:", InvalidPort("".into())),
            ("https://a.com:99999", InvalidPort("99999".into())),
            ("https://a.com:-1", InvalidPort("-1".into())),
            ("https://a b.com", Whitespace),
            ("https://a.com\u{0}", ControlCharacter),
            ("", Empty),
            ("https://[::1", InvalidHost("[::1".into())),
            ("https://a<b.com", InvalidHost("a<b.com".into())),
        ];
        for (input, want) in cases {
            assert_eq!(Origin::parse(input).as_ref(), Err(want), "{input:?}");
        }
        let long = format!("https://{}.com", "a".repeat(600));
        assert_eq!(Origin::parse(&long), Err(TooLong));
    }

    #[test]
    fn headers() {
        let mut h = HeaderMap::new();
        assert_eq!(RequestOrigin::from_headers(&h), RequestOrigin::Missing);
        h.append(ORIGIN, "null".parse().unwrap());
        assert_eq!(RequestOrigin::from_headers(&h), RequestOrigin::Null);
        let mut h = HeaderMap::new();
        h.append(ORIGIN, "https://a.io".parse().unwrap());
        h.append(ORIGIN, "https://a.io".parse().unwrap());
        assert!(matches!(
            RequestOrigin::from_headers(&h),
            RequestOrigin::Present(_)
        ));
        h.append(ORIGIN, "http://b.io".parse().unwrap());
        assert!(matches!(
            RequestOrigin::from_headers(&h),
            RequestOrigin::Malformed {
                problem: MalformedOrigin::Conflicting,
                ..
            }
        ));
        let mut h = HeaderMap::new();
        h.append(
            ORIGIN,
            http::HeaderValue::from_bytes(b"https://\xffa.io").unwrap(),
        );
        assert!(matches!(
            RequestOrigin::from_headers(&h),
            RequestOrigin::Malformed {
                problem: MalformedOrigin::NotUtf8,
                ..
            }
        ));
    }
}
