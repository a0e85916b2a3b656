//! Gavel: live auction rooms behind one explainable origin policy.
//!
//! The library holds the origin [`policy`] engine (usable on its own by other servers) and the
//! [`cli`] behind the `gavel` binary.

pub mod cli;
pub mod policy;
