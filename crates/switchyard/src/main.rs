//! The `switchyard` binary: the server, and the administration commands that share its settings.
#![forbid(unsafe_code)]

mod config;
mod jobs_cli;
mod telemetry;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use config::Settings;
use jobs_cli::Jobs;
use std::sync::Arc;
use switchyard_server::AppState;

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "Switchyard: a self-hostable embedded integration platform, wire-compatible with Versori's API.",
    long_about = "Switchyard: a self-hostable embedded integration platform, wire-compatible with Versori's API.\n\nWith no command, serves (the flags below are `serve`'s). Every flag is also the environment variable shown, and a key of the --config file.",
    after_help = config::ENV_KEYS
)]
struct Cli {
    #[command(flatten)]
    db: config::Args,
    #[command(flatten)]
    serve: config::ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

// Parsed once at start-up: the size of its largest variant (serve's settings) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the API (what runs with no command).
    #[command(after_help = config::ENV_KEYS)]
    Serve {
        #[command(flatten)]
        db: config::Args,
        #[command(flatten)]
        serve: config::ServeArgs,
    },
    /// Run the database migrations and exit.
    #[command(after_help = config::ENV_DATABASE)]
    Migrate {
        #[command(flatten)]
        db: config::Args,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Organisations and API keys.
    #[command(subcommand)]
    Admin(Admin),
    /// Master keys: status, rotation.
    #[command(subcommand)]
    Keys(Keys),
    /// The job queue (event deliveries...).
    #[command(subcommand)]
    Jobs(Jobs),
}

#[derive(Subcommand)]
enum Keys {
    /// How many stored secrets each key seals, and which keys this configuration has.
    #[command(after_help = config::ENV_KEYS)]
    Status {
        /// Print JSON: {"activeKeyId", "keys": [{"id", "rows", "configured"}]}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: config::Args,
    },
    /// Print a new random master key (for SWITCHYARD_MASTER_KEY).
    Generate,
    /// Make a new key active and re-encrypt every stored secret with it, online, in batches.
    /// With a key file (SWITCHYARD_MASTER_KEY_FILE, or the generated embedded key), a new key is
    /// written to it and the old one kept in `<file>.old`; running servers pick it up within
    /// seconds. With SWITCHYARD_MASTER_KEY, first deploy the new key there (old ones in
    /// SWITCHYARD_OLD_MASTER_KEYS) and then run this to re-encrypt.
    #[command(after_help = config::ENV_KEYS)]
    Rotate {
        /// Rows per batch.
        #[arg(long, default_value_t = 500)]
        batch: i64,
        /// Re-encrypt with the current active key, without making a new one.
        #[arg(long)]
        no_new_key: bool,
        /// Seconds to wait after writing a new key file, for running servers to start sealing with it.
        #[arg(long, default_value_t = 3)]
        settle_seconds: u64,
        #[command(flatten)]
        db: config::Args,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Create an organisation and its first API key; prints {"organisationId", "apiKey"}.
    #[command(after_help = config::ENV_DATABASE)]
    CreateOrg {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: config::Args,
    },
    /// Create another API key for an organisation; prints {"id", "apiKey"}.
    #[command(after_help = config::ENV_DATABASE)]
    CreateApiKey {
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        db: config::Args,
    },
    /// Revoke an API key.
    #[command(after_help = config::ENV_DATABASE)]
    RevokeApiKey {
        #[arg(long)]
        org: String,
        #[arg(long = "key-id")]
        key_id: String,
        #[command(flatten)]
        db: config::Args,
    },
}

impl Command {
    /// The database settings this command was given, if it opens the database.
    fn db(&self) -> Option<&config::Args> {
        match self {
            Command::Serve { db, .. } | Command::Migrate { db } => Some(db),
            Command::Openapi => None,
            Command::Admin(
                Admin::CreateOrg { db, .. }
                | Admin::CreateApiKey { db, .. }
                | Admin::RevokeApiKey { db, .. },
            ) => Some(db),
            Command::Keys(Keys::Status { db, .. } | Keys::Rotate { db, .. }) => Some(db),
            Command::Keys(Keys::Generate) => None,
            Command::Jobs(Jobs::Status { db, .. }) => Some(db),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Openapi) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&switchyard_server::openapi())?
            );
            return Ok(());
        }
        Some(Command::Keys(Keys::Generate)) => {
            println!("{}", *switchyard_vault::MasterKey::generate_text());
            return Ok(());
        }
        _ => {}
    }
    let db = match cli.command.as_ref().and_then(Command::db) {
        Some(db) => db.clone().or(cli.db),
        None => cli.db,
    };
    let serve_args = match &cli.command {
        Some(Command::Serve { serve, .. }) => serve.clone().or(cli.serve),
        _ => cli.serve,
    };
    let settings = Settings::load(db, serve_args)?;
    // Dropped at the end of main, after the runtime: flushes the spans not yet exported.
    let _telemetry =
        settings.init_logging(matches!(cli.command, None | Some(Command::Serve { .. })))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            None | Some(Command::Serve { .. }) => serve(settings).await,
            Some(Command::Migrate { .. }) => {
                let store = settings.open_store().await?;
                tracing::info!(backend = store.backend(), "migrations are up to date");
                Ok(())
            }
            Some(Command::Admin(a)) => admin(settings, a).await,
            Some(Command::Keys(k)) => keys(settings, k).await,
            Some(Command::Jobs(Jobs::Status { json, .. })) => {
                jobs_cli::status(settings, json).await
            }
            Some(Command::Openapi) => unreachable!(),
        }
    })
}

