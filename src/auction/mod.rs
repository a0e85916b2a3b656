//! The auction domain: salary-cap auction rules as pure functions, with no database, clock or
//! transport in sight. A command is *decided* against the current state (accepted as events,
//! or refused with a reason); events are *applied* to evolve the state. Replaying the events
//! reproduces the state.
//!
//! ```
//! use gavel::auction::{Auction, Command, Settings};
//!
//! let settings = Settings { budget: 200, roster_slots: 2, ..Settings::default() };
//! let players = [("Mahomes", 1), ("Allen", 2), ("Hurts", 3), ("Lamar", 4)];
//! let mut a = Auction::new(settings, &["Ann", "Bob"], &players);
//! a.handle(Command::Start, 0).unwrap();
//! a.handle(Command::Nominate { team: 0, player: 2, opening_bid: 5 }, 1_000).unwrap();
//! a.handle(Command::Bid { team: 1, lot: 1, amount: 6, expected_version: Some(1) }, 2_000).unwrap();
//! let events = a.handle(Command::CloseLot, 100_000).unwrap();
//! assert_eq!(a.teams[1].budget_left, 194);
//! assert!(a.check_invariants().is_ok());
//! # let _ = events;
//! ```

mod client_id;
pub mod deadlines;
pub mod history;
pub mod house;
mod rules;
pub mod service;

pub use client_id::{ClientId, ClientIdError};
pub use rules::{
    Auction, Command, Event, Lot, Millis, Phase, Player, PlayerId, Rejection, Sale, Settings, Team,
    TeamId,
};
