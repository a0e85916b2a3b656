//! The HTTP/1.1 server: poem's endpoint served by hyper on Gavel's own accept loop, because
//! poem's `Server` has no connection caps, no header-read timeout and no idle timeout apart
//! from it. Every connection has a place in a [`budget::Budget`] (in all and per peer
//! address) and a [`clock::Clock`] whose deadlines a watchdog enforces.
//!
//! `TCP_NODELAY` is set on every connection: Socket.IO writes many small frames (a broadcast
//! is often two), and with Nagle's algorithm the second waits for the peer's delayed ACK,
//! about 40 ms on Linux. HTTP/2 is not offered: browsers only speak it over TLS, which a
//! proxy in front terminates.

pub mod body_limit;
pub mod budget;
pub mod clock;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use poem::Endpoint;
use poem::http::uri::Scheme;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub use budget::{Budget, Caps};
pub use clock::Timeouts;
use clock::{Clock, Next, Watched};

use crate::telemetry::Throttle;

/// File descriptors kept for everything but public connections: the database pool, the
/// operators' listener, Redis, the policy watcher, log files.
const FD_RESERVE: u64 = 256;

/// Raises the process's open-file limit to its hard limit and returns the connection cap that
/// fits in it: a cap above the descriptors there are would let connections exhaust them
/// before the cap holds (and then nothing, health checks included, could be accepted).
pub fn fit_to_fd_limit(max_connections: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit; the connection cap is as configured");
            return max_connections;
        }
    };
    let fits = usize::try_from(limit.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
    if fits < max_connections {
        tracing::warn!(
            max_connections,
            open_file_limit = limit,
            cap = fits,
            "max_connections is over what the open-file limit allows: capped (raise `ulimit -n` / LimitNOFILE)"
        );
        return fits.max(1);
    }
    max_connections
}

/// A bound TCP listener with its caps and timeouts, not yet serving.
pub struct Listener {
    tcp: TcpListener,
    addr: SocketAddr,
    budget: Arc<Budget>,
    timeouts: Timeouts,
    /// Peers exempt from the per-address cap (trusted proxies, read at accept time so that
    /// a policy reload applies).
    exempt: Arc<dyn Fn(IpAddr) -> bool + Send + Sync>,
}

/// The largest request head (request line and headers) read; hyper's default is ~400 KB.
const MAX_HEAD_BYTES: usize = 64 * 1024;

type SharedEndpoint = Arc<poem::endpoint::BoxEndpoint<'static>>;
type ResponseBody = http_body_util::combinators::BoxBody<bytes::Bytes, std::io::Error>;

impl Listener {
    pub async fn bind(
        addr: SocketAddr,
        caps: Caps,
        timeouts: Timeouts,
        exempt: Arc<dyn Fn(IpAddr) -> bool + Send + Sync>,
    ) -> std::io::Result<Self> {
        let tcp = TcpListener::bind(addr).await?;
        let addr = tcp.local_addr()?;
        Ok(Self {
            tcp,
            addr,
            budget: Budget::new(caps),
            timeouts,
            exempt,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `endpoint` until `stop` turns true, then lets open requests finish for up to
    /// `grace`.
    pub async fn serve(
        self,
        endpoint: SharedEndpoint,
        mut stop: watch::Receiver<bool>,
        grace: Duration,
    ) {
        let refused = Throttle::per_second(1);
        loop {
            let accepted = tokio::select! {
                a = self.tcp.accept() => a,
                () = stopped(&mut stop) => break,
            };
            let (io, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, usually: give closing connections a moment.
                    if refused.allow() {
                        tracing::error!(error = %e, "cannot accept a connection");
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            match self.budget.admit(peer.ip(), (self.exempt)(peer.ip())) {
                Ok(admission) => {
                    let _ = io.set_nodelay(true);
                    let io = Watched::new(io, Arc::new(Clock::new()), admission);
                    tokio::spawn(connection(
                        io,
                        peer,
                        self.addr,
                        endpoint.clone(),
                        self.timeouts,
                        stop.clone(),
                        grace,
                    ));
                }
                Err(why) => {
                    if refused.allow() {
                        tracing::warn!(
                            peer = %peer.ip(),
                            cap = why.as_str(),
                            open = self.budget.open(),
                            suppressed = refused.take_suppressed(),
                            "connection refused: the connection cap is reached"
                        );
                    }
                    drop(io);
                }
            }
        }
        let _ = tokio::time::timeout(grace, self.budget.drained()).await;
    }
}

/// Serves one connection until it ends, a deadline passes or the server stops.
async fn connection(
    io: Watched<TcpStream>,
    peer: SocketAddr,
    local: SocketAddr,
    endpoint: SharedEndpoint,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let clock = io.clock();
    let service = {
        let clock = clock.clone();
        hyper::service::service_fn(move |req: http::Request<Incoming>| {
            let endpoint = endpoint.clone();
            let clock = clock.clone();
            async move {
                clock.request_started();
                let req = poem::Request::from((
                    req,
                    LocalAddr(local.into()),
                    RemoteAddr(peer.into()),
                    Scheme::HTTP,
                ));
                let resp = endpoint.get_response(req).await;
                clock.response_ready(resp.status() == http::StatusCode::SWITCHING_PROTOCOLS);
                Ok::<_, Infallible>(hyper::Response::<ResponseBody>::from(resp))
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // A request head over this is answered 431: headers cannot grow without bound.
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    loop {
        let deadline = async {
            match clock.next(timeouts, tokio::time::Instant::now()) {
                Next::WaitUntil(at) => tokio::time::sleep_until(at).await,
                Next::WaitForChange => std::future::pending().await,
                Next::Expired(_) => {}
            }
        };
        tokio::select! {
            _ = &mut conn => return,
            () = clock.changed() => continue,
            () = deadline => {
                if let Next::Expired(why) = clock.next(timeouts, tokio::time::Instant::now()) {
                    tracing::debug!(peer = %peer, why, "connection closed");
                    return; // dropping the connection closes the socket
                }
            }
            () = stopped(&mut stop) => {
                conn.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(grace, conn).await;
                return;
            }
        }
    }
}

/// Resolves once the server is told to stop (or whoever could tell it is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
