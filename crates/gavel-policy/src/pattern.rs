//! One origin regex, compiled on its own under a size limit before it joins the rule set.
//!
//! The compiled size is what the `regex` crate's `size_limit` bounds: the Thompson NFA. The
//! compiler checks the limit as it adds states, so a pattern that would take gigabytes
//! (`(?:\w{100}){100}`) is refused after about a megabyte of work, in milliseconds. The same
//! NFA then answers whether the regex matches foreign origins (see `foreign`).

use regex_automata::nfa::thompson::pikevm::PikeVM;
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::syntax;

use super::limits::{MAX_REGEX_BYTES, MAX_REGEXES_BYTES, human};
use super::rules::anchored;

/// The syntax every origin regex is compiled with, alone and in the rule set.
pub(crate) fn syntax_config() -> syntax::Config {
    // globset's translations match bytes (`(?-u)`), like label paths need.
    syntax::Config::new().utf8(false)
}

/// A regex that compiled within its limits.
pub(crate) struct CheckedRegex {
    /// The compiled size, counted against [`MAX_REGEXES_BYTES`].
    pub bytes: usize,
    matcher: PikeVM,
}

impl CheckedRegex {
    /// Whether the regex matches the whole of `origin` (it is compiled anchored).
    pub(crate) fn is_match(&self, origin: &str) -> bool {
        self.matcher
            .is_match(&mut self.matcher.create_cache(), origin)
    }
}

/// Why a regex was refused: the message, and what to do about it.
pub(crate) struct Refusal {
    pub message: String,
    pub help: Option<String>,
}

/// Compiles `pattern` (anchored) within [`MAX_REGEX_BYTES`] and within what is left of the
/// file's [`MAX_REGEXES_BYTES`] (`used` so far).
pub(crate) fn check(pattern: &str, used: usize) -> Result<CheckedRegex, Refusal> {
    let anchored = anchored(pattern);
    if let Err(e) = regex_syntax::Parser::new().parse(&anchored) {
        let kind = match &e {
            regex_syntax::Error::Parse(p) => p.kind().to_string(),
            regex_syntax::Error::Translate(t) => t.kind().to_string(),
            other => other.to_string(),
        };
        return Err(Refusal {
            message: format!("invalid regex: {kind}"),
            help: None,
        });
    }
    let left = MAX_REGEXES_BYTES.saturating_sub(used);
    let limit = MAX_REGEX_BYTES.min(left);
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(limit))
                .which_captures(WhichCaptures::Implicit),
        )
        .syntax(syntax_config())
        .build(&anchored)
        .map_err(|e| match e.size_limit() {
            Some(_) if limit < MAX_REGEX_BYTES => too_many(),
            Some(_) => too_big(),
            None => Refusal {
                message: format!("invalid regex: {e}"),
                help: None,
            },
        })?;
    let bytes = nfa.memory_usage();
    let matcher = PikeVM::new_from_nfa(nfa).map_err(|e| Refusal {
        message: format!("invalid regex: {e}"),
        help: None,
    })?;
    Ok(CheckedRegex { bytes, matcher })
}

fn too_big() -> Refusal {
    Refusal {
        message: format!(
            "this regex compiles to more than {} ({MAX_REGEX_BYTES} bytes), the limit for one regex",
            human(MAX_REGEX_BYTES)
        ),
        help: Some(
            "origins are ASCII (Unicode hosts are matched as punycode): write `[a-z0-9_]` rather than `\\w`, and repeat less (`{1,63}` of a class multiplies its size)"
                .to_owned(),
        ),
    }
}

fn too_many() -> Refusal {
    Refusal {
        message: format!(
            "the regexes of this file compile to more than {} ({MAX_REGEXES_BYTES} bytes) in all, the limit for one file",
            human(MAX_REGEXES_BYTES)
        ),
        help: Some("merge regexes, or list exact origins (they cost no regex)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_regexes_compile_small_and_match_whole_origins() {
        let r = check(r"^https://pr-[0-9]+\.example\.com$", 0).ok().unwrap();
        assert!(r.bytes < 16 << 10, "{}", r.bytes);
        assert!(r.is_match("https://pr-12.example.com"));
        assert!(!r.is_match("https://pr-12.example.com.evil.net"));
        // Unanchored as written, matched whole all the same.
        let r = check(r"https://a\.com", 0).ok().unwrap();
        assert!(!r.is_match("https://a.com.evil.net"));
    }

    #[test]
    fn huge_regexes_are_refused_with_the_limit() {
        let e = check(r"^https://(?:\w{100}){100}$", 0).err().unwrap();
        assert!(
            e.message.contains("more than 1 MiB (1048576 bytes)"),
            "{}",
            e.message
        );
        assert!(e.help.unwrap().contains("rather than `\\w`"));
    }

    #[test]
    fn the_file_budget_is_shared() {
        let e = check(r"^https://[\w-]+\.example\.com$", MAX_REGEXES_BYTES - 100)
            .err()
            .unwrap();
        assert!(
            e.message.contains("in all, the limit for one file"),
            "{}",
            e.message
        );
    }

    #[test]
    fn syntax_errors_say_what_is_wrong() {
        let e = check("^https://(a$", 0).err().unwrap();
        assert_eq!(e.message, "invalid regex: unclosed group");
    }
}
