//! Embedded API v1 wire types: what its requests carry and its answers show.
use crate::api::v1_wire::{
    self as v1, ConnectionCreate, ConnectionOut, ConnectionSummary, PageInfo,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::model::*;
use switchyard_domain::time::{self, Timestamp};
use utoipa::{IntoParams, ToSchema};

// ---------------------------------------------------------------------------------------------
// Wire types.

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorInfo {
    pub connector_id: String,
    pub name: String,
    pub auth_scheme_config: AuthSchemeConfig,
    pub image_url: String,
    pub variables: Vec<ConnectionVariable>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Hub)]
pub struct HubOut {
    pub id: String,
    pub name: String,
    pub primary_connector: ConnectorInfo,
    pub is_default: bool,
    /// The redirect URLs `oauth2/initialise` may be given for this hub (a Switchyard addition);
    /// Switchyard's hosted callback is always allowed.
    pub oauth_redirect_urls: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HubCreate {
    pub organisation_id: String,
    pub name: String,
    pub primary_connector_id: String,
    pub auth_scheme_config: AuthSchemeConfig,
    /// The redirect URLs `oauth2/initialise` may be given for this hub (a Switchyard addition):
    /// absolute http(s) URLs without a fragment, at most 50, compared after normalisation.
    /// Switchyard's hosted callback is always allowed. Default: none.
    #[serde(default)]
    pub oauth_redirect_urls: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HubUpdate {
    pub name: Option<String>,
    pub is_default: Option<bool>,
    /// Replaces the hub's redirect URL list (a Switchyard addition); kept when omitted.
    #[serde(default)]
    pub oauth_redirect_urls: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HubsPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub hubs: Vec<HubOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndUserCreate {
    pub external_id: String,
    #[serde(default)]
    pub display_name: String,
    pub primary_connection: ConnectionCreate,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EndUser)]
pub struct EndUserOut {
    pub id: String,
    pub external_id: String,
    pub display_name: String,
    pub hub_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_connection: Option<ConnectionOut>,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndUserSummary {
    pub id: String,
    pub external_id: String,
    pub display_name: String,
    pub hub_id: String,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndUserPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub users: Vec<EndUserSummary>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndUserConnectionCreate {
    pub connector_id: String,
    pub connection: ConnectionCreate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndUserConnectionsPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub connections: Vec<ConnectionSummary>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HubConnectionTemplateCreate {
    pub auth_scheme_config: AuthSchemeConfig,
    pub connector_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = HubConnectionTemplate)]
pub struct TemplateOut {
    pub id: String,
    pub connector_id: String,
    pub image_url: String,
    pub name: String,
    pub is_used: bool,
    pub is_primary: bool,
    pub auth_scheme_config: AuthSchemeConfig,
    /// The connector's connection variables, which a new connection fills in.
    pub variables: Vec<ConnectionVariable>,
    /// Always empty: present because Versori's spec lists it as required on this object.
    #[schema(value_type = Vec<Object>)]
    pub connection_templates: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HubConnectionTemplatePage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub connection_templates: Vec<TemplateOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationCreate {
    pub organisation_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub image_url: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub variables_schema: Option<Value>,
    pub connection_template: Option<HubConnectionTemplateCreate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateIntegration {
    pub name: Option<String>,
    pub image_url: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub variables_schema: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Integration)]
pub struct IntegrationOut {
    pub id: String,
    pub name: String,
    pub image_url: String,
    pub screenshot_url: String,
    pub description: String,
    /// The `summary` given on IntegrationCreate (a Switchyard addition: Versori's spec accepts it
    /// there and returns it nowhere); `""` when none was.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub variables_schema: Option<Value>,
    pub board_id: String,
    /// Whether end users can activate it (Switchyard addition; see the deploy calls).
    pub is_deployed: bool,
}

impl From<Integration> for IntegrationOut {
    fn from(i: Integration) -> Self {
        Self {
            id: i.id,
            name: i.name,
            image_url: i.image_url,
            screenshot_url: i.screenshot_url,
            description: i.description,
            summary: i.summary,
            variables_schema: i.variables_schema,
            board_id: i.board_id,
            is_deployed: i.is_deployed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListIntegrations {
    pub total: i64,
    pub integrations: Vec<IntegrationOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationMetadata {
    #[serde(default)]
    pub used_connection_templates: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedIntegrationSummary {
    pub id: String,
    pub name: String,
    pub image_url: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub variables_schema: Option<Value>,
    pub is_deployed: bool,
    pub is_activated: bool,
}

impl EmbeddedIntegrationSummary {
    pub(super) fn of(i: Integration, is_activated: bool) -> Self {
        Self {
            id: i.id,
            name: i.name,
            image_url: i.image_url,
            description: i.description,
            variables_schema: i.variables_schema,
            is_deployed: i.is_deployed,
            is_activated,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedIntegration {
    #[serde(flatten)]
    pub summary: EmbeddedIntegrationSummary,
    pub connection_templates: Vec<TemplateOut>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedIntegrationPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub integrations: Vec<EmbeddedIntegrationSummary>,
    /// How many integrations this end user has activated in the hub.
    pub total_connected: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndUserActivation {
    pub id: String,
    pub hub_id: String,
    pub integration: EmbeddedIntegrationSummary,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndUserActivationPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub activations: Vec<EndUserActivation>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Activation)]
pub struct ActivationOut {
    pub id: String,
    pub user: EndUserOut,
    pub hub_id: String,
    pub integration: EmbeddedIntegrationSummary,
    #[schema(value_type = Object)]
    pub dynamic_variables: Map<String, Value>,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// One entry of `connections`: either `{templateId, connectionId}` (an existing connection of the
/// end user) or `{templateId, name, credentials, variables}` (a new one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivationConnectionCreate {
    pub template_id: String,
    pub connection_id: Option<String>,
    pub name: Option<String>,
    pub credentials: Option<v1::ConnectionCredentialsCreate>,
    #[serde(default)]
    pub variables: Vec<ConnectionVariable>,
}

/// What serves a template from now on: `{connectionId}` (an existing connection of the end user to
/// the template's connector) or `{name, credentials, variables}` (a new one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivationConnectionReplace {
    pub connection_id: Option<String>,
    pub name: Option<String>,
    pub credentials: Option<v1::ConnectionCredentialsCreate>,
    #[serde(default)]
    pub variables: Vec<ConnectionVariable>,
}

/// The older body form of dynamic variables.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NamedVariable {
    pub name: String,
    #[schema(value_type = Object)]
    pub value: Value,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivationCreate {
    /// The end user's id, or their external id in the integration's hub.
    pub user_id: String,
    pub integration_id: String,
    #[serde(default)]
    pub connections: Vec<ActivationConnectionCreate>,
    #[schema(value_type = Option<Object>)]
    pub dynamic_variables: Option<Map<String, Value>>,
    /// The older form: `[{name, value}]`.
    pub variables: Option<Vec<NamedVariable>>,
    /// A Switchyard addition, used only when a hub session's activation creates its end user: the
    /// user's primary connection, to the hub's primary connector. Without it, the connection this
    /// activation binds to a primary template (`isPrimary`) becomes the primary connection; with
    /// neither, a new user is refused (400 naming `primaryConnection`). Ignored for a user who
    /// exists.
    pub primary_connection: Option<ConnectionCreate>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamicVariablesBody {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub dynamic_variables: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserParams {
    /// Whether `user_id` is the internal id or the external id (default).
    pub identifier_type: Option<IdentifierType>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUserParams {
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
    /// Matches id, external id and display name.
    pub search: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserConnectionParams {
    pub identifier_type: Option<IdentifierType>,
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
    /// Only connections to these connectors (repeat the parameter for several).
    #[serde(default)]
    pub hub_connector_id: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmbedListParams {
    pub identifier_type: Option<IdentifierType>,
    /// `true`: deployed only; `false`: undeployed only; unset: all.
    pub deployed: Option<bool>,
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmbedActivationParams {
    pub identifier_type: Option<IdentifierType>,
    pub integration_id: Option<String>,
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListIntegrationParams {
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub search: Option<String>,
}
