//! `/api/auctions`: create an auction, run it, read its state, events and results (members and
//! invitations are in `members.rs`, players' formats in `players.rs`). Thin: every action is
//! one call to a member's requests (`MemberRequests`); the rules decide.

use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::failure::{Failure, bad_request};
use super::players::{self, PlayersImport};
use super::security::BearerAuth;
use crate::auction::history::{self, BidCursor};
use crate::auction::requests::{MemberAction, MemberRequests};
use crate::auction::store::Accepted;
use crate::auction::{Auction, AuctionSettings, ClientId, Event, PlayerId};
use crate::clock::Millis;
use crate::contract::{AuctionEvent, AuctionState};

pub struct AuctionApi {
    /// `None` only while generating the OpenAPI document.
    requests: Option<MemberRequests>,
}

impl AuctionApi {
    pub fn new(requests: MemberRequests) -> Self {
        Self {
            requests: Some(requests),
        }
    }

    pub fn for_document() -> Self {
        Self { requests: None }
    }

    fn requests(&self) -> &MemberRequests {
        self.requests.as_ref().expect("a serving AuctionApi")
    }

    /// The server clock's time, for `server_now`.
    fn now_ms(&self) -> Millis {
        self.requests().clock().now_ms()
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
    #[oai(validator(min_length = 1, max_length = 100))]
    pub name: String,
    /// The JWT `sub` of the team's manager; or invite one later.
    pub manager: Option<String>,
}

#[derive(Object)]
pub struct CreateAuction {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    /// The name members see the commissioner (the caller) by: 1 to 40 characters after
    /// trimming, no control characters. Omitted: `Commissioner`.
    pub commissioner_name: Option<String>,
    #[oai(default)]
    pub settings: SettingsBody,
    /// In nomination order.
    #[oai(validator(min_items = 2, max_items = 64))]
    pub teams: Vec<TeamBody>,
    /// The pool; more can be imported while the auction is in the lobby.
    #[oai(default, validator(max_items = 10000))]
    pub players: Vec<players::PlayerBody>,
}

#[derive(Object)]
pub struct Created {
    pub id: i64,
}

#[derive(Object)]
pub struct AuctionSummary {
    pub id: i64,
    pub name: String,
    /// The name members see the commissioner by (never their email).
    pub commissioner_name: String,
    /// `lobby`, `nominating`, `bidding`, `paused` or `completed`.
    pub phase: String,
    pub seq: i64,
    pub teams: u32,
    /// Players still available.
    pub pool: u32,
    pub settings: SettingsBody,
}

/// A phase as `AuctionSummary.phase` and `/me` name it.
pub fn phase_name(phase: &crate::auction::Phase) -> &'static str {
    use crate::auction::Phase;
    match phase {
        Phase::Lobby => "lobby",
        Phase::Nominating { .. } => "nominating",
        Phase::Bidding(_) => "bidding",
        Phase::Paused { .. } => "paused",
        Phase::Completed => "completed",
    }
}

#[derive(Object)]
pub struct NumberedEvent {
    pub seq: i64,
    /// The event, tagged by `kind` with the name it has over Socket.IO (`lot:opened`,
    /// `bid:accepted`, `lot:sold`, …).
    pub event: AuctionEvent,
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
    /// The name members see the commissioner by (never their email).
    pub commissioner_name: String,
    /// Settings, teams (budget left, roster), the pool and the phase (the open lot, its
    /// `ends_at` and `version`).
    pub state: AuctionState,
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
    /// Makes a retry return the first answer (the `Idempotency-Key` header does the same):
    /// 1 to 200 visible ASCII characters, as over Socket.IO.
    #[oai(validator(min_length = 1, max_length = 200, pattern = "^[!-~]{1,200}$"))]
    pub client_bid_id: Option<String>,
}

