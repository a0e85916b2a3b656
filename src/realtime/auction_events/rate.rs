//! Admission of every client event, before its handler runs: a token bucket per socket and one
//! per member (`sub`, across all of their sockets), and the size bound REST puts on a JSON
//! command body. An event over a bucket is answered `rate_limited` and goes no further (no
//! parsing, no database); `rate_limited_before_disconnect` of them within 10 s is abuse: from
//! then on the socket's events are all refused, and it is disconnected a moment later (one WARN
//! line per socket). An oversized event is answered
//! `bad_request`.
//!
//! Handlers take [`Admitted`] as their first extractor: socketioxide runs extractors in order
//! and does not call a handler whose extractor failed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, State};
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide::socket::Socket;

use super::error;
use crate::auction::requests::{MemberPace, MemberRequests, nonzero};
use crate::auth::Claims;
use crate::config::Limits;

/// Above this many members with a bucket, the idle ones are swept when a socket starts.
const SWEEP_ABOVE_MEMBERS: usize = 1024;

/// `rate_limited_before_disconnect` refusals within this window are abuse.
const ABUSE_WINDOW: Duration = Duration::from_secs(10);

/// How long an abusive socket still gets its refusals before it is disconnected.
const DISCONNECT_GRACE: Duration = Duration::from_secs(1);

/// Proof that the event passed the socket's and the member's rate and the size bound.
pub struct Admitted;

