//! Helpers for tests that need a real database: a fresh SQLite file, or a fresh PostgreSQL database
//! on the server `SWITCHYARD_TEST_POSTGRES_URL` names.
//!
//! Without that variable the PostgreSQL half of a suite cannot run: [`postgres_url`] then returns
//! `None` and says so on stderr, except under `CI=true`, where it panics, so that CI never passes
//! with the PostgreSQL suite silently skipped.
use sqlx::Connection;

pub const POSTGRES_ENV: &str = "SWITCHYARD_TEST_POSTGRES_URL";

/// A URL for a new, empty SQLite database file under `dir`.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!(
        "sqlite://{}/switchyard-{}.db",
        dir.display(),
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

/// A URL for a new, empty PostgreSQL database, or `None` when no test server is configured.
pub async fn postgres_url() -> Option<String> {
    let base = match std::env::var(POSTGRES_ENV) {
        Ok(u) if !u.is_empty() => u,
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{POSTGRES_ENV} is not set under CI=true: the PostgreSQL suite must run");
            }
            eprintln!("PostgreSQL suite not run: set {POSTGRES_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test)");
            return None;
        }
    };
    let name = format!(
        "switchyard_test_{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_ENV}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&base).expect("a valid PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}
