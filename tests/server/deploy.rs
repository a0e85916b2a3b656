//! What an operator installs with the binary: `--version`, shell completions, the health probe
//! the container image uses, and the example settings file deploy/gavel.toml.

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};

use gavel::config::{Limits, LogFormat, ServerSettings};

use crate::common::binary::{serve_in, sqlite_in};

fn gavel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gavel"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GAVEL_JWT_SECRET")
        .output()
        .unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn version_names_the_crate_version_and_a_git_revision() {
    // `-V`: one line. `--version`: the same line, then the license.
    let out = gavel(&["-V"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    // A hex revision from git, or "unknown" for a build outside a checkout.
    let shape = regex::Regex::new(r"^gavel 0\.1\.0 \(([0-9a-f]{7,40}|unknown)\)\n$").unwrap();
    assert!(shape.is_match(&line), "{line:?}");
    // The tests run from a git checkout, so this build must have found its revision.
    assert!(!line.contains("unknown"), "{line:?}");
    let long = text(&gavel(&["--version"]).stdout);
    assert_eq!(long, format!("{line}license: MIT\n"));
}

#[test]
fn completions_for_each_shell_cover_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = gavel(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.len() > 200, "{shell}: {script}");
        for command in ["policy", "serve", "completions"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let out = gavel(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn bash_accepts_the_bash_completions() {
    let script = gavel(&["completions", "bash"]).stdout;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gavel.bash");
    std::fs::write(&file, &script).unwrap();
    // `bash -n`: parse without running. Sourcing it must then define the completion function.
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(check.status.success(), "{}", text(&check.stderr));
    let sourced = Command::new("bash")
        .arg("-c")
        .arg(format!(". '{}' && complete -p gavel", file.display()))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(sourced.status.success(), "{}", text(&sourced.stderr));
    assert!(text(&sourced.stdout).contains("gavel"));
}

#[test]
fn health_probe_passes_on_a_serving_node_and_fails_on_a_closed_port() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_in(dir.path());
    let server = serve_in(dir.path(), "version = 1\n", "", |c| {
        c.env("GAVEL_DATABASE_URL", &db);
    });
    let url = format!("http://127.0.0.1:{}/healthz", server.port);
    let out = gavel(&["health", "--url", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let missing = format!("http://127.0.0.1:{}/no-such-page", server.port);
    let out = gavel(&["health", "--url", &missing]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("answered 404"),
        "{}",
        text(&out.stderr)
    );
    drop(server);
    let out = gavel(&["health", "--url", &url]);
    assert_eq!(out.status.code(), Some(1), "a stopped node fails the probe");
}

/// deploy/gavel.toml with every `#key = value` line (and `#[limits]`) uncommented.
fn example_uncommented() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/gavel.toml");
    let example = std::fs::read_to_string(path).unwrap();
    example
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase() || c == '[') => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The keys of docs/operations.md's configuration table (`| \`key\` | …`).
fn documented_keys() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operations.md");
    let docs = std::fs::read_to_string(path).unwrap();
    let row = regex::Regex::new(r"(?m)^\| `\[?([a-z_]+)\]?` \|").unwrap();
    row.captures_iter(&docs).map(|c| c[1].to_owned()).collect()
}

#[test]
fn the_example_settings_file_sets_every_documented_key_and_loads() {
    let uncommented = example_uncommented();
    let value: toml::Table = toml::from_str(&uncommented).unwrap();
    let set: BTreeSet<String> = value.keys().cloned().collect();
    assert_eq!(
        set,
        documented_keys(),
        "deploy/gavel.toml vs docs/operations.md"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gavel.toml");
    std::fs::write(&file, &uncommented).unwrap();
    let settings = ServerSettings::load(Some(&file), |_| None).unwrap();
    // The [limits] it shows are the defaults, so the comments cannot drift from the code.
    assert_eq!(settings.limits, Limits::default());
    assert_eq!(settings.log_format, LogFormat::Json);
    assert!(!settings.jwt_secret.generated);
    assert!(settings.redis_url.is_some() && settings.ops_bind.is_some());

    // The binary's own loading (the one `gavel serve` uses) accepts it too: `gavel token`
    // signs with the file's jwt_secret.
    let file = file.to_str().unwrap();
    let out = gavel(&["token", "--sub", "probe", "--config", file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim().split('.').count(), 3, "a JWT");
    // As shipped (everything commented) it loads as the defaults.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/gavel.toml");
    let shipped = ServerSettings::load(Some(example.as_ref()), |_| None).unwrap();
    assert_eq!(shipped.limits, Limits::default());
    assert!(shipped.jwt_secret.generated);
}

/// The policy inside deploy/kubernetes/configmap-policy.yaml (its `policy.toml: |` block).
fn configmap_policy() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/kubernetes/configmap-policy.yaml"
    );
    let yaml = std::fs::read_to_string(path).unwrap();
    let (_, block) = yaml.split_once("policy.toml: |\n").unwrap();
    block
        .lines()
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_kubernetes_policy_passes_check_and_its_ingress_guard_rails() {
    let policy = configmap_policy();
    assert!(policy.contains("[[expect]]") && policy.contains("x-forwarded-port"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy).unwrap();
    // `policy check` runs the [[expect]] guard rails: the seed incident through ingress-nginx
    // is allowed, the same headers from an untrusted peer are not.
    let out = gavel(&["policy", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("0 warnings"),
        "{}",
        text(&out.stdout)
    );
    // The Deployment points GAVEL_POLICY at a file inside the mounted directory (no subPath,
    // which would never see the `..data` swap).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/kubernetes/deployment.yaml"
    );
    let deployment = std::fs::read_to_string(path).unwrap();
    assert!(deployment.contains("value: /etc/gavel/policy/policy.toml"));
    assert!(deployment.contains("mountPath: /etc/gavel/policy\n"));
    assert!(!deployment.contains("subPath"));
}
