//! Real third-party clients against a real server: the official `socket.io-client` (Node),
//! `python-socketio`, headless Chromium on the page, schemathesis on the OpenAPI document.

#[path = "../common/mod.rs"]
mod common;

mod auction_realtime;
mod browser;
mod node_client;
mod python_client;
mod room_chat;
mod schemathesis;
mod web;