async fn admin(settings: Settings, cmd: Admin) -> anyhow::Result<()> {
    let store = settings.open_store().await?;
    match cmd {
        Admin::CreateOrg { name, .. } => {
            if name.trim().is_empty() {
                bail!("--name must not be empty");
            }
            let org = switchyard_domain::model::Organisation {
                id: switchyard_domain::new_id(),
                name,
                created_at: switchyard_domain::time::now(),
            };
            let (text, key) = switchyard_server::auth::new_api_key(&org.id, "initial");
            store.create_organisation(&org, &key).await?;
            #[derive(serde::Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Created<'a> {
                organisation_id: &'a str,
                api_key: &'a str,
            }
            println!(
                "{}",
                serde_json::to_string(&Created {
                    organisation_id: &org.id,
                    api_key: &text
                })?
            );
        }
        Admin::CreateApiKey { org, name, .. } => {
            let org = store
                .operator_organisation(&org)
                .await?
                .with_context(|| format!("no organisation {org}"))?;
            let (text, key) = switchyard_server::auth::new_api_key(&org, &name);
            store.insert_api_key(&org, &key).await?;
            println!("{}", serde_json::json!({"id": key.id, "apiKey": text}));
        }
        Admin::RevokeApiKey { org, key_id, .. } => {
            let org = store
                .operator_organisation(&org)
                .await?
                .with_context(|| format!("no organisation {org}"))?;
            if !store
                .revoke_api_key(&org, &key_id, switchyard_domain::time::now())
                .await?
            {
                bail!("organisation {org} has no API key {key_id}");
            }
            eprintln!("revoked {key_id}");
        }
    }
    store.close().await;
    Ok(())
}

