//! [`crate::ActivationStore`]: v1 activations, and the bindings tables v1 and v2 share a shape of.
use super::connections::{insert_connection_tx, insert_connections_tx};
use super::events::emit_tx;
use super::hubs::{end_user_at, insert_end_user_tx, END_USER_COLS};
use super::integrations::{integration, INTEGRATION_COLS};
use super::query::{fetch_page, get, hub_page_and_counts, json, Arg, DbRow, Listing};
use super::{Backend, Db};
use crate::error::{db_err, is_unique_violation, Constraint, Result, StoreError};
use crate::sql_text::{placeholders, qualified, value_rows};
use crate::ActivationStore;
use crate::OrgId;
use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::types::Json;
use switchyard_domain::events::{activation_changed, activation_deleted, activation_v1, API_V1};
use switchyard_domain::model::{Activation, EndUser, IdentifierType, Integration, NewConnection};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::time::Timestamp;

pub(super) const ACTIVATION_COLS: &str = "id, organisation_id, hub_id, integration_id, \
    end_user_id, dynamic_variables, created_at, updated_at";

/// An activation row, without its bindings.
pub(super) fn activation(row: &DbRow) -> Result<Activation> {
    activation_at(row, "")
}

/// An activation from columns named with `prefix` (`a_id`, ... in a join).
fn activation_at(row: &DbRow, prefix: &str) -> Result<Activation> {
    let c = |name: &str| format!("{prefix}{name}");
    Ok(Activation {
        id: get(row, &c("id"))?,
        organisation_id: get(row, &c("organisation_id"))?,
        hub_id: get(row, &c("hub_id"))?,
        integration_id: get(row, &c("integration_id"))?,
        end_user_id: get(row, &c("end_user_id"))?,
        dynamic_variables: json(row, &c("dynamic_variables"))?,
        bindings: Vec::new(),
        created_at: get(row, &c("created_at"))?,
        updated_at: get(row, &c("updated_at"))?,
    })
}

/// An activation's bindings (template, connection) into `table` (`activation_connections`
/// or `platform_activation_connections`), in one statement.
pub(super) async fn insert_bindings_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    table: &str,
    activation_id: &str,
    bindings: &[(String, String)],
) -> Result<()> {
    if bindings.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO {table} (activation_id, template_id, connection_id) VALUES {}",
        value_rows(bindings.len(), 3)
    );
    let mut q = sqlx::query(&sql);
    for (template_id, connection_id) in bindings {
        q = q.bind(activation_id).bind(template_id).bind(connection_id);
    }
    q.execute(&mut **tx).await.map_err(db_err)?;
    Ok(())
}

/// `(activation id, (template id, connection id))` rows of a bindings table (v1's
/// `activation_connections` or v2's `platform_activation_connections`).
pub(super) async fn binding_rows<'e, E>(
    exec: E,
    table: &str,
    activation_ids: &[&str],
) -> Result<Vec<(String, (String, String))>>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    if activation_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT activation_id, template_id, connection_id FROM {table} WHERE activation_id IN ({}) \
         ORDER BY activation_id, template_id",
        placeholders(1, activation_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in activation_ids {
        q = q.bind(id.to_string());
    }
    q.fetch_all(exec)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok((
                get(r, "activation_id")?,
                (get(r, "template_id")?, get(r, "connection_id")?),
            ))
        })
        .collect()
}

pub(super) async fn load_bindings<'e, E>(exec: E, activations: &mut [Activation]) -> Result<()>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let ids: Vec<&str> = activations.iter().map(|a| a.id.as_str()).collect();
    for (aid, b) in binding_rows(exec, "activation_connections", &ids).await? {
        if let Some(a) = activations.iter_mut().find(|a| a.id == aid) {
            a.bindings.push(b);
        }
    }
    Ok(())
}

