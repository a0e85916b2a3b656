//! `/api/auctions`: create an auction, run it, read its state and events. Thin: every action
//! is one call to the auction service; the rules decide.

use std::sync::Arc;

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::problem::Problem;
use super::security::BearerAuth;
use crate::auction::deadlines::{Deadlines, now_ms};
use crate::auction::service::{Accepted, AuctionService, ServiceError};
use crate::auction::{Auction, Command, Settings};

pub struct AuctionApi {
    /// `None` only while generating the OpenAPI document.
    inner: Option<(AuctionService, Arc<Deadlines>)>,
}

impl AuctionApi {
    pub fn new(service: AuctionService, deadlines: Arc<Deadlines>) -> Self {
        Self {
            inner: Some((service, deadlines)),
        }
    }

    pub fn for_document() -> Self {
        Self { inner: None }
    }

    fn service(&self) -> &AuctionService {
        &self.inner.as_ref().expect("a serving AuctionApi").0
    }

    fn deadlines(&self) -> &Arc<Deadlines> {
        &self.inner.as_ref().expect("a serving AuctionApi").1
    }
}

/// How the auction is played; omitted fields take the defaults shown.
#[derive(Object, Default)]
pub struct SettingsBody {
    /// Budget per team (200).
    pub budget: Option<u32>,
    /// Players per team (3).
    pub roster_slots: Option<u32>,
    /// Minimum bid (1).
    pub min_bid: Option<u32>,
    /// A bid beats the high bid by at least this (1).
    pub increment: Option<u32>,
    /// Seconds a nominator has (30).
    pub nomination_secs: Option<u32>,
    /// Seconds a lot runs after it opens (20).
    pub bid_secs: Option<u32>,
    /// A bid with less than this many seconds left sets the clock to it (10).
    pub reset_secs: Option<u32>,
}

#[derive(Object)]
pub struct TeamBody {
    pub name: String,
    /// The JWT `sub` of the team's manager.
    pub manager: String,
}

#[derive(Object)]
pub struct PlayerBody {
    pub name: String,
    /// 1 is the best.
    pub rank: u32,
}

#[derive(Object)]
pub struct CreateAuction {
    pub name: String,
    #[oai(default)]
    pub settings: SettingsBody,
    /// In nomination order.
    pub teams: Vec<TeamBody>,
    pub players: Vec<PlayerBody>,
}

#[derive(Object)]
pub struct Created {
    pub id: i64,
}

#[derive(Object)]
pub struct NumberedEvent {
    pub seq: i64,
    /// The event, tagged by `kind` (`lot_opened`, `bid_accepted`, `lot_sold`, …).
    pub event: serde_json::Value,
}

#[derive(Object)]
pub struct CommandResult {
    /// The auction's `seq` after the command.
    pub seq: i64,
    pub events: Vec<NumberedEvent>,
    /// The server clock, milliseconds since the Unix epoch.
    pub server_now: u64,
}

#[derive(Object)]
pub struct StateBody {
    pub seq: i64,
    pub server_now: u64,
    pub commissioner: String,
    /// Settings, teams (budget left, roster), the pool and the phase (the open lot, its
    /// `ends_at` and `version`).
    pub state: serde_json::Value,
}

#[derive(Object)]
pub struct EventsBody {
    pub events: Vec<NumberedEvent>,
    pub server_now: u64,
}

#[derive(Object)]
pub struct NominateBody {
    /// Index of the player in the auction's pool.
    pub player: u32,
    pub opening_bid: u32,
}

