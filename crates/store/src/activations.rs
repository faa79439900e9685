//! Embedded API v1 activations: an end user's integration with its variables and the connection
//! bound to each of its templates.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use serde_json::{Map, Value};
use switchyard_domain::model::{Activation, EndUser, IdentifierType, Integration, NewConnection};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::time::Timestamp;

/// v1 activations.
#[async_trait]
pub trait ActivationStore: Send + Sync + 'static {
    /// Inserts an activation with the connections it creates, in one transaction. A second
    /// activation of the same (end user, integration) is a conflict naming the existing one.
    /// `new_user`, when given, is created in the same transaction (a hub session's first activation).
    async fn insert_activation(
        &self,
        org: &OrgId,
        activation: &Activation,
        new_user: Option<&EndUser>,
        new_connections: &[NewConnection],
    ) -> Result<()>;
    async fn get_activation(&self, org: &OrgId, id: &str) -> Result<Option<Activation>>;
    /// An activation (its bindings not loaded) with its integration and end user, as one answer
    /// shows them: one statement.
    async fn get_activation_view(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<(Activation, Integration, EndUser)>>;
    async fn find_activation(
        &self,
        org: &OrgId,
        end_user_id: &str,
        integration_id: &str,
    ) -> Result<Option<Activation>>;
    /// An end user's activations in a hub, each with its integration (named by internal or
    /// external id; someone unknown has none), optionally of one integration; `None` when the
    /// organisation has no such hub. Bindings are not loaded. Two statements (the counts, the
    /// page), side by side.
    async fn list_end_user_activations(
        &self,
        org: &OrgId,
        hub_id: &str,
        user: (&str, IdentifierType),
        integration_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Option<Page<(Activation, Integration)>>>;
    async fn list_activations(
        &self,
        org: &OrgId,
        end_user_id: &str,
        integration_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Activation>>;
    async fn update_activation_variables(
        &self,
        org: &OrgId,
        id: &str,
        variables: &Map<String, Value>,
        at: Timestamp,
    ) -> Result<bool>;
    async fn delete_activation(&self, org: &OrgId, id: &str) -> Result<bool>;
    /// Binds one of an activation's templates to another connection (created in the same
    /// transaction when `new_connection` is given). False when the activation does not exist.
    async fn rebind_activation(
        &self,
        org: &OrgId,
        id: &str,
        template_id: &str,
        connection_id: &str,
        new_connection: Option<&NewConnection>,
        at: Timestamp,
    ) -> Result<bool>;
}
