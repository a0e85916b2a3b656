//! Loading refuses what is wrong with a precise, located message, and warns about what is risky.

use gavel_policy::{Policy, Severity};

/// The rendered errors of a policy that must not load.
fn errors(source: &str) -> String {
    match Policy::from_source("p.toml", source) {
        Ok(_) => panic!("expected the policy to be refused:\n{source}"),
        Err(e) => e.to_string(),
    }
}

/// The rendered warnings and notes of a policy that must load.
fn warnings(source: &str) -> String {
    let policy = Policy::from_source("p.toml", source).unwrap_or_else(|e| panic!("{e}"));
    policy
        .diagnostics()
        .iter()
        .filter(|d| d.severity != Severity::Error)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn rule(body: &str) -> String {
    format!("version = 1\n[cors]\ncredentials = true\n[[allow]]\n{body}\n")
}

#[test]
fn unknown_keys_and_wrong_types_are_located() {
    let e = errors("version = 1\n[cors]\ncredential = true\n");
    assert!(
        e.starts_with("p.toml:3:1: error: unknown field `credential`"),
        "{e}"
    );
    let e = errors("version = 1\n[cors]\nmax_age_secs = \"ten\"\n");
    assert!(
        e.starts_with("p.toml:3:16: error: invalid type: string \"ten\""),
        "{e}"
    );
    let e = errors("version = 2\n");
    assert!(
        e.contains("p.toml:1:11: error: unsupported policy version 2"),
        "{e}"
    );
    let e = errors("version = 1\nmode = \"report_only\"\n");
    assert!(
        e.contains("unknown mode `report_only`; did you mean `report-only`?"),
        "{e}"
    );
    let e = errors("version = 1\n[requests]\nnull_origin = \"maybe\"\n");
    assert!(
        e.contains("p.toml:3:15: error: `maybe` is not a verdict"),
        "{e}"
    );
    let e = errors("version = 1\n[[allow]\n");
    assert!(e.starts_with("p.toml:2:"), "{e}");
}

#[test]
fn origins_in_exact_rules_say_what_was_meant() {
    let e = errors(&rule("exact = \"https://a.com/\""));
    assert!(
        e.contains("p.toml:5:9: error: an origin has no path; did you mean `https://a.com`?"),
        "{e}"
    );
    let e = errors(&rule("exact = \" https://a.com\""));
    assert!(
        e.contains("no surrounding whitespace; did you mean `https://a.com`?"),
        "{e}"
    );
    let e = errors(&rule("exact = \"*.example.com\""));
    assert!(e.contains("no scheme"), "{e}");
    assert!(e.contains("did you mean `https://*.example.com`?"), "{e}");
    let e = errors(&rule("exact = \"https://*.example.com\""));
    assert!(
        e.contains("did you mean glob = \"https://*.example.com\"?"),
        "{e}"
    );
    let e = errors(&rule("exact = \"https://a.com@evil.io\""));
    assert!(e.contains("user information"), "{e}");
    let e = errors(&rule("exact = \"null\""));
    assert!(e.contains("requests.null_origin"), "{e}");
}

#[test]
fn every_rule_has_exactly_one_matcher() {
    let e = errors(&rule("name = \"x\""));
    assert!(
        e.contains("p.toml:4:1: error: rule `x` has no matcher"),
        "{e}"
    );
    let e = errors(&rule(
        "exact = \"https://a.com\"\nglob = \"https://*.a.com\"",
    ));
    assert!(
        e.contains("p.toml:6:8: error: rule `allow[0]` has both `exact` and `glob`"),
        "{e}"
    );
    let e = errors(
        "version = 1\n[[allow]]\nname = \"a\"\nexact = \"https://a.com\"\n[[deny]]\nname = \"a\"\nexact = \"https://b.com\"\n",
    );
    assert!(e.contains("rule name `a` is already used on line 2"), "{e}");
}

#[test]
fn wildcard_with_credentials_needs_explicit_consent() {
    let e = errors(&rule("wildcard = true"));
    assert!(
        e.contains("p.toml:5:12: error: wildcard = true with cors.credentials = true"),
        "{e}"
    );
    assert!(e.contains("allow_credentials_with_wildcard = true"), "{e}");
    let w = warnings(&rule(
        "wildcard = true\nallow_credentials_with_wildcard = true",
    ));
    assert!(
        w.contains("warning: wildcard = true allows every origin"),
        "{w}"
    );
    // Without credentials a wildcard loads, always with a warning.
    let w = warnings("version = 1\n[[allow]]\nwildcard = true\n");
    assert!(
        w.contains("p.toml:3:12: warning: wildcard = true allows every origin"),
        "{w}"
    );
}

#[test]
fn globs_over_public_suffixes_are_refused() {
    for (glob, suffix) in [
        ("https://*.com", "`com`"),
        ("https://*.co.uk", "`co.uk`"),
        ("https://**.github.io", "`github.io`"),
    ] {
        let e = errors(&format!("version = 1\n[[allow]]\nglob = \"{glob}\"\n"));
        assert!(
            e.contains(&format!("covers the public suffix {suffix}")),
            "{e}"
        );
        assert!(e.contains("p.toml:3:8:"), "{e}");
    }
    let e = errors("version = 1\n[[allow]]\nglob = \"https://*\"\n");
    assert!(e.contains("covers every host"), "{e}");
    let w = warnings(
        "version = 1\n[[allow]]\nglob = \"https://*.co.uk\"\nallow_public_suffix = true\n",
    );
    assert!(w.contains("allowed explicitly"), "{w}");
}

#[test]
fn insecure_globs_with_credentials_are_refused_except_loopback() {
    let e = errors(&rule("glob = \"http://*.example.com\""));
    assert!(
        e.contains("non-https glob `http://*.example.com` while cors.credentials = true"),
        "{e}"
    );
    for ok in ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"] {
        Policy::from_source("p.toml", &rule(&format!("glob = \"{ok}\""))).unwrap();
    }
    Policy::from_source(
        "p.toml",
        &rule("glob = \"http://*.example.com\"\nallow_insecure_scheme = true"),
    )
    .unwrap();
}

