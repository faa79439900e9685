//! Settings: command-line flags, each also an environment variable, over an optional TOML file
//! (`--config`), over defaults. Secrets may come from `*_FILE` variables instead.
use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use switchyard_vault::{KeyRing, MasterKey};

/// The settings of every command that opens the database.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct Args {
    /// A TOML file with any of the settings (keys as the long flags, with underscores; also
    /// `master_key_file`).
    #[arg(long, env = "SWITCHYARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// `sqlite://...` or `postgres://...` (or a file holding it: SWITCHYARD_DATABASE_URL_FILE)
    /// [default: an SQLite file in the data directory].
    #[arg(long, env = "SWITCHYARD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Where the embedded database and the generated master key live [default: ./switchyard-data].
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format: `text` or `json` (one JSON object per line, nothing else) [default: text].
    #[arg(long, env = "SWITCHYARD_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Embedded SQLite only: `full` (every acknowledged write is on disk) or `normal` (faster; the
    /// last writes acknowledged before a power loss or OS crash may be lost) [default: full].
    #[arg(long, env = "SWITCHYARD_SQLITE_SYNCHRONOUS")]
    pub sqlite_synchronous: Option<String>,
}

/// The server's own settings: `serve`'s flags, also taken before any command (`switchyard`
/// alone serves).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8950].
    #[arg(long, env = "SWITCHYARD_LISTEN")]
    pub listen: Option<String>,
    /// The URL Switchyard is reached at from outside [default: http://<listen>].
    #[arg(long, env = "SWITCHYARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long an OAuth2 authorization flow may take, in seconds [default: 600].
    #[arg(long, env = "SWITCHYARD_OAUTH_STATE_TTL_SECONDS")]
    pub oauth_state_ttl_seconds: Option<u64>,
    /// How often expired credentials (`expiresAt` passed) are deleted, in seconds [default: 60].
    #[arg(long, env = "SWITCHYARD_CREDENTIAL_SWEEP_SECONDS")]
    pub credential_sweep_seconds: Option<u64>,
    /// Internal address ranges outbound requests (OAuth providers) may reach, comma-separated
    /// CIDRs such as `127.0.0.1/32,10.1.0.0/16` [default: none: loopback, private, link-local and
    /// other internal addresses are refused].
    #[arg(long, env = "SWITCHYARD_EGRESS_ALLOW")]
    pub egress_allow: Option<String>,
    /// Failed authentications (401s) a client address may have per minute before it gets 429s [default: 60; 0: no limit].
    #[arg(long, env = "SWITCHYARD_RATE_LIMIT_FAILED_AUTH_PER_MINUTE")]
    pub rate_limit_failed_auth_per_minute: Option<u32>,
    /// Calls to OAuth providers an organisation may cause per minute [default: 600; 0: no limit].
    #[arg(long, env = "SWITCHYARD_RATE_LIMIT_PROVIDER_CALLS_PER_ORG_PER_MINUTE")]
    pub rate_limit_provider_calls_per_org_per_minute: Option<u32>,
    /// Calls to OAuth providers one client address may cause per minute [default: 120; 0: no limit].
    #[arg(
        long,
        env = "SWITCHYARD_RATE_LIMIT_PROVIDER_CALLS_PER_CLIENT_PER_MINUTE"
    )]
    pub rate_limit_provider_calls_per_client_per_minute: Option<u32>,
    /// The longest lifetime an end-user JWT may have, in seconds (`exp - iat`, and `exp - now`) [default: 86400].
    #[arg(long, env = "SWITCHYARD_END_USER_JWT_MAX_LIFETIME_SECONDS")]
    pub end_user_jwt_max_lifetime_seconds: Option<u64>,
    /// The time budget of checking a variables schema or validating variables against one, in
    /// milliseconds; a schema that blows it is refused from then on [default: 2000].
    #[arg(long, env = "SWITCHYARD_VARIABLES_BUDGET_MS")]
    pub variables_budget_ms: Option<u64>,
    /// Seconds a client has to send a request's line and headers, from its first byte (the
    /// connection's opening, for the first request); then the connection is closed [default: 10].
    #[arg(long, env = "SWITCHYARD_HEADER_READ_TIMEOUT_SECONDS")]
    pub header_read_timeout_seconds: Option<u64>,
    /// Seconds a connection may sit with no request being handled and no bytes moving (a
    /// keep-alive connection between requests) before it is closed [default: 60].
    #[arg(long, env = "SWITCHYARD_IDLE_TIMEOUT_SECONDS")]
    pub idle_timeout_seconds: Option<u64>,
    /// Seconds within which a request (its body included) must be answered; then it gets a 503
    /// and its handler is stopped. Keep it above 30, the OAuth provider calls' own timeout [default: 60].
    #[arg(long, env = "SWITCHYARD_REQUEST_TIMEOUT_SECONDS")]
    pub request_timeout_seconds: Option<u64>,
    /// Connections served at once; more wait in the operating system's accept queue until one
    /// closes [default: 4096].
    #[arg(long, env = "SWITCHYARD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Jobs (event deliveries...) this process runs at once; 0: none, the node only serves the
    /// API [default: 8].
    #[arg(long, env = "SWITCHYARD_JOB_WORKERS")]
    pub job_workers: Option<usize>,
    /// How often an idle job worker looks for due jobs, in milliseconds [default: 200].
    #[arg(long, env = "SWITCHYARD_JOB_POLL_MS")]
    pub job_poll_ms: Option<u64>,
    /// How long a node holds a job it runs before another may take it over (its lease, renewed
    /// while it runs), in seconds [default: 60].
    #[arg(long, env = "SWITCHYARD_JOB_LEASE_SECONDS")]
    pub job_lease_seconds: Option<u64>,
    /// The delays before each retry of an event delivery, milliseconds, comma-separated
    /// [default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h].
    #[arg(long, env = "SWITCHYARD_EVENT_RETRY_SCHEDULE_MS")]
    pub event_retry_schedule_ms: Option<String>,
    /// OpenTelemetry: the OTLP/HTTP collector traces are exported to, a base URL such as
    /// `http://otel-collector:4318` (`/v1/traces` is appended) [default: none, no export].
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

