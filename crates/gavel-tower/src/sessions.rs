//! Engine.IO session binding: a session keeps the origin it was opened with, as in Gavel's
//! own gate.
//!
//! A session opened without `Origin` binds to the first origin it later shows (the incident
//! Gavel was built after: a polling handshake without `Origin`, then POSTs with it). A later
//! request of a bound session may omit `Origin` or repeat it; another origin is refused, even
//! one the policy allows.
//!
//! The binding lives as long as the session: the gate puts a [`SessionGuard`] into the
//! handshake request's extensions, which the Engine.IO server (socketioxide) keeps with the
//! socket; when the socket and the gate drop their clones, the session is forgotten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gavel_policy::Origin;

/// The origin a session is bound to (`None` until it shows one).
type Binding = Arc<Mutex<Option<Origin>>>;
type Map = Arc<Mutex<HashMap<String, Binding>>>;

/// Engine.IO session ids → their bindings.
#[derive(Clone, Default)]
pub(crate) struct Sessions {
    map: Map,
}

/// What a later request of a session may do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Not a session the gate knows (the Engine.IO server answers unknown sids itself).
    Unknown,
    Ok,
    /// The request shows another origin than the session's.
    Mismatch,
}

impl Sessions {
    /// A binding for a handshake that showed `origin`; registered once its sid is known.
    pub(crate) fn open(&self, origin: Option<Origin>) -> SessionGuard {
        SessionGuard(Arc::new(GuardInner {
            binding: Arc::new(Mutex::new(origin)),
            sid: Mutex::new(None),
            map: self.map.clone(),
        }))
    }

    /// Checks a later request of session `sid` that showed `origin` (normalized, if any);
    /// binds an unbound session to it.
    pub(crate) fn check(&self, sid: &str, origin: Option<&Origin>) -> Check {
        let binding = self.map.lock().expect("sessions lock").get(sid).cloned();
        let Some(binding) = binding else {
            return Check::Unknown;
        };
        let mut bound = binding.lock().expect("binding lock");
        match (bound.as_ref(), origin) {
            (_, None) => Check::Ok,
            (None, Some(o)) => {
                *bound = Some(o.clone());
                Check::Ok
            }
            (Some(b), Some(o)) if b == o => Check::Ok,
            (Some(_), Some(_)) => Check::Mismatch,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().expect("sessions lock").len()
    }
}

/// One handshake's binding. Cloned into the request's extensions; dropping the last clone
/// forgets the session.
#[derive(Clone)]
pub(crate) struct SessionGuard(Arc<GuardInner>);

struct GuardInner {
    binding: Binding,
    sid: Mutex<Option<String>>,
    map: Map,
}

impl SessionGuard {
    /// Remembers the session id the handshake was answered with.
    pub(crate) fn register(&self, sid: &str) {
        let mut map = self.0.map.lock().expect("sessions lock");
        map.insert(sid.to_owned(), self.0.binding.clone());
        *self.0.sid.lock().expect("guard lock") = Some(sid.to_owned());
    }
}

impl Drop for GuardInner {
    fn drop(&mut self) {
        let sid = self.sid.lock().expect("guard lock").take();
        if let Some(sid) = sid {
            self.map.lock().expect("sessions lock").remove(&sid);
        }
    }
}

/// The `sid` of an Engine.IO polling handshake answer (`0{"sid":"…",…}`).
pub(crate) fn handshake_sid(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find(r#""sid":""#)? + 7;
    let end = text[start..].find('"')?;
    Some(&text[start..start + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_on_first_origin_then_refuses_others() {
        let a = Origin::parse("https://a.example").unwrap();
        let b = Origin::parse("https://b.example").unwrap();
        let sessions = Sessions::default();
        assert_eq!(sessions.check("s1", Some(&a)), Check::Unknown);
        let guard = sessions.open(None);
        guard.register("s1");
        assert_eq!(sessions.check("s1", None), Check::Ok);
        assert_eq!(sessions.check("s1", Some(&a)), Check::Ok);
        assert_eq!(sessions.check("s1", None), Check::Ok);
        assert_eq!(sessions.check("s1", Some(&b)), Check::Mismatch);
    }

    #[test]
    fn a_session_is_forgotten_with_its_last_guard() {
        let a = Origin::parse("https://a.example").unwrap();
        let sessions = Sessions::default();
        let guard = sessions.open(Some(a.clone()));
        let kept_by_the_socket = guard.clone();
        guard.register("s1");
        drop(guard);
        assert_eq!(sessions.check("s1", Some(&a)), Check::Ok);
        drop(kept_by_the_socket);
        assert_eq!(sessions.len(), 0);
        assert_eq!(sessions.check("s1", Some(&a)), Check::Unknown);
    }

    #[test]
    fn handshake_sids() {
        assert_eq!(
            handshake_sid(br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"]}"#),
            Some("lv_VI97HAXpY6yYWAAAC")
        );
        assert_eq!(handshake_sid(b"3probe"), None);
    }
}
