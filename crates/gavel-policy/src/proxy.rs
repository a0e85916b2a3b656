//! Trusted proxies and the request's public origin.
//!
//! Forwarding headers are believed only from a peer inside `trusted_proxies.cidrs`, and only the
//! header families the policy names. The chain is walked from the right (the hop nearest to us)
//! while hops are trusted; the leftmost value is never taken on faith. `proto` and `host` come
//! from what the outermost trusted proxy set. RFC 7239 `Forwarded` wins over `X-Forwarded-*`
//! when both are configured and present.
//!
//! See [RFC 7239](https://www.rfc-editor.org/rfc/rfc7239) and
//! [MDN: X-Forwarded-For](https://developer.mozilla.org/docs/Web/HTTP/Headers/X-Forwarded-For).

use std::net::IpAddr;

use http::HeaderMap;
use http::header::HOST;
use ipnet::IpNet;

use crate::facts::RequestFacts;
use crate::origin::{Origin, normalize_host, parse_port, split_host_port};

/// The forwarding header names a policy may list under `trusted_proxies.headers`.
pub const FORWARDING_HEADERS: [&str; 5] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
];

/// Which peers are proxies, and which of their headers are read: a policy's
/// `[trusted_proxies]` (see [`Policy::trusted_proxies`](crate::Policy::trusted_proxies)).
///
/// ```
/// use gavel_policy::{ConnScheme, Policy, RequestFacts, Surface};
/// use http::HeaderMap;
///
/// let policy = Policy::from_source("p.toml", r#"
/// version = 1
/// [[allow]]
/// same_origin = true
/// [trusted_proxies]
/// cidrs = ["10.0.0.0/8"]
/// headers = ["x-forwarded-proto", "x-forwarded-host"]
/// "#)?;
/// let mut headers = HeaderMap::new();
/// headers.insert("host", "gavel:8080".parse()?);
/// headers.insert("x-forwarded-proto", "https".parse()?);
/// headers.insert("x-forwarded-host", "draft.example.io".parse()?);
/// let from = |peer: &str| RequestFacts {
///     headers: &headers,
///     peer: peer.parse().unwrap(),
///     scheme: ConnScheme::Http,
///     surface: Surface::PollingGet,
///     path: "/api/socket.io/",
/// };
/// let proxies = policy.trusted_proxies();
/// // From the ingress: its headers are believed.
/// let (public, report) = proxies.public_origin(&from("10.4.0.9"));
/// assert_eq!(public.unwrap().as_str(), "https://draft.example.io");
/// assert_eq!(report.source, "x-forwarded");
/// // From anyone else: they are not.
/// let (public, report) = proxies.public_origin(&from("198.51.100.2"));
/// assert_eq!(public.unwrap().as_str(), "http://gavel:8080");
/// assert!(report.ignored[0].ends_with("ignored: peer 198.51.100.2 is not in trusted_proxies.cidrs"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    cidrs: Vec<IpNet>,
    /// Indexed like [`FORWARDING_HEADERS`].
    read: [bool; 5],
}

/// How the public origin was found, for the decision's diagnostics.
///
/// Serializes as `{"peer_trusted", "source", "via", "client", "ignored"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ProxyReport {
    /// The connection's peer is inside `trusted_proxies.cidrs`.
    pub peer_trusted: bool,
    /// Which header family supplied the public origin: `connection`, `forwarded` or
    /// `x-forwarded`.
    pub source: &'static str,
    /// The outermost trusted proxy (the peer itself when it is the only one).
    pub via: Option<IpAddr>,
    /// The client address as the outermost trusted proxy saw it (`unknown`, `_hidden` kept).
    pub client: Option<String>,
    /// Forwarding values that were present but not used, and why.
    pub ignored: Vec<String>,
}

impl TrustedProxies {
    /// `headers` must be names from [`FORWARDING_HEADERS`] (lower case).
    pub(crate) fn new(cidrs: Vec<IpNet>, headers: &[&str]) -> Self {
        let mut read = [false; 5];
        for (i, name) in FORWARDING_HEADERS.iter().enumerate() {
            read[i] = headers.contains(name);
        }
        Self { cidrs, read }
    }

    /// The networks whose peers are proxies (`trusted_proxies.cidrs`).
    pub fn cidrs(&self) -> &[IpNet] {
        &self.cidrs
    }

