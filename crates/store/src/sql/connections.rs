//! [`crate::ConnectionStore`]: connections with their credentials, and the statements that write
//! connections for the other aggregates (end users, activations, v2 connections).
use super::credentials::insert_credentials_at;
use super::events::emit_tx;
use super::query::{fetch_page, get, j, json, Arg, DbRow, Listing};
use super::{Backend, Db};
use crate::error::{db_err, unique_as, Constraint, Result, StoreError};
use crate::sql_text::{placeholders, qualified, value_rows};
use crate::ConnectionStore;
use crate::OrgId;
use async_trait::async_trait;
use sqlx::types::Json;
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::credential::{CredentialType, CredentialView};
use switchyard_domain::events::{connection_deleted, connection_event};
use switchyard_domain::model::{Connection, ConnectionCredential, CredentialRole, NewConnection};
use switchyard_domain::page::{Page, PageRequest};

/// A connection row, without its credentials.
pub(super) fn connection_row(row: &DbRow) -> Result<Connection> {
    Ok(Connection {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        connector_id: get(row, "connector_id")?,
        end_user_id: get(row, "end_user_id")?,
        platform_end_user_id: get(row, "platform_end_user_id")?,
        base_url: get(row, "base_url")?,
        name: get(row, "name")?,
        credentials: Vec::new(),
        variables: json(row, "variables")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) const CONNECTION_COLS: &str = "id, organisation_id, connector_id, end_user_id, \
    platform_end_user_id, base_url, name, variables, created_at, updated_at";

/// The columns of a connection's credential link and credential, as [`connection_credential`]
/// reads them (`cc` the link, `cr` the credential).
pub(super) const CONNECTION_CREDENTIAL_COLS: &str = "cc.id AS cc_id, \
    cc.connection_id AS cc_connection_id, cc.role AS cc_role, \
    cc.auth_scheme_config AS cc_auth_scheme_config, cr.id AS cr_id, \
    cr.organisation_id AS cr_organisation_id, cr.name AS cr_name, cr.type AS cr_type, \
    cr.public_data AS cr_public_data, cr.errors AS cr_errors, cr.expires_at AS cr_expires_at";

pub(super) fn connection_credential(
    row: &<Db as sqlx::Database>::Row,
) -> Result<ConnectionCredential> {
    let ty: String = get(row, "cr_type")?;
    let errors: Option<Json<Vec<String>>> = get(row, "cr_errors")?;
    Ok(ConnectionCredential {
        id: get(row, "cc_id")?,
        role: CredentialRole::parse(&get::<String>(row, "cc_role")?),
        auth_scheme_config: json::<AuthSchemeConfig>(row, "cc_auth_scheme_config")?,
        credential: CredentialView {
            id: get(row, "cr_id")?,
            organisation_id: get(row, "cr_organisation_id")?,
            credential_type: CredentialType::parse(&ty)
                .ok_or_else(|| StoreError::unreadable("stored credential type is unknown"))?,
            name: get(row, "cr_name")?,
            data: json(row, "cr_public_data")?,
            errors: errors.map(|Json(e)| e),
            expires_at: get(row, "cr_expires_at")?,
        },
    })
}

/// Fills in the credentials of `connections`, in their stored order.
pub(super) async fn load_credentials<'e, E>(
    exec: E,
    org: &str,
    connections: &mut [Connection],
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    if connections.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT {CONNECTION_CREDENTIAL_COLS} FROM connection_credentials cc JOIN credentials cr \
         ON cr.id = cc.credential_id WHERE cr.organisation_id = $1 AND cc.connection_id IN ({}) \
         ORDER BY cc.connection_id, cc.role, cc.position",
        placeholders(2, connections.len())
    );
    let mut q = sqlx::query(&sql).bind(org.to_owned());
    for c in connections.iter() {
        q = q.bind(c.id.clone());
    }
    for row in q.fetch_all(exec).await.map_err(db_err)? {
        let connection_id: String = get(&row, "cc_connection_id")?;
        let cred = connection_credential(&row)?;
        if let Some(c) = connections.iter_mut().find(|c| c.id == connection_id) {
            c.credentials.push(cred);
        }
    }
    Ok(())
}

pub(super) async fn insert_connection_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    nc: &NewConnection,
) -> Result<()> {
    insert_connections_tx(tx, org, &[nc]).await
}

