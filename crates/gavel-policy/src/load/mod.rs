//! Loading a policy file in three phases: [`parse`] (bytes to the schema, every unknown key
//! reported), [`validate`] (every value checked, each error with `file:line:col` and, where it
//! can be told, what was meant) and [`compile`] (rule sets, shadowed-rule warnings, the policy);
//! then its `[[expect]]` guard rails run.
//!
//! Each phase reports into one [`Diagnostics`] and the next runs only when there is no error
//! yet, so that a file's errors are reported together, and a file refused for its size or its
//! counts is never compiled.

mod compile;
mod parse;
mod validate;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::diagnostics::Diagnostics;
use crate::limits;
use crate::policy::{Policy, PolicyError, PolicySource};

/// The content hash policies are versioned by.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The errors collected so far, as a refusal.
fn refused(d: Diagnostics<'_>) -> PolicyError {
    PolicyError::new(d.items)
}

/// Loads a policy from the bytes of the file at `path` (used in messages and kept as its
/// source).
pub(crate) fn load(path: &Path, bytes: &[u8]) -> Result<Policy, PolicyError> {
    limits::check_file_size(path, bytes.len() as u64)?;
    let text = parse::text(path, bytes)?;
    let mut d = Diagnostics::new(path, text);
    let Some(raw) = parse::parse(text, &mut d) else {
        return Err(refused(d));
    };
    let valid = validate::validate(&raw, &mut d);
    if d.has_errors() {
        return Err(refused(d));
    }
    let source = PolicySource {
        path: path.to_path_buf(),
        sha256: sha256_hex(bytes),
    };
    let Some(mut policy) = compile::compile(source, valid, &mut d) else {
        return Err(refused(d));
    };
    policy.set_counter(0);
    let mut failures = policy.check_expectations();
    if !failures.is_empty() {
        // The warnings may say why (a shadowed rule), so they come along.
        failures.extend(d.items);
        return Err(PolicyError::new(failures));
    }
    policy.diagnostics = d.items;
    Ok(policy)
}