    /// Whether `ip` is inside one of the networks (an IPv4-mapped IPv6 address as IPv4).
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.cidrs.iter().any(|net| net.contains(&ip))
    }

    fn reads(&self, name: &str) -> bool {
        FORWARDING_HEADERS
            .iter()
            .position(|n| *n == name)
            .is_some_and(|i| self.read[i])
    }

    /// The origin the client used to reach the server, as far as trusted hops tell, and how it
    /// was found. `None` when the request has no usable `Host`.
    pub fn public_origin(&self, facts: &RequestFacts<'_>) -> (Option<Origin>, ProxyReport) {
        let headers = facts.headers;
        let mut report = ProxyReport {
            source: "connection",
            ..ProxyReport::default()
        };
        let mut forwarded = Forwarded::default();
        report.peer_trusted = self.is_trusted(facts.peer);
        if report.peer_trusted {
            forwarded = self.read_forwarded(headers, facts.peer, &mut report);
        } else {
            let present: Vec<&str> = FORWARDING_HEADERS
                .into_iter()
                .filter(|name| headers.contains_key(*name))
                .collect();
            if !present.is_empty() {
                report.ignored.push(format!(
                    "{} ignored: peer {} is not in trusted_proxies.cidrs",
                    present.join(", "),
                    facts.peer
                ));
            }
        }

        let scheme = forwarded
            .proto
            .unwrap_or_else(|| facts.scheme.as_str().to_owned());
        let (host, mut port) = match forwarded.host {
            Some(hp) => hp,
            None => match header_text(headers, HOST.as_str()) {
                Some(value) => match parse_host(&value) {
                    Some(hp) => hp,
                    None => {
                        report
                            .ignored
                            .push(format!("host `{value}` is not a valid host"));
                        return (None, report);
                    }
                },
                None => return (None, report),
            },
        };
        if let Some(p) = forwarded.port {
            port = Some(p);
        }
        (Some(Origin::from_parts(&scheme, &host, port)), report)
    }

    fn read_forwarded(
        &self,
        headers: &HeaderMap,
        peer: IpAddr,
        report: &mut ProxyReport,
    ) -> Forwarded {
        if self.reads("forwarded")
            && let Some(value) = header_text(headers, "forwarded")
        {
            match parse_forwarded(&value) {
                Ok(elements) if !elements.is_empty() => {
                    report.source = "forwarded";
                    return self.walk_forwarded(&elements, peer, report);
                }
                Ok(_) => {}
                Err(e) => report
                    .ignored
                    .push(format!("forwarded `{value}` ignored: {e}")),
            }
        }
        self.walk_x_forwarded(headers, peer, report)
    }

    /// RFC 7239: each proxy appends one element; the last one is our peer's.
    fn walk_forwarded(
        &self,
        elements: &[Element],
        peer: IpAddr,
        report: &mut ProxyReport,
    ) -> Forwarded {
        let mut outermost = elements.len() - 1;
        let mut via = peer;
        while outermost > 0 {
            match elements[outermost].for_ip() {
                Some(ip) if self.is_trusted(ip) => {
                    via = ip;
                    outermost -= 1;
                }
                _ => break,
            }
        }
        report.via = Some(via);
        report.client = elements[outermost].for_.clone();
        let mut out = Forwarded::default();
        // The outermost trusted proxy's values first; inner proxies fill in what it left out.
        for element in &elements[outermost..] {
            if out.proto.is_none()
                && let Some(proto) = &element.proto
            {
                out.proto = check_proto(proto, "forwarded proto", report);
            }
            if out.host.is_none()
                && let Some(host) = &element.host
            {
                out.host = check_host(host, "forwarded host", report);
            }
        }
        out
    }

    fn walk_x_forwarded(
        &self,
        headers: &HeaderMap,
        peer: IpAddr,
        report: &mut ProxyReport,
    ) -> Forwarded {
        let list = |name: &str| -> Vec<String> {
            if !self.reads(name) {
                return Vec::new();
            }
            header_text(headers, name)
                .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
                .unwrap_or_default()
        };
        let xff = list("x-forwarded-for");
        // Our peer is one trusted hop; each trusted address from the right of X-Forwarded-For
        // is one more.
        let mut hops = 1;
        let mut via = peer;
        let mut client = None;
        for entry in xff.iter().rev() {
            match entry.parse::<IpAddr>() {
                Ok(ip) if self.is_trusted(ip) => {
                    hops += 1;
                    via = ip;
                }
                _ => {
                    client = Some(entry.clone());
                    break;
                }
            }
        }
        // The value the outermost trusted proxy appended, or the leftmost one if fewer
        // proxies appended than were trusted.
        let pick = |values: Vec<String>| -> Option<String> {
            if values.is_empty() {
                return None;
            }
            let index = values.len().saturating_sub(hops);
            Some(values[index].clone())
        };
        let proto = pick(list("x-forwarded-proto"));
        let host = pick(list("x-forwarded-host"));
        let port = pick(list("x-forwarded-port"));
        if proto.is_some() || host.is_some() || port.is_some() || !xff.is_empty() {
            report.source = "x-forwarded";
            report.via = Some(via);
            report.client = client;
        }
        Forwarded {
            proto: proto.and_then(|p| check_proto(&p, "x-forwarded-proto", report)),
            host: host.and_then(|h| check_host(&h, "x-forwarded-host", report)),
            port: port.and_then(|p| match parse_port(&p) {
                Ok(port) => Some(port),
                Err(_) => {
                    report
                        .ignored
                        .push(format!("x-forwarded-port `{p}` is not a port: ignored"));
                    None
                }
            }),
        }
    }
}

/// IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`, common on dual-stack sockets) are judged as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[derive(Default)]
struct Forwarded {
    proto: Option<String>,
    host: Option<(String, Option<u16>)>,
    port: Option<u16>,
}

fn check_proto(value: &str, what: &str, report: &mut ProxyReport) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    if lower == "http" || lower == "https" {
        Some(lower)
    } else {
        report
            .ignored
            .push(format!("{what} `{value}` is not http or https: ignored"));
        None
    }
}

fn check_host(value: &str, what: &str, report: &mut ProxyReport) -> Option<(String, Option<u16>)> {
    let parsed = parse_host(value);
    if parsed.is_none() {
        report
            .ignored
            .push(format!("{what} `{value}` is not a valid host: ignored"));
    }
    parsed
}

/// Parses `host[:port]` the way `Origin` normalizes hosts.
fn parse_host(value: &str) -> Option<(String, Option<u16>)> {
    let value = value.trim();
    if value.is_empty() || value.contains(['/', '\\', '@', '?', '#', '*', ' ', ',']) {
        return None;
    }
    let (host, port) = split_host_port(value).ok()?;
    if host.is_empty() {
        return None;
    }
    let host = normalize_host(host)?;
    let port = match port {
        Some(p) => Some(parse_port(p).ok()?),
        None => None,
    };
    Some((host, port))
}

/// Every value of a header, joined as one comma-separated list; `None` when absent or not text.
fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<std::borrow::Cow<'h, str>> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?.to_str().ok()?;
    let mut rest = values.peekable();
    if rest.peek().is_none() {
        return Some(std::borrow::Cow::Borrowed(first));
    }
    let mut joined = first.to_owned();
    for v in rest {
        joined.push(',');
        joined.push_str(v.to_str().ok()?);
    }
    Some(std::borrow::Cow::Owned(joined))
}

/// One element of a `Forwarded` header.
#[derive(Debug, Default, PartialEq, Eq)]
struct Element {
    for_: Option<String>,
    proto: Option<String>,
    host: Option<String>,
}

impl Element {
    /// The `for` address when it is an IP (not `unknown` or an obfuscated `_name`).
    fn for_ip(&self) -> Option<IpAddr> {
        let value = self.for_.as_deref()?;
        if let Some(rest) = value.strip_prefix('[') {
            let end = rest.find(']')?;
            return rest[..end].parse().ok();
        }
        let addr = value.split(':').next()?;
        addr.parse().ok()
    }
}

