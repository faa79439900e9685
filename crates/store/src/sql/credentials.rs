//! [`crate::CredentialStore`]: sealed credentials, refresh leases, credential events and the
//! expiry sweep.
use super::events::emit_credential_tx;
use super::query::{get, json};
use super::{Backend, Db};
use crate::error::{db_err, Result, StoreError};
use crate::sql_text::value_rows;
use crate::CredentialStore;
use crate::OrgId;
use async_trait::async_trait;
use sqlx::types::Json;
use switchyard_domain::credential::{CredentialType, CredentialView, NewCredential};
use switchyard_domain::model::{CredentialEvent, StoredCredential};
use switchyard_domain::time::Timestamp;

/// Inserts credentials in one statement.
pub(super) async fn insert_credentials_at(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    credentials: &[&NewCredential],
    now: Timestamp,
) -> Result<()> {
    if credentials.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO credentials (id, organisation_id, name, type, public_data, sealed_data, \
         key_id, errors, expires_at, created_at, updated_at) VALUES {}",
        value_rows(credentials.len(), 11)
    );
    let mut q = sqlx::query(&sql);
    for c in credentials {
        q = q
            .bind(&c.view.id)
            .bind(org)
            .bind(&c.view.name)
            .bind(c.view.credential_type.as_str())
            .bind(Json(&c.view.data))
            .bind(&c.sealed)
            .bind(&c.key_id)
            .bind(c.view.errors.as_ref().map(Json))
            .bind(c.view.expires_at)
            .bind(now)
            .bind(now);
    }
    q.execute(&mut **tx).await.map_err(db_err)?;
    Ok(())
}

pub(super) async fn insert_credentials_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    credentials: &[NewCredential],
) -> Result<()> {
    insert_credentials_at(
        tx,
        org,
        &credentials.iter().collect::<Vec<_>>(),
        switchyard_domain::time::now(),
    )
    .await
}

/// Records a credential event (a failed refresh, an expiry).
pub(super) async fn insert_event_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    e: &CredentialEvent,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO credential_events (id, organisation_id, credential_id, kind, reason, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&e.id)
    .bind(org)
    .bind(&e.credential_id)
    .bind(&e.kind)
    .bind(&e.reason)
    .bind(e.created_at)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl CredentialStore for Backend {
    async fn get_credential(&self, org: &OrgId, id: &str) -> Result<Option<StoredCredential>> {
        let row = sqlx::query("SELECT * FROM credentials WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let ty: String = get(&row, "type")?;
        let errors: Option<Json<Vec<String>>> = get(&row, "errors")?;
        Ok(Some(StoredCredential {
            view: CredentialView {
                id: get(&row, "id")?,
                organisation_id: get(&row, "organisation_id")?,
                credential_type: CredentialType::parse(&ty)
                    .ok_or_else(|| StoreError::unreadable("stored credential type is unknown"))?,
                name: get(&row, "name")?,
                data: json(&row, "public_data")?,
                errors: errors.map(|Json(e)| e),
                expires_at: get(&row, "expires_at")?,
            },
            sealed: get(&row, "sealed_data")?,
        }))
    }

    async fn take_refresh_lease(
        &self,
        org: &OrgId,
        id: &str,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE credentials SET refresh_lease_owner = $3, refresh_lease_until = $4 \
             WHERE organisation_id = $1 AND id = $2 AND (refresh_lease_until IS NULL \
             OR refresh_lease_until < $5)",
        )
        .bind(org)
        .bind(id)
        .bind(owner)
        .bind(until)
        .bind(now)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn release_refresh_lease(&self, org: &OrgId, id: &str, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE credentials SET refresh_lease_owner = NULL, refresh_lease_until = NULL \
             WHERE organisation_id = $1 AND id = $2 AND refresh_lease_owner = $3",
        )
        .bind(org)
        .bind(id)
        .bind(owner)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn store_refreshed_credential(
        &self,
        org: &OrgId,
        c: &NewCredential,
        owner: &str,
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let r = sqlx::query(
            "UPDATE credentials SET sealed_data = $3, key_id = $4, public_data = $5, \
             errors = NULL, updated_at = $6, refresh_lease_owner = CASE \
             WHEN refresh_lease_owner = $7 THEN NULL ELSE refresh_lease_owner END, \
             refresh_lease_until = CASE WHEN refresh_lease_owner = $7 THEN NULL ELSE \
             refresh_lease_until END WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(&c.view.id)
        .bind(&c.sealed)
        .bind(&c.key_id)
        .bind(Json(&c.view.data))
        .bind(at)
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() > 0 {
            emit_credential_tx(&mut tx, org, "credential.refreshed", &c.view.id, None).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn fail_credential(
        &self,
        org: &OrgId,
        id: &str,
        owner: &str,
        errors: &[String],
        e: &CredentialEvent,
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        sqlx::query(
            "UPDATE credentials SET errors = $3, refresh_lease_owner = CASE \
             WHEN refresh_lease_owner = $4 THEN NULL ELSE refresh_lease_owner END, \
             refresh_lease_until = CASE WHEN refresh_lease_owner = $4 THEN NULL ELSE \
             refresh_lease_until END WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(id)
        .bind(Json(errors.to_vec()))
        .bind(owner)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_event_tx(&mut tx, org, e).await?;
        let kind = if e.kind == "expired" {
            "credential.expired"
        } else {
            "credential.refresh_failed"
        };
        emit_credential_tx(&mut tx, org, kind, id, Some(&e.reason)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn mark_credential_valid(&self, org: &OrgId, id: &str) -> Result<()> {
        sqlx::query("UPDATE credentials SET errors = $3 WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .bind(Json(Vec::<String>::new()))
            .execute(self.writes())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn sweep_expired_credentials(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<CredentialEvent>> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let due = sqlx::query(
            "SELECT id, organisation_id, expires_at FROM credentials WHERE expires_at IS NOT NULL \
             AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut events = Vec::with_capacity(due.len());
        for row in &due {
            let (id, org): (String, String) = (get(row, "id")?, get(row, "organisation_id")?);
            let at: Timestamp = get(row, "expires_at")?;
            let reason = format!(
                "expired: its expiresAt ({}) has passed",
                switchyard_domain::time::format(&at)
            );
            emit_credential_tx(&mut tx, &org, "credential.expired", &id, Some(&reason)).await?;
            sqlx::query("DELETE FROM connection_credentials WHERE credential_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query("DELETE FROM credentials WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            let e = CredentialEvent {
                id: switchyard_domain::new_id(),
                organisation_id: org,
                credential_id: id,
                kind: "expired".to_owned(),
                reason,
                created_at: now,
            };
            insert_event_tx(&mut tx, &e.organisation_id, &e).await?;
            events.push(e);
        }
        tx.commit().await.map_err(db_err)?;
        Ok(events)
    }

    async fn list_credential_events(
        &self,
        org: &OrgId,
        credential_id: &str,
    ) -> Result<Vec<CredentialEvent>> {
        let rows = sqlx::query(
            "SELECT * FROM credential_events WHERE organisation_id = $1 AND credential_id = $2 \
             ORDER BY id",
        )
        .bind(org)
        .bind(credential_id)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(CredentialEvent {
                    id: get(r, "id")?,
                    organisation_id: get(r, "organisation_id")?,
                    credential_id: get(r, "credential_id")?,
                    kind: get(r, "kind")?,
                    reason: get(r, "reason")?,
                    created_at: get(r, "created_at")?,
                })
            })
            .collect()
    }
}
