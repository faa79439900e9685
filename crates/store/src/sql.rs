//! The SQL both backends share. `sql_store!` expands to a module body for one sqlx database type;
//! the backend modules supply the pool, the migrations and what differs between the databases.
//! Queries use `$N` placeholders, which both PostgreSQL and sqlx's SQLite driver accept.

use switchyard_domain::{Error, ErrorKind};

/// Maps a database error to the domain error: unreachable database is 503, a unique violation a
/// conflict, anything else a 500 (logged without any bound value).
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::conflict("a resource with these identifying fields already exists")
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            Error::conflict("the resource is referenced by, or references, another resource")
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => {
            tracing::warn!(error = %e, "database unavailable");
            Error::unavailable("the database is unavailable, try again shortly")
        }
        sqlx::Error::Database(d) if is_unavailable_code(d.code().as_deref()) => {
            tracing::warn!(error = %e, "database unavailable");
            Error::unavailable("the database is unavailable, try again shortly")
        }
        _ => {
            tracing::error!(error = %e, "database error");
            Error::new(ErrorKind::Internal, "internal database error")
        }
    }
}

/// PostgreSQL's "shutting down / cannot connect now" codes, and SQLite's busy and locked codes.
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "57P01"
                | "57P02"
                | "57P03"
                | "53300"
                | "08006"
                | "08003"
                | "08001"
                | "5"
                | "6"
                | "261"
                | "517"
        )
    )
}

