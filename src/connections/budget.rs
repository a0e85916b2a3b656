//! How many connections are open, in all and per peer address; a connection over either cap
//! is closed as soon as it is accepted, before it costs a task or a buffer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The caps of one listener.
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    pub total: usize,
    pub per_address: usize,
}

/// The open connections of one listener.
pub struct Budget {
    caps: Caps,
    open: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    /// Woken when the last connection closes (graceful shutdown waits for it).
    drained: Notify,
}

/// Why a connection was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Total,
    PerAddress,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Total => "total",
            Refusal::PerAddress => "per-address",
        }
    }
}

/// One admitted connection; dropping it (when the connection, or the websocket it was
/// upgraded to, is gone) gives its place back.
pub struct Admission {
    budget: Arc<Budget>,
    /// `None` for a peer exempt from the per-address cap.
    address: Option<IpAddr>,
}

impl Budget {
    pub fn new(caps: Caps) -> Arc<Self> {
        Arc::new(Self {
            caps,
            open: AtomicUsize::new(0),
            per_address: Mutex::new(HashMap::new()),
            drained: Notify::new(),
        })
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Takes a place for a connection from `address`; `exempt` peers (trusted proxies, which
    /// carry many clients) only count towards the total.
    pub fn admit(self: &Arc<Self>, address: IpAddr, exempt: bool) -> Result<Admission, Refusal> {
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.caps.total).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(Refusal::Total);
        }
        let mut admission = Admission {
            budget: self.clone(),
            address: None,
        };
        if !exempt {
            let address = network_of(address);
            let mut map = self.per_address.lock().expect("budget lock");
            let n = map.entry(address).or_insert(0);
            if *n >= self.caps.per_address {
                return Err(Refusal::PerAddress); // `admission` drops: the total is given back
            }
            *n += 1;
            admission.address = Some(address);
        }
        Ok(admission)
    }

    /// Resolves once no connection is open.
    pub async fn drained(&self) {
        loop {
            let notified = self.drained.notified();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// A client's network, for every per-client bound: an IPv4 address as it is, an IPv6 address
/// as its /64 (one host usually holds all of it), an IPv4-mapped one as the IPv4 address.
pub fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !((1u128 << 64) - 1),
            )),
        },
        v4 => v4,
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(address) = self.address {
            let mut map = self.budget.per_address.lock().expect("budget lock");
            if let Some(n) = map.get_mut(&address) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&address);
                }
            }
        }
        if self.budget.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.budget.drained.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_in_all_and_per_address_and_gives_places_back() {
        let budget = Budget::new(Caps {
            total: 3,
            per_address: 2,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = budget.admit(a, false).unwrap();
        let _second = budget.admit(a, false).unwrap();
        assert_eq!(budget.admit(a, false).err(), Some(Refusal::PerAddress));
        assert_eq!(budget.open(), 2, "a refusal gives its place back");
        let _third = budget.admit(b, false).unwrap();
        assert_eq!(budget.admit(b, true).err(), Some(Refusal::Total));
        drop(first);
        assert_eq!(budget.open(), 2);
        let _again = budget.admit(a, false).unwrap();
    }

    #[test]
    fn an_ipv6_peer_counts_by_its_64() {
        let budget = Budget::new(Caps {
            total: 10,
            per_address: 2,
        });
        let _a = budget
            .admit("2001:db8:1:2::1".parse().unwrap(), false)
            .unwrap();
        let _b = budget
            .admit("2001:db8:1:2::ffff".parse().unwrap(), false)
            .unwrap();
        assert_eq!(
            budget
                .admit("2001:db8:1:2:abcd::7".parse().unwrap(), false)
                .err(),
            Some(Refusal::PerAddress)
        );
        assert!(
            budget
                .admit("2001:db8:1:3::1".parse().unwrap(), false)
                .is_ok()
        );
    }

    #[test]
    fn exempt_peers_count_only_towards_the_total() {
        let budget = Budget::new(Caps {
            total: 10,
            per_address: 1,
        });
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..5).map(|_| budget.admit(proxy, true).unwrap()).collect();
        assert_eq!(budget.open(), 5);
        drop(held);
        assert_eq!(budget.open(), 0);
    }
}
