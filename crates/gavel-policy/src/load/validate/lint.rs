//! What an origin regex that compiles probably gets wrong: warnings, not errors.

use toml::Spanned;

use crate::diagnostics::{Diagnostics, Severity};

/// Warns about a regex written unanchored, with an unescaped `.` in its host, or with
/// upper-case letters (origins are matched lower-case).
pub(super) fn warn_about_regex(value: &Spanned<String>, d: &mut Diagnostics) {
    let pattern = value.get_ref();
    let span = value.span();
    if !(pattern.starts_with('^') && pattern.ends_with('$')) {
        d.push(
            Severity::Warning,
            &span,
            "this regex is matched against the whole origin, as if anchored",
            Some(format!(
                "write `^…$` to make that visible: `^{}$`",
                pattern.trim_start_matches('^').trim_end_matches('$')
            )),
        );
    }
    if let Some(dot) = unescaped_host_dot(pattern) {
        d.push(
            Severity::Warning,
            &span,
            format!(
                "unescaped `.` in the host part (at character {}) matches any character",
                dot + 1
            ),
            Some("write `\\.` for a literal dot".to_owned()),
        );
    }
    if !pattern.contains("(?i") && has_uppercase_literal(pattern) {
        d.warning(
            &span,
            "origins are matched lower-case; upper-case letters in this regex never match",
        );
    }
}

/// The position of the first `.` after `://` that is neither escaped, inside a class, nor
/// followed by a repetition (`.*` and `.+` are deliberate).
fn unescaped_host_dot(pattern: &str) -> Option<usize> {
    let start = pattern
        .find("://")
        .map(|i| i + 3)
        .or_else(|| pattern.find(r":\/\/").map(|i| i + 5))?;
    let chars: Vec<char> = pattern.chars().collect();
    let start = pattern[..start].chars().count();
    let (mut escaped, mut in_class) = (false, false);
    for i in start..chars.len() {
        let c = chars[i];
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            '.' if !in_class && !matches!(chars.get(i + 1), Some('*' | '+' | '?' | '{')) => {
                return Some(i);
            }
            _ => {}
        }
    }
    None
}

fn has_uppercase_literal(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some('p' | 'P') = chars.next() {
                    // `\p{Lu}`: skip the class name
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                    }
                }
            }
            c if c.is_ascii_uppercase() => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_dots() {
        assert_eq!(
            unescaped_host_dot(r"^https://pr-[0-9]+\.example\.com$"),
            None
        );
        assert_eq!(
            unescaped_host_dot(r"^https://pr-[0-9]+.example\.com$"),
            Some(18)
        );
        assert_eq!(unescaped_host_dot(r"^https://.*\.example\.com$"), None);
        assert_eq!(unescaped_host_dot(r"^https://[a.]\.com$"), None);
    }

    #[test]
    fn uppercase() {
        assert!(has_uppercase_literal(r"^https://App\.com$"));
        assert!(!has_uppercase_literal(r"^https://\w+\.com$"));
        assert!(!has_uppercase_literal(r"^https://\p{Ll}+\.com$"));
        assert!(has_uppercase_literal(r"^https://\D\.COM$"));
    }
}