/// Parses `Forwarded` (RFC 7239 §4): elements separated by `,`, pairs by `;`, values tokens or
/// quoted strings.
fn parse_forwarded(value: &str) -> Result<Vec<Element>, String> {
    let mut elements = Vec::new();
    let mut element = Element::default();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let Some(_) = chars.peek() else { break };
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' || c == ',' {
                break;
            }
            name.push(c);
            chars.next();
        }
        let name = name.trim().to_ascii_lowercase();
        if chars.next() != Some('=') || name.is_empty() {
            return Err(format!("expected `name=value` near `{name}`"));
        }
        let mut val = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => val.push(chars.next().ok_or("unterminated quoted string")?),
                    Some(c) => val.push(c),
                    None => return Err("unterminated quoted string".into()),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ';' || c == ',' {
                    break;
                }
                val.push(c);
                chars.next();
            }
            val = val.trim().to_owned();
        }
        match name.as_str() {
            "for" => element.for_ = Some(val),
            "proto" => element.proto = Some(val),
            "host" => element.host = Some(val),
            _ => {} // `by` and extensions are not needed
        }
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        match chars.next() {
            Some(';') => {}
            Some(',') => elements.push(std::mem::take(&mut element)),
            None => break,
            Some(c) => return Err(format!("unexpected `{c}`")),
        }
    }
    if element != Element::default() {
        elements.push(element);
    }
    Ok(elements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{ConnScheme, Surface};

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(
            vec!["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()],
            &FORWARDING_HEADERS,
        )
    }

    fn public(peer: &str, headers: &[(&str, &str)]) -> (Option<String>, ProxyReport) {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let facts = RequestFacts {
            headers: &map,
            peer: peer.parse().unwrap(),
            scheme: ConnScheme::Http,
            surface: Surface::Http,
            path: "/",
        };
        let (o, r) = proxies().public_origin(&facts);
        (o.map(|o| o.to_string()), r)
    }

    #[test]
    fn forwarded_grammar() {
        let e = parse_forwarded(
            r#"for="[2001:db8::1]:4711";proto=https;host="a.io", For=unknown, for=_hidden;by=x"#,
        )
        .unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].for_ip(), Some("2001:db8::1".parse().unwrap()));
        assert_eq!(e[0].host.as_deref(), Some("a.io"));
        assert_eq!(e[1].for_.as_deref(), Some("unknown"));
        assert_eq!(e[1].for_ip(), None);
        assert_eq!(e[2].for_ip(), None);
        assert!(parse_forwarded("for").is_err());
        assert!(parse_forwarded(r#"for="unterminated"#).is_err());
        assert_eq!(
            parse_forwarded("for=1.2.3.4:80").unwrap()[0].for_ip(),
            Some("1.2.3.4".parse().unwrap())
        );
    }

    #[test]
    fn untrusted_peer_headers_are_ignored() {
        let (o, r) = public(
            "203.0.113.9",
            &[
                ("host", "gavel:8080"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "draft.example.io"),
            ],
        );
        assert_eq!(o.as_deref(), Some("http://gavel:8080"));
        assert!(!r.peer_trusted);
        assert!(
            r.ignored[0].contains("not in trusted_proxies.cidrs"),
            "{r:?}"
        );
    }

    #[test]
    fn x_forwarded_from_trusted_peer() {
        let (o, r) = public(
            "10.1.2.3",
            &[
                ("host", "gavel:8080"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "draft.example.io"),
                ("x-forwarded-for", "198.51.100.7, 10.9.9.9"),
            ],
        );
        assert_eq!(o.as_deref(), Some("https://draft.example.io"));
        assert_eq!(r.source, "x-forwarded");
        assert_eq!(r.via, Some("10.9.9.9".parse().unwrap()));
        assert_eq!(r.client.as_deref(), Some("198.51.100.7"));
    }

    #[test]
    fn x_forwarded_port_and_lists() {
        let (o, _) = public(
            "10.1.2.3",
            &[
                ("host", "gavel:8080"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "draft.example.io"),
                ("x-forwarded-port", "8443"),
            ],
        );
        assert_eq!(o.as_deref(), Some("https://draft.example.io:8443"));
        // A client-supplied value on the left of a list is never taken.
        let (o, _) = public(
            "10.1.2.3",
            &[
                ("host", "gavel"),
                ("x-forwarded-proto", "http, https"),
                ("x-forwarded-for", "198.51.100.1"),
            ],
        );
        assert_eq!(o.as_deref(), Some("https://gavel"));
    }

    #[test]
    fn malformed_values_are_reported_not_used() {
        let (o, r) = public(
            "10.1.2.3",
            &[
                ("host", "gavel"),
                ("x-forwarded-proto", "ftp"),
                ("x-forwarded-host", "evil.io/path"),
            ],
        );
        assert_eq!(o.as_deref(), Some("http://gavel"));
        assert_eq!(r.ignored.len(), 2, "{r:?}");
    }

    #[test]
    fn forwarded_walks_from_the_right() {
        // The client forged an element; the edge proxy 10.0.0.1 appended the truth; our peer
        // 10.0.0.2 appended its own.
        let (o, r) = public(
            "10.0.0.2",
            &[
                ("host", "gavel"),
                (
                    "forwarded",
                    "for=10.0.0.5;proto=http;host=evil.io, for=198.51.100.1;proto=https;host=shop.example.io",
                ),
                ("forwarded", "for=10.0.0.1;proto=http;host=gavel-internal"),
            ],
        );
        assert_eq!(o.as_deref(), Some("https://shop.example.io"));
        assert_eq!(r.source, "forwarded");
        assert_eq!(r.via, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(r.client.as_deref(), Some("198.51.100.1"));
    }

    #[test]
    fn forwarded_wins_over_x_forwarded() {
        let (o, _) = public(
            "10.0.0.2",
            &[
                ("host", "gavel"),
                (
                    "forwarded",
                    "for=198.51.100.1;proto=https;host=a.example.io",
                ),
                ("x-forwarded-host", "b.example.io"),
            ],
        );
        assert_eq!(o.as_deref(), Some("https://a.example.io"));
    }

    #[test]
    fn ipv4_mapped_peer_is_judged_as_ipv4() {
        assert!(proxies().is_trusted("::ffff:10.1.1.1".parse().unwrap()));
        assert!(proxies().is_trusted("fd00::1".parse().unwrap()));
        assert!(!proxies().is_trusted("::1".parse().unwrap()));
    }

    #[test]
    fn missing_host_gives_no_public_origin() {
        assert_eq!(public("203.0.113.1", &[]).0, None);
        assert_eq!(public("203.0.113.1", &[("host", "a b")]).0, None);
    }
}
