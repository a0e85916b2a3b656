//! Property tests of the origin model and the decision.

use std::net::IpAddr;

use gavel_policy::{
    ConnScheme, Origin, Policy, Reason, RequestFacts, RequestOrigin, Surface, Verdict,
};
use http::HeaderMap;
use proptest::prelude::*;

fn decide_origin(policy: &Policy, origin: &[u8]) -> gavel_policy::Decision {
    let mut headers = HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_bytes(origin) {
        headers.insert(http::header::ORIGIN, v);
    }
    headers.insert(http::header::HOST, "api.example.io".parse().unwrap());
    policy.decide(&RequestFacts {
        headers: &headers,
        peer: "203.0.113.5".parse::<IpAddr>().unwrap(),
        scheme: ConnScheme::Https,
        surface: Surface::Http,
        path: "/",
    })
}

/// Origin-like strings: mostly well-formed, often slightly off.
fn origin_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof!["https", "http", "HTTPS", "wss", "capacitor", "ftp", "a+b"];
    let label = "[a-zA-Z0-9-]{1,8}";
    let host = prop::collection::vec(label, 1..5).prop_map(|l| l.join("."));
    let port = prop_oneof![
        Just(String::new()),
        (0u32..70000).prop_map(|p| format!(":{p}"))
    ];
    let tail = prop_oneof![
        6 => Just(String::new()),
        1 => Just("/".to_owned()),
        1 => Just(".".to_owned()),
        1 => Just("@evil.io".to_owned()),
        1 => "[ -~]{0,4}",
    ];
    (scheme, host, port, tail).prop_map(|(s, h, p, t)| format!("{s}://{h}{p}{t}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic the parser, and whatever parses is an origin serialization.
    #[test]
    fn parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        match RequestOrigin::from_bytes(&bytes) {
            RequestOrigin::Present(o) => {
                let s = o.as_str();
                let rest = &s[s.find("://").expect("a scheme separator") + 3..];
                prop_assert!(!rest.contains(['/', '?', '#', '@', ' ', ',', '*']), "{}", s);
                prop_assert_eq!(Origin::parse(s), Ok(o.clone()));
                prop_assert!(s.len() <= gavel_policy::MAX_ORIGIN_LEN + 16);
            }
            RequestOrigin::Null | RequestOrigin::Malformed { .. } => {}
            RequestOrigin::Missing => prop_assert!(false, "bytes are never a missing header"),
        }
    }

    #[test]
    fn origin_like_strings_never_panic(s in origin_like()) {
        let _ = Origin::parse(&s);
    }

    /// Normalizing a normalized origin changes nothing.
    #[test]
    fn normalization_is_idempotent(s in origin_like()) {
        if let Ok(o) = Origin::parse(&s) {
            let again = Origin::parse(o.as_str()).expect("a serialization parses");
            prop_assert_eq!(&again, &o);
            prop_assert_eq!(again.as_str(), o.as_str());
        }
    }

    /// An origin allowed only by an exact rule is denied after any one-character change
    /// (unless the change only alters case, which normalization undoes).
    #[test]
    fn exact_rule_denies_every_one_character_change(
        pos in 0usize..64,
        op in 0u8..3,
        c in prop::char::range(' ', '~'),
    ) {
        let allowed = "https://draft.example.com";
        let policy = Policy::from_source("p.toml", &format!(
            "version = 1\n[requests]\nmissing_origin = \"deny\"\n[[allow]]\nname = \"frontend\"\nexact = \"{allowed}\"\n"
        )).unwrap();
        prop_assert_eq!(decide_origin(&policy, allowed.as_bytes()).verdict(), Verdict::Allow);
        let mut chars: Vec<char> = allowed.chars().collect();
        let pos = pos % (chars.len() + 1);
        match op {
            0 if pos < chars.len() => { chars[pos] = c; }
            1 => chars.insert(pos, c),
            _ if pos < chars.len() => { chars.remove(pos); }
            _ => chars.insert(pos, c),
        }
        let changed: String = chars.into_iter().collect();
        let same_after_normalization = changed.trim().eq_ignore_ascii_case(allowed)
            || changed.trim().eq_ignore_ascii_case(&format!("{allowed}:443"));
        prop_assume!(!same_after_normalization && changed != allowed);
        let d = decide_origin(&policy, changed.as_bytes());
        prop_assert_eq!(d.verdict(), Verdict::Deny, "{:?} was allowed: {}", changed, d.summary());
    }

    /// The compiled sets decide exactly like trying every rule in turn.
    #[test]
    fn compiled_sets_decide_like_a_scan(origins in prop::collection::vec(origin_like(), 1..40)) {
        let policy = Policy::from_source("p.toml", MIXED).unwrap();
        let scan = policy.scanning();
        for o in &origins {
            let mut headers = HeaderMap::new();
            headers.insert(http::header::ORIGIN, http::HeaderValue::from_str(o).unwrap_or(http::HeaderValue::from_static("x")));
            headers.insert(http::header::HOST, "api.example.io".parse().unwrap());
            let facts = RequestFacts {
                headers: &headers,
                peer: "203.0.113.5".parse().unwrap(),
                scheme: ConnScheme::Https,
                surface: Surface::Http,
                path: "/",
            };
            let fast = policy.decide(&facts);
            let slow = scan.decide(&facts);
            // A repeat may come from the decision cache: it must be the same decision.
            let again = policy.decide(&facts);
            prop_assert_eq!(again.verdict(), fast.verdict(), "{}", o);
            prop_assert_eq!(again.reason(), fast.reason(), "{}", o);
            prop_assert_eq!(again.origin(), fast.origin(), "{}", o);
            prop_assert_eq!(again.raw_origin(), fast.raw_origin(), "{}", o);
            prop_assert_eq!(again.rule().map(|r| r.name()), fast.rule().map(|r| r.name()), "{}", o);
            prop_assert_eq!(fast.verdict(), slow.verdict(), "{}", o);
            prop_assert_eq!(fast.reason(), slow.reason(), "{}", o);
            prop_assert_eq!(fast.rule().map(|r| r.name()), slow.rule().map(|r| r.name()), "{}", o);
            prop_assert_eq!(fast.hints(), slow.hints(), "{}", o);
        }
    }
}

