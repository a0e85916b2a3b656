//! Every policy table under tests/policy/ and the shared origin table must pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use gavel_policy::run_table;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn project_tables_pass() {
    let dir = repo().join("tests/policy");
    let mut tables: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    tables.sort();
    assert!(
        tables.len() >= 2,
        "expected the development and production tables"
    );
    for table in tables {
        let report = run_table(&table).unwrap_or_else(|e| panic!("{}: {e}", table.display()));
        assert!(
            report.cases.len() >= 10,
            "{} has too few cases",
            table.display()
        );
        let failures: Vec<_> = report.cases.iter().filter(|c| !c.passed).collect();
        assert!(failures.is_empty(), "{}: {failures:#?}", table.display());
    }
}

/// The table every build must pass, run through the CLI exactly as admins and CI run it.
#[test]
fn shared_origin_table_passes_through_the_cli() {
    let table = repo().join("../shared/origin-cases/cases.toml");
    assert!(
        Path::new(&table).exists(),
        "the shared origin table is missing at {}",
        table.display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_gavel"))
        .args(["policy", "test"])
        .arg(&table)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("policy tables: 39 passed, 0 failed"),
        "{stdout}"
    );
}
