//! Deadlines on the real clock: lots close and nominations happen by themselves, and a restart
//! re-arms every open deadline from the database.

use crate::common;
use std::time::Duration;

use gavel::auction::deadlines::{Deadlines, now_ms};
use gavel::auction::service::AuctionService;
use gavel::auction::{Auction, Command, Event, Phase, Settings};

fn fast_auction() -> Auction {
    let settings = Settings {
        budget: 100,
        roster_slots: 2,
        nomination_ms: 400,
        bid_ms: 400,
        reset_ms: 200,
        ..Settings::default()
    };
    Auction::new(
        settings,
        &["A", "B"],
        &[("P0", 1), ("P1", 2), ("P2", 3), ("P3", 4), ("P4", 5)],
    )
}

async fn service(url: &str) -> AuctionService {
    AuctionService::new(gavel::db::connect(url).await.unwrap())
}

async fn wait_for<F: Fn(&[(i64, Event)]) -> bool>(s: &AuctionService, id: i64, what: &str, f: F) {
    let what = format!("{what} (events of auction {id})");
    common::eventually(&what, Duration::from_secs(10), || async {
        f(&s.events_after(id, 0).await.unwrap())
    })
    .await
}

fn count(events: &[(i64, Event)], pred: fn(&Event) -> bool) -> usize {
    events.iter().filter(|(_, e)| pred(e)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lots_close_and_missed_nominations_happen_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
    let s = service(&url).await;
    let deadlines = Deadlines::new(s.clone());
    let id = s
        .create("timed", "c", &fast_auction(), &[], now_ms())
        .await
        .unwrap();
    s.handle(id, "c", &Command::Start, None, now_ms())
        .await
        .unwrap();
    deadlines.arm(id).await.unwrap();
    // Nobody nominates: the timer opens the best-ranked player; nobody bids: it is sold.
    wait_for(&s, id, "an automatic nomination and a sale", |e| {
        count(e, |e| matches!(e, Event::LotSold { .. })) >= 1
    })
    .await;
    let events = s.events_after(id, 0).await.unwrap();
    let first_lot = events.iter().find_map(|(_, e)| match e {
        Event::LotOpened { lot } => Some(lot.clone()),
        _ => None,
    });
    assert_eq!(first_lot.unwrap().player, 0, "the best-ranked player");
    // Every roster fills by itself, and the auction completes.
    wait_for(&s, id, "completion", |e| {
        count(e, |e| matches!(e, Event::Completed)) == 1
    })
    .await;
    let (state, _) = s.state(id).await.unwrap();
    assert!(state.teams.iter().all(|t| t.roster.len() == 2));
    state.check_invariants().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_rearms_an_open_lot_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
    let s = service(&url).await;
    let id = s
        .create("restart", "c", &fast_auction(), &[], now_ms())
        .await
        .unwrap();
    s.handle(id, "c", &Command::Start, None, now_ms())
        .await
        .unwrap();
    s.handle(
        id,
        "A",
        &Command::Nominate {
            team: 0,
            player: 3,
            opening_bid: 2,
        },
        None,
        now_ms(),
    )
    .await
    .unwrap();
    s.handle(
        id,
        "B",
        &Command::Bid {
            team: 1,
            lot: 1,
            amount: 3,
            expected_version: Some(1),
        },
        None,
        now_ms(),
    )
    .await
    .unwrap();
    // The "process" that held the timers is gone before the deadline...
    drop(Deadlines::new(s.clone()));
    let (state, _) = s.state(id).await.unwrap();
    assert!(matches!(state.phase, Phase::Bidding(_)));

    // ...and a new one starts on the same database: the open lot is re-armed and sold to the
    // high bidder, nothing accepted is lost.
    let restarted = service(&url).await;
    let deadlines = Deadlines::new(restarted.clone());
    assert_eq!(deadlines.rearm_all().await.unwrap(), 1);
    wait_for(&restarted, id, "the re-armed close", |e| {
        e.iter().any(|(_, e)| {
            matches!(
                e,
                Event::LotSold {
                    team: 1,
                    price: 3,
                    ..
                }
            )
        })
    })
    .await;
}