/// Why an event was not admitted (its ack already says so to the client).
#[derive(Debug, thiserror::Error)]
#[error("client event not admitted: {0}")]
pub struct NotAdmitted(&'static str);

impl<A: Adapter> FromMessageParts<A> for Admitted {
    type Error = NotAdmitted;

    fn from_message_parts(
        s: &Arc<Socket<A>>,
        v: &mut Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, NotAdmitted> {
        let pace = pace_of(s, v, ack_id)?;
        let refusal = match pace.judge(event_bytes(v)) {
            Admission::Admit => return Ok(Admitted),
            Admission::TooLarge(bytes) => {
                tracing::debug!(sid = %s.id, bytes, "refused an oversized client event");
                error(
                    "bad_request",
                    format!(
                        "an event carries at most {} bytes; this one has {bytes}",
                        pace.max_event_bytes
                    ),
                )
            }
            Admission::RateLimited(wait) => {
                if pace.refused_once_more() {
                    disconnect(s, &pace);
                }
                error(
                    "rate_limited",
                    format!(
                        "too many events: at most {} per second per connection and {} per member; retry in {} ms",
                        pace.per_second,
                        pace.member_per_second,
                        wait.as_millis().max(1)
                    ),
                )
            }
        };
        let Ok(ack) = AckSender::from_message_parts(s, v, ack_id);
        // A full send buffer drops the answer: the client is flooding anyway.
        let _ = ack.send(&refusal);
        Err(NotAdmitted("refused"))
    }
}

/// One socket's bucket and its share of the member's, with the counts that detect abuse.
struct Pace {
    bucket: DefaultDirectRateLimiter,
    member: Arc<MemberPace>,
    sub: String,
    per_second: u32,
    member_per_second: u32,
    max_event_bytes: usize,
    /// Events refused by a bucket within the current abuse window (a refusal count that an
    /// admitted event reset would let a flood just above the rate go on for ever).
    refused_in_row: AtomicU32,
    window_started: std::sync::Mutex<std::time::Instant>,
    disconnect_after: u32,
    disconnecting: AtomicBool,
}

enum Admission {
    Admit,
    RateLimited(Duration),
    TooLarge(usize),
}

impl Pace {
    fn new(limits: &Limits, member: Arc<MemberPace>, sub: String) -> Self {
        let quota = Quota::per_second(nonzero(limits.events_per_second))
            .allow_burst(nonzero(limits.event_burst));
        Self {
            bucket: RateLimiter::direct(quota),
            member,
            sub,
            per_second: limits.events_per_second,
            member_per_second: limits.member_events_per_second,
            max_event_bytes: limits.max_body_bytes,
            refused_in_row: AtomicU32::new(0),
            window_started: std::sync::Mutex::new(std::time::Instant::now()),
            disconnect_after: limits.rate_limited_before_disconnect.max(1),
            disconnecting: AtomicBool::new(false),
        }
    }

    /// The socket's bucket first, so that a socket over its own rate spends none of its
    /// member's tokens (which the member's other sockets may need).
    fn judge(&self, bytes: usize) -> Admission {
        if self.disconnecting.load(Ordering::Relaxed) {
            return Admission::RateLimited(DISCONNECT_GRACE);
        }
        let now = self.bucket.clock().now();
        if let Err(not_until) = self.bucket.check() {
            return Admission::RateLimited(not_until.wait_time_from(now));
        }
        if let Err(not_until) = self.member.check_key(&self.sub) {
            return Admission::RateLimited(not_until.wait_time_from(now));
        }
        if bytes > self.max_event_bytes {
            return Admission::TooLarge(bytes);
        }
        Admission::Admit
    }

    /// Counts a rate-limited event; true exactly once, when the refusals within one
    /// [`ABUSE_WINDOW`] reach the bound.
    fn refused_once_more(&self) -> bool {
        {
            let mut started = self.window_started.lock().expect("pace lock");
            if started.elapsed() >= ABUSE_WINDOW {
                *started = std::time::Instant::now();
                self.refused_in_row.store(0, Ordering::Relaxed);
            }
        }
        let run = self.refused_in_row.fetch_add(1, Ordering::Relaxed) + 1;
        run >= self.disconnect_after && !self.disconnecting.swap(true, Ordering::Relaxed)
    }
}

/// The socket's pace, made on its first event (a socket's events are read one at a time, so
/// two cannot race to make it).
fn pace_of<A: Adapter>(
    s: &Arc<Socket<A>>,
    v: &mut Value,
    ack_id: &Option<i64>,
) -> Result<Arc<Pace>, NotAdmitted> {
    if let Some(pace) = s.extensions.get::<Arc<Pace>>() {
        return Ok(pace);
    }
    let missing = |_| NotAdmitted("the server has no limits configured");
    let State(limits) = State::<Limits>::from_message_parts(s, v, ack_id).map_err(missing)?;
    let State(requests) = State::<MemberRequests>::from_message_parts(s, v, ack_id)
        .map_err(|_| NotAdmitted("the server serves no auctions"))?;
    let sub = s
        .extensions
        .get::<Claims>()
        .map(|c| c.sub)
        .unwrap_or_default();
    let member = requests.member_pace();
    if member.len() > SWEEP_ABOVE_MEMBERS {
        // Members whose bucket has refilled are forgotten (they start full again anyway).
        member.retain_recent();
        member.shrink_to_fit();
    }
    let pace = Arc::new(Pace::new(&limits, member, sub));
    s.extensions.insert(pace.clone());
    Ok(pace)
}

/// The event's size as received: its text and any binary attachments.
fn event_bytes(v: &Value) -> usize {
    match v {
        Value::Str(text, attachments) => {
            text.len() + attachments.iter().flatten().map(|b| b.len()).sum::<usize>()
        }
        Value::Bytes(bytes) => bytes.len(),
    }
}

/// Disconnects the socket after [`DISCONNECT_GRACE`], refusing everything it sends meanwhile.
/// At once would lose the answers already queued: the next event of the flood would find the
/// socket gone, and socketioxide then closes the whole connection, dropping what it had not
/// written yet.
fn disconnect<A: Adapter>(s: &Arc<Socket<A>>, pace: &Pace) {
    tracing::warn!(
        sid = %s.id,
        sub = pace.sub,
        refused_within_10s = pace.disconnect_after,
        "disconnecting a socket that kept sending events over its rate limit"
    );
    let socket = s.clone();
    tokio::spawn(async move {
        tokio::time::sleep(DISCONNECT_GRACE).await;
        let _ = socket.disconnect();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(limits: &Limits) -> Pace {
        let member = Arc::new(RateLimiter::keyed(
            Quota::per_second(nonzero(limits.member_events_per_second))
                .allow_burst(nonzero(limits.member_event_burst)),
        ));
        Pace::new(limits, member, "ann".into())
    }

    #[test]
    fn a_burst_then_refusals_then_one_disconnect() {
        let limits = Limits {
            events_per_second: 1,
            event_burst: 3,
            rate_limited_before_disconnect: 5,
            ..Limits::default()
        };
        let p = pace(&limits);
        for _ in 0..3 {
            assert!(matches!(p.judge(10), Admission::Admit));
        }
        let mut disconnects = 0;
        for _ in 0..20 {
            assert!(matches!(p.judge(10), Admission::RateLimited(_)));
            disconnects += usize::from(p.refused_once_more());
        }
        assert_eq!(disconnects, 1, "abuse is acted on once");
    }

    #[test]
    fn a_members_sockets_share_one_bucket() {
        let limits = Limits {
            member_events_per_second: 1,
            member_event_burst: 4,
            ..Limits::default()
        };
        let one = pace(&limits);
        let two = Pace::new(&limits, one.member.clone(), "ann".into());
        let other = Pace::new(&limits, one.member.clone(), "bob".into());
        let admitted = (0..3)
            .flat_map(|_| [one.judge(1), two.judge(1)])
            .filter(|v| matches!(v, Admission::Admit))
            .count();
        assert_eq!(admitted, 4, "the member's burst, across both sockets");
        assert!(
            matches!(other.judge(1), Admission::Admit),
            "another member is not held back"
        );
    }

    #[test]
    fn an_oversized_event_is_refused_but_not_counted_as_abuse() {
        let p = pace(&Limits::default());
        assert!(matches!(p.judge(16 * 1024 + 1), Admission::TooLarge(16385)));
        assert_eq!(p.refused_in_row.load(Ordering::Relaxed), 0);
    }
}
