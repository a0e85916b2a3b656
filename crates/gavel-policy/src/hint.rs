//! Hints: what an admin needs to fix a policy from one log line, as typed values.
//!
//! Each hint displays as one sentence; logs, `gavel policy explain` and the admin API show
//! that sentence, so its wording is part of the interface.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use crate::origin::Origin;
use crate::rules::RuleRef;

/// A part in which a denied origin differs from an allowed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Difference {
    /// `http` where `https` is allowed, or the other way round (also `ws`/`wss`).
    Scheme,
    /// Another port, or a port where the scheme's default is allowed.
    Port,
    /// `app.example.com.` where `app.example.com` is allowed.
    TrailingDot,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Scheme => "scheme",
            Self::Port => "port",
            Self::TrailingDot => "trailing dot",
        })
    }
}

/// One finding that explains a denial (see [`Decision::hints`](crate::Decision::hints)).
///
/// It displays as one sentence and serializes as that sentence. Rules are named with their
/// matcher and line: "differs from allowed `exact = "https://a.com"` (rule `a`, line 4) only by
/// its port: `https://a.com` would be allowed".
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// The origin differs from one an allow rule allows in one part only.
    NearMiss {
        /// The part that differs.
        difference: Difference,
        /// The allow rule that would allow `allowed`.
        rule: Arc<RuleRef>,
        /// The origin with that part changed: it would be allowed.
        allowed: Origin,
    },
    /// The origin has one label more than a glob's `*` matches (`*` is exactly one DNS label).
    LabelTooDeep {
        /// The glob rule.
        rule: Arc<RuleRef>,
    },
    /// The origin is the parent domain of a glob's hosts, which a glob never matches.
    BareParent {
        /// The glob rule.
        rule: Arc<RuleRef>,
        /// The denied origin, which an exact rule would have to name.
        origin: Origin,
    },
    /// An exact allow rule names the same host with another scheme, port or trailing dot.
    SameHost {
        /// The exact rule.
        rule: Arc<RuleRef>,
        /// What differs, in the order scheme, port, trailing dot.
        differences: Vec<Difference>,
    },
    /// A `same_origin` rule exists, but the origin is not the request's public origin.
    NotPublicOrigin {
        /// The `same_origin` rule.
        rule: Arc<RuleRef>,
        /// The request's public origin.
        public_origin: Origin,
        /// Where the public origin came from (`connection`, `forwarded` or `x-forwarded`).
        computed_from: &'static str,
        /// The two differ only by their scheme: the mark of a proxy that terminates TLS and is
        /// not trusted (the seed incident).
        only_scheme_differs: bool,
        /// The connection's peer.
        peer: IpAddr,
        /// Whether the peer is a trusted proxy.
        peer_trusted: bool,
    },
    /// A `same_origin` rule exists, but the request has no usable `Host` to compute the public
    /// origin from.
    NoUsableHost {
        /// The `same_origin` rule.
        rule: Arc<RuleRef>,
    },
    /// A forwarding value that was present but not used, and why (see
    /// [`ProxyReport::ignored`](crate::ProxyReport::ignored)).
    ForwardingIgnored(String),
    /// A malformed origin that would be allowed without its path.
    PathWouldBeAllowed {
        /// The origin without the path.
        allowed: Origin,
        /// The path that was sent.
        path: String,
        /// The rule that would allow it.
        rule: Arc<RuleRef>,
    },
    /// A malformed origin with a path, which browsers never send.
    HasPath,
    /// `user@host`: the host is what follows the `@`.
    UserInfo,
    /// A list of origins in one header (a proxy may have merged two).
    List,
    /// Two different `Origin` headers.
    ConflictingHeaders,
    /// `*` sent as a host: a glob, not an origin.
    WildcardHost,
    /// `Origin: null` denied by `requests.null_origin`.
    NullOriginDenied,
    /// A request without `Origin` denied by `requests.missing_origin`.
    MissingOriginDenied,
}

/// How a hint names a rule: "`exact = "https://a.com"` (rule `a`, line 4)".
struct Described<'a>(&'a RuleRef);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        write!(
            f,
            "`{}` (rule `{}`, line {})",
            r.matcher(),
            r.name(),
            r.line()
        )
    }
}

