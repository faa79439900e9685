//! Connectors (Connect API v1 and, as systems, Platform API v2) and the grant secrets their auth
//! scheme configs hold.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::Connector;
use switchyard_domain::page::{Page, PageRequest};

/// Connectors.
#[async_trait]
pub trait ConnectorStore: Send + Sync + 'static {
    /// Inserts a connector with the credentials its auth scheme configs reference (grant secrets),
    /// in one transaction.
    async fn insert_connector(
        &self,
        org: &OrgId,
        connector: &Connector,
        credentials: &[NewCredential],
    ) -> Result<()>;
    async fn get_connector(&self, org: &OrgId, id: &str) -> Result<Option<Connector>>;
    async fn list_connectors(&self, org: &OrgId, page: &PageRequest) -> Result<Page<Connector>>;
    async fn update_connector(
        &self,
        org: &OrgId,
        connector: &Connector,
        credentials: &[NewCredential],
    ) -> Result<bool>;
    /// Deletes a connector that nothing uses; a conflict when hubs, templates or connections use it.
    async fn delete_connector(&self, org: &OrgId, id: &str) -> Result<bool>;
}
