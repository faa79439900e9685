//! The entities Switchyard stores. Every one belongs to an organisation.
use crate::auth_scheme::AuthSchemeConfig;
use crate::credential::{CredentialView, NewCredential};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
}

/// An organisation's API key. Only the SHA-256 hash of the key is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    /// The first characters of the key, enough to recognise it in a list.
    pub prefix: String,
    pub key_hash: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// `{name, value}`: fills a `{{name}}` placeholder in a connector's base URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConnectionVariable {
    pub name: String,
    pub value: String,
}

/// An external API (a v1 connector, a v2 system) with the ways to authenticate to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Connector {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub base_url: String,
    pub auth_scheme_configs: Vec<AuthSchemeConfig>,
    pub connection_variables: Vec<ConnectionVariable>,
    pub image_url: String,
    pub documentation_url: String,
    pub public: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Whether a connection credential signs outbound calls (`action`) or verifies inbound ones
/// (`trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialRole {
    Action,
    Trigger,
}

impl CredentialRole {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialRole::Action => "action",
            CredentialRole::Trigger => "trigger",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "trigger" {
            CredentialRole::Trigger
        } else {
            CredentialRole::Action
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionCredential {
    pub id: String,
    pub role: CredentialRole,
    pub auth_scheme_config: AuthSchemeConfig,
    pub credential: CredentialView,
}

/// Credentials for one connector: a v1 end user's (`end_user_id` set), a v2 end user's
/// (`platform_end_user_id` set: a dynamic connection) or the organisation's own (a static one).
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: String,
    pub organisation_id: String,
    pub connector_id: String,
    pub end_user_id: Option<String>,
    pub platform_end_user_id: Option<String>,
    /// v2's override of the connector's base URL (scheme and host only); empty: the connector's.
    pub base_url: String,
    pub name: String,
    pub credentials: Vec<ConnectionCredential>,
    pub variables: Vec<ConnectionVariable>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A connection to be written, with its credentials' sealed data.
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub connection: Connection,
    pub credentials: Vec<NewCredential>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hub {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub primary_connector_id: String,
    pub auth_scheme_config: AuthSchemeConfig,
    pub is_default: bool,
    /// The redirect URLs Embedded v1 `oauth2/initialise` may name for this hub (besides the hosted
    /// callback, always allowed).
    pub oauth_redirect_urls: Vec<String>,
    pub deleted_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EndUser {
    pub id: String,
    pub organisation_id: String,
    pub hub_id: String,
    pub external_id: String,
    pub display_name: String,
    pub primary_connection_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// How a path names an end user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IdentifierType {
    Internal,
    #[default]
    External,
}

/// Something an end user activates: a v1 hub integration.
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    pub id: String,
    pub organisation_id: String,
    pub hub_id: String,
    pub name: String,
    pub description: String,
    pub summary: String,
    pub image_url: String,
    pub screenshot_url: String,
    pub variables_schema: Option<Value>,
    pub board_id: String,
    pub is_deployed: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One connection an integration needs: a connector, and the auth scheme end users use for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionTemplate {
    pub id: String,
    pub organisation_id: String,
    pub integration_id: String,
    pub connector_id: String,
    pub name: String,
    pub image_url: String,
    pub auth_scheme_config: AuthSchemeConfig,
    pub is_primary: bool,
    pub is_used: bool,
    pub created_at: Timestamp,
}

/// An end user's activation of an integration: one connection per template, and the dynamic
/// variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    pub id: String,
    pub organisation_id: String,
    pub hub_id: String,
    pub integration_id: String,
    pub end_user_id: String,
    pub dynamic_variables: Map<String, Value>,
    /// `(template id, connection id)` pairs.
    pub bindings: Vec<(String, String)>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An integration as one end user sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct EndUserIntegration {
    pub integration: Integration,
    pub is_activated: bool,
}

/// A pending OAuth2 authorization-code flow, created by `oauth2/initialise` and consumed, once,
/// when the code comes back.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthState {
    /// SHA-256 (hex) of the `state` parameter; the state itself is not kept.
    pub state_hash: String,
    pub organisation_id: String,
    /// The credential holding the client id and secret.
    pub grant_credential_id: String,
    pub connector_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub token_url: String,
    pub additional_token_params: Option<String>,
    pub scopes: Vec<String>,
    /// The PKCE code verifier, sealed by the vault, when the scheme uses PKCE.
    pub code_verifier: Option<String>,
    /// An OAuth 1.0a flow's temporary credentials and signature method, sealed by the vault; `None`
    /// for OAuth2 flows.
    pub oauth1: Option<String>,
    /// The origin (`https://host[:port]`) of the page that started the flow: the only window the
    /// hosted callback page hands its result to. `None` for flows started before it was recorded.
    pub opener_origin: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An organisation's settings (Organisations API v1 `.../settings`); both lists empty by default.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrganisationSettings {
    /// The redirect URLs Connect v1 and Platform v2 `oauth2/initialise` and `oauth1/initialise`
    /// may name (besides the hosted callback, always allowed).
    pub oauth_redirect_urls: Vec<String>,
    /// The host origins that may frame the hub page (CSP `frame-ancestors`); empty: any (`*`).
    pub hub_frame_ancestors: Vec<String>,
    pub updated_at: Option<Timestamp>,
}

/// A credential as stored: its redacted view and its sealed data.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    pub view: CredentialView,
    pub sealed: String,
}

/// A hub page session: acts for one end user (by external id) in one hub until it expires.
#[derive(Debug, Clone, PartialEq)]
pub struct HubSession {
    /// SHA-256 (hex) of the token; the token itself is not kept.
    pub token_hash: String,
    pub organisation_id: String,
    pub hub_id: String,
    pub external_user_id: String,
    /// When set, the only integrations the page may see and activate.
    pub allowed_integrations: Option<Vec<String>>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Something that happened to a credential: `refresh_failed`, `expired`...
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialEvent {
    pub id: String,
    pub organisation_id: String,
    pub credential_id: String,
    pub kind: String,
    pub reason: String,
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}
