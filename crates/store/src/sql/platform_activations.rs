//! [`crate::PlatformActivationStore`]: v2 activations of environments.
use super::activations::{binding_rows, insert_bindings_tx};
use super::connections::insert_connections_tx;
use super::events::emit_tx;
use super::platform_connections::insert_link_tx;
use super::platform_projects::{platform_environment, platform_template};
use super::query::{bind_all, get, Arg, DbRow};
use super::{Backend, Db};
use crate::error::{db_err, unique_as, Constraint, Result, StoreError};
use crate::OrgId;
use crate::PlatformActivationStore;
use async_trait::async_trait;
use serde_json::{Map, Value};
use switchyard_domain::events::{activation_changed, activation_deleted, activation_v2, API_V2};
use switchyard_domain::model::NewConnection;
use switchyard_domain::platform::{
    PlatformActivation, PlatformEndUser, PlatformEnvironment, PlatformTemplate,
};
use switchyard_domain::time::Timestamp;

const ACTIVATION_SELECT: &str = "SELECT a.id, a.organisation_id, a.environment_id, \
    a.dynamic_variables, a.created_at, a.updated_at, u.id AS u_id, u.external_id AS u_external_id, \
    u.display_name AS u_display_name, u.created_at AS u_created_at, u.updated_at AS u_updated_at, \
    CASE WHEN u.static_environment_id IS NULL THEN 0 ELSE 1 END AS is_static \
    FROM platform_activations a JOIN platform_end_users u ON u.id = a.end_user_id";

