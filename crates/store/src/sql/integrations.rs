//! [`crate::IntegrationStore`]: integrations, connection templates and a hub's integrations as an
//! end user sees them.
use super::credentials::insert_credentials_tx;
use super::query::{fetch_page, get, hub_page_and_counts, j, json, Arg, DbRow, Listing};
use super::{Backend, Db};
use crate::error::{db_err, Constraint, Result, StoreError};
use crate::sql_text::{like_pattern, placeholders, qualified};
use crate::OrgId;
use crate::{IntegrationFilter, IntegrationStore};
use async_trait::async_trait;
use serde_json::Value;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::{
    ConnectionTemplate, EndUserIntegration, IdentifierType, Integration,
};
use switchyard_domain::page::{Page, PageRequest};

pub(super) const INTEGRATION_COLS: &str = "id, organisation_id, hub_id, name, description, \
    summary, image_url, screenshot_url, variables_schema, board_id, is_deployed, created_at, \
    updated_at";

pub(super) const TEMPLATE_COLS: &str = "id, organisation_id, integration_id, connector_id, name, \
    image_url, auth_scheme_config, is_primary, is_used, created_at";

pub(super) fn integration(row: &DbRow) -> Result<Integration> {
    // Kept as text on both databases, so that its keys keep their order.
    let schema: Option<String> = get(row, "variables_schema")?;
    let schema = schema
        .map(|t| serde_json::from_str::<Value>(&t))
        .transpose()
        .map_err(|_| StoreError::unreadable("a stored variables schema is not JSON"))?;
    Ok(Integration {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        hub_id: get(row, "hub_id")?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        summary: get(row, "summary")?,
        image_url: get(row, "image_url")?,
        screenshot_url: get(row, "screenshot_url")?,
        variables_schema: schema,
        board_id: get(row, "board_id")?,
        is_deployed: get(row, "is_deployed")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn template(row: &DbRow) -> Result<ConnectionTemplate> {
    template_at(row, "")
}

/// A template from columns named with `prefix` (`t_id`, `t_name`... in a join).
pub(super) fn template_at(row: &DbRow, prefix: &str) -> Result<ConnectionTemplate> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(ConnectionTemplate {
        id: get(row, &c("id"))?,
        organisation_id: get(row, &c("organisation_id"))?,
        integration_id: get(row, &c("integration_id"))?,
        connector_id: get(row, &c("connector_id"))?,
        name: get(row, &c("name"))?,
        image_url: get(row, &c("image_url"))?,
        auth_scheme_config: json(row, &c("auth_scheme_config"))?,
        is_primary: get(row, &c("is_primary"))?,
        is_used: get(row, &c("is_used"))?,
        created_at: get(row, &c("created_at"))?,
    })
}

pub(super) async fn insert_template_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    t: &ConnectionTemplate,
) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO connection_templates ({TEMPLATE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         $8, $9, $10)"
    ))
    .bind(&t.id)
    .bind(org)
    .bind(&t.integration_id)
    .bind(&t.connector_id)
    .bind(&t.name)
    .bind(&t.image_url)
    .bind(j(&t.auth_scheme_config))
    .bind(t.is_primary)
    .bind(t.is_used)
    .bind(t.created_at)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl IntegrationStore for Backend {
    async fn insert_integration(
        &self,
        org: &OrgId,
        i: &Integration,
        template: Option<&ConnectionTemplate>,
        credentials: &[NewCredential],
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_credentials_tx(&mut tx, org, credentials).await?;
        sqlx::query(&format!(
            "INSERT INTO integrations ({INTEGRATION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $9, $10, $11, $12, $13)"
        ))
        .bind(&i.id)
        .bind(org)
        .bind(&i.hub_id)
        .bind(&i.name)
        .bind(&i.description)
        .bind(&i.summary)
        .bind(&i.image_url)
        .bind(&i.screenshot_url)
        .bind(i.variables_schema.as_ref().map(Value::to_string))
        .bind(&i.board_id)
        .bind(i.is_deployed)
        .bind(i.created_at)
        .bind(i.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(t) = template {
            insert_template_tx(&mut tx, org, t).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn get_integration(&self, org: &OrgId, id: &str) -> Result<Option<Integration>> {
        let sql = format!(
            "SELECT {INTEGRATION_COLS} FROM integrations WHERE organisation_id = $1 AND id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(integration).transpose()
    }

    async fn list_integrations(
        &self,
        org: &OrgId,
        hub_id: &str,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Integration>> {
        let mut args = vec![Arg::S(org.to_string()), Arg::S(hub_id.to_owned())];
        let mut from = String::from("integrations WHERE organisation_id = $1 AND hub_id = $2");
        if let Some(s) = search.filter(|s| !s.is_empty()) {
            from.push_str(
                " AND (LOWER(name) LIKE $3 ESCAPE '\\' OR LOWER(description) LIKE $3 ESCAPE '\\')",
            );
            args.push(Arg::S(like_pattern(s)));
        }
        fetch_page(
            self.reads(),
            Listing {
                cols: INTEGRATION_COLS,
                from_where: &from,
                key: "id",
                args: &args,
                newest_first: false,
            },
            page,
            integration,
            |i| i.id.clone(),
        )
        .await
    }

    async fn update_integration(&self, org: &OrgId, i: &Integration) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE integrations SET name = $3, description = $4, summary = $5, image_url = $6, \
             screenshot_url = $7, variables_schema = $8, is_deployed = $9, updated_at = $10 \
             WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(&i.id)
        .bind(&i.name)
        .bind(&i.description)
        .bind(&i.summary)
        .bind(&i.image_url)
        .bind(&i.screenshot_url)
        .bind(i.variables_schema.as_ref().map(Value::to_string))
        .bind(i.is_deployed)
        .bind(i.updated_at)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_integration(&self, org: &OrgId, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let n: i64 = get(
            &sqlx::query(
                "SELECT COUNT(*) AS n FROM activations WHERE organisation_id = $1 \
                 AND integration_id = $2",
            )
            .bind(org)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?,
            "n",
        )?;
        if n > 0 {
            return Err(StoreError::conflict(
                Constraint::IntegrationHasActivations { count: n },
            ));
        }
        sqlx::query(
            "DELETE FROM connection_templates WHERE organisation_id = $1 AND integration_id = $2",
        )
        .bind(org)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let r = sqlx::query("DELETE FROM integrations WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn insert_template(
        &self,
        org: &OrgId,
        t: &ConnectionTemplate,
        credentials: &[NewCredential],
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_credentials_tx(&mut tx, org, credentials).await?;
        insert_template_tx(&mut tx, org, t).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_template(&self, org: &OrgId, id: &str) -> Result<Option<ConnectionTemplate>> {
        let sql = format!(
            "SELECT {TEMPLATE_COLS} FROM connection_templates WHERE organisation_id = $1 \
             AND id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(template).transpose()
    }

    async fn get_integration_with_templates(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<(Integration, Vec<ConnectionTemplate>)>> {
        // One row per template (or one with NULL template columns for an integration
        // without any), the integration's columns repeated on each.
        let sql = format!(
            "SELECT {}, {} FROM integrations i LEFT JOIN connection_templates t \
             ON t.integration_id = i.id AND t.organisation_id = i.organisation_id \
             WHERE i.organisation_id = $1 AND i.id = $2 ORDER BY t.id",
            qualified(INTEGRATION_COLS, "i", false),
            qualified(TEMPLATE_COLS, "t", true)
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_all(self.reads())
            .await
            .map_err(db_err)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let i = integration(first)?;
        let mut templates = Vec::with_capacity(rows.len());
        for row in &rows {
            if get::<Option<String>>(row, "t_id")?.is_some() {
                templates.push(template_at(row, "t_")?);
            }
        }
        Ok(Some((i, templates)))
    }

    async fn list_templates(
        &self,
        org: &OrgId,
        integration_id: &str,
    ) -> Result<Vec<ConnectionTemplate>> {
        let sql = format!(
            "SELECT {TEMPLATE_COLS} FROM connection_templates WHERE organisation_id = $1 \
             AND integration_id = $2 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(integration_id)
            .fetch_all(self.reads())
            .await
            .map_err(db_err)?;
        rows.iter().map(template).collect()
    }

    async fn list_hub_connector_templates(
        &self,
        org: &OrgId,
        hub_id: &str,
        connector_id: &str,
    ) -> Result<Vec<ConnectionTemplate>> {
        let sql = format!(
            "SELECT {} FROM connection_templates t JOIN integrations i ON i.id = t.integration_id \
             WHERE t.organisation_id = $1 AND i.hub_id = $2 AND t.connector_id = $3 ORDER BY t.id",
            qualified(TEMPLATE_COLS, "t", false)
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(hub_id)
            .bind(connector_id)
            .fetch_all(self.reads())
            .await
            .map_err(db_err)?;
        rows.iter().map(template).collect()
    }

    async fn list_templates_page(
        &self,
        org: &OrgId,
        integration_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ConnectionTemplate>> {
        let args = [Arg::S(org.to_string()), Arg::S(integration_id.to_owned())];
        fetch_page(
            self.reads(),
            Listing {
                cols: TEMPLATE_COLS,
                from_where:
                    "connection_templates WHERE organisation_id = $1 AND integration_id = $2",
                key: "id",
                args: &args,
                newest_first: false,
            },
            page,
            template,
            |t| t.id.clone(),
        )
        .await
    }

    async fn set_templates_used(
        &self,
        org: &OrgId,
        integration_id: &str,
        used: &[String],
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        sqlx::query(
            "UPDATE connection_templates SET is_used = $3 WHERE organisation_id = $1 \
             AND integration_id = $2",
        )
        .bind(org)
        .bind(integration_id)
        .bind(false)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        for id in used {
            sqlx::query(
                "UPDATE connection_templates SET is_used = $4 WHERE organisation_id = $1 \
                 AND integration_id = $2 AND id = $3",
            )
            .bind(org)
            .bind(integration_id)
            .bind(id)
            .bind(true)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn list_end_user_integrations(
        &self,
        org: &OrgId,
        hub_id: &str,
        (user, kind): (&str, IdentifierType),
        filter: IntegrationFilter,
        page: &PageRequest,
    ) -> Result<Option<(Page<EndUserIntegration>, i64)>> {
        let user_col = match kind {
            IdentifierType::Internal => "id",
            IdentifierType::External => "external_id",
        };
        let mut args = vec![
            Arg::S(org.to_string()),
            Arg::S(hub_id.to_owned()),
            Arg::S(user.to_owned()),
        ];
        let mut filters = String::from("i.organisation_id = $1 AND i.hub_id = $2");
        let mut activation_filters = String::new();
        if let Some(d) = filter.deployed {
            filters.push_str(" AND i.is_deployed = $4");
            activation_filters.push_str(" AND ($4 = $4)");
            args.push(Arg::B(d));
        }
        if let Some(ids) = &filter.only {
            let list = if ids.is_empty() {
                "NULL".to_owned()
            } else {
                placeholders(args.len() + 1, ids.len())
            };
            filters.push_str(&format!(" AND i.id IN ({list})"));
            activation_filters.push_str(&format!(" AND a.integration_id IN ({list})"));
            args.extend(ids.iter().cloned().map(Arg::S));
        }
        // The user, matched once (at most one row: a hub's ids and external ids are unique).
        let user_match = format!("u.organisation_id = $1 AND u.hub_id = $2 AND u.{user_col} = $3");
        // One row of counts: whether the hub exists, the integrations (a covering index scan),
        // and the user's activations of them.
        let counts = format!(
            "SELECT (SELECT COUNT(*) FROM hubs WHERE organisation_id = $1 AND id = $2) AS hubs, \
             (SELECT COUNT(*) FROM integrations i WHERE {filters}) AS total, \
             (SELECT COUNT(*) FROM activations a JOIN end_users u ON u.id = a.end_user_id \
             WHERE a.organisation_id = $1 AND a.hub_id = $2 AND {user_match}{activation_filters}) \
             AS connected"
        );
        // The page: each integration with the user's activation of it, if any.
        let from = format!(
            "integrations i LEFT JOIN end_users u ON {user_match} \
             LEFT JOIN activations a ON a.integration_id = i.id AND a.end_user_id = u.id \
             WHERE {filters}"
        );
        let cols = "i.id, i.organisation_id, i.hub_id, i.name, i.description, i.summary, \
            i.image_url, i.screenshot_url, i.variables_schema, i.board_id, i.is_deployed, \
            i.created_at, i.updated_at, a.id AS activation_id";
        let found = hub_page_and_counts(
            self.reads(),
            &counts,
            Listing {
                cols,
                from_where: &from,
                key: "i.id",
                args: &args,
                newest_first: false,
            },
            page,
            |row| {
                let activation: Option<String> = get(row, "activation_id")?;
                Ok(EndUserIntegration {
                    integration: integration(row)?,
                    is_activated: activation.is_some(),
                })
            },
            |e| e.integration.id.clone(),
        )
        .await?;
        match found {
            Some((p, counts)) => Ok(Some((p, get(&counts, "connected")?))),
            None => Ok(None),
        }
    }
}
