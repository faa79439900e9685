//! Switchyard's store: tenant-scoped traits, one per aggregate, with [`Store`] their sum, and an
//! SQLite and a PostgreSQL implementation, each with its own migrations, chosen by the database
//! URL's scheme.
//!
//! Every method that touches tenant data takes the organisation id first and filters on it, so a
//! caller can never reach another organisation's rows. Every method that writes more than one row
//! does so in one transaction. Errors are [`StoreError`]s: typed, with no words for the API's
//! clients (the server words them).
//!
//! Layout: each aggregate's trait is in the module of its name ([`hubs::HubStore`]...); its SQL
//! is in `sql/` under the same name, written once and compiled for each backend (see
//! `sql/mod.rs`). `use switchyard_store::prelude::*;` brings every trait into scope.
#![forbid(unsafe_code)]

use std::sync::Arc;

pub mod activations;
pub mod auth_changes;
pub mod connections;
pub mod connectors;
mod error;
pub mod events;
pub mod hubs;
pub mod idempotency;
pub mod integrations;
pub mod jobs;
pub mod oauth_states;
pub mod ops;
pub mod organisations;
pub mod platform;
pub mod platform_activations;
pub mod postgres;
pub mod signing_keys;
mod sql_text;
pub mod sqlite;
mod tenant;
#[cfg(feature = "testing")]
pub mod testing;

pub use activations::ActivationStore;
pub use auth_changes::{AuthFeed, AuthSignal};
pub use connections::{ConnectionStore, CredentialStore};
pub use connectors::ConnectorStore;
pub use error::{BoxError, Constraint, Result, StoreError};
pub use events::EventStore;
pub use hubs::HubStore;
pub use idempotency::{IdempotencyBegin, IdempotencyStore};
pub use integrations::{IntegrationFilter, IntegrationStore};
pub use jobs::JobStore;
pub use oauth_states::OAuthStateStore;
pub use ops::{OpsStore, SealingStore};
pub use organisations::OrganisationStore;
pub use platform::{PlatformEndUserStore, PlatformProjectStore, PlatformSystemStore};
pub use platform_activations::{
    ConnectionFilter, PlatformActivationStore, PlatformConnectionStore,
};
pub use signing_keys::SigningKeyStore;
pub use tenant::OrgId;

/// Every store trait, for `use switchyard_store::prelude::*;` where a concrete store (or a generic
/// one) is called. (Through a [`DynStore`], the traits' methods need no import.)
pub mod prelude {
    pub use crate::{
        ActivationStore, ConnectionStore, ConnectorStore, CredentialStore, EventStore, HubStore,
        IdempotencyStore, IntegrationStore, JobStore, OAuthStateStore, OpsStore, OrganisationStore,
        PlatformActivationStore, PlatformConnectionStore, PlatformEndUserStore,
        PlatformProjectStore, PlatformSystemStore, SealingStore, SigningKeyStore, Store,
    };
}

/// The whole store: every aggregate's trait. Implemented for every type that implements them all
/// (both backends), so that handlers hold one [`DynStore`].
pub trait Store:
    OpsStore
    + SealingStore
    + OrganisationStore
    + ConnectorStore
    + ConnectionStore
    + CredentialStore
    + OAuthStateStore
    + IdempotencyStore
    + HubStore
    + IntegrationStore
    + JobStore
    + EventStore
    + ActivationStore
    + PlatformEndUserStore
    + PlatformSystemStore
    + PlatformProjectStore
    + PlatformConnectionStore
    + PlatformActivationStore
    + SigningKeyStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: OpsStore
        + SealingStore
        + OrganisationStore
        + ConnectorStore
        + ConnectionStore
        + CredentialStore
        + OAuthStateStore
        + IdempotencyStore
        + HubStore
        + IntegrationStore
        + JobStore
        + EventStore
        + ActivationStore
        + PlatformEndUserStore
        + PlatformSystemStore
        + PlatformProjectStore
        + PlatformConnectionStore
        + PlatformActivationStore
        + SigningKeyStore
        + Send
        + Sync
        + 'static
{
}

pub type DynStore = Arc<dyn Store>;

/// Pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// How an embedded SQLite database makes a commit durable (`PRAGMA synchronous`, in WAL mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// The default: every commit is on disk (the WAL is synced) before it is acknowledged, so a
    /// 200 survives a power loss or an operating-system crash.
    #[default]
    Full,
    /// The WAL is synced only at checkpoints: faster commits, but the last transactions
    /// acknowledged before a power loss or an operating-system crash may be lost (never the
    /// database's consistency, and not on a crash of the process alone).
    Normal,
}

impl SqliteSynchronous {
    pub fn as_str(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "full",
            SqliteSynchronous::Normal => "normal",
        }
    }
}

impl std::str::FromStr for SqliteSynchronous {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(SqliteSynchronous::Full),
            "normal" => Ok(SqliteSynchronous::Normal),
            other => Err(format!(
                "{other:?} is not a SQLite synchronous setting: use full or normal"
            )),
        }
    }
}

/// Settings for [`connect_with`] beyond the URL.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// SQLite only: `PRAGMA synchronous` on every pooled connection.
    pub sqlite_synchronous: SqliteSynchronous,
}

/// Opens the store a URL names (`sqlite:` or `postgres:`/`postgresql:`) and runs its migrations,
/// with the default [`ConnectOptions`] (SQLite: `synchronous=FULL`).
pub async fn connect(url: &str) -> Result<DynStore> {
    connect_with(url, &ConnectOptions::default()).await
}

/// [`connect`], with settings beyond the URL.
pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(
            sqlite::SqliteStore::connect_with(url, options).await?,
        ))
    } else {
        Err(StoreError::InvalidUrl(
            "the database URL must start with sqlite: or postgres://".to_owned(),
        ))
    }
}

/// The URL with its password replaced by `***`, for logs.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
