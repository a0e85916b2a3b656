//! The layer and what it is configured with.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use gavel_policy::{ConnScheme, Decision, PolicyError, PolicyStore};
use tower::Layer;

use crate::OriginGate;
use crate::sessions::Sessions;
use crate::surface::SocketIoPath;

type PeerFn = dyn Fn(&http::Extensions) -> Option<IpAddr> + Send + Sync;
type DenialFn = dyn Fn(&Decision) + Send + Sync;

/// A [`tower::Layer`] that puts every request through the active origin policy first.
///
/// Cloning is cheap, and every clone (and every [`OriginGate`] it makes) shares the policy
/// store and the Engine.IO session bindings.
#[derive(Clone)]
pub struct OriginGateLayer {
    pub(crate) store: Arc<PolicyStore>,
    pub(crate) socket_io: SocketIoPath,
    pub(crate) scheme: ConnScheme,
    pub(crate) peer: Arc<PeerFn>,
    pub(crate) on_denial: Option<Arc<DenialFn>>,
    pub(crate) sessions: Sessions,
}

impl OriginGateLayer {
    /// Loads the policy file (refusing an invalid one, as Gavel refuses to start with it) and
    /// gates with it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        Ok(Self::new(Arc::new(PolicyStore::open(path)?)))
    }

    /// Gates with the active policy of `store`, which the application may also reload itself.
    ///
    /// The defaults: Socket.IO under `/socket.io` (socketioxide's and socket.io's default), a
    /// plain-HTTP listener, and the peer address from a [`SocketAddr`] in the request's
    /// extensions (see [`OriginGateLayer::peer_addr`]).
    pub fn new(store: Arc<PolicyStore>) -> Self {
        Self {
            store,
            socket_io: SocketIoPath::new("/socket.io"),
            scheme: ConnScheme::Http,
            peer: Arc::new(|ext: &http::Extensions| ext.get::<SocketAddr>().map(SocketAddr::ip)),
            on_denial: None,
            sessions: Sessions::default(),
        }
    }

    /// Where Socket.IO is served (the path given to socketioxide's `req_path`). Requests there
    /// are decided as Engine.IO polling or websocket requests, refused with Engine.IO's error
    /// object, and bound to the origin of their session's handshake.
    pub fn socket_io_path(mut self, path: &str) -> Self {
        self.socket_io = SocketIoPath::new(path);
        self
    }

    /// The scheme of the connections the server accepts itself: [`ConnScheme::Https`] when it
    /// terminates TLS. Behind a proxy, the public origin comes from the trusted proxy headers.
    pub fn scheme(mut self, scheme: ConnScheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// How to find the address of the connection's peer in a request's extensions; the
    /// policy's `trusted_proxies` are judged by it. With axum, served through
    /// `into_make_service_with_connect_info::<SocketAddr>()`:
    ///
    /// ```
    /// # use gavel_tower::OriginGateLayer;
    /// # use std::net::{IpAddr, SocketAddr};
    /// # #[derive(Clone)] struct ConnectInfo<T>(T); // stands for axum::extract::ConnectInfo
    /// # fn gate(layer: OriginGateLayer) -> OriginGateLayer {
    /// layer.peer_addr(|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()))
    /// # }
    /// ```
    ///
    /// A request whose peer cannot be found is decided as if from `0.0.0.0`, which no list of
    /// trusted proxies should contain: its forwarding headers are ignored.
    pub fn peer_addr<F>(mut self, peer: F) -> Self
    where
        F: Fn(&http::Extensions) -> Option<IpAddr> + Send + Sync + 'static,
    {
        self.peer = Arc::new(peer);
        self
    }

    /// Called with every decision that denies (enforced or, in `report-only` mode, only
    /// reported), e.g. to log it with the decision's hints; the client never sees those.
    pub fn on_denial<F>(mut self, on_denial: F) -> Self
    where
        F: Fn(&Decision) + Send + Sync + 'static,
    {
        self.on_denial = Some(Arc::new(on_denial));
        self
    }

    /// The policy store: [`PolicyStore::reload`] re-reads the file (e.g. on `SIGHUP`) and
    /// keeps the last good policy when the file is invalid; [`PolicyStore::status`] says what
    /// is active and what the last refusal was.
    pub fn store(&self) -> &Arc<PolicyStore> {
        &self.store
    }

    /// Reloads the policy whenever its file changes, for as long as the returned watcher
    /// lives; see [`PolicyWatcher`](crate::PolicyWatcher).
    #[cfg(feature = "watch")]
    pub fn watch(&self) -> Result<crate::PolicyWatcher, crate::WatchError> {
        crate::PolicyWatcher::start(self.store.clone(), |_| {})
    }

    /// Like [`OriginGateLayer::watch`], calling `on_reload` with the outcome of every reload
    /// it triggers.
    #[cfg(feature = "watch")]
    pub fn watch_with<F>(&self, on_reload: F) -> Result<crate::PolicyWatcher, crate::WatchError>
    where
        F: Fn(&crate::ReloadResult) + Send + 'static,
    {
        crate::PolicyWatcher::start(self.store.clone(), on_reload)
    }
}

impl<S> Layer<S> for OriginGateLayer {
    type Service = OriginGate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OriginGate {
            inner,
            gate: self.clone(),
        }
    }
}

impl fmt::Debug for OriginGateLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OriginGateLayer")
            .field("policy", &self.store.status().version)
            .field("socket_io", &self.socket_io)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}