impl Hint {
    /// The sentence of a hint that names nothing of the request or the policy.
    fn fixed_text(&self) -> Option<&'static str> {
        Some(match self {
            Self::HasPath => "an origin has no path; browsers never send one",
            Self::UserInfo => {
                "`user@host` in an origin is a bypass attempt: the host is what follows the `@`"
            }
            Self::List => "one Origin header holds one origin; a proxy may have merged two headers",
            Self::ConflictingHeaders => {
                "two different Origin headers: a proxy or a client library added one \
                 (python-socketio's websocket client adds its own unless \
                 `websocket_extra_options={\"origin\": …}` is set)"
            }
            Self::WildcardHost => "`*` is a glob, not an origin: browsers never send it",
            Self::NullOriginDenied => {
                "`Origin: null` comes from sandboxed iframes, file: pages and some cross-origin \
                 redirects; it is denied by requests.null_origin = \"deny\""
            }
            Self::MissingOriginDenied => {
                "requests.missing_origin = \"deny\" refuses clients that send no Origin (native \
                 apps, curl, same-origin GETs)"
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NearMiss {
                difference,
                rule,
                allowed,
            } => write!(
                f,
                "differs from allowed {} only by its {difference}: `{allowed}` would be allowed",
                Described(rule)
            ),
            Self::LabelTooDeep { rule } => write!(
                f,
                "is one label too deep for {}: `*` matches exactly one DNS label; write `**` \
                 for one or more",
                Described(rule)
            ),
            Self::BareParent { rule, origin } => write!(
                f,
                "is the bare parent domain of {}, which a glob never matches; add an exact rule \
                 for `{origin}`",
                Described(rule)
            ),
            Self::SameHost { rule, differences } => {
                let only = if differences.len() == 1 { "only " } else { "" };
                let parts: Vec<String> = differences.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "differs from allowed {} {only}by its {}",
                    Described(rule),
                    parts.join(" and its ")
                )
            }
            Self::NotPublicOrigin {
                rule,
                public_origin,
                computed_from,
                only_scheme_differs,
                peer,
                peer_trusted,
            } => {
                write!(
                    f,
                    "rule `{}` (same_origin) allows only this request's public origin \
                     `{public_origin}`, computed from {computed_from}",
                    rule.name()
                )?;
                if *only_scheme_differs {
                    tls_proxy_note(f, *peer, *peer_trusted)?;
                }
                Ok(())
            }
            Self::NoUsableHost { rule } => write!(
                f,
                "rule `{}` (same_origin) cannot apply: the request has no usable Host",
                rule.name()
            ),
            Self::ForwardingIgnored(note) => f.write_str(note),
            Self::PathWouldBeAllowed {
                allowed,
                path,
                rule,
            } => write!(
                f,
                "an origin has no path: `{allowed}` (without `{path}`) would be allowed by {}",
                Described(rule)
            ),
            Self::HasPath
            | Self::UserInfo
            | Self::List
            | Self::ConflictingHeaders
            | Self::WildcardHost
            | Self::NullOriginDenied
            | Self::MissingOriginDenied => f.write_str(self.fixed_text().unwrap_or_default()),
        }
    }
}

/// Why a same-origin request through a TLS-terminating proxy is judged by `http://…`.
fn tls_proxy_note(f: &mut fmt::Formatter<'_>, peer: IpAddr, trusted: bool) -> fmt::Result {
    write!(
        f,
        "; it differs only by its scheme: if a proxy terminates TLS, peer {peer} must be in \
         trusted_proxies.cidrs ({}) and send X-Forwarded-Proto or Forwarded proto",
        if trusted { "it is" } else { "it is not" }
    )
}

impl serde::Serialize for Hint {
    /// The sentence [`Display`](fmt::Display) writes.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wording as it was when hints were strings: logs and tests read these sentences.
    #[test]
    fn sentences_keep_their_wording() {
        let original =
            "`user@host` in an origin is a bypass attempt: the host is what follows the `@`";
        assert_eq!(Hint::UserInfo.to_string(), original);
        assert_eq!(
            Hint::ConflictingHeaders.to_string(),
            "two different Origin headers: a proxy or a client library added one (python-socketio's websocket client adds its own unless `websocket_extra_options={\"origin\": …}` is set)"
        );
        assert_eq!(
            Hint::NullOriginDenied.to_string(),
            "`Origin: null` comes from sandboxed iframes, file: pages and some cross-origin redirects; it is denied by requests.null_origin = \"deny\""
        );
        assert_eq!(
            Hint::MissingOriginDenied.to_string(),
            "requests.missing_origin = \"deny\" refuses clients that send no Origin (native apps, curl, same-origin GETs)"
        );
        assert_eq!(
            serde_json::to_value(Hint::HasPath).unwrap(),
            "an origin has no path; browsers never send one"
        );
    }
}
