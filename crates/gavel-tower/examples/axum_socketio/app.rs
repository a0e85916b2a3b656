//! The example's application, apart from `main` so that `tests/layer.rs` serves the very same
//! router: `/api/hello`, Socket.IO with an echoing namespace `/`, all behind the origin gate.

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use gavel_tower::OriginGateLayer;
use gavel_tower::gavel_policy::PolicyError;
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use tokio::net::TcpListener;

/// Where Socket.IO is served (socket.io's default path).
pub const SOCKET_IO_PATH: &str = "/socket.io";

/// The gate for the policy file at `policy`. axum puts the peer's address into the request's
/// extensions as `ConnectInfo<SocketAddr>` (see [`serve`]).
pub fn gate(policy: &Path) -> Result<OriginGateLayer, PolicyError> {
    Ok(OriginGateLayer::open(policy)?
        .socket_io_path(SOCKET_IO_PATH)
        .peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
}

/// The routes and Socket.IO, the gate outermost: it sees every request, the Socket.IO
/// transports included, before anything else does.
pub fn router(gate: OriginGateLayer) -> Router {
    let (socket_io, io) = SocketIo::builder().req_path(SOCKET_IO_PATH).build_layer();
    io.ns("/", async |socket: SocketRef| {
        // Echoes as an ack and as an event of the same name.
        socket.on(
            "echo",
            async |socket: SocketRef, Data(data): Data<Value>, ack: AckSender| {
                let _ = socket.emit("echo", &data);
                let _ = ack.send(&data);
            },
        );
    });
    Router::new()
        .route("/api/hello", get(|| async { "hello" }))
        .layer(socket_io)
        .layer(gate)
}

/// Serves `app` with each request's peer address in its extensions.
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
