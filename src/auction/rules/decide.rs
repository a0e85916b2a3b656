//! Deciding a command: accepted as events, or refused with a reason. Nothing changes here.

use super::{
    Auction, AuctionSettings, Command, Event, Lot, Millis, Phase, Player, PlayerId, Rejection,
    Sale, TeamId, phase_name,
};

impl Auction {
    /// Decides a command at server time `now` without changing anything.
    pub fn decide(&self, command: &Command, now: Millis) -> Result<Vec<Event>, Rejection> {
        match command {
            Command::AddPlayers { players } => self.decide_add_players(players),
            Command::ChangeSettings { settings } => self.decide_change_settings(settings),
            Command::Start => self.decide_start(now),
            Command::Nominate {
                team,
                player,
                opening_bid,
            } => self.decide_nominate(*team, *player, *opening_bid, now),
            Command::Bid {
                team,
                lot,
                amount,
                expected_version,
            } => self.decide_bid(*team, *lot, *amount, *expected_version, now),
            Command::CloseLot => self.decide_close_lot(now),
            Command::NominationTimeout => self.decide_nomination_timeout(now),
            Command::Pause => self.decide_pause(now),
            Command::Resume => self.decide_resume(now),
            Command::VoidSale { player } => self.decide_void_sale(*player),
            Command::EditSale { player, price } => self.decide_edit_sale(*player, *price),
            Command::Complete => self.decide_complete(),
        }
    }

    /// Refuses a command the current phase does not take.
    fn wrong_phase(&self) -> Rejection {
        Rejection::WrongPhase {
            phase: phase_name(&self.phase).to_owned(),
        }
    }

    fn in_lobby(&self) -> Result<(), Rejection> {
        match self.phase {
            Phase::Lobby => Ok(()),
            _ => Err(self.wrong_phase()),
        }
    }

    fn decide_add_players(&self, players: &[Player]) -> Result<Vec<Event>, Rejection> {
        self.in_lobby()?;
        Ok(vec![Event::PlayersAdded {
            players: players.to_vec(),
        }])
    }

    fn decide_change_settings(&self, settings: &AuctionSettings) -> Result<Vec<Event>, Rejection> {
        self.in_lobby()?;
        Ok(vec![Event::SettingsChanged {
            settings: settings.clone(),
        }])
    }

    /// Starting needs a pool that can fill every open roster slot.
    fn decide_start(&self, now: Millis) -> Result<Vec<Event>, Rejection> {
        self.in_lobby()?;
        let open: usize = self.team_ids().map(|t| self.open_slots(t) as usize).sum();
        if self.pool.len() < open {
            return Err(Rejection::PoolTooSmall);
        }
        Ok(self.next_nomination(TeamId(0), now))
    }

    fn decide_nominate(
        &self,
        team: TeamId,
        player: PlayerId,
        opening_bid: u32,
        now: Millis,
    ) -> Result<Vec<Event>, Rejection> {
        let Phase::Nominating {
            nominator,
            deadline,
        } = self.phase
        else {
            return Err(self.wrong_phase());
        };
        if team.index() >= self.teams.len() {
            return Err(Rejection::UnknownTeam);
        }
        if team != nominator {
            return Err(Rejection::NotYourTurn);
        }
        if now >= deadline {
            return Err(Rejection::LotClosed);
        }
        self.decide_lot_opening(team, player, opening_bid, now)
    }

    /// A bid on the open lot: before its end, on the version the bidder saw, by the increment,
    /// within the bidder's max bid. It extends the clock to at least `reset_ms` from now.
    fn decide_bid(
        &self,
        team: TeamId,
        lot: u64,
        amount: u32,
        expected_version: Option<u32>,
        now: Millis,
    ) -> Result<Vec<Event>, Rejection> {
        let Phase::Bidding(open) = &self.phase else {
            return Err(Rejection::LotClosed);
        };
        if team.index() >= self.teams.len() {
            return Err(Rejection::UnknownTeam);
        }
        if open.id != lot || now >= open.ends_at {
            return Err(Rejection::LotClosed);
        }
        if let Some(expected) = expected_version
            && expected != open.version
        {
            return Err(Rejection::Stale {
                expected,
                current: open.version,
            });
        }
        if open.high_team == team {
            return Err(Rejection::AlreadyHighBidder);
        }
        let minimum = open.high_bid.saturating_add(self.settings.increment);
        if amount < minimum {
            return Err(Rejection::Outbid { minimum });
        }
        let max = self.max_bid(team).ok_or(Rejection::RosterFull)?;
        if amount > max {
            return Err(Rejection::OverMaxBid { max });
        }
        Ok(vec![Event::BidAccepted {
            lot: open.id,
            team,
            amount,
            ends_at: open.ends_at.max(now + self.settings.reset_ms),
            version: open.version + 1,
        }])
    }

