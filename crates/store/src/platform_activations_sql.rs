//! The SQL of [`crate::platform_activations::PlatformActivationStore`], shared by both backends
//! like `platform_sql_store!`, and expanded in the same module as `sql_store!` (whose helpers it
//! uses: `insert_connection(s)_tx`, `insert_credentials_tx`, `insert_bindings_tx`, `delete_connections_tx`,
//! `load_credentials`, `fetch_page`...).

macro_rules! platform_activations_sql_store {
    ($store:ident) => {
        mod platform_activations_impl {
            use super::*;
            use crate::platform_activations::{ConnectionFilter, PlatformActivationStore};
            use switchyard_domain::platform::{ConnectionDeletion, PlatformActivation, PlatformEndUser, PlatformEnvironment, PlatformTemplate};

            const ACTIVATION_SELECT: &str = "SELECT a.id, a.organisation_id, a.environment_id, a.dynamic_variables, a.created_at, a.updated_at, \
                 u.id AS u_id, u.external_id AS u_external_id, u.display_name AS u_display_name, u.created_at AS u_created_at, u.updated_at AS u_updated_at, \
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
                    dynamic_variables: serde_json::from_str(&vars).map_err(|_| Error::internal("stored dynamic variables are not a JSON object"))?,
                    bindings: Vec::new(),
                    created_at: get(row, "created_at")?,
                    updated_at: get(row, "updated_at")?,
                })
            }

            async fn load_platform_bindings<'e, E>(exec: E, activations: &mut [PlatformActivation]) -> Result<()>
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

            async fn activations_where(pool: &sqlx::Pool<Db>, where_sql: &str, args: &[Arg]) -> Result<Vec<PlatformActivation>> {
                let sql = format!("{ACTIVATION_SELECT} WHERE {where_sql} ORDER BY a.id");
                let rows = bind_all(sqlx::query(&sql), args).fetch_all(pool).await.map_err(db_err)?;
                let mut out = rows.iter().map(activation_row).collect::<Result<Vec<_>>>()?;
                load_platform_bindings(pool, &mut out).await?;
                Ok(out)
            }

            async fn insert_link_tx(tx: &mut sqlx::Transaction<'_, Db>, org: &str, connection_id: &str, template_id: &str, at: Timestamp) -> Result<bool> {
                let r = sqlx::query(
                    "INSERT INTO platform_connection_links (connection_id, template_id, organisation_id, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (connection_id, template_id) DO NOTHING",
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

            fn vars_text(v: &Map<String, Value>) -> String {
                serde_json::to_string(v).expect("JSON maps serialise")
            }

            #[async_trait]
            impl PlatformActivationStore for $store {
                async fn find_platform_environment(&self, org: &str, id: &str) -> Result<Option<PlatformEnvironment>> {
                    let row = sqlx::query("SELECT * FROM platform_environments WHERE organisation_id = $1 AND id = $2")
                        .bind(org)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_err)?;
                    row.as_ref().map(super::platform_impl::platform_environment).transpose()
                }

                async fn find_platform_template(&self, org: &str, id: &str) -> Result<Option<PlatformTemplate>> {
                    let row = sqlx::query("SELECT * FROM platform_connection_templates WHERE organisation_id = $1 AND id = $2")
                        .bind(org)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(db_err)?;
                    row.as_ref().map(super::platform_impl::platform_template).transpose()
                }

                async fn insert_platform_connection(&self, org: &str, nc: &NewConnection, template_ids: &[String]) -> Result<()> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    insert_connection_tx(&mut tx, org, nc).await?;
                    for t in template_ids {
                        insert_link_tx(&mut tx, org, &nc.connection.id, t, nc.connection.created_at).await?;
                    }
                    tx.commit().await.map_err(db_err)
                }

                async fn list_platform_connections(&self, org: &str, f: &ConnectionFilter, page: &PageRequest) -> Result<Page<Connection>> {
                    let mut args = vec![Arg::S(org.to_owned())];
                    let mut from = String::from("connections WHERE organisation_id = $1 AND end_user_id IS NULL");
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
                            " AND platform_end_user_id IS NULL AND id IN (SELECT l.connection_id FROM platform_connection_links l \
                             JOIN platform_connection_templates t ON t.id = l.template_id WHERE t.organisation_id = $1 AND t.project_id = ${}",
                            args.len()
                        );
                        if let Some(e) = &f.environment_id {
                            args.push(Arg::S(e.clone()));
                            sub.push_str(&format!(" AND t.environment_id = ${}", args.len()));
                        }
                        sub.push(')');
                        from.push_str(&sub);
                    }
                    let listing = Listing { cols: CONNECTION_COLS, from_where: &from, key: "id", args: &args, newest_first: false };
                    let mut p = fetch_page(&self.pool, listing, page, connection_row, |c| c.id.clone()).await?;
                    load_credentials(&self.pool, org, &mut p.items).await?;
                    Ok(p)
                }

                async fn platform_connection_links(&self, org: &str, connection_ids: &[String]) -> Result<Vec<(String, String)>> {
                    if connection_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let sql = format!(
                        "SELECT connection_id, template_id FROM platform_connection_links WHERE organisation_id = $1 AND connection_id IN ({}) ORDER BY created_at, template_id",
                        placeholders(2, connection_ids.len())
                    );
                    let mut q = sqlx::query(&sql).bind(org.to_owned());
                    for id in connection_ids {
                        q = q.bind(id.clone());
                    }
                    q.fetch_all(&self.pool).await.map_err(db_err)?.iter().map(|r| Ok((get(r, "connection_id")?, get(r, "template_id")?))).collect()
                }

                async fn static_connections(&self, org: &str, template_ids: &[String]) -> Result<Vec<(String, String)>> {
                    if template_ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let sql = format!(
                        "SELECT l.template_id, l.connection_id FROM platform_connection_links l JOIN connections c ON c.id = l.connection_id \
                         WHERE l.organisation_id = $1 AND c.platform_end_user_id IS NULL AND c.end_user_id IS NULL AND l.template_id IN ({}) \
                         ORDER BY l.created_at, l.connection_id",
                        placeholders(2, template_ids.len())
                    );
                    let mut q = sqlx::query(&sql).bind(org.to_owned());
                    for id in template_ids {
                        q = q.bind(id.clone());
                    }
                    let mut out: Vec<(String, String)> = Vec::new();
                    for r in q.fetch_all(&self.pool).await.map_err(db_err)? {
                        let t: String = get(&r, "template_id")?;
                        if !out.iter().any(|(x, _)| *x == t) {
                            out.push((t, get(&r, "connection_id")?));
                        }
                    }
                    Ok(out)
                }

                async fn replace_platform_connection(&self, org: &str, c: &Connection, new_credentials: &[NewCredential]) -> Result<bool> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    let r = sqlx::query("UPDATE connections SET name = $3, base_url = $4, updated_at = $5 WHERE organisation_id = $1 AND id = $2")
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
                    let old: Vec<String> = sqlx::query("SELECT credential_id FROM connection_credentials WHERE connection_id = $1")
                        .bind(&c.id)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db_err)?
                        .iter()
                        .map(|r| get(r, "credential_id"))
                        .collect::<Result<_>>()?;
                    sqlx::query("DELETE FROM connection_credentials WHERE connection_id = $1").bind(&c.id).execute(&mut *tx).await.map_err(db_err)?;
                    insert_credentials_tx(&mut tx, org, new_credentials).await?;
                    for (i, cc) in c.credentials.iter().enumerate() {
                        sqlx::query("INSERT INTO connection_credentials (id, connection_id, role, position, auth_scheme_config, credential_id) VALUES ($1, $2, $3, $4, $5, $6)")
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
                        sqlx::query("DELETE FROM credentials WHERE organisation_id = $1 AND id = $2 AND NOT EXISTS (SELECT 1 FROM connection_credentials WHERE credential_id = $2)")
                            .bind(org)
                            .bind(&cid)
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                    }
                    tx.commit().await.map_err(db_err)?;
                    Ok(true)
                }

                async fn delete_platform_connection(&self, org: &str, id: &str) -> Result<ConnectionDeletion> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    let row = sqlx::query("SELECT platform_end_user_id FROM connections WHERE organisation_id = $1 AND id = $2 AND end_user_id IS NULL")
                        .bind(org)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    let Some(row) = row else { return Ok(ConnectionDeletion::NotFound) };
                    let owner: Option<String> = get(&row, "platform_end_user_id")?;
                    if owner.is_some() {
                        let users: Vec<String> = sqlx::query("SELECT DISTINCT activation_id FROM platform_activation_connections WHERE connection_id = $1 ORDER BY activation_id")
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
                    sqlx::query("DELETE FROM platform_activation_connections WHERE connection_id = $1").bind(id).execute(&mut *tx).await.map_err(db_err)?;
                    delete_connections_tx(&mut tx, org, &[id.to_owned()]).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(ConnectionDeletion::Deleted)
                }

                async fn link_platform_connection(&self, org: &str, connection_id: &str, template_id: &str, at: Timestamp) -> Result<bool> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    let created = insert_link_tx(&mut tx, org, connection_id, template_id, at).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(created)
                }

                async fn unlink_platform_connection(&self, org: &str, connection_id: &str, template_id: &str) -> Result<bool> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    let r = sqlx::query("DELETE FROM platform_connection_links WHERE organisation_id = $1 AND connection_id = $2 AND template_id = $3")
                        .bind(org)
                        .bind(connection_id)
                        .bind(template_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    sqlx::query("DELETE FROM platform_activation_connections WHERE connection_id = $1 AND template_id = $2")
                        .bind(connection_id)
                        .bind(template_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn insert_platform_activation(&self, org: &str, a: &PlatformActivation, new_connections: &[(NewConnection, String)]) -> Result<()> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    insert_connections_tx(&mut tx, org, &new_connections.iter().map(|(nc, _)| nc).collect::<Vec<_>>()).await?;
                    for (nc, template_id) in new_connections {
                        insert_link_tx(&mut tx, org, &nc.connection.id, template_id, a.created_at).await?;
                    }
                    sqlx::query(
                        "INSERT INTO platform_activations (id, organisation_id, environment_id, end_user_id, dynamic_variables, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
                    .map_err(|e| match db_err(e) {
                        err if err.kind == switchyard_domain::ErrorKind::Conflict => {
                            Error::conflict(format!("end user {:?} is already activated in this environment", a.end_user.external_id))
                        }
                        err => err,
                    })?;
                    insert_bindings_tx(&mut tx, "platform_activation_connections", &a.id, &a.bindings).await?;
                    tx.commit().await.map_err(db_err)
                }

                async fn get_platform_activation(&self, org: &str, id: &str) -> Result<Option<PlatformActivation>> {
                    Ok(activations_where(&self.pool, "a.organisation_id = $1 AND a.id = $2", &[Arg::S(org.to_owned()), Arg::S(id.to_owned())]).await?.pop())
                }

                async fn list_platform_activations(&self, org: &str, environment_id: &str, is_static: bool) -> Result<Vec<PlatformActivation>> {
                    let filter = if is_static { "u.static_environment_id IS NOT NULL" } else { "u.static_environment_id IS NULL" };
                    activations_where(&self.pool, &format!("a.organisation_id = $1 AND a.environment_id = $2 AND {filter}"), &[Arg::S(org.to_owned()), Arg::S(environment_id.to_owned())])
                        .await
                }

                async fn list_user_platform_activations(&self, org: &str, end_user_id: &str, environment_id: Option<&str>) -> Result<Vec<PlatformActivation>> {
                    let mut args = vec![Arg::S(org.to_owned()), Arg::S(end_user_id.to_owned())];
                    let mut w = String::from("a.organisation_id = $1 AND a.end_user_id = $2");
                    if let Some(e) = environment_id {
                        args.push(Arg::S(e.to_owned()));
                        w.push_str(" AND a.environment_id = $3");
                    }
                    activations_where(&self.pool, &w, &args).await
                }

                async fn delete_platform_activation(&self, org: &str, id: &str) -> Result<bool> {
                    let r = sqlx::query("DELETE FROM platform_activations WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).execute(&self.pool).await.map_err(db_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn swap_platform_activation_variables(&self, org: &str, id: &str, expected: &Map<String, Value>, variables: &Map<String, Value>, at: Timestamp) -> Result<bool> {
                    let r = sqlx::query("UPDATE platform_activations SET dynamic_variables = $3, updated_at = $4 WHERE organisation_id = $1 AND id = $2 AND dynamic_variables = $5")
                        .bind(org)
                        .bind(id)
                        .bind(vars_text(variables))
                        .bind(at)
                        .bind(vars_text(expected))
                        .execute(&self.pool)
                        .await
                        .map_err(db_err)?;
                    Ok(r.rows_affected() > 0)
                }

                async fn static_platform_activation(&self, org: &str, env: &PlatformEnvironment, at: Timestamp) -> Result<PlatformActivation> {
                    let w = "a.organisation_id = $1 AND a.environment_id = $2 AND u.static_environment_id = $2";
                    let args = [Arg::S(org.to_owned()), Arg::S(env.id.clone())];
                    if let Some(a) = activations_where(&self.pool, w, &args).await?.pop() {
                        return Ok(a);
                    }
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    sqlx::query(
                        "INSERT INTO platform_end_users (id, organisation_id, external_id, display_name, created_at, updated_at, static_environment_id) \
                         VALUES ($1, $2, $3, $4, $5, $5, $6) ON CONFLICT (organisation_id, external_id) DO NOTHING",
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
                        &sqlx::query("SELECT id FROM platform_end_users WHERE organisation_id = $1 AND static_environment_id = $2")
                            .bind(org)
                            .bind(&env.id)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(db_err)?,
                        "id",
                    )?;
                    sqlx::query(
                        "INSERT INTO platform_activations (id, organisation_id, environment_id, end_user_id, dynamic_variables, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, '{}', $5, $5) ON CONFLICT (environment_id, end_user_id) DO NOTHING",
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
                    activations_where(&self.pool, w, &args).await?.pop().ok_or_else(|| Error::internal("the static activation vanished"))
                }

                async fn platform_connection_bindings(&self, org: &str, connection_id: &str) -> Result<Vec<String>> {
                    sqlx::query(
                        "SELECT DISTINCT b.activation_id FROM platform_activation_connections b JOIN platform_activations a ON a.id = b.activation_id \
                         WHERE a.organisation_id = $1 AND b.connection_id = $2 ORDER BY b.activation_id",
                    )
                    .bind(org)
                    .bind(connection_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?
                    .iter()
                    .map(|r| get(r, "activation_id"))
                    .collect()
                }
            }
        }
    };
}
