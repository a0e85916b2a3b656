//! Gavel's origin gate as a [`tower::Layer`]: an axum + socketioxide application (or any tower
//! `Service` over `http::Request`) gets the same gate as Gavel's own server, from the same
//! policy file, with hot reload.
//!
//! [`OriginGateLayer`] decides every request once with the active policy of a
//! [`gavel_policy::PolicyStore`], reading its surface the way Gavel does (Engine.IO polling
//! `GET`/`POST` and websocket upgrades under the Socket.IO path, plain HTTP elsewhere, CORS
//! preflights anywhere), then:
//!
//! * a denial is answered without calling the inner service: `403` problem+json
//!   (`/problems/origin_denied`; `400 /problems/malformed_origin` for a malformed `Origin`),
//!   or on the Socket.IO path Engine.IO's `{"code":4,"message":"Forbidden"}` (`400`
//!   `{"code":3,…}` for a malformed origin), which official clients report as `connect_error`;
//! * a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered `204` with the
//!   methods and headers the policy's `[cors]` allows;
//! * anything else goes to the inner service, and its answer gets the CORS headers the
//!   decision grants ([`gavel_policy::cors_headers`], the same code Gavel's server uses);
//! * an Engine.IO session stays bound to the origin of its handshake (or to the first origin
//!   it shows): a later polling request with another origin is refused.
//!
//! In `report-only` mode denials are only reported ([`OriginGateLayer::on_denial`]) and the
//! request goes through with no more CORS than enforcing would grant.
//!
//! Hot reload: [`OriginGateLayer::watch`] reloads the file when it changes (feature `watch`,
//! on by default); [`OriginGateLayer::store`] is the handle to reload it yourself, e.g. on
//! `SIGHUP`. A file that does not load (or breaks its own `[[expect]]` guard rails) never
//! replaces the active policy.
//!
//! What Gavel's server does beyond this gate stays with it: per-address session caps, the
//! rate-limited denial log and metrics, and disconnecting open sockets that a reload denies.
//!
//! ```
//! use std::net::SocketAddr;
//! use gavel_tower::OriginGateLayer;
//! use http::{Request, Response};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let policy = dir.path().join("policy.toml");
//! std::fs::write(&policy, r#"
//!     version = 1
//!     [[allow]]
//!     name = "frontend"
//!     exact = "https://draft.example.com"
//! "#)?;
//! let gate = OriginGateLayer::open(&policy)?;
//! let app = gate.layer(service_fn(|_req: Request<String>| async {
//!     Ok::<_, std::convert::Infallible>(Response::new(String::from("hello")))
//! }));
//!
//! let request = |origin: &str| {
//!     let mut req = Request::get("/api/hello").header("origin", origin).body(String::new()).unwrap();
//!     // Where the peer address comes from is configurable (`peer_addr`).
//!     req.extensions_mut().insert(SocketAddr::from(([203, 0, 113, 7], 50000)));
//!     req
//! };
//! let allowed = app.clone().oneshot(request("https://draft.example.com")).await?;
//! assert_eq!(allowed.status(), 200);
//! assert_eq!(allowed.headers()["access-control-allow-origin"], "https://draft.example.com");
//!
//! let denied = app.oneshot(request("https://draft.example.com.evil.io")).await?;
//! assert_eq!(denied.status(), 403);
//! assert_eq!(denied.headers()["content-type"], "application/problem+json");
//! # Ok(())
//! # }
//! ```
//!
//! With axum and socketioxide (the whole router behind the gate, hot reload on; the crate's
//! `examples/axum_socketio` is a complete program):
//!
//! ```no_run
//! use std::net::SocketAddr;
//! use axum::{Router, extract::ConnectInfo, routing::get};
//! use gavel_tower::OriginGateLayer;
//! use socketioxide::{SocketIo, extract::SocketRef};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let gate = OriginGateLayer::open("policy.toml")?
//!     .socket_io_path("/socket.io")
//!     .peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()));
//! let _watcher = gate.watch()?;
//!
//! let (socket_io, io) = SocketIo::new_layer();
//! io.ns("/", async |_socket: SocketRef| {});
//! let app = Router::new()
//!     .route("/api/hello", get(|| async { "hello" }))
//!     .layer(socket_io)
//!     .layer(gate);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod answer;
mod body;
mod future;
mod layer;
mod service;
mod sessions;
mod surface;
#[cfg(feature = "watch")]
mod watch;

pub use body::GateBody;
pub use future::ResponseFuture;
pub use layer::OriginGateLayer;
pub use service::OriginGate;
#[cfg(feature = "watch")]
pub use watch::{PolicyWatcher, ReloadResult, WatchError};

pub use gavel_policy;
