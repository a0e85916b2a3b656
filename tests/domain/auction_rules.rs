//! The auction rules as pure functions: examples at the edges, and properties over random bid
//! schedules and settings.

use gavel::auction::{
    Auction, AuctionSettings, Command, Event, Phase, PlayerId, Rejection, TeamId,
};
use proptest::prelude::*;

fn settings(slots: u32, budget: u32) -> AuctionSettings {
    AuctionSettings {
        budget,
        roster_slots: slots,
        min_bid: 1,
        increment: 1,
        nomination_ms: 30_000,
        bid_ms: 20_000,
        reset_ms: 10_000,
    }
}

fn players(n: usize) -> Vec<(String, u32)> {
    (0..n).map(|i| (format!("P{i}"), i as u32 + 1)).collect()
}

fn auction(teams: usize, slots: u32, budget: u32, pool: usize) -> Auction {
    let names: Vec<String> = (0..teams).map(|i| format!("T{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let ps = players(pool);
    let ps: Vec<(&str, u32)> = ps.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    Auction::new(settings(slots, budget), &names, &ps)
}

fn lot(a: &Auction) -> gavel::auction::Lot {
    match &a.phase {
        Phase::Bidding(l) => l.clone(),
        other => panic!("no open lot: {other:?}"),
    }
}

#[test]
fn max_bid_is_exact_at_the_edges() {
    // 3 slots, 10 budget, min 1: max = 10 - 1 * 2 = 8.
    let mut a = auction(2, 3, 10, 6);
    a.handle(Command::Start, 0).unwrap();
    assert_eq!(a.max_bid(TeamId(1)), Some(8));
    a.handle(
        Command::Nominate {
            team: TeamId(0),
            player: PlayerId(0),
            opening_bid: 1,
        },
        0,
    )
    .unwrap();
    assert_eq!(
        a.decide(
            &Command::Bid {
                team: TeamId(1),
                lot: 1,
                amount: 9,
                expected_version: None
            },
            1
        ),
        Err(Rejection::OverMaxBid { max: 8 })
    );
    a.handle(
        Command::Bid {
            team: TeamId(1),
            lot: 1,
            amount: 8,
            expected_version: None,
        },
        1,
    )
    .unwrap();
    a.handle(Command::CloseLot, 100_000).unwrap();
    // 2 open slots, 2 left: max = 2 - 1 = 1; the team can still fill both slots at 1.
    assert_eq!(a.teams[1].budget_left, 2);
    assert_eq!(a.max_bid(TeamId(1)), Some(1));
    a.check_invariants().unwrap();
}

#[test]
fn nothing_is_accepted_at_or_after_ends_at_and_the_reset_rule_extends_the_clock() {
    let mut a = auction(2, 2, 50, 4);
    a.handle(Command::Start, 0).unwrap();
    a.handle(
        Command::Nominate {
            team: TeamId(0),
            player: PlayerId(1),
            opening_bid: 1,
        },
        1_000,
    )
    .unwrap();
    let ends = lot(&a).ends_at;
    assert_eq!(ends, 21_000);
    // 5 s left: the bid resets the clock to 10 s.
    a.handle(
        Command::Bid {
            team: TeamId(1),
            lot: 1,
            amount: 2,
            expected_version: Some(1),
        },
        16_000,
    )
    .unwrap();
    assert_eq!(lot(&a).ends_at, 26_000);
    // 15 s left: no change.
    a.handle(
        Command::Bid {
            team: TeamId(0),
            lot: 1,
            amount: 3,
            expected_version: Some(2),
        },
        11_000,
    )
    .unwrap();
    assert_eq!(lot(&a).ends_at, 26_000);
    assert_eq!(
        a.decide(
            &Command::Bid {
                team: TeamId(1),
                lot: 1,
                amount: 9,
                expected_version: None
            },
            26_000
        ),
        Err(Rejection::LotClosed)
    );
    assert_eq!(
        a.decide(&Command::CloseLot, 25_999),
        Err(Rejection::NotYetDue)
    );
    let events = a.handle(Command::CloseLot, 26_000).unwrap();
    assert!(matches!(
        events[0],
        Event::LotSold {
            team: TeamId(0),
            price: 3,
            ..
        }
    ));
    // A second closer finds nothing to close.
    assert!(a.decide(&Command::CloseLot, 26_001).is_err());
}

#[test]
fn stale_outbid_and_own_bids_are_refused() {
    let mut a = auction(3, 2, 50, 6);
    a.handle(Command::Start, 0).unwrap();
    a.handle(
        Command::Nominate {
            team: TeamId(0),
            player: PlayerId(0),
            opening_bid: 5,
        },
        0,
    )
    .unwrap();
    assert_eq!(
        a.decide(
            &Command::Bid {
                team: TeamId(1),
                lot: 1,
                amount: 5,
                expected_version: None
            },
            1
        ),
        Err(Rejection::Outbid { minimum: 6 })
    );
    assert_eq!(
        a.decide(
            &Command::Bid {
                team: TeamId(0),
                lot: 1,
                amount: 9,
                expected_version: None
            },
            1
        ),
        Err(Rejection::AlreadyHighBidder)
    );
    a.handle(
        Command::Bid {
            team: TeamId(1),
            lot: 1,
            amount: 6,
            expected_version: Some(1),
        },
        1,
    )
    .unwrap();
    assert_eq!(
        a.decide(
            &Command::Bid {
                team: TeamId(2),
                lot: 1,
                amount: 10,
                expected_version: Some(1)
            },
            2
        ),
        Err(Rejection::Stale {
            expected: 1,
            current: 2
        })
    );
    assert_eq!(
        a.decide(
            &Command::Bid {
                team: TeamId(2),
                lot: 7,
                amount: 10,
                expected_version: None
            },
            2
        ),
        Err(Rejection::LotClosed)
    );
    assert_eq!(
        Rejection::Stale {
            expected: 1,
            current: 2
        }
        .kind(),
        "stale"
    );
}

#[test]
fn nomination_rotates_skipping_full_teams_and_times_out_to_the_best_player() {
    let mut a = auction(3, 1, 10, 5);
    a.handle(Command::Start, 0).unwrap();
    assert!(matches!(
        a.phase,
        Phase::Nominating {
            nominator: TeamId(0),
            ..
        }
    ));
    assert_eq!(
        a.decide(
            &Command::Nominate {
                team: TeamId(1),
                player: PlayerId(0),
                opening_bid: 1
            },
            1
        ),
        Err(Rejection::NotYourTurn)
    );
    // Team 0 nominates; team 1 wins: team 1's roster (one slot) is full.
    a.handle(
        Command::Nominate {
            team: TeamId(0),
            player: PlayerId(3),
            opening_bid: 1,
        },
        1,
    )
    .unwrap();
    a.handle(
        Command::Bid {
            team: TeamId(1),
            lot: 1,
            amount: 2,
            expected_version: None,
        },
        2,
    )
    .unwrap();
    a.handle(Command::CloseLot, 60_000).unwrap();
    // Next after team 0 is team 1, full: team 2.
    let Phase::Nominating {
        nominator,
        deadline,
    } = a.phase.clone()
    else {
        panic!()
    };
    assert_eq!(nominator, TeamId(2));
    // Team 2 lets its clock run out: the best-ranked player in the pool opens at the minimum.
    assert_eq!(
        a.decide(&Command::NominationTimeout, deadline - 1),
        Err(Rejection::NotYetDue)
    );
    a.handle(Command::NominationTimeout, deadline).unwrap();
    let l = lot(&a);
    assert_eq!(
        (l.player, l.high_bid, l.high_team),
        (PlayerId(0), 1, TeamId(2))
    );
}

#[test]
fn pause_and_resume_keep_the_time_that_was_left() {
    let mut a = auction(2, 2, 20, 4);
    a.handle(Command::Start, 0).unwrap();
    a.handle(
        Command::Nominate {
            team: TeamId(0),
            player: PlayerId(0),
            opening_bid: 1,
        },
        0,
    )
    .unwrap();
    a.handle(Command::Pause, 12_000).unwrap(); // 8 s left
    assert!(
        a.decide(
            &Command::Bid {
                team: TeamId(1),
                lot: 1,
                amount: 2,
                expected_version: None
            },
            13_000
        )
        .is_err()
    );
    a.handle(Command::Resume, 100_000).unwrap();
    assert_eq!(lot(&a).ends_at, 108_000);
    a.handle(
        Command::Bid {
            team: TeamId(1),
            lot: 1,
            amount: 2,
            expected_version: None,
        },
        107_000,
    )
    .unwrap();
}

#[test]
fn voiding_or_editing_one_sale_leaves_later_sales_alone() {
    let mut a = auction(2, 2, 20, 4);
    a.handle(Command::Start, 0).unwrap();
    let mut now = 0;
    for (player, price) in [(PlayerId(0), 5), (PlayerId(1), 7)] {
        let Phase::Nominating { nominator, .. } = a.phase.clone() else {
            panic!()
        };
        a.handle(
            Command::Nominate {
                team: nominator,
                player,
                opening_bid: price,
            },
            now,
        )
        .unwrap();
        now += 30_000;
        a.handle(Command::CloseLot, now).unwrap();
    }
    assert_eq!(a.teams[0].roster, vec![(PlayerId(0), 5)]);
    assert_eq!(a.teams[1].roster, vec![(PlayerId(1), 7)]);
    a.handle(
        Command::VoidSale {
            player: PlayerId(0),
        },
        now,
    )
    .unwrap();
    assert_eq!(a.teams[0].budget_left, 20);
    assert!(a.pool.contains(&PlayerId(0)));
    assert_eq!(
        a.teams[1].roster,
        vec![(PlayerId(1), 7)],
        "the later sale stands"
    );
    // Editing: a price that would leave team 1 unable to fill its open slot is refused.
    assert_eq!(
        a.decide(
            &Command::EditSale {
                player: PlayerId(1),
                price: 20
            },
            now
        ),
        Err(Rejection::OverMaxBid { max: 19 })
    );
    a.handle(
        Command::EditSale {
            player: PlayerId(1),
            price: 3,
        },
        now,
    )
    .unwrap();
    assert_eq!(a.teams[1].budget_left, 17);
    a.check_invariants().unwrap();
}

#[test]
fn the_auction_completes_when_every_roster_is_full() {
    let mut a = auction(2, 1, 5, 5);
    a.handle(Command::Start, 0).unwrap();
    let mut now = 0;
    for _ in 0..2 {
        a.handle(Command::NominationTimeout, now + 30_000).unwrap();
        now += 60_000;
        a.handle(Command::CloseLot, now).unwrap();
    }
    assert_eq!(a.phase, Phase::Completed);
}

/// One random step of a schedule.
#[derive(Debug, Clone)]
enum Step {
    Bid {
        team: usize,
        delta: i64,
        stale: bool,
    },
    BidMax {
        team: usize,
        over: bool,
    },
    Wait {
        ms: u64,
    },
    Nominate {
        player: usize,
        opening: u32,
    },
    Timeout,
    Close,
    Pause,
    Resume,
    Void {
        player: usize,
    },
    Edit {
        player: usize,
        price: u32,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0usize..6, -3i64..12, any::<bool>()).prop_map(|(team, delta, stale)| Step::Bid { team, delta, stale }),
        2 => (0usize..6, any::<bool>()).prop_map(|(team, over)| Step::BidMax { team, over }),
        4 => (0u64..25_000).prop_map(|ms| Step::Wait { ms }),
        3 => (0usize..30, 0u32..20).prop_map(|(player, opening)| Step::Nominate { player, opening }),
        1 => Just(Step::Timeout),
        3 => Just(Step::Close),
        1 => Just(Step::Pause),
        1 => Just(Step::Resume),
        1 => (0usize..30).prop_map(|player| Step::Void { player }),
        2 => (0usize..30, 0u32..60).prop_map(|(player, price)| Step::Edit { player, price }),
    ]
}

/// A player with a live sale (by `i`), or — one time in four — any player.
fn pick_sold(a: &Auction, i: usize, players: usize) -> PlayerId {
    let live: Vec<PlayerId> = a
        .sales
        .iter()
        .filter(|s| !s.voided)
        .map(|s| s.player)
        .collect();
    if live.is_empty() || i % 4 == 3 {
        PlayerId(i % players)
    } else {
        live[i % live.len()]
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Invariants hold after every event; refused commands change nothing; no bid is accepted
    /// at or after its lot's `ends_at`; accepted amounts strictly increase within a lot; and
    /// replaying the events reproduces the state.
    #[test]
    fn random_schedules_keep_every_invariant(
        teams in 2usize..6,
        slots in 1u32..4,
        extra in 0u32..60,
        min_bid in 1u32..3,
        increment in 1u32..4,
        steps in prop::collection::vec(step(), 1..120),
    ) {
        let budget = slots * min_bid + extra;
        let names: Vec<String> = (0..teams).map(|i| format!("T{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let ps = players(teams * slots as usize + 3);
        let ps: Vec<(&str, u32)> = ps.iter().map(|(n, r)| (n.as_str(), *r)).collect();
        let s = AuctionSettings { budget, roster_slots: slots, min_bid, increment, ..settings(slots, budget) };
        let initial = Auction::new(s, &names, &ps);
        let mut a = initial.clone();
        let mut log: Vec<Event> = a.handle(Command::Start, 0).unwrap();
        let mut now: u64 = 0;
        let mut last_amount: Option<(u64, u32)> = None;
        for st in steps {
            let command = match (&st, &a.phase) {
                (Step::Wait { ms }, _) => { now += ms; continue; }
                (Step::Bid { team, delta, stale }, Phase::Bidding(l)) => Command::Bid {
                    team: TeamId(team % teams),
                    lot: l.id,
                    amount: (i64::from(l.high_bid) + delta).max(0) as u32,
                    expected_version: Some(if *stale { l.version.saturating_sub(1) } else { l.version }),
                },
                (Step::BidMax { team, over }, Phase::Bidding(l)) => Command::Bid {
                    team: TeamId(team % teams),
                    lot: l.id,
                    amount: a.max_bid(TeamId(team % teams)).unwrap_or(0) + u32::from(*over),
                    expected_version: None,
                },
                (Step::Nominate { player, opening }, Phase::Nominating { nominator, .. }) => Command::Nominate {
                    team: *nominator, player: PlayerId(player % ps.len()), opening_bid: *opening,
                },
                (Step::Timeout, _) => Command::NominationTimeout,
                (Step::Close, _) => Command::CloseLot,
                (Step::Pause, _) => Command::Pause,
                (Step::Resume, _) => Command::Resume,
                // Void and edit pick among the live sales (and sometimes a player never sold).
                (Step::Void { player }, _) => Command::VoidSale { player: pick_sold(&a, *player, ps.len()) },
                (Step::Edit { player, price }, _) => Command::EditSale { player: pick_sold(&a, *player, ps.len()), price: *price },
                _ => continue,
            };
            let before = a.clone();
            match a.handle(command.clone(), now) {
                Ok(events) => {
                    for e in &events {
                        if let Event::BidAccepted { lot, amount, .. } = e {
                            let Phase::Bidding(l) = &before.phase else { panic!("bid without a lot") };
                            prop_assert!(now < l.ends_at, "bid accepted at {now} for a lot ending at {}", l.ends_at);
                            prop_assert!(*amount >= l.high_bid + increment);
                            if let Some((prev_lot, prev)) = last_amount && prev_lot == *lot {
                                prop_assert!(*amount > prev);
                            }
                            last_amount = Some((*lot, *amount));
                        }
                    }
                    log.extend(events);
                }
                Err(_) => prop_assert_eq!(&a, &before, "a refused command changed the state"),
            }
            if let Err(e) = a.check_invariants() {
                prop_assert!(false, "{} after {:?}", e, command);
            }
        }
        let mut replayed = initial;
        for e in &log {
            replayed.apply(e);
        }
        prop_assert_eq!(replayed, a);
    }
}

#[test]
fn editing_a_sale_keeps_the_teams_open_high_bid_affordable() {
    let mut a = auction(2, 3, 20, 6);
    a.handle(Command::Start, 0).unwrap();
    a.handle(
        Command::Nominate {
            team: TeamId(0),
            player: PlayerId(0),
            opening_bid: 1,
        },
        0,
    )
    .unwrap();
    a.handle(
        Command::Bid {
            team: TeamId(1),
            lot: 1,
            amount: 5,
            expected_version: None,
        },
        1,
    )
    .unwrap();
    a.handle(Command::CloseLot, 60_000).unwrap();
    // Team 1: 15 left, 2 open slots, max bid 14; it bids 14 on the next lot.
    a.handle(
        Command::Nominate {
            team: TeamId(1),
            player: PlayerId(1),
            opening_bid: 14,
        },
        60_000,
    )
    .unwrap();
    // Raising its first sale to 6 would leave 13 < 14 + 1 × 1 for the high bid it holds.
    assert_eq!(
        a.decide(
            &Command::EditSale {
                player: PlayerId(0),
                price: 6
            },
            60_001
        ),
        Err(Rejection::OverMaxBid { max: 5 })
    );
    a.handle(
        Command::EditSale {
            player: PlayerId(0),
            price: 4,
        },
        60_001,
    )
    .unwrap();
    a.check_invariants().unwrap();
}

#[test]
fn an_auction_does_not_start_without_a_player_for_every_slot_and_imports_fill_the_pool() {
    let mut a = auction(3, 2, 50, 5);
    assert_eq!(
        a.decide(&Command::Start, 0),
        Err(gavel::auction::Rejection::PoolTooSmall)
    );
    let extra = vec![gavel::auction::Player::new("Late", 9)];
    a.handle(
        Command::AddPlayers {
            players: extra.clone(),
        },
        0,
    )
    .unwrap();
    assert_eq!(a.pool.len(), 6);
    a.handle(Command::Start, 0).unwrap();
    assert!(
        a.decide(&Command::AddPlayers { players: extra }, 1)
            .is_err(),
        "the pool is fixed once the auction starts"
    );
}
