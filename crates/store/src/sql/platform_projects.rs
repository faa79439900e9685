//! [`crate::PlatformProjectStore`]: v2 projects, environments and connection templates.
use super::query::{bind_all, get, Arg, DbRow};
use super::{Backend, Db};
use crate::error::{db_err, unique_as, Constraint, Result, StoreError};
use crate::OrgId;
use crate::PlatformProjectStore;
use async_trait::async_trait;
use std::collections::BTreeMap;
use switchyard_domain::platform::{PlatformEnvironment, PlatformProject, PlatformTemplate};
use switchyard_domain::time::Timestamp;

const PROJECT_COLS: &str =
    "id, organisation_id, name, execution_pool, variables_schema, settings, metadata, created_at, \
     updated_at";

const ENVIRONMENT_COLS: &str =
    "id, organisation_id, project_id, name, status, execution_pool, created_at, updated_at";

const TEMPLATE_COLS: &str =
    "id, organisation_id, project_id, environment_id, system_id, name, dynamic, created_at";

fn platform_project(row: &DbRow) -> Result<PlatformProject> {
    Ok(PlatformProject {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        name: get(row, "name")?,
        execution_pool: get(row, "execution_pool")?,
        variables_schema: get(row, "variables_schema")?,
        settings: get(row, "settings")?,
        metadata: get(row, "metadata")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn platform_environment(row: &DbRow) -> Result<PlatformEnvironment> {
    Ok(PlatformEnvironment {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        project_id: get(row, "project_id")?,
        name: get(row, "name")?,
        status: get(row, "status")?,
        execution_pool: get(row, "execution_pool")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn platform_template(row: &DbRow) -> Result<PlatformTemplate> {
    Ok(PlatformTemplate {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        project_id: get(row, "project_id")?,
        environment_id: get(row, "environment_id")?,
        system_id: get(row, "system_id")?,
        name: get(row, "name")?,
        dynamic: get(row, "dynamic")?,
        created_at: get(row, "created_at")?,
    })
}

async fn insert_environment_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    e: &PlatformEnvironment,
) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO platform_environments ({ENVIRONMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, \
         $7, $8)"
    ))
    .bind(&e.id)
    .bind(org)
    .bind(&e.project_id)
    .bind(&e.name)
    .bind(&e.status)
    .bind(&e.execution_pool)
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(&mut **tx)
    .await
    .map_err(unique_as(|| Constraint::EnvironmentName {
        name: e.name.clone(),
    }))?;
    Ok(())
}

/// A duplicate template name in the environment: the one unique rule a template write can break.
fn template_name_conflict(name: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    unique_as(move || Constraint::PlatformTemplateName {
        name: name.to_owned(),
    })
}

async fn insert_template_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    t: &PlatformTemplate,
    scheme_ids: Option<&[String]>,
) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO platform_connection_templates ({TEMPLATE_COLS}, auth_scheme_config_ids) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&t.id)
    .bind(org)
    .bind(&t.project_id)
    .bind(&t.environment_id)
    .bind(&t.system_id)
    .bind(&t.name)
    .bind(t.dynamic)
    .bind(t.created_at)
    .bind(scheme_ids.map(|ids| serde_json::to_string(ids).expect("strings serialise")))
    .execute(&mut **tx)
    .await
    .map_err(template_name_conflict(&t.name))?;
    Ok(())
}

/// Takes the project's row lock (PostgreSQL) or the database's write lock (SQLite), so
/// that checks of its environments and the writes after them are not interleaved.
async fn lock_project_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    project_id: &str,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE platform_projects SET updated_at = updated_at WHERE organisation_id = $1 \
         AND id = $2",
    )
    .bind(org)
    .bind(project_id)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(r.rows_affected() > 0)
}