/// Inserts connections with their credentials and credential links: one statement per
/// table, whatever the number of connections.
pub(super) async fn insert_connections_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    ncs: &[&NewConnection],
) -> Result<()> {
    if ncs.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO connections ({CONNECTION_COLS}) VALUES {}",
        value_rows(ncs.len(), 10)
    );
    let mut q = sqlx::query(&sql);
    for nc in ncs {
        let c = &nc.connection;
        q = q
            .bind(&c.id)
            .bind(org)
            .bind(&c.connector_id)
            .bind(&c.end_user_id)
            .bind(&c.platform_end_user_id)
            .bind(&c.base_url)
            .bind(&c.name)
            .bind(j(&c.variables))
            .bind(c.created_at)
            .bind(c.updated_at);
    }
    q.execute(&mut **tx)
        .await
        .map_err(unique_as(|| Constraint::ConnectionName {
            names: ncs.iter().map(|nc| nc.connection.name.clone()).collect(),
        }))?;
    let events: Vec<_> = ncs
        .iter()
        .map(|nc| connection_event("connection.created", &nc.connection))
        .collect();
    emit_tx(tx, org, &events).await?;
    let created_at = ncs[0].connection.created_at;
    insert_credentials_at(
        tx,
        org,
        &ncs.iter()
            .flat_map(|nc| nc.credentials.iter())
            .collect::<Vec<_>>(),
        created_at,
    )
    .await?;
    let links: Vec<(usize, &Connection, &ConnectionCredential)> = ncs
        .iter()
        .flat_map(|nc| {
            nc.connection
                .credentials
                .iter()
                .enumerate()
                .map(move |(p, cc)| (p, &nc.connection, cc))
        })
        .collect();
    if links.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO connection_credentials (id, connection_id, role, position, \
         auth_scheme_config, credential_id) VALUES {}",
        value_rows(links.len(), 6)
    );
    let mut q = sqlx::query(&sql);
    for (position, c, cc) in links {
        q = q
            .bind(&cc.id)
            .bind(&c.id)
            .bind(cc.role.as_str())
            .bind(position as i32)
            .bind(j(&cc.auth_scheme_config))
            .bind(&cc.credential.id);
    }
    q.execute(&mut **tx).await.map_err(db_err)?;
    Ok(())
}

