//! Real client programs (Node, Python, Chromium) run by the Rust tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/js` with its node_modules (installed by `scripts/test` / `.ci/run`).
pub fn js_dir() -> PathBuf {
    let dir = repo().join("tests/js");
    assert!(
        dir.join("node_modules/socket.io-client").exists(),
        "tests/js/node_modules is missing: run `scripts/test` (or `npm ci --prefix tests/js`)"
    );
    dir
}

/// The Python of the project's virtualenv `.venv` (created by `scripts/test` / `.ci/run`).
pub fn python() -> PathBuf {
    let py = repo().join(".venv/bin/python");
    assert!(
        py.exists(),
        ".venv is missing: run `scripts/test` (python3 -m venv .venv && .venv/bin/pip install -r tests/py/requirements.txt)"
    );
    py
}

/// A child whose stdout lines (JSON) arrive on a channel.
pub struct Driven {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Drop for Driven {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driven {
    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("client program starts");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for the next JSON line whose `event` is `event` (failing on a `failure`).
    pub fn expect_event(&mut self, event: &str, timeout: Duration) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no `{event}` from the client; saw {:#?}", self.seen));
            self.seen.push(line.clone());
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            assert_ne!(
                v["event"], "failure",
                "client failed: {line}\nsaw {:#?}",
                self.seen
            );
            if v["event"] == event {
                return v;
            }
        }
    }

    /// Waits for the program to exit; returns every JSON line it printed.
    pub fn finish(mut self, timeout: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line);
        }
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "client exited with {status}: {:#?}",
            self.seen
        );
        self.seen
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_default())
            .collect()
    }
}
