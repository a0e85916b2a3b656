//! Matchers that allow arbitrary foreign origins: `regex = '^.*$'` or `glob = "https://**"`
//! allow as much as `wildcard = true`, and must be refused and warned about like it.
//!
//! Whether a pattern can match "anything" is not decidable by looking at it in general, but it
//! can be tried: each allow glob and regex is run against origins that no honest rule
//! targets. `.invalid` is reserved (RFC 6761) and never resolves, so a rule that matches a
//! name under it matches names its author never meant.

use super::glob::{OriginGlob, label_path};
use super::origin::Origin;
use super::pattern::CheckedRegex;

/// Origins no honest rule targets, in the shapes a browser sends: the default port, another
/// port, another scheme, more labels.
pub const PROBES: [&str; 4] = [
    "https://a.invalid",
    "http://b.invalid:8443",
    "https://x.y.invalid",
    "https://gavel-probe-7f3c.invalid:4443",
];

/// The first probe `regex` matches, if any.
pub(crate) fn regex_probe(regex: &CheckedRegex) -> Option<&'static str> {
    PROBES.into_iter().find(|p| regex.is_match(p))
}

/// The first probe `glob` matches, if any.
pub(crate) fn glob_probe(glob: &OriginGlob) -> Option<&'static str> {
    let matcher = glob.matcher();
    PROBES.into_iter().find(|p| {
        let origin = Origin::parse(p).expect("probes are origins");
        matcher.is_match(label_path(&origin))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::check;

    fn regex(p: &str) -> Option<&'static str> {
        regex_probe(&check(p, 0).ok().unwrap())
    }

    fn glob(g: &str) -> Option<&'static str> {
        glob_probe(&OriginGlob::parse(g).unwrap())
    }

    #[test]
    fn broad_regexes_match_a_probe() {
        assert_eq!(regex("^.*$"), Some("https://a.invalid"));
        assert_eq!(regex(".+"), Some("https://a.invalid"));
        assert_eq!(regex(r"^http://.*$"), Some("http://b.invalid:8443"));
        assert_eq!(regex(r"^https://[^/]+$"), Some("https://a.invalid"));
        assert_eq!(regex(r"^https?://.*(:[0-9]+)?$"), Some("https://a.invalid"));
    }

    #[test]
    fn honest_regexes_match_none() {
        for p in [
            r"^https://pr-[0-9]+\.example\.com$",
            r"^https://.*\.example\.com$",
            r"^https://(?:[a-z0-9-]+\.)*example\.com(?::[0-9]+)?$",
            r"^http://localhost:[0-9]+$",
        ] {
            assert_eq!(regex(p), None, "{p}");
        }
    }

    #[test]
    fn globs_over_every_host_match_a_probe() {
        assert_eq!(glob("https://**"), Some("https://a.invalid"));
        assert_eq!(glob("https://*"), None, "one label only: no probe has one");
        assert_eq!(glob("http://**:*"), Some("http://b.invalid:8443"));
        assert_eq!(glob("https://*.example.com"), None);
        assert_eq!(glob("http://localhost:*"), None);
    }
}
