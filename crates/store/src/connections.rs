//! Connections and their credentials: v1 connections (the organisation's and end users'), the
//! credentials they hold, token refresh leases, credential events and the expiry sweep.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::{Connection, CredentialEvent, NewConnection, StoredCredential};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::time::Timestamp;

/// Connections (v1; v2's are in [`crate::PlatformConnectionStore`]).
#[async_trait]
pub trait ConnectionStore: Send + Sync + 'static {
    async fn insert_connection(&self, org: &OrgId, connection: &NewConnection) -> Result<()>;
    async fn get_connection(&self, org: &OrgId, id: &str) -> Result<Option<Connection>>;
    async fn get_connections(&self, org: &OrgId, ids: &[String]) -> Result<Vec<Connection>>;
    /// The organisation's own connections to a connector (not end users').
    async fn list_connector_connections(
        &self,
        org: &OrgId,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<Connection>>;
    /// An end user's connections, optionally only those to some connectors.
    async fn list_end_user_connections(
        &self,
        org: &OrgId,
        end_user_id: &str,
        connector_ids: &[String],
        page: &PageRequest,
    ) -> Result<Page<Connection>>;
    /// Updates name, variables and the credentials' order and auth scheme configs.
    async fn update_connection(&self, org: &OrgId, connection: &Connection) -> Result<bool>;
    /// Whether an activation or an end user (as primary connection) uses the connection.
    async fn connection_in_use(&self, org: &OrgId, id: &str) -> Result<bool>;
    /// Deletes a connection and its credentials, and unbinds it from activations.
    async fn delete_connection(&self, org: &OrgId, id: &str) -> Result<bool>;
}

/// Credentials: sealed data, refresh leases, events, expiry.
#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    /// A credential with its sealed data.
    async fn get_credential(&self, org: &OrgId, id: &str) -> Result<Option<StoredCredential>>;

    // Token refresh: a lease per credential, so that one node at a time talks to the provider.
    /// Takes the refresh lease of a credential for `owner` until `until`, if nobody holds it (or
    /// a holder's lease ran out before `now`). True when taken.
    async fn take_refresh_lease(
        &self,
        org: &OrgId,
        id: &str,
        owner: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// Gives the lease back (only `owner`'s).
    async fn release_refresh_lease(&self, org: &OrgId, id: &str, owner: &str) -> Result<()>;
    /// Writes refreshed data (new access token and, in the same write, a rotated refresh token),
    /// clears `errors` and `owner`'s lease. Written even when the lease ran out meanwhile: a token
    /// the provider issued is never dropped.
    async fn store_refreshed_credential(
        &self,
        org: &OrgId,
        credential: &NewCredential,
        owner: &str,
        at: Timestamp,
    ) -> Result<()>;
    /// Records that a credential stopped working: `errors` (what its readers see) and an event
    /// (what the organisation reads), and releases the lease.
    async fn fail_credential(
        &self,
        org: &OrgId,
        id: &str,
        owner: &str,
        errors: &[String],
        event: &CredentialEvent,
    ) -> Result<()>;
    async fn list_credential_events(
        &self,
        org: &OrgId,
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
    async fn mark_credential_valid(&self, org: &OrgId, id: &str) -> Result<()>;
}
