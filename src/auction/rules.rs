//! The rules. Time is absolute server milliseconds; deadlines are instants (`ends_at`), never
//! counted ticks.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub type Millis = u64;
pub type TeamId = usize;
pub type PlayerId = usize;

/// How an auction is played.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
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

impl Default for Settings {
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
        settings: Settings,
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
        settings: Settings,
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
    pub settings: Settings,
    /// In nomination order.
    pub teams: Vec<Team>,
    pub players: Vec<Player>,
    /// Players still to be sold.
    pub pool: BTreeSet<PlayerId>,
    pub phase: Phase,
    pub sales: Vec<Sale>,
    pub last_lot: u64,
}

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
    pub fn new(settings: Settings, teams: &[&str], players: &[(&str, u32)]) -> Self {
        Self {
            teams: teams
                .iter()
                .map(|name| Team {
                    name: (*name).to_owned(),
                    budget_left: settings.budget,
                    roster: Vec::new(),
                })
                .collect(),
            players: players
                .iter()
                .map(|(name, rank)| Player {
                    name: (*name).to_owned(),
                    rank: *rank,
                })
                .collect(),
            pool: (0..players.len()).collect(),
            phase: Phase::Lobby,
            sales: Vec::new(),
            last_lot: 0,
            settings,
        }
    }

    pub fn open_slots(&self, team: TeamId) -> u32 {
        self.settings.roster_slots - self.teams[team].roster.len() as u32
    }

    /// `budget_left − min_bid × (open_slots − 1)`: what a team can bid and still fill every
    /// other slot at the minimum. `None` when its roster is full.
    pub fn max_bid(&self, team: TeamId) -> Option<u32> {
        let open = self.open_slots(team);
        if open == 0 {
            return None;
        }
        let reserve = self.settings.min_bid * (open - 1);
        Some(self.teams[team].budget_left.saturating_sub(reserve))
    }

    /// Decides a command at server time `now` without changing anything.
    pub fn decide(&self, command: &Command, now: Millis) -> Result<Vec<Event>, Rejection> {
        let s = &self.settings;
        let wrong = |phase: &Phase| Rejection::WrongPhase {
            phase: phase_name(phase).to_owned(),
        };
        match command {
            Command::AddPlayers { players } => match self.phase {
                Phase::Lobby => Ok(vec![Event::PlayersAdded {
                    players: players.clone(),
                }]),
                ref other => Err(wrong(other)),
            },
            Command::ChangeSettings { settings } => match self.phase {
                Phase::Lobby => Ok(vec![Event::SettingsChanged {
                    settings: settings.clone(),
                }]),
                ref other => Err(wrong(other)),
            },
            Command::Start => match self.phase {
                Phase::Lobby
                    if self.pool.len()
                        < (0..self.teams.len())
                            .map(|t| self.open_slots(t) as usize)
                            .sum() =>
                {
                    Err(Rejection::PoolTooSmall)
                }
                Phase::Lobby => Ok(self.next_nomination(0, now)),
                ref other => Err(wrong(other)),
            },
            Command::Nominate {
                team,
                player,
                opening_bid,
            } => {
                let Phase::Nominating {
                    nominator,
                    deadline,
                } = self.phase
                else {
                    return Err(wrong(&self.phase));
                };
                if *team >= self.teams.len() {
                    return Err(Rejection::UnknownTeam);
                }
                if *team != nominator {
                    return Err(Rejection::NotYourTurn);
                }
                if now >= deadline {
                    return Err(Rejection::LotClosed);
                }
                self.open_lot(*team, *player, *opening_bid, now)
            }
            Command::Bid {
                team,
                lot,
                amount,
                expected_version,
            } => {
                let Phase::Bidding(open) = &self.phase else {
                    return Err(Rejection::LotClosed);
                };
                if *team >= self.teams.len() {
                    return Err(Rejection::UnknownTeam);
                }
                if open.id != *lot || now >= open.ends_at {
                    return Err(Rejection::LotClosed);
                }
                if let Some(v) = expected_version
                    && *v != open.version
                {
                    return Err(Rejection::Stale {
                        expected: *v,
                        current: open.version,
                    });
                }
                if open.high_team == *team {
                    return Err(Rejection::AlreadyHighBidder);
                }
                let minimum = open.high_bid.saturating_add(s.increment);
                if *amount < minimum {
                    return Err(Rejection::Outbid { minimum });
                }
                let max = self.max_bid(*team).ok_or(Rejection::RosterFull)?;
                if *amount > max {
                    return Err(Rejection::OverMaxBid { max });
                }
                Ok(vec![Event::BidAccepted {
                    lot: open.id,
                    team: *team,
                    amount: *amount,
                    ends_at: open.ends_at.max(now + s.reset_ms),
                    version: open.version + 1,
                }])
            }
            Command::CloseLot => {
                let Phase::Bidding(open) = &self.phase else {
                    return Err(wrong(&self.phase));
                };
                if now < open.ends_at {
                    return Err(Rejection::NotYetDue);
                }
                let mut events = vec![Event::LotSold {
                    lot: open.id,
                    player: open.player,
                    team: open.high_team,
                    price: open.high_bid,
                }];
                let mut after = self.clone();
                for e in &events {
                    after.apply(e);
                }
                events.extend(after.next_nomination(open.nominator + 1, now));
                Ok(events)
            }
            Command::NominationTimeout => {
                let Phase::Nominating {
                    nominator,
                    deadline,
                } = self.phase
                else {
                    return Err(wrong(&self.phase));
                };
                if now < deadline {
                    return Err(Rejection::NotYetDue);
                }
                let best = self
                    .pool
                    .iter()
                    .min_by_key(|p| (self.players[**p].rank, **p))
                    .copied();
                match best {
                    Some(player) => self.open_lot(nominator, player, s.min_bid, now),
                    None => Ok(vec![Event::Completed]),
                }
            }
            Command::Pause => match &self.phase {
                Phase::Nominating { deadline, .. } => Ok(vec![Event::Paused {
                    remaining: deadline.saturating_sub(now),
                }]),
                Phase::Bidding(lot) => Ok(vec![Event::Paused {
                    remaining: lot.ends_at.saturating_sub(now),
                }]),
                other => Err(wrong(other)),
            },
            Command::Resume => match &self.phase {
                Phase::Paused { remaining, .. } => Ok(vec![Event::Resumed {
                    deadline: now + remaining,
                }]),
                other => Err(wrong(other)),
            },
            Command::VoidSale { player } => {
                if matches!(self.phase, Phase::Lobby | Phase::Completed) {
                    return Err(wrong(&self.phase));
                }
                let sale = self.live_sale(*player)?;
                Ok(vec![Event::SaleVoided {
                    player: *player,
                    team: sale.team,
                    refund: sale.price,
                }])
            }
            Command::EditSale { player, price } => {
                if matches!(self.phase, Phase::Lobby) {
                    return Err(wrong(&self.phase));
                }
                let sale = self.live_sale(*player)?;
                if *price < s.min_bid {
                    return Err(Rejection::BelowMinimum { minimum: s.min_bid });
                }
                // The team must still fill its open slots at the minimum afterwards, and still
                // afford its high bid on the open lot, if it holds one.
                let budget = self.teams[sale.team].budget_left + sale.price;
                let open = self.open_slots(sale.team);
                let mut needed = s.min_bid * open;
                if let Some(lot) = self.open_lot_ref()
                    && lot.high_team == sale.team
                {
                    needed = needed.max(lot.high_bid + s.min_bid * open.saturating_sub(1));
                }
                let max = budget.saturating_sub(needed);
                if *price > max {
                    return Err(Rejection::OverMaxBid { max });
                }
                Ok(vec![Event::SaleEdited {
                    player: *player,
                    team: sale.team,
                    old_price: sale.price,
                    new_price: *price,
                }])
            }
            Command::Complete => match &self.phase {
                Phase::Completed => Err(wrong(&self.phase)),
                Phase::Bidding(lot) => {
                    Ok(vec![Event::LotAbandoned { lot: lot.id }, Event::Completed])
                }
                Phase::Paused { was, .. } => match was.as_ref() {
                    Phase::Bidding(lot) => {
                        Ok(vec![Event::LotAbandoned { lot: lot.id }, Event::Completed])
                    }
                    _ => Ok(vec![Event::Completed]),
                },
                _ => Ok(vec![Event::Completed]),
            },
        }
    }

    /// The open lot, also while paused.
    fn open_lot_ref(&self) -> Option<&Lot> {
        match &self.phase {
            Phase::Bidding(lot) => Some(lot),
            Phase::Paused { was, .. } => match was.as_ref() {
                Phase::Bidding(lot) => Some(lot),
                _ => None,
            },
            _ => None,
        }
    }

    fn live_sale(&self, player: PlayerId) -> Result<&Sale, Rejection> {
        self.sales
            .iter()
            .rev()
            .find(|s| s.player == player && !s.voided)
            .ok_or(Rejection::UnknownSale)
    }

    fn open_lot(
        &self,
        team: TeamId,
        player: PlayerId,
        opening_bid: u32,
        now: Millis,
    ) -> Result<Vec<Event>, Rejection> {
        if !self.pool.contains(&player) {
            return Err(Rejection::PlayerUnavailable);
        }
        if opening_bid < self.settings.min_bid {
            return Err(Rejection::BelowMinimum {
                minimum: self.settings.min_bid,
            });
        }
        let max = self.max_bid(team).ok_or(Rejection::RosterFull)?;
        if opening_bid > max {
            return Err(Rejection::OverMaxBid { max });
        }
        Ok(vec![Event::LotOpened {
            lot: Lot {
                id: self.last_lot + 1,
                player,
                nominator: team,
                high_bid: opening_bid,
                high_team: team,
                ends_at: now + self.settings.bid_ms,
                version: 1,
            },
        }])
    }

    /// The next nominator from `from` on (wrapping), skipping full teams; or completion.
    fn next_nomination(&self, from: TeamId, now: Millis) -> Vec<Event> {
        let n = self.teams.len();
        let next = (0..n)
            .map(|i| (from + i) % n)
            .find(|t| self.open_slots(*t) > 0);
        match next {
            Some(nominator) if !self.pool.is_empty() => vec![Event::NominationOpened {
                nominator,
                deadline: now + self.settings.nomination_ms,
            }],
            _ => vec![Event::Completed],
        }
    }

    /// Applies one event: the only way the state changes.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::PlayersAdded { players } => {
                for p in players {
                    self.pool.insert(self.players.len());
                    self.players.push(p.clone());
                }
            }
            Event::SettingsChanged { settings } => {
                for team in &mut self.teams {
                    team.budget_left = settings.budget;
                }
                self.settings = settings.clone();
            }
            Event::NominationOpened {
                nominator,
                deadline,
            } => {
                self.phase = Phase::Nominating {
                    nominator: *nominator,
                    deadline: *deadline,
                };
            }
            Event::LotOpened { lot } => {
                self.last_lot = lot.id;
                self.phase = Phase::Bidding(lot.clone());
            }
            Event::BidAccepted {
                team,
                amount,
                ends_at,
                version,
                ..
            } => {
                if let Phase::Bidding(lot) = &mut self.phase {
                    lot.high_bid = *amount;
                    lot.high_team = *team;
                    lot.ends_at = *ends_at;
                    lot.version = *version;
                }
            }
            Event::LotSold {
                lot,
                player,
                team,
                price,
            } => {
                let t = &mut self.teams[*team];
                t.budget_left -= price;
                t.roster.push((*player, *price));
                self.pool.remove(player);
                self.sales.push(Sale {
                    lot: *lot,
                    player: *player,
                    team: *team,
                    price: *price,
                    voided: false,
                });
            }
            Event::LotAbandoned { .. } => {}
            Event::Paused { remaining } => {
                let was = std::mem::replace(&mut self.phase, Phase::Lobby);
                self.phase = Phase::Paused {
                    was: Box::new(was),
                    remaining: *remaining,
                };
            }
            Event::Resumed { deadline } => {
                if let Phase::Paused { was, .. } = std::mem::replace(&mut self.phase, Phase::Lobby)
                {
                    self.phase = match *was {
                        Phase::Nominating { nominator, .. } => Phase::Nominating {
                            nominator,
                            deadline: *deadline,
                        },
                        Phase::Bidding(mut lot) => {
                            lot.ends_at = *deadline;
                            Phase::Bidding(lot)
                        }
                        other => other,
                    };
                }
            }
            Event::SaleVoided {
                player,
                team,
                refund,
            } => {
                let t = &mut self.teams[*team];
                t.budget_left += refund;
                t.roster.retain(|(p, _)| p != player);
                self.pool.insert(*player);
                if let Some(s) = self
                    .sales
                    .iter_mut()
                    .rev()
                    .find(|s| s.player == *player && !s.voided)
                {
                    s.voided = true;
                }
            }
            Event::SaleEdited {
                player,
                team,
                old_price,
                new_price,
            } => {
                let t = &mut self.teams[*team];
                t.budget_left = t.budget_left + old_price - new_price;
                if let Some(entry) = t.roster.iter_mut().find(|(p, _)| p == player) {
                    entry.1 = *new_price;
                }
                if let Some(s) = self
                    .sales
                    .iter_mut()
                    .rev()
                    .find(|s| s.player == *player && !s.voided)
                {
                    s.price = *new_price;
                }
            }
            Event::Completed => self.phase = Phase::Completed,
        }
    }

    /// Decides and applies a command; the events it produced.
    pub fn handle(&mut self, command: Command, now: Millis) -> Result<Vec<Event>, Rejection> {
        let events = self.decide(&command, now)?;
        for e in &events {
            self.apply(e);
        }
        Ok(events)
    }

    /// The invariants that hold after every event: spent + left = total budgets; no player on
    /// two rosters (nor on a roster and in the pool); every team can still fill its open slots
    /// at the minimum bid; the high bid of an open lot is within its bidder's max bid.
    pub fn check_invariants(&self) -> Result<(), String> {
        let s = &self.settings;
        let spent: u64 = self
            .teams
            .iter()
            .flat_map(|t| t.roster.iter().map(|(_, p)| u64::from(*p)))
            .sum();
        let left: u64 = self.teams.iter().map(|t| u64::from(t.budget_left)).sum();
        let total = u64::from(s.budget) * self.teams.len() as u64;
        if spent + left != total {
            return Err(format!("spent {spent} + left {left} != {total}"));
        }
        let mut seen = BTreeSet::new();
        for (i, t) in self.teams.iter().enumerate() {
            if t.roster.len() as u32 > s.roster_slots {
                return Err(format!("team {i} has more players than slots"));
            }
            for (p, _) in &t.roster {
                if !seen.insert(*p) {
                    return Err(format!("player {p} is on two rosters"));
                }
                if self.pool.contains(p) {
                    return Err(format!("player {p} is on a roster and in the pool"));
                }
            }
            let open = self.open_slots(i);
            if t.budget_left < s.min_bid * open {
                return Err(format!(
                    "team {i} cannot fill {open} slots with {}",
                    t.budget_left
                ));
            }
        }
        if let Some(lot) = self.open_lot_ref() {
            let max = self.max_bid(lot.high_team).unwrap_or(0);
            if lot.high_bid > max {
                return Err(format!("high bid {} over max bid {max}", lot.high_bid));
            }
            if !self.pool.contains(&lot.player) {
                return Err(format!("lot player {} is not in the pool", lot.player));
            }
        }
        Ok(())
    }
}
