//! Phase one: the file's bytes to the policy schema.

use std::path::Path;

use serde::Deserialize;
use toml::de::DeTable;

use crate::diagnostics::Diagnostics;
use crate::policy::PolicyError;
use crate::schema::RawPolicy;
use crate::{keys, limits};

/// The file as text; not UTF-8 is an error at the first invalid byte.
pub(super) fn text<'b>(path: &Path, bytes: &'b [u8]) -> Result<&'b str, PolicyError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
        let mut d = Diagnostics::new(path, valid);
        d.error(&(valid.len()..valid.len()), "the file is not valid UTF-8");
        PolicyError::new(d.items)
    })
}

/// Parses the document, reports every unknown key at once, reads it into the schema and
/// checks its counts. `None` when any of it found an error.
pub(super) fn parse(source: &str, d: &mut Diagnostics) -> Option<RawPolicy> {
    let doc = match DeTable::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            d.error(&e.span().unwrap_or(0..0), e.message().trim().to_owned());
            return None;
        }
    };
    keys::check_policy_keys(doc.get_ref(), d);
    if d.has_errors() {
        return None;
    }
    let raw = match RawPolicy::deserialize(toml::de::Deserializer::from(doc)) {
        Ok(raw) => raw,
        Err(e) => {
            d.error(&e.span().unwrap_or(0..0), e.message().trim().to_owned());
            return None;
        }
    };
    // Counts before any rule is validated: a file of 50,000 rules is refused for its count.
    limits::check_counts(&raw, d);
    (!d.has_errors()).then_some(raw)
}
