//! Rate limits (GCRA, by `governor`), each answered with a 429 in the error shape and a
//! `Retry-After`:
//!
//! - **Failed authentication, per client address**: every 401 spends one cell of the address's
//!   quota; once it is spent, the address gets 429s for everything until the quota has a cell
//!   again (guessing keys, tokens or sessions is throttled, and costs no database read).
//! - **Calls to providers, per organisation and per client address**: every request Switchyard is
//!   about to make to an OAuth provider on a request's behalf (code exchange, token and refresh,
//!   OAuth 1.0a) spends a cell of the organisation's quota and of the calling address's, so one
//!   tenant or one client cannot turn the server into a flood of outbound calls.
//!
//! The client address is the connection's peer (put beside the request by [`layer`]); behind a
//! reverse proxy that is the proxy's address.
use crate::error::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_domain::Error;

/// Requests per minute; 0 turns a limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSettings {
    /// Failed authentications (401s) per client address.
    pub failed_auth_per_minute: u32,
    /// Provider calls per organisation.
    pub provider_calls_per_org_per_minute: u32,
    /// Provider calls per client address.
    pub provider_calls_per_client_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            failed_auth_per_minute: 60,
            provider_calls_per_org_per_minute: 600,
            provider_calls_per_client_per_minute: 120,
        }
    }
}

/// The limiters of one process.
pub struct RateLimits {
    failed_auth: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Addresses whose failed-authentication quota is spent, and until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    provider_per_org: Option<DefaultKeyedRateLimiter<String>>,
    provider_per_client: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> Self {
        // The failure that spends the last cell blocks the address, so that the next request
        // (the one past the limit) is the first 429: a burst of one less than the limit.
        let failed_auth = NonZeroU32::new(settings.failed_auth_per_minute).map(|n| {
            let burst = NonZeroU32::new(n.get() - 1).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_minute(n).allow_burst(burst))
        });
        Self {
            failed_auth,
            blocked: Mutex::default(),
            provider_per_org: limiter(settings.provider_calls_per_org_per_minute),
            provider_per_client: limiter(settings.provider_calls_per_client_per_minute),
        }
    }

    /// No limits at all.
    pub fn none() -> Self {
        Self::new(RateLimitSettings {
            failed_auth_per_minute: 0,
            provider_calls_per_org_per_minute: 0,
            provider_calls_per_client_per_minute: 0,
        })
    }

    /// When `ip` may try again, if its failed-authentication quota is spent.
    fn blocked_for(&self, ip: IpAddr) -> Option<Duration> {
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let until = *blocked.get(&ip)?;
        let now = Instant::now();
        if until > now {
            Some(until - now)
        } else {
            blocked.remove(&ip);
            None
        }
    }

    /// Spends a cell of `ip`'s failed-authentication quota.
    fn failed(&self, ip: IpAddr) {
        let Some(limiter) = &self.failed_auth else {
            return;
        };
        if let Err(not_until) = limiter.check_key(&ip) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
            if blocked.len() > 100_000 {
                let now = Instant::now();
                blocked.retain(|_, until| *until > now);
            }
            blocked.insert(ip, Instant::now() + wait);
        }
    }

    /// Spends a cell of the organisation's provider-call quota and of the calling client's (when
    /// the call is made on a request's behalf); a 429 when either is spent.
    pub fn provider_call(&self, org: &str) -> Result<(), Error> {
        let now = DefaultClock::default().now();
        if let Some(limiter) = &self.provider_per_org {
            if let Err(not_until) = limiter.check_key(&org.to_owned()) {
                let wait = not_until.wait_time_from(now);
                metrics::counter!("switchyard_rate_limited_total", "limit" => "provider_calls_per_organisation").increment(1);
                return Err(Error::too_many(
                    "too many calls to providers for this organisation; try again later",
                    wait.as_secs() + 1,
                ));
            }
        }
        if let (Some(limiter), Some(ip)) = (&self.provider_per_client, client_ip()) {
            if let Err(not_until) = limiter.check_key(&ip) {
                let wait = not_until.wait_time_from(now);
                metrics::counter!("switchyard_rate_limited_total", "limit" => "provider_calls_per_client").increment(1);
                return Err(Error::too_many(
                    "too many calls to providers from this client; try again later",
                    wait.as_secs() + 1,
                ));
            }
        }
        Ok(())
    }

    /// Forgets keys whose quota is whole again (bounded memory under many addresses).
    pub fn tidy(&self) {
        for l in [&self.failed_auth, &self.provider_per_client]
            .into_iter()
            .flatten()
        {
            l.retain_recent();
        }
        if let Some(l) = &self.provider_per_org {
            l.retain_recent();
        }
        let now = Instant::now();
        self.blocked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, until| *until > now);
    }
}

tokio::task_local! {
    /// The address of the client whose request this task serves.
    static CLIENT: IpAddr;
}

/// The address of the client whose request is being served, if any.
fn client_ip() -> Option<IpAddr> {
    CLIENT.try_with(|ip| *ip).ok()
}

/// Refuses clients whose failed-authentication quota is spent, counts 401s against it, and makes
/// the client's address known to the provider-call limit.
pub async fn layer(State(limits): State<Arc<RateLimits>>, req: Request, next: Next) -> Response {
    let Some(ip) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return next.run(req).await;
    };
    if let Some(wait) = limits.blocked_for(ip) {
        metrics::counter!("switchyard_rate_limited_total", "limit" => "failed_authentication")
            .increment(1);
        let e = Error::too_many(
            "too many failed authentications from this address; try again later",
            wait.as_secs() + 1,
        );
        return ApiError(e).into_response();
    }
    let res = CLIENT.scope(ip, next.run(req)).await;
    if res.status() == StatusCode::UNAUTHORIZED {
        limits.failed(ip);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_authentications_block_an_address_once_its_quota_is_spent() {
        let limits = RateLimits::new(RateLimitSettings {
            failed_auth_per_minute: 3,
            ..RateLimitSettings::default()
        });
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        for _ in 0..3 {
            assert!(limits.blocked_for(ip).is_none());
            limits.failed(ip);
        }
        let wait = limits.blocked_for(ip).expect("blocked");
        assert!(wait <= Duration::from_secs(60));
        assert!(limits.blocked_for(other).is_none());
    }

    #[test]
    fn provider_calls_are_limited_per_organisation() {
        let limits = RateLimits::new(RateLimitSettings {
            provider_calls_per_org_per_minute: 2,
            ..RateLimitSettings::default()
        });
        assert!(limits.provider_call("a").is_ok());
        assert!(limits.provider_call("a").is_ok());
        let e = limits.provider_call("a").unwrap_err();
        assert_eq!(e.kind.status(), 429);
        assert!(e.retry_after.is_some_and(|s| (1..=61).contains(&s)));
        assert!(limits.provider_call("b").is_ok());
        assert!(RateLimits::none().provider_call("a").is_ok());
    }
}
