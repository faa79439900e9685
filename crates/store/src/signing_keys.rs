//! The store of organisation signing keys (Organisations API v1), and `signing_keys_sql_store!`,
//! its SQL for both backends. Like `platform_sql_store!`, the macro expands in the module of
//! `sql_store!` and uses its helpers (`get`, `db_err`, `DbRow`).
//!
//! Only public keys are stored. [`SigningKeyStore::get_signing_key`] is the one lookup without an
//! organisation: a key id is what a JWT's `iss` names, and the key row tells whose it is.
use async_trait::async_trait;
use switchyard_domain::signing_key::SigningKey;
use switchyard_domain::Result;

#[async_trait]
pub trait SigningKeyStore: Send + Sync + 'static {
    async fn insert_signing_key(&self, org: &str, key: &SigningKey) -> Result<()>;
    /// The organisation's signing keys, oldest first.
    async fn list_signing_keys(&self, org: &str) -> Result<Vec<SigningKey>>;
    /// A key by id, whoever owns it: for the public `GET /keys/{id}` and for verifying a JWT.
    async fn get_signing_key(&self, id: &str) -> Result<Option<SigningKey>>;
    /// Deletes a key; false when the organisation has no such key. Every JWT it signed stops
    /// working at once.
    async fn delete_signing_key(&self, org: &str, id: &str) -> Result<bool>;
}

macro_rules! signing_keys_sql_store {
    ($store:ident) => {
        mod signing_keys_impl {
            use super::*;
            use crate::signing_keys::SigningKeyStore;
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
            impl SigningKeyStore for $store {
                async fn insert_signing_key(&self, org: &str, k: &SigningKey) -> Result<()> {
                    sqlx::query(&format!("INSERT INTO signing_keys ({SIGNING_KEY_COLS}) VALUES ($1, $2, $3, $4, $5)"))
                        .bind(&k.id)
                        .bind(org)
                        .bind(&k.name)
                        .bind(&k.public_key_pem)
                        .bind(k.created_at)
                        .execute(&self.pool)
                        .await
                        .map_err(db_err)?;
                    Ok(())
                }

                async fn list_signing_keys(&self, org: &str) -> Result<Vec<SigningKey>> {
                    let sql = format!("SELECT {SIGNING_KEY_COLS} FROM signing_keys WHERE organisation_id = $1 ORDER BY id");
                    let rows = sqlx::query(&sql).bind(org).fetch_all(&self.pool).await.map_err(db_err)?;
                    rows.iter().map(signing_key).collect()
                }

                async fn get_signing_key(&self, id: &str) -> Result<Option<SigningKey>> {
                    let sql = format!("SELECT {SIGNING_KEY_COLS} FROM signing_keys WHERE id = $1");
                    let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                    row.as_ref().map(signing_key).transpose()
                }

                async fn delete_signing_key(&self, org: &str, id: &str) -> Result<bool> {
                    let r = sqlx::query("DELETE FROM signing_keys WHERE organisation_id = $1 AND id = $2")
                        .bind(org)
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(db_err)?;
                    Ok(r.rows_affected() > 0)
                }
            }
        }
    };
}
