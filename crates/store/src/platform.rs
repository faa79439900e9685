//! The store of Platform API v2's own resources: end users (organisation-wide), systems
//! (connectors with v2's domain and labels), projects with their environments and connection
//! templates. Every [`crate::Store`] implements these traits, so handlers reach them through the
//! same `DynStore`. Tenant scoping as everywhere: the organisation id comes first.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use std::collections::BTreeMap;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::platform::{
    PlatformEndUser, PlatformEnvironment, PlatformProject, PlatformSystem, PlatformTemplate,
};
use switchyard_domain::time::Timestamp;

/// v2 end users (organisation-wide).
#[async_trait]
pub trait PlatformEndUserStore: Send + Sync + 'static {
    /// Inserts an end user; a duplicate external id in the organisation is a conflict.
    async fn insert_platform_end_user(&self, org: &OrgId, user: &PlatformEndUser) -> Result<()>;
    async fn get_platform_end_user(&self, org: &OrgId, id: &str)
        -> Result<Option<PlatformEndUser>>;
    async fn find_platform_end_user_by_external_id(
        &self,
        org: &OrgId,
        external_id: &str,
    ) -> Result<Option<PlatformEndUser>>;
    /// The organisation's end users, oldest first; `search` matches id, external id and display
    /// name; `activated: Some((environment id, yes))` keeps those with (`yes`) or without an
    /// activation of that environment.
    async fn list_platform_end_users(
        &self,
        org: &OrgId,
        search: Option<&str>,
        activated: Option<(&str, bool)>,
        page: &PageRequest,
    ) -> Result<Page<PlatformEndUser>>;
    /// Deletes an end user; false when the organisation has no such user.
    async fn delete_platform_end_user(&self, org: &OrgId, id: &str) -> Result<bool>;
}

/// Systems: connectors with v2's domain and labels. Deleting one is
/// [`crate::ConnectorStore::delete_connector`].
#[async_trait]
pub trait PlatformSystemStore: Send + Sync + 'static {
    /// Inserts the connector, its extra row and the grant credentials, in one transaction.
    async fn insert_platform_system(
        &self,
        org: &OrgId,
        system: &PlatformSystem,
        credentials: &[NewCredential],
    ) -> Result<()>;
    async fn get_platform_system(&self, org: &OrgId, id: &str) -> Result<Option<PlatformSystem>>;
    /// The organisation's systems (every connector), oldest first; `search` matches name and domain.
    async fn list_platform_systems(
        &self,
        org: &OrgId,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<PlatformSystem>>;
    /// Replaces the connector's name, base URL and auth scheme configs and the system's domain and
    /// labels (a v1 connector gets them), adding the new grant credentials, in one transaction;
    /// false when there is no such system.
    async fn update_platform_system(
        &self,
        org: &OrgId,
        system: &PlatformSystem,
        credentials: &[NewCredential],
    ) -> Result<bool>;
}

/// Projects, environments and connection templates.
#[async_trait]
pub trait PlatformProjectStore: Send + Sync + 'static {
    /// Inserts a project with its first environment, in one transaction.
    async fn insert_platform_project(
        &self,
        org: &OrgId,
        project: &PlatformProject,
        environment: &PlatformEnvironment,
    ) -> Result<()>;
    async fn get_platform_project(&self, org: &OrgId, id: &str) -> Result<Option<PlatformProject>>;
    /// Writes the project's name, settings, metadata and variables schema if its `updated_at` is
    /// still `expected` (compare and swap); false when it changed in between or the project is gone.
    async fn swap_platform_project(
        &self,
        org: &OrgId,
        project: &PlatformProject,
        expected: Timestamp,
    ) -> Result<bool>;
    /// The organisation's projects, oldest first (Versori's ListProjects is not paged).
    async fn list_platform_projects(&self, org: &OrgId) -> Result<Vec<PlatformProject>>;
    /// A project's environments, oldest first.
    async fn list_platform_environments(
        &self,
        org: &OrgId,
        project_id: &str,
    ) -> Result<Vec<PlatformEnvironment>>;
    /// When each of a project's environments was last deployed (never deployed: absent).
    async fn platform_deploy_times(
        &self,
        org: &OrgId,
        project_id: &str,
    ) -> Result<BTreeMap<String, Timestamp>>;
    /// Adds an environment with the given templates (each with its auth scheme config ids), in one
    /// transaction: a conflict when the project already has `max` environments or one of that name.
    async fn insert_platform_environment(
        &self,
        org: &OrgId,
        environment: &PlatformEnvironment,
        templates: &[(PlatformTemplate, Option<Vec<String>>)],
        max: usize,
    ) -> Result<()>;
    /// Deletes one of a project's environments with its templates, their connection links and the
    /// environment's activations and static user; a conflict when it is the project's last one.
    /// False when the project has no such environment.
    async fn delete_platform_environment(
        &self,
        org: &OrgId,
        project_id: &str,
        id: &str,
    ) -> Result<bool>;
    /// Marks an environment deployed (`running`, deploy time `at`) if each of its static templates
    /// has a static connection; otherwise changes nothing and returns the names of the static
    /// templates without one, oldest first. One transaction.
    async fn deploy_platform_environment(
        &self,
        org: &OrgId,
        id: &str,
        at: Timestamp,
    ) -> Result<Vec<String>>;
    /// Sets an environment's status; false when there is no such environment.
    async fn set_platform_environment_status(
        &self,
        org: &OrgId,
        id: &str,
        status: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// Deletes a project with its environments and templates.
    async fn delete_platform_project(&self, org: &OrgId, id: &str) -> Result<bool>;
    /// A duplicate name in the environment is a conflict.
    async fn insert_platform_template(
        &self,
        org: &OrgId,
        template: &PlatformTemplate,
    ) -> Result<()>;
    /// A project's templates (only one environment's, when given), oldest first.
    async fn list_platform_templates(
        &self,
        org: &OrgId,
        project_id: &str,
        environment_id: Option<&str>,
    ) -> Result<Vec<PlatformTemplate>>;
    /// `(template id, template name, auth scheme config ids)` of the templates that use only some of
    /// their system's auth scheme configs, in a project and/or of a system, oldest first.
    async fn platform_template_schemes(
        &self,
        org: &OrgId,
        project_id: Option<&str>,
        system_id: Option<&str>,
    ) -> Result<Vec<(String, String, Vec<String>)>>;
    /// Writes a template's name, `dynamic` flag and auth scheme config ids (`None`: all of its
    /// system's); a duplicate name in the environment is a conflict. False when it is gone.
    async fn update_platform_template(
        &self,
        org: &OrgId,
        template: &PlatformTemplate,
        auth_scheme_config_ids: Option<&[String]>,
    ) -> Result<bool>;
    /// Deletes a project's template; its connection links and activation bindings go with it.
    async fn delete_platform_template(
        &self,
        org: &OrgId,
        project_id: &str,
        id: &str,
    ) -> Result<bool>;
}
