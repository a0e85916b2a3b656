//! The future of a gated answer: the gate's own, or the inner service's with CORS headers
//! added (and, for a polling handshake, its body read to register the session id).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Response, StatusCode};
use http_body::Body;
use pin_project_lite::pin_project;

use gavel_policy::{Decision, Policy, cors_headers};

use crate::body::GateBody;
use crate::sessions::{SessionGuard, handshake_sid};

/// What the answer of a request the gate let through still needs.
pub(crate) struct After {
    pub(crate) policy: Arc<Policy>,
    pub(crate) decision: Decision,
    /// The request's `Origin`, echoed without a copy of the text.
    pub(crate) sent_origin: Option<HeaderValue>,
    /// A polling handshake's binding, registered once its answer names the session.
    pub(crate) handshake: Option<SessionGuard>,
}

pin_project! {
    /// The future of [`OriginGate`](crate::OriginGate)'s answer.
    pub struct ResponseFuture<F, B: Body> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B: Body> {
        // The gate answered itself.
        Answered { response: Option<Response<Bytes>> },
        // The inner service is answering.
        Inner { #[pin] future: F, after: Option<After> },
        // Reading a polling handshake's answer for its session id: only the Engine.IO
        // server's 200 to a handshake comes here, a few dozen bytes.
        Handshake {
            #[pin] body: B,
            head: Option<http::response::Parts>,
            read: BytesMut,
            guard: SessionGuard,
        },
    }
}

impl<F, B: Body> ResponseFuture<F, B> {
    pub(crate) fn answered(response: Response<Bytes>) -> Self {
        Self {
            state: State::Answered {
                response: Some(response),
            },
        }
    }

    pub(crate) fn inner(future: F, after: After) -> Self {
        Self {
            state: State::Inner {
                future,
                after: Some(after),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body<Data = Bytes>,
{
    type Output = Result<Response<GateBody<B>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let next = match self.as_mut().project().state.project() {
                StateProj::Answered { response } => {
                    let response = response.take().expect("polled after completion");
                    return Poll::Ready(Ok(response.map(GateBody::full)));
                }
                StateProj::Inner { future, after } => {
                    let (mut head, body) = ready!(future.poll(cx))?.into_parts();
                    let after = after.take().expect("polled after completion");
                    cors_headers::actual(
                        &after.policy,
                        &after.decision,
                        after.sent_origin.as_ref(),
                        &mut head.headers,
                    );
                    match after.handshake {
                        Some(guard) if head.status == StatusCode::OK => State::Handshake {
                            body,
                            head: Some(head),
                            read: BytesMut::new(),
                            guard,
                        },
                        _ => {
                            let body = GateBody::inner(body);
                            return Poll::Ready(Ok(Response::from_parts(head, body)));
                        }
                    }
                }
                StateProj::Handshake {
                    mut body,
                    head,
                    read,
                    guard,
                } => {
                    let body = loop {
                        match ready!(body.as_mut().poll_frame(cx)) {
                            Some(Ok(frame)) => {
                                if let Ok(data) = frame.into_data() {
                                    read.extend_from_slice(&data);
                                }
                            }
                            Some(Err(e)) => break GateBody::failed(e),
                            None => {
                                let read = read.split().freeze();
                                if let Some(sid) = handshake_sid(&read) {
                                    guard.register(sid);
                                }
                                break GateBody::full(read);
                            }
                        }
                    };
                    let head = head.take().expect("polled after completion");
                    return Poll::Ready(Ok(Response::from_parts(head, body)));
                }
            };
            self.as_mut().project().state.set(next);
        }
    }
}
