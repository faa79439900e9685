//! The test harness: every test talks to the real `switchyard` binary over HTTP, on a fresh SQLite
//! file or a fresh PostgreSQL database.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub mod oauth1_provider;
pub mod peer;
pub mod provider;
pub mod receiver;
pub mod spec;

/// What the test servers' egress guard allows by default.
pub const LOOPBACK: &str = "127.0.0.0/8,::1/128";

pub const MASTER_KEY: &str = "4f1c2b7e9a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test. Dropped with it (the PostgreSQL database, the SQLite file and the
/// data directory), also when the test fails, unless `owned` is false (another view of a `Db`).
pub struct Db {
    pub url: String,
    pub dir: PathBuf,
    pub owned: bool,
}

impl Drop for Db {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        if self.url.starts_with("postgres") {
            switchyard_store::testing::drop_postgres_database(&self.url);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Says `line` once per test run, past the output capture: `cargo test` shows it.
pub fn notice(line: &str) {
    switchyard_store::testing::notice(line);
}

impl Db {
    pub async fn new(backend: Backend) -> Option<Db> {
        let dir = std::env::temp_dir().join(format!(
            "switchyard-test-{}",
            ulid::Ulid::new().to_string().to_lowercase()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = match backend {
            Backend::Sqlite => switchyard_store::testing::sqlite_url(&dir),
            Backend::Postgres => switchyard_store::testing::postgres_url().await?,
        };
        Some(Db {
            url,
            dir,
            owned: true,
        })
    }
}

impl Db {
    /// Everything the database holds, as text: the SQLite files, or a `pg_dump`. For checking that
    /// a secret is stored nowhere in the clear.
    pub fn dump_text(&self) -> String {
        if self.url.starts_with("postgres") {
            let out = Command::new("pg_dump")
                .arg(&self.url)
                .output()
                .expect("pg_dump is installed with PostgreSQL");
            assert!(
                out.status.success(),
                "pg_dump failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        } else {
            let mut all = Vec::new();
            for entry in std::fs::read_dir(&self.dir).unwrap() {
                let path = entry.unwrap().path();
                if path
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("switchyard")
                {
                    all.extend(std::fs::read(&path).unwrap());
                }
            }
            String::from_utf8_lossy(&all).into_owned()
        }
    }
}

pub fn bin() -> Command {
    bin_env(Command::new(env!("CARGO_BIN_EXE_switchyard")))
}

/// `c` with the environment the tests give `switchyard` (for a script that runs it).
pub fn bin_env(mut c: Command) -> Command {
    c.env_remove("SWITCHYARD_DATABASE_URL")
        .env_remove("SWITCHYARD_LISTEN")
        // No trace export unless a test asks for it (telemetry.rs).
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env("SWITCHYARD_MASTER_KEY", MASTER_KEY)
        .env("RUST_LOG", "info,sqlx=warn");
    // The tests' OAuth providers listen on 127.0.0.1: open the egress guard to loopback (the
    // security suite starts servers with it closed).
    c.env("SWITCHYARD_EGRESS_ALLOW", LOOPBACK);
    // Every test client comes from 127.0.0.1, and some suites fail authentication on purpose
    // hundreds of times: the limits are raised here, and the security suite tests them.
    for limit in [
        "FAILED_AUTH_PER_MINUTE",
        "PROVIDER_CALLS_PER_ORG_PER_MINUTE",
        "PROVIDER_CALLS_PER_CLIENT_PER_MINUTE",
    ] {
        c.env(format!("SWITCHYARD_RATE_LIMIT_{limit}"), "100000");
    }
    c
}

/// Runs `switchyard admin create-org` and returns (organisation id, API key).
pub fn create_org(db: &Db, name: &str) -> (String, String) {
    let out = bin()
        .args([
            "admin",
            "create-org",
            "--name",
            name,
            "--database-url",
            &db.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "create-org failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("create-org prints one JSON object");
    (
        v["organisationId"].as_str().unwrap().to_owned(),
        v["apiKey"].as_str().unwrap().to_owned(),
    )
}

/// A running `switchyard serve`.
pub struct Server {
    pub url: String,
    child: Child,
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(db: &Db) -> Server {
        Self::start_with(db, &[])
    }

    pub fn start_with(db: &Db, env: &[(&str, &str)]) -> Server {
        let mut cmd = bin();
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
            "--data-dir",
        ])
        .arg(&db.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("switchyard listening on ") {
                    let _ = tx.send(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
                log2.lock().unwrap().push(line);
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("server did not start: {:?}", log.lock().unwrap()));
        Server { url, child, log }
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory, in bytes (Linux).
    pub fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP client acting with one API key.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub key: Option<String>,
    /// An end-user JWT, sent as `Authorization: JWT <token>` instead of the key.
    pub jwt: Option<String>,
    pub http: reqwest::Client,
}

#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Res {
    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// Asserts a Versori error of `status`, and returns it.
    #[track_caller]
    pub fn error(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_error_shape(&self.body, status);
        self.body
    }

    /// The `field`s of an error's `fields`.
    pub fn fields(body: &Value) -> Vec<String> {
        body["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[track_caller]
pub fn assert_error_shape(body: &Value, status: u16) {
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not a JSON object: {body}"));
    assert_eq!(
        obj.get("code").and_then(Value::as_str),
        Some((status as u32 * 1000).to_string().as_str()),
        "code of {body}"
    );
    assert!(
        obj.get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| !m.is_empty()),
        "message of {body}"
    );
    for k in obj.keys() {
        assert!(
            ["code", "message", "fields", "details"].contains(&k.as_str()),
            "unexpected key {k} in {body}"
        );
    }
    if let Some(fields) = obj.get("fields") {
        for f in fields.as_array().expect("fields is a list") {
            assert!(
                f["field"].is_string() && f["message"].is_string(),
                "field entry {f}"
            );
        }
    }
}

impl Api {
    pub fn new(server: &Server, key: &str) -> Api {
        Api {
            base: server.url.clone(),
            key: Some(key.to_owned()),
            jwt: None,
            http: reqwest::Client::new(),
        }
    }

    pub fn anonymous(server: &Server) -> Api {
        Api {
            base: server.url.clone(),
            key: None,
            jwt: None,
            http: reqwest::Client::new(),
        }
    }

    /// The same caller, talking to another server.
    pub fn with_base(&self, server: &Server) -> Api {
        Api {
            base: server.url.clone(),
            ..self.clone()
        }
    }

    pub fn with_key(&self, key: &str) -> Api {
        Api {
            key: Some(key.to_owned()),
            jwt: None,
            ..self.clone()
        }
    }

    /// The same server, called with an end-user JWT.
    pub fn with_jwt(&self, token: &str) -> Api {
        Api {
            key: None,
            jwt: Some(token.to_owned()),
            ..self.clone()
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Res {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.jwt {
            req = req.header("Authorization", format!("JWT {t}"));
        } else if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{status} response to {path} is not JSON: {text}"))
        };
        Res {
            status,
            body,
            headers,
        }
    }

    /// A request with a body of any bytes and content type (or none).
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Res {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.jwt {
            req = req.header("Authorization", format!("JWT {t}"));
        } else if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        if let Some(b) = body {
            req = req.body(b.to_vec());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{status} response to {path} is not JSON: {text}"))
        };
        Res {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Res {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.send(reqwest::Method::POST, path, Some(&body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Res {
        self.send(reqwest::Method::PUT, path, Some(&body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.send(reqwest::Method::PATCH, path, Some(&body)).await
    }
    pub async fn delete(&self, path: &str) -> Res {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// A server with one organisation, ready to call.
/// (Fields drop in order: the server stops before its database is dropped.)
pub struct World {
    pub server: Server,
    pub db: Db,
    pub org: String,
    pub key: String,
    pub api: Api,
}

impl World {
    pub async fn new(backend: Backend) -> Option<World> {
        let db = Db::new(backend).await?;
        let (org, key) = create_org(&db, "acme");
        let server = Server::start(&db);
        let api = Api::new(&server, &key);
        Some(World {
            db,
            server,
            org,
            key,
            api,
        })
    }

    /// A second organisation on the same server.
    pub fn other_org(&self) -> (String, Api) {
        let (org, key) = create_org(&self.db, "globex");
        (org, self.api.with_key(&key))
    }
}

/// Runs `$body(World)` once on SQLite and once on PostgreSQL: for each `name => body;`, a module
/// `name` with the tests `sqlite` and `postgres` (so `cargo test` shows `<file>::<name>::postgres`,
/// which `.ci/run` counts).
macro_rules! on_both_databases {
    ($($name:ident => $body:path;)*) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let w = $crate::common::World::new($crate::common::Backend::Sqlite).await.expect("SQLite is always available");
                    $body(w).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(switchyard_no_test_postgres, ignore = "PostgreSQL suite not run: set SWITCHYARD_TEST_POSTGRES_URL")]
                async fn postgres() {
                    let Some(w) = $crate::common::World::new($crate::common::Backend::Postgres).await else { return };
                    $body(w).await;
                }
            }
        )*
    };
}
pub(crate) use on_both_databases;

pub fn api_key_scheme(id: &str, header: &str) -> Value {
    json!({"id": id, "description": "API key", "schemeType": "api-key", "name": header, "in": "header"})
}

pub fn basic_scheme(id: &str) -> Value {
    json!({"id": id, "description": "Basic auth", "schemeType": "basic-auth"})
}

/// Creates a signing key for `org` and returns (key id, private key PEM).
pub async fn signing_key(api: &Api, org: &str) -> (String, String) {
    let k = api
        .post(
            &format!("/api/organisations/v1/organisations/{org}/keys"),
            json!({"name": "test"}),
        )
        .await
        .expect(201);
    (
        k["id"].as_str().unwrap().to_owned(),
        k["privateKey"].as_str().unwrap().to_owned(),
    )
}

/// An end-user JWT for `sub`, signed with the signing key `key_id`, an hour to live.
pub fn end_user_jwt(key_id: &str, private_pem: &str, sub: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"iss": format!("https://versori.com/sk/{key_id}"), "sub": sub, "iat": now, "exp": now + 3600});
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap()
}