#[derive(Object)]
pub struct BidBody {
    pub amount: u32,
    /// The lot `version` the bidder saw; an older one is refused as `stale`.
    pub expected_version: Option<u32>,
    /// Makes a retry return the first answer (the `Idempotency-Key` header does the same).
    pub client_bid_id: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreateResponse {
    #[oai(status = 201)]
    Created(Json<Created>),
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

#[derive(ApiResponse)]
pub enum CommandResponse {
    #[oai(status = 200)]
    Ok(Json<CommandResult>),
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Refused by the rules: `type` is `/problems/<kind>` (`outbid`, `stale`, `over_max_bid`,
    /// `lot_closed`, `not_your_turn`, …).
    #[oai(status = 409, content_type = "application/problem+json")]
    Rejected(Json<Problem>),
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

#[derive(ApiResponse)]
pub enum StateResponse {
    #[oai(status = 200)]
    Ok(Json<StateBody>),
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

#[derive(ApiResponse)]
pub enum EventsResponse {
    #[oai(status = 200)]
    Ok(Json<EventsBody>),
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>),
}

fn forbidden(detail: &str) -> Json<Problem> {
    Json(Problem::new("forbidden", "Forbidden", 403, detail))
}

fn not_found() -> Json<Problem> {
    Json(Problem::new(
        "not_found",
        "No such auction",
        404,
        "no such auction",
    ))
}

fn unavailable(e: &ServiceError) -> Json<Problem> {
    tracing::error!(error = %e, "auction service failed");
    Json(Problem::new("unavailable", "Try again", 503, e.to_string()))
}

fn numbered(events: Vec<(i64, crate::auction::Event)>) -> Vec<NumberedEvent> {
    events
        .into_iter()
        .map(|(seq, e)| NumberedEvent {
            seq,
            event: serde_json::to_value(e).expect("events serialize"),
        })
        .collect()
}

/// Who the caller is in this auction (a commissioner may also manage a team).
struct Member {
    commissioner: bool,
    team: Option<usize>,
}

impl AuctionApi {
    async fn member(&self, id: i64, sub: &str) -> Result<Option<Member>, ServiceError> {
        let commissioner = self.service().commissioner(id).await? == sub;
        let (state, _) = self.service().state(id).await?;
        let team = state
            .teams
            .iter()
            .position(|t| t.manager.as_deref() == Some(sub));
        Ok((commissioner || team.is_some()).then_some(Member { commissioner, team }))
    }

    /// Runs a command as `sub`, who must be allowed to; re-arms the deadline after one that may
    /// have moved it earlier (a bid only ever extends it: the armed task copes with that).
    async fn run(
        &self,
        id: i64,
        sub: &str,
        client_id: Option<&str>,
        command: impl FnOnce(&Member) -> Result<Command, &'static str>,
    ) -> CommandResponse {
        let member = match self.member(id, sub).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                return CommandResponse::Forbidden(forbidden("not a member of this auction"));
            }
            Err(ServiceError::NotFound) => return CommandResponse::NotFound(not_found()),
            Err(e) => return CommandResponse::Unavailable(unavailable(&e)),
        };
        let command = match command(&member) {
            Ok(c) => c,
            Err(why) => return CommandResponse::Forbidden(forbidden(why)),
        };
        match self
            .service()
            .handle(id, sub, &command, client_id, now_ms())
            .await
        {
            Ok(Accepted { events, seq }) => {
                let moves_deadline = !matches!(command, Command::Bid { .. });
                if moves_deadline && let Err(e) = self.deadlines().arm(id).await {
                    tracing::error!(auction = id, error = %e, "cannot arm the deadline");
                }
                CommandResponse::Ok(Json(CommandResult {
                    seq,
                    events: numbered(events),
                    server_now: now_ms(),
                }))
            }
            Err(ServiceError::Rejected(r)) => CommandResponse::Rejected(Json(Problem::new(
                r.kind(),
                "Refused by the auction rules",
                409,
                r.to_string(),
            ))),
            Err(ServiceError::NotFound) => CommandResponse::NotFound(not_found()),
            Err(e) => CommandResponse::Unavailable(unavailable(&e)),
        }
    }

    async fn commissioner_command(&self, id: i64, sub: &str, command: Command) -> CommandResponse {
        self.run(id, sub, None, |member| {
            if member.commissioner {
                Ok(command)
            } else {
                Err("only the commissioner can do this")
            }
        })
        .await
    }
}

#[OpenApi(prefix_path = "/auctions", tag = "ApiTags::Auctions")]
impl AuctionApi {
    /// Create an auction; the caller is its commissioner.
    #[oai(path = "/", method = "post", operation_id = "createAuction")]
    async fn create(&self, auth: BearerAuth, body: Json<CreateAuction>) -> CreateResponse {
        let body = body.0;
        let d = Settings::default();
        let s = &body.settings;
        let secs = |v: Option<u32>, default: u64| v.map_or(default, |v| u64::from(v) * 1000);
        let settings = Settings {
            budget: s.budget.unwrap_or(d.budget),
            roster_slots: s.roster_slots.unwrap_or(d.roster_slots),
            min_bid: s.min_bid.unwrap_or(d.min_bid),
            increment: s.increment.unwrap_or(d.increment),
            nomination_ms: secs(s.nomination_secs, d.nomination_ms),
            bid_ms: secs(s.bid_secs, d.bid_ms),
            reset_ms: secs(s.reset_secs, d.reset_ms),
        };
        let bad = |detail: &str| {
            CreateResponse::BadRequest(Json(Problem::new(
                "invalid_auction",
                "Invalid auction",
                400,
                detail,
            )))
        };
        if body.teams.len() < 2 {
            return bad("an auction needs at least two teams");
        }
        if settings.roster_slots == 0 || settings.min_bid == 0 || settings.increment == 0 {
            return bad("roster_slots, min_bid and increment must be at least 1");
        }
        if settings.budget < settings.min_bid * settings.roster_slots {
            return bad("the budget cannot fill a roster at the minimum bid");
        }
        if body.players.len() < body.teams.len() * settings.roster_slots as usize {
            return bad("the pool has fewer players than the rosters have slots");
        }
        let names: Vec<&str> = body.teams.iter().map(|t| t.name.as_str()).collect();
        let players: Vec<(&str, u32)> = body
            .players
            .iter()
            .map(|p| (p.name.as_str(), p.rank))
            .collect();
        let mut auction = Auction::new(settings, &names, &players);
        for (team, body) in auction.teams.iter_mut().zip(&body.teams) {
            team.manager = Some(body.manager.clone());
        }
        match self
            .service()
            .create(&body.name, &auth.0.sub, &auction, now_ms())
            .await
        {
            Ok(id) => CreateResponse::Created(Json(Created { id })),
            Err(e) => CreateResponse::Unavailable(unavailable(&e)),
        }
    }

    /// The state now, with its `seq` and the server clock.
    #[oai(path = "/:id/state", method = "get", operation_id = "getAuctionState")]
    async fn state(&self, auth: BearerAuth, id: Path<i64>) -> StateResponse {
        match self.member(id.0, &auth.0.sub).await {
            Ok(Some(_)) => {}
            Ok(None) => return StateResponse::Forbidden(forbidden("not a member of this auction")),
            Err(ServiceError::NotFound) => return StateResponse::NotFound(not_found()),
            Err(e) => return StateResponse::Unavailable(unavailable(&e)),
        }
        let commissioner = self.service().commissioner(id.0).await;
        match (self.service().state(id.0).await, commissioner) {
            (Ok((state, seq)), Ok(commissioner)) => StateResponse::Ok(Json(StateBody {
                seq,
                server_now: now_ms(),
                commissioner,
                state: serde_json::to_value(state).expect("state serializes"),
            })),
            (Err(e), _) | (_, Err(e)) => StateResponse::Unavailable(unavailable(&e)),
        }
    }

    /// The events after `after_seq` (what a reconnecting client missed).
    #[oai(
        path = "/:id/events",
        method = "get",
        operation_id = "getAuctionEvents"
    )]
    async fn events(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        #[oai(default)] after_seq: Query<i64>,
    ) -> EventsResponse {
        match self.member(id.0, &auth.0.sub).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return EventsResponse::Forbidden(forbidden("not a member of this auction"));
            }
            Err(ServiceError::NotFound) => return EventsResponse::NotFound(not_found()),
            Err(e) => return EventsResponse::Unavailable(unavailable(&e)),
        }
        match self.service().events_after(id.0, after_seq.0).await {
            Ok(events) => EventsResponse::Ok(Json(EventsBody {
                events: numbered(events),
                server_now: now_ms(),
            })),
            Err(e) => EventsResponse::Unavailable(unavailable(&e)),
        }
    }

    /// Start nominating (commissioner).
    #[oai(path = "/:id/start", method = "post", operation_id = "startAuction")]
    async fn start(&self, auth: BearerAuth, id: Path<i64>) -> CommandResponse {
        self.commissioner_command(id.0, &auth.0.sub, Command::Start)
            .await
    }

    /// Freeze the clocks (commissioner).
    #[oai(path = "/:id/pause", method = "post", operation_id = "pauseAuction")]
    async fn pause(&self, auth: BearerAuth, id: Path<i64>) -> CommandResponse {
        self.commissioner_command(id.0, &auth.0.sub, Command::Pause)
            .await
    }

    /// Resume with the time that was left (commissioner).
    #[oai(path = "/:id/resume", method = "post", operation_id = "resumeAuction")]
    async fn resume(&self, auth: BearerAuth, id: Path<i64>) -> CommandResponse {
        self.commissioner_command(id.0, &auth.0.sub, Command::Resume)
            .await
    }

    /// End the auction (commissioner).
    #[oai(
        path = "/:id/complete",
        method = "post",
        operation_id = "completeAuction"
    )]
    async fn complete(&self, auth: BearerAuth, id: Path<i64>) -> CommandResponse {
        self.commissioner_command(id.0, &auth.0.sub, Command::Complete)
            .await
    }

    /// Nominate a player for your team (when it is your turn).
    #[oai(path = "/:id/lots", method = "post", operation_id = "nominate")]
    async fn nominate(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<NominateBody>,
    ) -> CommandResponse {
        self.run(id.0, &auth.0.sub, None, |member| match member.team {
            Some(team) => Ok(Command::Nominate {
                team,
                player: body.player as usize,
                opening_bid: body.opening_bid,
            }),
            None => Err("only a team's manager nominates"),
        })
        .await
    }

    /// Bid on the open lot for your team.
    #[oai(
        path = "/:id/lots/:lot/bids",
        method = "post",
        operation_id = "placeBid"
    )]
    async fn bid(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        lot: Path<u64>,
        #[oai(name = "Idempotency-Key")] idempotency_key: Header<Option<String>>,
        body: Json<BidBody>,
    ) -> CommandResponse {
        let client_id = idempotency_key.0.or_else(|| body.client_bid_id.clone());
        self.run(
            id.0,
            &auth.0.sub,
            client_id.as_deref(),
            |member| match member.team {
                Some(team) => Ok(Command::Bid {
                    team,
                    lot: lot.0,
                    amount: body.amount,
                    expected_version: body.expected_version,
                }),
                None => Err("only a team's manager bids"),
            },
        )
        .await
    }
}
