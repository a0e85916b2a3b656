//! The Socket.IO contract: every event on the `/auction` namespace, in both directions, with
//! its payload and its ack, as Rust types (serde). The server sends and parses only these
//! types; the TypeScript types (`openapi/client/events.ts`, by ts-rs) and the AsyncAPI 3.0
//! document (`openapi/asyncapi.json`, by schemars) are generated from them, committed, and
//! drift-tested. `gavel contract` writes both. See docs/contract.md.
//!
//! * [`commands`]: client → server events and their acks.
//! * [`events`]: server → client events, among them [`AuctionEvent`], the events that advance
//!   an auction's `seq`, which REST's `GET …/events` replays under the same names.
//! * [`state`]: the state snapshot (`auction:snapshot`, `GET …/state`).

pub mod asyncapi;
pub mod catalog;
pub mod commands;
pub mod events;
pub mod state;
pub mod typescript;

use std::path::Path;

pub use commands::{
    Acknowledged, AuthRefreshAck, AuthRefreshRequest, BidRequest, ChatDeleteAck, ChatDeleteRequest,
    ChatSendAck, ChatSendRequest, ChatSent, Command, CommandAck, Done, ErrorBody, JoinAck,
    JoinRequest, Joined, NominateRequest, Refreshed, Refusal, TimeSyncAck, TimeSyncRequest,
    TimeSynced, True,
};
pub use events::{
    AuctionEvent, AuctionSnapshot, AuthExpired, BidRejected, ChatDeleted, ChatHistory, ChatMessage,
    PolicyRevoked, Presence, ServerEvent, Stamp, Stamped, TeamUpdated,
};
pub use state::AuctionState;

/// Writes the generated files under `root` (the repository's root), creating their folders.
pub fn write(root: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let files = [
        (typescript::PATH, typescript::generate()),
        (asyncapi::PATH, asyncapi::generate()),
    ];
    let mut written = Vec::new();
    for (path, text) in files {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}
