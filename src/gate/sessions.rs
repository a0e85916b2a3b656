//! Engine.IO session binding: a session keeps the origin it was opened with.
//!
//! A session opened without `Origin` binds to the first origin it later shows (the seed
//! incident: a handshake GET without `Origin`, then POSTs with it). A later request of a bound
//! session may omit `Origin` or repeat it; a different origin is refused.
//!
//! The gate opens a [`SessionHandle`] for each handshake and puts it into the request's
//! extensions, so the Socket.IO socket created from that request can find it again
//! (`SocketRef::req_parts().extensions`) — that is how a reload reaches live sessions.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gavel_policy::{FORWARDING_HEADERS, Origin};

/// Engine.IO closes a session after ping interval + timeout (25 s + 20 s by default) without
/// traffic; a binding idle for longer is forgotten.
const IDLE: Duration = Duration::from_secs(120);

/// What the gate remembers of one Engine.IO session: its origin and the facts of the request
/// that bound it, to decide again after a reload.
#[derive(Clone, Debug)]
pub struct Binding {
    pub origin: Option<Origin>,
    pub peer: IpAddr,
    /// Origin, Host and forwarding headers of the binding request.
    pub headers: http::HeaderMap,
    last_seen: Instant,
}

/// A session's binding, shared by the gate and the socket created from the handshake.
#[derive(Clone, Debug)]
pub struct SessionHandle(Arc<Mutex<Binding>>);

impl SessionHandle {
    pub fn new(origin: Option<Origin>, peer: IpAddr, headers: &http::HeaderMap) -> Self {
        Self(Arc::new(Mutex::new(Binding {
            origin,
            peer,
            headers: kept_headers(headers),
            last_seen: Instant::now(),
        })))
    }

    pub fn binding(&self) -> Binding {
        self.0.lock().expect("binding lock").clone()
    }

    /// Checks a later request that showed `origin` (normalized, if any); binds an unbound
    /// session to it.
    pub fn check(&self, origin: Option<&Origin>, peer: IpAddr, headers: &http::HeaderMap) -> Check {
        let mut b = self.0.lock().expect("binding lock");
        b.last_seen = Instant::now();
        match (&b.origin, origin) {
            (_, None) => Check::Ok,
            (None, Some(o)) => {
                b.origin = Some(o.clone());
                b.peer = peer;
                b.headers = kept_headers(headers);
                Check::Ok
            }
            (Some(bound), Some(o)) if bound == o => Check::Ok,
            (Some(bound), Some(_)) => Check::Mismatch {
                bound: bound.clone(),
            },
        }
    }

    fn idle(&self, now: Instant) -> bool {
        now.duration_since(self.0.lock().expect("binding lock").last_seen) > IDLE
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// Not a session the gate knows (socketioxide answers unknown sids itself).
    Unknown,
    Ok,
    /// The request shows another origin than the session's.
    Mismatch {
        bound: Origin,
    },
}

/// Engine.IO session ids → their bindings, and how many sessions are open in all and per
/// client address.
pub struct Sessions {
    map: Arc<Mutex<HashMap<String, SessionHandle>>>,
    counts: Arc<Mutex<Counts>>,
    max_total: usize,
    max_per_client: usize,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_client: HashMap<String, usize>,
}

impl Default for Sessions {
    fn default() -> Self {
        let limits = crate::config::Limits::default();
        Self::new(limits.max_sessions, limits.max_sessions_per_address)
    }
}

/// Why a session could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionCap {
    Total,
    PerClient,
}

/// One open Engine.IO session's place. It travels in the handshake request's extensions into
/// the Engine.IO socket, which keeps it as long as the session lives; dropping it gives the
/// place back and forgets the session's binding.
#[derive(Clone, Debug)]
pub struct SessionSlot(Arc<SlotInner>);

#[derive(Debug)]
struct SlotInner {
    client: String,
    sid: Mutex<Option<String>>,
    counts: Arc<Mutex<Counts>>,
    map: Arc<Mutex<HashMap<String, SessionHandle>>>,
}

impl std::fmt::Debug for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Counts({})", self.total)
    }
}

impl Drop for SlotInner {
    fn drop(&mut self) {
        let sid = self.sid.lock().expect("slot lock").take();
        if let Some(sid) = sid {
            self.map.lock().expect("sessions lock").remove(&sid);
        }
        let mut counts = self.counts.lock().expect("session counts lock");
        counts.total -= 1;
        if let Some(n) = counts.per_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                counts.per_client.remove(&self.client);
            }
        }
    }
}