#[derive(Object)]
pub struct BidRecord {
    pub team: u32,
    pub amount: u64,
    pub accepted: bool,
    /// Why it was refused (`outbid`, `stale`, `lot_closed`, …).
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    /// The `seq` of its `bid_accepted` event.
    #[oai(skip_serializing_if_is_none)]
    pub seq: Option<i64>,
    /// Server time it was decided, ms since the Unix epoch.
    pub at: u64,
}

/// One page of a lot's bid history.
#[derive(Object)]
pub struct BidPage {
    pub bids: Vec<BidRecord>,
    /// Pass as `after` for the next page; absent on the last one.
    #[oai(skip_serializing_if_is_none)]
    pub next: Option<String>,
}

#[derive(Object)]
pub struct EditSaleBody {
    pub price: u32,
}

#[derive(Object)]
pub struct RosterEntry {
    pub player: u32,
    pub name: String,
    pub price: u32,
}

#[derive(Object)]
pub struct TeamResult {
    pub team: u32,
    pub name: String,
    pub budget_left: u32,
    pub spent: u32,
    pub roster: Vec<RosterEntry>,
}

#[derive(Object)]
pub struct Results {
    pub seq: i64,
    pub completed: bool,
    pub teams: Vec<TeamResult>,
}

#[derive(ApiResponse)]
pub enum CreateResponse {
    #[oai(status = 201)]
    Created(Json<Created>),
}

#[derive(ApiResponse)]
pub enum CsvResponse {
    #[oai(status = 200, content_type = "text/csv")]
    Csv(PlainText<String>),
}

type Answer<T> = Result<Json<T>, Failure>;

fn numbered(events: Vec<(i64, Event)>) -> Vec<NumberedEvent> {
    events
        .into_iter()
        .map(|(seq, e)| NumberedEvent {
            seq,
            event: AuctionEvent::from(&e),
        })
        .collect()
}

fn command_result(Accepted { events, seq }: Accepted, server_now: Millis) -> Json<CommandResult> {
    Json(CommandResult {
        seq,
        events: numbered(events),
        server_now,
    })
}

fn settings(s: &SettingsBody) -> Result<AuctionSettings, Failure> {
    let d = AuctionSettings::default();
    let secs = |v: Option<u32>, default: u64| v.map_or(default, |v| u64::from(v) * 1000);
    let settings = AuctionSettings {
        budget: s.budget.unwrap_or(d.budget),
        roster_slots: s.roster_slots.unwrap_or(d.roster_slots),
        min_bid: s.min_bid.unwrap_or(d.min_bid),
        increment: s.increment.unwrap_or(d.increment),
        nomination_ms: secs(s.nomination_secs, d.nomination_ms),
        bid_ms: secs(s.bid_secs, d.bid_ms),
        reset_ms: secs(s.reset_secs, d.reset_ms),
    };
    if settings.roster_slots == 0 || settings.min_bid == 0 || settings.increment == 0 {
        return Err(bad_request(
            "invalid_auction",
            "roster_slots, min_bid and increment must be at least 1",
        ));
    }
    if settings.roster_slots > 100 {
        return Err(bad_request("invalid_auction", "at most 100 roster slots"));
    }
    // Bounded so that sums of amounts stay far inside u32.
    if settings.budget > 1_000_000_000 || settings.increment > settings.budget {
        return Err(bad_request(
            "invalid_auction",
            "budget is at most 1,000,000,000 and increment at most the budget",
        ));
    }
    if u64::from(settings.budget) < u64::from(settings.min_bid) * u64::from(settings.roster_slots) {
        return Err(bad_request(
            "invalid_auction",
            "the budget cannot fill a roster at the minimum bid",
        ));
    }
    if settings.nomination_ms == 0 || settings.bid_ms == 0 {
        return Err(bad_request(
            "invalid_auction",
            "nomination_secs and bid_secs must be at least 1",
        ));
    }
    Ok(settings)
}

