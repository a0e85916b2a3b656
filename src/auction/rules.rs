//! The rules: the state of one auction and what can be asked of it. Time is absolute server
//! milliseconds; deadlines are instants (`ends_at`), never counted ticks.
//!
//! A command is decided (`decide.rs`, one method per command) into events or a rejection;
//! events are applied (`apply.rs`, one method per event); `invariants.rs` states what holds
//! after every event.

mod apply;
mod decide;
mod invariants;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use super::ids::{PlayerId, TeamId};
pub use crate::clock::Millis;

/// How an auction is played.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionSettings {
    /// Budget per team.
    pub budget: u32,
    pub roster_slots: u32,
    pub min_bid: u32,
    /// A bid must beat the high bid by at least this much.
    pub increment: u32,
    /// Time a nominator has before a player is nominated for them.
    pub nomination_ms: Millis,
    /// Time a lot runs after it opens.
    pub bid_ms: Millis,
    /// A bid with less than this left sets the clock to this (the reset rule).
    pub reset_ms: Millis,
}

impl Default for AuctionSettings {
    fn default() -> Self {
        Self {
            budget: 200,
            roster_slots: 3,
            min_bid: 1,
            increment: 1,
            nomination_ms: 30_000,
            bid_ms: 20_000,
            reset_ms: 10_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub name: String,
    pub budget_left: u32,
    /// Players won, with the price paid.
    pub roster: Vec<(PlayerId, u32)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Player {
    pub name: String,
    /// 1 is the best; automatic nominations take the best available.
    pub rank: u32,
    /// Free-form (`QB`, `WR/TE`, …); the rules do not read it. Absent in state stored before
    /// it existed.
    #[serde(default)]
    pub position: Option<String>,
    /// Free-form: the player's real-world team and bye week (`KC (10)`); the rules do not read
    /// it.
    #[serde(default)]
    pub team_bye: Option<String>,
}

impl Player {
    /// A player with a name and a rank only.
    pub fn new(name: impl Into<String>, rank: u32) -> Self {
        Self {
            name: name.into(),
            rank,
            position: None,
            team_bye: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    pub id: u64,
    pub player: PlayerId,
    pub nominator: TeamId,
    pub high_bid: u32,
    pub high_team: TeamId,
    pub ends_at: Millis,
    /// Starts at 1 and grows with every accepted bid; a bid naming an older one is stale.
    pub version: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Lobby,
    Nominating {
        nominator: TeamId,
        deadline: Millis,
    },
    Bidding(Lot),
    /// Clocks frozen with the time that was left.
    Paused {
        was: Box<Phase>,
        remaining: Millis,
    },
    Completed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub lot: u64,
    pub player: PlayerId,
    pub team: TeamId,
    pub price: u32,
    pub voided: bool,
}

/// What can be asked of an auction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Add players to the pool (in the lobby only).
    AddPlayers {
        players: Vec<Player>,
    },
    /// Change how the auction is played (in the lobby only; budgets reset to the new one).
    ChangeSettings {
        settings: AuctionSettings,
    },
    Start,
    Nominate {
        team: TeamId,
        player: PlayerId,
        opening_bid: u32,
    },
    Bid {
        team: TeamId,
        lot: u64,
        amount: u32,
        expected_version: Option<u32>,
    },
    /// Close the open lot once its deadline passed (the timer's job; any node may try).
    CloseLot,
    /// Nominate for a nominator whose clock ran out (the best-ranked player, at the minimum).
    NominationTimeout,
    Pause,
    Resume,
    /// Undo one sale: refund, player back in the pool; later sales stand.
    VoidSale {
        player: PlayerId,
    },
    /// Change one sale's price.
    EditSale {
        player: PlayerId,
        price: u32,
    },
    /// The commissioner ends the auction (an open lot is abandoned).
    Complete,
}

/// What happened. Applying the events of an auction in order reproduces its state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    PlayersAdded {
        players: Vec<Player>,
    },
    SettingsChanged {
        settings: AuctionSettings,
    },
    NominationOpened {
        nominator: TeamId,
        deadline: Millis,
    },
    LotOpened {
        lot: Lot,
    },
    BidAccepted {
        lot: u64,
        team: TeamId,
        amount: u32,
        ends_at: Millis,
        version: u32,
    },
    LotSold {
        lot: u64,
        player: PlayerId,
        team: TeamId,
        price: u32,
    },
    LotAbandoned {
        lot: u64,
    },
    Paused {
        remaining: Millis,
    },
    Resumed {
        deadline: Millis,
    },
    SaleVoided {
        player: PlayerId,
        team: TeamId,
        refund: u32,
    },
    SaleEdited {
        player: PlayerId,
        team: TeamId,
        old_price: u32,
        new_price: u32,
    },
    Completed,
}

/// Why a command was refused. `kind()` is the stable `type` clients see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Rejection {
    #[error("a bid must be at least {minimum}")]
    Outbid { minimum: u32 },
    #[error("the most this team can bid is {max}")]
    OverMaxBid { max: u32 },
    #[error("the lot is closed")]
    LotClosed,
    #[error("the bid was for lot version {expected}; the lot is at {current}")]
    Stale { expected: u32, current: u32 },
    #[error("it is not this team's turn")]
    NotYourTurn,
    #[error("the team already holds the high bid")]
    AlreadyHighBidder,
    #[error("the team's roster is full")]
    RosterFull,
    #[error("the player is not in the pool")]
    PlayerUnavailable,
    #[error("the opening bid must be at least {minimum}")]
    BelowMinimum { minimum: u32 },
    #[error("not now: the auction is {phase}")]
    WrongPhase { phase: String },
    #[error("the deadline has not passed yet")]
    NotYetDue,
    #[error("no such team")]
    UnknownTeam,
    #[error("no such sale")]
    UnknownSale,
    #[error("the pool has fewer players than the rosters have open slots; import more")]
    PoolTooSmall,
}

impl Rejection {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Outbid { .. } => "outbid",
            Self::OverMaxBid { .. } => "over_max_bid",
            Self::PoolTooSmall => "pool_too_small",
            Self::LotClosed => "lot_closed",
            Self::Stale { .. } => "stale",
            Self::NotYourTurn => "not_your_turn",
            Self::AlreadyHighBidder => "already_high_bidder",
            Self::RosterFull => "roster_full",
            Self::PlayerUnavailable => "player_unavailable",
            Self::BelowMinimum { .. } => "below_minimum",
            Self::WrongPhase { .. } => "wrong_phase",
            Self::NotYetDue => "not_yet_due",
            Self::UnknownTeam => "unknown_team",
            Self::UnknownSale => "unknown_sale",
        }
    }
}

