//! The auction store on a real database — a fresh SQLite file and a fresh PostgreSQL
//! database per test — under concurrent bids and closers.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::common;

use gavel::auction::history::BidCursor;
use gavel::auction::store::{AuctionStore, StoreError};
use gavel::auction::{
    Auction, AuctionSettings, ClientId, Command, Event, Phase, PlayerId, Rejection, TeamId,
};
use gavel::db::entities::{command_results, refused_bids};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn cid(text: &str) -> ClientId {
    ClientId::parse(text).unwrap()
}

struct Backend {
    name: &'static str,
    store: AuctionStore,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the database to drop after the test.
    drop: Option<String>,
}

impl Backend {
    async fn finish(self) {
        if let Some(name) = self.drop {
            self.store.db().clone().close().await.unwrap();
            common::drop_postgres(&name).await;
        }
    }
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("gavel.db").display()
    );
    let db = gavel::db::connect(&url)
        .await
        .expect("sqlite connects and migrates");
    Backend {
        name: "sqlite",
        store: AuctionStore::new(db),
        _dir: Some(dir),
        drop: None,
    }
}

async fn postgres() -> Backend {
    let name = common::fresh_postgres().await;
    let db = gavel::db::connect(&format!("postgres://postgres@127.0.0.1:5432/{name}"))
        .await
        .expect("postgres connects and migrates");
    Backend {
        name: "postgres",
        store: AuctionStore::new(db),
        _dir: None,
        drop: Some(name),
    }
}

async fn backends() -> Vec<Backend> {
    vec![sqlite().await, postgres().await]
}