async fn keys(settings: Settings, cmd: Keys) -> anyhow::Result<()> {
    let store = settings.open_store().await?;
    let location = settings.key_location()?;
    let mut ring = settings.key_ring()?;
    match cmd {
        Keys::Generate => unreachable!(),
        Keys::Status { json, .. } => {
            let counts = store.sealed_counts_by_key().await?;
            let mut ids = ring.key_ids();
            for (id, _) in &counts {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
            let rows = |id: &str| counts.iter().find(|(k, _)| k == id).map_or(0, |(_, n)| *n);
            if json {
                let keys: Vec<_> = ids.iter().map(|id| serde_json::json!({"id": id, "rows": rows(id), "configured": ring.has_key(id)})).collect();
                println!(
                    "{}",
                    serde_json::json!({"activeKeyId": ring.active_key_id(), "keys": keys})
                );
            } else {
                println!("{:<10} {:>10}  state", "key", "rows");
                for id in &ids {
                    let state = if *id == ring.active_key_id() {
                        "active"
                    } else if ring.has_key(id) {
                        "retired (still opens)"
                    } else {
                        "MISSING: rows sealed by it cannot be opened"
                    };
                    println!("{id:<10} {:>10}  {state}", rows(id));
                }
            }
        }
        Keys::Rotate {
            batch,
            no_new_key,
            settle_seconds,
            ..
        } => {
            if !no_new_key {
                match &location {
                    config::KeyLocation::File(path) => {
                        let old_text = std::fs::read_to_string(path)?;
                        let old_file = config::KeyLocation::old_keys_file(path);
                        let mut retired = std::fs::read_to_string(&old_file).unwrap_or_default();
                        retired.push_str(old_text.trim());
                        retired.push('\n');
                        replace_private(&old_file, retired.as_bytes())?;
                        let new_key = switchyard_vault::MasterKey::generate_text();
                        replace_private(path, new_key.as_bytes())?;
                        ring = settings.key_ring()?;
                        eprintln!(
                            "new master key {} is active; the old one is kept in {}",
                            ring.active_key_id(),
                            old_file.display()
                        );
                        eprintln!("waiting {settle_seconds}s for running servers to start sealing with it");
                        tokio::time::sleep(std::time::Duration::from_secs(settle_seconds)).await;
                    }
                    config::KeyLocation::Env(_) => {
                        bail!("the master key comes from SWITCHYARD_MASTER_KEY: set it to a new key (switchyard keys generate) with the old one in SWITCHYARD_OLD_MASTER_KEYS on every server, then run `switchyard keys rotate --no-new-key`");
                    }
                }
            }
            reseal(&*store, &ring, batch).await?;
        }
    }
    store.close().await;
    Ok(())
}

/// Re-encrypts, in batches, every credential, remembered idempotent answer and event endpoint
/// secret not sealed by the active key; repeats until a pass finds none (servers may still write
/// with the old key for a moment).
async fn reseal(
    store: &dyn switchyard_store::Store,
    ring: &switchyard_vault::KeyRing,
    batch: i64,
) -> anyhow::Result<()> {
    let active = ring.active_key_id();
    let total: i64 = store
        .sealed_counts_by_key()
        .await?
        .iter()
        .filter(|(k, _)| *k != active)
        .map(|(_, n)| n)
        .sum();
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "re-encrypting {bar:40} {pos}/{len} secrets ({per_sec}, {eta} left)",
        )
        .expect("a valid template"),
    );
    let mut done = 0u64;
    let mut advance = || {
        done += 1;
        if done > bar.length().unwrap_or(0) {
            bar.set_length(done);
        }
        bar.set_position(done);
    };
    loop {
        let rows = store.credentials_to_reseal(&active, batch).await?;
        if rows.is_empty() {
            break;
        }
        for (org, id, sealed) in rows {
            let plain = ring
                .open(&sealed, &id)
                .map_err(|e| anyhow::anyhow!("credential {id}: {e}"))?;
            let resealed = ring.seal(&plain, &id);
            // A concurrent write replaced it, sealed by the active key: nothing to do.
            store
                .reseal_credential(&org, &id, &sealed, &resealed, &active)
                .await?;
            advance();
        }
    }
    loop {
        let rows = store.idempotency_to_reseal(&active, batch).await?;
        if rows.is_empty() {
            break;
        }
        for (scope, key, sealed) in rows {
            let aad = switchyard_server::idempotency::aad(&scope, &key);
            let plain = ring
                .open(&sealed, &aad)
                .map_err(|e| anyhow::anyhow!("the remembered answer to an Idempotency-Key: {e}"))?;
            let resealed = ring.seal(&plain, &aad);
            // Forgotten or replaced meanwhile: nothing to do.
            store
                .reseal_idempotency(&scope, &key, &sealed, &resealed, &active)
                .await?;
            advance();
        }
    }
    loop {
        let rows = store.endpoint_secrets_to_reseal(&active, batch).await?;
        if rows.is_empty() {
            break;
        }
        for (id, previous, sealed) in rows {
            let aad = switchyard_server::webhooks::secret_aad(&id);
            let plain = ring
                .open(&sealed, &aad)
                .map_err(|e| anyhow::anyhow!("event endpoint {id}'s secret: {e}"))?;
            let resealed = ring.seal(&plain, &aad);
            store
                .reseal_endpoint_secret(&id, previous, &sealed, &resealed, &active)
                .await?;
            advance();
        }
    }
    bar.finish();
    eprintln!("every secret is sealed by key {active}");
    Ok(())
}

