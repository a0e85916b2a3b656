//! The one way tests wait for something that happens in another task or process: poll a check
//! until it settles, within a deadline, and fail naming what never happened. Never a bare sleep
//! standing in for synchronisation.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a check is polled.
const POLL: Duration = Duration::from_millis(20);

/// What a check answers: `true`/`false`, or `Some(value)` once settled.
pub trait Settled {
    /// The value [`eventually`] returns.
    type Value;
    fn settled(self) -> Option<Self::Value>;
}

impl Settled for bool {
    type Value = ();
    fn settled(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Settled for Option<T> {
    type Value = T;
    fn settled(self) -> Option<T> {
        self
    }
}

/// Polls the async `check` until it settles; panics with `what` after `within`.
pub async fn eventually<S, F, Fut>(what: &str, within: Duration, mut check: F) -> S::Value
where
    S: Settled,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await.settled() {
            return value;
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for blocking tests (child processes, std sockets).
pub fn eventually_blocking<S: Settled>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> S,
) -> S::Value {
    let start = Instant::now();
    loop {
        if let Some(value) = check().settled() {
            return value;
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        std::thread::sleep(POLL);
    }
}