#[test]
fn glob_syntax_errors_say_what_was_meant() {
    let e = errors("version = 1\n[[allow]]\nglob = \"*.example.com\"\n");
    assert!(
        e.contains("a glob needs a scheme; did you mean `https://*.example.com`?"),
        "{e}"
    );
    let e = errors("version = 1\n[[allow]]\nglob = \"https://*.example.com/\"\n");
    assert!(e.contains("did you mean `https://*.example.com`?"), "{e}");
    let e = errors("version = 1\n[[allow]]\nglob = \"https://x**.example.com\"\n");
    assert!(e.contains("`**` must be a whole label"), "{e}");
}

#[test]
fn regexes_are_checked_and_warned_about() {
    let e = errors("version = 1\n[[allow]]\nregex = '^https://(a\\.com$'\n");
    assert!(
        e.contains("p.toml:3:9: error: invalid regex: unclosed group"),
        "{e}"
    );
    let w = warnings("version = 1\n[[allow]]\nregex = '^https://pr-[0-9]+.example\\.com$'\n");
    assert!(w.contains("unescaped `.` in the host part"), "{w}");
    let w = warnings("version = 1\n[[allow]]\nregex = 'https://pr-[0-9]+\\.example\\.com'\n");
    assert!(
        w.contains("matched against the whole origin, as if anchored"),
        "{w}"
    );
    let w = warnings("version = 1\n[[allow]]\nregex = '^https://App\\.example\\.com$'\n");
    assert!(w.contains("upper-case letters"), "{w}");
    let clean = warnings("version = 1\n[[allow]]\nregex = '^https://pr-[0-9]+\\.example\\.com$'\n");
    assert!(clean.is_empty(), "{clean}");
}

#[test]
fn unicode_origins_are_stored_as_punycode_and_said_so() {
    let source = "version = 1\n[[allow]]\nexact = \"https://bücher.example\"\n";
    let w = warnings(source);
    assert!(w.contains("p.toml:3:9: note: `https://bücher.example` is stored as `https://xn--bcher-kva.example`"), "{w}");
}

#[test]
fn cors_values_are_validated() {
    let e = errors("version = 1\n[cors]\nallow_headers = [\"bad header\"]\n");
    assert!(
        e.contains("p.toml:3:18: error: `bad header` is not a header name"),
        "{e}"
    );
    let e = errors("version = 1\n[cors]\nallow_methods = [\"*\"]\n");
    assert!(e.contains("`*` is not a method"), "{e}");
    let e = errors("version = 1\n[cors]\nmax_age_secs = -1\n");
    assert!(e.contains("cannot be negative"), "{e}");
    let p = Policy::from_source(
        "p.toml",
        "version = 1\n[cors]\nmax_age_secs = 999999\nallow_methods = [\"get\"]\n",
    )
    .unwrap();
    assert_eq!(p.cors().max_age_secs(), Some(86_400));
    assert_eq!(p.cors().allow_methods(), vec![http::Method::GET]);
}

