//! Origin globs: `*` is exactly one DNS label, `**` one or more, and nothing crosses `.`, `:`
//! or `/`.
//!
//! A glob and an origin are both turned into a *label path* — scheme, port, then the host's
//! labels from the top-level domain down: `https://app.example.com` becomes
//! `https/443/com/example/app` — and matched with `globset` with `literal_separator(true)`, so a
//! `*` can never span two labels and never matches the bare parent domain.

use std::fmt;

use super::origin::{
    MAX_ORIGIN_LEN, Origin, default_port, is_loopback_host, is_scheme, parse_port, split_host_port,
};

/// The port segment of a label path for an origin whose scheme has no default port.
const NO_PORT: &str = "-";

/// A validated origin glob such as `https://*.preview.example.com` or `http://localhost:*`.
#[derive(Clone, PartialEq, Eq)]
pub struct OriginGlob {
    scheme: String,
    /// Host labels left to right, lower-case, IDN as punycode; may be `*`, `**` or contain `*`.
    labels: Vec<String>,
    /// `None` = any port (`:*`); otherwise the effective port (or no port).
    port: PortPattern,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Any,
    Exactly(Option<u16>),
}

/// Why a glob was refused, with a suggestion when one can be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobError {
    pub message: String,
    pub help: Option<String>,
}

