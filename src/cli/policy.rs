//! `gavel policy check | explain | test`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use http::HeaderMap;

use super::{ExplainArgs, Format};
use gavel_policy::{
    ConnScheme, Diagnostic, Policy, PolicyError, RequestFacts, Severity, Surface, TableReport,
    header, run_table,
};

/// Exit code for invalid input: a policy or table that can't be read or is invalid.
const INVALID: u8 = 2;

fn print_errors(error: &PolicyError) {
    for d in error.diagnostics() {
        eprintln!("{d}");
    }
}

fn load(file: &Path) -> Result<Policy, ExitCode> {
    Policy::from_file(file).map_err(|e| {
        print_errors(&e);
        ExitCode::from(INVALID)
    })
}

pub(crate) fn check(file: &Path, format: Format) -> ExitCode {
    let result = Policy::from_file(file);
    let diagnostics: Vec<Diagnostic> = match &result {
        Ok(p) => p.diagnostics().to_vec(),
        Err(e) => e.diagnostics().to_vec(),
    };
    match format {
        Format::Json => {
            let body = serde_json::json!({
                "valid": result.is_ok(),
                "file": file,
                "version": result.as_ref().ok().map(|p| p.version().to_owned()),
                "diagnostics": diagnostics,
            });
            println!("{body:#}");
        }
        Format::Text => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            if let Ok(p) = &result {
                let rules = p.rules().count();
                let warnings = diagnostics
                    .iter()
                    .filter(|d| d.severity == Severity::Warning)
                    .count();
                println!(
                    "{}: ok ({rules} rules, {warnings} warnings, sha256 {})",
                    file.display(),
                    &p.sha256()[..12]
                );
            }
        }
    }
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(INVALID)
    }
}

pub(crate) fn explain(args: &ExplainArgs) -> ExitCode {
    let policy = match load(&args.file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let facts = match explain_facts(args) {
        Ok(f) => f,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(INVALID);
        }
    };
    let (headers, peer, scheme, surface) = &facts;
    let decision = policy.explain(&RequestFacts {
        headers,
        peer: *peer,
        scheme: *scheme,
        surface: *surface,
        path: "/",
    });
    match args.format {
        Format::Json => println!("{:#}", decision.to_json()),
        Format::Text => print!("{decision}"),
    }
    ExitCode::SUCCESS
}

type Facts = (HeaderMap, std::net::IpAddr, ConnScheme, Surface);

fn explain_facts(args: &ExplainArgs) -> Result<Facts, String> {
    let surface: Surface = args.surface.parse()?;
    let scheme: ConnScheme = args.scheme.parse()?;
    let peer = args
        .peer
        .parse()
        .map_err(|_| format!("--peer `{}` is not an IP address", args.peer))?;
    let mut headers = HeaderMap::new();
    let mut add = |name: &str, value: &str| -> Result<(), String> {
        let (n, v) = header(name, value)?;
        headers.append(n, v);
        Ok(())
    };
    if let Some(origin) = &args.origin {
        add("origin", origin)?;
    }
    if let Some(host) = &args.host {
        add("host", host)?;
    }
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("--header `{header}` is not `Name: value`"))?;
        add(name, value.trim_start())?;
    }
    Ok((headers, peer, scheme, surface))
}

pub(crate) fn test(tables: &[PathBuf], format: Format) -> ExitCode {
    let mut reports = Vec::new();
    let mut unreadable = false;
    for table in tables {
        match run_table(table) {
            Ok(report) => reports.push(report),
            Err(e) => {
                print_errors(&e);
                unreadable = true;
            }
        }
    }
    let passed: usize = reports.iter().map(TableReport::passed).sum();
    let failed: usize = reports.iter().map(TableReport::failed).sum();
    match format {
        Format::Json => println!(
            "{:#}",
            serde_json::json!({ "tables": reports, "passed": passed, "failed": failed })
        ),
        Format::Text => {
            for report in &reports {
                print_table(report);
            }
            println!("policy tables: {passed} passed, {failed} failed");
        }
    }
    if unreadable {
        ExitCode::from(INVALID)
    } else if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_table(report: &TableReport) {
    println!(
        "{} (policy {})",
        report.table.display(),
        report.policy.display()
    );
    let with_rule = |verdict: &str, rule: Option<&str>| match rule {
        Some(r) => format!("{verdict} ({r})"),
        None => verdict.to_owned(),
    };
    let rows: Vec<[String; 5]> = report
        .cases
        .iter()
        .map(|c| {
            [
                if c.passed { "ok" } else { "FAIL" }.to_owned(),
                format!("{}:{}", c.line, c.label),
                c.surface.to_string(),
                with_rule(c.expected.as_str(), c.expected_rule.as_deref()),
                with_rule(
                    c.got.as_str(),
                    c.got_rule.as_deref().or(Some(c.reason.as_str())),
                ),
            ]
        })
        .collect();
    let header = [
        "",
        "case (line:origin)",
        "surface",
        "expected",
        "got (deciding rule)",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("  {}", padded.join("  ").trim_end());
    };
    line(header);
    for (row, case) in rows.iter().zip(&report.cases) {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
        if !case.passed {
            println!("        {}", case.summary);
        }
    }
}
