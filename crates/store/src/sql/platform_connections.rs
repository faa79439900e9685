//! [`crate::PlatformConnectionStore`]: v2 connections and their links to templates.
use super::connections::{
    connection_row, delete_connections_tx, insert_connection_tx, load_credentials, CONNECTION_COLS,
};
use super::credentials::insert_credentials_tx;
use super::events::emit_tx;
use super::query::{fetch_page, get, j, Arg, Listing};
use super::{Backend, Db};
use crate::error::{db_err, Result};
use crate::sql_text::placeholders;
use crate::OrgId;
use crate::{ConnectionFilter, PlatformConnectionStore};
use async_trait::async_trait;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::events::{activation_changed, connection_event, API_V2};
use switchyard_domain::model::{Connection, NewConnection};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::platform::ConnectionDeletion;
use switchyard_domain::time::Timestamp;

pub(super) async fn insert_link_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    connection_id: &str,
    template_id: &str,
    at: Timestamp,
) -> Result<bool> {
    let r = sqlx::query(
        "INSERT INTO platform_connection_links (connection_id, template_id, organisation_id, \
         created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (connection_id, template_id) DO NOTHING",
    )
    .bind(connection_id)
    .bind(template_id)
    .bind(org)
    .bind(at)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(r.rows_affected() > 0)
}

#[async_trait]
impl PlatformConnectionStore for Backend {
    async fn insert_platform_connection(
        &self,
        org: &OrgId,
        nc: &NewConnection,
        template_ids: &[String],
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_connection_tx(&mut tx, org, nc).await?;
        for t in template_ids {
            insert_link_tx(&mut tx, org, &nc.connection.id, t, nc.connection.created_at).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn list_platform_connections(
        &self,
        org: &OrgId,
        f: &ConnectionFilter,
        page: &PageRequest,
    ) -> Result<Page<Connection>> {
        let mut args = vec![Arg::S(org.to_string())];
        let mut from =
            String::from("connections WHERE organisation_id = $1 AND end_user_id IS NULL");
        if let Some(s) = &f.system_id {
            args.push(Arg::S(s.clone()));
            from.push_str(&format!(" AND connector_id = ${}", args.len()));
        }
        if let Some(u) = &f.end_user_id {
            args.push(Arg::S(u.clone()));
            from.push_str(&format!(" AND platform_end_user_id = ${}", args.len()));
        }
        if let Some(p) = &f.project_id {
            args.push(Arg::S(p.clone()));
            let mut sub = format!(
                " AND platform_end_user_id IS NULL AND id IN (SELECT l.connection_id \
                 FROM platform_connection_links l JOIN platform_connection_templates t \
                 ON t.id = l.template_id WHERE t.organisation_id = $1 AND t.project_id = ${}",
                args.len()
            );
            if let Some(e) = &f.environment_id {
                args.push(Arg::S(e.clone()));
                sub.push_str(&format!(" AND t.environment_id = ${}", args.len()));
            }
            sub.push(')');
            from.push_str(&sub);
        }
        let listing = Listing {
            cols: CONNECTION_COLS,
            from_where: &from,
            key: "id",
            args: &args,
            newest_first: false,
        };
        let mut p = fetch_page(self.reads(), listing, page, connection_row, |c| {
            c.id.clone()
        })
        .await?;
        load_credentials(self.reads(), org, &mut p.items).await?;
        Ok(p)
    }

    async fn platform_connection_links(
        &self,
        org: &OrgId,
        connection_ids: &[String],
    ) -> Result<Vec<(String, String)>> {
        if connection_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT connection_id, template_id FROM platform_connection_links \
             WHERE organisation_id = $1 AND connection_id IN ({}) ORDER BY created_at, template_id",
            placeholders(2, connection_ids.len())
        );
        let mut q = sqlx::query(&sql).bind(org.to_owned());
        for id in connection_ids {
            q = q.bind(id.clone());
        }
        q.fetch_all(self.reads())
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Ok((get(r, "connection_id")?, get(r, "template_id")?)))
            .collect()
    }

