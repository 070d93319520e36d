//! Rate limits on the routes anyone may call without an account: sign-up,
//! sign-in, text-message codes and password resets. Each client address
//! has its own budget, and all of them share one overall budget, so that
//! neither one address nor a crowd of them can spend the wallet's text
//! messages or its Argon2 time. Refusals are `429 rate_limited` with
//! `Retry-After`.
//!
//! Signed-in people's lookups (`GET /v1/bins/{first6}`, asked as a card
//! number is typed) have a budget of their own per person, in the same
//! limiter.
//!
//! The budgets are this node's, in memory: they guard this node's own
//! resources. The limits that protect a person (sign-in attempts per phone,
//! codes per phone) are counted in the database, across every node.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use tessera_core::error::{DomainError, ErrorCode};

use crate::http::error::ApiError;
use crate::state::AppState;

/// The routes that need no account (all of them POST), by path.
const PUBLIC_ROUTES: [&str; 5] = [
    "/v1/users",
    "/v1/sessions",
    "/v1/sms-codes",
    "/v1/password-resets",
    "/support/sign-in",
];

/// This node's budgets for the routes that need no account.
#[derive(Debug)]
pub struct PublicRateLimits {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    overall: DefaultDirectRateLimiter,
    clock: DefaultClock,
    trusted_proxies: Vec<IpNet>,
    /// Lookups a signed-in person may make, by user id.
    per_person: DefaultKeyedRateLimiter<String>,
}

impl PublicRateLimits {
    /// `per_address_per_minute` requests a minute from one address (all of
    /// them at once at most), `overall_per_second` a second from everyone.
    pub fn new(
        per_address_per_minute: NonZeroU32,
        overall_per_second: NonZeroU32,
        trusted_proxies: Vec<IpNet>,
    ) -> PublicRateLimits {
        let clock = DefaultClock::default();
        PublicRateLimits {
            per_address: RateLimiter::keyed(Quota::per_minute(per_address_per_minute)),
            overall: RateLimiter::direct(Quota::per_second(overall_per_second)),
            clock,
            trusted_proxies,
            per_person: RateLimiter::keyed(Quota::per_minute(per_address_per_minute)),
        }
    }

    /// The lookups one person may make a minute (all of them at once at
    /// most); the address's budget until this is set.
    #[must_use]
    pub fn with_person_budget(mut self, per_minute: NonZeroU32) -> PublicRateLimits {
        self.per_person = RateLimiter::keyed(Quota::per_minute(per_minute));
        self
    }

    /// Spends one lookup of `person`'s budget, or refuses it with
    /// `rate_limited` and the seconds to wait.
    pub fn check_person(&self, person: &str) -> Result<(), DomainError> {
        self.per_person
            .check_key(&person.to_owned())
            .map_err(|not_until| {
                DomainError::new(ErrorCode::RateLimited)
                    .with_retry_after(whole_seconds(not_until.wait_time_from(self.clock.now())))
            })
    }

    /// Spends one request of `address`'s budget and one of the overall
    /// one; the seconds to wait when either is spent.
    fn check(&self, address: IpAddr) -> Result<(), u64> {
        let refused = self
            .per_address
            .check_key(&address)
            .and_then(|()| self.overall.check());
        refused.map_err(|not_until| whole_seconds(not_until.wait_time_from(self.clock.now())))
    }

    /// Forgets addresses whose budget has filled up again, so that the map
    /// does not grow with every address ever seen.
    pub fn forget_idle(&self) {
        self.per_address.retain_recent();
        self.per_address.shrink_to_fit();
        self.per_person.retain_recent();
        self.per_person.shrink_to_fit();
    }

    /// The address a request comes from: the connection's peer, or, when
    /// that peer is a trusted proxy, the nearest address in
    /// `X-Forwarded-For` that is not one. Without trusted proxies the header
    /// is ignored: anyone can write it.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        // Each proxy appends the address it received from: read from the
        // right, past our own proxies, to the first one they did not add.
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            let Ok(address) = hop.parse::<IpAddr>() else {
                // A hop that is no address was not written by a proxy we
                // trust: stop at the last one known.
                break;
            };
            client = address;
            if !self.is_trusted(address) {
                break;
            }
        }
        client
    }

    fn is_trusted(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.trusted_proxies
            .iter()
            .any(|net| net.contains(&address))
    }
}

/// Whole seconds, rounded up: a client told 0 would come straight back.
fn whole_seconds(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Refuses a request to a route that needs no account once its address or
/// everyone has spent the budget.
pub async fn limit_public_routes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if request.method() == Method::POST && PUBLIC_ROUTES.contains(&request.uri().path()) {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        let limits = &state.public_rate_limits;
        let address = limits.client_address(peer.to_canonical(), request.headers());
        if let Err(wait) = limits.check(address) {
            return Err(DomainError::new(ErrorCode::RateLimited)
                .with_retry_after(wait)
                .into());
        }
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(trusted: &[&str]) -> PublicRateLimits {
        PublicRateLimits::new(
            NonZeroU32::new(2).unwrap(),
            NonZeroU32::new(1000).unwrap(),
            trusted.iter().map(|net| net.parse().unwrap()).collect(),
        )
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let untrusted = limits(&[]);
        let peer = ip("10.0.0.5");
        assert_eq!(
            untrusted.client_address(peer, &forwarded("203.0.113.9")),
            peer
        );
        let behind = limits(&["10.0.0.0/8"]);
        assert_eq!(
            behind.client_address(peer, &forwarded("203.0.113.9")),
            ip("203.0.113.9")
        );
        // A client's own forged entries sit left of what our proxies added.
        assert_eq!(
            behind.client_address(peer, &forwarded("1.2.3.4, 203.0.113.9, 10.0.0.7")),
            ip("203.0.113.9")
        );
        // Garbage stops the walk at the last address a proxy wrote.
        assert_eq!(
            behind.client_address(peer, &forwarded("203.0.113.9, not-an-address")),
            peer
        );
        assert_eq!(behind.client_address(peer, &HeaderMap::new()), peer);
    }

    #[test]
    fn an_address_spends_its_budget_and_hears_how_long_to_wait() {
        let limits = limits(&[]);
        let (one, two) = (ip("203.0.113.1"), ip("203.0.113.2"));
        assert_eq!(limits.check(one), Ok(()));
        assert_eq!(limits.check(one), Ok(()));
        let wait = limits.check(one).err();
        // Two a minute: the next one in about 30 seconds.
        assert!(
            wait.is_some_and(|secs| (1..=30).contains(&secs)),
            "{wait:?}"
        );
        assert_eq!(limits.check(two), Ok(()));
    }
}
