//! The state snapshot: one auction as `auction:snapshot` and `GET …/state` show it. These are
//! the wire forms of the domain types in [`crate::auction`] (ids at REST's width), converted
//! from them in [`AuctionState::from`]; the JSON is the one the domain types always produced.
//!
//! Besides serde, TypeScript and JSON Schema, they describe themselves to poem-openapi, so the
//! OpenAPI document types `GET …/state`. Three shapes poem-openapi cannot derive are described
//! by hand in `openapi`: a phase (a string, or an object keyed by the phase's name), a roster
//! spot (a `[player, price]` pair) and a player (whose optional fields are `null`, never
//! missing).

mod openapi;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::auction;

/// How the auction is played.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct Settings {
    /// Budget per team.
    pub budget: u32,
    /// Players per team.
    pub roster_slots: u32,
    pub min_bid: u32,
    /// A bid must beat the high bid by at least this much.
    pub increment: u32,
    /// Time a nominator has before a player is nominated for them (ms).
    pub nomination_ms: u64,
    /// Time a lot runs after it opens (ms).
    pub bid_ms: u64,
    /// A bid with less than this left sets the clock to this (ms).
    pub reset_ms: u64,
}

/// A team: its budget left and the players it won.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct Team {
    pub name: String,
    pub budget_left: u32,
    /// Players won, with the price paid.
    pub roster: Vec<RosterSpot>,
}

/// A player won and the price paid: `[player, price]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
pub struct RosterSpot(pub u32, pub u32);

/// A player of the auction's pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Player {
    pub name: String,
    /// 1 is the best; automatic nominations take the best available.
    pub rank: u32,
    /// Free-form, 1 to 10 characters (`QB`, `WR/TE`); `null` when not given.
    #[serde(default)]
    pub position: Option<String>,
    /// Free-form, 1 to 40 characters: the player's team and bye week (`KC (10)`); `null` when
    /// not given.
    #[serde(default)]
    pub team_bye: Option<String>,
}

/// The lot being bid on.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct Lot {
    /// Lots are numbered 1, 2, … as they open.
    pub id: u64,
    /// The player's index in `players`.
    pub player: u32,
    pub nominator: u32,
    pub high_bid: u32,
    pub high_team: u32,
    /// When the lot closes unless a bid moves it (server ms since the Unix epoch).
    pub ends_at: u64,
    /// Starts at 1 and grows with every accepted bid; a bid naming an older one is stale.
    pub version: u32,
}

/// Where the auction is: `"Lobby"`, `"Completed"`, or an object keyed by the phase's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
pub enum Phase {
    Lobby,
    Nominating {
        nominator: u32,
        /// When a player is nominated for the nominator (server ms).
        deadline: u64,
    },
    Bidding(Lot),
    /// Clocks frozen with the time that was left.
    Paused {
        was: Box<Phase>,
        /// The time that was left (ms).
        remaining: u64,
    },
    Completed,
}

/// One sale, kept (as `voided`) when the commissioner undoes it.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct Sale {
    pub lot: u64,
    pub player: u32,
    pub team: u32,
    pub price: u32,
    pub voided: bool,
}

/// One auction's state: settings, teams (budget left, roster), the players, the pool still to
/// be sold, the phase (the open lot with its `ends_at` and `version`) and the sales.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct AuctionState {
    pub settings: Settings,
    /// In nomination order.
    pub teams: Vec<Team>,
    pub players: Vec<Player>,
    /// Players still to be sold (indexes into `players`, ascending).
    pub pool: Vec<u32>,
    pub phase: Phase,
    pub sales: Vec<Sale>,
    /// The id of the last lot opened (0 before the first).
    pub last_lot: u64,
}

/// A team or player index at REST's width (teams and players are bounded far below it).
pub(crate) fn id(index: impl Position) -> u32 {
    u32::try_from(index.position()).expect("team and player indexes fit in u32")
}

/// A team's or a player's position in its auction's list.
pub(crate) trait Position {
    fn position(self) -> usize;
}

impl Position for usize {
    fn position(self) -> usize {
        self
    }
}

impl Position for auction::TeamId {
    fn position(self) -> usize {
        self.index()
    }
}

impl Position for auction::PlayerId {
    fn position(self) -> usize {
        self.index()
    }
}

impl From<&auction::AuctionSettings> for Settings {
    fn from(s: &auction::AuctionSettings) -> Self {
        Self {
            budget: s.budget,
            roster_slots: s.roster_slots,
            min_bid: s.min_bid,
            increment: s.increment,
            nomination_ms: s.nomination_ms,
            bid_ms: s.bid_ms,
            reset_ms: s.reset_ms,
        }
    }
}

impl From<&auction::Team> for Team {
    fn from(t: &auction::Team) -> Self {
        Self {
            name: t.name.clone(),
            budget_left: t.budget_left,
            roster: roster(&t.roster),
        }
    }
}

/// A domain roster as `[player, price]` pairs.
pub(crate) fn roster(spots: &[(auction::PlayerId, u32)]) -> Vec<RosterSpot> {
    spots
        .iter()
        .map(|&(player, price)| RosterSpot(id(player), price))
        .collect()
}

impl From<&auction::Player> for Player {
    fn from(p: &auction::Player) -> Self {
        Self {
            name: p.name.clone(),
            rank: p.rank,
            position: p.position.clone(),
            team_bye: p.team_bye.clone(),
        }
    }
}

impl From<&auction::Lot> for Lot {
    fn from(l: &auction::Lot) -> Self {
        Self {
            id: l.id,
            player: id(l.player),
            nominator: id(l.nominator),
            high_bid: l.high_bid,
            high_team: id(l.high_team),
            ends_at: l.ends_at,
            version: l.version,
        }
    }
}

