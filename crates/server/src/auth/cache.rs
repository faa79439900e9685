//! Each node's memory of the credentials it has checked (API keys, hub sessions, signing keys
//! with their parsed public keys), so that a request presenting a known credential makes no
//! database round trip to authenticate it.
//!
//! Revocation must still reach every node at once. The store's feed of authentication changes
//! ([`switchyard_store::auth_changes`]) drives two things here:
//! - a **generation**: every entry is stamped with the generation current *before* its database
//!   read, and is used only while the generation is unchanged. A change bumps it, so an entry read
//!   before (or during) a revocation is never used after it.
//! - **trust**: the cache is used only while the feed has spoken within [`TRUST_WINDOW`]. A feed
//!   that errs (PostgreSQL's listening connection cut) or falls silent (a connection that died
//!   without a word) stops all use of the cache: every request reads the database, and nothing is
//!   cached, until a new feed is up; regaining trust bumps the generation first, since changes
//!   announced meanwhile were lost.
//!
//! Nothing that fails authentication is cached (unknown keys cannot fill it), a hub session's
//! expiry is checked on every use, and each map is bounded.
use crate::error::ApiResult;
use quick_cache::sync::Cache;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_domain::model::{ApiKey, HubSession};
use switchyard_domain::signing_key::SigningKey;
use switchyard_store::{AuthSignal, DynStore, OrgId};

/// How long the cache is trusted after its feed last spoke.
pub const TRUST_WINDOW: Duration = Duration::from_secs(1);
/// Entries per kind.
const CAPACITY: usize = 50_000;

/// A signing key as verification needs it: the organisation, the key, its parsed public key.
pub struct VerifyingKey {
    pub org: OrgId,
    pub key: SigningKey,
    pub decoding: jsonwebtoken::DecodingKey,
}

#[derive(Clone)]
struct Stamped<V> {
    generation: u64,
    value: V,
}

pub struct AuthCache {
    generation: AtomicU64,
    /// Milliseconds since `epoch` until which the cache may be used (0: not trusted).
    trusted_until: AtomicU64,
    epoch: Instant,
    api_keys: Cache<String, Stamped<Arc<(OrgId, ApiKey)>>>,
    sessions: Cache<String, Stamped<Arc<(OrgId, HubSession)>>>,
    signing_keys: Cache<String, Stamped<Arc<VerifyingKey>>>,
}

impl Default for AuthCache {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthCache {
    /// An untrusted cache: nothing is used or kept until [`watch`] has a feed up.
    pub fn new() -> Self {
        AuthCache {
            generation: AtomicU64::new(0),
            trusted_until: AtomicU64::new(0),
            epoch: Instant::now(),
            api_keys: Cache::new(CAPACITY),
            sessions: Cache::new(CAPACITY),
            signing_keys: Cache::new(CAPACITY),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// The generation to stamp a read with, if the cache may be used now.
    fn current(&self) -> Option<u64> {
        let generation = self.generation.load(Ordering::Acquire);
        (self.now_ms() < self.trusted_until.load(Ordering::Acquire)).then_some(generation)
    }

    /// Forgets everything: what was read before now is never used again.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.api_keys.clear();
        self.sessions.clear();
        self.signing_keys.clear();
    }

    /// The feed spoke: trust the cache for [`TRUST_WINDOW`]. After a lapse, forget first.
    fn trust(&self) {
        let now = self.now_ms();
        if now >= self.trusted_until.load(Ordering::Acquire) {
            self.invalidate();
        }
        self.trusted_until
            .store(now + TRUST_WINDOW.as_millis() as u64, Ordering::Release);
    }

    fn distrust(&self) {
        self.trusted_until.store(0, Ordering::Release);
    }

    /// Whether the cache is in use (for tests and metrics).
    pub fn trusted(&self) -> bool {
        self.current().is_some()
    }

    /// The value cached under `key` if it is still good, or else what `load` reads (kept when the
    /// cache is trusted and the read found something).
    async fn through<V: Clone>(
        &self,
        map: &Cache<String, Stamped<V>>,
        key: &str,
        load: impl Future<Output = ApiResult<Option<V>>>,
    ) -> ApiResult<Option<V>> {
        let generation = self.current();
        if let Some(generation) = generation {
            if let Some(hit) = map.get(key).filter(|s| s.generation == generation) {
                metrics::counter!("switchyard_auth_cache_total", "outcome" => "hit").increment(1);
                return Ok(Some(hit.value));
            }
        }
        metrics::counter!("switchyard_auth_cache_total", "outcome" => "miss").increment(1);
        let value = load.await?;
        if let (Some(generation), Some(value)) = (generation, &value) {
            map.insert(
                key.to_owned(),
                Stamped {
                    generation,
                    value: value.clone(),
                },
            );
        }
        Ok(value)
    }

    /// The API key with this hash (revoked ones included: the caller refuses them).
    pub async fn api_key(
        &self,
        store: &DynStore,
        key_hash: &str,
    ) -> ApiResult<Option<Arc<(OrgId, ApiKey)>>> {
        self.through(&self.api_keys, key_hash, async {
            Ok(store.find_api_key_by_hash(key_hash).await?.map(Arc::new))
        })
        .await
    }

    /// The hub session with this token hash, if it has not expired at `now`.
    pub async fn hub_session(
        &self,
        store: &DynStore,
        token_hash: &str,
        now: switchyard_domain::time::Timestamp,
    ) -> ApiResult<Option<Arc<(OrgId, HubSession)>>> {
        let found = self
            .through(&self.sessions, token_hash, async {
                Ok(store.find_hub_session(token_hash, now).await?.map(Arc::new))
            })
            .await?;
        Ok(found.filter(|s| s.1.expires_at > now))
    }

    /// A signing key by id, with its parsed public key.
    pub async fn signing_key(
        &self,
        store: &DynStore,
        id: &str,
    ) -> ApiResult<Option<Arc<VerifyingKey>>> {
        self.through(&self.signing_keys, id, async {
            let Some((org, key)) = store.get_signing_key(id).await? else {
                return Ok(None);
            };
            let decoding = jsonwebtoken::DecodingKey::from_rsa_pem(key.public_key_pem.as_bytes())
                .map_err(|_| {
                crate::error::ApiError::internal("a stored signing key is unreadable")
            })?;
            Ok(Some(Arc::new(VerifyingKey { org, key, decoding })))
        })
        .await
    }
}

/// Keeps `cache` in step with the store's feed of authentication changes, for as long as the
/// process runs: a new feed after any failure (half a second apart), trust while it speaks.
pub async fn watch(cache: Arc<AuthCache>, store: DynStore) {
    loop {
        match store.watch_auth_changes().await {
            Ok(mut feed) => {
                // Whatever was announced before this feed was listening is lost: start afresh.
                cache.invalidate();
                loop {
                    match tokio::time::timeout(TRUST_WINDOW, feed.next()).await {
                        Ok(Ok(AuthSignal::Alive)) => cache.trust(),
                        Ok(Ok(AuthSignal::Changed)) => {
                            cache.invalidate();
                            cache.trust();
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "the authentication cache's change feed failed; authenticating from the database until it is back");
                            break;
                        }
                        Err(_) => {
                            tracing::warn!("the authentication cache's change feed fell silent; authenticating from the database until it is back");
                            break;
                        }
                    }
                }
                cache.distrust();
            }
            Err(e) => {
                cache.distrust();
                tracing::warn!(error = %e, "cannot open the authentication change feed; retrying");
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
