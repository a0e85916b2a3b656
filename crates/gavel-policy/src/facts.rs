//! What a decision looks at: the facts of one request, in `http` types.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use http::HeaderMap;

/// Where a request arrived. The decision is the same on every surface; the surface is recorded
/// so that logs, metrics and tables can tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Surface {
    /// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`).
    Preflight,
    /// Any other HTTP request.
    Http,
    /// An Engine.IO long-polling `GET` (the handshake included).
    PollingGet,
    /// An Engine.IO long-polling `POST`.
    PollingPost,
    /// A websocket upgrade.
    Websocket,
}

impl Surface {
    /// Every surface, in the order above.
    pub const ALL: [Surface; 5] = [
        Self::Preflight,
        Self::Http,
        Self::PollingGet,
        Self::PollingPost,
        Self::Websocket,
    ];

    /// The kebab-case name tables, logs and metrics use, e.g. `polling-post`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preflight => "preflight",
            Self::Http => "http",
            Self::PollingGet => "polling-get",
            Self::PollingPost => "polling-post",
            Self::Websocket => "websocket",
        }
    }
}

impl fmt::Display for Surface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Surface {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown surface `{s}`; expected one of {}",
                    Self::ALL.map(|v| format!("`{v}`")).join(", ")
                )
            })
    }
}

/// The scheme of the connection the server itself accepted (before any proxy headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnScheme {
    /// Plain HTTP (a TLS-terminating proxy in front makes the public scheme `https` only if
    /// the proxy is trusted and says so).
    Http,
    /// HTTPS: the server terminates TLS itself.
    Https,
}

impl ConnScheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

impl FromStr for ConnScheme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "http" => Ok(Self::Http),
            "https" => Ok(Self::Https),
            _ => Err(format!("unknown scheme `{s}`; expected `http` or `https`")),
        }
    }
}

/// One request as the decision sees it: what [`Policy::decide`](crate::Policy::decide) takes.
///
/// Borrowed from the request, so building one costs nothing; of the headers only `Origin`,
/// `Host` and the [forwarding headers](crate::FORWARDING_HEADERS) are read.
#[derive(Clone, Copy, Debug)]
pub struct RequestFacts<'a> {
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The address of the connection's peer (the proxy, when there is one).
    pub peer: IpAddr,
    /// The scheme of the connection the server accepted, before any proxy headers.
    pub scheme: ConnScheme,
    /// Where the request arrived.
    pub surface: Surface,
    /// The request path, for logs only.
    pub path: &'a str,
}
