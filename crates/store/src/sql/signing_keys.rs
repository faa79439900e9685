//! [`crate::SigningKeyStore`]: organisation signing keys (public keys only).
use super::query::{get, DbRow};
use super::Backend;
use crate::error::{db_err, Result};
use crate::OrgId;
use crate::SigningKeyStore;
use async_trait::async_trait;
use switchyard_domain::signing_key::SigningKey;

const SIGNING_KEY_COLS: &str = "id, organisation_id, name, public_key_pem, created_at";

fn signing_key(row: &DbRow) -> Result<SigningKey> {
    Ok(SigningKey {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        name: get(row, "name")?,
        public_key_pem: get(row, "public_key_pem")?,
        created_at: get(row, "created_at")?,
    })
}

#[async_trait]
impl SigningKeyStore for Backend {
    async fn insert_signing_key(&self, org: &OrgId, k: &SigningKey) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO signing_keys ({SIGNING_KEY_COLS}) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(&k.id)
        .bind(org)
        .bind(&k.name)
        .bind(&k.public_key_pem)
        .bind(k.created_at)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_signing_keys(&self, org: &OrgId) -> Result<Vec<SigningKey>> {
        let sql = format!(
            "SELECT {SIGNING_KEY_COLS} FROM signing_keys WHERE organisation_id = $1 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .fetch_all(self.reads())
            .await
            .map_err(db_err)?;
        rows.iter().map(signing_key).collect()
    }

    async fn get_signing_key(&self, id: &str) -> Result<Option<(OrgId, SigningKey)>> {
        let sql = format!("SELECT {SIGNING_KEY_COLS} FROM signing_keys WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        let key = row.as_ref().map(signing_key).transpose()?;
        Ok(key.map(|k| (OrgId::new(&k.organisation_id), k)))
    }

    async fn delete_signing_key(&self, org: &OrgId, id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM signing_keys WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(self.writes())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }
}
