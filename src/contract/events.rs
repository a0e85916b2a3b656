//! Server → client events on `/auction`. Every message the server sends is a [`ServerEvent`];
//! its name comes from its type, so a message cannot go out under another name.
//!
//! The events that advance an auction's `seq` are one enum, [`AuctionEvent`], tagged by `kind`
//! with the event's name. Sent live they are [`Stamped`] (`auction_id`, `seq`, `server_now`);
//! replayed over REST (`GET …/events`) they are the same enum beside their `seq`, under the same
//! names.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, Serializer};
use ts_rs::TS;

use super::commands::ErrorBody;
use super::state::{self, AuctionState, Lot, Player, RosterSpot, Settings};
use crate::auction;
use crate::auction::requests::MemberRole;

/// A server → client message with a name of its own.
pub trait Message: Serialize + TS + JsonSchema + 'static {
    /// The Socket.IO event name.
    const NAME: &'static str;
    /// Whether it is sent [`Stamped`].
    const STAMPED: bool;
}

/// What every message about an auction's `seq` carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
pub struct Stamp {
    pub auction_id: i64,
    /// The auction's `seq` after this event (a client ignores anything at or below the last it
    /// applied, and resyncs on a gap).
    pub seq: i64,
    /// The server clock, ms since the Unix epoch.
    pub server_now: u64,
}

/// A message with its [`Stamp`]: the stamp's fields beside the message's own.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stamped<T> {
    #[serde(flatten)]
    pub stamp: Stamp,
    #[serde(flatten)]
    pub body: T,
}

/// Declares [`AuctionEvent`]: one variant per event that advances `seq`, named once, with its
/// payload type of the same name.
macro_rules! auction_events {
    ($($name:tt => $variant:ident,)*) => {
        /// An event that advanced an auction's `seq`, tagged by `kind` with its Socket.IO name.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Union)]
        #[serde(tag = "kind")]
        #[oai(discriminator_name = "kind", one_of)]
        pub enum AuctionEvent {
            $(
                #[serde(rename = $name)]
                #[oai(mapping = $name)]
                $variant($variant),
            )*
        }

        impl AuctionEvent {
            /// Every name, in the order declared.
            pub const NAMES: &[&str] = &[$($name),*];

            /// The Socket.IO event name (and `kind`).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $name,)*
                }
            }

            /// Each event's name and its payload type, for the generated documents.
            pub(crate) fn catalog() -> Vec<(&'static str, super::catalog::Shape)> {
                vec![$(($name, super::catalog::Shape::of::<$variant>()),)*]
            }
        }
    };
}

auction_events! {
    "pool:updated" => PoolUpdated,
    "auction:settings" => SettingsChanged,
    "nomination:opened" => NominationOpened,
    "lot:opened" => LotOpened,
    "bid:accepted" => BidAccepted,
    "lot:sold" => LotSold,
    "lot:abandoned" => LotAbandoned,
    "auction:paused" => AuctionPaused,
    "auction:resumed" => AuctionResumed,
    "sale:voided" => SaleVoided,
    "sale:edited" => SaleEdited,
    "auction:completed" => AuctionCompleted,
}

/// Players were added to the pool (in the lobby).
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct PoolUpdated {
    pub players: Vec<Player>,
}

/// The settings changed (in the lobby); budgets reset to the new one.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct SettingsChanged {
    pub settings: Settings,
}

/// A team's turn to nominate began.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct NominationOpened {
    pub nominator: u32,
    /// When a player is nominated for the nominator (server ms).
    pub deadline: u64,
}

/// A lot opened at its opening bid.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct LotOpened {
    pub lot: Lot,
}

/// A bid became the high bid: the lot's new deadline and version.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct BidAccepted {
    pub lot: u64,
    pub team: u32,
    pub amount: u32,
    /// The lot's new deadline (server ms).
    pub ends_at: u64,
    /// The lot's new version.
    pub version: u32,
}

/// A lot closed with a sale (`team:updated` follows).
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct LotSold {
    pub lot: u64,
    pub player: u32,
    pub team: u32,
    pub price: u32,
}

/// A lot closed without a sale (the auction was completed while it was open).
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct LotAbandoned {
    pub lot: u64,
}

/// The clocks froze (the commissioner paused the auction).
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct AuctionPaused {
    /// The time that was left (ms).
    pub remaining: u64,
}

/// The clocks run again, with the time that was left.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct AuctionResumed {
    /// The running clock's new deadline (server ms).
    pub deadline: u64,
}

/// A sale was undone: the player is back in the pool, the team refunded (`team:updated` follows).
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct SaleVoided {
    pub player: u32,
    pub team: u32,
    pub refund: u32,
}

