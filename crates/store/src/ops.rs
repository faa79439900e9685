//! The store as an operator sees it: which database, whether it answers, how it makes commits
//! durable, its pool, and the sealed values key rotation works through (across organisations).
use crate::error::Result;
use crate::OrgId;
use crate::PoolStats;
use async_trait::async_trait;

/// The database behind the store, for health checks, metrics and the start-up log.
#[async_trait]
pub trait OpsStore: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> Result<()>;
    /// How commits are made durable, as read from a pooled connection: for SQLite
    /// `synchronous=FULL (2), journal_mode=wal`, for PostgreSQL its `synchronous_commit` and
    /// `fsync`. For the start-up log line.
    async fn durability(&self) -> Result<String>;
    fn pool_stats(&self) -> PoolStats;
    async fn close(&self);
    /// A new feed of authentication changes (see [`crate::auth_changes`]).
    async fn watch_auth_changes(&self) -> Result<Box<dyn crate::AuthFeed>>;
}

/// Key rotation's view of sealed values, across organisations (not tenant data).
#[async_trait]
pub trait SealingStore: Send + Sync + 'static {
    /// Key rotation: up to `limit` credentials sealed by a key other than `active_key_id`, as
    /// (organisation, id, sealed data), across organisations.
    async fn credentials_to_reseal(
        &self,
        active_key_id: &str,
        limit: i64,
    ) -> Result<Vec<(OrgId, String, String)>>;
    /// Replaces a credential's sealed data if it is still `old_sealed` (a concurrent write wins,
    /// and is sealed by the active key anyway). True when replaced.
    async fn reseal_credential(
        &self,
        org: &OrgId,
        id: &str,
        old_sealed: &str,
        new_sealed: &str,
        key_id: &str,
    ) -> Result<bool>;
    /// Key rotation: up to `limit` remembered idempotent answers sealed by a key other than
    /// `active_key_id`, as (scope, key, sealed body).
    async fn idempotency_to_reseal(
        &self,
        active_key_id: &str,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>>;
    /// Replaces a remembered answer's sealed body if it is still `old_sealed`. True when replaced.
    async fn reseal_idempotency(
        &self,
        scope: &str,
        key: &str,
        old_sealed: &str,
        new_sealed: &str,
        key_id: &str,
    ) -> Result<bool>;
    /// For each vault key id, how many sealed values it seals (all organisations: an operator's
    /// view): credentials, remembered idempotent answers and event endpoint secrets.
    async fn sealed_counts_by_key(&self) -> Result<Vec<(String, i64)>>;
}
