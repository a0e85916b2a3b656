//! Socket.IO: socketioxide behind the gate, at `/api/socket.io/`.
//!
//! Namespace `/auction`. The handshake `auth` payload carries the JWT (`{"token": "…"}`); a
//! missing or bad one gets a `connect_error` with the reason, and the session ends when the
//! token expires (`expiry`). `time:sync` answers with the server clock (and a joined auction's
//! latest `seq`); the auction's events are in `auction_events` (client → server) and
//! `broadcast` (server → clients, after commit). Every payload and ack is a type of
//! [`crate::contract`].

mod auction_events;
pub mod broadcast;
mod chat;
mod endpoint;
pub mod expiry;
mod presence;
pub mod pubsub;

use serde::Deserialize;
use std::sync::Arc;

use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::extract::{AckSender, Data, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler as _;
use socketioxide::{SocketIo, SocketIoBuilder};
use tokio::sync::mpsc::UnboundedReceiver;

pub use endpoint::SocketIoEndpoint;

use crate::auction::requests::MemberRequests;
use crate::auction::store::Published;
use crate::auth::{AuthError, Claims, JwtKeys};
use crate::config::Limits;
use crate::contract::{
    Command as _, PolicyRevoked, Refusal, ServerEvent, TimeSyncAck, TimeSyncRequest, TimeSynced,
    True,
};
use crate::gate::{Gate, SOCKET_IO_PATH, SessionHandle};
use gavel_policy::{ConnScheme, RequestFacts, Surface};

pub const NAMESPACE: &str = "/auction";

/// The Socket.IO side of the server, over the in-process adapter or the Redis one (several
/// server processes); the adapter's type stays in here.
#[derive(Clone)]
pub struct Realtime {
    endpoint: Arc<poem::endpoint::BoxEndpoint<'static, poem::Response>>,
    disconnect_denied: Arc<dyn Fn(&Gate) -> u64 + Send + Sync>,
}

#[derive(Deserialize)]
struct AuthPayload {
    token: String,
}

/// Connect middleware: the JWT in the handshake `auth` payload. Its error text is what the
/// client's `connect_error` carries.
async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    TryData(auth): TryData<AuthPayload>,
    State(keys): State<JwtKeys>,
) -> Result<(), AuthError> {
    let payload = auth.map_err(|_| AuthError::Missing)?;
    let claims = keys.verify(&payload.token)?;
    // `verify` grants clock skew a few seconds past `exp`; a session would end as it began.
    if !expiry::holds(&claims, keys.clock().now_ms()) {
        return Err(AuthError::Expired);
    }
    // The session's expiry is judged on the clock its token was verified on.
    socket.extensions.insert(keys.clock().clone());
    socket.extensions.insert(claims);
    Ok(())
}

async fn on_connect<A: Adapter>(socket: SocketRef<A>) {
    let sub = socket
        .extensions
        .get::<Claims>()
        .map(|c| c.sub)
        .unwrap_or_default();
    tracing::debug!(sid = %socket.id, sub, transport = ?socket.transport_type(), "socket connected");
    presence::track(&socket);
    socket.on(TimeSyncRequest::NAME, time_sync::<A>);
    auction_events::register(&socket);
    socket.on_disconnect(async move |socket: SocketRef<A>| {
        expiry::stop(&socket);
        // Presence is per auction: tell each room this socket had joined.
        presence::offline_everywhere(&socket).await;
    });
    // After `on_disconnect`, so that a socket leaving at once still stops its timer.
    expiry::start(&socket);
}

/// `time:sync`: the server clock, echoing the request. The payload is read as it came (any
/// JSON is echoed back); naming a joined auction also asks for its latest seq: a client that is
/// behind (a broadcast lost while Redis was away, or a process that died between commit and
/// broadcast) finds out even when no further event comes, and resyncs.
async fn time_sync<A: Adapter>(
    _: auction_events::Admitted,
    socket: SocketRef<A>,
    ack: AckSender<A>,
    Data(client): Data<serde_json::Value>,
    State(requests): State<MemberRequests>,
) {
    if expiry::live_claims(&socket).is_none() {
        let refusal = Refusal::new("token_expired", "the session's token has expired");
        let _ = ack.send(&TimeSyncAck::from(refusal));
        return;
    }
    let mut answer = TimeSynced {
        ok: True,
        server_now: requests.clock().now_ms(),
        client,
        seq: None,
    };
    if let Some(id) = answer
        .client
        .get("auction_id")
        .and_then(serde_json::Value::as_i64)
        && socket.rooms().contains(&broadcast::room(id).into())
        && let Ok(seq) = requests.store().latest_seq(id).await
    {
        answer.seq = Some(seq);
    }
    let _ = ack.send(&TimeSyncAck::from(answer));
}

