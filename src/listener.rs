//! The TCP acceptor: poem's, with `TCP_NODELAY` on every connection. Socket.IO writes many
//! small frames (a broadcast is often two: the event and `team:updated`); with Nagle's algorithm
//! the second waits for the peer's delayed ACK, about 40 ms on Linux.

use std::io::Result;
use std::net::SocketAddr;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::net::{TcpListener, TcpStream};

pub struct NoDelayAcceptor {
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl NoDelayAcceptor {
    pub async fn bind(addr: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            local_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Acceptor for NoDelayAcceptor {
    type Io = TcpStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        vec![LocalAddr(self.local_addr.into())]
    }

    async fn accept(&mut self) -> Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, peer) = self.listener.accept().await?;
        io.set_nodelay(true)?;
        Ok((
            io,
            LocalAddr(self.local_addr.into()),
            RemoteAddr(peer.into()),
            Scheme::HTTP,
        ))
    }
}