    /// Once its deadline passed, the lot goes to the high bidder and the next team nominates.
    fn decide_close_lot(&self, now: Millis) -> Result<Vec<Event>, Rejection> {
        let Phase::Bidding(open) = &self.phase else {
            return Err(self.wrong_phase());
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
        events.extend(after.next_nomination(open.nominator.next(), now));
        Ok(events)
    }

    /// A nominator whose clock ran out gets the best-ranked player at the minimum bid; with the
    /// pool empty, the auction completes.
    fn decide_nomination_timeout(&self, now: Millis) -> Result<Vec<Event>, Rejection> {
        let Phase::Nominating {
            nominator,
            deadline,
        } = self.phase
        else {
            return Err(self.wrong_phase());
        };
        if now < deadline {
            return Err(Rejection::NotYetDue);
        }
        let best = self
            .pool
            .iter()
            .min_by_key(|p| (self.player(**p).rank, **p))
            .copied();
        match best {
            Some(player) => self.decide_lot_opening(nominator, player, self.settings.min_bid, now),
            None => Ok(vec![Event::Completed]),
        }
    }

    /// Freezes the running clock with the time it had left.
    fn decide_pause(&self, now: Millis) -> Result<Vec<Event>, Rejection> {
        let deadline = match &self.phase {
            Phase::Nominating { deadline, .. } => *deadline,
            Phase::Bidding(lot) => lot.ends_at,
            _ => return Err(self.wrong_phase()),
        };
        Ok(vec![Event::Paused {
            remaining: deadline.saturating_sub(now),
        }])
    }

    fn decide_resume(&self, now: Millis) -> Result<Vec<Event>, Rejection> {
        let Phase::Paused { remaining, .. } = &self.phase else {
            return Err(self.wrong_phase());
        };
        Ok(vec![Event::Resumed {
            deadline: now + remaining,
        }])
    }

    fn decide_void_sale(&self, player: PlayerId) -> Result<Vec<Event>, Rejection> {
        if matches!(self.phase, Phase::Lobby | Phase::Completed) {
            return Err(self.wrong_phase());
        }
        let sale = self.live_sale(player).ok_or(Rejection::UnknownSale)?;
        Ok(vec![Event::SaleVoided {
            player,
            team: sale.team,
            refund: sale.price,
        }])
    }

    fn decide_edit_sale(&self, player: PlayerId, price: u32) -> Result<Vec<Event>, Rejection> {
        if matches!(self.phase, Phase::Lobby) {
            return Err(self.wrong_phase());
        }
        let sale = self.live_sale(player).ok_or(Rejection::UnknownSale)?;
        let min_bid = self.settings.min_bid;
        if price < min_bid {
            return Err(Rejection::BelowMinimum { minimum: min_bid });
        }
        let max = self.max_edited_price(sale);
        if price > max {
            return Err(Rejection::OverMaxBid { max });
        }
        Ok(vec![Event::SaleEdited {
            player,
            team: sale.team,
            old_price: sale.price,
            new_price: price,
        }])
    }

    /// The most a sale can be changed to: its team must still fill its open slots at the
    /// minimum afterwards, and still afford its high bid on the open lot, if it holds one.
    fn max_edited_price(&self, sale: &Sale) -> u32 {
        let min_bid = self.settings.min_bid;
        let budget = self.team(sale.team).budget_left + sale.price;
        let open = self.open_slots(sale.team);
        let mut needed = min_bid * open;
        if let Some(lot) = self.open_lot()
            && lot.high_team == sale.team
        {
            needed = needed.max(lot.high_bid + min_bid * open.saturating_sub(1));
        }
        budget.saturating_sub(needed)
    }

    /// The commissioner ends the auction; an open lot (also a paused one) is abandoned.
    fn decide_complete(&self) -> Result<Vec<Event>, Rejection> {
        if matches!(self.phase, Phase::Completed) {
            return Err(self.wrong_phase());
        }
        Ok(match self.open_lot() {
            Some(lot) => vec![Event::LotAbandoned { lot: lot.id }, Event::Completed],
            None => vec![Event::Completed],
        })
    }

    /// `team` opens a lot on `player` at `opening_bid`.
    fn decide_lot_opening(
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
            .map(|i| TeamId((from.index() + i) % n))
            .find(|t| self.open_slots(*t) > 0);
        match next {
            Some(nominator) if !self.pool.is_empty() => vec![Event::NominationOpened {
                nominator,
                deadline: now + self.settings.nomination_ms,
            }],
            _ => vec![Event::Completed],
        }
    }
}