impl Args {
    /// `self`, each setting left out taken from `outer` (flags given before the command).
    pub fn or(self, outer: Args) -> Args {
        Args {
            config: self.config.or(outer.config),
            database_url: self.database_url.or(outer.database_url),
            data_dir: self.data_dir.or(outer.data_dir),
            log_format: self.log_format.or(outer.log_format),
            sqlite_synchronous: self.sqlite_synchronous.or(outer.sqlite_synchronous),
        }
    }
}

/// What `--help` adds after the flags: the variables that have no flag, for the commands that
/// read them.
pub const ENV_DATABASE: &str = "Environment variables without a flag:
  SWITCHYARD_DATABASE_URL_FILE  a file holding the database URL (instead of SWITCHYARD_DATABASE_URL)
  RUST_LOG                      log filter, e.g. `info,sqlx=warn` or `debug` [default: info,sqlx=warn,tower_http=warn]";

pub const ENV_KEYS: &str = "Environment variables without a flag:
  SWITCHYARD_MASTER_KEY         the active master key (64 hex digits; `switchyard keys generate`)
  SWITCHYARD_MASTER_KEY_FILE    a file holding it (also `master_key_file` in --config); rotated by `keys rotate`
  SWITCHYARD_OLD_MASTER_KEYS    retired keys that still open older data, comma-separated
                                (without any of these, embedded SQLite generates <data-dir>/master.key;
                                PostgreSQL requires one)
  SWITCHYARD_DATABASE_URL_FILE  a file holding the database URL (instead of SWITCHYARD_DATABASE_URL)
  RUST_LOG                      log filter, e.g. `info,sqlx=warn` or `debug` [default: info,sqlx=warn,tower_http=warn]";

