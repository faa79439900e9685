//! Embedded API v1 activations: an end user's integration with its variables and the connection
//! bound to each of its templates.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use serde_json::{Map, Value};
use switchyard_domain::model::{Activation, EndUser, NewConnection};
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
    async fn find_activation(
        &self,
        org: &OrgId,
        end_user_id: &str,
        integration_id: &str,
    ) -> Result<Option<Activation>>;
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
