//! PostgreSQL: for production, where several stateless Switchyard nodes share one database.
use crate::error::{db_err, Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub struct PostgresStore {
    pool: sqlx::PgPool,
}

impl PostgresStore {
    const BACKEND: &'static str = "postgres";

    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(format!("bad PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            // A connection is checked (a round trip) only when it sat idle for a while: one in
            // steady use has just proven itself, and a dead one fails its query, is dropped, and
            // the request gets a 503. Checking every acquire cost a round trip per query.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > Duration::from_secs(1) {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options.clone())
            .await;
        let pool = match pool {
            Ok(pool) => pool,
            // The pool gives up with "timed out" whatever went wrong: one direct connection
            // says why (refused, unknown host, TLS, authentication), for the start-up error.
            Err(sqlx::Error::PoolTimedOut) => {
                return Err(db_err(
                    <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)
                        .await
                        .err()
                        .unwrap_or(sqlx::Error::PoolTimedOut),
                ))
            }
            Err(e) => return Err(db_err(e)),
        };
        // Several nodes may start at once: migrations take an advisory lock (sqlx does this).
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("PostgreSQL migrations failed: {e}").into()))?;
        Ok(Self { pool })
    }

    /// A write transaction (SQLite's needs `BEGIN IMMEDIATE`; PostgreSQL's row locks need nothing more).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// `synchronous_commit=on, fsync=on`, read from a pooled connection.
    async fn read_durability(&self) -> Result<String> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let commit: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        let fsync: String = sqlx::query_scalar("SHOW fsync")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        Ok(format!("synchronous_commit={commit}, fsync={fsync}"))
    }
}

/// The sqlx database and the store the shared SQL in `sql/` is compiled for, in this module.
type Db = sqlx::Postgres;
type Backend = PostgresStore;

// Compiled once here and once in the other backend's module, on purpose: the one SQL source.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