fn auction(teams: usize) -> Auction {
    let names: Vec<String> = (0..teams).map(|i| format!("T{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let players: Vec<(String, u32)> = (0..teams * 3 + 3)
        .map(|i| (format!("P{i}"), i as u32 + 1))
        .collect();
    let players: Vec<(&str, u32)> = players.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    let settings = AuctionSettings {
        budget: 10_000,
        roster_slots: 3,
        ..AuctionSettings::default()
    };
    Auction::new(settings, &names, &players)
}

/// `clients` bidders hammer one lot at once; returns the accepted amounts. Half of them go
/// through a second store on the same database — as a second server process would, with
/// its own per-auction ordering — so the conditional update is what keeps them apart.
async fn burst(store: &AuctionStore, id: i64, clients: usize, rounds: usize, now: u64) -> Vec<u32> {
    let mut tasks = Vec::new();
    let other_process = AuctionStore::new(store.db().clone());
    for team in 0..clients {
        let store = if team % 2 == 0 {
            store.clone()
        } else {
            other_process.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            for round in 0..rounds {
                let (state, _) = store.state(id).await.unwrap();
                let Phase::Bidding(lot) = state.phase else {
                    panic!("no lot")
                };
                let amount = lot.high_bid + 1 + (team + round) as u32 % 3;
                let command = Command::Bid {
                    team: TeamId(team),
                    lot: lot.id,
                    amount,
                    expected_version: Some(lot.version),
                };
                let client_id = cid(&format!("{team}-{}-{round}", lot.id));
                match store
                    .handle(id, &format!("T{team}"), &command, Some(&client_id), now)
                    .await
                {
                    Ok(_) => accepted.push(amount),
                    Err(StoreError::Rejected(
                        Rejection::Outbid { .. }
                        | Rejection::Stale { .. }
                        | Rejection::AlreadyHighBidder,
                    )) => {}
                    Err(other) => panic!("unexpected: {other}"),
                }
            }
            accepted
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_bids_and_closers_keep_the_log_consistent() {
    for backend in backends().await {
        let s = &backend.store;
        for clients in [3usize, 12, 50] {
            let initial = auction(clients);
            let id = s.create("burst", "comm", &initial, &[], 0).await.unwrap();
            s.handle(id, "comm", &Command::Start, None, 0)
                .await
                .unwrap();
            let mut sold = 0;
            let mut t0 = 0;
            for _ in 0..3 {
                let (state, _) = s.state(id).await.unwrap();
                let Phase::Nominating { nominator, .. } = state.phase else {
                    panic!("{:?}", state.phase)
                };
                let player = *state.pool.iter().next().unwrap();
                s.handle(
                    id,
                    "n",
                    &Command::Nominate {
                        team: nominator,
                        player,
                        opening_bid: 1,
                    },
                    None,
                    t0,
                )
                .await
                .unwrap();
                let accepted = burst(s, id, clients, 3, t0 + 1).await;
                assert!(!accepted.is_empty(), "{}: no bid accepted", backend.name);
                let distinct: BTreeSet<u32> = accepted.iter().copied().collect();
                assert_eq!(
                    distinct.len(),
                    accepted.len(),
                    "{}: two acceptances of one amount",
                    backend.name
                );

                // Several closers race after the deadline, as if on four server processes:
                // exactly one closes the lot.
                let mut closers = Vec::new();
                for _ in 0..4 {
                    let s = AuctionStore::new(s.db().clone());
                    closers.push(tokio::spawn(async move {
                        s.handle(id, "timer", &Command::CloseLot, None, t0 + 500_000)
                            .await
                    }));
                }
                let mut wins = 0;
                for c in closers {
                    match c.await.unwrap() {
                        Ok(a) => {
                            wins += 1;
                            assert!(matches!(a.events[0].1, Event::LotSold { .. }));
                        }
                        Err(StoreError::Rejected(Rejection::WrongPhase { .. })) => {}
                        Err(e) => panic!("{}: closer failed: {e}", backend.name),
                    }
                }
                assert_eq!(wins, 1, "{}: exactly one closer wins", backend.name);
                sold += 1;
                t0 += 500_001;
            }

            // The log: gapless seq, strictly increasing accepted amounts per lot, one sale per
            // lot, and replaying it reproduces the stored state.
            let events = s.events_after(id, 0).await.unwrap();
            let (state, seq) = s.state(id).await.unwrap();
            assert_eq!(events.len() as i64, seq, "{}", backend.name);
            for (i, (n, _)) in events.iter().enumerate() {
                assert_eq!(*n, i as i64 + 1, "{}: seq has a gap", backend.name);
            }
            let mut last: Option<(u64, u32)> = None;
            for (_, e) in &events {
                if let Event::BidAccepted { lot, amount, .. } = e {
                    if let Some((l, a)) = last
                        && l == *lot
                    {
                        assert!(*amount > a, "{}: amounts must increase", backend.name);
                    }
                    last = Some((*lot, *amount));
                }
            }
            let sales = events
                .iter()
                .filter(|(_, e)| matches!(e, Event::LotSold { .. }))
                .count();
            assert_eq!(sales, sold, "{}", backend.name);
            let mut replayed = initial.clone();
            for (_, e) in &events {
                replayed.apply(e);
            }
            assert_eq!(replayed, state, "{}: replay differs", backend.name);
            state.check_invariants().unwrap();
        }
        backend.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_id_sent_twice_creates_one_bid() {
    for backend in backends().await {
        let s = Arc::new(backend.store.clone());
        let id = s
            .create("retry", "comm", &auction(3), &[], 0)
            .await
            .unwrap();
        s.handle(id, "comm", &Command::Start, None, 0)
            .await
            .unwrap();
        s.handle(
            id,
            "T0",
            &Command::Nominate {
                team: TeamId(0),
                player: PlayerId(0),
                opening_bid: 1,
            },
            None,
            0,
        )
        .await
        .unwrap();
        let bid = Command::Bid {
            team: TeamId(1),
            lot: 1,
            amount: 5,
            expected_version: Some(1),
        };
        // The same bid twice at once, then once more later.
        let bid_1 = cid("bid-1");
        let (a, b) = tokio::join!(
            s.handle(id, "T1", &bid, Some(&bid_1), 10),
            s.handle(id, "T1", &bid, Some(&bid_1), 10),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a, b, "{}", backend.name);
        assert_eq!(s.handle(id, "T1", &bid, Some(&bid_1), 20).await.unwrap(), a);
        let accepted = s
            .events_after(id, 0)
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, e)| matches!(e, Event::BidAccepted { .. }))
            .count();
        assert_eq!(accepted, 1, "{}", backend.name);
        // A refused command keeps its refusal too.
        let low = Command::Bid {
            team: TeamId(2),
            lot: 1,
            amount: 2,
            expected_version: None,
        };
        let low_1 = cid("low-1");
        let first = s
            .handle(id, "T2", &low, Some(&low_1), 30)
            .await
            .unwrap_err()
            .to_string();
        let again = s
            .handle(id, "T2", &low, Some(&low_1), 30)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(first, again);
        assert!(first.contains("at least 6"), "{first}");
        drop(s);
        backend.finish().await;
    }
}

#[tokio::test]
async fn unknown_auctions_are_reported() {
    let backend = sqlite().await;
    let err = backend
        .store
        .handle(42, "x", &Command::Start, None, 0)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound));
}

/// An auction (3 teams) whose lot 1 is open at 1, opened by T0; its id.
async fn open_lot(s: &AuctionStore) -> i64 {
    let id = s
        .create("bound", "comm", &auction(3), &[], 0)
        .await
        .unwrap();
    s.handle(id, "comm", &Command::Start, None, 0)
        .await
        .unwrap();
    let nominate = Command::Nominate {
        team: TeamId(0),
        player: PlayerId(0),
        opening_bid: 1,
    };
    s.handle(id, "T0", &nominate, None, 0).await.unwrap();
    id
}

fn low_bid(team: usize, lot: u64) -> Command {
    Command::Bid {
        team: TeamId(team),
        lot,
        amount: 1,
        expected_version: None,
    }
}

async fn rows(s: &AuctionStore, id: i64, actor: &str) -> (u64, u64) {
    let refused = refused_bids::Entity::find()
        .filter(refused_bids::Column::AuctionId.eq(id))
        .filter(refused_bids::Column::Actor.eq(actor))
        .count(s.db())
        .await
        .unwrap();
    let results = command_results::Entity::find()
        .filter(command_results::Column::AuctionId.eq(id))
        .filter(command_results::Column::Actor.eq(actor))
        .count(s.db())
        .await
        .unwrap();
    (refused, results)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_bids_are_stored_up_to_the_bound_per_member_and_lot() {
    for backend in backends().await {
        let s = backend.store.clone().storing_refusals(3);
        let id = open_lot(&s).await;
        // T1: 10 refused bids on the open lot, each with its own client id; then 10 on lots
        // that never existed.
        for i in 0..10 {
            let e = s
                .handle(id, "T1", &low_bid(1, 1), Some(&cid(&format!("low-{i}"))), 5)
                .await
                .unwrap_err();
            assert!(
                matches!(e, StoreError::Rejected(Rejection::Outbid { .. })),
                "{e}"
            );
        }
        for lot in [0, 2, 99, u64::MAX] {
            let e = s
                .handle(id, "T1", &low_bid(1, lot), None, 5)
                .await
                .unwrap_err();
            assert!(
                matches!(e, StoreError::Rejected(Rejection::LotClosed)),
                "{e}"
            );
        }
        assert_eq!(
            rows(&s, id, "T1").await,
            (3, 3),
            "{}: 3 refusals and their answers stored, none for made-up lots",
            backend.name
        );
        assert_eq!(s.unstored_refusals(), 7 + 4, "{}", backend.name);
        // Another member has a bound of their own.
        for _ in 0..5 {
            let _ = s.handle(id, "T2", &low_bid(2, 1), None, 6).await;
        }
        assert_eq!(rows(&s, id, "T2").await, (3, 0), "{}", backend.name);
        // A stored refusal is answered again as it was; one over the bound is decided again
        // (it changed nothing, so nothing can happen twice) and is still refused.
        for again in ["low-0", "low-9"] {
            let e = s
                .handle(id, "T1", &low_bid(1, 1), Some(&cid(again)), 7)
                .await
                .unwrap_err();
            assert!(e.to_string().contains("at least 2"), "{again}: {e}");
        }
        assert_eq!(rows(&s, id, "T1").await, (3, 3), "{}", backend.name);
        backend.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bid_history_pages_add_up_to_the_whole_in_order() {
    for backend in backends().await {
        let s = backend.store.clone();
        let id = open_lot(&s).await;
        // Accepted and refused bids interleaved in time on lot 1.
        for (i, amount) in (2..12).enumerate() {
            let team = 1 + i % 2;
            let bid = Command::Bid {
                team: TeamId(team),
                lot: 1,
                amount,
                expected_version: None,
            };
            let at = 10 + 2 * i as u64;
            s.handle(id, &format!("T{team}"), &bid, None, at)
                .await
                .unwrap();
            let _ = s.handle(id, "T0", &low_bid(0, 1), None, at + 1).await;
        }
        let whole = s.bids(id, 1, None, 500).await.unwrap();
        assert_eq!(whole.next, None);
        assert_eq!(whole.bids.len(), 20, "{}", backend.name);
        let ats: Vec<u64> = whole.bids.iter().map(|b| b.at).collect();
        assert!(ats.is_sorted(), "{}: {ats:?}", backend.name);
        let mut paged = Vec::new();
        let mut after: Option<BidCursor> = None;
        loop {
            let page = s.bids(id, 1, after, 3).await.unwrap();
            assert!(page.bids.len() <= 3);
            paged.extend(page.bids);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(paged, whole.bids, "{}", backend.name);
        // Another lot's history is its own: none of lot 1's bids.
        assert!(s.bids(id, 2, None, 10).await.unwrap().bids.is_empty());
        backend.finish().await;
    }
}

/// The chat keeps the last `KEPT_PER_AUCTION` rows of each auction: an insert prunes older
/// ones of its auction only; history is the newest not deleted, oldest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_keeps_the_last_thousand_messages_of_each_auction() {
    use gavel::auction::store::chat::{ChatDeletion, KEPT_PER_AUCTION, NewChatMessage};
    use gavel::db::entities::chat_messages;
    for b in backends().await {
        let s = &b.store;
        fn message(auction_id: i64, text: &str) -> NewChatMessage<'_> {
            NewChatMessage {
                auction_id,
                sub: "ann@example.com",
                name: "Ann",
                role: "manager",
                team: Some(0),
                text,
                at: 1,
            }
        }
        let other = s.add_chat_message(message(2, "elsewhere")).await.unwrap();
        let total = KEPT_PER_AUCTION + 5;
        let mut ids = Vec::new();
        for i in 0..total {
            ids.push(
                s.add_chat_message(message(1, &format!("m{i}")))
                    .await
                    .unwrap()
                    .id,
            );
        }
        let kept = chat_messages::Entity::find()
            .filter(chat_messages::Column::AuctionId.eq(1))
            .count(s.db())
            .await
            .unwrap();
        assert_eq!(kept, KEPT_PER_AUCTION, "{}", b.name);
        assert_eq!(
            s.delete_chat_message(1, ids[4]).await.unwrap(),
            ChatDeletion::Unknown,
            "pruned: {}",
            b.name
        );
        assert_eq!(
            s.delete_chat_message(1, ids[5]).await.unwrap(),
            ChatDeletion::Deleted
        );
        assert_eq!(
            s.delete_chat_message(1, ids[5]).await.unwrap(),
            ChatDeletion::AlreadyDeleted
        );
        assert_eq!(
            s.delete_chat_message(1, other.id).await.unwrap(),
            ChatDeletion::Unknown,
            "another auction's message: {}",
            b.name
        );
        let history = s.chat_history(1, 3).await.unwrap();
        let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["m1002", "m1003", "m1004"], "{}", b.name);
        let oldest = s.chat_history(1, 2 * KEPT_PER_AUCTION).await.unwrap();
        assert_eq!(oldest[0].text, "m6", "m5 deleted, m0–m4 pruned: {}", b.name);
        assert_eq!(oldest.len() as u64, KEPT_PER_AUCTION - 1);
        assert_eq!(s.chat_history(2, 100).await.unwrap(), [other], "{}", b.name);
        b.finish().await;
    }
}