impl From<&auction::Phase> for Phase {
    fn from(p: &auction::Phase) -> Self {
        match p {
            auction::Phase::Lobby => Self::Lobby,
            auction::Phase::Nominating {
                nominator,
                deadline,
            } => Self::Nominating {
                nominator: id(*nominator),
                deadline: *deadline,
            },
            auction::Phase::Bidding(lot) => Self::Bidding(lot.into()),
            auction::Phase::Paused { was, remaining } => Self::Paused {
                was: Box::new(was.as_ref().into()),
                remaining: *remaining,
            },
            auction::Phase::Completed => Self::Completed,
        }
    }
}

impl From<&auction::Sale> for Sale {
    fn from(s: &auction::Sale) -> Self {
        Self {
            lot: s.lot,
            player: id(s.player),
            team: id(s.team),
            price: s.price,
            voided: s.voided,
        }
    }
}

impl From<&auction::Auction> for AuctionState {
    fn from(a: &auction::Auction) -> Self {
        Self {
            settings: (&a.settings).into(),
            teams: a.teams.iter().map(Team::from).collect(),
            players: a.players.iter().map(Player::from).collect(),
            pool: a.pool.iter().map(|&p| id(p)).collect(),
            phase: (&a.phase).into(),
            sales: a.sales.iter().map(Sale::from).collect(),
            last_lot: a.last_lot,
        }
    }
}

// Back to the domain: what a Rust client that replays events (`GET …/events`) applies.

impl From<&Settings> for auction::AuctionSettings {
    fn from(s: &Settings) -> Self {
        Self {
            budget: s.budget,
            roster_slots: s.roster_slots,
            min_bid: s.min_bid,
            increment: s.increment,
            nomination_ms: s.nomination_ms,
            bid_ms: s.bid_ms,
            reset_ms: s.reset_ms,
        }
    }
}

impl From<&Player> for auction::Player {
    fn from(p: &Player) -> Self {
        Self {
            name: p.name.clone(),
            rank: p.rank,
            position: p.position.clone(),
            team_bye: p.team_bye.clone(),
        }
    }
}

impl From<&Lot> for auction::Lot {
    fn from(l: &Lot) -> Self {
        Self {
            id: l.id,
            player: auction::PlayerId(l.player as usize),
            nominator: auction::TeamId(l.nominator as usize),
            high_bid: l.high_bid,
            high_team: auction::TeamId(l.high_team as usize),
            ends_at: l.ends_at,
            version: l.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auction::{Auction, Command, PlayerId, TeamId};

    /// An auction with a sale made and a paused lot open: every shape of the state.
    fn busy_auction() -> Auction {
        let settings = auction::AuctionSettings {
            budget: 200,
            roster_slots: 2,
            ..auction::AuctionSettings::default()
        };
        let players = [("Mahomes", 1), ("Allen", 2), ("Hurts", 3), ("Lamar", 4)];
        let mut a = Auction::new(settings, &["Ann", "Bob"], &players);
        a.players[0].position = Some("QB".into());
        a.players[0].team_bye = Some("KC (6)".into());
        a.handle(Command::Start, 0).unwrap();
        let nominate = |team, player| Command::Nominate {
            team,
            player,
            opening_bid: 5,
        };
        a.handle(nominate(TeamId(0), PlayerId(2)), 1_000).unwrap();
        a.handle(Command::CloseLot, 100_000).unwrap();
        a.handle(nominate(TeamId(1), PlayerId(0)), 101_000).unwrap();
        a.handle(Command::Pause, 102_000).unwrap();
        a
    }

    /// The wire form serializes exactly as the domain state always has, so clients see no
    /// change.
    #[test]
    fn the_wire_state_is_the_domain_states_json() {
        let a = busy_auction();
        assert!(matches!(a.phase, auction::Phase::Paused { .. }));
        assert!(!a.sales.is_empty());
        let wire = serde_json::to_value(AuctionState::from(&a)).unwrap();
        assert_eq!(wire, serde_json::to_value(&a).unwrap());
    }

    /// State and events stored before players had a position and a team/bye field read back,
    /// with neither.
    #[test]
    fn players_stored_without_the_new_fields_read_back() {
        let mut stored = serde_json::to_value(Auction::new(
            auction::AuctionSettings::default(),
            &["Ann", "Bob"],
            &[("Allen", 1)],
        ))
        .unwrap();
        let player = stored["players"][0].as_object_mut().unwrap();
        player.remove("position");
        player.remove("team_bye");
        let read: Auction = serde_json::from_value(stored).unwrap();
        assert_eq!(read.players, [auction::Player::new("Allen", 1)]);
        let event: auction::Event = serde_json::from_value(serde_json::json!(
            {"kind": "players_added", "players": [{"name": "Kelce", "rank": 2}]}
        ))
        .unwrap();
        assert_eq!(
            event,
            auction::Event::PlayersAdded {
                players: vec![auction::Player::new("Kelce", 2)]
            }
        );
    }

    /// poem-openapi writes the REST answer with its own serializer: it must agree with serde's.
    #[test]
    fn poem_and_serde_write_the_same_json() {
        use poem_openapi::types::{ParseFromJSON, ToJSON};
        let state = AuctionState::from(&busy_auction());
        let by_poem = state.to_json().unwrap();
        assert_eq!(by_poem, serde_json::to_value(&state).unwrap());
        let parsed = AuctionState::parse_from_json(Some(by_poem)).ok().unwrap();
        assert_eq!(parsed, state);
    }
}
