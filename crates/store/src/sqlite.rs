//! The embedded default: one SQLite file, WAL journal, foreign keys on, a busy timeout.
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pool: sqlx::SqlitePool,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";

    pub async fn connect(url: &str) -> switchyard_domain::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| switchyard_domain::Error::bad_request(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool =
            SqlitePoolOptions::new().max_connections(8).acquire_timeout(Duration::from_secs(10)).connect_with(options).await.map_err(crate::sql::db_err)?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await.map_err(|e| switchyard_domain::Error::internal(format!("SQLite migrations failed: {e}")))?;
        Ok(Self { pool })
    }
}

sql_store!(sqlx::Sqlite, SqliteStore);
platform_sql_store!(SqliteStore);
platform_activations_sql_store!(SqliteStore);
signing_keys_sql_store!(SqliteStore);
