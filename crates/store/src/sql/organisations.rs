//! [`crate::OrganisationStore`]: organisations, API keys, organisation settings.
use super::query::{get, j, json, DbRow};
use super::{Backend, Db};
use crate::error::{db_err, Result};
use crate::OrgId;
use crate::OrganisationStore;
use async_trait::async_trait;
use switchyard_domain::model::{ApiKey, Organisation, OrganisationSettings};
use switchyard_domain::time::Timestamp;

fn organisation(row: &DbRow) -> Result<Organisation> {
    Ok(Organisation {
        id: get(row, "id")?,
        name: get(row, "name")?,
        created_at: get(row, "created_at")?,
    })
}

fn api_key(row: &DbRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        name: get(row, "name")?,
        prefix: get(row, "prefix")?,
        key_hash: get(row, "key_hash")?,
        created_at: get(row, "created_at")?,
        last_used_at: get(row, "last_used_at")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

async fn insert_api_key_exec<'e, E>(exec: E, org: &str, key: &ApiKey) -> Result<()>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    sqlx::query(
        "INSERT INTO api_keys (id, organisation_id, name, prefix, key_hash, created_at, \
         last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&key.id)
    .bind(org)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(&key.key_hash)
    .bind(key.created_at)
    .bind(key.last_used_at)
    .bind(key.revoked_at)
    .execute(exec)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl OrganisationStore for Backend {
    async fn create_organisation(&self, org: &Organisation, key: &ApiKey) -> Result<OrgId> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_api_key_exec(&mut *tx, &org.id, key).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(OrgId::new(&org.id))
    }

    async fn operator_organisation(&self, id: &str) -> Result<Option<OrgId>> {
        let row = sqlx::query("SELECT id FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.map(|r| get::<String>(&r, "id").map(OrgId::new))
            .transpose()
    }

    async fn get_organisation(&self, org: &OrgId) -> Result<Option<Organisation>> {
        let row = sqlx::query("SELECT id, name, created_at FROM organisations WHERE id = $1")
            .bind(org)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(organisation).transpose()
    }

    async fn get_organisation_settings(&self, org: &OrgId) -> Result<OrganisationSettings> {
        let row = sqlx::query(
            "SELECT oauth_redirect_urls, hub_frame_ancestors, updated_at \
             FROM organisation_settings WHERE organisation_id = $1",
        )
        .bind(org)
        .fetch_optional(self.reads())
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(OrganisationSettings::default());
        };
        Ok(OrganisationSettings {
            oauth_redirect_urls: json(&row, "oauth_redirect_urls")?,
            hub_frame_ancestors: json(&row, "hub_frame_ancestors")?,
            updated_at: get(&row, "updated_at")?,
        })
    }

    async fn public_hub_frame_ancestors(&self, organisation_id: &str) -> Result<Vec<String>> {
        let row = sqlx::query(
            "SELECT hub_frame_ancestors FROM organisation_settings WHERE organisation_id = $1",
        )
        .bind(organisation_id)
        .fetch_optional(self.reads())
        .await
        .map_err(db_err)?;
        match row {
            Some(row) => json(&row, "hub_frame_ancestors"),
            None => Ok(Vec::new()),
        }
    }

    async fn put_organisation_settings(
        &self,
        org: &OrgId,
        st: &OrganisationSettings,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO organisation_settings (organisation_id, oauth_redirect_urls, \
             hub_frame_ancestors, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (organisation_id) DO UPDATE SET \
             oauth_redirect_urls = excluded.oauth_redirect_urls, \
             hub_frame_ancestors = excluded.hub_frame_ancestors, updated_at = excluded.updated_at",
        )
        .bind(org)
        .bind(j(&st.oauth_redirect_urls))
        .bind(j(&st.hub_frame_ancestors))
        .bind(st.updated_at.unwrap_or_else(switchyard_domain::time::now))
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn insert_api_key(&self, org: &OrgId, key: &ApiKey) -> Result<()> {
        insert_api_key_exec(self.writes(), org, key).await
    }

    async fn list_api_keys(&self, org: &OrgId) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query("SELECT * FROM api_keys WHERE organisation_id = $1 ORDER BY id")
            .bind(org)
            .fetch_all(self.reads())
            .await
            .map_err(db_err)?;
        rows.iter().map(api_key).collect()
    }

    async fn revoke_api_key(&self, org: &OrgId, key_id: &str, at: Timestamp) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE organisation_id = $1 \
             AND id = $2",
        )
        .bind(org)
        .bind(key_id)
        .bind(at)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn find_api_key_by_hash(&self, key_hash: &str) -> Result<Option<(OrgId, ApiKey)>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE key_hash = $1")
            .bind(key_hash)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        let key = row.as_ref().map(api_key).transpose()?;
        Ok(key.map(|k| (OrgId::new(&k.organisation_id), k)))
    }

    async fn touch_api_key(&self, key_id: &str, at: Timestamp) -> Result<()> {
        let stale = at - chrono::Duration::seconds(60);
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL \
             OR last_used_at < $3)",
        )
        .bind(key_id)
        .bind(at)
        .bind(stale)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
