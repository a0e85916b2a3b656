//! Every policy table of the project must pass: the tables of the shipped policies and the copy
//! of the team's shared origin table, under `tests/tables/`. The shared table itself runs too
//! when it sits beside the checkout.

use std::path::{Path, PathBuf};

use gavel_policy::{TableReport, run_table};

/// `crates/gavel-policy`.
fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a table that must pass every case; its report.
fn passing(table: &Path) -> TableReport {
    let report = run_table(table).unwrap_or_else(|e| panic!("{}: {e}", table.display()));
    let failures: Vec<_> = report.cases.iter().filter(|c| !c.passed).collect();
    assert!(failures.is_empty(), "{}: {failures:#?}", table.display());
    report
}

#[test]
fn project_tables_pass() {
    let dir = crate_dir().join("tests/tables");
    let mut tables: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    tables.sort();
    let names: Vec<_> = tables.iter().filter_map(|t| t.file_stem()).collect();
    for expected in ["development", "production", "origin-cases"] {
        assert!(
            names.iter().any(|n| *n == expected),
            "expected the development, production and shared origin tables: {names:?}"
        );
    }
    for table in tables {
        let report = passing(&table);
        assert!(
            report.cases.len() >= 10,
            "{} has too few cases",
            table.display()
        );
    }
}

/// The repository's copy of the team's shared origin table: every one of its cases.
#[test]
fn origin_cases_copy_passes_all_39_cases() {
    let report = passing(&crate_dir().join("tests/tables/origin-cases.toml"));
    assert_eq!((report.passed(), report.failed()), (39, 0));
}

/// The team's shared table itself, when it sits beside the checkout (`../shared/…` from the
/// repository's root). Without it, this says so rather than pass in silence: the copy above is
/// what must pass.
#[test]
fn shared_origin_table_passes_when_present() {
    let table = crate_dir().join("../../../shared/origin-cases/cases.toml");
    if !table.exists() {
        println!(
            "the shared origin table is not beside the checkout ({}): not run; the repository's copy, tests/tables/origin-cases.toml, ran instead",
            table.display()
        );
        return;
    }
    let report = passing(&table);
    assert_eq!((report.passed(), report.failed()), (39, 0));
}
