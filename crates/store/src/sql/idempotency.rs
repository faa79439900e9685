//! [`crate::IdempotencyStore`]: idempotency keys and the answers they remember.
use super::query::get;
use super::Backend;
use crate::error::{db_err, Result};
use crate::{IdempotencyBegin, IdempotencyStore};
use async_trait::async_trait;
use switchyard_domain::time::Timestamp;

#[async_trait]
impl IdempotencyStore for Backend {
    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<IdempotencyBegin> {
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(now - chrono::Duration::hours(24))
            .execute(self.writes())
            .await
            .map_err(db_err)?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) DO NOTHING",
        )
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 1 {
            return Ok(IdempotencyBegin::Started);
        }
        let Some(row) = sqlx::query("SELECT * FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?
        else {
            // Forgotten between the two statements: claim it again.
            return Box::pin(self.idempotency_begin(scope, key, fingerprint, now)).await;
        };
        let theirs: String = get(&row, "fingerprint")?;
        if theirs != fingerprint {
            return Ok(IdempotencyBegin::Mismatch);
        }
        let status: Option<i64> = get(&row, "status")?;
        match status {
            Some(status) => Ok(IdempotencyBegin::Replay {
                status: status as u16,
                sealed_body: get::<Option<String>>(&row, "sealed_body")?.unwrap_or_default(),
            }),
            None => {
                let created: Timestamp = get(&row, "created_at")?;
                if now - created > chrono::Duration::minutes(5) {
                    let taken = sqlx::query(
                        "UPDATE idempotency_keys SET created_at = $3 WHERE scope = $1 AND key = $2 \
                         AND status IS NULL AND created_at = $4",
                    )
                    .bind(scope)
                    .bind(key)
                    .bind(now)
                    .bind(created)
                    .execute(self.writes())
                    .await
                    .map_err(db_err)?;
                    if taken.rows_affected() == 1 {
                        return Ok(IdempotencyBegin::Started);
                    }
                }
                Ok(IdempotencyBegin::InProgress)
            }
        }
    }

    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        sealed_body: &str,
        key_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $3, sealed_body = $4, key_id = $5 \
             WHERE scope = $1 AND key = $2",
        )
        .bind(scope)
        .bind(key)
        .bind(i64::from(status))
        .bind(sealed_body)
        .bind(key_id)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .execute(self.writes())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