#[async_trait]
impl PlatformProjectStore for Backend {
    async fn insert_platform_project(
        &self,
        org: &OrgId,
        p: &PlatformProject,
        e: &PlatformEnvironment,
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO platform_projects ({PROJECT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
             $8, $9)"
        ))
        .bind(&p.id)
        .bind(org)
        .bind(&p.name)
        .bind(&p.execution_pool)
        .bind(&p.variables_schema)
        .bind(&p.settings)
        .bind(&p.metadata)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_environment_tx(&mut tx, org, e).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_platform_project(&self, org: &OrgId, id: &str) -> Result<Option<PlatformProject>> {
        let sql = format!(
            "SELECT {PROJECT_COLS} FROM platform_projects WHERE organisation_id = $1 AND id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(org)
            .bind(id)
            .fetch_optional(self.reads())
            .await
            .map_err(db_err)?;
        row.as_ref().map(platform_project).transpose()
    }

    async fn swap_platform_project(
        &self,
        org: &OrgId,
        p: &PlatformProject,
        expected: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE platform_projects SET name = $3, settings = $4, metadata = $5, \
             variables_schema = $6, updated_at = $7 WHERE organisation_id = $1 AND id = $2 \
             AND updated_at = $8",
        )
        .bind(org)
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.settings)
        .bind(&p.metadata)
        .bind(&p.variables_schema)
        .bind(p.updated_at)
        .bind(expected)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_platform_projects(&self, org: &OrgId) -> Result<Vec<PlatformProject>> {
        let sql = format!(
            "SELECT {PROJECT_COLS} FROM platform_projects WHERE organisation_id = $1 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .fetch_all(self.reads())
            .await
            .map_err(db_err)?;
        rows.iter().map(platform_project).collect()
    }

    async fn list_platform_environments(
        &self,
        org: &OrgId,
        project_id: &str,
    ) -> Result<Vec<PlatformEnvironment>> {
        let sql = format!(
            "SELECT {ENVIRONMENT_COLS} FROM platform_environments WHERE organisation_id = $1 \
             AND project_id = $2 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(project_id)
            .fetch_all(self.reads())
            .await
            .map_err(db_err)?;
        rows.iter().map(platform_environment).collect()
    }

    async fn platform_deploy_times(
        &self,
        org: &OrgId,
        project_id: &str,
    ) -> Result<BTreeMap<String, Timestamp>> {
        let rows = sqlx::query(
            "SELECT id, last_deployed_at FROM platform_environments WHERE organisation_id = $1 \
             AND project_id = $2 AND last_deployed_at IS NOT NULL",
        )
        .bind(org)
        .bind(project_id)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((get(r, "id")?, get(r, "last_deployed_at")?)))
            .collect()
    }

    async fn insert_platform_environment(
        &self,
        org: &OrgId,
        e: &PlatformEnvironment,
        templates: &[(PlatformTemplate, Option<Vec<String>>)],
        max: usize,
    ) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        if !lock_project_tx(&mut tx, org, &e.project_id).await? {
            return Err(StoreError::NotFound { what: "project" });
        }
        let n: i64 = get(
            &sqlx::query(
                "SELECT COUNT(*) AS n FROM platform_environments WHERE organisation_id = $1 \
                 AND project_id = $2",
            )
            .bind(org)
            .bind(&e.project_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?,
            "n",
        )?;
        if n >= max as i64 {
            return Err(StoreError::conflict(Constraint::EnvironmentLimit {
                max,
                count: n,
            }));
        }
        insert_environment_tx(&mut tx, org, e).await?;
        for (t, ids) in templates {
            insert_template_tx(&mut tx, org, t, ids.as_deref()).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn delete_platform_environment(
        &self,
        org: &OrgId,
        project_id: &str,
        id: &str,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        if !lock_project_tx(&mut tx, org, project_id).await? {
            return Ok(false);
        }
        let rows = sqlx::query(
            "SELECT id FROM platform_environments WHERE organisation_id = $1 AND project_id = $2",
        )
        .bind(org)
        .bind(project_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let ids: Vec<String> = rows.iter().map(|r| get(r, "id")).collect::<Result<_>>()?;
        if !ids.iter().any(|e| e == id) {
            return Ok(false);
        }
        if ids.len() == 1 {
            return Err(StoreError::conflict(Constraint::LastEnvironment));
        }
        // Templates (with their links and bindings), activations and the static user
        // go by cascade.
        sqlx::query("DELETE FROM platform_environments WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn deploy_platform_environment(
        &self,
        org: &OrgId,
        id: &str,
        at: Timestamp,
    ) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT t.name FROM platform_connection_templates t WHERE t.organisation_id = $1 \
             AND t.environment_id = $2 AND NOT t.dynamic AND NOT EXISTS ( SELECT 1 \
             FROM platform_connection_links l JOIN connections c ON c.id = l.connection_id \
             WHERE l.template_id = t.id AND c.platform_end_user_id IS NULL) ORDER BY t.id",
        )
        .bind(org)
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let missing: Vec<String> = rows.iter().map(|r| get(r, "name")).collect::<Result<_>>()?;
        if !missing.is_empty() {
            return Ok(missing);
        }
        sqlx::query(
            "UPDATE platform_environments SET status = 'running', last_deployed_at = $3, \
             updated_at = $3 WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Vec::new())
    }

    async fn set_platform_environment_status(
        &self,
        org: &OrgId,
        id: &str,
        status: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE platform_environments SET status = $3, updated_at = $4 \
             WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(id)
        .bind(status)
        .bind(at)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_platform_project(&self, org: &OrgId, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        for table in ["platform_connection_templates", "platform_environments"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE organisation_id = $1 AND project_id = $2"
            ))
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let r = sqlx::query("DELETE FROM platform_projects WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn insert_platform_template(&self, org: &OrgId, t: &PlatformTemplate) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_template_tx(&mut tx, org, t, None).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn list_platform_templates(
        &self,
        org: &OrgId,
        project_id: &str,
        environment_id: Option<&str>,
    ) -> Result<Vec<PlatformTemplate>> {
        let mut sql = format!(
            "SELECT {TEMPLATE_COLS} FROM platform_connection_templates WHERE organisation_id = $1 \
             AND project_id = $2"
        );
        if environment_id.is_some() {
            sql.push_str(" AND environment_id = $3");
        }
        sql.push_str(" ORDER BY id");
        let mut q = sqlx::query(&sql).bind(org).bind(project_id);
        if let Some(e) = environment_id {
            q = q.bind(e);
        }
        let rows = q.fetch_all(self.reads()).await.map_err(db_err)?;
        rows.iter().map(platform_template).collect()
    }

    async fn platform_template_schemes(
        &self,
        org: &OrgId,
        project_id: Option<&str>,
        system_id: Option<&str>,
    ) -> Result<Vec<(String, String, Vec<String>)>> {
        let mut sql = String::from(
            "SELECT id, name, auth_scheme_config_ids FROM platform_connection_templates \
             WHERE organisation_id = $1 AND auth_scheme_config_ids IS NOT NULL",
        );
        let mut args = vec![Arg::S(org.to_string())];
        for (col, v) in [("project_id", project_id), ("system_id", system_id)] {
            if let Some(v) = v {
                sql.push_str(&format!(" AND {col} = ${}", args.len() + 1));
                args.push(Arg::S(v.to_owned()));
            }
        }
        sql.push_str(" ORDER BY id");
        let rows = bind_all(sqlx::query(&sql), &args)
            .fetch_all(self.reads())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let ids: String = get(r, "auth_scheme_config_ids")?;
                let ids = serde_json::from_str(&ids).map_err(|_| {
                    StoreError::unreadable("stored auth scheme config ids are not a JSON list")
                })?;
                Ok((get(r, "id")?, get(r, "name")?, ids))
            })
            .collect()
    }

    async fn update_platform_template(
        &self,
        org: &OrgId,
        t: &PlatformTemplate,
        scheme_ids: Option<&[String]>,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE platform_connection_templates SET name = $3, dynamic = $4, \
             auth_scheme_config_ids = $5 WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.dynamic)
        .bind(scheme_ids.map(|ids| serde_json::to_string(ids).expect("strings serialise")))
        .execute(self.writes())
        .await
        .map_err(template_name_conflict(&t.name))?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_platform_template(
        &self,
        org: &OrgId,
        project_id: &str,
        id: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "DELETE FROM platform_connection_templates WHERE organisation_id = $1 \
             AND project_id = $2 AND id = $3",
        )
        .bind(org)
        .bind(project_id)
        .bind(id)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() > 0)
    }
}