impl GlobError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl OriginGlob {
    pub fn parse(text: &str) -> Result<Self, GlobError> {
        // An origin is at most this long; so is a pattern for origins, which bounds its
        // compiled size.
        if text.len() > MAX_ORIGIN_LEN {
            return Err(GlobError::new(format!(
                "a glob is at most {MAX_ORIGIN_LEN} bytes long, like an origin"
            )));
        }
        if text.trim() != text || text.chars().any(char::is_whitespace) {
            return Err(GlobError::new("a glob has no whitespace")
                .help(format!("did you mean `{}`?", text.trim())));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(GlobError::new("a glob needs a scheme").help(format!(
                "did you mean `https://{}`?",
                text.trim_start_matches('/')
            )));
        };
        if scheme.contains('*') {
            return Err(GlobError::new("the scheme of a glob cannot be a wildcard")
                .help("write one rule per scheme"));
        }
        if !is_scheme(scheme) {
            return Err(GlobError::new(format!("`{scheme}` is not a valid scheme")));
        }
        let scheme = scheme.to_ascii_lowercase();
        if let Some(at) = rest.find(['/', '?', '#']) {
            return Err(GlobError::new("an origin has no path, query or fragment")
                .help(format!("did you mean `{scheme}://{}`?", &rest[..at])));
        }
        if rest.contains('@') {
            return Err(GlobError::new(
                "an origin has no user information (`user@`)",
            ));
        }
        let (host, port) =
            split_host_port(rest).map_err(|e| GlobError::new(format!("invalid host: {e}")))?;
        let port = match port {
            Some("*") => PortPattern::Any,
            Some(p) => {
                let p = parse_port(p).map_err(|e| GlobError::new(e.to_string()))?;
                PortPattern::Exactly(Some(p).filter(|p| default_port(&scheme) != Some(*p)))
            }
            None => PortPattern::Exactly(None),
        };
        if host.is_empty() {
            return Err(GlobError::new("the host is empty"));
        }
        let labels = if host.starts_with('[') {
            if host.contains('*') {
                return Err(GlobError::new("an IPv6 address cannot contain a wildcard"));
            }
            let parsed = url::Host::parse(host)
                .map_err(|_| GlobError::new(format!("invalid host `{host}`")))?;
            vec![parsed.to_string()]
        } else {
            host.split('.')
                .map(normalize_label)
                .collect::<Result<Vec<_>, _>>()?
        };
        Ok(Self {
            scheme,
            labels,
            port,
        })
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Whether the host part has a wildcard (a port-only glob like `http://localhost:*` has not).
    pub fn has_host_wildcard(&self) -> bool {
        self.labels.iter().any(|l| l.contains('*'))
    }

    /// The labels right of the rightmost wildcard label, joined: `example.com` for
    /// `https://*.example.com`. Empty when the wildcard is the top-level label.
    pub fn fixed_suffix(&self) -> Option<String> {
        let last_wild = self.labels.iter().rposition(|l| l.contains('*'))?;
        Some(self.labels[last_wild + 1..].join("."))
    }

    /// Whether the host is a loopback name or address, so the glob only varies the port.
    pub fn is_loopback(&self) -> bool {
        !self.has_host_wildcard() && is_loopback_host(&self.labels.join("."))
    }

    /// The `globset` pattern over label paths (see the module docs).
    pub fn label_path_pattern(&self) -> String {
        let mut segments = vec![globset::escape(&self.scheme)];
        segments.push(match self.port {
            PortPattern::Any => "*".to_owned(),
            PortPattern::Exactly(p) => port_segment(&self.scheme, p),
        });
        let count = self.labels.len();
        for (i, label) in self.labels.iter().rev().enumerate() {
            if label == "**" {
                // globset's `/**` at the end already needs one segment; in the middle `/**/`
                // also matches zero, so a `*` in front keeps "one or more".
                if i + 1 == count {
                    segments.push("**".to_owned());
                } else {
                    segments.push("*".to_owned());
                    segments.push("**".to_owned());
                }
            } else if label.contains('*') {
                segments.push(
                    label
                        .split('*')
                        .map(globset::escape)
                        .collect::<Vec<_>>()
                        .join("*"),
                );
            } else {
                segments.push(globset::escape(label));
            }
        }
        segments.join("/")
    }

    /// Compiles this one glob on its own (the scanning baseline and tests use it).
    pub fn matcher(&self) -> globset::GlobMatcher {
        build_glob(&self.label_path_pattern())
            .expect("validated glob compiles")
            .compile_matcher()
    }
}

pub(crate) fn build_glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn normalize_label(label: &str) -> Result<String, GlobError> {
    if label.is_empty() {
        return Err(GlobError::new(
            "empty label (two dots in a row, or a leading dot)",
        ));
    }
    if label == "*" || label == "**" {
        return Ok(label.to_owned());
    }
    if label.contains("**") {
        return Err(GlobError::new(format!(
            "`**` must be a whole label, not part of `{label}`"
        )));
    }
    if label.contains('*') {
        if let Some(bad) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*')))
        {
            return Err(GlobError::new(format!(
                "`{bad}` is not allowed in a label with `*` (`{label}`)"
            )));
        }
        return Ok(label.to_ascii_lowercase());
    }
    let ascii = idna::domain_to_ascii(label)
        .map_err(|_| GlobError::new(format!("`{label}` is not a valid host label")))?;
    if let Some(bad) = ascii
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
    {
        return Err(GlobError::new(format!(
            "`{bad}` is not allowed in a host label (`{label}`); only `*` and `**` are wildcards"
        )));
    }
    Ok(ascii)
}

fn port_segment(scheme: &str, port: Option<u16>) -> String {
    match port.or_else(|| default_port(scheme)) {
        Some(p) => p.to_string(),
        None => NO_PORT.to_owned(),
    }
}

/// The label path of an origin: `https://app.example.com` → `https/443/com/example/app`.
pub fn label_path(origin: &Origin) -> String {
    let host = origin.host();
    let mut path = String::with_capacity(origin.as_str().len() + 8);
    path.push_str(origin.scheme());
    path.push('/');
    match origin.effective_port() {
        Some(p) => {
            use std::fmt::Write;
            let _ = write!(path, "{p}");
        }
        None => path.push_str(NO_PORT),
    }
    if host.starts_with('[') {
        path.push('/');
        path.push_str(host);
    } else {
        for label in host.rsplit('.') {
            path.push('/');
            path.push_str(label);
        }
    }
    path
}

impl fmt::Display for OriginGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.labels.join("."))?;
        match self.port {
            PortPattern::Any => f.write_str(":*"),
            PortPattern::Exactly(Some(p)) => write!(f, ":{p}"),
            PortPattern::Exactly(None) => Ok(()),
        }
    }
}

