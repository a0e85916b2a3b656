//! What holds after every event; property tests replay random commands against it.

use std::collections::BTreeSet;

use super::Auction;

impl Auction {
    /// The invariants that hold after every event: spent + left = total budgets; no player on
    /// two rosters (nor on a roster and in the pool); every team can still fill its open slots
    /// at the minimum bid; the high bid of an open lot is within its bidder's max bid.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_budgets_add_up()?;
        self.check_rosters()?;
        self.check_open_lot()
    }

    fn check_budgets_add_up(&self) -> Result<(), String> {
        let spent: u64 = self
            .teams
            .iter()
            .flat_map(|t| t.roster.iter().map(|(_, p)| u64::from(*p)))
            .sum();
        let left: u64 = self.teams.iter().map(|t| u64::from(t.budget_left)).sum();
        let total = u64::from(self.settings.budget) * self.teams.len() as u64;
        if spent + left != total {
            return Err(format!("spent {spent} + left {left} != {total}"));
        }
        Ok(())
    }

    fn check_rosters(&self) -> Result<(), String> {
        let s = &self.settings;
        let mut seen = BTreeSet::new();
        for i in self.team_ids() {
            let t = self.team(i);
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
        Ok(())
    }

    fn check_open_lot(&self) -> Result<(), String> {
        let Some(lot) = self.open_lot() else {
            return Ok(());
        };
        let max = self.max_bid(lot.high_team).unwrap_or(0);
        if lot.high_bid > max {
            return Err(format!("high bid {} over max bid {max}", lot.high_bid));
        }
        if !self.pool.contains(&lot.player) {
            return Err(format!("lot player {} is not in the pool", lot.player));
        }
        Ok(())
    }
}