    async fn static_connections(
        &self,
        org: &OrgId,
        template_ids: &[String],
    ) -> Result<Vec<(String, String)>> {
        if template_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT l.template_id, l.connection_id FROM platform_connection_links l \
             JOIN connections c ON c.id = l.connection_id WHERE l.organisation_id = $1 \
             AND c.platform_end_user_id IS NULL AND c.end_user_id IS NULL \
             AND l.template_id IN ({}) ORDER BY l.created_at, l.connection_id",
            placeholders(2, template_ids.len())
        );
        let mut q = sqlx::query(&sql).bind(org.to_owned());
        for id in template_ids {
            q = q.bind(id.clone());
        }
        let mut out: Vec<(String, String)> = Vec::new();
        for r in q.fetch_all(self.reads()).await.map_err(db_err)? {
            let t: String = get(&r, "template_id")?;
            if !out.iter().any(|(x, _)| *x == t) {
                out.push((t, get(&r, "connection_id")?));
            }
        }
        Ok(out)
    }

    async fn replace_platform_connection(
        &self,
        org: &OrgId,
        c: &Connection,
        new_credentials: &[NewCredential],
    ) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let r = sqlx::query(
            "UPDATE connections SET name = $3, base_url = $4, updated_at = $5 \
             WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.base_url)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        let old: Vec<String> = sqlx::query(
            "SELECT credential_id FROM connection_credentials WHERE connection_id = $1",
        )
        .bind(&c.id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get(r, "credential_id"))
        .collect::<Result<_>>()?;
        sqlx::query("DELETE FROM connection_credentials WHERE connection_id = $1")
            .bind(&c.id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        insert_credentials_tx(&mut tx, org, new_credentials).await?;
        for (i, cc) in c.credentials.iter().enumerate() {
            sqlx::query(
                "INSERT INTO connection_credentials (id, connection_id, role, position, \
                 auth_scheme_config, credential_id) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&cc.id)
            .bind(&c.id)
            .bind(cc.role.as_str())
            .bind(i as i32)
            .bind(j(&cc.auth_scheme_config))
            .bind(&cc.credential.id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        for cid in old {
            sqlx::query(
                "DELETE FROM credentials WHERE organisation_id = $1 AND id = $2 \
                 AND NOT EXISTS (SELECT 1 FROM connection_credentials WHERE credential_id = $2)",
            )
            .bind(org)
            .bind(&cid)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        emit_tx(&mut tx, org, &[connection_event("connection.updated", c)]).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn delete_platform_connection(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<ConnectionDeletion> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let row = sqlx::query(
            "SELECT platform_end_user_id FROM connections WHERE organisation_id = $1 AND id = $2 \
             AND end_user_id IS NULL",
        )
        .bind(org)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(ConnectionDeletion::NotFound);
        };
        let owner: Option<String> = get(&row, "platform_end_user_id")?;
        if owner.is_some() {
            let users: Vec<String> = sqlx::query(
                "SELECT DISTINCT activation_id FROM platform_activation_connections \
                 WHERE connection_id = $1 ORDER BY activation_id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| get(r, "activation_id"))
            .collect::<Result<_>>()?;
            if !users.is_empty() {
                return Ok(ConnectionDeletion::InUse(users));
            }
        }
        sqlx::query("DELETE FROM platform_activation_connections WHERE connection_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        delete_connections_tx(&mut tx, org, &[id.to_owned()]).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ConnectionDeletion::Deleted)
    }

    async fn link_platform_connection(
        &self,
        org: &OrgId,
        connection_id: &str,
        template_id: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let created = insert_link_tx(&mut tx, org, connection_id, template_id, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(created)
    }

    async fn unlink_platform_connection(
        &self,
        org: &OrgId,
        connection_id: &str,
        template_id: &str,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let r = sqlx::query(
            "DELETE FROM platform_connection_links WHERE organisation_id = $1 \
             AND connection_id = $2 AND template_id = $3",
        )
        .bind(org)
        .bind(connection_id)
        .bind(template_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let unbound = sqlx::query(
            "DELETE FROM platform_activation_connections WHERE connection_id = $1 \
             AND template_id = $2 RETURNING activation_id",
        )
        .bind(connection_id)
        .bind(template_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut events = Vec::new();
        for row in &unbound {
            let id: String = get(row, "activation_id")?;
            events.push(activation_changed(API_V2, &id, "connections"));
        }
        emit_tx(&mut tx, org, &events).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn platform_connection_bindings(
        &self,
        org: &OrgId,
        connection_id: &str,
    ) -> Result<Vec<String>> {
        sqlx::query(
            "SELECT DISTINCT b.activation_id FROM platform_activation_connections b \
             JOIN platform_activations a ON a.id = b.activation_id WHERE a.organisation_id = $1 \
             AND b.connection_id = $2 ORDER BY b.activation_id",
        )
        .bind(org)
        .bind(connection_id)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get(r, "activation_id"))
        .collect()
    }
}