/// `$start, $start+1, ...` for `n` values.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `cols` (`"id, name"`) qualified with `table` (`t.id, t.name`), and each also renamed
/// `{table}_{col}` when `alias` (`t.id AS t_id, ...`: for a join whose tables share column names).
pub(crate) fn qualified(cols: &str, table: &str, alias: bool) -> String {
    cols.split(", ")
        .map(|c| {
            if alias {
                format!("{table}.{c} AS {table}_{c}")
            } else {
                format!("{table}.{c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, ..., $cols), ($cols+1, ...)`: `rows` rows of `cols` placeholders, for a multi-row INSERT.
pub(crate) fn value_rows(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(1 + r * cols, cols)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` for a LIKE pattern (used with `ESCAPE '\'`).
pub(crate) fn like_pattern(s: &str) -> String {
    let mut out = String::from("%");
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

macro_rules! sql_store {
    ($db:ty, $store:ident) => {
        use crate::sql::{db_err, like_pattern, placeholders, qualified, value_rows};
        use crate::{IdempotencyBegin, IntegrationFilter, PoolStats, Store};
        use async_trait::async_trait;
        use serde_json::{Map, Value};
        use sqlx::types::Json;
        use sqlx::Row;
        use switchyard_domain::auth_scheme::AuthSchemeConfig;
        use switchyard_domain::credential::{CredentialType, CredentialView, NewCredential};
        use switchyard_domain::model::*;
        use switchyard_domain::page::{Page, PageRequest};
        use switchyard_domain::time::Timestamp;
        use switchyard_domain::{Error, Result};

        type Db = $db;
        type DbRow = <Db as sqlx::Database>::Row;
        type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

        /// A value bound to a dynamically built query.
        #[derive(Clone)]
        enum Arg {
            S(String),
            B(bool),
        }

        fn bind_all<'q>(mut q: Query<'q>, args: &[Arg]) -> Query<'q> {
            for a in args {
                q = match a {
                    Arg::S(s) => q.bind(s.clone()),
                    Arg::B(b) => q.bind(*b),
                };
            }
            q
        }

        fn get<'r, T: sqlx::Decode<'r, Db> + sqlx::Type<Db>>(row: &'r DbRow, col: &str) -> Result<T> {
            row.try_get(col).map_err(db_err)
        }

        fn json<T: serde::de::DeserializeOwned>(row: &DbRow, col: &str) -> Result<T> {
            let Json(v): Json<Value> = get(row, col)?;
            serde_json::from_value(v).map_err(|e| Error::internal(format!("stored {col} is unreadable: {e}")))
        }

        fn j<T: serde::Serialize>(v: &T) -> Json<Value> {
            Json(serde_json::to_value(v).expect("domain values serialise"))
        }

        /// What a paged list selects: `SELECT {cols} FROM {from_where}` ordered by `{key}`
        /// (ascending, or descending when `newest_first`); page cursors are values of `{key}`.
        struct Listing<'a> {
            cols: &'a str,
            from_where: &'a str,
            key: &'a str,
            args: &'a [Arg],
            newest_first: bool,
        }

        /// One page of a [`Listing`].
        async fn fetch_page<'e, E, T>(
            exec: E,
            listing: Listing<'_>,
            page: &PageRequest,
            map: impl Fn(&DbRow) -> Result<T>,
            key_of: impl Fn(&T) -> String,
        ) -> Result<Page<T>>
        where
            E: sqlx::Executor<'e, Database = Db> + Copy,
        {
            fetch_page_counting(exec, listing, None, page, map, key_of).await
        }

        /// [`fetch_page`], counting the total over `count_from_where` (the same rows without the
        /// joins that only add columns) when given.
        async fn fetch_page_counting<'e, E, T>(
            exec: E,
            listing: Listing<'_>,
            count_from_where: Option<&str>,
            page: &PageRequest,
            map: impl Fn(&DbRow) -> Result<T>,
            key_of: impl Fn(&T) -> String,
        ) -> Result<Page<T>>
        where
            E: sqlx::Executor<'e, Database = Db> + Copy,
        {
            let Listing { cols, from_where, key, args, newest_first } = listing;
            let count_sql = format!("SELECT COUNT(*) AS n FROM {}", count_from_where.unwrap_or(from_where));
            let total: i64 = get(&bind_all(sqlx::query(&count_sql), args).fetch_one(exec).await.map_err(db_err)?, "n")?;
            let n = args.len();
            let (cursor, forward) = match (&page.after, &page.before) {
                (Some(a), _) => (Some(a.clone()), true),
                (None, Some(b)) => (Some(b.clone()), false),
                (None, None) => (None, true),
            };
            // Walking forward in display order means ascending keys unless newest_first.
            let ascending = forward != newest_first;
            let (cmp, dir) = if ascending { (">", "ASC") } else { ("<", "DESC") };
            let mut sql = format!("SELECT {cols} FROM {from_where}");
            let mut args = args.to_vec();
            if let Some(c) = &cursor {
                sql.push_str(&format!(" AND {key} {cmp} ${}", n + 1));
                args.push(Arg::S(c.clone()));
            }
            sql.push_str(&format!(" ORDER BY {key} {dir} LIMIT {}", page.first + 1));
            let rows = bind_all(sqlx::query(&sql), &args).fetch_all(exec).await.map_err(db_err)?;
            let more = rows.len() > page.first as usize;
            let mut items = rows.iter().take(page.first as usize).map(&map).collect::<Result<Vec<T>>>()?;
            if !forward {
                items.reverse();
            }
            let first_key = items.first().map(&key_of);
            let last_key = items.last().map(&key_of);
            let (next, prev) = if forward {
                (if more { last_key } else { None }, if cursor.is_some() { first_key } else { None })
            } else {
                (last_key, if more { first_key } else { None })
            };
            Ok(Page { items, total_count: total, next, prev })
        }

        fn organisation(row: &DbRow) -> Result<Organisation> {
            Ok(Organisation { id: get(row, "id")?, name: get(row, "name")?, created_at: get(row, "created_at")? })
        }

        fn api_key(row: &DbRow) -> Result<ApiKey> {
            Ok(ApiKey {
                id: get(row, "id")?,
                organisation_id: get(row, "organisation_id")?,
                name: get(row, "name")?,
                prefix: get(row, "prefix")?,
                key_hash: get(row, "key_hash")?,
                created_at: get(row, "created_at")?,
                last_used_at: get(row, "last_used_at")?,
                revoked_at: get(row, "revoked_at")?,
            })
        }

        fn connector(row: &DbRow) -> Result<Connector> {
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

        fn hub(row: &DbRow) -> Result<Hub> {
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

        fn end_user(row: &DbRow) -> Result<EndUser> {
            Ok(EndUser {
                id: get(row, "id")?,
                organisation_id: get(row, "organisation_id")?,
                hub_id: get(row, "hub_id")?,
                external_id: get(row, "external_id")?,
                display_name: get(row, "display_name")?,
                primary_connection_id: get(row, "primary_connection_id")?,
                created_at: get(row, "created_at")?,
                updated_at: get(row, "updated_at")?,
            })
        }

        fn integration(row: &DbRow) -> Result<Integration> {
            // Kept as text on both databases, so that its keys keep their order.
            let schema: Option<String> = get(row, "variables_schema")?;
            let schema = schema.map(|t| serde_json::from_str::<Value>(&t)).transpose().map_err(|_| Error::internal("a stored variables schema is not JSON"))?;
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

        fn template(row: &DbRow) -> Result<ConnectionTemplate> {
            template_at(row, "")
        }

        /// A template from columns named with `prefix` (`t_id`, `t_name`... in a join).
        fn template_at(row: &DbRow, prefix: &str) -> Result<ConnectionTemplate> {
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

        /// An activation row, without its bindings.
        fn activation(row: &DbRow) -> Result<Activation> {
            Ok(Activation {
                id: get(row, "id")?,
                organisation_id: get(row, "organisation_id")?,
                hub_id: get(row, "hub_id")?,
                integration_id: get(row, "integration_id")?,
                end_user_id: get(row, "end_user_id")?,
                dynamic_variables: json(row, "dynamic_variables")?,
                bindings: Vec::new(),
                created_at: get(row, "created_at")?,
                updated_at: get(row, "updated_at")?,
            })
        }

        /// A connection row, without its credentials.
        fn connection_row(row: &DbRow) -> Result<Connection> {
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

        const CONNECTION_COLS: &str = "id, organisation_id, connector_id, end_user_id, platform_end_user_id, base_url, name, variables, created_at, updated_at";
        const ACTIVATION_COLS: &str = "id, organisation_id, hub_id, integration_id, end_user_id, dynamic_variables, created_at, updated_at";

        /// The columns of a connection's credential link and credential, as [`connection_credential`]
        /// reads them (`cc` the link, `cr` the credential).
        const CONNECTION_CREDENTIAL_COLS: &str = "cc.id AS cc_id, cc.connection_id AS cc_connection_id, cc.role AS cc_role, cc.auth_scheme_config AS cc_auth_scheme_config, \
             cr.id AS cr_id, cr.organisation_id AS cr_organisation_id, cr.name AS cr_name, cr.type AS cr_type, cr.public_data AS cr_public_data, \
             cr.errors AS cr_errors, cr.expires_at AS cr_expires_at";

        fn connection_credential(row: &<Db as sqlx::Database>::Row) -> Result<ConnectionCredential> {
            let ty: String = get(row, "cr_type")?;
            let errors: Option<Json<Vec<String>>> = get(row, "cr_errors")?;
            Ok(ConnectionCredential {
                id: get(row, "cc_id")?,
                role: CredentialRole::parse(&get::<String>(row, "cc_role")?),
                auth_scheme_config: json::<AuthSchemeConfig>(row, "cc_auth_scheme_config")?,
                credential: CredentialView {
                    id: get(row, "cr_id")?,
                    organisation_id: get(row, "cr_organisation_id")?,
                    credential_type: CredentialType::parse(&ty).ok_or_else(|| Error::internal("stored credential type is unknown"))?,
                    name: get(row, "cr_name")?,
                    data: json(row, "cr_public_data")?,
                    errors: errors.map(|Json(e)| e),
                    expires_at: get(row, "cr_expires_at")?,
                },
            })
        }

        /// Fills in the credentials of `connections`, in their stored order.
        async fn load_credentials<'e, E>(exec: E, org: &str, connections: &mut [Connection]) -> Result<()>
        where
            E: sqlx::Executor<'e, Database = Db>,
        {
            if connections.is_empty() {
                return Ok(());
            }
            let sql = format!(
                "SELECT {CONNECTION_CREDENTIAL_COLS} FROM connection_credentials cc JOIN credentials cr ON cr.id = cc.credential_id \
                 WHERE cr.organisation_id = $1 AND cc.connection_id IN ({}) ORDER BY cc.connection_id, cc.role, cc.position",
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

        /// Inserts credentials in one statement.
        async fn insert_credentials_at(tx: &mut sqlx::Transaction<'_, Db>, org: &str, credentials: &[&NewCredential], now: Timestamp) -> Result<()> {
            if credentials.is_empty() {
                return Ok(());
            }
            let sql = format!(
                "INSERT INTO credentials (id, organisation_id, name, type, public_data, sealed_data, key_id, errors, expires_at, created_at, updated_at) VALUES {}",
                value_rows(credentials.len(), 11)
            );
            let mut q = sqlx::query(&sql);
            for c in credentials {
                q = q
                    .bind(&c.view.id)
                    .bind(org)
                    .bind(&c.view.name)
                    .bind(c.view.credential_type.as_str())
                    .bind(Json(&c.view.data))
                    .bind(&c.sealed)
                    .bind(&c.key_id)
                    .bind(c.view.errors.as_ref().map(Json))
                    .bind(c.view.expires_at)
                    .bind(now)
                    .bind(now);
            }
            q.execute(&mut **tx).await.map_err(db_err)?;
            Ok(())
        }

        async fn insert_credentials_tx(tx: &mut sqlx::Transaction<'_, Db>, org: &str, credentials: &[NewCredential]) -> Result<()> {
            insert_credentials_at(tx, org, &credentials.iter().collect::<Vec<_>>(), switchyard_domain::time::now()).await
        }

        async fn insert_connector_tx(tx: &mut sqlx::Transaction<'_, Db>, org: &str, c: &Connector) -> Result<()> {
            sqlx::query(
                "INSERT INTO connectors (id, organisation_id, name, base_url, auth_scheme_configs, connection_variables, image_url, documentation_url, public, created_at, updated_at) \
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

        async fn insert_end_user_tx(tx: &mut sqlx::Transaction<'_, Db>, org: &str, u: &EndUser) -> Result<()> {
            sqlx::query(&format!("INSERT INTO end_users ({END_USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
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
                .map_err(|e| match db_err(e) {
                    e if e.kind == switchyard_domain::ErrorKind::Conflict => Error::conflict(format!("an end user with externalId {:?} already exists in this hub", u.external_id)),
                    e => e,
                })?;
            Ok(())
        }

        async fn insert_connection_tx(tx: &mut sqlx::Transaction<'_, Db>, org: &str, nc: &NewConnection) -> Result<()> {
            insert_connections_tx(tx, org, &[nc]).await
        }

        /// Inserts connections with their credentials and credential links: one statement per
        /// table, whatever the number of connections.
        async fn insert_connections_tx(tx: &mut sqlx::Transaction<'_, Db>, org: &str, ncs: &[&NewConnection]) -> Result<()> {
            if ncs.is_empty() {
                return Ok(());
            }
            let sql = format!("INSERT INTO connections ({CONNECTION_COLS}) VALUES {}", value_rows(ncs.len(), 10));
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
            q.execute(&mut **tx).await.map_err(|e| match db_err(e) {
                e if e.kind == switchyard_domain::ErrorKind::Conflict => {
                    let names: Vec<String> = ncs.iter().map(|nc| format!("{:?}", nc.connection.name)).collect();
                    match names.as_slice() {
                        [one] => Error::conflict(format!("a connection named {one} already exists for this connector")),
                        _ => Error::conflict(format!("a connection with one of the names {} already exists for its connector", names.join(", "))),
                    }
                }
                e => e,
            })?;
            let created_at = ncs[0].connection.created_at;
            insert_credentials_at(tx, org, &ncs.iter().flat_map(|nc| nc.credentials.iter()).collect::<Vec<_>>(), created_at).await?;
            let links: Vec<(usize, &Connection, &ConnectionCredential)> =
                ncs.iter().flat_map(|nc| nc.connection.credentials.iter().enumerate().map(move |(p, cc)| (p, &nc.connection, cc))).collect();
            if links.is_empty() {
                return Ok(());
            }
            let sql = format!(
                "INSERT INTO connection_credentials (id, connection_id, role, position, auth_scheme_config, credential_id) VALUES {}",
                value_rows(links.len(), 6)
            );
            let mut q = sqlx::query(&sql);
            for (position, c, cc) in links {
                q = q.bind(&cc.id).bind(&c.id).bind(cc.role.as_str()).bind(position as i32).bind(j(&cc.auth_scheme_config)).bind(&cc.credential.id);
            }
            q.execute(&mut **tx).await.map_err(db_err)?;
            Ok(())
        }

        /// An activation's bindings (template, connection) into `table` (`activation_connections`
        /// or `platform_activation_connections`), in one statement.
        async fn insert_bindings_tx(tx: &mut sqlx::Transaction<'_, Db>, table: &str, activation_id: &str, bindings: &[(String, String)]) -> Result<()> {
            if bindings.is_empty() {
                return Ok(());
            }
            let sql = format!("INSERT INTO {table} (activation_id, template_id, connection_id) VALUES {}", value_rows(bindings.len(), 3));
            let mut q = sqlx::query(&sql);
            for (template_id, connection_id) in bindings {
                q = q.bind(activation_id).bind(template_id).bind(connection_id);
            }
            q.execute(&mut **tx).await.map_err(db_err)?;
            Ok(())
        }

        /// Records a credential event (a failed refresh, an expiry).
        async fn insert_event_tx(tx: &mut sqlx::Transaction<'_, Db>, org: &str, e: &CredentialEvent) -> Result<()> {
            sqlx::query("INSERT INTO credential_events (id, organisation_id, credential_id, kind, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&e.id)
                .bind(org)
                .bind(&e.credential_id)
                .bind(&e.kind)
                .bind(&e.reason)
                .bind(e.created_at)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(())
        }

        /// Deletes connections and the credentials only they use.
        async fn delete_connections_tx(tx: &mut sqlx::Transaction<'_, Db>, org: &str, ids: &[String]) -> Result<()> {
            if ids.is_empty() {
                return Ok(());
            }
            let ph = placeholders(2, ids.len());
            let mut cred_ids = Vec::new();
            {
                let sql = format!(
                    "SELECT cc.credential_id FROM connection_credentials cc JOIN connections c ON c.id = cc.connection_id WHERE c.organisation_id = $1 AND c.id IN ({ph})"
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
                format!("DELETE FROM activation_connections WHERE connection_id IN (SELECT id FROM connections WHERE organisation_id = $1 AND id IN ({ph}))"),
                format!("UPDATE end_users SET primary_connection_id = NULL WHERE organisation_id = $1 AND primary_connection_id IN ({ph})"),
                format!("DELETE FROM connection_credentials WHERE connection_id IN (SELECT id FROM connections WHERE organisation_id = $1 AND id IN ({ph}))"),
                format!("DELETE FROM connections WHERE organisation_id = $1 AND id IN ({ph})"),
            ] {
                let mut q = sqlx::query(&sql).bind(org.to_owned());
                for id in ids {
                    q = q.bind(id.clone());
                }
                q.execute(&mut **tx).await.map_err(db_err)?;
            }
            for cid in cred_ids {
                sqlx::query("DELETE FROM credentials WHERE organisation_id = $1 AND id = $2 AND NOT EXISTS (SELECT 1 FROM connection_credentials WHERE credential_id = $2)")
                    .bind(org)
                    .bind(&cid)
                    .execute(&mut **tx)
                    .await
                    .map_err(db_err)?;
            }
            Ok(())
        }

        /// `(activation id, (template id, connection id))` rows of a bindings table (v1's
        /// `activation_connections` or v2's `platform_activation_connections`).
        async fn binding_rows<'e, E>(exec: E, table: &str, activation_ids: &[&str]) -> Result<Vec<(String, (String, String))>>
        where
            E: sqlx::Executor<'e, Database = Db>,
        {
            if activation_ids.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT activation_id, template_id, connection_id FROM {table} WHERE activation_id IN ({}) ORDER BY activation_id, template_id",
                placeholders(1, activation_ids.len())
            );
            let mut q = sqlx::query(&sql);
            for id in activation_ids {
                q = q.bind(id.to_string());
            }
            q.fetch_all(exec).await.map_err(db_err)?.iter().map(|r| Ok((get(r, "activation_id")?, (get(r, "template_id")?, get(r, "connection_id")?)))).collect()
        }

        async fn load_bindings<'e, E>(exec: E, activations: &mut [Activation]) -> Result<()>
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

        const END_USER_COLS: &str = "id, organisation_id, hub_id, external_id, display_name, primary_connection_id, created_at, updated_at";
        const INTEGRATION_COLS: &str = "id, organisation_id, hub_id, name, description, summary, image_url, screenshot_url, variables_schema, board_id, is_deployed, created_at, updated_at";
        const TEMPLATE_COLS: &str = "id, organisation_id, integration_id, connector_id, name, image_url, auth_scheme_config, is_primary, is_used, created_at";

        async fn insert_template_tx(tx: &mut sqlx::Transaction<'_, Db>, org: &str, t: &ConnectionTemplate) -> Result<()> {
            sqlx::query(&format!("INSERT INTO connection_templates ({TEMPLATE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
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
        impl Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_err)?;
                Ok(())
            }

            async fn durability(&self) -> Result<String> {
                self.read_durability().await
            }

            fn pool_stats(&self) -> PoolStats {
                PoolStats { size: self.pool.size(), idle: self.pool.num_idle() as u32, max: self.pool.options().get_max_connections() }
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            async fn credentials_to_reseal(&self, active_key_id: &str, limit: i64) -> Result<Vec<(String, String, String)>> {
                let rows = sqlx::query("SELECT organisation_id, id, sealed_data FROM credentials WHERE key_id <> $1 ORDER BY id LIMIT $2")
                    .bind(active_key_id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter().map(|r| Ok((get(r, "organisation_id")?, get(r, "id")?, get(r, "sealed_data")?))).collect()
            }

            async fn reseal_credential(&self, org: &str, id: &str, old_sealed: &str, new_sealed: &str, key_id: &str) -> Result<bool> {
                let r = sqlx::query("UPDATE credentials SET sealed_data = $4, key_id = $5 WHERE organisation_id = $1 AND id = $2 AND sealed_data = $3")
                    .bind(org)
                    .bind(id)
                    .bind(old_sealed)
                    .bind(new_sealed)
                    .bind(key_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(r.rows_affected() == 1)
            }

            async fn idempotency_to_reseal(&self, active_key_id: &str, limit: i64) -> Result<Vec<(String, String, String)>> {
                let rows = sqlx::query(
                    "SELECT scope, key, sealed_body FROM idempotency_keys WHERE key_id IS NOT NULL AND key_id <> $1 ORDER BY scope, key LIMIT $2",
                )
                .bind(active_key_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.iter().map(|r| Ok((get(r, "scope")?, get(r, "key")?, get(r, "sealed_body")?))).collect()
            }

            async fn reseal_idempotency(&self, scope: &str, key: &str, old_sealed: &str, new_sealed: &str, key_id: &str) -> Result<bool> {
                let r = sqlx::query("UPDATE idempotency_keys SET sealed_body = $4, key_id = $5 WHERE scope = $1 AND key = $2 AND sealed_body = $3")
                    .bind(scope)
                    .bind(key)
                    .bind(old_sealed)
                    .bind(new_sealed)
                    .bind(key_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(r.rows_affected() == 1)
            }

            async fn sealed_counts_by_key(&self) -> Result<Vec<(String, i64)>> {
                let rows = sqlx::query(
                    "SELECT key_id, CAST(SUM(n) AS BIGINT) AS n FROM ( \
                         SELECT key_id, COUNT(*) AS n FROM credentials GROUP BY key_id \
                         UNION ALL SELECT key_id, COUNT(*) AS n FROM idempotency_keys WHERE key_id IS NOT NULL GROUP BY key_id \
                     ) counts GROUP BY key_id ORDER BY key_id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.iter().map(|r| Ok((get(r, "key_id")?, get(r, "n")?))).collect()
            }

            async fn create_organisation(&self, org: &Organisation, key: &ApiKey) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(&org.id)
                    .bind(&org.name)
                    .bind(org.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                insert_api_key_exec(&mut *tx, &org.id, key).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn get_organisation(&self, org: &str) -> Result<Option<Organisation>> {
                let row = sqlx::query("SELECT id, name, created_at FROM organisations WHERE id = $1").bind(org).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(organisation).transpose()
            }

            async fn get_organisation_settings(&self, org: &str) -> Result<OrganisationSettings> {
                let row = sqlx::query("SELECT oauth_redirect_urls, hub_frame_ancestors, updated_at FROM organisation_settings WHERE organisation_id = $1")
                    .bind(org)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                let Some(row) = row else { return Ok(OrganisationSettings::default()) };
                Ok(OrganisationSettings {
                    oauth_redirect_urls: json(&row, "oauth_redirect_urls")?,
                    hub_frame_ancestors: json(&row, "hub_frame_ancestors")?,
                    updated_at: get(&row, "updated_at")?,
                })
            }

            async fn put_organisation_settings(&self, org: &str, st: &OrganisationSettings) -> Result<()> {
                sqlx::query(
                    "INSERT INTO organisation_settings (organisation_id, oauth_redirect_urls, hub_frame_ancestors, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (organisation_id) DO UPDATE SET oauth_redirect_urls = excluded.oauth_redirect_urls, \
                     hub_frame_ancestors = excluded.hub_frame_ancestors, updated_at = excluded.updated_at",
                )
                .bind(org)
                .bind(j(&st.oauth_redirect_urls))
                .bind(j(&st.hub_frame_ancestors))
                .bind(st.updated_at.unwrap_or_else(switchyard_domain::time::now))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn insert_api_key(&self, org: &str, key: &ApiKey) -> Result<()> {
                insert_api_key_exec(&self.pool, org, key).await
            }

            async fn list_api_keys(&self, org: &str) -> Result<Vec<ApiKey>> {
                let rows = sqlx::query("SELECT * FROM api_keys WHERE organisation_id = $1 ORDER BY id").bind(org).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(api_key).collect()
            }

            async fn revoke_api_key(&self, org: &str, key_id: &str, at: Timestamp) -> Result<bool> {
                let r = sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE organisation_id = $1 AND id = $2")
                    .bind(org)
                    .bind(key_id)
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(r.rows_affected() > 0)
            }

            async fn find_api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
                let row = sqlx::query("SELECT * FROM api_keys WHERE key_hash = $1").bind(key_hash).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(api_key).transpose()
            }

            async fn touch_api_key(&self, key_id: &str, at: Timestamp) -> Result<()> {
                let stale = at - chrono::Duration::seconds(60);
                sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)")
                    .bind(key_id)
                    .bind(at)
                    .bind(stale)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn insert_connector(&self, org: &str, c: &Connector, credentials: &[NewCredential]) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                insert_credentials_tx(&mut tx, org, credentials).await?;
                insert_connector_tx(&mut tx, org, c).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn get_connector(&self, org: &str, id: &str) -> Result<Option<Connector>> {
                let row = sqlx::query("SELECT * FROM connectors WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(connector).transpose()
            }

            async fn list_connectors(&self, org: &str, page: &PageRequest) -> Result<Page<Connector>> {
                fetch_page(&self.pool, Listing { cols: "*", from_where: "connectors WHERE organisation_id = $1", key: "id", args: &[Arg::S(org.to_owned())], newest_first: true }, page, connector, |c| c.id.clone()).await
            }

            async fn update_connector(&self, org: &str, c: &Connector, credentials: &[NewCredential]) -> Result<bool> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                insert_credentials_tx(&mut tx, org, credentials).await?;
                let r = sqlx::query(
                    "UPDATE connectors SET name = $3, base_url = $4, auth_scheme_configs = $5, connection_variables = $6, image_url = $7, documentation_url = $8, public = $9, updated_at = $10 \
                     WHERE organisation_id = $1 AND id = $2",
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

            async fn delete_connector(&self, org: &str, id: &str) -> Result<bool> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                let used: i64 = get(
                    &sqlx::query(
                        "SELECT (SELECT COUNT(*) FROM hubs WHERE organisation_id = $1 AND primary_connector_id = $2) \
                         + (SELECT COUNT(*) FROM connection_templates WHERE organisation_id = $1 AND connector_id = $2) \
                         + (SELECT COUNT(*) FROM connections WHERE organisation_id = $1 AND connector_id = $2 AND end_user_id IS NOT NULL) AS n",
                    )
                    .bind(org)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?,
                    "n",
                )?;
                if used > 0 {
                    return Err(Error::conflict("the connector is in use by a hub, a connection template or end-user connections"));
                }
                let own: Vec<String> = sqlx::query("SELECT id FROM connections WHERE organisation_id = $1 AND connector_id = $2")
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
                let row = sqlx::query("SELECT * FROM connectors WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).fetch_optional(&mut *tx).await.map_err(db_err)?;
                if let Some(c) = row.as_ref().map(connector).transpose()? {
                    for cred in c.auth_scheme_configs.iter().filter_map(|a| a.grant_credential_id()) {
                        sqlx::query("DELETE FROM credentials WHERE organisation_id = $1 AND id = $2 AND NOT EXISTS (SELECT 1 FROM connection_credentials WHERE credential_id = $2)")
                            .bind(org)
                            .bind(cred)
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                    }
                }
                let r = sqlx::query("DELETE FROM connectors WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).execute(&mut *tx).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(r.rows_affected() > 0)
            }

            async fn insert_connection(&self, org: &str, connection: &NewConnection) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                insert_connection_tx(&mut tx, org, connection).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn get_connection(&self, org: &str, id: &str) -> Result<Option<Connection>> {
                Ok(self.get_connections(org, &[id.to_owned()]).await?.pop())
            }

            async fn get_connections(&self, org: &str, ids: &[String]) -> Result<Vec<Connection>> {
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
                for row in q.fetch_all(&self.pool).await.map_err(db_err)? {
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

            async fn list_connector_connections(&self, org: &str, connector_id: &str, page: &PageRequest) -> Result<Page<Connection>> {
                let args = [Arg::S(org.to_owned()), Arg::S(connector_id.to_owned())];
                let mut p = fetch_page(&self.pool, Listing { cols: CONNECTION_COLS, from_where: "connections WHERE organisation_id = $1 AND connector_id = $2 AND end_user_id IS NULL AND platform_end_user_id IS NULL", key: "id", args: &args, newest_first: true }, page, connection_row, |c| c.id.clone()).await?;
                load_credentials(&self.pool, org, &mut p.items).await?;
                Ok(p)
            }

            async fn list_end_user_connections(&self, org: &str, end_user_id: &str, connector_ids: &[String], page: &PageRequest) -> Result<Page<Connection>> {
                let mut args = vec![Arg::S(org.to_owned()), Arg::S(end_user_id.to_owned())];
                let mut from = String::from("connections WHERE organisation_id = $1 AND end_user_id = $2");
                if !connector_ids.is_empty() {
                    from.push_str(&format!(" AND connector_id IN ({})", placeholders(3, connector_ids.len())));
                    args.extend(connector_ids.iter().map(|c| Arg::S(c.clone())));
                }
                let mut p = fetch_page(&self.pool, Listing { cols: CONNECTION_COLS, from_where: &from, key: "id", args: &args, newest_first: false }, page, connection_row, |c| c.id.clone()).await?;
                load_credentials(&self.pool, org, &mut p.items).await?;
                Ok(p)
            }

            async fn update_connection(&self, org: &str, c: &Connection) -> Result<bool> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                let r = sqlx::query("UPDATE connections SET name = $3, variables = $4, updated_at = $5 WHERE organisation_id = $1 AND id = $2")
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
                    sqlx::query("UPDATE connection_credentials SET role = $3, position = $4, auth_scheme_config = $5 WHERE connection_id = $1 AND id = $2")
                        .bind(&c.id)
                        .bind(&cc.id)
                        .bind(cc.role.as_str())
                        .bind(position as i32)
                        .bind(j(&cc.auth_scheme_config))
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn connection_in_use(&self, org: &str, id: &str) -> Result<bool> {
                let n: i64 = get(
                    &sqlx::query(
                        "SELECT (SELECT COUNT(*) FROM activation_connections ac JOIN activations a ON a.id = ac.activation_id WHERE a.organisation_id = $1 AND ac.connection_id = $2) \
                         + (SELECT COUNT(*) FROM end_users WHERE organisation_id = $1 AND primary_connection_id = $2) AS n",
                    )
                    .bind(org)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?,
                    "n",
                )?;
                Ok(n > 0)
            }

            async fn delete_connection(&self, org: &str, id: &str) -> Result<bool> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                let exists = sqlx::query("SELECT id FROM connections WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).fetch_optional(&mut *tx).await.map_err(db_err)?.is_some();
                if exists {
                    delete_connections_tx(&mut tx, org, &[id.to_owned()]).await?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(exists)
            }

            async fn get_credential(&self, org: &str, id: &str) -> Result<Option<StoredCredential>> {
                let row = sqlx::query("SELECT * FROM credentials WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                let Some(row) = row else { return Ok(None) };
                let ty: String = get(&row, "type")?;
                let errors: Option<Json<Vec<String>>> = get(&row, "errors")?;
                Ok(Some(StoredCredential {
                    view: CredentialView {
                        id: get(&row, "id")?,
                        organisation_id: get(&row, "organisation_id")?,
                        credential_type: CredentialType::parse(&ty).ok_or_else(|| Error::internal("stored credential type is unknown"))?,
                        name: get(&row, "name")?,
                        data: json(&row, "public_data")?,
                        errors: errors.map(|Json(e)| e),
                        expires_at: get(&row, "expires_at")?,
                    },
                    sealed: get(&row, "sealed_data")?,
                }))
            }

            async fn take_refresh_lease(&self, org: &str, id: &str, owner: &str, until: Timestamp, now: Timestamp) -> Result<bool> {
                let r = sqlx::query(
                    "UPDATE credentials SET refresh_lease_owner = $3, refresh_lease_until = $4 \
                     WHERE organisation_id = $1 AND id = $2 AND (refresh_lease_until IS NULL OR refresh_lease_until < $5)",
                )
                .bind(org)
                .bind(id)
                .bind(owner)
                .bind(until)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(r.rows_affected() == 1)
            }

            async fn release_refresh_lease(&self, org: &str, id: &str, owner: &str) -> Result<()> {
                sqlx::query("UPDATE credentials SET refresh_lease_owner = NULL, refresh_lease_until = NULL WHERE organisation_id = $1 AND id = $2 AND refresh_lease_owner = $3")
                    .bind(org)
                    .bind(id)
                    .bind(owner)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn store_refreshed_credential(&self, org: &str, c: &NewCredential, owner: &str, at: Timestamp) -> Result<()> {
                sqlx::query(
                    "UPDATE credentials SET sealed_data = $3, key_id = $4, public_data = $5, errors = NULL, updated_at = $6, \
                     refresh_lease_owner = CASE WHEN refresh_lease_owner = $7 THEN NULL ELSE refresh_lease_owner END, \
                     refresh_lease_until = CASE WHEN refresh_lease_owner = $7 THEN NULL ELSE refresh_lease_until END \
                     WHERE organisation_id = $1 AND id = $2",
                )
                .bind(org)
                .bind(&c.view.id)
                .bind(&c.sealed)
                .bind(&c.key_id)
                .bind(Json(&c.view.data))
                .bind(at)
                .bind(owner)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn fail_credential(&self, org: &str, id: &str, owner: &str, errors: &[String], e: &CredentialEvent) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                sqlx::query(
                    "UPDATE credentials SET errors = $3, \
                     refresh_lease_owner = CASE WHEN refresh_lease_owner = $4 THEN NULL ELSE refresh_lease_owner END, \
                     refresh_lease_until = CASE WHEN refresh_lease_owner = $4 THEN NULL ELSE refresh_lease_until END \
                     WHERE organisation_id = $1 AND id = $2",
                )
                .bind(org)
                .bind(id)
                .bind(Json(errors.to_vec()))
                .bind(owner)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                insert_event_tx(&mut tx, org, e).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn mark_credential_valid(&self, org: &str, id: &str) -> Result<()> {
                sqlx::query("UPDATE credentials SET errors = $3 WHERE organisation_id = $1 AND id = $2")
                    .bind(org)
                    .bind(id)
                    .bind(Json(Vec::<String>::new()))
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn sweep_expired_credentials(&self, now: Timestamp, limit: i64) -> Result<Vec<CredentialEvent>> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                let due = sqlx::query("SELECT id, organisation_id, expires_at FROM credentials WHERE expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2")
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let mut events = Vec::with_capacity(due.len());
                for row in &due {
                    let (id, org): (String, String) = (get(row, "id")?, get(row, "organisation_id")?);
                    let at: Timestamp = get(row, "expires_at")?;
                    sqlx::query("DELETE FROM connection_credentials WHERE credential_id = $1").bind(&id).execute(&mut *tx).await.map_err(db_err)?;
                    sqlx::query("DELETE FROM credentials WHERE id = $1").bind(&id).execute(&mut *tx).await.map_err(db_err)?;
                    let e = CredentialEvent {
                        id: switchyard_domain::new_id(),
                        organisation_id: org,
                        credential_id: id,
                        kind: "expired".to_owned(),
                        reason: format!("expired: its expiresAt ({}) has passed", switchyard_domain::time::format(&at)),
                        created_at: now,
                    };
                    insert_event_tx(&mut tx, &e.organisation_id, &e).await?;
                    events.push(e);
                }
                tx.commit().await.map_err(db_err)?;
                Ok(events)
            }

            async fn list_credential_events(&self, org: &str, credential_id: &str) -> Result<Vec<CredentialEvent>> {
                let rows = sqlx::query("SELECT * FROM credential_events WHERE organisation_id = $1 AND credential_id = $2 ORDER BY id")
                    .bind(org)
                    .bind(credential_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(CredentialEvent {
                            id: get(r, "id")?,
                            organisation_id: get(r, "organisation_id")?,
                            credential_id: get(r, "credential_id")?,
                            kind: get(r, "kind")?,
                            reason: get(r, "reason")?,
                            created_at: get(r, "created_at")?,
                        })
                    })
                    .collect()
            }

            async fn insert_oauth_state(&self, org: &str, st: &OAuthState) -> Result<()> {
                sqlx::query(
                    "INSERT INTO oauth_states (state_hash, organisation_id, grant_credential_id, connector_id, client_id, redirect_uri, token_url, additional_token_params, scopes, code_verifier, created_at, expires_at, oauth1, opener_origin) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(&st.state_hash)
                .bind(org)
                .bind(&st.grant_credential_id)
                .bind(&st.connector_id)
                .bind(&st.client_id)
                .bind(&st.redirect_uri)
                .bind(&st.token_url)
                .bind(&st.additional_token_params)
                .bind(j(&st.scopes))
                .bind(&st.code_verifier)
                .bind(st.created_at)
                .bind(st.expires_at)
                .bind(&st.oauth1)
                .bind(&st.opener_origin)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                // Expired flows are of no use to anyone: sweep them as new ones arrive.
                sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1").bind(st.created_at - chrono::Duration::hours(1)).execute(&self.pool).await.map_err(db_err)?;
                Ok(())
            }

            async fn find_oauth_state_origin(&self, state_hash: &str, now: Timestamp) -> Result<Option<Option<String>>> {
                let row = sqlx::query("SELECT opener_origin FROM oauth_states WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2")
                    .bind(state_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(|r| get(r, "opener_origin")).transpose()
            }

            async fn consume_oauth_state(&self, org: &str, state_hash: &str, now: Timestamp) -> Result<Option<OAuthState>> {
                let r = sqlx::query("UPDATE oauth_states SET used_at = $3 WHERE organisation_id = $1 AND state_hash = $2 AND used_at IS NULL AND expires_at > $3")
                    .bind(org)
                    .bind(state_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                if r.rows_affected() != 1 {
                    return Ok(None);
                }
                let row = sqlx::query("SELECT * FROM oauth_states WHERE organisation_id = $1 AND state_hash = $2").bind(org).bind(state_hash).fetch_one(&self.pool).await.map_err(db_err)?;
                Ok(Some(OAuthState {
                    state_hash: get(&row, "state_hash")?,
                    organisation_id: get(&row, "organisation_id")?,
                    grant_credential_id: get(&row, "grant_credential_id")?,
                    connector_id: get(&row, "connector_id")?,
                    client_id: get(&row, "client_id")?,
                    redirect_uri: get(&row, "redirect_uri")?,
                    token_url: get(&row, "token_url")?,
                    additional_token_params: get(&row, "additional_token_params")?,
                    scopes: json(&row, "scopes")?,
                    code_verifier: get(&row, "code_verifier")?,
                    oauth1: get(&row, "oauth1")?,
                    opener_origin: get(&row, "opener_origin")?,
                    created_at: get(&row, "created_at")?,
                    expires_at: get(&row, "expires_at")?,
                }))
            }

            async fn idempotency_begin(&self, scope: &str, key: &str, fingerprint: &str, now: Timestamp) -> Result<IdempotencyBegin> {
                sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(now - chrono::Duration::hours(24)).execute(&self.pool).await.map_err(db_err)?;
                let inserted = sqlx::query("INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) DO NOTHING")
                    .bind(scope)
                    .bind(key)
                    .bind(fingerprint)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                if inserted.rows_affected() == 1 {
                    return Ok(IdempotencyBegin::Started);
                }
                let Some(row) = sqlx::query("SELECT * FROM idempotency_keys WHERE scope = $1 AND key = $2").bind(scope).bind(key).fetch_optional(&self.pool).await.map_err(db_err)?
                else {
                    // Forgotten between the two statements: claim it again.
                    return Box::pin(self.idempotency_begin(scope, key, fingerprint, now)).await;
                };
                let theirs: String = get(&row, "fingerprint")?;
                if theirs != fingerprint {
                    return Ok(IdempotencyBegin::Mismatch);
                }
                let status: Option<i64> = get(&row, "status")?;
                match status {
                    Some(status) => Ok(IdempotencyBegin::Replay { status: status as u16, sealed_body: get::<Option<String>>(&row, "sealed_body")?.unwrap_or_default() }),
                    None => {
                        let created: Timestamp = get(&row, "created_at")?;
                        if now - created > chrono::Duration::minutes(5) {
                            let taken = sqlx::query("UPDATE idempotency_keys SET created_at = $3 WHERE scope = $1 AND key = $2 AND status IS NULL AND created_at = $4")
                                .bind(scope)
                                .bind(key)
                                .bind(now)
                                .bind(created)
                                .execute(&self.pool)
                                .await
                                .map_err(db_err)?;
                            if taken.rows_affected() == 1 {
                                return Ok(IdempotencyBegin::Started);
                            }
                        }
                        Ok(IdempotencyBegin::InProgress)
                    }
                }
            }

            async fn idempotency_finish(&self, scope: &str, key: &str, status: u16, sealed_body: &str, key_id: &str) -> Result<()> {
                sqlx::query("UPDATE idempotency_keys SET status = $3, sealed_body = $4, key_id = $5 WHERE scope = $1 AND key = $2")
                    .bind(scope)
                    .bind(key)
                    .bind(i64::from(status))
                    .bind(sealed_body)
                    .bind(key_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<()> {
                sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2").bind(scope).bind(key).execute(&self.pool).await.map_err(db_err)?;
                Ok(())
            }

            async fn insert_hub_session(&self, org: &str, h: &HubSession) -> Result<()> {
                sqlx::query(
                    "INSERT INTO hub_sessions (token_hash, organisation_id, hub_id, external_user_id, allowed_integrations, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&h.token_hash)
                .bind(org)
                .bind(&h.hub_id)
                .bind(&h.external_user_id)
                .bind(h.allowed_integrations.as_ref().map(j))
                .bind(h.created_at)
                .bind(h.expires_at)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                sqlx::query("DELETE FROM hub_sessions WHERE expires_at < $1").bind(h.created_at - chrono::Duration::hours(1)).execute(&self.pool).await.map_err(db_err)?;
                Ok(())
            }

            async fn find_hub_session(&self, token_hash: &str, now: Timestamp) -> Result<Option<HubSession>> {
                let row = sqlx::query("SELECT * FROM hub_sessions WHERE token_hash = $1 AND expires_at > $2")
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                let Some(row) = row else { return Ok(None) };
                let allowed: Option<Json<Vec<String>>> = get(&row, "allowed_integrations")?;
                Ok(Some(HubSession {
                    token_hash: get(&row, "token_hash")?,
                    organisation_id: get(&row, "organisation_id")?,
                    hub_id: get(&row, "hub_id")?,
                    external_user_id: get(&row, "external_user_id")?,
                    allowed_integrations: allowed.map(|Json(a)| a),
                    created_at: get(&row, "created_at")?,
                    expires_at: get(&row, "expires_at")?,
                }))
            }

            async fn insert_hub(&self, org: &str, h: &Hub, credentials: &[NewCredential]) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                insert_credentials_tx(&mut tx, org, credentials).await?;
                if h.is_default {
                    sqlx::query("UPDATE hubs SET is_default = $2 WHERE organisation_id = $1").bind(org).bind(false).execute(&mut *tx).await.map_err(db_err)?;
                }
                sqlx::query(
                    "INSERT INTO hubs (id, organisation_id, name, primary_connector_id, auth_scheme_config, is_default, deleted_at, created_at, updated_at, oauth_redirect_urls) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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

            async fn get_hub(&self, org: &str, id: &str) -> Result<Option<Hub>> {
                let row = sqlx::query("SELECT * FROM hubs WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(hub).transpose()
            }

            async fn list_hubs(&self, org: &str) -> Result<Vec<Hub>> {
                let rows = sqlx::query("SELECT * FROM hubs WHERE organisation_id = $1 AND deleted_at IS NULL ORDER BY id").bind(org).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(hub).collect()
            }

            async fn update_hub(&self, org: &str, h: &Hub) -> Result<bool> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                if h.is_default {
                    sqlx::query("UPDATE hubs SET is_default = $3 WHERE organisation_id = $1 AND id <> $2").bind(org).bind(&h.id).bind(false).execute(&mut *tx).await.map_err(db_err)?;
                }
                let r = sqlx::query("UPDATE hubs SET name = $3, is_default = $4, deleted_at = $5, updated_at = $6, oauth_redirect_urls = $7 WHERE organisation_id = $1 AND id = $2")
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

            async fn insert_end_user(&self, org: &str, u: &EndUser, primary: Option<&NewConnection>) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                insert_end_user_tx(&mut tx, org, u).await?;
                if let Some(p) = primary {
                    insert_connection_tx(&mut tx, org, p).await?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn get_end_user(&self, org: &str, hub_id: &str, id: &str, kind: IdentifierType) -> Result<Option<EndUser>> {
                let col = match kind {
                    IdentifierType::Internal => "id",
                    IdentifierType::External => "external_id",
                };
                let sql = format!("SELECT {END_USER_COLS} FROM end_users WHERE organisation_id = $1 AND hub_id = $2 AND {col} = $3");
                let row = sqlx::query(&sql).bind(org).bind(hub_id).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(end_user).transpose()
            }

            async fn get_end_user_by_id(&self, org: &str, id: &str) -> Result<Option<EndUser>> {
                let sql = format!("SELECT {END_USER_COLS} FROM end_users WHERE organisation_id = $1 AND id = $2");
                let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(end_user).transpose()
            }

            async fn list_end_users(&self, org: &str, hub_id: &str, search: Option<&str>, page: &PageRequest) -> Result<Page<EndUser>> {
                let mut args = vec![Arg::S(org.to_owned()), Arg::S(hub_id.to_owned())];
                let mut from = String::from("end_users WHERE organisation_id = $1 AND hub_id = $2");
                if let Some(s) = search.filter(|s| !s.is_empty()) {
                    from.push_str(" AND (LOWER(id) LIKE $3 ESCAPE '\\' OR LOWER(external_id) LIKE $3 ESCAPE '\\' OR LOWER(display_name) LIKE $3 ESCAPE '\\')");
                    args.push(Arg::S(like_pattern(s)));
                }
                fetch_page(&self.pool, Listing { cols: END_USER_COLS, from_where: &from, key: "id", args: &args, newest_first: false }, page, end_user, |u| u.id.clone()).await
            }

            async fn delete_end_user(&self, org: &str, id: &str) -> Result<bool> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                sqlx::query("DELETE FROM activations WHERE organisation_id = $1 AND end_user_id = $2").bind(org).bind(id).execute(&mut *tx).await.map_err(db_err)?;
                let conns: Vec<String> = sqlx::query("SELECT id FROM connections WHERE organisation_id = $1 AND end_user_id = $2")
                    .bind(org)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .iter()
                    .map(|r| get(r, "id"))
                    .collect::<Result<_>>()?;
                delete_connections_tx(&mut tx, org, &conns).await?;
                let r = sqlx::query("DELETE FROM end_users WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).execute(&mut *tx).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(r.rows_affected() > 0)
            }

            async fn insert_integration(&self, org: &str, i: &Integration, template: Option<&ConnectionTemplate>, credentials: &[NewCredential]) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                insert_credentials_tx(&mut tx, org, credentials).await?;
                sqlx::query(&format!("INSERT INTO integrations ({INTEGRATION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
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

            async fn get_integration(&self, org: &str, id: &str) -> Result<Option<Integration>> {
                let sql = format!("SELECT {INTEGRATION_COLS} FROM integrations WHERE organisation_id = $1 AND id = $2");
                let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(integration).transpose()
            }

            async fn list_integrations(&self, org: &str, hub_id: &str, search: Option<&str>, page: &PageRequest) -> Result<Page<Integration>> {
                let mut args = vec![Arg::S(org.to_owned()), Arg::S(hub_id.to_owned())];
                let mut from = String::from("integrations WHERE organisation_id = $1 AND hub_id = $2");
                if let Some(s) = search.filter(|s| !s.is_empty()) {
                    from.push_str(" AND (LOWER(name) LIKE $3 ESCAPE '\\' OR LOWER(description) LIKE $3 ESCAPE '\\')");
                    args.push(Arg::S(like_pattern(s)));
                }
                fetch_page(&self.pool, Listing { cols: INTEGRATION_COLS, from_where: &from, key: "id", args: &args, newest_first: false }, page, integration, |i| i.id.clone()).await
            }

            async fn update_integration(&self, org: &str, i: &Integration) -> Result<bool> {
                let r = sqlx::query(
                    "UPDATE integrations SET name = $3, description = $4, summary = $5, image_url = $6, screenshot_url = $7, variables_schema = $8, is_deployed = $9, updated_at = $10 \
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
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(r.rows_affected() > 0)
            }

            async fn delete_integration(&self, org: &str, id: &str) -> Result<bool> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                let n: i64 = get(
                    &sqlx::query("SELECT COUNT(*) AS n FROM activations WHERE organisation_id = $1 AND integration_id = $2").bind(org).bind(id).fetch_one(&mut *tx).await.map_err(db_err)?,
                    "n",
                )?;
                if n > 0 {
                    return Err(Error::conflict(format!("the integration has {n} activations; deactivate them first")));
                }
                sqlx::query("DELETE FROM connection_templates WHERE organisation_id = $1 AND integration_id = $2").bind(org).bind(id).execute(&mut *tx).await.map_err(db_err)?;
                let r = sqlx::query("DELETE FROM integrations WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).execute(&mut *tx).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(r.rows_affected() > 0)
            }

            async fn insert_template(&self, org: &str, t: &ConnectionTemplate, credentials: &[NewCredential]) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                insert_credentials_tx(&mut tx, org, credentials).await?;
                insert_template_tx(&mut tx, org, t).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn get_template(&self, org: &str, id: &str) -> Result<Option<ConnectionTemplate>> {
                let sql = format!("SELECT {TEMPLATE_COLS} FROM connection_templates WHERE organisation_id = $1 AND id = $2");
                let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                row.as_ref().map(template).transpose()
            }

            async fn get_integration_with_templates(&self, org: &str, id: &str) -> Result<Option<(Integration, Vec<ConnectionTemplate>)>> {
                // One row per template (or one with NULL template columns for an integration
                // without any), the integration's columns repeated on each.
                let sql = format!(
                    "SELECT {}, {} FROM integrations i LEFT JOIN connection_templates t ON t.integration_id = i.id AND t.organisation_id = i.organisation_id \
                     WHERE i.organisation_id = $1 AND i.id = $2 ORDER BY t.id",
                    qualified(INTEGRATION_COLS, "i", false),
                    qualified(TEMPLATE_COLS, "t", true)
                );
                let rows = sqlx::query(&sql).bind(org).bind(id).fetch_all(&self.pool).await.map_err(db_err)?;
                let Some(first) = rows.first() else { return Ok(None) };
                let i = integration(first)?;
                let mut templates = Vec::with_capacity(rows.len());
                for row in &rows {
                    if get::<Option<String>>(row, "t_id")?.is_some() {
                        templates.push(template_at(row, "t_")?);
                    }
                }
                Ok(Some((i, templates)))
            }

            async fn list_templates(&self, org: &str, integration_id: &str) -> Result<Vec<ConnectionTemplate>> {
                let sql = format!("SELECT {TEMPLATE_COLS} FROM connection_templates WHERE organisation_id = $1 AND integration_id = $2 ORDER BY id");
                let rows = sqlx::query(&sql).bind(org).bind(integration_id).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(template).collect()
            }

            async fn list_hub_connector_templates(&self, org: &str, hub_id: &str, connector_id: &str) -> Result<Vec<ConnectionTemplate>> {
                let sql = format!(
                    "SELECT {} FROM connection_templates t JOIN integrations i ON i.id = t.integration_id \
                     WHERE t.organisation_id = $1 AND i.hub_id = $2 AND t.connector_id = $3 ORDER BY t.id",
                    qualified(TEMPLATE_COLS, "t", false)
                );
                let rows = sqlx::query(&sql).bind(org).bind(hub_id).bind(connector_id).fetch_all(&self.pool).await.map_err(db_err)?;
                rows.iter().map(template).collect()
            }

            async fn list_templates_page(&self, org: &str, integration_id: &str, page: &PageRequest) -> Result<Page<ConnectionTemplate>> {
                let args = [Arg::S(org.to_owned()), Arg::S(integration_id.to_owned())];
                fetch_page(&self.pool, Listing { cols: TEMPLATE_COLS, from_where: "connection_templates WHERE organisation_id = $1 AND integration_id = $2", key: "id", args: &args, newest_first: false }, page, template, |t| t.id.clone()).await
            }

            async fn set_templates_used(&self, org: &str, integration_id: &str, used: &[String]) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                sqlx::query("UPDATE connection_templates SET is_used = $3 WHERE organisation_id = $1 AND integration_id = $2")
                    .bind(org)
                    .bind(integration_id)
                    .bind(false)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                for id in used {
                    sqlx::query("UPDATE connection_templates SET is_used = $4 WHERE organisation_id = $1 AND integration_id = $2 AND id = $3")
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
                org: &str,
                hub_id: &str,
                end_user_id: Option<&str>,
                filter: IntegrationFilter,
                page: &PageRequest,
            ) -> Result<(Page<EndUserIntegration>, i64)> {
                // An unknown user is someone with nothing activated: match no activation.
                let user = end_user_id.unwrap_or("").to_owned();
                let mut args = vec![Arg::S(org.to_owned()), Arg::S(hub_id.to_owned()), Arg::S(user.clone())];
                // The filters on integrations; the page joins each one's activation by this user, the
                // total counts integrations alone (a covering index scan, not a join per integration).
                let mut filters = String::from("i.organisation_id = $1 AND i.hub_id = $2");
                if let Some(d) = filter.deployed {
                    filters.push_str(" AND i.is_deployed = $4");
                    args.push(Arg::B(d));
                }
                let mut only = String::new();
                if let Some(ids) = &filter.only {
                    only = format!(" AND integration_id IN ({})", if ids.is_empty() { "NULL".to_owned() } else { placeholders(args.len() + 1, ids.len()) });
                    filters.push_str(&format!(" AND i.id IN ({})", if ids.is_empty() { "NULL".to_owned() } else { placeholders(args.len() + 1, ids.len()) }));
                    args.extend(ids.iter().cloned().map(Arg::S));
                }
                let from = format!("integrations i LEFT JOIN activations a ON a.integration_id = i.id AND a.end_user_id = $3 WHERE {filters}");
                let count_from = format!("integrations i WHERE {filters} AND ($3 = $3)");
                let cols = "i.id, i.organisation_id, i.hub_id, i.name, i.description, i.summary, i.image_url, i.screenshot_url, i.variables_schema, i.board_id, i.is_deployed, i.created_at, i.updated_at, a.id AS activation_id";
                let p = fetch_page_counting(&self.pool, Listing { cols, from_where: &from, key: "i.id", args: &args, newest_first: false }, Some(&count_from), page, |row| {
                        let activation: Option<String> = get(row, "activation_id")?;
                        Ok(EndUserIntegration { integration: integration(row)?, is_activated: activation.is_some() })
                    }, |e| e.integration.id.clone()).await?;
                // The count binds the same arguments (minus `deployed`, matched by a tautology).
                let deployed_arg = if filter.deployed.is_some() { " AND ($4 = $4)" } else { "" };
                let sql = format!("SELECT COUNT(*) AS n FROM activations WHERE organisation_id = $1 AND hub_id = $2 AND end_user_id = $3{deployed_arg}{only}");
                let connected: i64 = get(
                    &bind_all(sqlx::query(&sql), &args)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(db_err)?,
                    "n",
                )?;
                Ok((p, connected))
            }

            async fn rebind_activation(
                &self,
                org: &str,
                id: &str,
                template_id: &str,
                connection_id: &str,
                new_connection: Option<&NewConnection>,
                at: Timestamp,
            ) -> Result<bool> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                let touched = sqlx::query("UPDATE activations SET updated_at = $3 WHERE organisation_id = $1 AND id = $2")
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
                sqlx::query("DELETE FROM activation_connections WHERE activation_id = $1 AND template_id = $2").bind(id).bind(template_id).execute(&mut *tx).await.map_err(db_err)?;
                sqlx::query("INSERT INTO activation_connections (activation_id, template_id, connection_id) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(template_id)
                    .bind(connection_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn insert_activation(&self, org: &str, a: &Activation, new_user: Option<&EndUser>, new_connections: &[NewConnection]) -> Result<()> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                if let Some(u) = new_user {
                    insert_end_user_tx(&mut tx, org, u).await?;
                }
                let inserted = sqlx::query(&format!("INSERT INTO activations ({ACTIVATION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
                    .bind(&a.id)
                    .bind(org)
                    .bind(&a.hub_id)
                    .bind(&a.integration_id)
                    .bind(&a.end_user_id)
                    .bind(Json(&a.dynamic_variables))
                    .bind(a.created_at)
                    .bind(a.updated_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err);
                if let Err(e) = inserted {
                    drop(tx);
                    if e.kind == switchyard_domain::ErrorKind::Conflict {
                        if let Some(existing) = self.find_activation(org, &a.end_user_id, &a.integration_id).await? {
                            return Err(Error::conflict(format!("the end user has already activated this integration: activation {}", existing.id)).with_details(existing.id));
                        }
                    }
                    return Err(e);
                }
                insert_connections_tx(&mut tx, org, &new_connections.iter().collect::<Vec<_>>()).await?;
                insert_bindings_tx(&mut tx, "activation_connections", &a.id, &a.bindings).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn get_activation(&self, org: &str, id: &str) -> Result<Option<Activation>> {
                let sql = format!("SELECT {ACTIVATION_COLS} FROM activations WHERE organisation_id = $1 AND id = $2");
                let row = sqlx::query(&sql).bind(org).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
                let mut found = row.as_ref().map(activation).transpose()?.into_iter().collect::<Vec<_>>();
                load_bindings(&self.pool, &mut found).await?;
                Ok(found.pop())
            }

            async fn find_activation(&self, org: &str, end_user_id: &str, integration_id: &str) -> Result<Option<Activation>> {
                let sql = format!("SELECT {ACTIVATION_COLS} FROM activations WHERE organisation_id = $1 AND end_user_id = $2 AND integration_id = $3");
                let row = sqlx::query(&sql).bind(org).bind(end_user_id).bind(integration_id).fetch_optional(&self.pool).await.map_err(db_err)?;
                let mut found = row.as_ref().map(activation).transpose()?.into_iter().collect::<Vec<_>>();
                load_bindings(&self.pool, &mut found).await?;
                Ok(found.pop())
            }

            async fn list_activations(&self, org: &str, end_user_id: &str, integration_id: Option<&str>, page: &PageRequest) -> Result<Page<Activation>> {
                let mut args = vec![Arg::S(org.to_owned()), Arg::S(end_user_id.to_owned())];
                let mut from = String::from("activations WHERE organisation_id = $1 AND end_user_id = $2");
                if let Some(i) = integration_id {
                    from.push_str(" AND integration_id = $3");
                    args.push(Arg::S(i.to_owned()));
                }
                let mut p = fetch_page(&self.pool, Listing { cols: ACTIVATION_COLS, from_where: &from, key: "id", args: &args, newest_first: false }, page, activation, |a| a.id.clone()).await?;
                load_bindings(&self.pool, &mut p.items).await?;
                Ok(p)
            }

            async fn update_activation_variables(&self, org: &str, id: &str, variables: &Map<String, Value>, at: Timestamp) -> Result<bool> {
                let r = sqlx::query("UPDATE activations SET dynamic_variables = $3, updated_at = $4 WHERE organisation_id = $1 AND id = $2")
                    .bind(org)
                    .bind(id)
                    .bind(Json(variables))
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(r.rows_affected() > 0)
            }

            async fn delete_activation(&self, org: &str, id: &str) -> Result<bool> {
                let mut tx = self.begin_write().await.map_err(db_err)?;
                sqlx::query("DELETE FROM activation_connections WHERE activation_id IN (SELECT id FROM activations WHERE organisation_id = $1 AND id = $2)")
                    .bind(org)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let r = sqlx::query("DELETE FROM activations WHERE organisation_id = $1 AND id = $2").bind(org).bind(id).execute(&mut *tx).await.map_err(db_err)?;
                tx.commit().await.map_err(db_err)?;
                Ok(r.rows_affected() > 0)
            }
        }

        async fn insert_api_key_exec<'e, E>(exec: E, org: &str, key: &ApiKey) -> Result<()>
        where
            E: sqlx::Executor<'e, Database = Db>,
        {
            sqlx::query("INSERT INTO api_keys (id, organisation_id, name, prefix, key_hash, created_at, last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&key.id)
                .bind(org)
                .bind(&key.name)
                .bind(&key.prefix)
                .bind(&key.key_hash)
                .bind(key.created_at)
                .bind(key.last_used_at)
                .bind(key.revoked_at)
                .execute(exec)
                .await
                .map_err(db_err)?;
            Ok(())
        }
    };
}