#[async_trait]
impl ActivationStore for Backend {
    async fn rebind_activation(
        &self,
        org: &OrgId,
        id: &str,
        template_id: &str,
        connection_id: &str,
        new_connection: Option<&NewConnection>,
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let touched = sqlx::query(
            "UPDATE activations SET updated_at = $3 WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if touched.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(nc) = new_connection {
            insert_connection_tx(&mut tx, org, nc).await?;
        }
        sqlx::query(
            "DELETE FROM activation_connections WHERE activation_id = $1 AND template_id = $2",
        )
        .bind(id)
        .bind(template_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO activation_connections (activation_id, template_id, connection_id) \
             VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(template_id)
        .bind(connection_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        emit_tx(
            &mut tx,
            org,
            &[activation_changed(API_V1, id, "connections")],
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn insert_activation(
        &self,
        org: &OrgId,
        a: &Activation,
        new_user: Option<&EndUser>,
        new_connections: &[NewConnection],
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        if let Some(u) = new_user {
            insert_end_user_tx(&mut tx, org, u).await?;
        }
        let inserted = sqlx::query(&format!(
            "INSERT INTO activations ({ACTIVATION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&a.id)
        .bind(org)
        .bind(&a.hub_id)
        .bind(&a.integration_id)
        .bind(&a.end_user_id)
        .bind(Json(&a.dynamic_variables))
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            drop(tx);
            if is_unique_violation(&e) {
                if let Some(existing) = self
                    .find_activation(org, &a.end_user_id, &a.integration_id)
                    .await?
                {
                    return Err(StoreError::conflict(Constraint::IntegrationActivated {
                        activation_id: existing.id,
                    }));
                }
            }
            return Err(db_err(e));
        }
        insert_connections_tx(&mut tx, org, &new_connections.iter().collect::<Vec<_>>()).await?;
        insert_bindings_tx(&mut tx, "activation_connections", &a.id, &a.bindings).await?;
        emit_tx(&mut tx, org, &[activation_v1("activation.created", a)]).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_activation(&self, org: &OrgId, id: &str) -> Result<Option<Activation>> {
        let sql = format!(
            "SELECT {ACTIVATION_COLS} FROM activations WHERE organisation_id = $1 AND id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        let mut found = row
            .as_ref()
            .map(activation)
            .transpose()?
            .into_iter()
            .collect::<Vec<_>>();
        load_bindings(self.reads(), &mut found).await?;
        Ok(found.pop())
    }

    async fn get_activation_view(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<(Activation, Integration, EndUser)>> {
        let sql = format!(
            "SELECT {}, {}, {} FROM activations a \
             JOIN integrations i ON i.organisation_id = a.organisation_id AND i.id = a.integration_id \
             JOIN end_users u ON u.organisation_id = a.organisation_id AND u.id = a.end_user_id \
             WHERE a.organisation_id = $1 AND a.id = $2",
            qualified(ACTIVATION_COLS, "a", true),
            qualified(INTEGRATION_COLS, "i", false),
            qualified(END_USER_COLS, "u", true),
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.map(|row| {
            Ok((
                activation_at(&row, "a_")?,
                integration(&row)?,
                end_user_at(&row, "u_")?,
            ))
        })
        .transpose()
    }

    async fn find_activation(
        &self,
        org: &OrgId,
        end_user_id: &str,
        integration_id: &str,
    ) -> Result<Option<Activation>> {
        let sql = format!(
            "SELECT {ACTIVATION_COLS} FROM activations WHERE organisation_id = $1 \
             AND end_user_id = $2 AND integration_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(end_user_id)
            .bind(integration_id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        let mut found = row
            .as_ref()
            .map(activation)
            .transpose()?
            .into_iter()
            .collect::<Vec<_>>();
        load_bindings(self.reads(), &mut found).await?;
        Ok(found.pop())
    }

    async fn list_end_user_activations(
        &self,
        org: &OrgId,
        hub_id: &str,
        (user, kind): (&str, IdentifierType),
        integration_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Option<Page<(Activation, Integration)>>> {
        let user_col = match kind {
            IdentifierType::Internal => "id",
            IdentifierType::External => "external_id",
        };
        let mut args = vec![
            Arg::S(org.to_string()),
            Arg::S(hub_id.to_owned()),
            Arg::S(user.to_owned()),
        ];
        let mut from = format!(
            "activations a JOIN end_users u ON u.id = a.end_user_id AND u.organisation_id = $1 \
             AND u.hub_id = $2 AND u.{user_col} = $3 JOIN integrations i \
             ON i.organisation_id = a.organisation_id AND i.id = a.integration_id \
             WHERE a.organisation_id = $1"
        );
        if let Some(i) = integration_id {
            from.push_str(" AND a.integration_id = $4");
            args.push(Arg::S(i.to_owned()));
        }
        let counts = format!(
            "SELECT (SELECT COUNT(*) FROM hubs WHERE organisation_id = $1 AND id = $2) AS hubs, \
             (SELECT COUNT(*) FROM {from}) AS total"
        );
        let cols = format!(
            "{}, {}",
            qualified(ACTIVATION_COLS, "a", true),
            qualified(INTEGRATION_COLS, "i", false)
        );
        let found = hub_page_and_counts(
            self.reads(),
            &counts,
            Listing {
                cols: &cols,
                from_where: &from,
                key: "a.id",
                args: &args,
                newest_first: false,
            },
            page,
            |row| Ok((activation_at(row, "a_")?, integration(row)?)),
            |(a, _)| a.id.clone(),
        )
        .await?;
        Ok(found.map(|(p, _)| p))
    }

    async fn list_activations(
        &self,
        org: &OrgId,
        end_user_id: &str,
        integration_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Activation>> {
        let mut args = vec![Arg::S(org.to_string()), Arg::S(end_user_id.to_owned())];
        let mut from = String::from("activations WHERE organisation_id = $1 AND end_user_id = $2");
        if let Some(i) = integration_id {
            from.push_str(" AND integration_id = $3");
            args.push(Arg::S(i.to_owned()));
        }
        let mut p = fetch_page(
            self.reads(),
            Listing {
                cols: ACTIVATION_COLS,
                from_where: &from,
                key: "id",
                args: &args,
                newest_first: false,
            },
            page,
            activation,
            |a| a.id.clone(),
        )
        .await?;
        load_bindings(self.reads(), &mut p.items).await?;
        Ok(p)
    }

    async fn update_activation_variables(
        &self,
        org: &OrgId,
        id: &str,
        variables: &Map<String, Value>,
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let r = sqlx::query(
            "UPDATE activations SET dynamic_variables = $3, updated_at = $4 \
             WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(id)
        .bind(Json(variables))
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() > 0 {
            emit_tx(&mut tx, org, &[activation_changed(API_V1, id, "variables")]).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_activation(&self, org: &OrgId, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        sqlx::query(
            "DELETE FROM activation_connections WHERE activation_id IN (SELECT id FROM activations \
             WHERE organisation_id = $1 AND id = $2)",
        )
        .bind(org)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let r = sqlx::query("DELETE FROM activations WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if r.rows_affected() > 0 {
            emit_tx(&mut tx, org, &[activation_deleted(API_V1, id)]).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }
}
