//! The embedded default: one SQLite file, WAL journal, `synchronous=FULL` (every acknowledged
//! commit is on disk; `NORMAL` on request), foreign keys on, a busy timeout.
//!
//! One writer: SQLite lets one connection write at a time. With eight pooled connections all
//! allowed to write, concurrent activations queued inside SQLite's busy handler, which sleeps
//! and retries with growing back-off (up to 100 ms a sleep) instead of waking when the lock is
//! free: the activation p99 at concurrency 16 was 30x its p50. Writes therefore go through a pool
//! of exactly one connection (`writes`), where waiting is a fair FIFO queue in the pool and the
//! lock is never contended inside this process; reads use the other pool (`reads`, read-only
//! connections: a write sent there by mistake fails loudly instead of contending). WAL lets the
//! readers run beside the writer. Another process writing the file (the CLI) still meets the
//! busy timeout, which is its only use now.
use crate::error::{db_err, Result, StoreError};
use crate::{ConnectOptions, SqliteSynchronous};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    reads: sqlx::SqlitePool,
    writes: sqlx::SqlitePool,
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
        let writes = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(db_err)?;
        // Migrations first, so the read-only connections open on the finished schema.
        sqlx::migrate!("migrations/sqlite")
            .run(&writes)
            .await
            .map_err(|e| StoreError::Other(format!("SQLite migrations failed: {e}").into()))?;
        let reads = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(db_err)?;
        Ok(Self { reads, writes })
    }

    /// A write transaction: `BEGIN IMMEDIATE`, which takes SQLite's write lock at once, waiting
    /// (the busy timeout) while another connection holds it. A deferred `BEGIN` takes it at the
    /// first write, and a transaction that has already read gets SQLITE_BUSY at once, without
    /// waiting, when another connection is writing (SQLite cannot wait there without risking a
    /// deadlock): a spurious 503. Longer commits (`synchronous=FULL`) made that visible.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writes.begin_with("BEGIN IMMEDIATE").await
    }

    /// The read-only connections, for reads outside a transaction.
    pub(crate) fn reads(&self) -> &sqlx::SqlitePool {
        &self.reads
    }

    /// The one writing connection, for single-statement writes outside a transaction.
    pub(crate) fn writes(&self) -> &sqlx::SqlitePool {
        &self.writes
    }

    /// Both pools (the readers, then the writer), for tests that read a connection's pragmas and
    /// for pool statistics.
    pub fn pools(&self) -> [&sqlx::SqlitePool; 2] {
        [&self.reads, &self.writes]
    }

    /// `synchronous=FULL (2), journal_mode=wal`, read from a pooled connection.
    async fn read_durability(&self) -> Result<String> {
        let mut conn = self.reads.acquire().await.map_err(db_err)?;
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

/// Reads the change counter every [`crate::auth_changes::POLL`].
struct SqliteAuthFeed {
    pool: sqlx::SqlitePool,
    seen: Option<i64>,
    tick: tokio::time::Interval,
}

impl SqliteStore {
    async fn auth_feed(&self) -> Result<Box<dyn crate::AuthFeed>> {
        let mut tick = tokio::time::interval(crate::auth_changes::POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Ok(Box::new(SqliteAuthFeed {
            pool: self.reads.clone(),
            seen: None,
            tick,
        }))
    }
}

#[async_trait::async_trait]
impl crate::AuthFeed for SqliteAuthFeed {
    async fn next(&mut self) -> Result<crate::AuthSignal> {
        self.tick.tick().await;
        let counter: i64 = sqlx::query_scalar("SELECT counter FROM auth_changes WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let changed = self.seen.is_some_and(|seen| seen != counter);
        self.seen = Some(counter);
        Ok(if changed {
            crate::AuthSignal::Changed
        } else {
            crate::AuthSignal::Alive
        })
    }
}

/// The sqlx database and the store the shared SQL in `sql/` is compiled for, in this module.
type Db = sqlx::Sqlite;
type Backend = SqliteStore;

// Compiled once here and once in the other backend's module, on purpose: the one SQL source.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