fn results(state: &Auction, seq: i64) -> Results {
    Results {
        seq,
        completed: matches!(state.phase, crate::auction::Phase::Completed),
        teams: state
            .team_ids()
            .map(|i| (i, state.team(i)))
            .map(|(i, t)| TeamResult {
                team: i.index() as u32,
                name: t.name.clone(),
                budget_left: t.budget_left,
                spent: t.roster.iter().map(|(_, price)| price).sum(),
                roster: t
                    .roster
                    .iter()
                    .map(|&(player, price)| RosterEntry {
                        player: player.index() as u32,
                        name: state.player(player).name.clone(),
                        price,
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn results_csv(results: &Results) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["team", "team_name", "player", "player_name", "price"])
        .expect("writing to memory");
    for t in &results.teams {
        for r in &t.roster {
            out.write_record([
                t.team.to_string(),
                t.name.clone(),
                r.player.to_string(),
                r.name.clone(),
                r.price.to_string(),
            ])
            .expect("writing to memory");
        }
    }
    String::from_utf8(out.into_inner().expect("flushing memory")).expect("CSV of UTF-8 is UTF-8")
}

#[OpenApi(prefix_path = "/auctions", tag = "ApiTags::Auctions")]
impl AuctionApi {
    /// Create an auction; the caller is its commissioner.
    #[oai(path = "/", method = "post", operation_id = "createAuction")]
    async fn create(
        &self,
        auth: BearerAuth,
        body: Json<CreateAuction>,
    ) -> Result<CreateResponse, Failure> {
        let body = body.0;
        let settings = settings(&body.settings)?;
        let commissioner_name = body
            .commissioner_name
            .as_deref()
            .map(super::members::display_name)
            .transpose()?;
        let players =
            players::from_json(body.players).map_err(|e| bad_request("invalid_players", &e))?;
        let names: Vec<&str> = body.teams.iter().map(|t| t.name.as_str()).collect();
        let auction = Auction::with_players(settings, &names, players);
        let managers: Vec<Option<String>> = body.teams.into_iter().map(|t| t.manager).collect();
        let id = self
            .requests()
            .create(
                &body.name,
                &auth.0.sub,
                commissioner_name.as_ref(),
                &auction,
                &managers,
            )
            .await?;
        Ok(CreateResponse::Created(Json(Created { id })))
    }

    /// The auction in brief: name, commissioner, settings, phase, `seq`.
    #[oai(path = "/:id", method = "get", operation_id = "getAuction")]
    async fn get(&self, auth: BearerAuth, id: Path<i64>) -> Answer<AuctionSummary> {
        let snapshot = self.requests().snapshot(id.0, &auth.0.sub).await?;
        let s = &snapshot.state.settings;
        Ok(Json(AuctionSummary {
            id: id.0,
            name: snapshot.name,
            commissioner_name: snapshot.commissioner_name,
            phase: phase_name(&snapshot.state.phase).to_owned(),
            seq: snapshot.seq,
            teams: snapshot.state.teams.len() as u32,
            pool: snapshot.state.pool.len() as u32,
            settings: SettingsBody {
                budget: Some(s.budget),
                roster_slots: Some(s.roster_slots),
                min_bid: Some(s.min_bid),
                increment: Some(s.increment),
                nomination_secs: Some((s.nomination_ms / 1000) as u32),
                bid_secs: Some((s.bid_ms / 1000) as u32),
                reset_secs: Some((s.reset_ms / 1000) as u32),
            },
        }))
    }

    /// Change the settings while the auction is in the lobby (commissioner); omitted fields
    /// take the defaults.
    #[oai(
        path = "/:id/settings",
        method = "put",
        operation_id = "changeSettings"
    )]
    async fn change_settings(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<SettingsBody>,
    ) -> Answer<CommandResult> {
        let settings = settings(&body.0)?;
        self.act(id.0, &auth, MemberAction::ChangeSettings { settings }, None)
            .await
    }

    /// The state now, with its `seq` and the server clock.
    #[oai(path = "/:id/state", method = "get", operation_id = "getAuctionState")]
    async fn state(&self, auth: BearerAuth, id: Path<i64>) -> Answer<StateBody> {
        let snapshot = self.requests().snapshot(id.0, &auth.0.sub).await?;
        Ok(Json(StateBody {
            seq: snapshot.seq,
            server_now: self.now_ms(),
            commissioner_name: snapshot.commissioner_name,
            state: AuctionState::from(&snapshot.state),
        }))
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
    ) -> Answer<EventsBody> {
        let events = self
            .requests()
            .events_after(id.0, &auth.0.sub, after_seq.0)
            .await?;
        Ok(Json(EventsBody {
            events: numbered(events),
            server_now: self.now_ms(),
        }))
    }

    /// The rosters and budgets.
    #[oai(
        path = "/:id/results",
        method = "get",
        operation_id = "getAuctionResults"
    )]
    async fn results(&self, auth: BearerAuth, id: Path<i64>) -> Answer<Results> {
        let snapshot = self.requests().snapshot(id.0, &auth.0.sub).await?;
        Ok(Json(results(&snapshot.state, snapshot.seq)))
    }

    /// The rosters as CSV: `team,team_name,player,player_name,price`, one line per player won.
    #[oai(
        path = "/:id/results.csv",
        method = "get",
        operation_id = "getAuctionResultsCsv"
    )]
    async fn results_csv(&self, auth: BearerAuth, id: Path<i64>) -> Result<CsvResponse, Failure> {
        let snapshot = self.requests().snapshot(id.0, &auth.0.sub).await?;
        Ok(CsvResponse::Csv(PlainText(results_csv(&results(
            &snapshot.state,
            snapshot.seq,
        )))))
    }

    /// Add players to the pool while the auction is in the lobby (commissioner): JSON or CSV.
    #[oai(path = "/:id/players", method = "post", operation_id = "importPlayers")]
    async fn import_players(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: PlayersImport,
    ) -> Answer<CommandResult> {
        let players = body
            .players()
            .map_err(|e| bad_request("invalid_players", &e))?;
        if players.is_empty() || players.len() > 10_000 {
            return Err(bad_request("invalid_players", "import 1 to 10000 players"));
        }
        let accepted = self
            .requests()
            .act(
                id.0,
                &auth.0.sub,
                MemberAction::AddPlayers { players },
                None,
            )
            .await?;
        Ok(command_result(accepted, self.now_ms()))
    }

    /// Start nominating (commissioner).
    #[oai(path = "/:id/start", method = "post", operation_id = "startAuction")]
    async fn start(&self, auth: BearerAuth, id: Path<i64>) -> Answer<CommandResult> {
        self.act(id.0, &auth, MemberAction::Start, None).await
    }

    /// Freeze the clocks (commissioner).
    #[oai(path = "/:id/pause", method = "post", operation_id = "pauseAuction")]
    async fn pause(&self, auth: BearerAuth, id: Path<i64>) -> Answer<CommandResult> {
        self.act(id.0, &auth, MemberAction::Pause, None).await
    }

    /// Resume with the time that was left (commissioner).
    #[oai(path = "/:id/resume", method = "post", operation_id = "resumeAuction")]
    async fn resume(&self, auth: BearerAuth, id: Path<i64>) -> Answer<CommandResult> {
        self.act(id.0, &auth, MemberAction::Resume, None).await
    }

    /// End the auction (commissioner).
    #[oai(
        path = "/:id/complete",
        method = "post",
        operation_id = "completeAuction"
    )]
    async fn complete(&self, auth: BearerAuth, id: Path<i64>) -> Answer<CommandResult> {
        self.act(id.0, &auth, MemberAction::Complete, None).await
    }

    /// Undo one sale: refund, player back in the pool; later sales stand (commissioner).
    #[oai(
        path = "/:id/sales/:player/void",
        method = "post",
        operation_id = "voidSale"
    )]
    async fn void_sale(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        player: Path<u32>,
    ) -> Answer<CommandResult> {
        let action = MemberAction::VoidSale {
            player: PlayerId(player.0 as usize),
        };
        self.act(id.0, &auth, action, None).await
    }

    /// Change one sale's price (commissioner).
    #[oai(path = "/:id/sales/:player", method = "put", operation_id = "editSale")]
    async fn edit_sale(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        player: Path<u32>,
        body: Json<EditSaleBody>,
    ) -> Answer<CommandResult> {
        let action = MemberAction::EditSale {
            player: PlayerId(player.0 as usize),
            price: body.price,
        };
        self.act(id.0, &auth, action, None).await
    }

    /// Nominate a player for your team (when it is your turn).
    #[oai(path = "/:id/lots", method = "post", operation_id = "nominate")]
    async fn nominate(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<NominateBody>,
    ) -> Answer<CommandResult> {
        let action = MemberAction::Nominate {
            player: PlayerId(body.player as usize),
            opening_bid: body.opening_bid,
        };
        self.act(id.0, &auth, action, None).await
    }

    /// A lot's bid history, a page at a time.
    ///
    /// Every bid on the lot, accepted or refused (with the reason), in the order decided: follow
    /// `next` (as `after`) until a page has none. A member's refused bids on a lot are kept up to
    /// a bound (`stored_refusals_per_lot`); later ones were answered but not stored.
    #[oai(
        path = "/:id/lots/:lot/bids",
        method = "get",
        operation_id = "listBids"
    )]
    async fn list_bids(
        &self,
        auth: BearerAuth,
        id: Path<i64>,
        lot: Path<u64>,
        /// The `next` of the previous page; omitted for the first.
        #[oai(validator(max_length = 39))]
        after: Query<Option<String>>,
        /// Bids per page (100 when omitted).
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<u32>>,
    ) -> Answer<BidPage> {
        let after = match after.0.as_deref().map(str::parse::<BidCursor>) {
            None => None,
            Some(Ok(cursor)) => Some(cursor),
            Some(Err(e)) => return Err(bad_request("invalid_cursor", e)),
        };
        let limit = limit.0.unwrap_or(history::DEFAULT_PAGE);
        let page = self
            .requests()
            .bids(id.0, &auth.0.sub, lot.0, after, limit)
            .await?;
        Ok(Json(BidPage {
            bids: page
                .bids
                .into_iter()
                .map(|b| BidRecord {
                    team: b.team.index() as u32,
                    amount: u64::from(b.amount),
                    accepted: b.accepted,
                    reason: b.reason,
                    seq: b.seq,
                    at: b.at,
                })
                .collect(),
            next: page.next.map(|c| c.to_string()),
        }))
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
        /// Makes a retry return the first answer: 1 to 200 visible ASCII characters.
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 200, pattern = "^[!-~]{1,200}$")
        )]
        idempotency_key: Header<Option<String>>,
        body: Json<BidBody>,
    ) -> Answer<CommandResult> {
        // The validators above document the rule; this is where it is applied, as over
        // Socket.IO.
        let client_id = idempotency_key
            .0
            .or_else(|| body.client_bid_id.clone())
            .map(|text| ClientId::parse(&text))
            .transpose()
            .map_err(|e| bad_request("bad_request", &e.to_string()))?;
        let action = MemberAction::Bid {
            lot: lot.0,
            amount: body.amount,
            expected_version: body.expected_version,
        };
        self.act(id.0, &auth, action, client_id.as_ref()).await
    }
}

impl AuctionApi {
    async fn act(
        &self,
        id: i64,
        auth: &BearerAuth,
        action: MemberAction,
        client_id: Option<&ClientId>,
    ) -> Answer<CommandResult> {
        let accepted = self
            .requests()
            .act(id, &auth.0.sub, action, client_id)
            .await?;
        Ok(command_result(accepted, self.now_ms()))
    }
}
