//! [`crate::ConnectorStore`]: connectors and their grant secrets.
use super::connections::delete_connections_tx;
use super::credentials::insert_credentials_tx;
use super::query::{fetch_page, get, j, json, Arg, DbRow, Listing};
use super::{Backend, Db};
use crate::error::{db_err, Constraint, Result, StoreError};
use crate::ConnectorStore;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::Connector;
use switchyard_domain::page::{Page, PageRequest};

pub(super) fn connector(row: &DbRow) -> Result<Connector> {
    Ok(Connector {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        name: get(row, "name")?,
        base_url: get(row, "base_url")?,
        auth_scheme_configs: json(row, "auth_scheme_configs")?,
        connection_variables: json(row, "connection_variables")?,
        image_url: get(row, "image_url")?,
        documentation_url: get(row, "documentation_url")?,
        public: get(row, "public")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) async fn insert_connector_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    c: &Connector,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO connectors (id, organisation_id, name, base_url, auth_scheme_configs, \
         connection_variables, image_url, documentation_url, public, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&c.id)
    .bind(org)
    .bind(&c.name)
    .bind(&c.base_url)
    .bind(j(&c.auth_scheme_configs))
    .bind(j(&c.connection_variables))
    .bind(&c.image_url)
    .bind(&c.documentation_url)
    .bind(c.public)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl ConnectorStore for Backend {
    async fn insert_connector(
        &self,
        org: &OrgId,
        c: &Connector,
        credentials: &[NewCredential],
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_credentials_tx(&mut tx, org, credentials).await?;
        insert_connector_tx(&mut tx, org, c).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_connector(&self, org: &OrgId, id: &str) -> Result<Option<Connector>> {
        let row = sqlx::query("SELECT * FROM connectors WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(connector).transpose()
    }

    async fn list_connectors(&self, org: &OrgId, page: &PageRequest) -> Result<Page<Connector>> {
        fetch_page(
            self.reads(),
            Listing {
                cols: "*",
                from_where: "connectors WHERE organisation_id = $1",
                key: "id",
                args: &[Arg::S(org.to_string())],
                newest_first: true,
            },
            page,
            connector,
            |c| c.id.clone(),
        )
        .await
    }

    async fn update_connector(
        &self,
        org: &OrgId,
        c: &Connector,
        credentials: &[NewCredential],
    ) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_credentials_tx(&mut tx, org, credentials).await?;
        let r = sqlx::query(
            "UPDATE connectors SET name = $3, base_url = $4, auth_scheme_configs = $5, \
             connection_variables = $6, image_url = $7, documentation_url = $8, public = $9, \
             updated_at = $10 WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.base_url)
        .bind(j(&c.auth_scheme_configs))
        .bind(j(&c.connection_variables))
        .bind(&c.image_url)
        .bind(&c.documentation_url)
        .bind(c.public)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_connector(&self, org: &OrgId, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let used: i64 = get(
            &sqlx::query(
                "SELECT (SELECT COUNT(*) FROM hubs WHERE organisation_id = $1 \
                 AND primary_connector_id = $2) + (SELECT COUNT(*) FROM connection_templates \
                 WHERE organisation_id = $1 AND connector_id = $2) + (SELECT COUNT(*) \
                 FROM connections WHERE organisation_id = $1 AND connector_id = $2 \
                 AND end_user_id IS NOT NULL) AS n",
            )
            .bind(org)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?,
            "n",
        )?;
        if used > 0 {
            return Err(StoreError::conflict(Constraint::ConnectorInUse));
        }
        let own: Vec<String> = sqlx::query(
            "SELECT id FROM connections WHERE organisation_id = $1 AND connector_id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get(r, "id"))
        .collect::<Result<_>>()?;
        delete_connections_tx(&mut tx, org, &own).await?;
        // The grant secrets its auth scheme configs hold go with it.
        let row = sqlx::query("SELECT * FROM connectors WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(c) = row.as_ref().map(connector).transpose()? {
            for cred in c
                .auth_scheme_configs
                .iter()
                .filter_map(|a| a.grant_credential_id())
            {
                sqlx::query(
                    "DELETE FROM credentials WHERE organisation_id = $1 AND id = $2 \
                     AND NOT EXISTS (SELECT 1 FROM connection_credentials \
                     WHERE credential_id = $2)",
                )
                .bind(org)
                .bind(cred)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
        }
        let r = sqlx::query("DELETE FROM connectors WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }
}