/// One auction's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auction {
    pub settings: AuctionSettings,
    /// In nomination order.
    pub teams: Vec<Team>,
    pub players: Vec<Player>,
    /// Players still to be sold.
    pub pool: BTreeSet<PlayerId>,
    pub phase: Phase,
    pub sales: Vec<Sale>,
    pub last_lot: u64,
}

/// How a rejection names the phase (`not now: the auction is …`).
fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Lobby => "in the lobby",
        Phase::Nominating { .. } => "nominating",
        Phase::Bidding(_) => "bidding",
        Phase::Paused { .. } => "paused",
        Phase::Completed => "completed",
    }
}

impl Auction {
    pub fn new(settings: AuctionSettings, teams: &[&str], players: &[(&str, u32)]) -> Self {
        let players = players
            .iter()
            .map(|(name, rank)| Player::new(*name, *rank))
            .collect();
        Self::with_players(settings, teams, players)
    }

    /// An auction in the lobby with these teams and players (in this order).
    pub fn with_players(settings: AuctionSettings, teams: &[&str], players: Vec<Player>) -> Self {
        Self {
            teams: teams
                .iter()
                .map(|name| Team {
                    name: (*name).to_owned(),
                    budget_left: settings.budget,
                    roster: Vec::new(),
                })
                .collect(),
            pool: (0..players.len()).map(PlayerId).collect(),
            players,
            phase: Phase::Lobby,
            sales: Vec::new(),
            last_lot: 0,
            settings,
        }
    }

    /// The team `id` (which must exist).
    pub fn team(&self, id: TeamId) -> &Team {
        &self.teams[id.index()]
    }

    /// The player `id` (which must exist).
    pub fn player(&self, id: PlayerId) -> &Player {
        &self.players[id.index()]
    }

    /// Every team's id, in nomination order.
    pub fn team_ids(&self) -> impl Iterator<Item = TeamId> + use<> {
        (0..self.teams.len()).map(TeamId)
    }

    pub fn open_slots(&self, team: TeamId) -> u32 {
        self.settings.roster_slots - self.team(team).roster.len() as u32
    }

    /// `budget_left − min_bid × (open_slots − 1)`: what a team can bid and still fill every
    /// other slot at the minimum. `None` when its roster is full.
    pub fn max_bid(&self, team: TeamId) -> Option<u32> {
        let open = self.open_slots(team);
        if open == 0 {
            return None;
        }
        let reserve = self.settings.min_bid * (open - 1);
        Some(self.team(team).budget_left.saturating_sub(reserve))
    }

    /// Decides and applies a command; the events it produced.
    pub fn handle(&mut self, command: Command, now: Millis) -> Result<Vec<Event>, Rejection> {
        let events = self.decide(&command, now)?;
        for e in &events {
            self.apply(e);
        }
        Ok(events)
    }

    /// The open lot, also while paused.
    fn open_lot(&self) -> Option<&Lot> {
        match &self.phase {
            Phase::Bidding(lot) => Some(lot),
            Phase::Paused { was, .. } => match was.as_ref() {
                Phase::Bidding(lot) => Some(lot),
                _ => None,
            },
            _ => None,
        }
    }

    /// The sale of `player` that stands (the latest not voided).
    fn live_sale(&self, player: PlayerId) -> Option<&Sale> {
        self.sales
            .iter()
            .rev()
            .find(|s| s.player == player && !s.voided)
    }
}
