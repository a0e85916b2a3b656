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

use crate::policy::{FORWARDING_HEADERS, Origin};

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

/// Engine.IO session ids → their bindings.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, SessionHandle>>,
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
    /// Remembers the session id a polling handshake was answered with.
    pub fn register(&self, sid: &str, handle: SessionHandle) {
        let now = Instant::now();
        let mut map = self.map.lock().expect("sessions lock");
        if map.len() >= 1024 {
            map.retain(|_, h| !h.idle(now));
        }
        map.insert(sid.to_owned(), handle);
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
        sessions.register("s1", SessionHandle::new(None, peer, &h));
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