#[test]
fn trusted_proxies_are_validated() {
    let e = errors(
        "version = 1\n[trusted_proxies]\ncidrs = [\"10.0.0.0/33\"]\nheaders = [\"x-forwarded-proto\"]\n",
    );
    assert!(
        e.contains("p.toml:3:10: error: `10.0.0.0/33` is not a CIDR or an IP address"),
        "{e}"
    );
    let e = errors(
        "version = 1\n[trusted_proxies]\ncidrs = [\"10.0.0.0/8\"]\nheaders = [\"x-real-ip\"]\n",
    );
    assert!(
        e.contains("`x-real-ip` is not a forwarding header Gavel reads"),
        "{e}"
    );
    let w = warnings(
        "version = 1\n[[allow]]\nsame_origin = true\n[trusted_proxies]\ncidrs = [\"0.0.0.0/0\"]\nheaders = [\"forwarded\"]\n",
    );
    assert!(w.contains("trusts every peer"), "{w}");
}

#[test]
fn failing_guard_rails_refuse_the_policy() {
    let source = "version = 1\n[[allow]]\nname = \"frontend\"\nexact = \"https://draft.example.com\"\n\n[[expect]]\norigin = \"http://draft.example.com\"\nverdict = \"allow\"\n";
    let e = errors(source);
    assert!(e.contains("p.toml:6:1: error: guard rail failed: \"http://draft.example.com\" on http must be allow"), "{e}");
    assert!(e.contains("only by its scheme"), "{e}");
    let e = errors(
        "version = 1\n[[allow]]\nexact = \"https://a.com\"\n[[expect]]\norigin = \"https://a.com\"\nverdict = \"allow\"\nrule = \"nope\"\n",
    );
    assert!(e.contains("no rule is named `nope`"), "{e}");
    let e = errors(
        "version = 1\n[[allow]]\nname = \"a\"\nexact = \"https://a.com\"\n[[deny]]\nname = \"b\"\nexact = \"https://a.com\"\n[[expect]]\norigin = \"https://a.com\"\nverdict = \"deny\"\nrule = \"a\"\n",
    );
    assert!(
        e.contains("must be deny by rule `a`, but origin `https://a.com` is denied by rule `b`"),
        "{e}"
    );
}

#[test]
fn every_error_of_a_file_is_reported_at_once() {
    let e = errors(
        "version = 1\n[[allow]]\nexact = \"https://a.com/\"\n[[allow]]\nglob = \"https://*.com\"\n[[allow]]\nregex = '('\n",
    );
    assert_eq!(
        e.lines().filter(|l| l.contains(": error: ")).count(),
        3,
        "{e}"
    );
}

#[test]
fn empty_policies_warn() {
    let w = warnings("version = 1\n");
    assert!(w.contains("no [[allow]] rules"), "{w}");
    let w = warnings("version = 1\nmode = \"report-only\"\n[[allow]]\nexact = \"https://a.com\"\n");
    assert!(w.contains("p.toml:2:8: warning: report-only mode"), "{w}");
}

#[test]
fn every_unknown_key_is_reported_at_once_in_file_order() {
    let e = errors(
        "version = 1\nmod = \"enforce\"\n[cors]\ncredential = true\nzzz = 1\n[[allow]]\nnme = \"a\"\nexact = \"https://a.com\"\n[trusted_proxies]\ncidr = []\n[[expect]]\norigin = \"https://a.com\"\nverdict = \"allow\"\nrul = \"a\"\n",
    );
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(
        lines,
        [
            "p.toml:2:1: error: unknown field `mod` in the top level; did you mean `mode`?",
            "p.toml:4:1: error: unknown field `credential` in [cors]; did you mean `credentials`?",
            "p.toml:5:1: error: unknown field `zzz` in [cors]; expected one of `credentials`, `max_age_secs`, `allow_methods`, `allow_headers`, `expose_headers`",
            "p.toml:7:1: error: unknown field `nme` in [[allow]]; did you mean `name`?",
            "p.toml:10:1: error: unknown field `cidr` in [trusted_proxies]; did you mean `cidrs`?",
            "p.toml:14:1: error: unknown field `rul` in [[expect]]; did you mean `rule`?",
        ],
        "{e}"
    );
    // Dotted and inline tables are the same tables.
    let e = errors("version = 1\ncors.credentails = true\nrequests = { null_orgin = \"deny\" }\n");
    assert!(
        e.contains(
            "p.toml:2:6: error: unknown field `credentails` in [cors]; did you mean `credentials`?"
        ),
        "{e}"
    );
    assert!(e.contains("p.toml:3:14: error: unknown field `null_orgin` in [requests]; did you mean `null_origin`?"), "{e}");
}

