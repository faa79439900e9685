//! Hubs, their end users (Embedded API v1) and hub page sessions.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::{EndUser, Hub, HubSession, IdentifierType, NewConnection};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::time::Timestamp;

/// Hubs, end users and hub page sessions.
#[async_trait]
pub trait HubStore: Send + Sync + 'static {
    async fn insert_hub_session(&self, org: &OrgId, session: &HubSession) -> Result<()>;
    /// A session by its token hash, whatever its organisation (this is how a request proves one),
    /// if it has not expired at `now`.
    async fn find_hub_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(OrgId, HubSession)>>;

    // Hubs.
    /// Inserts a hub; when it is the default, the organisation's other hubs stop being the default.
    async fn insert_hub(&self, org: &OrgId, hub: &Hub, credentials: &[NewCredential])
        -> Result<()>;
    /// A hub by id, soft-deleted ones included.
    async fn get_hub(&self, org: &OrgId, id: &str) -> Result<Option<Hub>>;
    /// The organisation's hubs, soft-deleted ones excluded.
    async fn list_hubs(&self, org: &OrgId) -> Result<Vec<Hub>>;
    async fn update_hub(&self, org: &OrgId, hub: &Hub) -> Result<bool>;

    // End users.
    /// Inserts an end user and, if given, its primary connection, in one transaction. A duplicate
    /// external id in the hub is a conflict.
    async fn insert_end_user(
        &self,
        org: &OrgId,
        user: &EndUser,
        primary: Option<&NewConnection>,
    ) -> Result<()>;
    async fn get_end_user(
        &self,
        org: &OrgId,
        hub_id: &str,
        id: &str,
        kind: IdentifierType,
    ) -> Result<Option<EndUser>>;
    async fn get_end_user_by_id(&self, org: &OrgId, id: &str) -> Result<Option<EndUser>>;
    async fn list_end_users(
        &self,
        org: &OrgId,
        hub_id: &str,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<EndUser>>;
    /// Deletes an end user with its activations, connections and credentials.
    async fn delete_end_user(&self, org: &OrgId, id: &str) -> Result<bool>;
}
