//! PostgreSQL: for production, where several stateless Switchyard nodes share one database.
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub struct PostgresStore {
    pool: sqlx::PgPool,
}

impl PostgresStore {
    const BACKEND: &'static str = "postgres";

    pub async fn connect(url: &str) -> switchyard_domain::Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            switchyard_domain::Error::bad_request(format!("bad PostgreSQL URL: {e}"))
        })?;
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
            .connect_with(options)
            .await
            .map_err(crate::sql::db_err)?;
        // Several nodes may start at once: migrations take an advisory lock (sqlx does this).
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| {
                switchyard_domain::Error::internal(format!("PostgreSQL migrations failed: {e}"))
            })?;
        Ok(Self { pool })
    }

    /// A write transaction (SQLite's needs `BEGIN IMMEDIATE`; PostgreSQL's row locks need nothing more).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// `synchronous_commit=on, fsync=on`, read from a pooled connection.
    async fn read_durability(&self) -> switchyard_domain::Result<String> {
        let mut conn = self.pool.acquire().await.map_err(crate::sql::db_err)?;
        let commit: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut *conn)
            .await
            .map_err(crate::sql::db_err)?;
        let fsync: String = sqlx::query_scalar("SHOW fsync")
            .fetch_one(&mut *conn)
            .await
            .map_err(crate::sql::db_err)?;
        Ok(format!("synchronous_commit={commit}, fsync={fsync}"))
    }
}

sql_store!(sqlx::Postgres, PostgresStore);
platform_sql_store!(PostgresStore);
platform_activations_sql_store!(PostgresStore);
signing_keys_sql_store!(PostgresStore);
