//! [`crate::OpsStore`] and [`crate::SealingStore`]: the pool, and sealed values across
//! organisations.
use super::query::get;
use super::Backend;
use crate::error::{db_err, Result};
use crate::OrgId;
use crate::{OpsStore, PoolStats, SealingStore};
use async_trait::async_trait;

#[async_trait]
impl OpsStore for Backend {
    fn backend(&self) -> &'static str {
        Self::BACKEND
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(self.reads())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn durability(&self) -> Result<String> {
        self.read_durability().await
    }

    fn pool_stats(&self) -> PoolStats {
        let mut stats = PoolStats {
            size: 0,
            idle: 0,
            max: 0,
        };
        for pool in self.pools() {
            stats.size += pool.size();
            stats.idle += pool.num_idle() as u32;
            stats.max += pool.options().get_max_connections();
        }
        stats
    }

    async fn watch_auth_changes(&self) -> Result<Box<dyn crate::AuthFeed>> {
        self.auth_feed().await
    }

    async fn close(&self) {
        for pool in self.pools() {
            pool.close().await;
        }
    }
}

#[async_trait]
impl SealingStore for Backend {
    async fn credentials_to_reseal(
        &self,
        active_key_id: &str,
        limit: i64,
    ) -> Result<Vec<(OrgId, String, String)>> {
        let rows = sqlx::query(
            "SELECT organisation_id, id, sealed_data FROM credentials WHERE key_id <> $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(active_key_id)
        .bind(limit)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    OrgId::new(get::<String>(r, "organisation_id")?),
                    get(r, "id")?,
                    get(r, "sealed_data")?,
                ))
            })
            .collect()
    }

    async fn reseal_credential(
        &self,
        org: &OrgId,
        id: &str,
        old_sealed: &str,
        new_sealed: &str,
        key_id: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE credentials SET sealed_data = $4, key_id = $5 WHERE organisation_id = $1 \
             AND id = $2 AND sealed_data = $3",
        )
        .bind(org)
        .bind(id)
        .bind(old_sealed)
        .bind(new_sealed)
        .bind(key_id)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn idempotency_to_reseal(
        &self,
        active_key_id: &str,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT scope, key, sealed_body FROM idempotency_keys WHERE key_id IS NOT NULL \
             AND key_id <> $1 ORDER BY scope, key LIMIT $2",
        )
        .bind(active_key_id)
        .bind(limit)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((get(r, "scope")?, get(r, "key")?, get(r, "sealed_body")?)))
            .collect()
    }

    async fn reseal_idempotency(
        &self,
        scope: &str,
        key: &str,
        old_sealed: &str,
        new_sealed: &str,
        key_id: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE idempotency_keys SET sealed_body = $4, key_id = $5 WHERE scope = $1 \
             AND key = $2 AND sealed_body = $3",
        )
        .bind(scope)
        .bind(key)
        .bind(old_sealed)
        .bind(new_sealed)
        .bind(key_id)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn sealed_counts_by_key(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT key_id, CAST(SUM(n) AS BIGINT) AS n FROM ( SELECT key_id, COUNT(*) AS n \
             FROM credentials GROUP BY key_id UNION ALL SELECT key_id, COUNT(*) AS n \
             FROM idempotency_keys WHERE key_id IS NOT NULL GROUP BY key_id UNION ALL \
             SELECT key_id, COUNT(*) AS n FROM event_endpoints GROUP BY key_id UNION ALL \
             SELECT previous_key_id AS key_id, COUNT(*) AS n FROM event_endpoints \
             WHERE previous_key_id IS NOT NULL GROUP BY previous_key_id ) counts \
             GROUP BY key_id ORDER BY key_id",
        )
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((get(r, "key_id")?, get(r, "n")?)))
            .collect()
    }
}
