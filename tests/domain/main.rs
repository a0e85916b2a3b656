//! The auction domain in process: the rules as pure functions (property tests), the store
//! over a real database (SQLite file, the machine's PostgreSQL), deadlines.

#[path = "../common/mod.rs"]
mod common;

mod auction_deadlines;
mod auction_rules;
mod auction_service;