/// A sale's price changed (`team:updated` follows).
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct SaleEdited {
    pub player: u32,
    pub team: u32,
    pub old_price: u32,
    pub new_price: u32,
}

/// The auction is over.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema, poem_openapi::Object,
)]
pub struct AuctionCompleted {}

impl From<&auction::Event> for AuctionEvent {
    fn from(e: &auction::Event) -> Self {
        use auction::Event as E;
        use state::id;
        match e {
            E::PlayersAdded { players } => Self::PoolUpdated(PoolUpdated {
                players: players.iter().map(Player::from).collect(),
            }),
            E::SettingsChanged { settings } => Self::SettingsChanged(SettingsChanged {
                settings: settings.into(),
            }),
            E::NominationOpened {
                nominator,
                deadline,
            } => Self::NominationOpened(NominationOpened {
                nominator: id(*nominator),
                deadline: *deadline,
            }),
            E::LotOpened { lot } => Self::LotOpened(LotOpened { lot: lot.into() }),
            E::BidAccepted {
                lot,
                team,
                amount,
                ends_at,
                version,
            } => Self::BidAccepted(BidAccepted {
                lot: *lot,
                team: id(*team),
                amount: *amount,
                ends_at: *ends_at,
                version: *version,
            }),
            E::LotSold {
                lot,
                player,
                team,
                price,
            } => Self::LotSold(LotSold {
                lot: *lot,
                player: id(*player),
                team: id(*team),
                price: *price,
            }),
            E::LotAbandoned { lot } => Self::LotAbandoned(LotAbandoned { lot: *lot }),
            E::Paused { remaining } => Self::AuctionPaused(AuctionPaused {
                remaining: *remaining,
            }),
            E::Resumed { deadline } => Self::AuctionResumed(AuctionResumed {
                deadline: *deadline,
            }),
            E::SaleVoided {
                player,
                team,
                refund,
            } => Self::SaleVoided(SaleVoided {
                player: id(*player),
                team: id(*team),
                refund: *refund,
            }),
            E::SaleEdited {
                player,
                team,
                old_price,
                new_price,
            } => Self::SaleEdited(SaleEdited {
                player: id(*player),
                team: id(*team),
                old_price: *old_price,
                new_price: *new_price,
            }),
            E::Completed => Self::AuctionCompleted(AuctionCompleted {}),
        }
    }
}

/// Back to the domain event: what a Rust client that replays `GET …/events` applies.
impl From<&AuctionEvent> for auction::Event {
    fn from(e: &AuctionEvent) -> Self {
        use AuctionEvent as W;
        let team = |id: u32| auction::TeamId(id as usize);
        let player = |id: u32| auction::PlayerId(id as usize);
        match e {
            W::PoolUpdated(p) => Self::PlayersAdded {
                players: p.players.iter().map(auction::Player::from).collect(),
            },
            W::SettingsChanged(s) => Self::SettingsChanged {
                settings: (&s.settings).into(),
            },
            W::NominationOpened(n) => Self::NominationOpened {
                nominator: team(n.nominator),
                deadline: n.deadline,
            },
            W::LotOpened(l) => Self::LotOpened {
                lot: (&l.lot).into(),
            },
            W::BidAccepted(b) => Self::BidAccepted {
                lot: b.lot,
                team: team(b.team),
                amount: b.amount,
                ends_at: b.ends_at,
                version: b.version,
            },
            W::LotSold(l) => Self::LotSold {
                lot: l.lot,
                player: player(l.player),
                team: team(l.team),
                price: l.price,
            },
            W::LotAbandoned(l) => Self::LotAbandoned { lot: l.lot },
            W::AuctionPaused(p) => Self::Paused {
                remaining: p.remaining,
            },
            W::AuctionResumed(r) => Self::Resumed {
                deadline: r.deadline,
            },
            W::SaleVoided(v) => Self::SaleVoided {
                player: player(v.player),
                team: team(v.team),
                refund: v.refund,
            },
            W::SaleEdited(e) => Self::SaleEdited {
                player: player(e.player),
                team: team(e.team),
                old_price: e.old_price,
                new_price: e.new_price,
            },
            W::AuctionCompleted(_) => Self::Completed,
        }
    }
}

/// The auction as it stands, sent to a client that joins (or rejoins too far behind to be
/// sent what it missed).
#[derive(Clone, Debug, PartialEq, Serialize, TS, JsonSchema)]
pub struct AuctionSnapshot {
    /// The name members see the commissioner by (never their email).
    pub commissioner_name: String,
    pub state: AuctionState,
}

impl Message for AuctionSnapshot {
    const NAME: &'static str = "auction:snapshot";
    const STAMPED: bool = true;
}

