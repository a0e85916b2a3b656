//! The deadlines of one HTTP/1.1 connection: complete request headers within the header-read
//! timeout (from accept, or from the first byte of a later request), and no idle keep-alive
//! longer than the idle timeout. hyper's own header timeout also runs while a keep-alive
//! connection idles, which would make the two one; so the connection's phase is tracked here,
//! from its reads and from the service seeing a request and answering it.

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::budget::Admission;

const AWAITING_HEAD: u8 = 0;
const IN_REQUEST: u8 = 1;
const IDLE: u8 = 2;
const UPGRADED: u8 = 3;

#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub header_read: Duration,
    pub idle: Duration,
}

/// The phase of one connection and when it began.
pub struct Clock {
    base: Instant,
    phase: AtomicU8,
    /// Milliseconds after `base` when the phase began.
    since_ms: AtomicU64,
    /// Woken when the phase changes, so the watchdog can move its deadline.
    changed: Notify,
}

/// What the watchdog should do next.
pub enum Next {
    /// Sleep until then, or until the phase changes.
    WaitUntil(Instant),
    /// No deadline in this phase (a request is being served, or it is a websocket now).
    WaitForChange,
    Expired(&'static str),
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            phase: AtomicU8::new(AWAITING_HEAD),
            since_ms: AtomicU64::new(0),
            changed: Notify::new(),
        }
    }

    fn set(&self, phase: u8) {
        let ms = self.base.elapsed().as_millis() as u64;
        self.since_ms.store(ms, Ordering::Release);
        self.phase.store(phase, Ordering::Release);
        self.changed.notify_one();
    }

    /// Bytes arrived: on an idle connection that is the start of the next request's head.
    fn on_read(&self) {
        if self.phase.load(Ordering::Acquire) == IDLE {
            self.set(AWAITING_HEAD);
        }
    }

    /// The service was called: the head is complete (the body has its own timeout).
    pub fn request_started(&self) {
        self.set(IN_REQUEST);
    }

    /// The answer is ready: the connection idles, or belongs to the websocket now.
    pub fn response_ready(&self, upgraded: bool) {
        self.set(if upgraded { UPGRADED } else { IDLE });
    }

    pub fn next(&self, timeouts: Timeouts, now: Instant) -> Next {
        let since = self.base + Duration::from_millis(self.since_ms.load(Ordering::Acquire));
        let (limit, why) = match self.phase.load(Ordering::Acquire) {
            AWAITING_HEAD => (timeouts.header_read, "header-read timeout"),
            IDLE => (timeouts.idle, "idle timeout"),
            _ => return Next::WaitForChange,
        };
        let deadline = since + limit;
        if now >= deadline {
            Next::Expired(why)
        } else {
            Next::WaitUntil(deadline)
        }
    }

    pub async fn changed(&self) {
        self.changed.notified().await;
    }
}

/// The TCP stream, telling the clock about reads and holding the connection's place in the
/// budget for as long as the stream lives (through a websocket upgrade too).
pub struct Watched<IO> {
    inner: IO,
    clock: std::sync::Arc<Clock>,
    _admission: Admission,
}

impl<IO> Watched<IO> {
    pub fn new(inner: IO, clock: std::sync::Arc<Clock>, admission: Admission) -> Self {
        Self {
            inner,
            clock,
            _admission: admission,
        }
    }

    pub fn clock(&self) -> std::sync::Arc<Clock> {
        self.clock.clone()
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.on_read();
        }
        poll
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        idle: Duration::from_secs(60),
    };

    fn expired(clock: &Clock, after: Duration) -> Option<&'static str> {
        match clock.next(T, clock.base + after) {
            Next::Expired(why) => Some(why),
            _ => None,
        }
    }

    #[tokio::test]
    async fn headers_then_idle_then_the_next_head() {
        let clock = Clock::new();
        assert_eq!(expired(&clock, Duration::from_secs(9)), None);
        assert_eq!(
            expired(&clock, Duration::from_secs(10)),
            Some("header-read timeout")
        );
        clock.request_started();
        assert_eq!(expired(&clock, Duration::from_secs(3600)), None);
        clock.response_ready(false);
        assert_eq!(expired(&clock, Duration::from_secs(59)), None);
        assert_eq!(
            expired(&clock, Duration::from_secs(61)),
            Some("idle timeout")
        );
        clock.on_read();
        assert_eq!(
            expired(&clock, Duration::from_secs(11)),
            Some("header-read timeout"),
            "a byte on an idle connection starts the next head's clock"
        );
        clock.request_started();
        clock.response_ready(true);
        assert_eq!(expired(&clock, Duration::from_secs(3600)), None);
    }
}
