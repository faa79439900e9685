//! The store of Platform API v2 connections and activations. v2 connections are rows of the same
//! `connections` table as v1's (so tokens, refresh and key rotation serve both); what v2 adds is
//! who owns them (a v2 end user, or nobody for a static connection), the templates they serve,
//! and activations of environments. Tenant scoping as everywhere: the organisation id comes
//! first.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use serde_json::{Map, Value};
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::{Connection, NewConnection};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::platform::{
    ConnectionDeletion, PlatformActivation, PlatformEnvironment, PlatformTemplate,
};
use switchyard_domain::time::Timestamp;

/// Which v2 connections a list wants.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFilter {
    pub system_id: Option<String>,
    /// A v2 end user's internal id: only that user's (dynamic) connections.
    pub end_user_id: Option<String>,
    /// Only static connections serving a template of this project (and environment).
    pub project_id: Option<String>,
    pub environment_id: Option<String>,
}

/// v2 connections: static ones and end users', and the templates they serve.
#[async_trait]
pub trait PlatformConnectionStore: Send + Sync + 'static {
    /// Inserts a connection with its credentials, linked to `template_ids`, in one transaction.
    async fn insert_platform_connection(
        &self,
        org: &OrgId,
        connection: &NewConnection,
        template_ids: &[String],
    ) -> Result<()>;
    /// The organisation's v2 connections (v1 end users' are not among them), oldest first.
    async fn list_platform_connections(
        &self,
        org: &OrgId,
        filter: &ConnectionFilter,
        page: &PageRequest,
    ) -> Result<Page<Connection>>;
    /// `(connection id, template id)` links of these connections, oldest link first.
    async fn platform_connection_links(
        &self,
        org: &OrgId,
        connection_ids: &[String],
    ) -> Result<Vec<(String, String)>>;
    /// The static connection serving each of these templates, when there is one (the oldest).
    async fn static_connections(
        &self,
        org: &OrgId,
        template_ids: &[String],
    ) -> Result<Vec<(String, String)>>;
    /// Replaces name, base URL and the credential list (`connection.credentials`, whose new
    /// credentials are `new_credentials`); credentials no longer used are deleted. One transaction.
    async fn replace_platform_connection(
        &self,
        org: &OrgId,
        connection: &Connection,
        new_credentials: &[NewCredential],
    ) -> Result<bool>;
    /// Deletes a connection unless it is a dynamic connection an activation uses, atomically.
    async fn delete_platform_connection(&self, org: &OrgId, id: &str)
        -> Result<ConnectionDeletion>;
    /// Links a connection to a template; false when the link already existed.
    async fn link_platform_connection(
        &self,
        org: &OrgId,
        connection_id: &str,
        template_id: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// Removes a link (and the activation bindings it made for that template); false when there was none.
    async fn unlink_platform_connection(
        &self,
        org: &OrgId,
        connection_id: &str,
        template_id: &str,
    ) -> Result<bool>;
    /// The activations a connection is bound to.
    async fn platform_connection_bindings(
        &self,
        org: &OrgId,
        connection_id: &str,
    ) -> Result<Vec<String>>;
}

/// v2 activations of environments.
#[async_trait]
pub trait PlatformActivationStore: Send + Sync + 'static {
    async fn find_platform_environment(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<PlatformEnvironment>>;
    async fn find_platform_template(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<PlatformTemplate>>;

    /// Inserts an activation, the new connections it brings (each linked to the template it binds)
    /// and its bindings, in one transaction; a second activation of the same user and
    /// environment is a conflict.
    async fn insert_platform_activation(
        &self,
        org: &OrgId,
        activation: &PlatformActivation,
        new_connections: &[(NewConnection, String)],
    ) -> Result<()>;
    async fn get_platform_activation(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<PlatformActivation>>;
    /// An environment's activations, oldest first: the end users' or (`is_static`) its static one.
    async fn list_platform_activations(
        &self,
        org: &OrgId,
        environment_id: &str,
        is_static: bool,
    ) -> Result<Vec<PlatformActivation>>;
    /// One end user's activations (at most one per environment; `environment_id` narrows).
    async fn list_user_platform_activations(
        &self,
        org: &OrgId,
        end_user_id: &str,
        environment_id: Option<&str>,
    ) -> Result<Vec<PlatformActivation>>;
    /// Deletes the activation only; the user and connections stay.
    async fn delete_platform_activation(&self, org: &OrgId, id: &str) -> Result<bool>;
    /// Writes `variables` if the stored ones are still `expected` (compare and swap); false when
    /// they changed in between (or the activation is gone).
    async fn swap_platform_activation_variables(
        &self,
        org: &OrgId,
        id: &str,
        expected: &Map<String, Value>,
        variables: &Map<String, Value>,
        at: Timestamp,
    ) -> Result<bool>;
    /// The environment's static activation, created (with its static user) the first time.
    async fn static_platform_activation(
        &self,
        org: &OrgId,
        environment: &PlatformEnvironment,
        at: Timestamp,
    ) -> Result<PlatformActivation>;
}
