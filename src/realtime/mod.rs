//! Socket.IO: socketioxide behind the gate, at `/api/socket.io/`.
//!
//! Namespace `/auction`. The handshake `auth` payload carries the JWT (`{"token": "…"}`); a
//! missing or bad one gets a `connect_error` with the reason. Events so far: `time:sync`
//! (ack with the server clock) and `presence` broadcasts; the auction events come with the
//! auction itself.

mod endpoint;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;

pub use endpoint::SocketIoEndpoint;

use crate::auth::{AuthError, Claims, JwtKeys};
use crate::gate::{Gate, SOCKET_IO_PATH, SessionHandle};
use crate::policy::{ConnScheme, RequestFacts, Surface};

pub const NAMESPACE: &str = "/auction";

/// The Socket.IO side of the server.
#[derive(Clone)]
pub struct Realtime {
    io: SocketIo,
    endpoint: SocketIoEndpoint,
}

#[derive(Deserialize)]
struct AuthPayload {
    token: String,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// Connect middleware: the JWT in the handshake `auth` payload. Its error text is what the
/// client's `connect_error` carries.
async fn authenticate(
    socket: SocketRef,
    TryData(auth): TryData<AuthPayload>,
    State(keys): State<JwtKeys>,
) -> Result<(), AuthError> {
    let payload = auth.map_err(|_| AuthError::Missing)?;
    let claims = keys.verify(&payload.token)?;
    socket.extensions.insert(claims);
    Ok(())
}

async fn on_connect(socket: SocketRef) {
    let sub = socket
        .extensions
        .get::<Claims>()
        .map(|c| c.sub)
        .unwrap_or_default();
    tracing::debug!(sid = %socket.id, sub, transport = ?socket.transport_type(), "socket connected");
    let _ = socket
        .broadcast()
        .emit(
            "presence",
            &serde_json::json!({ "sub": sub, "online": true }),
        )
        .await;
    socket.on(
        "time:sync",
        async |ack: AckSender, Data(client): Data<serde_json::Value>| {
            let _ = ack
                .send(&serde_json::json!({ "ok": true, "server_now": now_ms(), "client": client }));
        },
    );
    socket.on_disconnect(async move |socket: SocketRef| {
        let _ = socket
            .broadcast()
            .emit(
                "presence",
                &serde_json::json!({ "sub": sub, "online": false }),
            )
            .await;
    });
}

impl Realtime {
    pub fn new(keys: JwtKeys) -> Self {
        let (svc, io) = SocketIo::builder()
            .req_path(SOCKET_IO_PATH)
            .with_state(keys)
            .build_svc();
        io.ns(NAMESPACE, on_connect.with(authenticate));
        Self {
            io,
            endpoint: SocketIoEndpoint::new(svc),
        }
    }

    pub fn endpoint(&self) -> SocketIoEndpoint {
        self.endpoint.clone()
    }

    /// After a reload: decides every open socket again with the facts that bound its session,
    /// and disconnects those the active policy now denies (telling them why first).
    /// Returns how many were disconnected.
    pub fn disconnect_denied(&self, gate: &Gate) -> u64 {
        let Some(ns) = self.io.of(NAMESPACE) else {
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
            if decision.is_allowed() || !decision.enforced {
                continue;
            }
            tracing::warn!(
                sid = %socket.id,
                origin = binding.origin.as_ref().map(|o| o.to_string()),
                policy_version = %decision.policy_version,
                "disconnecting a socket whose origin the reloaded policy denies"
            );
            let _ = socket.emit(
                "policy:revoked",
                &serde_json::json!({
                    "reason": decision.reason,
                    "detail": decision.summary(),
                    "policy_version": decision.policy_version,
                }),
            );
            let _ = socket.disconnect();
            disconnected += 1;
        }
        disconnected
    }
}