fn activation_row(row: &DbRow) -> Result<PlatformActivation> {
    let vars: String = get(row, "dynamic_variables")?;
    let org: String = get(row, "organisation_id")?;
    let is_static: i32 = get(row, "is_static")?;
    Ok(PlatformActivation {
        id: get(row, "id")?,
        environment_id: get(row, "environment_id")?,
        end_user: PlatformEndUser {
            id: get(row, "u_id")?,
            organisation_id: org.clone(),
            external_id: get(row, "u_external_id")?,
            display_name: get(row, "u_display_name")?,
            created_at: get(row, "u_created_at")?,
            updated_at: get(row, "u_updated_at")?,
        },
        organisation_id: org,
        is_static: is_static != 0,
        dynamic_variables: serde_json::from_str(&vars).map_err(|_| {
            StoreError::unreadable("stored dynamic variables are not a JSON object")
        })?,
        bindings: Vec::new(),
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

async fn load_platform_bindings<'e, E>(
    exec: E,
    activations: &mut [PlatformActivation],
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let ids: Vec<&str> = activations.iter().map(|a| a.id.as_str()).collect();
    for (aid, b) in binding_rows(exec, "platform_activation_connections", &ids).await? {
        if let Some(a) = activations.iter_mut().find(|a| a.id == aid) {
            a.bindings.push(b);
        }
    }
    Ok(())
}

async fn activations_where(
    pool: &sqlx::Pool<Db>,
    where_sql: &str,
    args: &[Arg],
) -> Result<Vec<PlatformActivation>> {
    let sql = format!("{ACTIVATION_SELECT} WHERE {where_sql} ORDER BY a.id");
    let rows = bind_all(sqlx::query(&sql), args)
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
    let mut out = rows
        .iter()
        .map(activation_row)
        .collect::<Result<Vec<_>>>()?;
    load_platform_bindings(pool, &mut out).await?;
    Ok(out)
}

fn vars_text(v: &Map<String, Value>) -> String {
    serde_json::to_string(v).expect("JSON maps serialise")
}

#[async_trait]
impl PlatformActivationStore for Backend {
    async fn find_platform_environment(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<PlatformEnvironment>> {
        let row = sqlx::query(
            "SELECT * FROM platform_environments WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_optional(self.reads())
        .await
        .map_err(db_err)?;
        row.as_ref().map(platform_environment).transpose()
    }

    async fn find_platform_template(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<PlatformTemplate>> {
        let row = sqlx::query(
            "SELECT * FROM platform_connection_templates WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(id)
        .fetch_optional(self.reads())
        .await
        .map_err(db_err)?;
        row.as_ref().map(platform_template).transpose()
    }

    async fn insert_platform_activation(
        &self,
        org: &OrgId,
        a: &PlatformActivation,
        new_connections: &[(NewConnection, String)],
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_connections_tx(
            &mut tx,
            org,
            &new_connections.iter().map(|(nc, _)| nc).collect::<Vec<_>>(),
        )
        .await?;
        for (nc, template_id) in new_connections {
            insert_link_tx(&mut tx, org, &nc.connection.id, template_id, a.created_at).await?;
        }
        sqlx::query(
            "INSERT INTO platform_activations (id, organisation_id, environment_id, end_user_id, \
             dynamic_variables, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&a.id)
        .bind(org)
        .bind(&a.environment_id)
        .bind(&a.end_user.id)
        .bind(vars_text(&a.dynamic_variables))
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(unique_as(|| Constraint::EnvironmentActivated {
            external_id: a.end_user.external_id.clone(),
        }))?;
        insert_bindings_tx(
            &mut tx,
            "platform_activation_connections",
            &a.id,
            &a.bindings,
        )
        .await?;
        emit_tx(&mut tx, org, &[activation_v2("activation.created", a)]).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_platform_activation(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<PlatformActivation>> {
        Ok(activations_where(
            self.reads(),
            "a.organisation_id = $1 AND a.id = $2",
            &[Arg::S(org.to_string()), Arg::S(id.to_owned())],
        )
        .await?
        .pop())
    }

    async fn list_platform_activations(
        &self,
        org: &OrgId,
        environment_id: &str,
        is_static: bool,
    ) -> Result<Vec<PlatformActivation>> {
        let filter = if is_static {
            "u.static_environment_id IS NOT NULL"
        } else {
            "u.static_environment_id IS NULL"
        };
        activations_where(
            self.reads(),
            &format!("a.organisation_id = $1 AND a.environment_id = $2 AND {filter}"),
            &[Arg::S(org.to_string()), Arg::S(environment_id.to_owned())],
        )
        .await
    }

    async fn list_user_platform_activations(
        &self,
        org: &OrgId,
        end_user_id: &str,
        environment_id: Option<&str>,
    ) -> Result<Vec<PlatformActivation>> {
        let mut args = vec![Arg::S(org.to_string()), Arg::S(end_user_id.to_owned())];
        let mut w = String::from("a.organisation_id = $1 AND a.end_user_id = $2");
        if let Some(e) = environment_id {
            args.push(Arg::S(e.to_owned()));
            w.push_str(" AND a.environment_id = $3");
        }
        activations_where(self.reads(), &w, &args).await
    }

    async fn delete_platform_activation(&self, org: &OrgId, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let r =
            sqlx::query("DELETE FROM platform_activations WHERE organisation_id = $1 AND id = $2")
                .bind(org)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        if r.rows_affected() > 0 {
            emit_tx(&mut tx, org, &[activation_deleted(API_V2, id)]).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn swap_platform_activation_variables(
        &self,
        org: &OrgId,
        id: &str,
        expected: &Map<String, Value>,
        variables: &Map<String, Value>,
        at: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let r = sqlx::query(
            "UPDATE platform_activations SET dynamic_variables = $3, updated_at = $4 \
             WHERE organisation_id = $1 AND id = $2 AND dynamic_variables = $5",
        )
        .bind(org)
        .bind(id)
        .bind(vars_text(variables))
        .bind(at)
        .bind(vars_text(expected))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() > 0 {
            emit_tx(&mut tx, org, &[activation_changed(API_V2, id, "variables")]).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn static_platform_activation(
        &self,
        org: &OrgId,
        env: &PlatformEnvironment,
        at: Timestamp,
    ) -> Result<PlatformActivation> {
        let w = "a.organisation_id = $1 AND a.environment_id = $2 AND u.static_environment_id = $2";
        let args = [Arg::S(org.to_string()), Arg::S(env.id.clone())];
        if let Some(a) = activations_where(self.reads(), w, &args).await?.pop() {
            return Ok(a);
        }
        let mut tx = self.begin_write().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO platform_end_users (id, organisation_id, external_id, display_name, \
             created_at, updated_at, static_environment_id) VALUES ($1, $2, $3, $4, $5, $5, $6) \
             ON CONFLICT (organisation_id, external_id) DO NOTHING",
        )
        .bind(switchyard_domain::new_id())
        .bind(org)
        .bind(format!("static:{}", env.id))
        .bind(format!("Static user of {}", env.name))
        .bind(at)
        .bind(&env.id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let user: String = get(
            &sqlx::query(
                "SELECT id FROM platform_end_users WHERE organisation_id = $1 \
                 AND static_environment_id = $2",
            )
            .bind(org)
            .bind(&env.id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?,
            "id",
        )?;
        sqlx::query(
            "INSERT INTO platform_activations (id, organisation_id, environment_id, end_user_id, \
             dynamic_variables, created_at, updated_at) VALUES ($1, $2, $3, $4, '{}', $5, $5) \
             ON CONFLICT (environment_id, end_user_id) DO NOTHING",
        )
        .bind(switchyard_domain::new_id())
        .bind(org)
        .bind(&env.id)
        .bind(&user)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        activations_where(self.reads(), w, &args)
            .await?
            .pop()
            .ok_or_else(|| StoreError::Other("the static activation vanished".into()))
    }
}