/// Row 11 of issue 9: a regex that would compile to gigabytes is refused at its place, naming
/// the limit; so is a file whose regexes are each under the limit but not together.
#[test]
fn regexes_over_the_size_limits_are_refused_with_the_limit() {
    let e = errors("version = 1\n[[allow]]\nregex = '^https://(?:\\w{100}){100}$'\n");
    assert!(
        e.contains("p.toml:3:9: error: this regex compiles to more than 1 MiB (1048576 bytes), the limit for one regex"),
        "{e}"
    );
    assert!(e.contains("rather than `\\w`"), "{e}");
    // About 0.7 MiB each: 48 of them are over the 32 MiB of one file.
    let mut source = String::from("version = 1\n");
    for i in 0..48 {
        source.push_str(&format!(
            "[[allow]]\nregex = '^https://\\w{{1,40}}\\.r{i}\\.example\\.com$'\n"
        ));
    }
    let e = errors(&source);
    assert!(
        e.contains("error: the regexes of this file compile to more than 32 MiB (33554432 bytes) in all, the limit for one file"),
        "{e}"
    );
    assert!(!e.contains(":3:9:"), "the first regexes fit: {e}");
}

/// Row 10 of issue 9: a regex or glob that matches origins nobody targets is a wildcard.
#[test]
fn patterns_that_match_foreign_origins_are_treated_like_wildcards() {
    let e = errors(&rule("regex = '^.*$'"));
    assert!(
        e.contains("p.toml:5:9: error: regex `^.*$` matches origins no rule should allow (it matches `https://a.invalid`): it allows like wildcard = true, and with cors.credentials = true"),
        "{e}"
    );
    assert!(e.contains("allow_credentials_with_wildcard = true"), "{e}");
    let e = errors(&rule("regex = '^http://.*$'\nallow_insecure_scheme = true"));
    assert!(e.contains("(it matches `http://b.invalid:8443`)"), "{e}");
    // Consent turns the error into a warning; without credentials it is always a warning.
    let w = warnings(&rule(
        "regex = '^.*$'\nallow_credentials_with_wildcard = true",
    ));
    assert!(
        w.contains("p.toml:5:9: warning: regex `^.*$` matches origins no rule should allow"),
        "{w}"
    );
    let w = warnings("version = 1\n[[allow]]\nregex = 'https://.+'\n");
    assert!(
        w.contains("warning: regex `https://.+` matches origins no rule should allow"),
        "{w}"
    );
    // A glob over every host needs the same consent as a wildcard, beside its own.
    let e = errors(&rule("glob = \"https://**\"\nallow_public_suffix = true"));
    assert!(
        e.contains("glob `https://**` matches origins no rule should allow"),
        "{e}"
    );
    let w = warnings(&rule(
        "glob = \"https://**\"\nallow_public_suffix = true\nallow_credentials_with_wildcard = true",
    ));
    assert!(
        w.contains("glob `https://**` matches origins no rule should allow"),
        "{w}"
    );
    // Denying everything is no hole; honest patterns match no probe.
    let w = warnings(&format!(
        "{}[[deny]]\nregex = '^.*$'\n",
        rule("regex = '^https://.*\\.example\\.com$'\n[[allow]]\nglob = \"https://*.example.net\"")
    ));
    assert!(!w.contains("no rule should allow"), "{w}");
}