/// Writes a private file (0600) through a temporary file and a rename, so readers never see half a key.
fn replace_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    config::write_private(&tmp, bytes)?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    switchyard_server::variables::configure(std::time::Duration::from_millis(
        settings.variables_budget_ms,
    ));
    let store = settings.open_store().await?;
    let vault = Arc::new(settings.key_ring()?);
    // A key ring that cannot open what is stored would fail on first use: fail now instead.
    for (key_id, n) in store.sealed_counts_by_key().await? {
        if !vault.has_key(&key_id) {
            bail!("the master key cannot open the existing data: {n} secrets are sealed by key {key_id}, which is not configured (set SWITCHYARD_MASTER_KEY or SWITCHYARD_MASTER_KEY_FILE to the key used before)");
        }
    }
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&[
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ])?
        .install_recorder()
        .context("installing the metrics recorder")?;
    let listener = switchyard_server::listener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let local = listener.local_addr()?;
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let state = AppState {
        store: store.clone(),
        vault,
        public_url: public_url.clone(),
        metrics: Some(metrics),
        egress: switchyard_server::egress::Egress::new(settings.egress_policy()?),
        rate_limits: Arc::new(switchyard_server::rate_limit::RateLimits::new(
            settings.rate_limits,
        )),
        oauth_state_ttl: std::time::Duration::from_secs(settings.oauth_state_ttl_seconds),
        refresh_locks: Arc::new(switchyard_server::refresh_locks::RefreshLocks::new()),
        end_user_jwt_max_lifetime: std::time::Duration::from_secs(
            settings.end_user_jwt_max_lifetime_seconds,
        ),
        auth_cache: Default::default(),
        key_uses: Default::default(),
    };
    state.start_background();
    // Key files may change under us (a rotation): look every two seconds.
    let ring = state.vault.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            match ring.reload() {
                Ok(Some(active)) => tracing::info!(key_id = %active, "a new master key is active"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the master keys again"),
            }
        }
    });
    // Credentials whose expiresAt has passed are deleted, each with an `expired` event.
    let sweep_store = store.clone();
    let every = std::time::Duration::from_secs(settings.credential_sweep_seconds);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            loop {
                match sweep_store
                    .sweep_expired_credentials(switchyard_domain::time::now(), 500)
                    .await
                {
                    Ok(events) => {
                        for e in &events {
                            tracing::info!(organisation = %e.organisation_id, credential = %e.credential_id, "an expired credential was deleted");
                        }
                        if events.len() < 500 {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not sweep expired credentials");
                        break;
                    }
                }
            }
        }
    });
    // The job workers: every node runs them (unless --job-workers 0), sharing the queue.
    let mut handlers: std::collections::HashMap<
        &'static str,
        Arc<dyn switchyard_server::jobs::JobHandler>,
    > = std::collections::HashMap::new();
    handlers.insert(
        switchyard_domain::events::DELIVER_JOB,
        Arc::new(switchyard_server::webhooks::Deliverer {
            store: store.clone(),
            vault: state.vault.clone(),
            egress: state.egress.clone(),
            settings: settings.delivery.clone(),
        }),
    );
    switchyard_server::jobs::spawn(store.clone(), settings.workers.clone(), handlers);
    // Keys of the rate limiters whose quota is whole again are forgotten now and then.
    let rate_limits = state.rate_limits.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            rate_limits.tidy();
        }
    });
    let app = switchyard_server::app_with(
        state,
        &switchyard_server::ops::RequestLimits {
            request_timeout: settings.request_timeout,
        },
    );
    let limits = switchyard_server::listener::ConnectionLimits {
        header_read_timeout: settings.header_read_timeout,
        idle_timeout: settings.idle_timeout,
        max_connections: settings.max_connections,
    };
    // Read from a pooled connection, so that the log says what the database really does.
    let durability = store
        .durability()
        .await
        .unwrap_or_else(|e| format!("unknown ({})", e));
    tracing::info!(listen = %local, public_url = %public_url, database = %switchyard_store::mask_url(&settings.database_url), backend = store.backend(), %durability, "switchyard is serving");
    tracing::info!(
        header_read_timeout_seconds = limits.header_read_timeout.as_secs(),
        idle_timeout_seconds = limits.idle_timeout.as_secs(),
        request_timeout_seconds = settings.request_timeout.as_secs(),
        max_connections = limits.max_connections,
        "connection and request limits"
    );
    if settings.request_timeout <= std::time::Duration::from_secs(30) {
        tracing::warn!(
            request_timeout_seconds = settings.request_timeout.as_secs(),
            "the request timeout is not above 30 s, the timeout of calls to OAuth providers: a slow provider's answer may arrive after the request was given up"
        );
    }
    warn_if_few_file_descriptors(limits.max_connections);
    // The line scripts wait for; in JSON mode a log event like every other line.
    let listening = format!(
        "switchyard listening on http://{local} (database: {}); {public_url}/ points to the hub page, the OpenAPI document and the docs",
        switchyard_store::mask_url(&settings.database_url)
    );
    if settings.json_logs {
        tracing::info!(url = %format_args!("http://{local}"), "{listening}");
    } else {
        eprintln!("{listening}");
    }
    switchyard_server::listener::serve(listener, app, limits, shutdown_signal()).await;
    tracing::info!("shut down: in-flight requests finished");
    store.close().await;
    Ok(())
}

/// Each connection is a file descriptor: a soft limit below the connection cap means `accept`
/// fails (and pauses) before the cap is reached. Linux only (`/proc/self/limits`).
fn warn_if_few_file_descriptors(max_connections: usize) {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return;
    };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    // The database pool, the log, the key files and the like need a few more.
    if let Some(soft) = soft.filter(|&soft| soft < max_connections + 64) {
        tracing::warn!(
            open_files_limit = soft,
            max_connections,
            "the open-files limit (ulimit -n) is below --max-connections plus a margin of 64: raise it, or lower --max-connections"
        );
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