/// The builder every adapter starts from.
fn builder(
    keys: JwtKeys,
    requests: MemberRequests,
    limits: &Limits,
) -> SocketIoBuilder<LocalAdapter> {
    SocketIo::builder()
        .req_path(SOCKET_IO_PATH)
        // Room for a burst of bids and a rejoining client's replay without dropping any.
        .max_buffer_size(4096)
        // One bound for both transports: engineioxide applies `max_payload` to polling
        // bodies only, and lets a websocket message grow to 64 MiB unless told otherwise.
        .max_payload(limits.max_payload)
        .ws_max_message_size(limits.max_payload as usize)
        .ws_max_frame_size(limits.max_payload as usize)
        // A session that never connects to a namespace costs memory: close it soon.
        .connect_timeout(limits.connect_timeout)
        .with_state(keys)
        .with_state(requests)
        .with_state(limits.clone())
}

#[derive(Debug, thiserror::Error)]
#[error("cannot use Redis (Socket.IO broadcasts, shared rate limits): {0}")]
pub struct RedisError(pub String);

impl Realtime {
    /// One process: rooms and broadcasts in memory. `published` is what the auction store
    /// commits, broadcast to each auction's room by a task of its own.
    pub fn new(
        keys: JwtKeys,
        requests: MemberRequests,
        published: UnboundedReceiver<Published>,
        limits: &Limits,
    ) -> Self {
        let (svc, io) = builder(keys, requests, limits).build_svc();
        io.ns(
            NAMESPACE,
            on_connect::<LocalAdapter>.with(authenticate::<LocalAdapter>),
        );
        Self::assemble(io, SocketIoEndpoint::new(svc), published)
    }

    /// Several processes: rooms span them through Redis (socketioxide-redis, on the
    /// self-healing [`pubsub::PubSubDriver`]), so a broadcast from the process that committed
    /// reaches sockets on every other.
    pub async fn with_redis(
        driver: pubsub::PubSubDriver,
        keys: JwtKeys,
        requests: MemberRequests,
        published: UnboundedReceiver<Published>,
        limits: &Limits,
    ) -> Result<Self, RedisError> {
        use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
        let adapter = RedisAdapterCtr::new_with_driver(driver, RedisAdapterConfig::default());
        type Redis = CustomRedisAdapter<socketioxide::adapter::Emitter, pubsub::PubSubDriver>;
        let (svc, io) = builder(keys, requests, limits)
            .with_adapter::<Redis>(adapter)
            .build_svc();
        io.ns(NAMESPACE, on_connect::<Redis>.with(authenticate::<Redis>))
            .await
            .map_err(|e| RedisError(e.to_string()))?;
        Ok(Self::assemble(io, SocketIoEndpoint::new(svc), published))
    }

    fn assemble<A: Adapter>(
        io: SocketIo<A>,
        endpoint: SocketIoEndpoint<A>,
        published: UnboundedReceiver<Published>,
    ) -> Self {
        use poem::EndpointExt;
        broadcast::spawn(io.clone(), published);
        Self {
            endpoint: Arc::new(endpoint.boxed()),
            disconnect_denied: Arc::new(move |gate: &Gate| disconnect_denied(&io, gate)),
        }
    }

    pub fn endpoint(&self) -> Arc<poem::endpoint::BoxEndpoint<'static, poem::Response>> {
        self.endpoint.clone()
    }

    /// After a reload: decides every open socket again with the facts that bound its session,
    /// and disconnects those the active policy now denies (telling them why first).
    /// Returns how many were disconnected.
    pub fn disconnect_denied(&self, gate: &Gate) -> u64 {
        (self.disconnect_denied)(gate)
    }
}

/// [`Realtime::disconnect_denied`] for one adapter: this process's sockets.
fn disconnect_denied<A: Adapter>(io: &SocketIo<A>, gate: &Gate) -> u64 {
    let Some(ns) = io.of(NAMESPACE) else {
        return 0;
    };
    let mut disconnected = 0;
    for socket in ns.sockets() {
        let Some(handle) = socket.req_parts().extensions.get::<SessionHandle>() else {
            continue;
        };
        let binding = handle.binding();
        let surface = match socket.transport_type() {
            socketioxide::TransportType::Websocket => Surface::Websocket,
            socketioxide::TransportType::Polling => Surface::PollingPost,
        };
        let (_, decision) = gate.decide(&RequestFacts {
            headers: &binding.headers,
            peer: binding.peer,
            scheme: ConnScheme::Http,
            surface,
            path: SOCKET_IO_PATH,
        });
        if decision.is_allowed() || !decision.is_enforced() {
            continue;
        }
        tracing::warn!(
            sid = %socket.id,
            origin = binding.origin.as_ref().map(|o| o.to_string()),
            policy_version = %decision.policy_version(),
            "disconnecting a socket whose origin the reloaded policy denies"
        );
        let revoked = ServerEvent::PolicyRevoked(PolicyRevoked {
            reason: decision.reason().as_str().to_owned(),
            detail: decision.summary(),
            policy_version: decision.policy_version().to_owned(),
        });
        broadcast::emit_to(&socket, &revoked);
        let _ = socket.disconnect();
        disconnected += 1;
    }
    disconnected
}