/// A team as it stands after an event that changed it (its `seq` is that event's).
#[derive(Clone, Debug, PartialEq, Serialize, TS, JsonSchema)]
pub struct TeamUpdated {
    pub team: u32,
    pub name: String,
    pub budget_left: u32,
    pub roster: Vec<RosterSpot>,
    /// The most the team can bid now; `null` when its roster is full.
    pub max_bid: Option<u32>,
}

impl TeamUpdated {
    /// `team` as it stands in `state`.
    pub fn of(state: &auction::Auction, team: auction::TeamId) -> Self {
        let t = state.team(team);
        Self {
            team: state::id(team),
            name: t.name.clone(),
            budget_left: t.budget_left,
            roster: state::roster(&t.roster),
            max_bid: state.max_bid(team),
        }
    }
}

impl Message for TeamUpdated {
    const NAME: &'static str = "team:updated";
    const STAMPED: bool = true;
}

/// A bid refused, sent to the bidder only (the ack says the same).
#[derive(Clone, Debug, PartialEq, Serialize, TS, JsonSchema)]
pub struct BidRejected {
    pub auction_id: i64,
    pub lot_id: u64,
    pub amount: u32,
    /// The bid's `client_bid_id`, if it had one.
    pub client_bid_id: Option<String>,
    pub error: ErrorBody,
    /// The server clock, ms since the Unix epoch.
    pub server_now: u64,
}

impl Message for BidRejected {
    const NAME: &'static str = "bid:rejected";
    const STAMPED: bool = false;
}

/// Someone joined an auction's room or left it.
#[derive(Clone, Debug, PartialEq, Serialize, TS, JsonSchema)]
pub struct Presence {
    /// `null` only for a room whose name does not hold an auction id.
    pub auction_id: Option<i64>,
    /// Who: the name members see them by (never their email).
    pub name: String,
    pub role: MemberRole,
    /// The team they manage, if any.
    pub team: Option<u32>,
    pub online: bool,
}

impl Message for Presence {
    const NAME: &'static str = "presence";
    const STAMPED: bool = false;
}

/// A chat message, sent to the auction's room (the sender included) and in `chat:history`.
/// `text` is as the sender wrote it (trimmed): show it as text, never as markup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, JsonSchema)]
pub struct ChatMessage {
    pub auction_id: i64,
    /// Grows with every message of the server; `chat:delete` names it.
    pub id: i64,
    /// The sender's name when they sent it.
    pub name: String,
    pub role: MemberRole,
    /// The team the sender managed, if any.
    pub team: Option<u32>,
    pub text: String,
    /// When it was sent: server ms since the Unix epoch.
    pub at: u64,
}

impl Message for ChatMessage {
    const NAME: &'static str = "chat:message";
    const STAMPED: bool = false;
}

/// The commissioner deleted a chat message: remove it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, JsonSchema)]
pub struct ChatDeleted {
    pub auction_id: i64,
    pub id: i64,
}

impl Message for ChatDeleted {
    const NAME: &'static str = "chat:deleted";
    const STAMPED: bool = false;
}

/// The room's last chat messages (up to 100, deleted ones left out), oldest first: sent to a
/// socket after every `auction:join` it was granted, after the snapshot or replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS, JsonSchema)]
pub struct ChatHistory {
    pub auction_id: i64,
    pub messages: Vec<ChatMessage>,
}

impl Message for ChatHistory {
    const NAME: &'static str = "chat:history";
    const STAMPED: bool = false;
}

/// The reloaded origin policy denies this socket's origin: a disconnect follows.
#[derive(Clone, Debug, PartialEq, Serialize, TS, JsonSchema)]
pub struct PolicyRevoked {
    /// Why the policy denies it (`deny-rule`, `no-rule-matched`, …).
    pub reason: String,
    pub detail: String,
    pub policy_version: String,
}

impl Message for PolicyRevoked {
    const NAME: &'static str = "policy:revoked";
    const STAMPED: bool = false;
}

/// The session's access token expired: a disconnect follows. Refresh it and reconnect (or send
/// `auth:refresh` before it expires).
#[derive(Clone, Debug, PartialEq, Serialize, TS, JsonSchema)]
pub struct AuthExpired {
    /// `token_expired`.
    pub reason: String,
    pub detail: String,
    /// The token's `exp` (Unix time, seconds).
    pub exp: u64,
}

impl Message for AuthExpired {
    const NAME: &'static str = "auth:expired";
    const STAMPED: bool = false;
}

/// Every message the server sends on `/auction`. It serializes as its payload; [`Self::name`]
/// is the event name it goes out under.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent {
    Snapshot(Stamped<AuctionSnapshot>),
    Auction(Stamped<AuctionEvent>),
    TeamUpdated(Stamped<TeamUpdated>),
    BidRejected(BidRejected),
    Presence(Presence),
    Chat(ChatMessage),
    ChatDeleted(ChatDeleted),
    ChatHistory(ChatHistory),
    PolicyRevoked(PolicyRevoked),
    AuthExpired(AuthExpired),
}

