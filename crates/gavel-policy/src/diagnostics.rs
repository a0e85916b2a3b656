//! Errors and warnings about a policy file, each pointing at `file:line:col`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file is refused.
    Error,
    /// The file loads, but something in it is risky or never has an effect.
    Warning,
    /// Something worth knowing that is not wrong (e.g. a Unicode origin stored as punycode).
    Note,
}

/// A position in a source file, 1-based, columns counted in characters.
///
/// Displays as `file:line:col`, or as `file` alone for a finding about the whole file (line 0).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Location {
    /// The file, as given to the loader.
    pub file: PathBuf,
    /// The line, from 1; 0 when the finding is about the whole file.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

impl Location {
    /// The file as a whole, not a position in it (e.g. it cannot be read).
    pub(crate) fn whole(file: &Path) -> Self {
        Self {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
        }
    }

    /// Turns a byte offset into `source` into `file:line:col` (an offset past the end is the
    /// end; one inside a character is that character).
    ///
    /// ```
    /// use gavel_policy::Location;
    /// use std::path::Path;
    ///
    /// let at = Location::at(Path::new("p.toml"), "version = 1\nmode = \"x\"\n", 19);
    /// assert_eq!(at.to_string(), "p.toml:2:8");
    /// ```
    pub fn at(file: &Path, source: &str, offset: usize) -> Self {
        let offset = offset.min(source.len());
        let before = source
            .get(..offset)
            .unwrap_or_else(|| &source[..floor_char_boundary(source, offset)]);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self {
            file: file.to_path_buf(),
            line,
            column,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Not about a position: the file as a whole (e.g. it cannot be read).
            return write!(f, "{}", self.file.display());
        }
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// One finding about a policy file (or a policy table).
///
/// Displays as `file:line:col: severity: message` and, when there is help, `; help`. Serializes
/// as `{"severity", "location": {"file", "line", "column"}, "message", "help"}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Error, warning or note.
    pub severity: Severity,
    /// Where in the file.
    pub location: Location,
    /// What is wrong or worth knowing.
    pub message: String,
    /// What was probably meant, when it can be told.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        write!(f, "{}: {severity}: {}", self.location, self.message)?;
        if let Some(help) = &self.help {
            write!(f, "; {help}")?;
        }
        Ok(())
    }
}

/// Collects the findings of one file while it is checked.
pub(crate) struct Diagnostics<'a> {
    file: &'a Path,
    source: &'a str,
    pub(crate) items: Vec<Diagnostic>,
}

impl<'a> Diagnostics<'a> {
    pub(crate) fn new(file: &'a Path, source: &'a str) -> Self {
        Self {
            file,
            source,
            items: Vec::new(),
        }
    }

    pub(crate) fn location(&self, span: &Range<usize>) -> Location {
        Location::at(self.file, self.source, span.start)
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        span: &Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let location = self.location(span);
        self.items.push(Diagnostic {
            severity,
            location,
            message: message.into(),
            help,
        });
    }

    pub(crate) fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(Severity::Error, span, message, None);
    }

    pub(crate) fn error_help(
        &mut self,
        span: &Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(Severity::Error, span, message, Some(help.into()));
    }

    pub(crate) fn warning(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(Severity::Warning, span, message, None);
    }

    pub(crate) fn note(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(Severity::Note, span, message, None);
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based_in_characters() {
        let src = "a = 1\nbé = \"x\"\n";
        let at = |o| Location::at(Path::new("p.toml"), src, o).to_string();
        assert_eq!(at(0), "p.toml:1:1");
        assert_eq!(at(6), "p.toml:2:1");
        assert_eq!(at(src.find('"').unwrap()), "p.toml:2:6");
        assert_eq!(at(10_000), "p.toml:3:1");
    }
}
