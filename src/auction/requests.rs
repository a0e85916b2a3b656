//! A member's requests: who may do what in an auction, and the one path every request takes —
//! REST and Socket.IO alike — from the caller (a JWT `sub`) through their role to the store
//! (which commits and publishes) and the deadlines (re-armed after a command that may have
//! moved one). The time of every request is read here, from the server's clock.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

mod chat;
mod members;

pub use chat::{ChatError, ChatPace, ChatText, MAX_CHAT_CHARS};
pub use members::{INVITATION_TTL_MS, Invitation, MembershipSummary};

use super::deadlines::Deadlines;
use super::history::{BidCursor, StoredBidPage};
use super::names::DisplayName;
use super::store::{Accepted, AuctionStore, NewMember, StoreError};
use super::{Auction, AuctionSettings, ClientId, Command, Player, PlayerId, Rejection, TeamId};
use crate::clock::SharedClock;
use crate::config::Limits;

/// A member's role in one auction.
// Not the account's role in its token (`crate::auth::AccountRole`). The doc comment above is
// the OpenAPI schema's description, and `rename` keeps the schema's published name.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    poem_openapi::Enum,
    ts_rs::TS,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[oai(rename = "Role", rename_all = "snake_case")]
#[ts(rename = "Role")]
#[schemars(rename = "Role")]
pub enum MemberRole {
    /// Runs the auction (start, pause, resume, void or edit a sale, complete); may also manage a team.
    Commissioner,
    /// Nominates and bids for one team.
    Manager,
    /// Watches; read-only.
    Spectator,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Commissioner => "commissioner",
            MemberRole::Manager => "manager",
            MemberRole::Spectator => "spectator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "commissioner" => Some(MemberRole::Commissioner),
            "manager" => Some(MemberRole::Manager),
            "spectator" => Some(MemberRole::Spectator),
            _ => None,
        }
    }
}

/// Who the caller is in one auction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub role: MemberRole,
    pub team: Option<TeamId>,
}

impl Member {
    /// From a `members` row. Roles are written by this code; an unknown one gets the least:
    /// read-only.
    pub(crate) fn from_row(role: &str, team: Option<i32>) -> Self {
        Self {
            role: MemberRole::parse(role).unwrap_or(MemberRole::Spectator),
            team: team.map(|t| TeamId(t as usize)),
        }
    }
}

/// What a member asks of an auction. It becomes a rules [`Command`] for their team.
#[derive(Clone, Debug)]
pub enum MemberAction {
    AddPlayers {
        players: Vec<Player>,
    },
    ChangeSettings {
        settings: AuctionSettings,
    },
    Start,
    Pause,
    Resume,
    Complete,
    Nominate {
        player: PlayerId,
        opening_bid: u32,
    },
    Bid {
        lot: u64,
        amount: u32,
        expected_version: Option<u32>,
    },
    VoidSale {
        player: PlayerId,
    },
    EditSale {
        player: PlayerId,
        price: u32,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no such auction")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Rejected(Rejection),
    /// The cause is logged, not shown.
    #[error("the database is unavailable; nothing was changed")]
    Unavailable(StoreError),
}

impl From<StoreError> for RequestError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => RequestError::NotFound,
            StoreError::Rejected(r) => RequestError::Rejected(r),
            StoreError::ClientIdReused => {
                RequestError::Conflict("this client id was already used for another command")
            }
            e => RequestError::Unavailable(e),
        }
    }
}

impl RequestError {
    /// The stable `type` clients see.
    pub fn kind(&self) -> &'static str {
        match self {
            RequestError::NotFound => "not_found",
            RequestError::Forbidden(_) => "forbidden",
            RequestError::Invalid(_) => "invalid_request",
            RequestError::Conflict(_) => "conflict",
            RequestError::Rejected(r) => r.kind(),
            RequestError::Unavailable(_) => "unavailable",
        }
    }
}

/// The state with its `seq`, as one member may see it, and who that member is.
pub struct Snapshot {
    pub name: String,
    pub state: Auction,
    pub seq: i64,
    /// What members see of the commissioner: a name, never the `sub`.
    pub commissioner_name: String,
    pub member: Member,
}

/// A token bucket per member (`sub`), shared by all of that member's sockets.
pub type MemberPace = governor::DefaultKeyedRateLimiter<String>;

/// Every request a signed-in user makes of auctions, checked against their membership and
/// run on the store at the server clock's time.
#[derive(Clone)]
pub struct MemberRequests {
    store: AuctionStore,
    deadlines: Arc<Deadlines>,
    pace: Arc<MemberPace>,
    chat_pace: Arc<ChatPace>,
    clock: SharedClock,
}

impl MemberRequests {
    pub fn new(store: AuctionStore, deadlines: Arc<Deadlines>, clock: SharedClock) -> Self {
        let limits = Limits::default();
        Self {
            store,
            deadlines,
            pace: Arc::new(member_pace(&limits)),
            chat_pace: Arc::new(chat::pace(&limits)),
            clock,
        }
    }

    /// The same within `limits`: refused bids stored per member and lot, and the per-member
    /// event and chat rates of the realtime side.
    pub fn with_limits(self, limits: &Limits) -> Self {
        Self {
            store: self.store.storing_refusals(limits.stored_refusals_per_lot),
            pace: Arc::new(member_pace(limits)),
            chat_pace: Arc::new(chat::pace(limits)),
            ..self
        }
    }

    /// The server's clock: what every request's time, and `server_now`, is read from.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// How fast each member may send client events, across all their sockets.
    pub fn member_pace(&self) -> Arc<MemberPace> {
        self.pace.clone()
    }

    pub fn store(&self) -> &AuctionStore {
        &self.store
    }

