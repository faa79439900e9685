//! [`crate::PlatformEndUserStore`]: v2 end users.
use super::connections::delete_connections_tx;
use super::events::emit_tx;
use super::query::{fetch_page, get, Arg, DbRow, Listing};
use super::Backend;
use crate::error::{db_err, unique_as, Constraint, Result};
use crate::sql_text::like_pattern;
use crate::OrgId;
use crate::PlatformEndUserStore;
use async_trait::async_trait;
use switchyard_domain::events::{
    activation_deleted, end_user_created_v2, end_user_deleted, API_V2,
};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::platform::PlatformEndUser;

const PLATFORM_END_USER_COLS: &str =
    "id, organisation_id, external_id, display_name, created_at, updated_at";

fn platform_end_user(row: &DbRow) -> Result<PlatformEndUser> {
    Ok(PlatformEndUser {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        external_id: get(row, "external_id")?,
        display_name: get(row, "display_name")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

#[async_trait]
impl PlatformEndUserStore for Backend {
    async fn insert_platform_end_user(&self, org: &OrgId, u: &PlatformEndUser) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO platform_end_users ({PLATFORM_END_USER_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&u.id)
        .bind(org)
        .bind(&u.external_id)
        .bind(&u.display_name)
        .bind(u.created_at)
        .bind(u.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as(|| Constraint::OrganisationEndUserExternalId {
            external_id: u.external_id.clone(),
        }))?;
        emit_tx(&mut tx, org, &[end_user_created_v2(u)]).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_platform_end_user(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<PlatformEndUser>> {
        let sql = format!(
            "SELECT {PLATFORM_END_USER_COLS} FROM platform_end_users WHERE organisation_id = $1 \
             AND id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(platform_end_user).transpose()
    }

    async fn find_platform_end_user_by_external_id(
        &self,
        org: &OrgId,
        external_id: &str,
    ) -> Result<Option<PlatformEndUser>> {
        let sql = format!(
            "SELECT {PLATFORM_END_USER_COLS} FROM platform_end_users WHERE organisation_id = $1 \
             AND external_id = $2 AND static_environment_id IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(external_id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(platform_end_user).transpose()
    }

    async fn list_platform_end_users(
        &self,
        org: &OrgId,
        search: Option<&str>,
        activated: Option<(&str, bool)>,
        page: &PageRequest,
    ) -> Result<Page<PlatformEndUser>> {
        let mut args = vec![Arg::S(org.to_string())];
        let mut from = String::from(
            "platform_end_users WHERE organisation_id = $1 AND static_environment_id IS NULL",
        );
        if let Some(s) = search.filter(|s| !s.is_empty()) {
            from.push_str(
                " AND (LOWER(id) LIKE $2 ESCAPE '\\' OR LOWER(external_id) LIKE $2 ESCAPE '\\' \
                 OR LOWER(display_name) LIKE $2 ESCAPE '\\')",
            );
            args.push(Arg::S(like_pattern(s)));
        }
        if let Some((env, yes)) = activated {
            from.push_str(&format!(
                " AND {}EXISTS (SELECT 1 FROM platform_activations a \
                 WHERE a.end_user_id = platform_end_users.id AND a.environment_id = ${})",
                if yes { "" } else { "NOT " },
                args.len() + 1
            ));
            args.push(Arg::S(env.to_owned()));
        }
        let listing = Listing {
            cols: PLATFORM_END_USER_COLS,
            from_where: &from,
            key: "id",
            args: &args,
            newest_first: false,
        };
        fetch_page(self.reads(), listing, page, platform_end_user, |u| {
            u.id.clone()
        })
        .await
    }

    async fn delete_platform_end_user(&self, org: &OrgId, id: &str) -> Result<bool> {
        // The user's activations go with it (cascade); its dynamic connections and
        // their credentials are deleted here, in the same transaction.
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let conns: Vec<String> = sqlx::query(
            "SELECT id FROM connections WHERE organisation_id = $1 AND platform_end_user_id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get(r, "id"))
        .collect::<Result<_>>()?;
        let deleted = sqlx::query(
            "DELETE FROM platform_activations WHERE organisation_id = $1 AND end_user_id = $2 \
             RETURNING id",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut events = Vec::new();
        for row in &deleted {
            events.push(activation_deleted(API_V2, &get::<String>(row, "id")?));
        }
        emit_tx(&mut tx, org, &events).await?;
        delete_connections_tx(&mut tx, org, &conns).await?;
        let r = sqlx::query(
            "DELETE FROM platform_end_users WHERE organisation_id = $1 AND id = $2 \
             AND static_environment_id IS NULL",
        )
        .bind(org)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() > 0 {
            emit_tx(&mut tx, org, &[end_user_deleted(API_V2, id)]).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }
}
