//! The server, black-box: in process on a random port (reqwest, raw Engine.IO) and as the real
//! `gavel` binary (CLI, limits, abuse), on fresh SQLite files and PostgreSQL databases.

#[path = "../common/mod.rs"]
mod common;

mod admin_reload;
mod auction_api;
mod auth_abuse;
mod binary;
mod cli;
mod commands_abuse;
mod deploy;
mod http_gate;
mod limits;
mod login;
mod policy_bounds;
mod room_setup;
mod scale_out;
mod socketio_raw;
