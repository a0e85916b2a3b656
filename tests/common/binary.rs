//! The `gavel` binary as operators run it: a child process with JSON logs on stderr, whose
//! lines arrive on a channel once its listening address has been read from them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub port: u16,
    /// The log lines after the one that named the address.
    pub lines: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `gavel` with `args` (and the environment `configure` adds), JSON logs on stderr;
    /// returns once it has logged the address it listens on.
    pub fn start(args: &[&str], configure: impl FnOnce(&mut Command)) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gavel"));
        cmd.args(args)
            .env("GAVEL_LOG_FORMAT", "json")
            .env_remove("GAVEL_BIND")
            .stderr(Stdio::piped());
        configure(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            let line = lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("the server logs its address");
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if let Some(addr) = v["address"].as_str() {
                break addr.rsplit(':').next().unwrap().parse().unwrap();
            }
        };
        Self { child, port, lines }
    }
}

/// The SQLite URL of a fresh database file in `dir`.
pub fn sqlite_in(dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("gavel.db").display())
}

/// Starts `gavel serve` as operators run it: `policy` written to `dir/policy.toml`, a config
/// file `dir/gavel.toml` binding a random loopback port with that policy and the `config`
/// lines (top-level keys first, then any tables), the environment adjusted by `configure`.
pub fn serve_in(
    dir: &std::path::Path,
    policy: &str,
    config: &str,
    configure: impl FnOnce(&mut Command),
) -> Server {
    let policy_path = dir.join("policy.toml");
    std::fs::write(&policy_path, policy).unwrap();
    let config_path = dir.join("gavel.toml");
    std::fs::write(
        &config_path,
        format!(
            "bind = \"127.0.0.1:0\"\npolicy = \"{}\"\n{config}\n",
            policy_path.display()
        ),
    )
    .unwrap();
    Server::start(
        &["serve", "--config", config_path.to_str().unwrap()],
        configure,
    )
}
