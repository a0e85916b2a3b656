//! The auction service on a real database — a fresh SQLite file and a fresh PostgreSQL
//! database per test — under concurrent bids and closers.

use std::collections::BTreeSet;
use std::sync::Arc;

mod common;

use gavel::auction::service::{AuctionService, ServiceError};
use gavel::auction::{Auction, Command, Event, Phase, Rejection, Settings};

struct Backend {
    name: &'static str,
    service: AuctionService,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the database to drop after the test.
    drop: Option<String>,
}

impl Backend {
    async fn finish(self) {
        if let Some(name) = self.drop {
            self.service.db().clone().close().await.unwrap();
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
        service: AuctionService::new(db),
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
        service: AuctionService::new(db),
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
    let settings = Settings {
        budget: 10_000,
        roster_slots: 3,
        ..Settings::default()
    };
    Auction::new(settings, &names, &players)
}

/// `clients` bidders hammer one lot at once; returns the accepted amounts. Half of them go
/// through a second service on the same database — as a second server process would, with
/// its own per-auction ordering — so the conditional update is what keeps them apart.
async fn burst(
    service: &AuctionService,
    id: i64,
    clients: usize,
    rounds: usize,
    now: u64,
) -> Vec<u32> {
    let mut tasks = Vec::new();
    let other_process = AuctionService::new(service.db().clone());
    for team in 0..clients {
        let service = if team % 2 == 0 {
            service.clone()
        } else {
            other_process.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            for round in 0..rounds {
                let (state, _) = service.state(id).await.unwrap();
                let Phase::Bidding(lot) = state.phase else {
                    panic!("no lot")
                };
                let amount = lot.high_bid + 1 + (team + round) as u32 % 3;
                let command = Command::Bid {
                    team,
                    lot: lot.id,
                    amount,
                    expected_version: Some(lot.version),
                };
                let client_id = format!("{team}-{}-{round}", lot.id);
                match service
                    .handle(id, &format!("T{team}"), &command, Some(&client_id), now)
                    .await
                {
                    Ok(_) => accepted.push(amount),
                    Err(ServiceError::Rejected(
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
        let s = &backend.service;
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
                    let s = AuctionService::new(s.db().clone());
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
                        Err(ServiceError::Rejected(Rejection::WrongPhase { .. })) => {}
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
        let s = Arc::new(backend.service.clone());
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
                team: 0,
                player: 0,
                opening_bid: 1,
            },
            None,
            0,
        )
        .await
        .unwrap();
        let bid = Command::Bid {
            team: 1,
            lot: 1,
            amount: 5,
            expected_version: Some(1),
        };
        // The same bid twice at once, then once more later.
        let (a, b) = tokio::join!(
            s.handle(id, "T1", &bid, Some("bid-1"), 10),
            s.handle(id, "T1", &bid, Some("bid-1"), 10),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a, b, "{}", backend.name);
        assert_eq!(
            s.handle(id, "T1", &bid, Some("bid-1"), 20).await.unwrap(),
            a
        );
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
            team: 2,
            lot: 1,
            amount: 2,
            expected_version: None,
        };
        let first = s
            .handle(id, "T2", &low, Some("low-1"), 30)
            .await
            .unwrap_err()
            .to_string();
        let again = s
            .handle(id, "T2", &low, Some("low-1"), 30)
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
        .service
        .handle(42, "x", &Command::Start, None, 0)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::NotFound));
}
