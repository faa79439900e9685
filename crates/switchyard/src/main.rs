//! The `switchyard` binary: the server, and the administration commands that share its settings.
#![forbid(unsafe_code)]

mod config;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use config::Settings;
use std::sync::Arc;
use switchyard_server::AppState;

#[derive(Parser)]
#[command(name = "switchyard", version, about = "Switchyard: a self-hostable embedded integration platform, wire-compatible with Versori's API.")]
struct Cli {
    #[command(flatten)]
    settings: config::Args,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (what runs with no subcommand).
    Serve,
    /// Run the database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Organisations and API keys.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Subcommand)]
enum Admin {
    /// Create an organisation and its first API key; prints {"organisationId", "apiKey"}.
    CreateOrg {
        #[arg(long)]
        name: String,
    },
    /// Create another API key for an organisation; prints {"id", "apiKey"}.
    CreateApiKey {
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke an API key.
    RevokeApiKey {
        #[arg(long)]
        org: String,
        #[arg(long = "key-id")]
        key_id: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        println!("{}", serde_json::to_string_pretty(&switchyard_server::openapi())?);
        return Ok(());
    }
    let settings = Settings::load(cli.settings)?;
    settings.init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        match cli.command {
            None | Some(Command::Serve) => serve(settings).await,
            Some(Command::Migrate) => {
                let store = settings.open_store().await?;
                tracing::info!(backend = store.backend(), "migrations are up to date");
                Ok(())
            }
            Some(Command::Admin(a)) => admin(settings, a).await,
            Some(Command::Openapi) => unreachable!(),
        }
    })
}

async fn admin(settings: Settings, cmd: Admin) -> anyhow::Result<()> {
    let store = settings.open_store().await?;
    match cmd {
        Admin::CreateOrg { name } => {
            if name.trim().is_empty() {
                bail!("--name must not be empty");
            }
            let org = switchyard_domain::model::Organisation { id: switchyard_domain::new_id(), name, created_at: switchyard_domain::time::now() };
            let (text, key) = switchyard_server::auth::new_api_key(&org.id, "initial");
            store.create_organisation(&org, &key).await?;
            #[derive(serde::Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Created<'a> {
                organisation_id: &'a str,
                api_key: &'a str,
            }
            println!("{}", serde_json::to_string(&Created { organisation_id: &org.id, api_key: &text })?);
        }
        Admin::CreateApiKey { org, name } => {
            store.get_organisation(&org).await?.with_context(|| format!("no organisation {org}"))?;
            let (text, key) = switchyard_server::auth::new_api_key(&org, &name);
            store.insert_api_key(&org, &key).await?;
            println!("{}", serde_json::json!({"id": key.id, "apiKey": text}));
        }
        Admin::RevokeApiKey { org, key_id } => {
            if !store.revoke_api_key(&org, &key_id, switchyard_domain::time::now()).await? {
                bail!("organisation {org} has no API key {key_id}");
            }
            eprintln!("revoked {key_id}");
        }
    }
    store.close().await;
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let store = settings.open_store().await?;
    let vault = Arc::new(settings.key_ring()?);
    // A key ring that cannot open what is stored would fail on first use: fail now instead.
    for (key_id, n) in store.sealed_counts_by_key().await? {
        if !vault.has_key(&key_id) {
            bail!("the master key cannot open the existing data: {n} secrets are sealed by key {key_id}, which is not configured (set SWITCHYARD_MASTER_KEY or SWITCHYARD_MASTER_KEY_FILE to the key used before)");
        }
    }
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])?
        .install_recorder()
        .context("installing the metrics recorder")?;
    let listener = tokio::net::TcpListener::bind(&settings.listen).await.with_context(|| format!("cannot listen on {}", settings.listen))?;
    let local = listener.local_addr()?;
    let public_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{local}"));
    let state = AppState {
        store: store.clone(),
        vault,
        public_url: public_url.clone(),
        metrics: Some(metrics),
        http: AppState::provider_client(),
        oauth_state_ttl: std::time::Duration::from_secs(settings.oauth_state_ttl_seconds),
        refresh_locks: Arc::new(switchyard_server::tokens::RefreshLocks::new()),
    };
    let app = switchyard_server::app(state);
    tracing::info!(listen = %local, public_url = %public_url, database = %switchyard_store::mask_url(&settings.database_url), backend = store.backend(), "switchyard is serving");
    eprintln!("switchyard listening on http://{local} (database: {})", switchyard_store::mask_url(&settings.database_url));
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("shut down: in-flight requests finished");
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
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
