//! Remembered answers of requests made with an `Idempotency-Key` (not tenant data: a scope
//! identifies the caller).
use crate::error::Result;
use async_trait::async_trait;
use switchyard_domain::time::Timestamp;

/// What a request carrying an `Idempotency-Key` is to do.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyBegin {
    /// First time: run it, then [`IdempotencyStore::idempotency_finish`] (or abandon it).
    Started,
    /// Done before: answer with this status and body (as
    /// [`IdempotencyStore::idempotency_finish`] stored it: sealed by the vault).
    Replay { status: u16, sealed_body: String },
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Idempotency keys: claims and the answers they remember.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `(scope, key)` for a request with `fingerprint`, or says what became of it. Claims
    /// older than a day are forgotten; a claim left running for five minutes (a crash) is taken over.
    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<IdempotencyBegin>;
    /// Remembers the answer: its status (plain) and its body, sealed by the vault key `key_id`.
    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        sealed_body: &str,
        key_id: &str,
    ) -> Result<()>;
    /// Forgets a claim whose request failed in a way worth retrying (a 5xx).
    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<()>;
}
