//! Deadlines on a manual clock: lots close and nominations happen by themselves when the clock
//! reaches them (and not before), and a restart re-arms every open deadline from the
//! database. The test moves the clock; the deadline tasks sleep on it.

use std::time::Duration;

use gavel::auction::deadlines::Deadlines;
use gavel::auction::store::{AuctionStore, Published};
use gavel::auction::{Auction, AuctionSettings, Command, Event, Phase, PlayerId, TeamId};
use gavel::clock::{Clock, ManualClock};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// Any time will do: nothing here reads the wall clock.
const START_MS: u64 = 1_000_000;

fn fast_auction() -> Auction {
    let settings = AuctionSettings {
        budget: 100,
        roster_slots: 2,
        nomination_ms: 400,
        bid_ms: 400,
        reset_ms: 200,
        ..AuctionSettings::default()
    };
    Auction::new(
        settings,
        &["A", "B"],
        &[("P0", 1), ("P1", 2), ("P2", 3), ("P3", 4), ("P4", 5)],
    )
}

/// A store on `url` that hands every commit to the returned receiver.
async fn store(url: &str) -> (AuctionStore, UnboundedReceiver<Published>) {
    let (tx, rx) = unbounded_channel();
    let db = gavel::db::connect(url).await.unwrap();
    (AuctionStore::new(db).publishing_to(tx), rx)
}

/// The next commit the store published (a deadline task's, here): its events.
async fn next_commit(published: &mut UnboundedReceiver<Published>, what: &str) -> Vec<Event> {
    // A bound on a hang, not a timing: the commit is due as soon as the clock moved.
    let p = tokio::time::timeout(Duration::from_secs(30), published.recv())
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing committed"))
        .expect("the store lives");
    p.events.into_iter().map(|(_, e)| e).collect()
}

/// When the auction's running clock runs out, if one runs.
fn deadline(state: &Auction) -> Option<u64> {
    match &state.phase {
        Phase::Nominating { deadline, .. } => Some(*deadline),
        Phase::Bidding(lot) => Some(lot.ends_at),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lots_close_and_missed_nominations_happen_when_the_clock_says() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
    let clock = ManualClock::starting_at(START_MS);
    let (s, mut published) = store(&url).await;
    let deadlines = Deadlines::new(s.clone(), clock.clone());
    let id = s
        .create("timed", "c", &fast_auction(), &[], clock.now_ms())
        .await
        .unwrap();
    s.handle(id, "c", &Command::Start, None, clock.now_ms())
        .await
        .unwrap();
    next_commit(&mut published, "the start").await;
    deadlines.arm(id).await.unwrap();

    // Nobody nominates: when the clock reaches the deadline, the timer opens the best-ranked
    // player (at that time: the lot ends `bid_ms` after it).
    let (state, seq) = s.state(id).await.unwrap();
    let nomination_due = deadline(&state).unwrap();
    clock.set_ms(nomination_due);
    let opened = next_commit(&mut published, "the automatic nomination").await;
    let [Event::LotOpened { lot }] = opened.as_slice() else {
        panic!("{opened:?}")
    };
    assert_eq!(lot.player, PlayerId(0), "the best-ranked player");
    assert_eq!(lot.ends_at, nomination_due + 400);
    assert_eq!(s.latest_seq(id).await.unwrap(), seq + 1);

    // Nobody bids: it is sold when its clock runs out, and so on until every roster is full.
    let mut sales = 0;
    loop {
        let (state, _) = s.state(id).await.unwrap();
        let Some(due) = deadline(&state) else {
            break;
        };
        clock.set_ms(due);
        let events = next_commit(&mut published, "a deadline's action").await;
        sales += events
            .iter()
            .filter(|e| matches!(e, Event::LotSold { .. }))
            .count();
    }
    let (state, _) = s.state(id).await.unwrap();
    assert_eq!(state.phase, Phase::Completed);
    assert_eq!(sales, 4);
    assert!(state.teams.iter().all(|t| t.roster.len() == 2));
    state.check_invariants().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_rearms_an_open_lot_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("g.db").display());
    let clock = ManualClock::starting_at(START_MS);
    let (s, _) = store(&url).await;
    let now = clock.now_ms();
    let id = s
        .create("restart", "c", &fast_auction(), &[], now)
        .await
        .unwrap();
    s.handle(id, "c", &Command::Start, None, now).await.unwrap();
    s.handle(
        id,
        "A",
        &Command::Nominate {
            team: TeamId(0),
            player: PlayerId(3),
            opening_bid: 2,
        },
        None,
        now,
    )
    .await
    .unwrap();
    s.handle(
        id,
        "B",
        &Command::Bid {
            team: TeamId(1),
            lot: 1,
            amount: 3,
            expected_version: Some(1),
        },
        None,
        now,
    )
    .await
    .unwrap();
    // The "process" that held the timers is gone before the deadline...
    drop(Deadlines::new(s.clone(), clock.clone()));
    let (state, _) = s.state(id).await.unwrap();
    let ends_at = deadline(&state).unwrap();
    assert!(matches!(state.phase, Phase::Bidding(_)));

    // ...and a new one starts on the same database: the open lot is re-armed and sold to the
    // high bidder when its clock runs out; nothing accepted is lost.
    let (restarted, mut published) = store(&url).await;
    let deadlines = Deadlines::new(restarted.clone(), clock.clone());
    assert_eq!(deadlines.rearm_all().await.unwrap(), 1);
    clock.set_ms(ends_at);
    let events = next_commit(&mut published, "the re-armed close").await;
    assert!(
        matches!(
            events.first(),
            Some(Event::LotSold {
                team: TeamId(1),
                price: 3,
                ..
            })
        ),
        "{events:?}"
    );
}
