//! The store of Platform API v2's own resources, kept apart from [`crate::Store`]'s v1 methods.
//! Every [`crate::Store`] is a `PlatformStore` too, so handlers reach these methods through the
//! same `DynStore`. Tenant scoping as in [`crate::Store`]: the organisation id comes first.
use async_trait::async_trait;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::platform::{PlatformEndUser, PlatformEnvironment, PlatformProject, PlatformSystem, PlatformTemplate};
use switchyard_domain::Result;

#[async_trait]
pub trait PlatformStore: Send + Sync + 'static {
    // End users (organisation-wide).
    /// Inserts an end user; a duplicate external id in the organisation is a conflict.
    async fn insert_platform_end_user(&self, org: &str, user: &PlatformEndUser) -> Result<()>;
    async fn get_platform_end_user(&self, org: &str, id: &str) -> Result<Option<PlatformEndUser>>;
    async fn find_platform_end_user_by_external_id(&self, org: &str, external_id: &str) -> Result<Option<PlatformEndUser>>;
    /// The organisation's end users, oldest first; `search` matches id, external id and display name.
    async fn list_platform_end_users(&self, org: &str, search: Option<&str>, page: &PageRequest) -> Result<Page<PlatformEndUser>>;
    /// Deletes an end user; false when the organisation has no such user.
    async fn delete_platform_end_user(&self, org: &str, id: &str) -> Result<bool>;

    // Systems: connectors with v2's domain and labels. Deleting one is `Store::delete_connector`.
    /// Inserts the connector, its extra row and the grant credentials, in one transaction.
    async fn insert_platform_system(&self, org: &str, system: &PlatformSystem, credentials: &[NewCredential]) -> Result<()>;
    async fn get_platform_system(&self, org: &str, id: &str) -> Result<Option<PlatformSystem>>;
    /// The organisation's systems (every connector), oldest first; `search` matches name and domain.
    async fn list_platform_systems(&self, org: &str, search: Option<&str>, page: &PageRequest) -> Result<Page<PlatformSystem>>;

    // Projects, environments and connection templates.
    /// Inserts a project with its first environment, in one transaction.
    async fn insert_platform_project(&self, org: &str, project: &PlatformProject, environment: &PlatformEnvironment) -> Result<()>;
    async fn get_platform_project(&self, org: &str, id: &str) -> Result<Option<PlatformProject>>;
    /// The organisation's projects, oldest first (Versori's ListProjects is not paged).
    async fn list_platform_projects(&self, org: &str) -> Result<Vec<PlatformProject>>;
    /// A project's environments, oldest first.
    async fn list_platform_environments(&self, org: &str, project_id: &str) -> Result<Vec<PlatformEnvironment>>;
    /// Deletes a project with its environments and templates.
    async fn delete_platform_project(&self, org: &str, id: &str) -> Result<bool>;
    /// A duplicate name in the environment is a conflict.
    async fn insert_platform_template(&self, org: &str, template: &PlatformTemplate) -> Result<()>;
    /// A project's templates (only one environment's, when given), oldest first.
    async fn list_platform_templates(&self, org: &str, project_id: &str, environment_id: Option<&str>) -> Result<Vec<PlatformTemplate>>;
}
