//! Server time, injected. Everything that reads the wall clock — deadlines, token and link
//! expiry, event timestamps, back-off after a Redis failure — asks a [`Clock`], so that tests
//! can hold time still and move it on purpose instead of racing it.
//!
//! Production uses [`SystemClock`]; tests use [`ManualClock`], which only moves when told to
//! and wakes every [`Clock::sleep_until`] whose deadline it passes.
//!
//! ```
//! use gavel::clock::{Clock, ManualClock};
//!
//! let clock = ManualClock::starting_at(1_000);
//! let wake = clock.sleep_until(1_500);
//! clock.advance_ms(500);
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(wake);
//! assert_eq!(clock.now_ms(), 1_500);
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Milliseconds since the Unix epoch (server time).
pub type Millis = u64;

/// A future that resolves once a clock reaches a deadline.
pub type Wake = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where server time comes from.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> Millis;

    /// Resolves once [`Clock::now_ms`] has reached `deadline` (at once if it already has).
    fn sleep_until(&self, deadline: Millis) -> Wake;
}

/// The clock every component of one server shares.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock, with tokio's timer for sleeping.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl SystemClock {
    /// The system clock as the shared clock a server is built with.
    pub fn shared() -> SharedClock {
        Arc::new(Self)
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        // The one place that reads the wall clock.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as Millis
    }

    fn sleep_until(&self, deadline: Millis) -> Wake {
        let wait = Duration::from_millis(deadline.saturating_sub(self.now_ms()));
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that stands still until a test moves it. Moving it wakes every sleeper whose
/// deadline it reached, whether it started sleeping before or after the move.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<Millis>,
}

impl ManualClock {
    /// A clock reading `now` until it is moved.
    pub fn starting_at(now: Millis) -> Arc<Self> {
        Arc::new(Self {
            now: watch::Sender::new(now),
        })
    }

    /// Moves the clock to `now`; it never goes back (an earlier time is ignored).
    pub fn set_ms(&self, now: Millis) {
        self.now.send_if_modified(|current| {
            let later = now > *current;
            if later {
                *current = now;
            }
            later
        });
    }

    /// Moves the clock on by `ms`.
    pub fn advance_ms(&self, ms: Millis) {
        self.now.send_modify(|current| *current += ms);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: Millis) -> Wake {
        let mut now = self.now.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock; once it is gone, time no longer moves.
            if now.wait_for(|now| *now >= deadline).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_wakes_sleepers_it_passes_and_no_others() {
        let clock = ManualClock::starting_at(100);
        let early = tokio::spawn(clock.sleep_until(150));
        let late = tokio::spawn(clock.sleep_until(300));
        clock.advance_ms(50);
        early.await.unwrap();
        assert!(!late.is_finished());
        clock.set_ms(120);
        assert_eq!(clock.now_ms(), 150, "a manual clock never goes back");
        clock.set_ms(300);
        late.await.unwrap();
        // A deadline already passed resolves at once.
        clock.sleep_until(200).await;
    }

    #[tokio::test]
    async fn the_system_clock_reads_the_epoch_and_sleeps_until_a_past_deadline_at_once() {
        let clock = SystemClock;
        let now = clock.now_ms();
        assert!(now > 1_600_000_000_000, "{now}");
        clock.sleep_until(now - 1).await;
    }
}