impl ServeArgs {
    /// `self`, each setting left out taken from `outer` (flags given before the command).
    pub fn or(self, outer: ServeArgs) -> ServeArgs {
        ServeArgs {
            listen: self.listen.or(outer.listen),
            public_url: self.public_url.or(outer.public_url),
            oauth_state_ttl_seconds: self
                .oauth_state_ttl_seconds
                .or(outer.oauth_state_ttl_seconds),
            credential_sweep_seconds: self
                .credential_sweep_seconds
                .or(outer.credential_sweep_seconds),
            egress_allow: self.egress_allow.or(outer.egress_allow),
            rate_limit_failed_auth_per_minute: self
                .rate_limit_failed_auth_per_minute
                .or(outer.rate_limit_failed_auth_per_minute),
            rate_limit_provider_calls_per_org_per_minute: self
                .rate_limit_provider_calls_per_org_per_minute
                .or(outer.rate_limit_provider_calls_per_org_per_minute),
            rate_limit_provider_calls_per_client_per_minute: self
                .rate_limit_provider_calls_per_client_per_minute
                .or(outer.rate_limit_provider_calls_per_client_per_minute),
            end_user_jwt_max_lifetime_seconds: self
                .end_user_jwt_max_lifetime_seconds
                .or(outer.end_user_jwt_max_lifetime_seconds),
            variables_budget_ms: self.variables_budget_ms.or(outer.variables_budget_ms),
            header_read_timeout_seconds: self
                .header_read_timeout_seconds
                .or(outer.header_read_timeout_seconds),
            idle_timeout_seconds: self.idle_timeout_seconds.or(outer.idle_timeout_seconds),
            request_timeout_seconds: self
                .request_timeout_seconds
                .or(outer.request_timeout_seconds),
            max_connections: self.max_connections.or(outer.max_connections),
            job_workers: self.job_workers.or(outer.job_workers),
            job_poll_ms: self.job_poll_ms.or(outer.job_poll_ms),
            job_lease_seconds: self.job_lease_seconds.or(outer.job_lease_seconds),
            event_retry_schedule_ms: self
                .event_retry_schedule_ms
                .or(outer.event_retry_schedule_ms),
            otlp_endpoint: self.otlp_endpoint.or(outer.otlp_endpoint),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    log_format: Option<String>,
    master_key_file: Option<PathBuf>,
    oauth_state_ttl_seconds: Option<u64>,
    credential_sweep_seconds: Option<u64>,
    egress_allow: Option<String>,
    rate_limit_failed_auth_per_minute: Option<u32>,
    rate_limit_provider_calls_per_org_per_minute: Option<u32>,
    rate_limit_provider_calls_per_client_per_minute: Option<u32>,
    end_user_jwt_max_lifetime_seconds: Option<u64>,
    variables_budget_ms: Option<u64>,
    header_read_timeout_seconds: Option<u64>,
    idle_timeout_seconds: Option<u64>,
    request_timeout_seconds: Option<u64>,
    max_connections: Option<usize>,
    sqlite_synchronous: Option<String>,
    job_workers: Option<usize>,
    job_poll_ms: Option<u64>,
    job_lease_seconds: Option<u64>,
    event_retry_schedule_ms: Option<String>,
    otlp_endpoint: Option<String>,
}

pub struct Settings {
    pub listen: String,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub public_url: Option<String>,
    pub json_logs: bool,
    pub oauth_state_ttl_seconds: u64,
    pub credential_sweep_seconds: u64,
    pub egress_allow: String,
    pub rate_limits: switchyard_server::rate_limit::RateLimitSettings,
    pub end_user_jwt_max_lifetime_seconds: u64,
    pub variables_budget_ms: u64,
    pub header_read_timeout: std::time::Duration,
    pub idle_timeout: std::time::Duration,
    pub request_timeout: std::time::Duration,
    pub max_connections: usize,
    pub sqlite_synchronous: switchyard_store::SqliteSynchronous,
    pub workers: switchyard_server::jobs::WorkerSettings,
    pub delivery: switchyard_server::webhooks::DeliverySettings,
    pub otlp_endpoint: Option<String>,
    embedded: bool,
    master_key_file: Option<PathBuf>,
}

/// `NAME`, or the contents of the file `NAME_FILE` names.
fn env_or_file(name: &str) -> anyhow::Result<Option<String>> {
    if let Ok(v) = std::env::var(name) {
        if !v.is_empty() {
            return Ok(Some(v));
        }
    }
    match std::env::var(format!("{name}_FILE")) {
        Ok(path) if !path.is_empty() => Ok(Some(
            std::fs::read_to_string(&path)
                .with_context(|| format!("reading {name}_FILE ({path})"))?
                .trim()
                .to_owned(),
        )),
        _ => Ok(None),
    }
}

impl Settings {
    pub fn load(common: Args, args: ServeArgs) -> anyhow::Result<Self> {
        let file: File = match &common.config {
            Some(p) => toml::from_str(
                &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            )
            .with_context(|| format!("parsing {}", p.display()))?,
            None => File::default(),
        };
        let data_dir = common
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./switchyard-data"));
        let database_url = match common.database_url {
            Some(u) => Some(u),
            None => env_or_file("SWITCHYARD_DATABASE_URL")?,
        }
        .or(file.database_url);
        let embedded = database_url.is_none();
        let database_url = match database_url {
            Some(u) => u,
            None => format!("sqlite://{}", data_dir.join("switchyard.db").display()),
        };
        let log_format = common
            .log_format
            .or(file.log_format)
            .unwrap_or_else(|| "text".into());
        if !matches!(log_format.as_str(), "text" | "json") {
            bail!("--log-format must be text or json");
        }
        let end_user_jwt_max_lifetime_seconds = args
            .end_user_jwt_max_lifetime_seconds
            .or(file.end_user_jwt_max_lifetime_seconds)
            .unwrap_or(86400);
        if end_user_jwt_max_lifetime_seconds == 0 {
            bail!("--end-user-jwt-max-lifetime-seconds must be at least 1");
        }
        // Seconds, at least one: zero would close every connection (or answer every request) at once.
        let seconds =
            |name: &str, v: Option<u64>, default: u64| -> anyhow::Result<std::time::Duration> {
                match v.unwrap_or(default) {
                    0 => bail!("--{name} must be at least 1"),
                    n => Ok(std::time::Duration::from_secs(n)),
                }
            };
        let header_read_timeout = seconds(
            "header-read-timeout-seconds",
            args.header_read_timeout_seconds
                .or(file.header_read_timeout_seconds),
            10,
        )?;
        let idle_timeout = seconds(
            "idle-timeout-seconds",
            args.idle_timeout_seconds.or(file.idle_timeout_seconds),
            60,
        )?;
        let request_timeout = seconds(
            "request-timeout-seconds",
            args.request_timeout_seconds
                .or(file.request_timeout_seconds),
            60,
        )?;
        let max_connections = args
            .max_connections
            .or(file.max_connections)
            .unwrap_or(4096);
        if max_connections == 0 {
            bail!("--max-connections must be at least 1");
        }
        let sqlite_synchronous = match common.sqlite_synchronous.or(file.sqlite_synchronous) {
            Some(v) => v
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--sqlite-synchronous: {e}"))?,
            None => switchyard_store::SqliteSynchronous::default(),
        };
        let workers = switchyard_server::jobs::WorkerSettings {
            concurrency: args.job_workers.or(file.job_workers).unwrap_or(8),
            poll_interval: std::time::Duration::from_millis(
                args.job_poll_ms.or(file.job_poll_ms).unwrap_or(200).max(1),
            ),
            lease: seconds(
                "job-lease-seconds",
                args.job_lease_seconds.or(file.job_lease_seconds),
                60,
            )?,
        };
        let mut delivery = switchyard_server::webhooks::DeliverySettings::default();
        if let Some(s) = args
            .event_retry_schedule_ms
            .or(file.event_retry_schedule_ms)
        {
            delivery.retry_schedule = switchyard_server::webhooks::parse_schedule(&s)
                .map_err(|e| anyhow::anyhow!("--event-retry-schedule-ms: {e}"))?;
        }
        Ok(Self {
            workers,
            delivery,
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8950".into()),
            database_url,
            data_dir,
            public_url: args
                .public_url
                .or(file.public_url)
                .map(|u| u.trim_end_matches('/').to_owned()),
            json_logs: log_format == "json",
            oauth_state_ttl_seconds: args
                .oauth_state_ttl_seconds
                .or(file.oauth_state_ttl_seconds)
                .unwrap_or(600)
                .max(1),
            credential_sweep_seconds: args
                .credential_sweep_seconds
                .or(file.credential_sweep_seconds)
                .unwrap_or(60)
                .max(1),
            egress_allow: args.egress_allow.or(file.egress_allow).unwrap_or_default(),
            rate_limits: {
                let d = switchyard_server::rate_limit::RateLimitSettings::default();
                switchyard_server::rate_limit::RateLimitSettings {
                    failed_auth_per_minute: args
                        .rate_limit_failed_auth_per_minute
                        .or(file.rate_limit_failed_auth_per_minute)
                        .unwrap_or(d.failed_auth_per_minute),
                    provider_calls_per_org_per_minute: args
                        .rate_limit_provider_calls_per_org_per_minute
                        .or(file.rate_limit_provider_calls_per_org_per_minute)
                        .unwrap_or(d.provider_calls_per_org_per_minute),
                    provider_calls_per_client_per_minute: args
                        .rate_limit_provider_calls_per_client_per_minute
                        .or(file.rate_limit_provider_calls_per_client_per_minute)
                        .unwrap_or(d.provider_calls_per_client_per_minute),
                }
            },
            end_user_jwt_max_lifetime_seconds,
            variables_budget_ms: args
                .variables_budget_ms
                .or(file.variables_budget_ms)
                .unwrap_or(2000)
                .max(1),
            header_read_timeout,
            idle_timeout,
            request_timeout,
            max_connections,
            sqlite_synchronous,
            otlp_endpoint: args.otlp_endpoint.or(file.otlp_endpoint),
            embedded,
            master_key_file: file.master_key_file,
        })
    }

    /// The egress guard's policy: which internal ranges outbound requests may reach.
    pub fn egress_policy(&self) -> anyhow::Result<switchyard_server::egress::EgressPolicy> {
        switchyard_server::egress::EgressPolicy::parse(&self.egress_allow)
            .map_err(|e| anyhow::anyhow!("--egress-allow: {e}"))
    }

    /// Logging to stderr, and (`traces`: for `serve`) the OpenTelemetry export when configured.
    pub fn init_logging(&self, traces: bool) -> anyhow::Result<crate::telemetry::Telemetry> {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        use tracing_subscriber::Layer;
        let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn")
        });
        let (otel, telemetry) =
            crate::telemetry::layer(self.otlp_endpoint.as_deref().filter(|_| traces))?;
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
        let fmt = if self.json_logs {
            fmt.json()
                .flatten_event(true)
                .with_current_span(true)
                .boxed()
        } else {
            fmt.boxed()
        };
        tracing_subscriber::registry()
            .with(otel)
            .with(fmt)
            .with(filter)
            .init();
        telemetry.announce();
        Ok(telemetry)
    }

