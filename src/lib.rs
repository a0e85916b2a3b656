//! Gavel: live auction rooms behind one explainable origin policy.
//!
//! The origin policy engine is its own crate, `gavel_policy`, which knows nothing of HTTP
//! frameworks (other servers embed it the same way); the
//! [`gate`] applies its one decision to poem routes and the Socket.IO endpoint; [`startup`]
//! builds the server from [`config`].

pub mod api;
pub mod auction;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod contract;
pub mod db;
pub mod gate;
pub mod login;
pub mod realtime;
pub mod reload;
pub mod startup;
pub mod telemetry;
