//! Applying an event: the only way an auction's state changes. Events were decided against
//! the state they apply to, so nothing is checked again here.

use super::{Auction, AuctionSettings, Event, Lot, Millis, Phase, Player, PlayerId, Sale, TeamId};

impl Auction {
    /// Applies one event: the only way the state changes.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::PlayersAdded { players } => self.add_to_pool(players),
            Event::SettingsChanged { settings } => self.change_settings(settings),
            Event::NominationOpened {
                nominator,
                deadline,
            } => {
                self.phase = Phase::Nominating {
                    nominator: *nominator,
                    deadline: *deadline,
                };
            }
            Event::LotOpened { lot } => self.open(lot),
            Event::BidAccepted {
                team,
                amount,
                ends_at,
                version,
                ..
            } => self.raise_high_bid(*team, *amount, *ends_at, *version),
            Event::LotSold {
                lot,
                player,
                team,
                price,
            } => self.sell(*lot, *player, *team, *price),
            Event::LotAbandoned { .. } => {}
            Event::Paused { remaining } => self.pause_clock(*remaining),
            Event::Resumed { deadline } => self.resume_clock(*deadline),
            Event::SaleVoided {
                player,
                team,
                refund,
            } => self.void_sale(*player, *team, *refund),
            Event::SaleEdited {
                player,
                team,
                old_price,
                new_price,
            } => self.reprice_sale(*player, *team, *old_price, *new_price),
            Event::Completed => self.phase = Phase::Completed,
        }
    }

    fn add_to_pool(&mut self, players: &[Player]) {
        for p in players {
            self.pool.insert(PlayerId(self.players.len()));
            self.players.push(p.clone());
        }
    }

    /// New settings reset every budget to the new one (only ever in the lobby).
    fn change_settings(&mut self, settings: &AuctionSettings) {
        for team in &mut self.teams {
            team.budget_left = settings.budget;
        }
        self.settings = settings.clone();
    }

    fn open(&mut self, lot: &Lot) {
        self.last_lot = lot.id;
        self.phase = Phase::Bidding(lot.clone());
    }

    fn raise_high_bid(&mut self, team: TeamId, amount: u32, ends_at: Millis, version: u32) {
        if let Phase::Bidding(lot) = &mut self.phase {
            lot.high_bid = amount;
            lot.high_team = team;
            lot.ends_at = ends_at;
            lot.version = version;
        }
    }

    fn sell(&mut self, lot: u64, player: PlayerId, team: TeamId, price: u32) {
        let t = &mut self.teams[team.index()];
        t.budget_left -= price;
        t.roster.push((player, price));
        self.pool.remove(&player);
        self.sales.push(Sale {
            lot,
            player,
            team,
            price,
            voided: false,
        });
    }

    /// Keeps the phase that was running, with the time its clock had left.
    fn pause_clock(&mut self, remaining: Millis) {
        let was = std::mem::replace(&mut self.phase, Phase::Lobby);
        self.phase = Phase::Paused {
            was: Box::new(was),
            remaining,
        };
    }

    /// The paused phase runs again, its clock now ending at `deadline`.
    fn resume_clock(&mut self, deadline: Millis) {
        let Phase::Paused { was, .. } = std::mem::replace(&mut self.phase, Phase::Lobby) else {
            return;
        };
        self.phase = match *was {
            Phase::Nominating { nominator, .. } => Phase::Nominating {
                nominator,
                deadline,
            },
            Phase::Bidding(mut lot) => {
                lot.ends_at = deadline;
                Phase::Bidding(lot)
            }
            other => other,
        };
    }

    /// Refund, player off the roster and back in the pool; the sale stays on record, voided.
    fn void_sale(&mut self, player: PlayerId, team: TeamId, refund: u32) {
        let t = &mut self.teams[team.index()];
        t.budget_left += refund;
        t.roster.retain(|(p, _)| *p != player);
        self.pool.insert(player);
        if let Some(sale) = self.live_sale_mut(player) {
            sale.voided = true;
        }
    }

    fn reprice_sale(&mut self, player: PlayerId, team: TeamId, old_price: u32, new_price: u32) {
        let t = &mut self.teams[team.index()];
        t.budget_left = t.budget_left + old_price - new_price;
        if let Some(entry) = t.roster.iter_mut().find(|(p, _)| *p == player) {
            entry.1 = new_price;
        }
        if let Some(sale) = self.live_sale_mut(player) {
            sale.price = new_price;
        }
    }

    fn live_sale_mut(&mut self, player: PlayerId) -> Option<&mut Sale> {
        self.sales
            .iter_mut()
            .rev()
            .find(|s| s.player == player && !s.voided)
    }
}
