//! Serves one trivial route twice — without and with the origin gate — for `benches/gate.sh`.
//!
//!     cargo run --release --example gate_bench_server -- policies/development.toml
//!
//! Prints `plain=PORT gated=PORT static_cors=PORT` and serves until killed.

use std::sync::Arc;

use gavel::gate::{Gate, GateMiddleware, Metrics};
use gavel_policy::PolicyStore;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Route, Server, get, handler};

#[handler]
fn hello() -> &'static str {
    "ok"
}

/// The same answer with the headers the gate adds for an allowed origin, written by hand: what
/// the CORS headers cost on their own.
#[handler]
fn hello_with_static_cors() -> poem::Response {
    poem::Response::builder()
        .header("vary", "Origin")
        .header("access-control-allow-origin", "http://localhost:5173")
        .header("access-control-allow-credentials", "true")
        .header("access-control-expose-headers", "x-request-id")
        .body("ok")
}

async fn serve(app: poem::endpoint::BoxEndpoint<'static>) -> u16 {
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
    tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    port
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let policy = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "policies/development.toml".into());
    let store = Arc::new(PolicyStore::open(&policy).expect("valid policy"));
    let gate = Arc::new(Gate::new(store, Arc::new(Metrics::new())));
    let plain = serve(Route::new().at("/hello", get(hello)).boxed()).await;
    let gated = serve(
        Route::new()
            .at("/hello", get(hello))
            .with(GateMiddleware::new(gate))
            .boxed(),
    )
    .await;
    let static_cors = serve(
        Route::new()
            .at("/hello", get(hello_with_static_cors))
            .boxed(),
    )
    .await;
    println!("plain={plain} gated={gated} static_cors={static_cors}");
    std::future::pending::<()>().await;
}
