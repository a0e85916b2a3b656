//! The engine's integration tests, through its public API only: one test binary, one module
//! per topic.

mod decisions;
mod policy_files;
mod properties;
mod store;
mod tables;
