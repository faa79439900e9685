//! What every handler can reach: the store, the vault, the egress client, limits and locks.
use crate::auth::cache::AuthCache;
use crate::auth::key_uses::KeyUses;
use crate::egress::Egress;
use crate::rate_limit::RateLimits;
use crate::refresh_locks::RefreshLocks;
use std::sync::Arc;
use switchyard_store::DynStore;
use switchyard_vault::KeyRing;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub vault: Arc<KeyRing>,
    /// Where Switchyard is reached from outside, for URLs it hands out.
    pub public_url: String,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Every outbound request (OAuth2 and OAuth 1.0a providers) goes through it.
    pub egress: Egress,
    /// Failed authentications per client, provider calls per organisation and client.
    pub rate_limits: Arc<RateLimits>,
    /// How long an OAuth2 `state` stays usable.
    pub oauth_state_ttl: std::time::Duration,
    /// One token refresh per credential at a time in this process.
    pub refresh_locks: Arc<RefreshLocks>,
    /// The longest lifetime an end-user JWT may have (`exp - iat`, and `exp - now`).
    pub end_user_jwt_max_lifetime: std::time::Duration,
    /// API keys, hub sessions and signing keys this node has checked (see [`AuthCache`]).
    pub auth_cache: Arc<AuthCache>,
    /// API key uses, written in the background.
    pub key_uses: Arc<KeyUses>,
}

impl AppState {
    /// Starts what keeps this state's caches true: the authentication cache's change feed and
    /// the writer of API key uses. Call once, inside the runtime, for the state a server serves.
    pub fn start_background(&self) {
        tokio::spawn(crate::auth::cache::watch(
            self.auth_cache.clone(),
            self.store.clone(),
        ));
        let uses = self.key_uses.clone();
        let store = self.store.clone();
        tokio::spawn(async move { uses.write_forever(store).await });
    }
}
