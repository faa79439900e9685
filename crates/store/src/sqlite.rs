//! The embedded default: one SQLite file, WAL journal, `synchronous=FULL` (every acknowledged
//! commit is on disk; `NORMAL` on request), foreign keys on, a busy timeout.
use crate::error::{db_err, Result, StoreError};
use crate::{ConnectOptions, SqliteSynchronous};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pool: sqlx::SqlitePool,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    /// SQLite has one writer at a time: a claim needs no row locks.
    const SKIP_LOCKED: &'static str = "";

    /// Opens with the default options (`synchronous=FULL`).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    pub async fn connect_with(url: &str, settings: &ConnectOptions) -> Result<Self> {
        let synchronous = match settings.sqlite_synchronous {
            SqliteSynchronous::Full => sqlx::sqlite::SqliteSynchronous::Full,
            SqliteSynchronous::Normal => sqlx::sqlite::SqliteSynchronous::Normal,
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("SQLite migrations failed: {e}").into()))?;
        Ok(Self { pool })
    }

    /// A write transaction: `BEGIN IMMEDIATE`, which takes SQLite's write lock at once, waiting
    /// (the busy timeout) while another connection holds it. A deferred `BEGIN` takes it at the
    /// first write, and a transaction that has already read gets SQLITE_BUSY at once, without
    /// waiting, when another connection is writing (SQLite cannot wait there without risking a
    /// deadlock): a spurious 503. Longer commits (`synchronous=FULL`) made that visible.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// The pool, for tests that read a connection's pragmas.
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }

    /// `synchronous=FULL (2), journal_mode=wal`, read from a pooled connection.
    async fn read_durability(&self) -> Result<String> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        let name = match synchronous {
            0 => "OFF",
            1 => "NORMAL",
            2 => "FULL",
            3 => "EXTRA",
            _ => "?",
        };
        Ok(format!(
            "synchronous={name} ({synchronous}), journal_mode={journal}"
        ))
    }
}

/// The sqlx database and the store the shared SQL in `sql/` is compiled for, in this module.
type Db = sqlx::Sqlite;
type Backend = SqliteStore;

// Compiled once here and once in the other backend's module, on purpose: the one SQL source.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
