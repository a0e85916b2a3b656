//! Bounds on what a policy file may ask of the loader and of the server.
//!
//! A policy is written by an admin, but it is read by a process strangers reach: a careless or
//! hostile file must not take memory, CPU time or `/metrics` bytes without bound. Every bound
//! is checked before the work it limits (the size before parsing, counts before compiling),
//! and every refusal names the bound.

use std::io::Read;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use crate::diagnostics::Diagnostics;
use crate::policy::PolicyError;
use crate::schema::{RawPolicy, RawRule};

/// The largest policy file read, checked before parsing: 10,000 rules of about 100 bytes fit.
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// `[[allow]]` and `[[deny]]` entries together: each is compiled and kept for every request.
pub const MAX_RULES: usize = 10_000;
/// A rule `name`: it appears in every decision, log line and metric about the rule.
pub const MAX_NAME_BYTES: usize = 128;
/// A rule's `note`: shown to admins, never on the request path.
pub const MAX_NOTE_BYTES: usize = 1024;
/// `[[expect]]` guard rails: each is a decision run on every load and reload.
pub const MAX_EXPECT: usize = 1_000;
/// What one regex may compile to (its Thompson NFA, the `size_limit` of the `regex` crate).
/// Honest origin regexes take a few kB (`^https://pr-[0-9]+\.example\.com$`: 1.2 kB; a
/// Unicode `[\w-]+`: 19 kB); `(?:\w{100}){100}` would take gigabytes.
pub const MAX_REGEX_BYTES: usize = 1 << 20;
/// What all the regexes of one file may compile to together: 10,000 regexes of the honest
/// kind above take about 10 MiB.
pub const MAX_REGEXES_BYTES: usize = 32 << 20;

/// `1 MiB`, `32 MiB`, `128 bytes`: how limits read in messages.
pub(crate) fn human(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// The error for a file of `len` bytes, if that is over [`MAX_FILE_BYTES`].
pub(crate) fn check_file_size(path: &Path, len: u64) -> Result<(), PolicyError> {
    if len > MAX_FILE_BYTES as u64 {
        return Err(PolicyError::file(
            path,
            format!(
                "the file is {len} bytes, over the limit of {} ({MAX_FILE_BYTES} bytes) for a policy file",
                human(MAX_FILE_BYTES)
            ),
        ));
    }
    Ok(())
}

/// Reads a policy file, refusing one over [`MAX_FILE_BYTES`] without reading it whole (the
/// size is asked first, and reading stops one byte past the limit in case the file grows).
pub(crate) fn read_bounded(path: &Path) -> Result<Vec<u8>, PolicyError> {
    let io = |e: std::io::Error| PolicyError::io(path, &e);
    let file = std::fs::File::open(path).map_err(io)?;
    check_file_size(path, file.metadata().map_err(io)?.len())?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    check_file_size(path, bytes.len() as u64)?;
    Ok(bytes)
}

/// Counts: rules and guard rails. One error each, at the first entry over the limit.
pub(crate) fn check_counts(raw: &RawPolicy, d: &mut Diagnostics) {
    let rules = raw.allow.len() + raw.deny.len();
    if rules > MAX_RULES {
        // The first entry over the limit, in file order.
        let mut spans: Vec<Range<usize>> = raw
            .allow
            .iter()
            .chain(&raw.deny)
            .map(Spanned::span)
            .collect();
        spans.sort_by_key(|s| s.start);
        d.error_help(
            &spans[MAX_RULES],
            format!("too many rules: {rules} [[allow]] and [[deny]] entries, over the limit of {MAX_RULES}"),
            "merge rules (one glob or regex can stand for many origins), or split the service",
        );
    }
    if raw.expect.len() > MAX_EXPECT {
        d.error(
            &raw.expect[MAX_EXPECT].span(),
            format!(
                "too many [[expect]] guard rails: {}, over the limit of {MAX_EXPECT}",
                raw.expect.len()
            ),
        );
    }
}

/// A rule's `name` and `note` within their lengths; `false` (with an error) when not.
pub(crate) fn check_rule_text(r: &RawRule, d: &mut Diagnostics) -> bool {
    let mut ok = true;
    if let Some(name) = &r.name
        && name.get_ref().len() > MAX_NAME_BYTES
    {
        d.error_help(
            &name.span(),
            format!(
                "this rule name is {} bytes, over the limit of {MAX_NAME_BYTES} bytes (names appear in every decision, log line and metric)",
                name.get_ref().len()
            ),
            "put the description in `note`",
        );
        ok = false;
    }
    if let Some(note) = &r.note
        && note.get_ref().len() > MAX_NOTE_BYTES
    {
        d.error(
            &note.span(),
            format!(
                "this note is {} bytes, over the limit of {MAX_NOTE_BYTES} bytes",
                note.get_ref().len()
            ),
        );
        ok = false;
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_units() {
        assert_eq!(human(MAX_FILE_BYTES), "1 MiB");
        assert_eq!(human(MAX_REGEXES_BYTES), "32 MiB");
        assert_eq!(human(MAX_NAME_BYTES), "128 bytes");
    }

    #[test]
    fn files_over_the_limit_are_refused_before_reading_them_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        let file = std::fs::File::create(&path).unwrap();
        // Sparse: 50 MB that take no disk and would take 50 MB of memory to read.
        file.set_len(50_000_000).unwrap();
        let e = read_bounded(&path).unwrap_err().to_string();
        assert!(
            e.contains("the file is 50000000 bytes, over the limit of 1 MiB"),
            "{e}"
        );
        std::fs::write(&path, "version = 1\n").unwrap();
        assert_eq!(read_bounded(&path).unwrap(), b"version = 1\n");
    }
}
