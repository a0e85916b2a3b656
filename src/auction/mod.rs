//! The auction domain: salary-cap auction rules as pure functions, with no database, clock or
//! transport in sight. A command is *decided* against the current state (accepted as events,
//! or refused with a reason); events are *applied* to evolve the state. Replaying the events
//! reproduces the state.
//!
//! Around the rules: the [`store`] runs them in database transactions, [`requests`] decides
//! who may ask what and reads the time from the server's clock, [`deadlines`] acts when a
//! clock runs out, and [`history`] pages through a lot's bids.
//!
//! ```
//! use gavel::auction::{Auction, AuctionSettings, Command, PlayerId, TeamId};
//!
//! let settings = AuctionSettings { budget: 200, roster_slots: 2, ..AuctionSettings::default() };
//! let players = [("Mahomes", 1), ("Allen", 2), ("Hurts", 3), ("Lamar", 4)];
//! let mut a = Auction::new(settings, &["Ann", "Bob"], &players);
//! a.handle(Command::Start, 0).unwrap();
//! a.handle(Command::Nominate { team: TeamId(0), player: PlayerId(2), opening_bid: 5 }, 1_000).unwrap();
//! a.handle(Command::Bid { team: TeamId(1), lot: 1, amount: 6, expected_version: Some(1) }, 2_000).unwrap();
//! let events = a.handle(Command::CloseLot, 100_000).unwrap();
//! assert_eq!(a.team(TeamId(1)).budget_left, 194);
//! assert!(a.check_invariants().is_ok());
//! # let _ = events;
//! ```

mod client_id;
pub mod deadlines;
pub mod history;
mod ids;
pub mod names;
pub mod requests;
mod rules;
pub mod store;

pub use client_id::{ClientId, ClientIdError};
pub use ids::{PlayerId, TeamId};
pub use rules::{
    Auction, AuctionSettings, Command, Event, Lot, Millis, Phase, Player, Rejection, Sale, Team,
};
