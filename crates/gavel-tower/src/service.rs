//! The gated service: one decision per request, then the inner service or the gate's answer.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::ORIGIN;
use http::{Request, Response, StatusCode};
use http_body::Body;
use tower::Service;

use gavel_policy::{Decision, Policy, RequestFacts, Surface};

use crate::OriginGateLayer;
use crate::answer;
use crate::body::GateBody;
use crate::future::{After, ResponseFuture};
use crate::sessions::{Check, SessionGuard};
use crate::surface::{engine_sid, surface_of};

/// The service [`OriginGateLayer`] wraps around an inner service: it decides every request
/// with the active policy and either answers it itself (a refusal, a preflight) or passes it
/// on and adds the CORS headers the decision grants to the answer.
#[derive(Clone, Debug)]
pub struct OriginGate<S> {
    pub(crate) inner: S,
    pub(crate) gate: OriginGateLayer,
}

/// One request's decision and what it was decided on.
struct Decided {
    policy: Arc<Policy>,
    decision: Decision,
    socket_io: bool,
    surface: Surface,
}

/// What to do with a request the gate lets through.
enum Pass {
    /// Answer it without the inner service.
    Answer(Response<Bytes>),
    /// Call the inner service; `handshake` is the binding to register once the polling
    /// handshake's answer names its session.
    Inner { handshake: Option<SessionGuard> },
}

impl<S> OriginGate<S> {
    fn decide<B>(&self, req: &Request<B>) -> Decided {
        let gate = &self.gate;
        let path = req.uri().path();
        let socket_io = gate.socket_io.contains(path);
        let surface = surface_of(req, socket_io);
        let peer = (gate.peer)(req.extensions()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let policy = gate.store.current();
        let decision = policy.decide(&RequestFacts {
            headers: req.headers(),
            peer,
            scheme: gate.scheme,
            surface,
            path,
        });
        if !decision.is_allowed()
            && let Some(on_denial) = &gate.on_denial
        {
            on_denial(&decision);
        }
        Decided {
            policy,
            decision,
            socket_io,
            surface,
        }
    }

    /// Refusals, preflights and the Engine.IO session binding.
    fn pass<B>(&self, req: &mut Request<B>, d: &Decided) -> Pass {
        if !d.decision.is_allowed() && d.decision.is_enforced() {
            return Pass::Answer(answer::refusal(&d.decision, d.socket_io));
        }
        if d.surface == Surface::Preflight {
            return Pass::Answer(answer::preflight(&d.policy, &d.decision, req.headers()));
        }
        if !d.socket_io {
            return Pass::Inner { handshake: None };
        }
        let origin = d.decision.origin();
        if let Some(sid) = engine_sid(req) {
            if self.gate.sessions.check(sid, origin) == Check::Mismatch {
                return Pass::Answer(answer::engine_io_error(StatusCode::FORBIDDEN));
            }
            return Pass::Inner { handshake: None };
        }
        // A handshake: the socket created from it keeps the guard, and with it the binding.
        let guard = self.gate.sessions.open(origin.cloned());
        req.extensions_mut().insert(guard.clone());
        Pass::Inner {
            handshake: (d.surface == Surface::PollingGet).then_some(guard),
        }
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for OriginGate<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ResB: Body<Data = Bytes>,
{
    type Response = Response<GateBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let decided = self.decide(&req);
        match self.pass(&mut req, &decided) {
            Pass::Answer(resp) => ResponseFuture::answered(resp),
            Pass::Inner { handshake } => {
                let after = After {
                    sent_origin: req.headers().get(ORIGIN).cloned(),
                    policy: decided.policy,
                    decision: decided.decision,
                    handshake,
                };
                ResponseFuture::inner(self.inner.call(req), after)
            }
        }
    }
}
