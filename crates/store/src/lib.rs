//! Switchyard's store: one tenant-scoped trait, [`Store`], with an SQLite and a PostgreSQL
//! implementation, each with its own migrations, chosen by the database URL's scheme.
//!
//! Every method that touches tenant data takes the organisation id first and filters on it, so a
//! caller can never reach another organisation's rows. Every method that writes more than one row
//! does so in one transaction.
#![forbid(unsafe_code)]

use async_trait::async_trait;
use serde_json::{Map, Value};
use std::sync::Arc;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::*;
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::time::Timestamp;
use switchyard_domain::Result;

pub use platform::PlatformStore;
pub use platform_activations::{ConnectionFilter, PlatformActivationStore};
pub use signing_keys::SigningKeyStore;

#[macro_use]
mod sql;
#[macro_use]
mod platform_sql;
#[macro_use]
mod platform_activations_sql;
pub mod platform;
pub mod platform_activations;
#[macro_use]
pub mod signing_keys;
pub mod postgres;
pub mod sqlite;
pub mod testing;

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

/// Which integrations a hub's end-user listing returns.
#[derive(Debug, Clone, Default)]
pub struct IntegrationFilter {
    /// `Some(true)`: deployed only; `Some(false)`: undeployed only; `None`: all.
    pub deployed: Option<bool>,
    /// Only these integrations (a hub session's `allowedIntegrations`), when set.
    pub only: Option<Vec<String>>,
}

/// What a request carrying an `Idempotency-Key` is to do.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyBegin {
    /// First time: run it, then [`Store::idempotency_finish`] (or abandon it).
    Started,
    /// Done before: answer with this status and body (as [`Store::idempotency_finish`] stored
    /// it: sealed by the vault).
    Replay { status: u16, sealed_body: String },
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

