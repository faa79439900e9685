//! The server under test: the real `switchyard` binary in its own process, and its databases.
use anyhow::{bail, Context, Result};
use serde_json::Value;
use sqlx::Connection;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The master key the benchmark's servers run with (a throw-away test key).
pub const MASTER_KEY: &str = "9b1e5f2c7a3d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A fresh database for one run: a temp directory (the data dir, and the SQLite file), and for
/// PostgreSQL a database created now and dropped at the end.
pub struct Database {
    pub url: String,
    pub dir: PathBuf,
    admin_url: Option<String>,
    name: Option<String>,
    keep: bool,
}

impl Database {
    pub async fn create(
        backend: Backend,
        postgres_url: &str,
        postgres_db: &str,
        keep: bool,
    ) -> Result<Database> {
        let dir = std::env::temp_dir().join(format!(
            "switchyard-bench-{}",
            ulid::Ulid::new().to_string().to_lowercase()
        ));
        std::fs::create_dir_all(&dir)?;
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}/switchyard.db", dir.display());
                Ok(Database {
                    url,
                    dir,
                    admin_url: None,
                    name: None,
                    keep,
                })
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(postgres_url)
                    .await
                    .with_context(|| format!("cannot connect to PostgreSQL at {postgres_url}"))?;
                sqlx::query(&format!(
                    "DROP DATABASE IF EXISTS {postgres_db} WITH (FORCE)"
                ))
                .execute(&mut conn)
                .await?;
                sqlx::query(&format!("CREATE DATABASE {postgres_db}"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                let mut url = url::Url::parse(postgres_url)?;
                url.set_path(&format!("/{postgres_db}"));
                Ok(Database {
                    url: url.to_string(),
                    dir,
                    admin_url: Some(postgres_url.to_owned()),
                    name: Some(postgres_db.to_owned()),
                    keep,
                })
            }
        }
    }

    /// Removes the data: the temp directory and the PostgreSQL database (unless `--keep`).
    pub async fn drop_all(&self) -> Result<()> {
        if self.keep {
            eprintln!("keeping {} ({})", self.url, self.dir.display());
            return Ok(());
        }
        if let (Some(admin), Some(name)) = (&self.admin_url, &self.name) {
            let mut conn = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }

    /// Size of the data on disk, in bytes, when it can be known cheaply.
    pub async fn size_bytes(&self) -> Option<u64> {
        match (&self.admin_url, &self.name) {
            (Some(admin), Some(name)) => {
                let mut conn = sqlx::PgConnection::connect(admin).await.ok()?;
                let n: i64 = sqlx::query_scalar("SELECT pg_database_size($1)")
                    .bind(name)
                    .fetch_one(&mut conn)
                    .await
                    .ok()?;
                let _ = conn.close().await;
                Some(n as u64)
            }
            _ => {
                let mut total = 0;
                for e in std::fs::read_dir(&self.dir).ok()?.flatten() {
                    if e.file_name().to_string_lossy().starts_with("switchyard.db") {
                        total += e.metadata().ok()?.len();
                    }
                }
                Some(total)
            }
        }
    }
}

fn command(bin: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env_remove("SWITCHYARD_DATABASE_URL")
        .env_remove("SWITCHYARD_LISTEN")
        .env_remove("SWITCHYARD_CONFIG")
        .env_remove("SWITCHYARD_DATA_DIR")
        .env_remove("SWITCHYARD_SQLITE_SYNCHRONOUS")
        .env("SWITCHYARD_MASTER_KEY", MASTER_KEY)
        .env("RUST_LOG", "info,sqlx=warn,tower_http=warn");
    c
}

/// `switchyard admin create-org --name bench`: (organisation id, API key).
pub fn create_org(bin: &Path, db: &Database) -> Result<(String, String)> {
    let mut c = Command::new(bin);
    c.env_remove("SWITCHYARD_DATABASE_URL")
        .env_remove("SWITCHYARD_CONFIG")
        .env("SWITCHYARD_MASTER_KEY", MASTER_KEY)
        .args([
            "admin",
            "create-org",
            "--name",
            "bench",
            "--database-url",
            &db.url,
            "--data-dir",
        ])
        .arg(&db.dir);
    let out = c
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "create-org failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value =
        serde_json::from_slice(&out.stdout).context("create-org did not print one JSON object")?;
    match (v["organisationId"].as_str(), v["apiKey"].as_str()) {
        (Some(o), Some(k)) => Ok((o.to_owned(), k.to_owned())),
        _ => bail!("create-org printed {v}"),
    }
}

/// A running `switchyard serve`.
pub struct Server {
    child: Child,
    pub url: String,
    pub pid: u32,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Server {
    /// `sqlite_synchronous`: `--sqlite-synchronous` (SQLite only).
    pub fn start(
        bin: &Path,
        db: &Database,
        sqlite_synchronous: Option<switchyard_store::SqliteSynchronous>,
    ) -> Result<Server> {
        let mut cmd = command(bin);
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
            "--data-dir",
        ])
        .arg(&db.dir);
        if let Some(s) = sqlite_synchronous {
            cmd.args(["--sqlite-synchronous", s.as_str()]);
        }
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id();
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // The server announces its address on stderr; accept it on stdout too.
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(rest) = line.strip_prefix("switchyard listening on ") {
                        let _ = tx.send(
                            rest.split_whitespace()
                                .next()
                                .unwrap_or_default()
                                .to_owned(),
                        );
                    }
                    let mut l = log.lock().unwrap();
                    if l.len() >= 200 {
                        l.pop_front();
                    }
                    l.push_back(line);
                }
            });
        }
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                bail!(
                    "the server did not start:\n{}",
                    log.lock()
                        .unwrap()
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            }
        };
        Ok(Server {
            child,
            url,
            pid,
            log,
        })
    }

    /// A field of /proc/<pid>/status in kB (`VmRSS`, `VmHWM`).
    pub fn status_kb(&self, field: &str) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        text.lines()
            .find(|l| l.starts_with(&format!("{field}:")))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// The process's CPU time so far (user + system, all threads), from /proc/<pid>/stat.
    pub fn cpu_time(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        // The fields after the command name (which is in parentheses and may hold spaces):
        // state is field 3, utime 14 and stime 15, in clock ticks (100 per second on Linux).
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        Some(Duration::from_millis(ticks * 10))
    }

    pub fn last_log(&self, n: usize) -> String {
        let l = self.log.lock().unwrap();
        l.iter()
            .skip(l.len().saturating_sub(n))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// SIGTERM (graceful shutdown), then SIGKILL after 15 s.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
