//! [`crate::JobStore`]: the durable job queue.
use super::query::{get, DbRow};
use super::{Backend, Db};
use crate::error::{db_err, Result};
use crate::jobs::{FailedJob, Job, JobStore, Millis, NewJob, QueueStats};
use crate::sql_text::placeholders;
use async_trait::async_trait;

const INSERT_JOB: &str = "INSERT INTO jobs (id, kind, dedup_key, payload, state, attempts, \
    max_attempts, run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, 'ready', 0, $5, $6, $7, $7) \
    ON CONFLICT DO NOTHING";

/// Enqueues `job` in the caller's transaction (the outbox): it exists exactly when the write that
/// caused it commits. False when a job of its kind with its deduplication key exists.
pub(super) async fn enqueue_tx(tx: &mut sqlx::Transaction<'_, Db>, job: &NewJob) -> Result<bool> {
    let r = bind_job(sqlx::query(INSERT_JOB), job)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(r.rows_affected() == 1)
}

fn bind_job<'q>(
    q: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>,
    job: &'q NewJob,
) -> sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>> {
    q.bind(&job.id)
        .bind(&job.kind)
        .bind(&job.dedup_key)
        .bind(&job.payload)
        .bind(job.max_attempts)
        .bind(job.run_at)
        .bind(crate::jobs::now_millis())
}

fn job(row: &DbRow) -> Result<Job> {
    Ok(Job {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        dedup_key: get(row, "dedup_key")?,
        payload: get(row, "payload")?,
        attempts: get(row, "attempts")?,
        max_attempts: get(row, "max_attempts")?,
        lease_token: get(row, "lease_token")?,
        created_at: get(row, "created_at")?,
    })
}

#[async_trait]
impl JobStore for Backend {
    async fn enqueue_job(&self, job: &NewJob) -> Result<bool> {
        let r = bind_job(sqlx::query(INSERT_JOB), job)
            .execute(self.writes())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn claim_jobs(
        &self,
        kinds: &[&str],
        limit: i64,
        now: Millis,
        lease_until: Millis,
    ) -> Result<Vec<Job>> {
        if kinds.is_empty() || limit <= 0 {
            return Ok(Vec::new());
        }
        // A read first: an idle queue costs no write transaction (on SQLite, no turn at the one
        // write lock the API's writes wait for).
        let probe = format!(
            "SELECT id FROM jobs WHERE kind IN ({}) AND ((state = 'ready' AND run_at <= $1) \
             OR (state = 'running' AND lease_until < $1)) LIMIT 1",
            placeholders(2, kinds.len())
        );
        let mut q = sqlx::query(&probe).bind(now);
        for k in kinds {
            q = q.bind(*k);
        }
        if q.fetch_optional(self.reads())
            .await
            .map_err(db_err)?
            .is_none()
        {
            return Ok(Vec::new());
        }
        // One statement: the due jobs are chosen and leased at once. PostgreSQL skips the rows
        // another node is claiming (SKIP LOCKED); SQLite has one writer at a time.
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = $1, \
             lease_until = $2, updated_at = $3 WHERE id IN (SELECT id FROM jobs WHERE kind IN ({}) \
             AND ((state = 'ready' AND run_at <= $3) OR (state = 'running' AND lease_until < $3)) \
             ORDER BY run_at LIMIT $4{}) \
             RETURNING id, kind, dedup_key, payload, attempts, max_attempts, lease_token, created_at",
            placeholders(5, kinds.len()),
            Self::SKIP_LOCKED,
        );
        let token = switchyard_domain::new_id();
        let mut q = sqlx::query(&sql)
            .bind(&token)
            .bind(lease_until)
            .bind(now)
            .bind(limit);
        for k in kinds {
            q = q.bind(*k);
        }
        let mut conn = self.begin_write().await.map_err(db_err)?;
        let rows = q.fetch_all(&mut *conn).await.map_err(db_err)?;
        conn.commit().await.map_err(db_err)?;
        rows.iter().map(job).collect()
    }

    async fn renew_job(&self, id: &str, lease_token: &str, lease_until: Millis) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND lease_token = $2 \
             AND state = 'running'",
        )
        .bind(id)
        .bind(lease_token)
        .bind(lease_until)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn complete_job(&self, id: &str, lease_token: &str) -> Result<bool> {
        let r = sqlx::query(
            "DELETE FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(lease_token)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn retry_job(
        &self,
        id: &str,
        lease_token: &str,
        run_at: Millis,
        error: &str,
        now: Millis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'failed' \
             ELSE 'ready' END, run_at = $3, last_error = $4, lease_token = NULL, \
             lease_until = NULL, updated_at = $5 \
             WHERE id = $1 AND lease_token = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(lease_token)
        .bind(run_at)
        .bind(error)
        .bind(now)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn fail_job(
        &self,
        id: &str,
        lease_token: &str,
        error: &str,
        now: Millis,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE jobs SET state = 'failed', last_error = $3, lease_token = NULL, \
             lease_until = NULL, updated_at = $4 \
             WHERE id = $1 AND lease_token = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(lease_token)
        .bind(error)
        .bind(now)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn failed_jobs(&self, limit: i64) -> Result<Vec<FailedJob>> {
        let rows = sqlx::query(
            "SELECT id, kind, attempts, last_error, created_at, updated_at FROM jobs \
             WHERE state = 'failed' ORDER BY updated_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(FailedJob {
                    id: get(r, "id")?,
                    kind: get(r, "kind")?,
                    attempts: get(r, "attempts")?,
                    last_error: get(r, "last_error")?,
                    created_at: get(r, "created_at")?,
                    updated_at: get(r, "updated_at")?,
                })
            })
            .collect()
    }

    async fn queue_stats(&self, now: Millis) -> Result<Vec<QueueStats>> {
        let rows = sqlx::query(
            "SELECT kind, \
             CAST(SUM(CASE WHEN state = 'ready' THEN 1 ELSE 0 END) AS BIGINT) AS ready, \
             CAST(SUM(CASE WHEN state = 'ready' AND run_at <= $1 THEN 1 ELSE 0 END) AS BIGINT) AS due, \
             CAST(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END) AS BIGINT) AS running, \
             CAST(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
             MIN(CASE WHEN state <> 'failed' THEN created_at END) AS oldest \
             FROM jobs GROUP BY kind ORDER BY kind",
        )
        .bind(now)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(QueueStats {
                    kind: get(r, "kind")?,
                    ready: get(r, "ready")?,
                    due: get(r, "due")?,
                    running: get(r, "running")?,
                    failed: get(r, "failed")?,
                    oldest_created_at: get(r, "oldest")?,
                })
            })
            .collect()
    }
}
