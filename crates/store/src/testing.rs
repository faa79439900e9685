//! Helpers for tests that need a real database: a fresh SQLite file, or a fresh PostgreSQL database
//! on the server `SWITCHYARD_TEST_POSTGRES_URL` names.
//!
//! Without that variable the PostgreSQL half of a suite cannot run: [`postgres_url`] then returns
//! `None` and says so on stderr, except under `CI=true`, where it panics, so that CI never passes
//! with the PostgreSQL suite silently skipped.
use sqlx::Connection;

pub const POSTGRES_ENV: &str = "SWITCHYARD_TEST_POSTGRES_URL";

/// Says `line` once per test process on the real standard error, past the test harness's output
/// capture (which takes only `print!`/`eprint!`), so that a plain `cargo test` shows it: a suite
/// that did not run, an installation under way.
pub fn notice(line: &str) {
    use std::io::Write;
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if !said.iter().any(|s| s == line) {
        said.push(line.to_owned());
        let _ = writeln!(std::io::stderr().lock(), "note: {line}");
    }
}

/// Drops the test database `url` names (made by [`postgres_url`]), closing the connections a
/// server may still hold. Blocking, on a thread of its own, so that a test's `Drop` can call it,
/// also while a failed test unwinds. Errors are reported, not raised.
pub fn drop_postgres_database(url: &str) {
    let Ok(mut admin) = url::Url::parse(url) else {
        return;
    };
    let name = admin.path().trim_start_matches('/').to_owned();
    if !name.starts_with("switchyard_test_")
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return;
    }
    let Ok(base) = std::env::var(POSTGRES_ENV) else {
        return;
    };
    let Ok(base) = url::Url::parse(&base) else {
        return;
    };
    admin.set_path(base.path());
    let admin = admin.to_string();
    let outcome = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let connect = sqlx::PgConnection::connect(&admin);
            let mut conn = tokio::time::timeout(std::time::Duration::from_secs(10), connect)
                .await
                .map_err(|_| "connecting timed out".to_owned())?
                .map_err(|e| e.to_string())?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    })
    .join();
    if let Ok(Err(e)) = outcome {
        notice(&format!("could not drop a test database: {e}"));
    }
}

/// Drops its PostgreSQL test database when it goes out of scope, a failed test's unwinding
/// included.
pub struct DropDatabase(pub String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        drop_postgres_database(&self.0);
    }
}

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
            notice(&format!("PostgreSQL suite not run: set {POSTGRES_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test)"));
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
    // For checking that a run drops what it made, when other runs share the server:
    // `SWITCHYARD_TEST_POSTGRES_LOG=<file>` collects the names this run created.
    if let Ok(log) = std::env::var("SWITCHYARD_TEST_POSTGRES_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{name}");
        }
    }
    let mut url = url::Url::parse(&base).expect("a valid PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}
