//! Integrations, their connection templates, and a hub's integrations as an end user sees them.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::{
    ConnectionTemplate, EndUserIntegration, IdentifierType, Integration,
};
use switchyard_domain::page::{Page, PageRequest};

/// Which integrations a hub's end-user listing returns.
#[derive(Debug, Clone, Default)]
pub struct IntegrationFilter {
    /// `Some(true)`: deployed only; `Some(false)`: undeployed only; `None`: all.
    pub deployed: Option<bool>,
    /// Only these integrations (a hub session's `allowedIntegrations`), when set.
    pub only: Option<Vec<String>>,
}

/// Integrations and connection templates.
#[async_trait]
pub trait IntegrationStore: Send + Sync + 'static {
    /// Inserts an integration and, if given, its first connection template, in one transaction.
    async fn insert_integration(
        &self,
        org: &OrgId,
        integration: &Integration,
        template: Option<&ConnectionTemplate>,
        credentials: &[NewCredential],
    ) -> Result<()>;
    async fn get_integration(&self, org: &OrgId, id: &str) -> Result<Option<Integration>>;
    async fn list_integrations(
        &self,
        org: &OrgId,
        hub_id: &str,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Integration>>;
    async fn update_integration(&self, org: &OrgId, integration: &Integration) -> Result<bool>;
    /// Deletes an integration and its templates; a conflict when it has activations.
    async fn delete_integration(&self, org: &OrgId, id: &str) -> Result<bool>;
    async fn insert_template(
        &self,
        org: &OrgId,
        template: &ConnectionTemplate,
        credentials: &[NewCredential],
    ) -> Result<()>;
    async fn get_template(&self, org: &OrgId, id: &str) -> Result<Option<ConnectionTemplate>>;
    async fn list_templates(
        &self,
        org: &OrgId,
        integration_id: &str,
    ) -> Result<Vec<ConnectionTemplate>>;
    /// An integration and its templates (by id), in one read.
    async fn get_integration_with_templates(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<(Integration, Vec<ConnectionTemplate>)>>;
    /// The templates of a hub's integrations that use a connector.
    async fn list_hub_connector_templates(
        &self,
        org: &OrgId,
        hub_id: &str,
        connector_id: &str,
    ) -> Result<Vec<ConnectionTemplate>>;
    async fn list_templates_page(
        &self,
        org: &OrgId,
        integration_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ConnectionTemplate>>;
    /// Marks which of an integration's templates are used.
    async fn set_templates_used(
        &self,
        org: &OrgId,
        integration_id: &str,
        used: &[String],
    ) -> Result<()>;
    /// A hub's integrations as one end user sees them (named by internal or external id; someone
    /// unknown has nothing activated), and how many of them the user has activated; `None` when
    /// the organisation has no such hub. In two statements (the counts, the page), run side by
    /// side.
    async fn list_end_user_integrations(
        &self,
        org: &OrgId,
        hub_id: &str,
        user: (&str, IdentifierType),
        filter: IntegrationFilter,
        page: &PageRequest,
    ) -> Result<Option<(Page<EndUserIntegration>, i64)>>;
}
