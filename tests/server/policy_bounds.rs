//! Issue 9, rows 12 and 13: what a policy can cost a running server is bounded. A refused
//! file is compiled and logged once, whatever else happens in its directory; `/metrics` stays
//! small whatever the rule names and the traffic.

use crate::common;

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::binary;

const SECRET: &str = "policy-bounds-secret-policy-bounds-secret";

/// Writes `content` to `path` the way editors and deploy tools do: a temporary file beside it,
/// renamed over it (so the watcher never reads a half-written file).
fn replace(path: &Path, content: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The CPU time (user + system, in clock ticks) the process has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The JSON log lines until one satisfies `until` (returned), failing on a line `forbidden`
/// matches or when `deadline` passes.
fn lines_until(
    lines: &Receiver<String>,
    deadline: Duration,
    until: impl Fn(&serde_json::Value) -> bool,
    forbidden: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let end = Instant::now() + deadline;
    loop {
        let line = lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
            .expect("the awaited log line within the deadline");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        assert!(!forbidden(&v), "unexpected log line: {line}");
        if until(&v) {
            return v;
        }
    }
}

fn message(v: &serde_json::Value) -> &str {
    v["message"].as_str().unwrap_or_default()
}

fn is_policy_error(v: &serde_json::Value) -> bool {
    v["level"] == "ERROR" && message(v).contains("policy")
}

/// Valid, costly to compile (5,000 regexes), and refused by its own guard rail.
fn costly_refused_policy() -> String {
    let mut s = String::from("version = 1\n");
    for i in 0..5_000 {
        s.push_str(&format!(
            "[[allow]]\nregex = '^https://pr-[0-9]+\\.r{i}\\.example\\.org$'\n"
        ));
    }
    s.push_str("[[expect]]\norigin = \"https://never.example\"\nverdict = \"allow\"\n");
    s
}

fn good_policy(origin: &str) -> String {
    format!("version = 1\n[[allow]]\nexact = \"{origin}\"\n")
}

/// Row 12: a refused policy, then its directory busy (a database beside it, other files
/// written, renamed and removed, the same refused bytes written again). The content is
/// compiled and logged once; the watcher stays alive; the process spends almost no CPU on it.
#[test]
fn a_refused_policy_is_compiled_and_logged_once_whatever_happens_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    let config = format!(
        "watch_policy = true\nreload_debounce_ms = 50\njwt_secret = \"{SECRET}\"\n\
         database_url = \"{}\"",
        binary::sqlite_in(dir.path())
    );
    let server = binary::serve_in(
        dir.path(),
        &good_policy("https://a.example"),
        &config,
        |cmd| {
            // The debug line of a skipped reload is this test's synchronisation point.
            cmd.env("RUST_LOG", "info,gavel::gate=debug");
        },
    );
    let pid = server.child.id();
    let no_policy_error = |v: &serde_json::Value| is_policy_error(v);
    let minute = Duration::from_secs(60);

    // The refused content: compiled and logged once.
    let refused = costly_refused_policy();
    let before = cpu_ticks(pid);
    replace(&policy, &refused);
    let error = lines_until(&server.lines, minute, is_policy_error, |_| false);
    assert!(message(&error).contains("guard rail failed"), "{error}");
    let after_refusal = cpu_ticks(pid);
    let refusal_cost = after_refusal - before;

    // Its directory busy: other files, then the same refused bytes written again.
    for i in 0..100 {
        let other = dir.path().join(format!("other-{}.txt", i % 10));
        std::fs::write(&other, format!("{i}")).unwrap();
        if i % 10 == 9 {
            std::fs::rename(&other, dir.path().join("renamed.txt")).unwrap();
            std::fs::remove_file(dir.path().join("renamed.txt")).unwrap();
        }
    }
    std::fs::write(dir.path().join("gavel.log"), "a log line\n".repeat(100)).unwrap();
    replace(&policy, &refused);
    lines_until(
        &server.lines,
        minute,
        |v| message(v).contains("unchanged since it was refused"),
        no_policy_error,
    );

    // The watcher is alive: good content is activated, with no ERROR in between.
    replace(&policy, &good_policy("https://b.example"));
    lines_until(
        &server.lines,
        minute,
        |v| message(v) == "policy activated",
        no_policy_error,
    );
    let spent = cpu_ticks(pid) - after_refusal;
    assert!(
        spent * 2 < refusal_cost,
        "{spent} CPU ticks after the refusal, which itself took {refusal_cost}: refused content compiled again?"
    );
}

/// Row 13 and the metric half of row 8: rule names at the name limit and more deciding rules
/// than the label-set cap keep `/metrics` under a fixed size, every label value cut to 64
/// bytes, the excess counted under `rule="other"`.
#[tokio::test]
async fn metrics_stay_small_whatever_the_rule_names_and_traffic() {
    const RULES: usize = 1_000;
    let name = |i: usize| format!("rule-{i:05}-{}", "x".repeat(117));
    assert_eq!(name(0).len(), gavel_policy::MAX_NAME_BYTES);
    let mut source = String::from("version = 1\n");
    for i in 0..RULES {
        source.push_str(&format!(
            "[[allow]]\nname = \"{}\"\nexact = \"https://app{i}.example.com\"\n",
            name(i)
        ));
    }
    let app = common::TestApp::builder(&source)
        .watching(false)
        .spawn()
        .await;
    for i in 0..RULES {
        let origin = format!("https://app{i}.example.com");
        assert_eq!(app.status_for(&origin).await, 200, "{origin}");
    }
    assert_eq!(app.status_for("https://never.example").await, 403);

    let metrics = app.metrics().await;
    assert!(
        metrics.len() < 128 << 10,
        "/metrics is {} bytes after {RULES} deciding rules",
        metrics.len()
    );
    let decisions: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("gavel_origin_decisions_total{"))
        .collect();
    for line in &decisions {
        let rule = line
            .split("rule=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            rule.len() <= gavel::gate::Metrics::MAX_LABEL_BYTES,
            "{line}"
        );
    }
    // The first rules have their own series (cut to 64 bytes), the rest are counted together.
    let cut = &name(0)[..64];
    assert!(
        decisions
            .iter()
            .any(|l| l.contains(&format!("rule=\"{cut}\""))),
        "{metrics}"
    );
    let other = decisions
        .iter()
        .find(|l| l.contains("verdict=\"allow\"") && l.contains("rule=\"other\""))
        .unwrap_or_else(|| panic!("no rule=\"other\" series:\n{metrics}"));
    let folded: u64 = other.rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(
        folded,
        (RULES - gavel::gate::Metrics::MAX_LABEL_SETS) as u64,
        "{other}"
    );
    assert!(
        decisions
            .iter()
            .any(|l| l.contains("rule=\"no-rule-matched\"")),
        "reasons are never folded: {metrics}"
    );
}