const MIXED: &str = r#"
version = 1
[[allow]]
name = "r0"
regex = '^https://b[a-z]*\.example\.com$'
[[allow]]
name = "g0"
glob = "https://c*.example.com"
[[allow]]
name = "e1"
exact = "https://a.example.com"
[[allow]]
name = "g1"
glob = "https://*.example.com"
[[allow]]
name = "e2"
exact = "https://b.example.com"
[[allow]]
name = "r1"
regex = '^https://[a-z]+\.example\.com$'
[[allow]]
name = "g2"
glob = "https://**.deep.example.org"
[[allow]]
name = "g3"
glob = "http://localhost:*"
[[allow]]
name = "same"
same_origin = true
[[allow]]
name = "r-late"
regex = '^https://[a-c][a-z]*\.example\.com$'
[[allow]]
name = "g-late"
glob = "https://*.*.deep.example.org"
[[allow]]
name = "r2"
regex = '^(http|https)://[a-z0-9-]+\.test(:[0-9]+)?$'
[[deny]]
name = "d1"
glob = "https://bad*.example.com"
[[deny]]
name = "d2"
exact = "https://x.deep.example.org"
"#;

#[test]
fn first_allow_rule_in_file_order_is_reported() {
    let policy = Policy::from_source("p.toml", MIXED).unwrap();
    // e1, g1 and r1 all match; e1 comes first.
    let d = decide_origin(&policy, b"https://a.example.com");
    assert_eq!(d.rule().unwrap().name(), "e1");
    // g1 and r1 match; g1 comes first although e2 (an exact rule) is between them.
    let d = decide_origin(&policy, b"https://d.example.com");
    assert_eq!(d.rule().unwrap().name(), "g1");
    // Within one automaton the earlier pattern wins: r0 before r-late, g0 before g1.
    let d = decide_origin(&policy, b"https://bz.example.com");
    assert_eq!(d.rule().unwrap().name(), "r0");
    let d = decide_origin(&policy, b"https://cz.example.com");
    assert_eq!(d.rule().unwrap().name(), "g0");
    let d = decide_origin(&policy, b"https://a.b.deep.example.org");
    assert_eq!(d.rule().unwrap().name(), "g2");
    // deny wins over allow
    let d = decide_origin(&policy, b"https://bad1.example.com");
    assert_eq!((d.verdict(), d.reason()), (Verdict::Deny, Reason::DenyRule));
    assert_eq!(d.rule().unwrap().name(), "d1");
}