    /// Stores a new auction: the caller is its commissioner (named `commissioner_name`, if
    /// given); `managers[i]` manages team `i`.
    pub async fn create(
        &self,
        name: &str,
        commissioner: &str,
        commissioner_name: Option<&DisplayName>,
        auction: &Auction,
        managers: &[Option<String>],
    ) -> Result<i64, RequestError> {
        let mut members = vec![NewMember {
            sub: commissioner,
            role: MemberRole::Commissioner.as_str(),
            team: managers
                .iter()
                .position(|m| m.as_deref() == Some(commissioner))
                .map(TeamId),
            display_name: commissioner_name.map(DisplayName::as_str),
        }];
        for (team, sub) in managers.iter().enumerate() {
            if let Some(sub) = sub.as_deref()
                && sub != commissioner
            {
                if members.iter().any(|m| m.sub == sub) {
                    return Err(RequestError::Forbidden("one person manages one team"));
                }
                members.push(NewMember {
                    sub,
                    role: MemberRole::Manager.as_str(),
                    team: Some(TeamId(team)),
                    display_name: None,
                });
            }
        }
        Ok(self
            .store
            .create(name, commissioner, auction, &members, self.clock.now_ms())
            .await?)
    }

    /// The caller's membership; `Forbidden` for a non-member.
    pub async fn member(&self, id: i64, sub: &str) -> Result<Member, RequestError> {
        let row = self
            .store
            .membership(id, sub)
            .await?
            .ok_or(RequestError::Forbidden("not a member of this auction"))?;
        Ok(Member::from_row(&row.role, row.team))
    }

    /// The state now, for a member.
    pub async fn snapshot(&self, id: i64, sub: &str) -> Result<Snapshot, RequestError> {
        let member = self.member(id, sub).await?;
        let stored = self.store.stored(id).await?;
        Ok(Snapshot {
            commissioner_name: self.commissioner_name(id, &stored).await?,
            name: stored.name,
            state: stored.state,
            seq: stored.seq,
            member,
        })
    }

    /// The events after `after_seq`, for a member.
    pub async fn events_after(
        &self,
        id: i64,
        sub: &str,
        after_seq: i64,
    ) -> Result<Vec<(i64, super::Event)>, RequestError> {
        self.member(id, sub).await?;
        Ok(self.store.events_after(id, after_seq).await?)
    }

    /// Runs `action` for `sub`, who must be allowed to; a `client_id` makes a retry return
    /// the first answer.
    pub async fn act(
        &self,
        id: i64,
        sub: &str,
        action: MemberAction,
        client_id: Option<&ClientId>,
    ) -> Result<Accepted, RequestError> {
        let member = self.member(id, sub).await?;
        let command = command_for(&member, action)?;
        let accepted = self
            .store
            .handle(id, sub, &command, client_id, self.clock.now_ms())
            .await?;
        // A bid only ever extends the clock, which the armed task copes with; anything else
        // may have moved the next deadline earlier.
        if !matches!(command, Command::Bid { .. })
            && let Err(e) = self.deadlines.arm(id).await
        {
            tracing::error!(auction = id, error = %e, "cannot arm the deadline");
        }
        Ok(accepted)
    }
}

/// `member_events_per_second` with a burst of `member_event_burst` (each at least 1).
fn member_pace(limits: &Limits) -> MemberPace {
    governor::RateLimiter::keyed(
        governor::Quota::per_second(nonzero(limits.member_events_per_second))
            .allow_burst(nonzero(limits.member_event_burst)),
    )
}

/// A configured rate or burst of 0 would refuse everything; it is taken as 1.
pub(crate) fn nonzero(n: u32) -> std::num::NonZeroU32 {
    std::num::NonZeroU32::new(n.max(1)).expect("at least 1")
}

/// What `member` may ask, as a command for their team.
fn command_for(member: &Member, action: MemberAction) -> Result<Command, RequestError> {
    let commissioner = member.role == MemberRole::Commissioner;
    let team = || {
        member
            .team
            .ok_or(RequestError::Forbidden("only a team's manager does this"))
    };
    let only_commissioner = |command| {
        if commissioner {
            Ok(command)
        } else {
            Err(RequestError::Forbidden("only the commissioner can do this"))
        }
    };
    match action {
        MemberAction::AddPlayers { players } => only_commissioner(Command::AddPlayers { players }),
        MemberAction::ChangeSettings { settings } => {
            only_commissioner(Command::ChangeSettings { settings })
        }
        MemberAction::Start => only_commissioner(Command::Start),
        MemberAction::Pause => only_commissioner(Command::Pause),
        MemberAction::Resume => only_commissioner(Command::Resume),
        MemberAction::Complete => only_commissioner(Command::Complete),
        MemberAction::VoidSale { player } => only_commissioner(Command::VoidSale { player }),
        MemberAction::EditSale { player, price } => {
            only_commissioner(Command::EditSale { player, price })
        }
        MemberAction::Nominate {
            player,
            opening_bid,
        } => Ok(Command::Nominate {
            team: team()?,
            player,
            opening_bid,
        }),
        MemberAction::Bid {
            lot,
            amount,
            expected_version,
        } => Ok(Command::Bid {
            team: team()?,
            lot,
            amount,
            expected_version,
        }),
    }
}

impl MemberRequests {
    /// One page of a lot's bid history, for a member.
    pub async fn bids(
        &self,
        id: i64,
        sub: &str,
        lot: u64,
        after: Option<BidCursor>,
        limit: u32,
    ) -> Result<StoredBidPage, RequestError> {
        self.member(id, sub).await?;
        Ok(self.store.bids(id, lot, after, limit).await?)
    }
}