    pub async fn open_store(&self) -> anyhow::Result<switchyard_store::DynStore> {
        if self.database_url.starts_with("sqlite:") && self.embedded {
            std::fs::create_dir_all(&self.data_dir).with_context(|| {
                format!("creating the data directory {}", self.data_dir.display())
            })?;
        }
        let options = switchyard_store::ConnectOptions {
            sqlite_synchronous: self.sqlite_synchronous,
        };
        switchyard_store::connect_with(&self.database_url, &options)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "opening {}: {}",
                    switchyard_store::mask_url(&self.database_url),
                    e
                )
            })
    }

    /// Where the active master key lives: `SWITCHYARD_MASTER_KEY`, `SWITCHYARD_MASTER_KEY_FILE`,
    /// the config file's `master_key_file`, or (embedded SQLite only) `master.key` in the data
    /// directory, generated on first start.
    pub fn key_location(&self) -> anyhow::Result<KeyLocation> {
        if let Ok(v) = std::env::var("SWITCHYARD_MASTER_KEY") {
            if !v.is_empty() {
                return Ok(KeyLocation::Env(v));
            }
        }
        if let Ok(p) = std::env::var("SWITCHYARD_MASTER_KEY_FILE") {
            if !p.is_empty() {
                return Ok(KeyLocation::File(PathBuf::from(p)));
            }
        }
        if let Some(p) = &self.master_key_file {
            return Ok(KeyLocation::File(p.clone()));
        }
        if self.embedded {
            let path = self.data_dir.join("master.key");
            if !path.exists() {
                std::fs::create_dir_all(&self.data_dir)?;
                let key = MasterKey::generate_text();
                write_private(&path, key.as_bytes())?;
                tracing::warn!(path = %path.display(), "no master key configured: generated one; back it up, it is needed to read the stored credentials");
            }
            return Ok(KeyLocation::File(path));
        }
        bail!("no master key: set SWITCHYARD_MASTER_KEY or SWITCHYARD_MASTER_KEY_FILE (a key is generated automatically only for the embedded SQLite default)")
    }

    /// The key ring: the active key, then the retired keys that still open older rows
    /// (`SWITCHYARD_OLD_MASTER_KEYS`, comma-separated, and for a key file the lines of
    /// `<file>.old`). Key files are read again when they change, so a rotation reaches running
    /// servers without a restart.
    pub fn key_ring(&self) -> anyhow::Result<KeyRing> {
        let location = self.key_location()?;
        let source: switchyard_vault::KeySource =
            Box::new(move || location.load().map_err(|e| format!("{e:#}")));
        KeyRing::with_source(source).map_err(|e| anyhow::anyhow!(e))
    }
}

