//! Who may ask for how many login links, shaped so that a stranger cannot lock someone else out.
//!
//! A limit per email alone (the old design) is shared by everyone who types that address: five
//! requests from anywhere locked its owner out. Here the short per-email limit is kept per
//! *(email, client network)*, so a stranger spends only their own allowance, and one daily
//! ceiling per email bounds how much mail all of them together can cause. Four GCRA limits,
//! checked in this order (a request refused by one does not count against the later ones, so
//! refused requests never eat into the victim's ceiling):
//!
//! | limit | key | burst | then one more every | per day (steady) |
//! |---|---|---|---|---|
//! | [`PER_CLIENT`] | client address | 30 | 20 s | 4,320 |
//! | [`PER_EMAIL_CLIENT`] | email + client network | 5 | 3 min | 480 |
//! | [`PER_EMAIL_CLIENT_DAILY`] | email + client network | 10 | 2 h 24 min | 10 |
//! | [`PER_EMAIL_DAILY`] | email | 200 | 7 min 12 s | 200 |
//!
//! A *client network* is the client's IPv4 address, or its IPv6 /64 (one host commonly holds
//! a whole /64, so counting its addresses one by one would hand a single attacker billions of
//! allowances). The client address is what the trusted-proxy computation reports.
//!
//! The bound, for any number of strangers. In any window of `W`, the owner of an email
//! receives at most `200 + W / 7.2 min` links (at most 400 in 24 hours, 200 a day in the long
//! run); from one client network at most `min(5 + W / 3 min, 10 + W / 2.4 h)` (5 at once, 20 in
//! 24 hours). Locking the owner out means emptying the daily ceiling: at once that takes 40
//! client networks (5 each), within a quarter of an hour 20 (10 each), and keeping it empty
//! takes 20 networks spending their whole allowance every day. Short of that, the owner asking
//! from a network of their own gets a link (within that network's limits).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::limits::{Limit, Limiter, SharedStore};

/// Link requests per client address (any emails), as before.
pub const PER_CLIENT: Limit = Limit {
    burst: 30,
    every: Duration::from_secs(20),
};
/// Link requests for one email from one client network, in the short run: a user who asks
/// again because the mail is slow.
pub const PER_EMAIL_CLIENT: Limit = Limit {
    burst: 5,
    every: Duration::from_secs(180),
};
/// Link requests for one email from one client network, per day: what one network can make
/// an email's owner receive.
pub const PER_EMAIL_CLIENT_DAILY: Limit = Limit {
    burst: 10,
    every: Duration::from_secs(24 * 3600 / 10),
};
/// Link requests for one email from everywhere, per day: what everyone together can make its
/// owner receive.
pub const PER_EMAIL_DAILY: Limit = Limit {
    burst: 200,
    every: Duration::from_secs(24 * 3600 / 200),
};

/// The four limits, each in this process or in Redis.
pub struct LinkLimits {
    per_client: Limiter,
    per_email_client: Limiter,
    per_email_client_daily: Limiter,
    per_email_daily: Limiter,
}

impl LinkLimits {
    /// `shared`: the Redis store when several processes serve logins.
    pub fn new(shared: Option<SharedStore>) -> Self {
        let limiter = |name, limit| match &shared {
            Some(store) => Limiter::shared(name, limit, store.clone()),
            None => Limiter::local(name, limit),
        };
        Self {
            per_client: limiter("client", PER_CLIENT),
            per_email_client: limiter("email-client", PER_EMAIL_CLIENT),
            per_email_client_daily: limiter("email-client-day", PER_EMAIL_CLIENT_DAILY),
            per_email_daily: limiter("email-day", PER_EMAIL_DAILY),
        }
    }

    /// Counts one request for `email` from `client`: `Err((limit, wait))` names the first limit
    /// it is over and how long until it would pass.
    pub async fn check(&self, email: &str, client: &str) -> Result<(), (&'static str, Duration)> {
        let pair = format!("{email}\n{}", network(client));
        for (name, limiter, key) in [
            ("per client", &self.per_client, client),
            (
                "per email and client",
                &self.per_email_client,
                pair.as_str(),
            ),
            (
                "per email and client, daily",
                &self.per_email_client_daily,
                pair.as_str(),
            ),
            ("per email, daily", &self.per_email_daily, email),
        ] {
            limiter.check(key).await.map_err(|wait| (name, wait))?;
        }
        Ok(())
    }
}

/// The client's network as a limit key: an IPv4 address as it is, an IPv6 address as its /64
/// (an IPv4-mapped one as the IPv4 address); anything else a proxy reported (`unknown`, an
/// obfuscated identifier) as written.
pub fn network(client: &str) -> String {
    let ip = client
        .parse::<IpAddr>()
        .ok()
        .or_else(|| client.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            client
                .strip_prefix('[')
                .and_then(|c| c.strip_suffix(']'))
                .and_then(|c| c.parse().ok())
        });
    match ip.map(crate::connections::budget::network_of) {
        Some(IpAddr::V6(prefix)) => format!("{prefix}/64"),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        None => client.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_group_ipv6_by_64_and_keep_ipv4_whole() {
        assert_eq!(network("198.51.100.7"), "198.51.100.7");
        assert_eq!(network("198.51.100.7:4711"), "198.51.100.7");
        assert_eq!(network("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(network("[2001:db8:1:2:bbbb::9]"), "2001:db8:1:2::/64");
        assert_eq!(network("[2001:db8:1:3::9]:443"), "2001:db8:1:3::/64");
        assert_eq!(network("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(network("unknown"), "unknown");
    }

    #[tokio::test]
    async fn strangers_spend_their_own_allowance_not_the_owners() {
        let limits = LinkLimits::new(None);
        let victim = "victim@example.com";
        for i in 0..5 {
            assert!(limits.check(victim, "203.0.113.9").await.is_ok(), "{i}");
        }
        let (limit, wait) = limits.check(victim, "203.0.113.9").await.unwrap_err();
        assert_eq!(limit, "per email and client");
        assert!(wait <= PER_EMAIL_CLIENT.every, "{wait:?}");
        // Another address of the same /64 is the same network; another /64 is not.
        assert!(limits.check(victim, "2001:db8::1").await.is_ok());
        for _ in 0..4 {
            limits.check(victim, "2001:db8::2").await.unwrap();
        }
        assert!(limits.check(victim, "2001:db8::3").await.is_err());
        assert!(limits.check(victim, "2001:db8:0:1::1").await.is_ok());
        assert!(
            limits.check(victim, "198.51.100.1").await.is_ok(),
            "the owner"
        );
    }

    #[tokio::test]
    async fn the_daily_ceiling_takes_forty_networks_at_once() {
        let limits = LinkLimits::new(None);
        let victim = "victim@example.com";
        for n in 0..40 {
            let client = format!("198.51.100.{n}");
            for _ in 0..PER_EMAIL_CLIENT.burst {
                limits.check(victim, &client).await.unwrap();
            }
        }
        // 200 links in all: the ceiling is empty, for a network never seen before too.
        let (limit, wait) = limits.check(victim, "192.0.2.1").await.unwrap_err();
        assert_eq!(limit, "per email, daily");
        assert!(wait <= PER_EMAIL_DAILY.every, "{wait:?}");
        // Other emails are not affected.
        assert!(limits.check("owner@example.com", "192.0.2.1").await.is_ok());
    }
}
