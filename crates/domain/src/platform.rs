//! Platform API v2's own model: organisation-wide end users (v2 has no hubs).
use crate::time::Timestamp;

/// A v2 end user: unique `external_id` within its organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformEndUser {
    pub id: String,
    pub organisation_id: String,
    pub external_id: String,
    pub display_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A v2 system: a connector (name, `templateBaseUrl` as its base URL, auth scheme configs) with
/// v2's `domain` and `labels`. v1 connectors read as systems with an empty domain and no labels.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformSystem {
    pub connector: crate::model::Connector,
    pub domain: String,
    pub labels: std::collections::BTreeMap<String, String>,
}

/// A v2 project. Its environments are stored apart ([`PlatformEnvironment`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformProject {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub execution_pool: String,
    /// The dynamic-variables JSON Schema, kept as text so that its keys keep their order.
    pub variables_schema: Option<String>,
    /// `ProjectSettings` and `ProjectMetadata`, JSON objects kept as text.
    pub settings: String,
    pub metadata: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One of a project's environments (what runs; `status` is `draft|running|suspended|error`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformEnvironment {
    pub id: String,
    pub organisation_id: String,
    pub project_id: String,
    pub name: String,
    pub status: String,
    pub execution_pool: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A connection template: a system linked into an environment under a name.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformTemplate {
    pub id: String,
    pub organisation_id: String,
    pub project_id: String,
    pub environment_id: String,
    pub system_id: String,
    pub name: String,
    pub dynamic: bool,
    pub created_at: Timestamp,
}

/// An end user's activation of an environment (or the environment's static activation): the
/// connections bound to its templates and its dynamic variables.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformActivation {
    pub id: String,
    pub organisation_id: String,
    pub environment_id: String,
    pub end_user: PlatformEndUser,
    /// The environment's static activation (of its hidden static user).
    pub is_static: bool,
    pub dynamic_variables: serde_json::Map<String, serde_json::Value>,
    /// `(template id, connection id)` pairs. Static templates without one are served by the
    /// environment's static connection.
    pub bindings: Vec<(String, String)>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Why a v2 connection could not be deleted.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionDeletion {
    Deleted,
    NotFound,
    /// A dynamic connection an activation uses: the activation ids.
    InUse(Vec<String>),
}