/// Row 13 of issue 9, and the other counts and lengths a file is held to.
#[test]
fn sizes_counts_and_lengths_are_bounded_with_the_reason() {
    let name = |n: usize| {
        format!(
            "version = 1\n[[allow]]\nname = \"{}\"\nexact = \"https://a.com\"\n",
            "n".repeat(n)
        )
    };
    Policy::from_source("p.toml", &name(128)).unwrap();
    let e = errors(&name(129));
    assert!(
        e.contains("p.toml:3:8: error: this rule name is 129 bytes, over the limit of 128 bytes (names appear in every decision, log line and metric)"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "the name is not repeated: {e}");
    let e = errors(&format!(
        "version = 1\n[[allow]]\nexact = \"https://a.com\"\nnote = \"{}\"\n",
        "n".repeat(1025)
    ));
    assert!(
        e.contains("p.toml:4:8: error: this note is 1025 bytes, over the limit of 1024 bytes"),
        "{e}"
    );
    // 50 MB names never reach the parser.
    let huge = name(2 << 20);
    let e = errors(&huge);
    let want = format!(
        "p.toml: error: the file is {} bytes, over the limit of 1 MiB (1048576 bytes)",
        huge.len()
    );
    assert!(e.starts_with(&want), "{e}");
    let mut many = String::from("version = 1\n");
    for i in 0..10_001 {
        many.push_str(&format!("[[deny]]\nexact=\"https://a{i}.com\"\n"));
    }
    let e = errors(&many);
    assert!(
        e.contains("p.toml:20002:1: error: too many rules: 10001 [[allow]] and [[deny]] entries, over the limit of 10000"),
        "{e}"
    );
    let mut expects = String::from("version = 1\n");
    for _ in 0..1_001 {
        expects.push_str("[[expect]]\nverdict=\"allow\"\n");
    }
    let e = errors(&expects);
    assert!(
        e.contains(
            "p.toml:2002:1: error: too many [[expect]] guard rails: 1001, over the limit of 1000"
        ),
        "{e}"
    );
    let e = errors(&format!(
        "version = 1\n[[allow]]\nglob = \"https://*.{}.com\"\n",
        "a".repeat(600)
    ));
    assert!(
        e.contains("p.toml:3:8: error: a glob is at most 512 bytes long, like an origin"),
        "{e}"
    );
}

#[test]
fn duplicate_and_shadowed_rules_are_warned_about_with_both_lines() {
    let w = warnings(
        "version = 1\n[[allow]]\nname = \"a\"\nexact = \"https://a.com\"\n[[allow]]\nname = \"a443\"\nexact = \"https://a.com:443\"\n",
    );
    assert!(
        w.contains("p.toml:5:1: warning: rule `a443` and rule `a` on line 2 are the same origin `https://a.com` once normalized: this rule never decides"),
        "{w}"
    );
    let w = warnings(
        "version = 1\n[[allow]]\nname = \"previews\"\nglob = \"https://*.example.com\"\n[[allow]]\nname = \"app\"\nexact = \"https://app.example.com\"\n",
    );
    assert!(
        w.contains("p.toml:5:1: warning: rule `app` (exact = \"https://app.example.com\") is shadowed by rule `previews` on line 2 (glob = \"https://*.example.com\"), which matches `https://app.example.com` first"),
        "{w}"
    );
    let w = warnings(
        "version = 1\n[[allow]]\nname = \"app\"\nexact = \"https://app.example.com\"\n[[deny]]\nname = \"no\"\nregex = '^https://app\\.example\\.com$'\n",
    );
    assert!(
        w.contains("p.toml:2:1: warning: rule `app` allows `https://app.example.com`, but deny rule `no` on line 5 (regex = '^https://app\\.example\\.com$') matches it and deny wins"),
        "{w}"
    );
    let w = warnings(
        "version = 1\n[[allow]]\nglob = \"https://*.a.com\"\n[[allow]]\nglob = \"https://*.A.com\"\n",
    );
    assert!(
        w.contains("p.toml:4:1: warning: rule `allow[1]` (glob = \"https://*.a.com\") duplicates rule `allow[0]` on line 2"),
        "{w}"
    );
    // An exception carved out of an allowed glob is what deny rules are for: no warning.
    let w = warnings(
        "version = 1\n[[allow]]\nglob = \"https://*.example.com\"\n[[deny]]\nexact = \"https://legacy.example.com\"\n",
    );
    assert!(w.is_empty(), "{w}");
}

#[test]
fn report_only_says_what_it_lets_through() {
    let w = warnings("version = 1\nmode = \"report-only\"\n[[allow]]\nexact = \"https://a.com\"\n");
    for part in [
        "p.toml:2:8: warning: report-only mode: nothing is blocked.",
        "origins no allow rule matches pass and get CORS headers without credentials",
        "a [[deny]] rule matches, `Origin: null` and malformed origins pass but never get CORS headers",
    ] {
        assert!(w.contains(part), "{part}: {w}");
    }
}