/// Deletes connections and the credentials only they use.
pub(super) async fn delete_connections_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    ids: &[String],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let events: Vec<_> = ids.iter().map(|id| connection_deleted(id)).collect();
    emit_tx(tx, org, &events).await?;
    let ph = placeholders(2, ids.len());
    let mut cred_ids = Vec::new();
    {
        let sql = format!(
            "SELECT cc.credential_id FROM connection_credentials cc JOIN connections c \
             ON c.id = cc.connection_id WHERE c.organisation_id = $1 AND c.id IN ({ph})"
        );
        let mut q = sqlx::query(&sql).bind(org.to_owned());
        for id in ids {
            q = q.bind(id.clone());
        }
        for row in q.fetch_all(&mut **tx).await.map_err(db_err)? {
            cred_ids.push(get::<String>(&row, "credential_id")?);
        }
    }
    for sql in [
        format!(
            "DELETE FROM activation_connections WHERE connection_id IN (SELECT id FROM connections \
             WHERE organisation_id = $1 AND id IN ({ph}))"
        ),
        format!(
            "UPDATE end_users SET primary_connection_id = NULL WHERE organisation_id = $1 \
             AND primary_connection_id IN ({ph})"
        ),
        format!(
            "DELETE FROM connection_credentials WHERE connection_id IN (SELECT id FROM connections \
             WHERE organisation_id = $1 AND id IN ({ph}))"
        ),
        format!("DELETE FROM connections WHERE organisation_id = $1 AND id IN ({ph})"),
    ] {
        let mut q = sqlx::query(&sql).bind(org.to_owned());
        for id in ids {
            q = q.bind(id.clone());
        }
        q.execute(&mut **tx).await.map_err(db_err)?;
    }
    for cid in cred_ids {
        sqlx::query(
            "DELETE FROM credentials WHERE organisation_id = $1 AND id = $2 \
             AND NOT EXISTS (SELECT 1 FROM connection_credentials WHERE credential_id = $2)",
        )
        .bind(org)
        .bind(&cid)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl ConnectionStore for Backend {
    async fn insert_connection(&self, org: &OrgId, connection: &NewConnection) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_connection_tx(&mut tx, org, connection).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_connection(&self, org: &OrgId, id: &str) -> Result<Option<Connection>> {
        Ok(self.get_connections(org, &[id.to_owned()]).await?.pop())
    }

    async fn get_connections(&self, org: &OrgId, ids: &[String]) -> Result<Vec<Connection>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The connections and their credentials in one query: a row per credential (or one
        // with NULL credential columns for a connection without any).
        let sql = format!(
            "SELECT {}, {CONNECTION_CREDENTIAL_COLS} FROM connections c \
             LEFT JOIN connection_credentials cc ON cc.connection_id = c.id \
             LEFT JOIN credentials cr ON cr.id = cc.credential_id AND cr.organisation_id = $1 \
             WHERE c.organisation_id = $1 AND c.id IN ({}) ORDER BY c.id, cc.role, cc.position",
            qualified(CONNECTION_COLS, "c", false),
            placeholders(2, ids.len())
        );
        let mut q = sqlx::query(&sql).bind(org.to_owned());
        for id in ids {
            q = q.bind(id.clone());
        }
        let mut out: Vec<Connection> = Vec::new();
        for row in q.fetch_all(self.reads()).await.map_err(db_err)? {
            let id: String = get(&row, "id")?;
            if out.last().is_none_or(|c| c.id != id) {
                out.push(connection_row(&row)?);
            }
            // (Not a parenthesised inner join: SQLite would materialise it, a scan of
            // every credential.)
            if get::<Option<String>>(&row, "cr_id")?.is_some() {
                let cred = connection_credential(&row)?;
                out.last_mut().expect("pushed above").credentials.push(cred);
            }
        }
        Ok(out)
    }

    async fn list_connector_connections(
        &self,
        org: &OrgId,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Connection>> {
        let args = [Arg::S(org.to_string()), Arg::S(connector_id.to_owned())];
        let listing = Listing {
            cols: CONNECTION_COLS,
            from_where: "connections WHERE organisation_id = $1 AND connector_id = $2 \
                AND end_user_id IS NULL AND platform_end_user_id IS NULL",
            key: "id",
            args: &args,
            newest_first: true,
        };
        let mut p = fetch_page(self.reads(), listing, page, connection_row, |c| {
            c.id.clone()
        })
        .await?;
        load_credentials(self.reads(), org, &mut p.items).await?;
        Ok(p)
    }

    async fn list_end_user_connections(
        &self,
        org: &OrgId,
        end_user_id: &str,
        connector_ids: &[String],
        page: &PageRequest,
    ) -> Result<Page<Connection>> {
        let mut args = vec![Arg::S(org.to_string()), Arg::S(end_user_id.to_owned())];
        let mut from = String::from("connections WHERE organisation_id = $1 AND end_user_id = $2");
        if !connector_ids.is_empty() {
            from.push_str(&format!(
                " AND connector_id IN ({})",
                placeholders(3, connector_ids.len())
            ));
            args.extend(connector_ids.iter().map(|c| Arg::S(c.clone())));
        }
        let mut p = fetch_page(
            self.reads(),
            Listing {
                cols: CONNECTION_COLS,
                from_where: &from,
                key: "id",
                args: &args,
                newest_first: false,
            },
            page,
            connection_row,
            |c| c.id.clone(),
        )
        .await?;
        load_credentials(self.reads(), org, &mut p.items).await?;
        Ok(p)
    }

    async fn update_connection(&self, org: &OrgId, c: &Connection) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let r = sqlx::query(
            "UPDATE connections SET name = $3, variables = $4, updated_at = $5 \
             WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(&c.id)
        .bind(&c.name)
        .bind(j(&c.variables))
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        for (position, cc) in c.credentials.iter().enumerate() {
            sqlx::query(
                "UPDATE connection_credentials SET role = $3, position = $4, \
                 auth_scheme_config = $5 WHERE connection_id = $1 AND id = $2",
            )
            .bind(&c.id)
            .bind(&cc.id)
            .bind(cc.role.as_str())
            .bind(position as i32)
            .bind(j(&cc.auth_scheme_config))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        emit_tx(&mut tx, org, &[connection_event("connection.updated", c)]).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn connection_in_use(&self, org: &OrgId, id: &str) -> Result<bool> {
        let n: i64 = get(
            &sqlx::query(
                "SELECT (SELECT COUNT(*) FROM activation_connections ac JOIN activations a \
                 ON a.id = ac.activation_id WHERE a.organisation_id = $1 \
                 AND ac.connection_id = $2) + (SELECT COUNT(*) FROM end_users \
                 WHERE organisation_id = $1 AND primary_connection_id = $2) AS n",
            )
            .bind(org)
            .bind(id)
            .fetch_one(self.reads())
            .await
            .map_err(db_err)?,
            "n",
        )?;
        Ok(n > 0)
    }

    async fn delete_connection(&self, org: &OrgId, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let exists =
            sqlx::query("SELECT id FROM connections WHERE organisation_id = $1 AND id = $2")
                .bind(org)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .is_some();
        if exists {
            delete_connections_tx(&mut tx, org, &[id.to_owned()]).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(exists)
    }
}