/// The request headers worth keeping to decide a session again.
fn kept_headers(headers: &http::HeaderMap) -> http::HeaderMap {
    let mut kept = http::HeaderMap::new();
    for (name, value) in headers {
        let n = name.as_str();
        if n == "origin" || n == "host" || FORWARDING_HEADERS.contains(&n) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

impl Sessions {
    pub fn new(max_total: usize, max_per_client: usize) -> Self {
        Self {
            map: Arc::default(),
            counts: Arc::default(),
            max_total,
            max_per_client,
        }
    }

    /// Sessions open now.
    pub fn open(&self) -> usize {
        self.counts.lock().expect("session counts lock").total
    }

    /// Takes a place for a new session of `client` (the client address the trusted proxies
    /// report, or the peer's).
    pub fn open_slot(&self, client: &str) -> Result<SessionSlot, SessionCap> {
        let mut counts = self.counts.lock().expect("session counts lock");
        if counts.total >= self.max_total {
            return Err(SessionCap::Total);
        }
        let n = counts.per_client.entry(client.to_owned()).or_insert(0);
        if *n >= self.max_per_client {
            return Err(SessionCap::PerClient);
        }
        *n += 1;
        counts.total += 1;
        Ok(SessionSlot(Arc::new(SlotInner {
            client: client.to_owned(),
            sid: Mutex::new(None),
            counts: self.counts.clone(),
            map: self.map.clone(),
        })))
    }

    /// Remembers the session id a polling handshake was answered with; the binding is
    /// forgotten when the session's slot is dropped (or, for a slot-less registration, after
    /// it idled long enough).
    pub fn register(&self, sid: &str, handle: SessionHandle, slot: Option<&SessionSlot>) {
        let now = Instant::now();
        let mut map = self.map.lock().expect("sessions lock");
        if map.len() >= 1024 {
            map.retain(|_, h| !h.idle(now));
        }
        map.insert(sid.to_owned(), handle);
        if let Some(slot) = slot {
            *slot.0.sid.lock().expect("slot lock") = Some(sid.to_owned());
        }
    }

    pub fn check(
        &self,
        sid: &str,
        origin: Option<&Origin>,
        peer: IpAddr,
        headers: &http::HeaderMap,
    ) -> Check {
        let handle = self.map.lock().expect("sessions lock").get(sid).cloned();
        match handle {
            None => Check::Unknown,
            Some(h) => h.check(origin, peer, headers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_on_first_origin_then_refuses_others() {
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let h = http::HeaderMap::new();
        let a = Origin::parse("https://a.example").unwrap();
        let b = Origin::parse("https://b.example").unwrap();
        let sessions = Sessions::default();
        assert_eq!(sessions.check("s1", Some(&a), peer, &h), Check::Unknown);
        sessions.register("s1", SessionHandle::new(None, peer, &h), None);
        assert_eq!(sessions.check("s1", None, peer, &h), Check::Ok);
        assert_eq!(sessions.check("s1", Some(&a), peer, &h), Check::Ok);
        assert_eq!(sessions.check("s1", None, peer, &h), Check::Ok);
        assert_eq!(sessions.check("s1", Some(&a), peer, &h), Check::Ok);
        assert_eq!(
            sessions.check("s1", Some(&b), peer, &h),
            Check::Mismatch { bound: a.clone() }
        );
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;

    #[test]
    fn sessions_are_capped_in_all_and_per_client_and_forgotten_with_their_slot() {
        let sessions = Sessions::new(3, 2);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let h = http::HeaderMap::new();
        let a1 = sessions.open_slot("a").unwrap();
        let _a2 = sessions.open_slot("a").unwrap();
        assert_eq!(sessions.open_slot("a").err(), Some(SessionCap::PerClient));
        let _b1 = sessions.open_slot("b").unwrap();
        assert_eq!(sessions.open_slot("c").err(), Some(SessionCap::Total));
        sessions.register("sid-a1", SessionHandle::new(None, peer, &h), Some(&a1));
        assert_eq!(sessions.check("sid-a1", None, peer, &h), Check::Ok);
        drop(a1);
        assert_eq!(sessions.open(), 2);
        assert_eq!(sessions.check("sid-a1", None, peer, &h), Check::Unknown);
        assert!(sessions.open_slot("c").is_ok());
    }
}