/// Where the active master key comes from.
#[derive(Clone, Debug)]
pub enum KeyLocation {
    Env(String),
    File(PathBuf),
}

impl KeyLocation {
    /// The file holding retired keys, one per line, next to a key file.
    pub fn old_keys_file(path: &Path) -> PathBuf {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".old");
        path.with_file_name(name)
    }

    pub fn load(&self) -> anyhow::Result<Vec<MasterKey>> {
        let mut texts = Vec::new();
        match self {
            KeyLocation::Env(text) => {
                texts.push(("SWITCHYARD_MASTER_KEY".to_owned(), text.clone()))
            }
            KeyLocation::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the master key file {}", path.display()))?;
                texts.push((path.display().to_string(), text));
                let old = Self::old_keys_file(path);
                if let Ok(lines) = std::fs::read_to_string(&old) {
                    texts.extend(
                        lines
                            .lines()
                            .filter(|l| !l.trim().is_empty())
                            .map(|l| (old.display().to_string(), l.to_owned())),
                    );
                }
            }
        }
        if let Ok(old) = std::env::var("SWITCHYARD_OLD_MASTER_KEYS") {
            texts.extend(
                old.split(',')
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| ("SWITCHYARD_OLD_MASTER_KEYS".to_owned(), k.to_owned())),
            );
        }
        texts
            .into_iter()
            .map(|(from, t)| {
                MasterKey::parse(&t).with_context(|| format!("a master key in {from}"))
            })
            .collect()
    }
}

pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}
