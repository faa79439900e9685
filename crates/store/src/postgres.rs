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
    /// A claim skips the jobs another node is claiming.
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

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

    /// Reads and writes share the pool (PostgreSQL's MVCC needs no single writer).
    pub(crate) fn reads(&self) -> &sqlx::PgPool {
        &self.pool
    }

    pub(crate) fn writes(&self) -> &sqlx::PgPool {
        &self.pool
    }

    pub fn pools(&self) -> [&sqlx::PgPool; 1] {
        [&self.pool]
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

/// `LISTEN`s on its own connection; a task beside it notifies a heartbeat through the pool every
/// [`crate::auth_changes::HEARTBEAT`], so that a connection that died silently shows as silence.
struct PgAuthFeed {
    listener: sqlx::postgres::PgListener,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Drop for PgAuthFeed {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

impl PostgresStore {
    async fn auth_feed(&self) -> Result<Box<dyn crate::AuthFeed>> {
        use crate::auth_changes::{ALIVE, CHANNEL, HEARTBEAT};
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(db_err)?;
        listener.listen(CHANNEL).await.map_err(db_err)?;
        let pool = self.pool.clone();
        let heartbeat = tokio::spawn(async move {
            loop {
                // A failed heartbeat is silence, which the cache reads as a dead feed.
                let _ = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(ALIVE)
                    .execute(&pool)
                    .await;
                tokio::time::sleep(HEARTBEAT).await;
            }
        });
        Ok(Box::new(PgAuthFeed {
            listener,
            heartbeat,
        }))
    }
}

#[async_trait::async_trait]
impl crate::AuthFeed for PgAuthFeed {
    async fn next(&mut self) -> Result<crate::AuthSignal> {
        // `try_recv`, not `recv`: `recv` would reconnect silently and lose what was notified
        // meanwhile; a lost connection must end the feed instead.
        match self.listener.try_recv().await.map_err(db_err)? {
            Some(n) if n.payload() == crate::auth_changes::ALIVE => Ok(crate::AuthSignal::Alive),
            Some(_) => Ok(crate::AuthSignal::Changed),
            None => Err(StoreError::Other(
                "the authentication change listener lost its connection".into(),
            )),
        }
    }
}

/// The sqlx database and the store the shared SQL in `sql/` is compiled for, in this module.
type Db = sqlx::Postgres;
type Backend = PostgresStore;

// Compiled once here and once in the other backend's module, on purpose: the one SQL source.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
