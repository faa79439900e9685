//! [`crate::HubStore`]: hubs, their end users and hub page sessions.
use super::connections::{delete_connections_tx, insert_connection_tx};
use super::credentials::insert_credentials_tx;
use super::events::emit_tx;
use super::query::{fetch_page, get, j, json, Arg, DbRow, Listing};
use super::{Backend, Db};
use crate::error::{db_err, unique_as, Constraint, Result};
use crate::sql_text::like_pattern;
use crate::HubStore;
use crate::OrgId;
use async_trait::async_trait;
use sqlx::types::Json;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::events::{
    activation_deleted, end_user_created_v1, end_user_deleted, API_V1,
};
use switchyard_domain::model::{EndUser, Hub, HubSession, IdentifierType, NewConnection};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::time::Timestamp;

pub(super) fn hub(row: &DbRow) -> Result<Hub> {
    Ok(Hub {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        name: get(row, "name")?,
        primary_connector_id: get(row, "primary_connector_id")?,
        auth_scheme_config: json(row, "auth_scheme_config")?,
        is_default: get(row, "is_default")?,
        oauth_redirect_urls: json(row, "oauth_redirect_urls")?,
        deleted_at: get(row, "deleted_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) const END_USER_COLS: &str = "id, organisation_id, hub_id, external_id, display_name, \
    primary_connection_id, created_at, updated_at";

pub(super) fn end_user(row: &DbRow) -> Result<EndUser> {
    end_user_at(row, "")
}

/// An end user from columns named with `prefix` (`u_id`, ... in a join).
pub(super) fn end_user_at(row: &DbRow, prefix: &str) -> Result<EndUser> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(EndUser {
        id: get(row, &c("id"))?,
        organisation_id: get(row, &c("organisation_id"))?,
        hub_id: get(row, &c("hub_id"))?,
        external_id: get(row, &c("external_id"))?,
        display_name: get(row, &c("display_name"))?,
        primary_connection_id: get(row, &c("primary_connection_id"))?,
        created_at: get(row, &c("created_at"))?,
        updated_at: get(row, &c("updated_at"))?,
    })
}

pub(super) async fn insert_end_user_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    u: &EndUser,
) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO end_users ({END_USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(&u.id)
    .bind(org)
    .bind(&u.hub_id)
    .bind(&u.external_id)
    .bind(&u.display_name)
    .bind(&u.primary_connection_id)
    .bind(u.created_at)
    .bind(u.updated_at)
    .execute(&mut **tx)
    .await
    .map_err(unique_as(|| Constraint::HubEndUserExternalId {
        external_id: u.external_id.clone(),
    }))?;
    emit_tx(tx, org, &[end_user_created_v1(u)]).await?;
    Ok(())
}

#[async_trait]
impl HubStore for Backend {
    async fn insert_hub_session(&self, org: &OrgId, h: &HubSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO hub_sessions (token_hash, organisation_id, hub_id, external_user_id, \
             allowed_integrations, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&h.token_hash)
        .bind(org)
        .bind(&h.hub_id)
        .bind(&h.external_user_id)
        .bind(h.allowed_integrations.as_ref().map(j))
        .bind(h.created_at)
        .bind(h.expires_at)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        sqlx::query("DELETE FROM hub_sessions WHERE expires_at < $1")
            .bind(h.created_at - chrono::Duration::hours(1))
            .execute(self.writes())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn find_hub_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(OrgId, HubSession)>> {
        let row =
            sqlx::query("SELECT * FROM hub_sessions WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(now)
                .fetch_optional(self.reads())
                .await
                .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let allowed: Option<Json<Vec<String>>> = get(&row, "allowed_integrations")?;
        let session = HubSession {
            token_hash: get(&row, "token_hash")?,
            organisation_id: get(&row, "organisation_id")?,
            hub_id: get(&row, "hub_id")?,
            external_user_id: get(&row, "external_user_id")?,
            allowed_integrations: allowed.map(|Json(a)| a),
            created_at: get(&row, "created_at")?,
            expires_at: get(&row, "expires_at")?,
        };
        Ok(Some((OrgId::new(&session.organisation_id), session)))
    }

    async fn insert_hub(&self, org: &OrgId, h: &Hub, credentials: &[NewCredential]) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_credentials_tx(&mut tx, org, credentials).await?;
        if h.is_default {
            sqlx::query("UPDATE hubs SET is_default = $2 WHERE organisation_id = $1")
                .bind(org)
                .bind(false)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query(
            "INSERT INTO hubs (id, organisation_id, name, primary_connector_id, \
             auth_scheme_config, is_default, deleted_at, created_at, updated_at, \
             oauth_redirect_urls) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&h.id)
        .bind(org)
        .bind(&h.name)
        .bind(&h.primary_connector_id)
        .bind(j(&h.auth_scheme_config))
        .bind(h.is_default)
        .bind(h.deleted_at)
        .bind(h.created_at)
        .bind(h.updated_at)
        .bind(j(&h.oauth_redirect_urls))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_hub(&self, org: &OrgId, id: &str) -> Result<Option<Hub>> {
        let row = sqlx::query("SELECT * FROM hubs WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(hub).transpose()
    }

    async fn list_hubs(&self, org: &OrgId) -> Result<Vec<Hub>> {
        let rows = sqlx::query(
            "SELECT * FROM hubs WHERE organisation_id = $1 AND deleted_at IS NULL ORDER BY id",
        )
        .bind(org)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter().map(hub).collect()
    }

    async fn update_hub(&self, org: &OrgId, h: &Hub) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        if h.is_default {
            sqlx::query("UPDATE hubs SET is_default = $3 WHERE organisation_id = $1 AND id <> $2")
                .bind(org)
                .bind(&h.id)
                .bind(false)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let r = sqlx::query(
            "UPDATE hubs SET name = $3, is_default = $4, deleted_at = $5, updated_at = $6, \
             oauth_redirect_urls = $7 WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(&h.id)
        .bind(&h.name)
        .bind(h.is_default)
        .bind(h.deleted_at)
        .bind(h.updated_at)
        .bind(j(&h.oauth_redirect_urls))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn insert_end_user(
        &self,
        org: &OrgId,
        u: &EndUser,
        primary: Option<&NewConnection>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_end_user_tx(&mut tx, org, u).await?;
        if let Some(p) = primary {
            insert_connection_tx(&mut tx, org, p).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn get_end_user(
        &self,
        org: &OrgId,
        hub_id: &str,
        id: &str,
        kind: IdentifierType,
    ) -> Result<Option<EndUser>> {
        let col = match kind {
            IdentifierType::Internal => "id",
            IdentifierType::External => "external_id",
        };
        let sql = format!(
            "SELECT {END_USER_COLS} FROM end_users WHERE organisation_id = $1 AND hub_id = $2 \
             AND {col} = $3"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(hub_id)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(end_user).transpose()
    }

    async fn get_end_user_by_id(&self, org: &OrgId, id: &str) -> Result<Option<EndUser>> {
        let sql =
            format!("SELECT {END_USER_COLS} FROM end_users WHERE organisation_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(end_user).transpose()
    }

    async fn list_end_users(
        &self,
        org: &OrgId,
        hub_id: &str,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<EndUser>> {
        let mut args = vec![Arg::S(org.to_string()), Arg::S(hub_id.to_owned())];
        let mut from = String::from("end_users WHERE organisation_id = $1 AND hub_id = $2");
        if let Some(s) = search.filter(|s| !s.is_empty()) {
            from.push_str(
                " AND (LOWER(id) LIKE $3 ESCAPE '\\' OR LOWER(external_id) LIKE $3 ESCAPE '\\' \
                 OR LOWER(display_name) LIKE $3 ESCAPE '\\')",
            );
            args.push(Arg::S(like_pattern(s)));
        }
        fetch_page(
            self.reads(),
            Listing {
                cols: END_USER_COLS,
                from_where: &from,
                key: "id",
                args: &args,
                newest_first: false,
            },
            page,
            end_user,
            |u| u.id.clone(),
        )
        .await
    }

    async fn delete_end_user(&self, org: &OrgId, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let deleted = sqlx::query(
            "DELETE FROM activations WHERE organisation_id = $1 AND end_user_id = $2 RETURNING id",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut events = Vec::new();
        for row in &deleted {
            events.push(activation_deleted(API_V1, &get::<String>(row, "id")?));
        }
        emit_tx(&mut tx, org, &events).await?;
        let conns: Vec<String> = sqlx::query(
            "SELECT id FROM connections WHERE organisation_id = $1 AND end_user_id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get(r, "id"))
        .collect::<Result<_>>()?;
        delete_connections_tx(&mut tx, org, &conns).await?;
        let r = sqlx::query("DELETE FROM end_users WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if r.rows_affected() > 0 {
            emit_tx(&mut tx, org, &[end_user_deleted(API_V1, id)]).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }
}
