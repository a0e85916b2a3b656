//! The auction house: who may do what in an auction, and the one path every action takes —
//! REST and Socket.IO alike — from a member's request to the service (which commits and
//! publishes) and the deadlines (re-armed after a command that may have moved one).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::deadlines::{Deadlines, now_ms};
use super::history::{BidCursor, BidPage};
use super::service::{Accepted, AuctionService, NewMember, ServiceError};
use super::{Auction, ClientId, Command, PlayerId, Rejection, TeamId};
use crate::config::Limits;

/// A member's role in one auction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Role {
    /// Runs the auction (start, pause, resume, void or edit a sale, complete); may also manage a team.
    Commissioner,
    /// Nominates and bids for one team.
    Manager,
    /// Watches; read-only.
    Spectator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Commissioner => "commissioner",
            Role::Manager => "manager",
            Role::Spectator => "spectator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "commissioner" => Some(Role::Commissioner),
            "manager" => Some(Role::Manager),
            "spectator" => Some(Role::Spectator),
            _ => None,
        }
    }
}

/// Who the caller is in one auction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub role: Role,
    pub team: Option<TeamId>,
}

impl Member {
    /// From a `members` row. Roles are written by this code; an unknown one gets the least:
    /// read-only.
    fn from_row(role: &str, team: Option<i32>) -> Self {
        Self {
            role: Role::parse(role).unwrap_or(Role::Spectator),
            team: team.map(|t| t as usize),
        }
    }
}

/// What a member asks for. The house turns it into a rules `Command` for their team.
#[derive(Clone, Debug)]
pub enum Action {
    AddPlayers {
        players: Vec<super::Player>,
    },
    ChangeSettings {
        settings: super::Settings,
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
pub enum HouseError {
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
    Unavailable(ServiceError),
}

impl From<ServiceError> for HouseError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => HouseError::NotFound,
            ServiceError::Rejected(r) => HouseError::Rejected(r),
            ServiceError::ClientIdReused => {
                HouseError::Conflict("this client id was already used for another command")
            }
            e => HouseError::Unavailable(e),
        }
    }
}

impl HouseError {
    /// The stable `type` clients see.
    pub fn kind(&self) -> &'static str {
        match self {
            HouseError::NotFound => "not_found",
            HouseError::Forbidden(_) => "forbidden",
            HouseError::Invalid(_) => "invalid_request",
            HouseError::Conflict(_) => "conflict",
            HouseError::Rejected(r) => r.kind(),
            HouseError::Unavailable(_) => "unavailable",
        }
    }
}

/// The state with its `seq`, as one member may see it, and who that member is.
pub struct Snapshot {
    pub name: String,
    pub state: Auction,
    pub seq: i64,
    pub commissioner: String,
    pub member: Member,
}

/// A token bucket per member (`sub`), shared by all of that member's sockets.
pub type MemberPace = governor::DefaultKeyedRateLimiter<String>;

#[derive(Clone)]
pub struct AuctionHouse {
    service: AuctionService,
    deadlines: Arc<Deadlines>,
    pace: Arc<MemberPace>,
}

impl AuctionHouse {
    pub fn new(service: AuctionService, deadlines: Arc<Deadlines>) -> Self {
        let limits = Limits::default();
        Self {
            service,
            deadlines,
            pace: Arc::new(member_pace(&limits)),
        }
    }

    /// The same house within `limits`: refused bids stored per member and lot, and the
    /// per-member event rate of the realtime side.
    pub fn with_limits(self, limits: &Limits) -> Self {
        Self {
            service: self
                .service
                .storing_refusals(limits.stored_refusals_per_lot),
            pace: Arc::new(member_pace(limits)),
            ..self
        }
    }

    /// How fast each member may send client events, across all their sockets.
    pub fn member_pace(&self) -> Arc<MemberPace> {
        self.pace.clone()
    }

    pub fn service(&self) -> &AuctionService {
        &self.service
    }

    /// Stores a new auction: the caller is its commissioner; `managers[i]` manages team `i`.
    pub async fn create(
        &self,
        name: &str,
        commissioner: &str,
        auction: &Auction,
        managers: &[Option<String>],
    ) -> Result<i64, HouseError> {
        let mut members = vec![NewMember {
            sub: commissioner,
            role: Role::Commissioner.as_str(),
            team: managers
                .iter()
                .position(|m| m.as_deref() == Some(commissioner)),
        }];
        for (team, sub) in managers.iter().enumerate() {
            if let Some(sub) = sub.as_deref()
                && sub != commissioner
            {
                if members.iter().any(|m| m.sub == sub) {
                    return Err(HouseError::Forbidden("one person manages one team"));
                }
                members.push(NewMember {
                    sub,
                    role: Role::Manager.as_str(),
                    team: Some(team),
                });
            }
        }
        Ok(self
            .service
            .create(name, commissioner, auction, &members, now_ms())
            .await?)
    }

    /// The caller's membership; `Forbidden` for a non-member.
    pub async fn member(&self, id: i64, sub: &str) -> Result<Member, HouseError> {
        let row = self
            .service
            .membership(id, sub)
            .await?
            .ok_or(HouseError::Forbidden("not a member of this auction"))?;
        Ok(Member::from_row(&row.role, row.team))
    }

    /// The state now, for a member.
    pub async fn snapshot(&self, id: i64, sub: &str) -> Result<Snapshot, HouseError> {
        let member = self.member(id, sub).await?;
        let stored = self.service.stored(id).await?;
        Ok(Snapshot {
            name: stored.name,
            state: stored.state,
            seq: stored.seq,
            commissioner: stored.commissioner,
            member,
        })
    }