impl fmt::Debug for OriginGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OriginGlob({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(glob: &str, origin: &str) -> bool {
        let g = OriginGlob::parse(glob).unwrap();
        g.matcher()
            .is_match(label_path(&Origin::parse(origin).unwrap()))
    }

    #[test]
    fn label_paths() {
        let o = |s| label_path(&Origin::parse(s).unwrap());
        assert_eq!(o("https://app.example.com"), "https/443/com/example/app");
        assert_eq!(o("http://localhost:5173"), "http/5173/localhost");
        assert_eq!(o("capacitor://localhost"), "capacitor/-/localhost");
        assert_eq!(o("http://[::1]:3000"), "http/3000/[::1]");
        assert_eq!(o("https://a.com."), "https/443//com/a");
    }

    #[test]
    fn star_is_one_label() {
        let g = "https://*.example.com";
        assert!(matches(g, "https://app.example.com"));
        assert!(!matches(g, "https://a.b.example.com"));
        assert!(!matches(g, "https://example.com"));
        assert!(!matches(g, "https://evilexample.com"));
        assert!(!matches(g, "https://app.example.com.evil.io"));
        assert!(!matches(g, "http://app.example.com"));
        assert!(!matches(g, "https://app.example.com:444"));
        assert!(!matches(g, "https://app.example.com."));
        assert!(matches(g, "https://app.example.com:443"));
    }

    #[test]
    fn double_star_is_one_or_more_labels() {
        let g = "https://**.preview.example.org";
        assert!(matches(g, "https://a.preview.example.org"));
        assert!(matches(g, "https://a.b.c.preview.example.org"));
        assert!(!matches(g, "https://preview.example.org"));
        let middle = "https://app.**.example.org";
        assert!(matches(middle, "https://app.x.example.org"));
        assert!(matches(middle, "https://app.x.y.example.org"));
        assert!(!matches(middle, "https://app.example.org"));
    }

    #[test]
    fn partial_labels_and_ports() {
        assert!(matches(
            "https://pr-*.example.com",
            "https://pr-12.example.com"
        ));
        assert!(!matches(
            "https://pr-*.example.com",
            "https://pr-1.x.example.com"
        ));
        assert!(matches("http://localhost:*", "http://localhost:5173"));
        assert!(matches("http://localhost:*", "http://localhost"));
        assert!(!matches(
            "http://localhost:*",
            "http://localhost.evil.io:5173"
        ));
        assert!(!matches("http://localhost:*", "http://127.0.0.1:5173"));
        assert!(matches(
            "https://*.example.com:8443",
            "https://a.example.com:8443"
        ));
        assert!(!matches(
            "https://*.example.com:8443",
            "https://a.example.com"
        ));
        assert!(matches("HTTPS://*.Bücher.de", "https://x.xn--bcher-kva.de"));
    }

    #[test]
    fn refused_globs_say_why() {
        let err = |s| OriginGlob::parse(s).unwrap_err();
        assert!(
            err("*.example.com")
                .help
                .unwrap()
                .contains("https://*.example.com")
        );
        assert!(
            err("https://*.example.com/")
                .help
                .unwrap()
                .contains("`https://*.example.com`")
        );
        assert!(
            err("https://a**.example.com")
                .message
                .contains("whole label")
        );
        assert!(err("https://a..com").message.contains("empty label"));
        assert!(err("*://a.com").message.contains("scheme"));
        assert!(err("https://a?.com").message.contains("path"));
        assert!(err("https://a[b].com").message.contains("label"));
    }

    #[test]
    fn fixed_suffix() {
        let f = |s| OriginGlob::parse(s).unwrap().fixed_suffix();
        assert_eq!(f("https://*.example.com").as_deref(), Some("example.com"));
        assert_eq!(f("https://*.com").as_deref(), Some("com"));
        assert_eq!(f("https://a.*").as_deref(), Some(""));
        assert_eq!(f("http://localhost:*"), None);
        assert!(
            OriginGlob::parse("http://localhost:*")
                .unwrap()
                .is_loopback()
        );
        assert!(
            OriginGlob::parse("http://127.0.0.1:*")
                .unwrap()
                .is_loopback()
        );
    }
}
