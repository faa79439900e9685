//! The durable job queue every `serve` process works from (not tenant data: a job's payload names
//! what it concerns).
//!
//! A job is enqueued in the transaction of the write that causes it (the aggregates' SQL calls
//! the queue's `enqueue_tx`), or on its own with [`JobStore::enqueue_job`]. A worker claims due
//! jobs with a lease ([`JobStore::claim_jobs`]: `FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's
//! single writer on SQLite), renews the lease while it works, and then completes the job (it is
//! deleted), retries it later, or fails it (kept, for inspection). A job whose lease ran out (its
//! node died) is claimed again by any node. Every call that ends a claim names the claim's
//! `lease_token`, so a node that lost its lease can no longer touch the job.
use crate::error::Result;
use async_trait::async_trait;

/// Milliseconds since the Unix epoch: the queue's clock.
pub type Millis = i64;

/// The queue's clock now.
pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub id: String,
    /// What the job is (`event.deliver`...): which worker runs it.
    pub kind: String,
    /// At most one job of a kind with this key exists (ready, running or failed): enqueueing
    /// another is a no-op.
    pub dedup_key: Option<String>,
    /// The job's input, JSON.
    pub payload: String,
    pub max_attempts: i32,
    /// Not before.
    pub run_at: Millis,
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub dedup_key: Option<String>,
    pub payload: String,
    /// Claims so far, this one included.
    pub attempts: i32,
    pub max_attempts: i32,
    /// The claim's token: every call that renews or ends the claim names it.
    pub lease_token: String,
    pub created_at: Millis,
}

/// A job in the terminal failed state.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedJob {
    pub id: String,
    pub kind: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// The queue at a glance, per kind: for `switchyard jobs status` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueStats {
    pub kind: String,
    /// Ready jobs (due or not).
    pub ready: i64,
    /// Ready jobs already due.
    pub due: i64,
    pub running: i64,
    pub failed: i64,
    /// The oldest ready or running job's creation time.
    pub oldest_created_at: Option<Millis>,
}

#[async_trait]
pub trait JobStore: Send + Sync + 'static {
    /// Enqueues a job on its own. False when a job of its kind with its deduplication key exists.
    async fn enqueue_job(&self, job: &NewJob) -> Result<bool>;
    /// Claims up to `limit` jobs of `kinds` that are due (ready and `run_at <= now`), or running
    /// with a lease that ran out before `now` (taken over), leasing them until `lease_until`.
    /// Each claim counts as an attempt.
    async fn claim_jobs(
        &self,
        kinds: &[&str],
        limit: i64,
        now: Millis,
        lease_until: Millis,
    ) -> Result<Vec<Job>>;
    /// Extends a claim's lease. False when the claim is no longer this one's (taken over).
    async fn renew_job(&self, id: &str, lease_token: &str, lease_until: Millis) -> Result<bool>;
    /// The job is done: it is deleted. False when the claim is no longer this one's.
    async fn complete_job(&self, id: &str, lease_token: &str) -> Result<bool>;
    /// The attempt failed: the job runs again at `run_at`, or, when it has used its attempts,
    /// fails for good. False when the claim is no longer this one's.
    async fn retry_job(
        &self,
        id: &str,
        lease_token: &str,
        run_at: Millis,
        error: &str,
        now: Millis,
    ) -> Result<bool>;
    /// The job fails for good, whatever its attempts (kept in the failed state).
    async fn fail_job(&self, id: &str, lease_token: &str, error: &str, now: Millis)
        -> Result<bool>;
    /// Jobs in the failed state, newest first.
    async fn failed_jobs(&self, limit: i64) -> Result<Vec<FailedJob>>;
    /// Counts per kind.
    async fn queue_stats(&self, now: Millis) -> Result<Vec<QueueStats>>;
}
