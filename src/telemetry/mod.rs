//! Structured logs with `tracing`: human-readable or JSON lines, a span per request
//! ([`request_span`]) and bounds on how many lines strangers can cause ([`Throttle`]).

pub mod request_span;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` overrides the default `info` level.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second init (tests embedding the server) is not an error worth failing over.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// A bound on how many lines of one kind are logged per second: a stranger who can make the
/// server log cannot make it log without limit. Lines over the bound are counted, and the
/// count is reported with the next line logged, or by [`Throttle::summary`].
pub struct Throttle {
    per_second: u32,
    window: std::sync::Mutex<(std::time::Instant, u32)>,
    suppressed: std::sync::atomic::AtomicU64,
}

impl Throttle {
    pub fn per_second(per_second: u32) -> Self {
        Self {
            per_second,
            window: std::sync::Mutex::new((std::time::Instant::now(), 0)),
            suppressed: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether one more line may be logged now; counts it as suppressed when not.
    pub fn allow(&self) -> bool {
        let now = std::time::Instant::now();
        let mut window = self.window.lock().expect("throttle lock");
        if now.duration_since(window.0) >= std::time::Duration::from_secs(1) {
            *window = (now, 0);
        }
        if window.1 < self.per_second {
            window.1 += 1;
            true
        } else {
            self.suppressed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            false
        }
    }

    /// Lines suppressed since the last call.
    pub fn take_suppressed(&self) -> u64 {
        self.suppressed
            .swap(0, std::sync::atomic::Ordering::Relaxed)
    }

    /// Logs "N similar lines suppressed" for `what` if any were; for a periodic task.
    pub fn summary(&self, what: &str) {
        let n = self.take_suppressed();
        if n > 0 {
            tracing::warn!(suppressed = n, "{n} similar lines suppressed: {what}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Throttle;

    #[test]
    fn allows_a_bounded_number_per_second_and_counts_the_rest() {
        let t = Throttle::per_second(3);
        let allowed = (0..100).filter(|_| t.allow()).count();
        assert_eq!(allowed, 3);
        assert_eq!(t.take_suppressed(), 97);
        assert_eq!(t.take_suppressed(), 0);
    }
}