    /// The events after `after_seq`, for a member.
    pub async fn events_after(
        &self,
        id: i64,
        sub: &str,
        after_seq: i64,
    ) -> Result<Vec<(i64, super::Event)>, HouseError> {
        self.member(id, sub).await?;
        Ok(self.service.events_after(id, after_seq).await?)
    }

    /// Runs `action` for `sub`, who must be allowed to; a `client_id` makes a retry return
    /// the first answer.
    pub async fn act(
        &self,
        id: i64,
        sub: &str,
        action: Action,
        client_id: Option<&ClientId>,
    ) -> Result<Accepted, HouseError> {
        let member = self.member(id, sub).await?;
        let command = command_for(&member, action)?;
        let accepted = self
            .service
            .handle(id, sub, &command, client_id, now_ms())
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
fn command_for(member: &Member, action: Action) -> Result<Command, HouseError> {
    let commissioner = member.role == Role::Commissioner;
    let team = || {
        member
            .team
            .ok_or(HouseError::Forbidden("only a team's manager does this"))
    };
    let only_commissioner = |command| {
        if commissioner {
            Ok(command)
        } else {
            Err(HouseError::Forbidden("only the commissioner can do this"))
        }
    };
    match action {
        Action::AddPlayers { players } => only_commissioner(Command::AddPlayers { players }),
        Action::ChangeSettings { settings } => {
            only_commissioner(Command::ChangeSettings { settings })
        }
        Action::Start => only_commissioner(Command::Start),
        Action::Pause => only_commissioner(Command::Pause),
        Action::Resume => only_commissioner(Command::Resume),
        Action::Complete => only_commissioner(Command::Complete),
        Action::VoidSale { player } => only_commissioner(Command::VoidSale { player }),
        Action::EditSale { player, price } => {
            only_commissioner(Command::EditSale { player, price })
        }
        Action::Nominate {
            player,
            opening_bid,
        } => Ok(Command::Nominate {
            team: team()?,
            player,
            opening_bid,
        }),
        Action::Bid {
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

/// An invitation as created: the code is shown once.
pub struct Invitation {
    pub code: String,
    pub role: Role,
    pub team: Option<TeamId>,
    pub expires_at: u64,
}

/// How long an invitation code works.
pub const INVITATION_TTL_MS: u64 = 7 * 24 * 3600 * 1000;

impl AuctionHouse {
    /// The commissioner invites someone to join as `role` (a manager for `team`).
    pub async fn invite(
        &self,
        id: i64,
        sub: &str,
        role: Role,
        team: Option<TeamId>,
    ) -> Result<Invitation, HouseError> {
        if self.member(id, sub).await?.role != Role::Commissioner {
            return Err(HouseError::Forbidden("only the commissioner invites"));
        }
        let (state, _) = self.service.state(id).await?;
        match (role, team) {
            (Role::Manager, Some(t)) if t < state.teams.len() => {}
            (Role::Manager, _) => {
                return Err(HouseError::Invalid(
                    "a manager invitation names one of the auction's teams",
                ));
            }
            (Role::Spectator, None) => {}
            (Role::Spectator, Some(_)) => {
                return Err(HouseError::Invalid("a spectator has no team"));
            }
            (Role::Commissioner, _) => {
                return Err(HouseError::Invalid("an auction has one commissioner"));
            }
        }
        let code = crate::login::secret::generate();
        let expires_at = now_ms() + INVITATION_TTL_MS;
        self.service
            .store_invitation(
                id,
                &crate::login::secret::hash(&code),
                role.as_str(),
                team,
                expires_at,
            )
            .await?;
        Ok(Invitation {
            code,
            role,
            team,
            expires_at,
        })
    }

    /// `sub` joins with an invitation code (once).
    pub async fn join(&self, id: i64, sub: &str, code: &str) -> Result<Member, HouseError> {
        if self.service.membership(id, sub).await?.is_some() {
            return Err(HouseError::Conflict("already a member of this auction"));
        }
        let hash = crate::login::secret::hash(code);
        let row = self
            .service
            .redeem_invitation(id, &hash, sub, now_ms())
            .await?
            .ok_or(HouseError::Forbidden(
                "the invitation is unknown, used or expired",
            ))?;
        Ok(Member::from_row(&row.0, row.1))
    }

    /// Every member, for a member.
    pub async fn members(&self, id: i64, sub: &str) -> Result<Vec<(String, Member)>, HouseError> {
        self.member(id, sub).await?;
        Ok(self
            .service
            .members(id)
            .await?
            .into_iter()
            .map(|m| (m.sub, Member::from_row(&m.role, m.team)))
            .collect())
    }

    /// One page of a lot's bid history, for a member.
    pub async fn bids(
        &self,
        id: i64,
        sub: &str,
        lot: u64,
        after: Option<BidCursor>,
        limit: u32,
    ) -> Result<BidPage, HouseError> {
        self.member(id, sub).await?;
        Ok(self.service.bids(id, lot, after, limit).await?)
    }

    /// The auctions `sub` belongs to.
    pub async fn memberships(&self, sub: &str) -> Result<Vec<(i64, Member)>, HouseError> {
        Ok(self
            .service
            .memberships_of(sub)
            .await?
            .into_iter()
            .map(|m| (m.auction_id, Member::from_row(&m.role, m.team)))
            .collect())
    }
}