impl ServerEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Snapshot(_) => AuctionSnapshot::NAME,
            Self::Auction(e) => e.body.name(),
            Self::TeamUpdated(_) => TeamUpdated::NAME,
            Self::BidRejected(_) => BidRejected::NAME,
            Self::Presence(_) => Presence::NAME,
            Self::Chat(_) => ChatMessage::NAME,
            Self::ChatDeleted(_) => ChatDeleted::NAME,
            Self::ChatHistory(_) => ChatHistory::NAME,
            Self::PolicyRevoked(_) => PolicyRevoked::NAME,
            Self::AuthExpired(_) => AuthExpired::NAME,
        }
    }

    /// An auction's event as sent live.
    pub fn auction(stamp: Stamp, event: &auction::Event) -> Self {
        Self::Auction(Stamped {
            stamp,
            body: event.into(),
        })
    }
}

impl Serialize for ServerEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Snapshot(m) => m.serialize(s),
            Self::Auction(m) => m.serialize(s),
            Self::TeamUpdated(m) => m.serialize(s),
            Self::BidRejected(m) => m.serialize(s),
            Self::Presence(m) => m.serialize(s),
            Self::Chat(m) => m.serialize(s),
            Self::ChatDeleted(m) => m.serialize(s),
            Self::ChatHistory(m) => m.serialize(s),
            Self::PolicyRevoked(m) => m.serialize(s),
            Self::AuthExpired(m) => m.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auction::{Event, PlayerId, TeamId};

    fn every_domain_event() -> Vec<Event> {
        let lot = auction::Lot {
            id: 1,
            player: PlayerId(2),
            nominator: TeamId(0),
            high_bid: 5,
            high_team: TeamId(0),
            ends_at: 9,
            version: 1,
        };
        vec![
            Event::PlayersAdded {
                players: vec![auction::Player {
                    name: "Allen".into(),
                    rank: 2,
                    position: Some("QB".into()),
                    team_bye: None,
                }],
            },
            Event::SettingsChanged {
                settings: auction::AuctionSettings::default(),
            },
            Event::NominationOpened {
                nominator: TeamId(1),
                deadline: 7,
            },
            Event::LotOpened { lot },
            Event::BidAccepted {
                lot: 1,
                team: TeamId(1),
                amount: 6,
                ends_at: 10,
                version: 2,
            },
            Event::LotSold {
                lot: 1,
                player: PlayerId(2),
                team: TeamId(1),
                price: 6,
            },
            Event::LotAbandoned { lot: 2 },
            Event::Paused { remaining: 3 },
            Event::Resumed { deadline: 11 },
            Event::SaleVoided {
                player: PlayerId(2),
                team: TeamId(1),
                refund: 6,
            },
            Event::SaleEdited {
                player: PlayerId(2),
                team: TeamId(1),
                old_price: 6,
                new_price: 4,
            },
            Event::Completed,
        ]
    }

    /// Sent live, an event keeps the fields it always had; its `kind` is its name.
    #[test]
    fn live_events_are_the_domain_events_under_their_names() {
        let stamp = Stamp {
            auction_id: 4,
            seq: 12,
            server_now: 99,
        };
        let events = every_domain_event();
        let names: Vec<&str> = events
            .iter()
            .map(|e| ServerEvent::auction(stamp, e).name())
            .collect();
        assert_eq!(names, AuctionEvent::NAMES, "one name per event, in order");
        for event in &events {
            let live = ServerEvent::auction(stamp, event);
            let mut expected = serde_json::to_value(event).unwrap();
            let fields = expected.as_object_mut().unwrap();
            fields.insert("kind".into(), live.name().into());
            fields.insert("auction_id".into(), 4.into());
            fields.insert("seq".into(), 12.into());
            fields.insert("server_now".into(), 99.into());
            assert_eq!(serde_json::to_value(&live).unwrap(), expected);
        }
    }

    #[test]
    fn events_convert_back_to_the_domain() {
        for event in every_domain_event() {
            assert_eq!(Event::from(&AuctionEvent::from(&event)), event);
        }
    }

    /// REST writes the same events with poem-openapi's serializer: it must agree with serde's,
    /// and read them back.
    #[test]
    fn poem_and_serde_write_the_same_events() {
        use poem_openapi::types::{ParseFromJSON, ToJSON};
        for event in every_domain_event() {
            let event = AuctionEvent::from(&event);
            let by_poem = event.to_json().unwrap();
            assert_eq!(by_poem, serde_json::to_value(&event).unwrap());
            let parsed = AuctionEvent::parse_from_json(Some(by_poem)).ok().unwrap();
            assert_eq!(parsed, event);
        }
    }
}