#[async_trait]
pub trait Store:
    platform::PlatformStore
    + platform_activations::PlatformActivationStore
    + signing_keys::SigningKeyStore
    + Send
    + Sync
    + 'static
{
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> Result<()>;
    /// How commits are made durable, as read from a pooled connection: for SQLite
    /// `synchronous=FULL (2), journal_mode=wal`, for PostgreSQL its `synchronous_commit` and
    /// `fsync`. For the start-up log line.
    async fn durability(&self) -> Result<String>;
    fn pool_stats(&self) -> PoolStats;
    async fn close(&self);
    /// Key rotation: up to `limit` credentials sealed by a key other than `active_key_id`, as
    /// (organisation, id, sealed data), across organisations.
    async fn credentials_to_reseal(
        &self,
        active_key_id: &str,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>>;
    /// Replaces a credential's sealed data if it is still `old_sealed` (a concurrent write wins,
    /// and is sealed by the active key anyway). True when replaced.
    async fn reseal_credential(
        &self,
        org: &str,
        id: &str,
        old_sealed: &str,
        new_sealed: &str,
        key_id: &str,
    ) -> Result<bool>;
    /// Key rotation: up to `limit` remembered idempotent answers sealed by a key other than
    /// `active_key_id`, as (scope, key, sealed body).
    async fn idempotency_to_reseal(
        &self,
        active_key_id: &str,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>>;
    /// Replaces a remembered answer's sealed body if it is still `old_sealed`. True when replaced.
    async fn reseal_idempotency(
        &self,
        scope: &str,
        key: &str,
        old_sealed: &str,
        new_sealed: &str,
        key_id: &str,
    ) -> Result<bool>;
    /// For each vault key id, how many sealed values it seals (all organisations: an operator's
    /// view): credentials and remembered idempotent answers.
    async fn sealed_counts_by_key(&self) -> Result<Vec<(String, i64)>>;

    // Organisations and API keys.
    /// Creates an organisation and its first API key, in one transaction.
    async fn create_organisation(&self, org: &Organisation, key: &ApiKey) -> Result<()>;
    async fn get_organisation(&self, org: &str) -> Result<Option<Organisation>>;
    async fn insert_api_key(&self, org: &str, key: &ApiKey) -> Result<()>;
    async fn list_api_keys(&self, org: &str) -> Result<Vec<ApiKey>>;
    /// Revokes a key; false when the organisation has no such key.
    async fn revoke_api_key(&self, org: &str, key_id: &str, at: Timestamp) -> Result<bool>;
    /// The key with this hash, whoever owns it: this is how a request finds its organisation.
    async fn find_api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    /// Records a use of a key (at most once a minute is written).
    async fn touch_api_key(&self, key_id: &str, at: Timestamp) -> Result<()>;
    /// The organisation's settings; the defaults (empty lists) when it never set any.
    async fn get_organisation_settings(&self, org: &str) -> Result<OrganisationSettings>;
    /// Replaces the organisation's settings (one row, written in one statement).
    async fn put_organisation_settings(
        &self,
        org: &str,
        settings: &OrganisationSettings,
    ) -> Result<()>;

    // Connectors.
    /// Inserts a connector with the credentials its auth scheme configs reference (grant secrets),
    /// in one transaction.
    async fn insert_connector(
        &self,
        org: &str,
        connector: &Connector,
        credentials: &[NewCredential],
    ) -> Result<()>;
    async fn get_connector(&self, org: &str, id: &str) -> Result<Option<Connector>>;
    async fn list_connectors(&self, org: &str, page: &PageRequest) -> Result<Page<Connector>>;
    async fn update_connector(
        &self,
        org: &str,
        connector: &Connector,
        credentials: &[NewCredential],
    ) -> Result<bool>;
    /// Deletes a connector that nothing uses; a conflict when hubs, templates or connections use it.
    async fn delete_connector(&self, org: &str, id: &str) -> Result<bool>;

    // Connections.
    async fn insert_connection(&self, org: &str, connection: &NewConnection) -> Result<()>;
    async fn get_connection(&self, org: &str, id: &str) -> Result<Option<Connection>>;
    async fn get_connections(&self, org: &str, ids: &[String]) -> Result<Vec<Connection>>;
    /// The organisation's own connections to a connector (not end users').
    async fn list_connector_connections(
        &self,
        org: &str,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Connection>>;
    /// An end user's connections, optionally only those to some connectors.
    async fn list_end_user_connections(
        &self,
        org: &str,
        end_user_id: &str,
        connector_ids: &[String],
        page: &PageRequest,
    ) -> Result<Page<Connection>>;
    /// Updates name, variables and the credentials' order and auth scheme configs.
    async fn update_connection(&self, org: &str, connection: &Connection) -> Result<bool>;
    /// Whether an activation or an end user (as primary connection) uses the connection.
    async fn connection_in_use(&self, org: &str, id: &str) -> Result<bool>;
    /// Deletes a connection and its credentials, and unbinds it from activations.
    async fn delete_connection(&self, org: &str, id: &str) -> Result<bool>;

    /// A credential with its sealed data.
    async fn get_credential(&self, org: &str, id: &str) -> Result<Option<StoredCredential>>;

    // Token refresh: a lease per credential, so that one node at a time talks to the provider.
    /// Takes the refresh lease of a credential for `owner` until `until`, if nobody holds it (or
    /// a holder's lease ran out before `now`). True when taken.
    async fn take_refresh_lease(
        &self,
        org: &str,
        id: &str,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// Gives the lease back (only `owner`'s).
    async fn release_refresh_lease(&self, org: &str, id: &str, owner: &str) -> Result<()>;
    /// Writes refreshed data (new access token and, in the same write, a rotated refresh token),
    /// clears `errors` and `owner`'s lease. Written even when the lease ran out meanwhile: a token
    /// the provider issued is never dropped.
    async fn store_refreshed_credential(
        &self,
        org: &str,
        credential: &NewCredential,
        owner: &str,
        at: Timestamp,
    ) -> Result<()>;
    /// Records that a credential stopped working: `errors` (what its readers see) and an event
    /// (what the organisation reads), and releases the lease.
    async fn fail_credential(
        &self,
        org: &str,
        id: &str,
        owner: &str,
        errors: &[String],
        event: &CredentialEvent,
    ) -> Result<()>;
    async fn list_credential_events(
        &self,
        org: &str,
        credential_id: &str,
    ) -> Result<Vec<CredentialEvent>>;
    /// Deletes up to `limit` credentials whose `expiresAt` has passed, with their places in
    /// connections, and records an `expired` event for each, in one transaction. Not tenant
    /// scoped: the sweeper works for every organisation. Returns the events.
    async fn sweep_expired_credentials(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<CredentialEvent>>;
    /// Records that a credential was checked and works (`errors: []`).
    async fn mark_credential_valid(&self, org: &str, id: &str) -> Result<()>;

    // OAuth2 flows.
    async fn insert_oauth_state(&self, org: &str, state: &OAuthState) -> Result<()>;
    /// Marks the state used and returns it, if it exists, is unused and has not expired at `now`:
    /// a state works once, even when two requests race for it.
    async fn consume_oauth_state(
        &self,
        org: &str,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OAuthState>>;
    /// The opener origin recorded with a state that is unused and unexpired at `now`, whatever its
    /// organisation (the hosted callback page knows only the state), without consuming it. The
    /// outer `None`: no such live state; `Some(None)`: a live state recorded without an origin.
    async fn find_oauth_state_origin(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Option<String>>>;

    // Idempotency keys (not tenant data: `scope` identifies the caller).
    /// Claims `(scope, key)` for a request with `fingerprint`, or says what became of it. Claims
    /// older than a day are forgotten; a claim left running for five minutes (a crash) is taken over.
    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<IdempotencyBegin>;
    /// Remembers the answer: its status (plain) and its body, sealed by the vault key `key_id`.
    async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        sealed_body: &str,
        key_id: &str,
    ) -> Result<()>;
    /// Forgets a claim whose request failed in a way worth retrying (a 5xx).
    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<()>;

    // Hub page sessions.
    async fn insert_hub_session(&self, org: &str, session: &HubSession) -> Result<()>;
    /// A session by its token hash, whatever its organisation (this is how a request proves one),
    /// if it has not expired at `now`.
    async fn find_hub_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<HubSession>>;

    // Hubs.
    /// Inserts a hub; when it is the default, the organisation's other hubs stop being the default.
    async fn insert_hub(&self, org: &str, hub: &Hub, credentials: &[NewCredential]) -> Result<()>;
    /// A hub by id, soft-deleted ones included.
    async fn get_hub(&self, org: &str, id: &str) -> Result<Option<Hub>>;
    /// The organisation's hubs, soft-deleted ones excluded.
    async fn list_hubs(&self, org: &str) -> Result<Vec<Hub>>;
    async fn update_hub(&self, org: &str, hub: &Hub) -> Result<bool>;

    // End users.
    /// Inserts an end user and, if given, its primary connection, in one transaction. A duplicate
    /// external id in the hub is a conflict.
    async fn insert_end_user(
        &self,
        org: &str,
        user: &EndUser,
        primary: Option<&NewConnection>,
    ) -> Result<()>;
    async fn get_end_user(
        &self,
        org: &str,
        hub_id: &str,
        id: &str,
        kind: IdentifierType,
    ) -> Result<Option<EndUser>>;
    async fn get_end_user_by_id(&self, org: &str, id: &str) -> Result<Option<EndUser>>;
    async fn list_end_users(
        &self,
        org: &str,
        hub_id: &str,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<EndUser>>;
    /// Deletes an end user with its activations, connections and credentials.
    async fn delete_end_user(&self, org: &str, id: &str) -> Result<bool>;

    // Integrations and connection templates.
    /// Inserts an integration and, if given, its first connection template, in one transaction.
    async fn insert_integration(
        &self,
        org: &str,
        integration: &Integration,
        template: Option<&ConnectionTemplate>,
        credentials: &[NewCredential],
    ) -> Result<()>;
    async fn get_integration(&self, org: &str, id: &str) -> Result<Option<Integration>>;
    async fn list_integrations(
        &self,
        org: &str,
        hub_id: &str,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Integration>>;
    async fn update_integration(&self, org: &str, integration: &Integration) -> Result<bool>;
    /// Deletes an integration and its templates; a conflict when it has activations.
    async fn delete_integration(&self, org: &str, id: &str) -> Result<bool>;
    async fn insert_template(
        &self,
        org: &str,
        template: &ConnectionTemplate,
        credentials: &[NewCredential],
    ) -> Result<()>;
    async fn get_template(&self, org: &str, id: &str) -> Result<Option<ConnectionTemplate>>;
    async fn list_templates(
        &self,
        org: &str,
        integration_id: &str,
    ) -> Result<Vec<ConnectionTemplate>>;
    /// An integration and its templates (by id), in one read.
    async fn get_integration_with_templates(
        &self,
        org: &str,
        id: &str,
    ) -> Result<Option<(Integration, Vec<ConnectionTemplate>)>>;
    /// The templates of a hub's integrations that use a connector.
    async fn list_hub_connector_templates(
        &self,
        org: &str,
        hub_id: &str,
        connector_id: &str,
    ) -> Result<Vec<ConnectionTemplate>>;
    async fn list_templates_page(
        &self,
        org: &str,
        integration_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ConnectionTemplate>>;
    /// Marks which of an integration's templates are used.
    async fn set_templates_used(
        &self,
        org: &str,
        integration_id: &str,
        used: &[String],
    ) -> Result<()>;
    /// A hub's integrations as one end user (or, with `None`, someone with nothing) sees them, and
    /// how many of them the user has activated.
    async fn list_end_user_integrations(
        &self,
        org: &str,
        hub_id: &str,
        end_user_id: Option<&str>,
        filter: IntegrationFilter,
        page: &PageRequest,
    ) -> Result<(Page<EndUserIntegration>, i64)>;

    // Activations.
    /// Inserts an activation with the connections it creates, in one transaction. A second
    /// activation of the same (end user, integration) is a conflict naming the existing one.
    /// `new_user`, when given, is created in the same transaction (a hub session's first activation).
    async fn insert_activation(
        &self,
        org: &str,
        activation: &Activation,
        new_user: Option<&EndUser>,
        new_connections: &[NewConnection],
    ) -> Result<()>;
    async fn get_activation(&self, org: &str, id: &str) -> Result<Option<Activation>>;
    async fn find_activation(
        &self,
        org: &str,
        end_user_id: &str,
        integration_id: &str,
    ) -> Result<Option<Activation>>;
    async fn list_activations(
        &self,
        org: &str,
        end_user_id: &str,
        integration_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Activation>>;
    async fn update_activation_variables(
        &self,
        org: &str,
        id: &str,
        variables: &Map<String, Value>,
        at: Timestamp,
    ) -> Result<bool>;
    async fn delete_activation(&self, org: &str, id: &str) -> Result<bool>;
    /// Binds one of an activation's templates to another connection (created in the same
    /// transaction when `new_connection` is given). False when the activation does not exist.
    async fn rebind_activation(
        &self,
        org: &str,
        id: &str,
        template_id: &str,
        connection_id: &str,
        new_connection: Option<&NewConnection>,
        at: Timestamp,
    ) -> Result<bool>;
}

pub type DynStore = Arc<dyn Store>;

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
        Err(switchyard_domain::Error::bad_request(
            "the database URL must start with sqlite: or postgres://",
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
