//! Decisions and their diagnostics, through the library API.

use gavel_policy::{ConnScheme, Decision, Policy, Reason, RequestFacts, Surface, Verdict};
use http::HeaderMap;

fn decide(policy: &Policy, peer: &str, headers: &[(&str, &str)]) -> Decision {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    policy.decide(&RequestFacts {
        headers: &map,
        peer: peer.parse().unwrap(),
        scheme: ConnScheme::Http,
        surface: Surface::PollingPost,
        path: "/api/socket.io/",
    })
}

const POLICY: &str = r#"
version = 1
[requests]
null_origin = "allow"
[[allow]]
name = "frontend"
exact = "https://draft.example.com"
[[allow]]
name = "previews"
glob = "https://*.preview.example.com"
[[allow]]
name = "same-origin"
same_origin = true
[trusted_proxies]
cidrs = ["10.0.0.0/8"]
headers = ["x-forwarded-proto", "x-forwarded-host"]
"#;

fn policy() -> Policy {
    Policy::from_source("p.toml", POLICY).unwrap()
}

fn hints(d: &Decision) -> String {
    d.hints()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn near_misses_name_the_difference() {
    let p = policy();
    let d = decide(
        &p,
        "203.0.113.1",
        &[("origin", "https://draft.example.com.")],
    );
    assert_eq!(d.verdict(), Verdict::Deny);
    assert!(
        hints(&d).contains("only by its trailing dot"),
        "{}",
        hints(&d)
    );
    let d = decide(
        &p,
        "203.0.113.1",
        &[("origin", "https://draft.example.com:8443")],
    );
    assert!(hints(&d).contains("only by its port"), "{}", hints(&d));
    let d = decide(&p, "203.0.113.1", &[("origin", "http://draft.example.com")]);
    assert!(hints(&d).contains("only by its scheme"), "{}", hints(&d));
    let d = decide(
        &p,
        "203.0.113.1",
        &[("origin", "https://a.pr-1.preview.example.com")],
    );
    assert!(hints(&d).contains("one label too deep"), "{}", hints(&d));
    let d = decide(
        &p,
        "203.0.113.1",
        &[("origin", "https://preview.example.com")],
    );
    assert!(hints(&d).contains("bare parent domain"), "{}", hints(&d));
    let d = decide(
        &p,
        "203.0.113.1",
        &[("origin", "https://unrelated.example.net")],
    );
    assert!(!hints(&d).contains("differs"), "{}", hints(&d));
}

/// The seed incident: the ingress terminates TLS and speaks plain HTTP to Gavel.
#[test]
fn the_seed_incident_is_allowed_and_explained() {
    let p = policy();
    let forwarded = [
        ("origin", "https://auction.example.com"),
        ("host", "auction.example.com"),
        ("x-forwarded-proto", "https"),
    ];
    let d = decide(&p, "10.4.0.9", &forwarded);
    assert_eq!(
        (d.verdict(), d.reason()),
        (Verdict::Allow, Reason::SameOrigin)
    );
    assert_eq!(
        d.public_origin().unwrap().as_str(),
        "https://auction.example.com"
    );
    assert_eq!(d.proxy().via, Some("10.4.0.9".parse().unwrap()));

    // The same request from a peer outside the cluster: denied, and the log line would show why.
    let d = decide(&p, "198.51.100.2", &forwarded);
    assert_eq!(
        (d.verdict(), d.reason()),
        (Verdict::Deny, Reason::NoRuleMatched)
    );
    assert_eq!(
        d.public_origin().unwrap().as_str(),
        "http://auction.example.com"
    );
    let h = hints(&d);
    assert!(h.contains("differs only by its scheme"), "{h}");
    assert!(
        h.contains("peer 198.51.100.2 must be in trusted_proxies.cidrs (it is not)"),
        "{h}"
    );
}

#[test]
fn null_missing_and_malformed() {
    let p = policy();
    let d = decide(&p, "203.0.113.1", &[("origin", "null")]);
    assert_eq!(
        (d.verdict(), d.reason()),
        (Verdict::Allow, Reason::NullOrigin)
    );
    let d = decide(&p, "203.0.113.1", &[]);
    assert_eq!(
        (d.verdict(), d.reason()),
        (Verdict::Allow, Reason::MissingOrigin)
    );
    let d = decide(
        &p,
        "203.0.113.1",
        &[
            ("origin", "https://draft.example.com"),
            ("origin", "https://evil.io"),
        ],
    );
    assert_eq!(
        (d.verdict(), d.reason()),
        (Verdict::Deny, Reason::MalformedOrigin)
    );
    assert_eq!(d.denial_status(), 400);
    assert!(
        hints(&d).contains("two different Origin headers"),
        "{}",
        hints(&d)
    );
    // Repeating the same origin twice is one origin.
    let d = decide(
        &p,
        "203.0.113.1",
        &[
            ("origin", "https://draft.example.com"),
            ("origin", "https://draft.example.com"),
        ],
    );
    assert_eq!(d.verdict(), Verdict::Allow);
    let d = decide(&p, "203.0.113.1", &[("origin", "https://evil.io")]);
    assert_eq!(d.denial_status(), 403);
}

#[test]
fn report_only_decides_but_does_not_enforce() {
    let p = Policy::from_source(
        "p.toml",
        "version = 1\nmode = \"report-only\"\n[[allow]]\nexact = \"https://a.com\"\n",
    )
    .unwrap();
    let d = decide(&p, "203.0.113.1", &[("origin", "https://b.com")]);
    assert_eq!(d.verdict(), Verdict::Deny);
    assert!(!d.is_enforced());
    let d = decide(&policy(), "203.0.113.1", &[("origin", "https://b.com")]);
    assert!(d.is_enforced());
}

#[test]
fn decisions_carry_the_policy_version_and_rule_location() {
    let mut p = policy();
    p.set_counter(7);
    let d = decide(
        &p,
        "203.0.113.1",
        &[("origin", "https://draft.example.com")],
    );
    assert_eq!(d.policy_version(), format!("7-{}", &p.sha256()[..12]));
    let rule = d.rule().unwrap();
    assert_eq!(
        (rule.name(), rule.file(), rule.line()),
        ("frontend", "p.toml", 5)
    );
    assert_eq!(rule.matcher(), "exact = \"https://draft.example.com\"");
    let json = decide(&p, "203.0.113.1", &[("origin", "https://x.io")]).to_json();
    for key in [
        "verdict",
        "reason",
        "rule",
        "origin",
        "public_origin",
        "hints",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
}
