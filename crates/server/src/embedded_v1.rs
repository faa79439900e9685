//! Embedded API v1 (`/api/embedded/v1`): hubs, end users and their connections, integrations and
//! their connection templates, the end-user ("embed") reads, and activations. Wire-compatible with
//! Versori's published spec; the two deploy calls are Switchyard's own addition.
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, JsonBody, Path, Query};
use crate::session::HubAuth;
use crate::v1::{
    self, ConnectionCreate, ConnectionOut, ConnectionSummary, PageInfo, PageParams, Requester,
};
use crate::variables;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use switchyard_domain::activation::{self, Binding, Entry, Requested};
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::credential::CredentialType;
use switchyard_domain::model::*;
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{is_ulid, new_id, Error, FieldError};
use switchyard_store::IntegrationFilter;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hubs))
        .routes(routes!(create_hub))
        .routes(routes!(get_hub, update_hub, delete_hub))
        .routes(routes!(create_end_user, list_end_users))
        .routes(routes!(get_end_user, delete_end_user))
        .routes(routes!(
            create_end_user_connection,
            list_end_user_connections
        ))
        .routes(routes!(get_end_user_connection))
        .routes(routes!(create_integration, list_integrations))
        .routes(routes!(
            get_integration,
            update_integration,
            delete_integration
        ))
        .routes(routes!(deploy_integration))
        .routes(routes!(undeploy_integration))
        .routes(routes!(update_integration_metadata))
        .routes(routes!(
            create_connection_template,
            list_connection_templates
        ))
        .routes(routes!(
            get_dynamic_variables,
            update_dynamic_variables_internal
        ))
        .routes(routes!(list_end_user_integrations))
        .routes(routes!(get_embedded_integration))
        .routes(routes!(list_end_user_activations))
        .routes(routes!(activate_integration))
        .routes(routes!(get_activation, delete_activation))
        .routes(routes!(update_activation_variables))
        .routes(routes!(replace_activation_connection))
}

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

/// Templates as the API shows them, with their connectors' variables (each connector read once).
async fn templates_out(
    s: &AppState,
    org: &str,
    templates: Vec<ConnectionTemplate>,
) -> ApiResult<Vec<TemplateOut>> {
    let mut variables: HashMap<String, Vec<ConnectionVariable>> = HashMap::new();
    let mut out = Vec::with_capacity(templates.len());
    for t in templates {
        if !variables.contains_key(&t.connector_id) {
            let v = s
                .store
                .get_connector(org, &t.connector_id)
                .await?
                .map(|c| c.connection_variables)
                .unwrap_or_default();
            variables.insert(t.connector_id.clone(), v);
        }
        out.push(TemplateOut {
            variables: variables[&t.connector_id].clone(),
            id: t.id,
            connector_id: t.connector_id,
            image_url: t.image_url,
            name: t.name,
            is_used: t.is_used,
            is_primary: t.is_primary,
            auth_scheme_config: t.auth_scheme_config,
            connection_templates: Vec::new(),
        });
    }
    Ok(out)
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
    fn of(i: Integration, is_activated: bool) -> Self {
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

fn page_params(first: Option<u32>, after: &Option<String>, before: &Option<String>) -> PageParams {
    PageParams {
        first,
        after: after.clone(),
        before: before.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Lookups shared by the handlers.

async fn hub_of(s: &AppState, org: &str, hub_id: &str) -> ApiResult<Hub> {
    s.store.get_hub(org, hub_id).await?.or_not_found("hub")
}

/// A hub that still accepts new users and integrations.
async fn live_hub(s: &AppState, org: &str, hub_id: &str) -> ApiResult<Hub> {
    hub_of(s, org, hub_id).await.and_then(|h| {
        if h.deleted_at.is_some() {
            Err(ApiError(Error::not_found("hub")))
        } else {
            Ok(h)
        }
    })
}

async fn user_in_hub(
    s: &AppState,
    org: &str,
    hub_id: &str,
    user_id: &str,
    kind: Option<IdentifierType>,
) -> ApiResult<Option<EndUser>> {
    Ok(s.store
        .get_end_user(org, hub_id, user_id, kind.unwrap_or_default())
        .await?)
}

async fn integration_of(s: &AppState, org: &str, id: &str) -> ApiResult<Integration> {
    s.store
        .get_integration(org, id)
        .await?
        .or_not_found("integration")
}

/// An integration with its connection templates, in one read.
async fn integration_with_templates(
    s: &AppState,
    org: &str,
    id: &str,
) -> ApiResult<(Integration, Vec<ConnectionTemplate>)> {
    s.store
        .get_integration_with_templates(org, id)
        .await?
        .or_not_found("integration")
}

async fn end_user_out(s: &AppState, org: &str, u: EndUser) -> ApiResult<EndUserOut> {
    end_user_out_with(s, org, u, None).await
}

/// `known`: the user's primary connection when the caller has read it already (one query less).
async fn end_user_out_with(
    s: &AppState,
    org: &str,
    u: EndUser,
    known: Option<Connection>,
) -> ApiResult<EndUserOut> {
    let primary = match (&u.primary_connection_id, known) {
        (Some(id), Some(c)) if c.id == *id => Some(ConnectionOut::from(c)),
        (Some(id), _) => s
            .store
            .get_connection(org, id)
            .await?
            .map(ConnectionOut::from),
        (None, _) => None,
    };
    Ok(EndUserOut {
        id: u.id,
        external_id: u.external_id,
        display_name: u.display_name,
        hub_id: u.hub_id,
        primary_connection: primary,
        created_at: u.created_at,
        updated_at: u.updated_at,
    })
}

async fn hub_out(s: &AppState, org: &str, h: Hub) -> ApiResult<HubOut> {
    let c = s.store.get_connector(org, &h.primary_connector_id).await?;
    let (name, image_url, variables) = c
        .map(|c| (c.name, c.image_url, c.connection_variables))
        .unwrap_or_default();
    Ok(HubOut {
        id: h.id,
        name: h.name,
        primary_connector: ConnectorInfo {
            connector_id: h.primary_connector_id,
            name,
            auth_scheme_config: h.auth_scheme_config,
            image_url,
            variables,
        },
        is_default: h.is_default,
        oauth_redirect_urls: h.oauth_redirect_urls,
    })
}

/// The auth scheme configs the organisation defined for connections to `connector_id` in `hub`:
/// the connector's own, the hub's (for its primary connector), and those of the hub's connection
/// templates for that connector. A connection credential (and an OAuth2 flow) must use one of
/// them.
pub(crate) async fn hub_schemes(
    s: &AppState,
    org: &str,
    hub: &Hub,
    connector_id: &str,
) -> ApiResult<Vec<AuthSchemeConfig>> {
    let connector = s
        .store
        .get_connector(org, connector_id)
        .await?
        .or_not_found("connector")?;
    let mut schemes = connector.auth_scheme_configs;
    if hub.primary_connector_id == connector.id {
        schemes.push(hub.auth_scheme_config.clone());
    }
    schemes.extend(
        s.store
            .list_hub_connector_templates(org, &hub.id, &connector.id)
            .await?
            .into_iter()
            .map(|t| t.auth_scheme_config),
    );
    Ok(schemes)
}

fn check_body_org(auth: &OrgAuth, body_org: &str) -> ApiResult<()> {
    if auth.organisation_id == body_org {
        Ok(())
    } else {
        Err(ApiError(Error::invalid_field(
            "organisationId",
            "is not the organisation of the API key",
        )))
    }
}

fn fields_error(message: &str, fields: Vec<FieldError>) -> ApiError {
    ApiError(Error::invalid_fields(
        if fields.len() == 1 {
            format!("{message}: {}: {}", fields[0].field, fields[0].message)
        } else {
            format!("{message}: {} problems", fields.len())
        },
        fields,
    ))
}

// ---------------------------------------------------------------------------------------------
// Hubs.

/// Lists the organisation's hubs (all of them, on one page).
#[utoipa::path(get, path = "/api/embedded/v1/o/{organisation_id}/hubs", operation_id = "ListHubs", tag = "hubs",
    params(("organisation_id" = String, Path)), responses((status = 200, body = HubsPage), (status = "default", body = ErrorBody)))]
async fn list_hubs(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<HubsPage>> {
    auth.check_org(&org)?;
    let hubs = s.store.list_hubs(&org).await?;
    let mut out = Vec::with_capacity(hubs.len());
    for h in hubs {
        out.push(hub_out(&s, &org, h).await?);
    }
    Ok(axum::Json(HubsPage {
        page: PageInfo {
            total_count: out.len() as i64,
            next: String::new(),
            prev: String::new(),
        },
        hubs: out,
    }))
}

/// Creates a hub around a primary connector. The organisation's first hub is its default.
#[utoipa::path(post, path = "/api/embedded/v1/hubs", operation_id = "CreateHub", tag = "hubs", request_body = HubCreate,
    responses((status = 201, body = HubOut), (status = "default", body = ErrorBody)))]
async fn create_hub(
    State(s): State<AppState>,
    auth: OrgAuth,
    Json(body): Json<HubCreate>,
) -> ApiResult<(StatusCode, axum::Json<HubOut>)> {
    check_body_org(&auth, &body.organisation_id)?;
    let org = auth.organisation_id;
    if body.name.trim().is_empty() {
        return Err(ApiError(Error::invalid_field("name", "must not be empty")));
    }
    let oauth_redirect_urls = crate::oauth_policy::validate_redirect_urls(
        "oauthRedirectUrls",
        body.oauth_redirect_urls.unwrap_or_default(),
    )?;
    if s.store
        .get_connector(&org, &body.primary_connector_id)
        .await?
        .is_none()
    {
        return Err(ApiError(Error::invalid_field(
            "primaryConnectorId",
            format!("connector {} does not exist", body.primary_connector_id),
        )));
    }
    let mut scheme = body.auth_scheme_config;
    let grant = v1::absorb_grant_secret(&s, &org, &mut scheme, "authSchemeConfig")?;
    let now = time::now();
    let first = s.store.list_hubs(&org).await?.is_empty();
    let hub = Hub {
        id: new_id(),
        organisation_id: org.clone(),
        name: body.name,
        primary_connector_id: body.primary_connector_id,
        auth_scheme_config: scheme,
        is_default: first,
        oauth_redirect_urls,
        deleted_at: None,
        created_at: now,
        updated_at: now,
    };
    s.store.insert_hub(&org, &hub, grant.as_slice()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(hub_out(&s, &org, hub).await?),
    ))
}

/// A hub by id; soft-deleted hubs stay readable.
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}", operation_id = "GetHub", tag = "hubs",
    params(("hub_id" = String, Path)), responses((status = 200, body = HubOut), (status = "default", body = ErrorBody)))]
async fn get_hub(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
) -> ApiResult<axum::Json<HubOut>> {
    let org = auth.organisation_id;
    let h = hub_of(&s, &org, &hub_id).await?;
    Ok(axum::Json(hub_out(&s, &org, h).await?))
}

/// Renames a hub or makes it the default.
#[utoipa::path(patch, path = "/api/embedded/v1/hubs/{hub_id}", operation_id = "UpdateHubDetails", tag = "hubs",
    params(("hub_id" = String, Path)), request_body = HubUpdate, responses((status = 200, body = HubOut), (status = "default", body = ErrorBody)))]
async fn update_hub(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
    body: JsonBody<HubUpdate>,
) -> ApiResult<axum::Json<HubOut>> {
    let org = auth.organisation_id;
    let mut h = live_hub(&s, &org, &hub_id).await?;
    let body = body.get()?;
    if let Some(name) = body.name {
        if name.trim().is_empty() {
            return Err(ApiError(Error::invalid_field("name", "must not be empty")));
        }
        h.name = name;
    }
    if let Some(d) = body.is_default {
        h.is_default = d;
    }
    if let Some(urls) = body.oauth_redirect_urls {
        h.oauth_redirect_urls =
            crate::oauth_policy::validate_redirect_urls("oauthRedirectUrls", urls)?;
    }
    h.updated_at = time::now();
    s.store.update_hub(&org, &h).await?;
    Ok(axum::Json(hub_out(&s, &org, h).await?))
}

/// Soft-deletes a hub: it leaves the hub list, but its integrations, users and activations stay
/// readable by id.
#[utoipa::path(delete, path = "/api/embedded/v1/hubs/{hub_id}", operation_id = "DeleteHub", tag = "hubs",
    params(("hub_id" = String, Path)), responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_hub(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
) -> ApiResult<StatusCode> {
    let org = auth.organisation_id;
    let mut h = live_hub(&s, &org, &hub_id).await?;
    let now = time::now();
    h.deleted_at = Some(now);
    h.is_default = false;
    h.updated_at = now;
    s.store.update_hub(&org, &h).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// End users.

/// Creates an end user and its primary connection to the hub's primary connector.
#[utoipa::path(post, path = "/api/embedded/v1/hubs/{hub_id}/users", operation_id = "CreateEndUser", tag = "end-users",
    params(("hub_id" = String, Path)), request_body = EndUserCreate, responses((status = 201, body = EndUserOut), (status = "default", body = ErrorBody)))]
async fn create_end_user(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
    body: JsonBody<EndUserCreate>,
) -> ApiResult<(StatusCode, axum::Json<EndUserOut>)> {
    let org = auth.organisation_id;
    let hub = live_hub(&s, &org, &hub_id).await?;
    let body = body.get()?;
    if body.external_id.trim().is_empty() {
        return Err(ApiError(Error::invalid_field(
            "externalId",
            "must not be empty",
        )));
    }
    if s.store
        .get_end_user(&org, &hub.id, &body.external_id, IdentifierType::External)
        .await?
        .is_some()
    {
        return Err(ApiError(Error::conflict(format!(
            "an end user with externalId {:?} already exists in this hub",
            body.external_id
        ))));
    }
    let now = time::now();
    let user_id = new_id();
    let schemes = hub_schemes(&s, &org, &hub, &hub.primary_connector_id).await?;
    let primary = v1::build_connection(
        &s,
        &org,
        &hub.primary_connector_id,
        Some(&user_id),
        body.primary_connection,
        &schemes,
        Requester::Organisation,
        "primaryConnection.",
    )
    .map_err(|f| fields_error("invalid primary connection", f))?;
    let primary = crate::oauth::complete(&s, &org, vec![primary])
        .await?
        .remove(0);
    let user = EndUser {
        id: user_id,
        organisation_id: org.clone(),
        hub_id: hub.id,
        external_id: body.external_id,
        display_name: body.display_name,
        primary_connection_id: Some(primary.connection.id.clone()),
        created_at: now,
        updated_at: now,
    };
    s.store.insert_end_user(&org, &user, Some(&primary)).await?;
    crate::tokens::check_new_credentials(&s, &org, &[&primary.connection]).await;
    Ok((
        StatusCode::CREATED,
        axum::Json(end_user_out(&s, &org, user).await?),
    ))
}

/// Lists a hub's end users; `search` matches id, external id and display name.
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}/users", operation_id = "ListEndUsers", tag = "end-users",
    params(("hub_id" = String, Path), ListUserParams), responses((status = 200, body = EndUserPage), (status = "default", body = ErrorBody)))]
async fn list_end_users(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
    Query(q): Query<ListUserParams>,
) -> ApiResult<axum::Json<EndUserPage>> {
    let org = auth.organisation_id;
    let page = page_params(q.first, &q.after, &q.before).request()?;
    hub_of(&s, &org, &hub_id).await?;
    let p = s
        .store
        .list_end_users(&org, &hub_id, q.search.as_deref(), &page)
        .await?;
    let info = PageInfo::of(&p);
    let users = p
        .items
        .into_iter()
        .map(|u| EndUserSummary {
            id: u.id,
            external_id: u.external_id,
            display_name: u.display_name,
            hub_id: u.hub_id,
            created_at: u.created_at,
            updated_at: u.updated_at,
        })
        .collect();
    Ok(axum::Json(EndUserPage { page: info, users }))
}

/// An end user, by external id (default) or internal id.
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}/users/{user_id}", operation_id = "GetEndUser", tag = "end-users",
    params(("hub_id" = String, Path), ("user_id" = String, Path), UserParams), responses((status = 200, body = EndUserOut), (status = "default", body = ErrorBody)))]
async fn get_end_user(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<axum::Json<EndUserOut>> {
    let org = auth.organisation_id;
    let u = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    Ok(axum::Json(end_user_out(&s, &org, u).await?))
}

/// Deletes an end user with their connections and activations.
#[utoipa::path(delete, path = "/api/embedded/v1/hubs/{hub_id}/users/{user_id}", operation_id = "DeleteEndUser", tag = "end-users",
    params(("hub_id" = String, Path), ("user_id" = String, Path), UserParams), responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_end_user(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<StatusCode> {
    let org = auth.organisation_id;
    let u = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    s.store.delete_end_user(&org, &u.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a connection for an end user, with credentials obtained elsewhere.
#[utoipa::path(post, path = "/api/embedded/v1/hubs/{hub_id}/users/{user_id}/connections", operation_id = "CreateEndUserConnection", tag = "end-users",
    params(("hub_id" = String, Path), ("user_id" = String, Path), UserParams), request_body = EndUserConnectionCreate,
    responses((status = 201, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn create_end_user_connection(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
    body: JsonBody<EndUserConnectionCreate>,
) -> ApiResult<(StatusCode, axum::Json<ConnectionOut>)> {
    let org = auth.organisation_id;
    let u = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    let body = body.get()?;
    if s.store
        .get_connector(&org, &body.connector_id)
        .await?
        .is_none()
    {
        return Err(ApiError(Error::invalid_field(
            "connectorId",
            format!("connector {} does not exist", body.connector_id),
        )));
    }
    let hub = hub_of(&s, &org, &u.hub_id).await?;
    let schemes = hub_schemes(&s, &org, &hub, &body.connector_id).await?;
    let nc = v1::build_connection(
        &s,
        &org,
        &body.connector_id,
        Some(&u.id),
        body.connection,
        &schemes,
        Requester::Organisation,
        "connection.",
    )
    .map_err(|f| fields_error("invalid connection", f))?;
    let nc = crate::oauth::complete(&s, &org, vec![nc]).await?.remove(0);
    s.store.insert_connection(&org, &nc).await?;
    crate::tokens::check_new_credentials(&s, &org, &[&nc.connection]).await;
    let c = s
        .store
        .get_connection(&org, &nc.connection.id)
        .await?
        .or_not_found("connection")?;
    Ok((StatusCode::CREATED, axum::Json(c.into())))
}

/// Lists an end user's connections, optionally only those to some connectors.
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}/users/{user_id}/connections", operation_id = "ListEndUserConnections", tag = "end-users",
    params(("hub_id" = String, Path), ("user_id" = String, Path), UserConnectionParams),
    responses((status = 200, body = EndUserConnectionsPage), (status = "default", body = ErrorBody)))]
async fn list_end_user_connections(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    uri: axum::http::Uri,
    Query(q): Query<UserConnectionParams>,
) -> ApiResult<axum::Json<EndUserConnectionsPage>> {
    let org = auth.organisation_id().to_owned();
    let page = page_params(q.first, &q.after, &q.before).request()?;
    auth.check_user(&s, &hub_id, &user_id, q.identifier_type)
        .await?;
    let u = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    // `hub_connector_id` may repeat: read every occurrence.
    let connectors: Vec<String> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "hub_connector_id")
        .map(|(_, v)| v.into_owned())
        .collect();
    let p = s
        .store
        .list_end_user_connections(&org, &u.id, &connectors, &page)
        .await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(EndUserConnectionsPage {
        page: info,
        connections: p.items.into_iter().map(Into::into).collect(),
    }))
}

/// The connection that serves a connection template for an end user (their activation's binding,
/// else their connection to the template's connector), credentials redacted.
#[utoipa::path(get, path = "/api/embedded/v1/connection-templates/{connection_template_id}/users/{user_id}", operation_id = "GetEndUserConnection", tag = "end-users",
    params(("connection_template_id" = String, Path), ("user_id" = String, Path), UserParams),
    responses((status = 200, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn get_end_user_connection(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((template_id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let org = auth.organisation_id;
    let t = s
        .store
        .get_template(&org, &template_id)
        .await?
        .or_not_found("connection template")?;
    let i = integration_of(&s, &org, &t.integration_id).await?;
    let u = user_in_hub(&s, &org, &i.hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    let bound = s
        .store
        .find_activation(&org, &u.id, &i.id)
        .await?
        .and_then(|a| {
            a.bindings
                .into_iter()
                .find(|(tid, _)| *tid == t.id)
                .map(|(_, cid)| cid)
        });
    let connection = match bound {
        Some(cid) => s.store.get_connection(&org, &cid).await?,
        None => s
            .store
            .list_end_user_connections(
                &org,
                &u.id,
                std::slice::from_ref(&t.connector_id),
                &switchyard_domain::page::PageRequest::new(Some(1)),
            )
            .await?
            .items
            .pop(),
    };
    Ok(axum::Json(connection.or_not_found("connection")?.into()))
}

// ---------------------------------------------------------------------------------------------
// Integrations and connection templates.

fn new_template(
    org: &str,
    integration: &Integration,
    hub: &Hub,
    connector: &Connector,
    scheme: AuthSchemeConfig,
) -> ConnectionTemplate {
    ConnectionTemplate {
        id: new_id(),
        organisation_id: org.to_owned(),
        integration_id: integration.id.clone(),
        connector_id: connector.id.clone(),
        name: connector.name.clone(),
        image_url: connector.image_url.clone(),
        auth_scheme_config: scheme,
        is_primary: connector.id == hub.primary_connector_id,
        is_used: true,
        created_at: time::now(),
    }
}

/// Creates an integration in a hub (not deployed: deploy it to let end users activate it).
#[utoipa::path(post, path = "/api/embedded/v1/hubs/{hub_id}/integrations", operation_id = "CreateIntegration", tag = "integrations",
    params(("hub_id" = String, Path)), request_body = IntegrationCreate, responses((status = 200, body = IntegrationOut), (status = "default", body = ErrorBody)))]
async fn create_integration(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
    body: JsonBody<IntegrationCreate>,
) -> ApiResult<axum::Json<IntegrationOut>> {
    let hub = live_hub(&s, &auth.organisation_id, &hub_id).await?;
    let body = body.get()?;
    check_body_org(&auth, &body.organisation_id)?;
    let org = auth.organisation_id;
    if body.name.trim().is_empty() {
        return Err(ApiError(Error::invalid_field("name", "must not be empty")));
    }
    if let Some(schema) = &body.variables_schema {
        variables::check_schema(schema, "variablesSchema").await?;
    }
    let now = time::now();
    let integration = Integration {
        id: new_id(),
        organisation_id: org.clone(),
        hub_id: hub.id.clone(),
        name: body.name,
        description: body.description,
        summary: body.summary,
        image_url: body.image_url,
        screenshot_url: String::new(),
        variables_schema: body.variables_schema.filter(|v| !v.is_null()),
        board_id: new_id(),
        is_deployed: false,
        created_at: now,
        updated_at: now,
    };
    let mut grants = Vec::new();
    let template = match body.connection_template {
        Some(t) => {
            let c = s
                .store
                .get_connector(&org, &t.connector_id)
                .await?
                .ok_or_else(|| {
                    Error::invalid_field(
                        "connectionTemplate.connectorId",
                        format!("connector {} does not exist", t.connector_id),
                    )
                })?;
            let mut scheme = t.auth_scheme_config;
            grants.extend(v1::absorb_grant_secret(
                &s,
                &org,
                &mut scheme,
                "connectionTemplate.authSchemeConfig",
            )?);
            Some(new_template(&org, &integration, &hub, &c, scheme))
        }
        None => None,
    };
    s.store
        .insert_integration(&org, &integration, template.as_ref(), &grants)
        .await?;
    Ok(axum::Json(integration.into()))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListIntegrationParams {
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub search: Option<String>,
}

/// Lists a hub's integrations, deployed or not (an administration view: not for end users).
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}/integrations", operation_id = "ListIntegrations", tag = "integrations",
    params(("hub_id" = String, Path), ListIntegrationParams), responses((status = 200, body = ListIntegrations), (status = "default", body = ErrorBody)))]
async fn list_integrations(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
    Query(q): Query<ListIntegrationParams>,
) -> ApiResult<axum::Json<ListIntegrations>> {
    let org = auth.organisation_id;
    let page = page_params(q.first, &q.after, &q.before).request()?;
    hub_of(&s, &org, &hub_id).await?;
    let p = s
        .store
        .list_integrations(&org, &hub_id, q.search.as_deref(), &page)
        .await?;
    Ok(axum::Json(ListIntegrations {
        total: p.total_count,
        integrations: p.items.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/embedded/v1/integrations/{integration_id}", operation_id = "GetIntegration", tag = "integrations",
    params(("integration_id" = String, Path)), responses((status = 200, body = IntegrationOut), (status = "default", body = ErrorBody)))]
async fn get_integration(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IntegrationOut>> {
    Ok(axum::Json(
        integration_of(&s, &auth.organisation_id, &id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/api/embedded/v1/integrations/{integration_id}", operation_id = "UpdateIntegration", tag = "integrations",
    params(("integration_id" = String, Path)), request_body = UpdateIntegration, responses((status = 200, body = IntegrationOut), (status = "default", body = ErrorBody)))]
async fn update_integration(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
    body: JsonBody<UpdateIntegration>,
) -> ApiResult<axum::Json<IntegrationOut>> {
    let org = auth.organisation_id;
    let mut i = integration_of(&s, &org, &id).await?;
    let body = body.get()?;
    if let Some(name) = body.name {
        if name.trim().is_empty() {
            return Err(ApiError(Error::invalid_field("name", "must not be empty")));
        }
        i.name = name;
    }
    if let Some(v) = body.image_url {
        i.image_url = v;
    }
    if let Some(v) = body.description {
        i.description = v;
    }
    if let Some(schema) = body.variables_schema {
        variables::check_schema(&schema, "variablesSchema").await?;
        i.variables_schema = Some(schema);
    }
    i.updated_at = time::now();
    s.store.update_integration(&org, &i).await?;
    Ok(axum::Json(i.into()))
}

/// Deletes an undeployed integration that has no activations.
#[utoipa::path(delete, path = "/api/embedded/v1/integrations/{integration_id}", operation_id = "DeleteIntegration", tag = "integrations",
    params(("integration_id" = String, Path)), responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_integration(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let org = auth.organisation_id;
    let i = integration_of(&s, &org, &id).await?;
    if i.is_deployed {
        return Err(ApiError(Error::conflict(
            "the integration is deployed: undeploy it before deleting it",
        )));
    }
    s.store.delete_integration(&org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_deployed(
    s: &AppState,
    org: &str,
    id: &str,
    deployed: bool,
) -> ApiResult<axum::Json<IntegrationOut>> {
    let mut i = integration_of(s, org, id).await?;
    if i.is_deployed != deployed {
        i.is_deployed = deployed;
        i.updated_at = time::now();
        s.store.update_integration(org, &i).await?;
    }
    Ok(axum::Json(i.into()))
}

/// Deploys an integration: end users can activate it from now on. (Switchyard addition: Versori
/// publishes no such call.)
#[utoipa::path(post, path = "/api/embedded/v1/integrations/{integration_id}/deploy", operation_id = "DeployIntegration", tag = "integrations",
    params(("integration_id" = String, Path)), responses((status = 200, body = IntegrationOut), (status = "default", body = ErrorBody)))]
async fn deploy_integration(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IntegrationOut>> {
    set_deployed(&s, &auth.organisation_id, &id, true).await
}

/// Undeploys an integration: no new activations; existing ones stay. (Switchyard addition.)
#[utoipa::path(post, path = "/api/embedded/v1/integrations/{integration_id}/undeploy", operation_id = "UndeployIntegration", tag = "integrations",
    params(("integration_id" = String, Path)), responses((status = 200, body = IntegrationOut), (status = "default", body = ErrorBody)))]
async fn undeploy_integration(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IntegrationOut>> {
    set_deployed(&s, &auth.organisation_id, &id, false).await
}

/// Marks which connection templates the integration uses.
#[utoipa::path(put, path = "/api/embedded/v1/integrations/{integration_id}/metadata", operation_id = "UpdateIntegrationMetadata", tag = "integrations",
    params(("integration_id" = String, Path)), request_body = IntegrationMetadata, responses((status = 204), (status = "default", body = ErrorBody)))]
async fn update_integration_metadata(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
    body: JsonBody<IntegrationMetadata>,
) -> ApiResult<StatusCode> {
    let org = auth.organisation_id;
    let (_, templates) = integration_with_templates(&s, &org, &id).await?;
    let body = body.get()?;
    let fields: Vec<FieldError> = body
        .used_connection_templates
        .iter()
        .enumerate()
        .filter(|(_, t)| !templates.iter().any(|x| &x.id == *t))
        .map(|(i, t)| {
            FieldError::new(
                format!("usedConnectionTemplates[{i}]"),
                format!("{t} is not a connection template of this integration"),
            )
        })
        .collect();
    if !fields.is_empty() {
        return Err(fields_error("invalid integration metadata", fields));
    }
    s.store
        .set_templates_used(&org, &id, &body.used_connection_templates)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a connection template (a connector and the auth scheme end users use for it).
#[utoipa::path(post, path = "/api/embedded/v1/integrations/{integration_id}/connection-templates", operation_id = "CreateHubConnectionTemplate", tag = "integrations",
    params(("integration_id" = String, Path)), request_body = HubConnectionTemplateCreate, responses((status = 200, body = TemplateOut), (status = "default", body = ErrorBody)))]
async fn create_connection_template(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
    body: JsonBody<HubConnectionTemplateCreate>,
) -> ApiResult<axum::Json<TemplateOut>> {
    let org = auth.organisation_id;
    let i = integration_of(&s, &org, &id).await?;
    let body = body.get()?;
    let hub = hub_of(&s, &org, &i.hub_id).await?;
    let c = s
        .store
        .get_connector(&org, &body.connector_id)
        .await?
        .ok_or_else(|| {
            Error::invalid_field(
                "connectorId",
                format!("connector {} does not exist", body.connector_id),
            )
        })?;
    let mut scheme = body.auth_scheme_config;
    let grant = v1::absorb_grant_secret(&s, &org, &mut scheme, "authSchemeConfig")?;
    let t = new_template(&org, &i, &hub, &c, scheme);
    s.store.insert_template(&org, &t, grant.as_slice()).await?;
    Ok(axum::Json(
        templates_out(&s, &org, vec![t]).await?.remove(0),
    ))
}

#[utoipa::path(get, path = "/api/embedded/v1/integrations/{integration_id}/connection-templates", operation_id = "ListIntegrationConnectionTemplates", tag = "integrations",
    params(("integration_id" = String, Path), PageParams), responses((status = 200, body = HubConnectionTemplatePage), (status = "default", body = ErrorBody)))]
async fn list_connection_templates(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<HubConnectionTemplatePage>> {
    let org = auth.organisation_id;
    let page = q.request()?;
    integration_of(&s, &org, &id).await?;
    let p = s.store.list_templates_page(&org, &id, &page).await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(HubConnectionTemplatePage {
        page: info,
        connection_templates: templates_out(&s, &org, p.items).await?,
    }))
}

async fn user_activation(
    s: &AppState,
    org: &str,
    integration_id: &str,
    user_id: &str,
    kind: Option<IdentifierType>,
) -> ApiResult<(Integration, Activation)> {
    let i = integration_of(s, org, integration_id).await?;
    let u = user_in_hub(s, org, &i.hub_id, user_id, kind)
        .await?
        .or_not_found("end user")?;
    let a = s
        .store
        .find_activation(org, &u.id, &i.id)
        .await?
        .or_not_found("activation")?;
    Ok((i, a))
}

/// One end user's dynamic variables for an integration.
#[utoipa::path(get, path = "/api/embedded/v1/integrations/{integration_id}/users/{user_id}/variables", operation_id = "GetDynamicVariables", tag = "integrations",
    params(("integration_id" = String, Path), ("user_id" = String, Path), UserParams), responses((status = 200, body = Object), (status = "default", body = ErrorBody)))]
async fn get_dynamic_variables(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<axum::Json<Map<String, Value>>> {
    let (_, a) =
        user_activation(&s, &auth.organisation_id, &id, &user_id, q.identifier_type).await?;
    Ok(axum::Json(a.dynamic_variables))
}

/// Replaces one end user's dynamic variables for an integration, validated against its schema.
#[utoipa::path(put, path = "/api/embedded/v1/integrations/{integration_id}/users/{user_id}/variables", operation_id = "UpdateDynamicVariablesInternal", tag = "integrations",
    params(("integration_id" = String, Path), ("user_id" = String, Path), UserParams), request_body = Object, responses((status = 204), (status = "default", body = ErrorBody)))]
async fn update_dynamic_variables_internal(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
    vars: JsonBody<Map<String, Value>>,
) -> ApiResult<StatusCode> {
    let org = auth.organisation_id;
    let (i, a) = user_activation(&s, &org, &id, &user_id, q.identifier_type).await?;
    let vars = vars.get()?;
    let vars = variables::validate(
        variables::INTEGRATION,
        i.variables_schema.as_ref(),
        vars,
        "",
    )
    .await?;
    s.store
        .update_activation_variables(&org, &a.id, &vars, time::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// End-user ("embed") reads. An unknown user is someone with nothing connected.

/// A hub's integrations as one end user sees them. A user who does not exist yet sees everything
/// not activated.
#[utoipa::path(get, path = "/api/embedded/v1/embed/{hub_id}/users/{user_id}/integrations", operation_id = "ListEndUserIntegrations", tag = "embedded",
    params(("hub_id" = String, Path), ("user_id" = String, Path), EmbedListParams),
    responses((status = 200, body = EmbeddedIntegrationPage), (status = "default", body = ErrorBody)))]
async fn list_end_user_integrations(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<EmbedListParams>,
) -> ApiResult<axum::Json<EmbeddedIntegrationPage>> {
    let org = auth.organisation_id().to_owned();
    let page = page_params(q.first, &q.after, &q.before).request()?;
    auth.check_user(&s, &hub_id, &user_id, q.identifier_type)
        .await?;
    hub_of(&s, &org, &hub_id).await?;
    let user = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type).await?;
    // A hub session sees what its page shows: deployed integrations only (asking for undeployed
    // ones, it gets none).
    let deployed = match (auth.session(), q.deployed) {
        (None, d) => d,
        (Some(_), Some(false)) => {
            let page = PageInfo {
                total_count: 0,
                next: String::new(),
                prev: String::new(),
            };
            return Ok(axum::Json(EmbeddedIntegrationPage {
                page,
                integrations: Vec::new(),
                total_connected: 0,
            }));
        }
        (Some(_), _) => Some(true),
    };
    let (p, connected) = s
        .store
        .list_end_user_integrations(
            &org,
            &hub_id,
            user.as_ref().map(|u| u.id.as_str()),
            IntegrationFilter {
                deployed,
                only: auth.allowed().map(<[String]>::to_vec),
            },
            &page,
        )
        .await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(EmbeddedIntegrationPage {
        page: info,
        integrations: p
            .items
            .into_iter()
            .map(|e| EmbeddedIntegrationSummary::of(e.integration, e.is_activated))
            .collect(),
        total_connected: connected,
    }))
}

/// One integration as an end user sees it, with what activating it needs.
#[utoipa::path(get, path = "/api/embedded/v1/embed/{hub_id}/users/{user_id}/integrations/{integration_id}", operation_id = "GetEmbeddedIntegration", tag = "embedded",
    params(("hub_id" = String, Path), ("user_id" = String, Path), ("integration_id" = String, Path), UserParams),
    responses((status = 200, body = EmbeddedIntegration), (status = "default", body = ErrorBody)))]
async fn get_embedded_integration(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id, integration_id)): Path<(String, String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<axum::Json<EmbeddedIntegration>> {
    let org = auth.organisation_id().to_owned();
    auth.check_user(&s, &hub_id, &user_id, q.identifier_type)
        .await?;
    auth.check_integration(&integration_id)?;
    let (i, templates) = integration_with_templates(&s, &org, &integration_id).await?;
    // A hub session sees what its page shows: deployed integrations only.
    if i.hub_id != hub_id || (auth.session().is_some() && !i.is_deployed) {
        return Err(ApiError(Error::not_found("integration")));
    }
    let activated = match user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type).await? {
        Some(u) => s.store.find_activation(&org, &u.id, &i.id).await?.is_some(),
        None => false,
    };
    Ok(axum::Json(EmbeddedIntegration {
        summary: EmbeddedIntegrationSummary::of(i, activated),
        connection_templates: templates_out(&s, &org, templates).await?,
    }))
}

/// An end user's activations in a hub, optionally for one integration.
#[utoipa::path(get, path = "/api/embedded/v1/embed/{hub_id}/users/{user_id}/activations", operation_id = "ListEndUserActivations", tag = "embedded",
    params(("hub_id" = String, Path), ("user_id" = String, Path), EmbedActivationParams),
    responses((status = 200, body = EndUserActivationPage), (status = "default", body = ErrorBody)))]
async fn list_end_user_activations(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<EmbedActivationParams>,
) -> ApiResult<axum::Json<EndUserActivationPage>> {
    let org = auth.organisation_id().to_owned();
    let page = page_params(q.first, &q.after, &q.before).request()?;
    auth.check_user(&s, &hub_id, &user_id, q.identifier_type)
        .await?;
    hub_of(&s, &org, &hub_id).await?;
    let Some(u) = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type).await? else {
        return Ok(axum::Json(EndUserActivationPage {
            page: PageInfo {
                total_count: 0,
                next: String::new(),
                prev: String::new(),
            },
            activations: vec![],
        }));
    };
    let p = s
        .store
        .list_activations(&org, &u.id, q.integration_id.as_deref(), &page)
        .await?;
    let info = PageInfo::of(&p);
    let mut activations = Vec::with_capacity(p.items.len());
    let mut cache: HashMap<String, Integration> = HashMap::new();
    for a in p.items {
        let i = match cache.get(&a.integration_id) {
            Some(i) => i.clone(),
            None => {
                let i = integration_of(&s, &org, &a.integration_id).await?;
                cache.insert(i.id.clone(), i.clone());
                i
            }
        };
        activations.push(EndUserActivation {
            id: a.id,
            hub_id: a.hub_id,
            integration: EmbeddedIntegrationSummary::of(i, true),
        });
    }
    Ok(axum::Json(EndUserActivationPage {
        page: info,
        activations,
    }))
}

// ---------------------------------------------------------------------------------------------
// Activations.

async fn activation_out(
    s: &AppState,
    org: &str,
    a: Activation,
    integration: Option<Integration>,
    user: Option<EndUser>,
) -> ApiResult<ActivationOut> {
    activation_out_with(s, org, a, integration, user, None).await
}

async fn activation_out_with(
    s: &AppState,
    org: &str,
    a: Activation,
    integration: Option<Integration>,
    user: Option<EndUser>,
    primary: Option<Connection>,
) -> ApiResult<ActivationOut> {
    let i = match integration {
        Some(i) => i,
        None => integration_of(s, org, &a.integration_id).await?,
    };
    let u = match user {
        Some(u) => u,
        None => s
            .store
            .get_end_user_by_id(org, &a.end_user_id)
            .await?
            .or_not_found("end user")?,
    };
    Ok(ActivationOut {
        id: a.id,
        user: end_user_out_with(s, org, u, primary).await?,
        hub_id: a.hub_id,
        integration: EmbeddedIntegrationSummary::of(i, true),
        dynamic_variables: a.dynamic_variables,
        created_at: a.created_at,
        updated_at: a.updated_at,
    })
}

/// Activates an integration for an end user: binds each of its connection templates to an
/// existing connection of the user or to a new one made here, validates the dynamic variables,
/// and writes it all in one transaction.
#[utoipa::path(post, path = "/api/embedded/v1/activations", operation_id = "ActivateIntegration", tag = "activations", request_body = ActivationCreate,
    responses((status = 200, body = ActivationOut), (status = "default", body = ErrorBody)))]
async fn activate_integration(
    State(s): State<AppState>,
    auth: HubAuth,
    Json(body): Json<ActivationCreate>,
) -> ApiResult<axum::Json<ActivationOut>> {
    let org = auth.organisation_id().to_owned();
    // The integration and its templates in one read (the templates are dropped if the caller may
    // not see the integration).
    let (integration, templates) =
        integration_with_templates(&s, &org, &body.integration_id).await?;
    auth.check_hub(&integration.hub_id)
        .and_then(|()| auth.check_integration(&integration.id))
        .map_err(|_| ApiError(Error::not_found("integration")))?;
    let user = if is_ulid(&body.user_id) {
        s.store
            .get_end_user_by_id(&org, &body.user_id)
            .await?
            .filter(|u| u.hub_id == integration.hub_id)
    } else {
        None
    };
    let user = match user {
        Some(u) => Some(u),
        None => {
            s.store
                .get_end_user(
                    &org,
                    &integration.hub_id,
                    &body.user_id,
                    IdentifierType::External,
                )
                .await?
        }
    };
    // A hub session acts for its own end user, whom its first activation creates.
    let (user, new_user) = match (user, auth.session()) {
        (Some(u), Some(session)) if u.external_id != session.external_user_id => {
            return Err(ApiError(Error::not_found("end user")))
        }
        (Some(u), _) => (u, None),
        (None, Some(session)) if body.user_id == session.external_user_id => {
            let now = time::now();
            let u = EndUser {
                id: new_id(),
                organisation_id: org.clone(),
                hub_id: integration.hub_id.clone(),
                external_id: session.external_user_id.clone(),
                display_name: String::new(),
                primary_connection_id: None,
                created_at: now,
                updated_at: now,
            };
            (u.clone(), Some(u))
        }
        (None, _) => return Err(ApiError(Error::not_found("end user"))),
    };
    activation::check_deployed(&integration)?;
    // A second activation is refused by the database's unique constraint when it is written; look
    // first only when the request carries OAuth2 codes, which must not be spent for nothing.
    let spends_codes = body
        .connections
        .iter()
        .filter_map(|c| c.credentials.as_ref())
        .flat_map(|cc| cc.action.iter().chain(cc.trigger.iter()))
        .any(|c| {
            matches!(
                c.credential.credential_type,
                CredentialType::OAuth2Code | CredentialType::OAuth1
            )
        });
    if spends_codes {
        already_activated(&s, &org, &user.id, &integration.id).await?;
    }

    // The request's entries, and the existing connections they name.
    let mut fields = Vec::new();
    let keys: Vec<(String, Option<String>, bool)> = body
        .connections
        .iter()
        .map(|c| {
            (
                c.template_id.clone(),
                c.connection_id.clone(),
                c.name.is_some(),
            )
        })
        .collect();
    let mut entries = Vec::with_capacity(keys.len());
    for (i, (template_id, connection_id, has_name)) in keys.iter().enumerate() {
        let requested = match (connection_id, has_name) {
            (Some(id), _) => Requested::Existing {
                connection_id: id.as_str(),
            },
            (None, true) => Requested::New,
            (None, false) => {
                fields.push(FieldError::new(
                    format!("connections[{i}]"),
                    "give either connectionId (an existing connection) or name and credentials (a new one)",
                ));
                continue;
            }
        };
        entries.push((
            i,
            Entry {
                template_id: template_id.as_str(),
                requested,
            },
        ));
    }
    let wanted: Vec<String> = entries
        .iter()
        .filter_map(|(_, e)| {
            if let Requested::Existing { connection_id } = e.requested {
                Some(connection_id.to_owned())
            } else {
                None
            }
        })
        .collect();
    // The named connections and the user's primary connection, in one read.
    let mut ids = wanted.clone();
    ids.extend(
        user.primary_connection_id
            .iter()
            .filter(|p| !wanted.contains(p))
            .cloned(),
    );
    let known: HashMap<String, Connection> = s
        .store
        .get_connections(&org, &ids)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let primary = user
        .primary_connection_id
        .as_ref()
        .and_then(|id| known.get(id))
        .cloned();
    // Entry indices in the engine are positions in `entries`; map them back to request indices.
    let engine_entries: Vec<Entry<'_>> = entries.iter().map(|(_, e)| *e).collect();
    let bindings = match activation::bind_templates(
        &integration,
        &templates,
        &user,
        &engine_entries,
        &known,
        primary.as_ref(),
        "connections",
    ) {
        Ok(b) => b,
        Err(mut f) => {
            for fe in &mut f {
                // Rewrite `connections[k]` (engine index) to the request's index.
                if let Some(rest) = fe.field.strip_prefix("connections[") {
                    if let Some((k, tail)) = rest.split_once(']') {
                        if let Ok(k) = k.parse::<usize>() {
                            fe.field = format!("connections[{}]{tail}", entries[k].0);
                        }
                    }
                }
            }
            fields.append(&mut f);
            Vec::new()
        }
    };

    // Dynamic variables: the current form, or the older `[{name, value}]` one.
    let vars = match (body.dynamic_variables, body.variables) {
        (Some(v), _) => v,
        (None, Some(list)) => list.into_iter().map(|v| (v.name, v.value)).collect(),
        (None, None) => Map::new(),
    };
    let vars = match variables::validate(
        variables::INTEGRATION,
        integration.variables_schema.as_ref(),
        vars,
        "dynamicVariables",
    )
    .await
    {
        Ok(v) => v,
        Err(e) => {
            fields.extend(variables::violations(e)?);
            Map::new()
        }
    };

    // New connections, built (and their credentials sealed) for the templates they bind, each
    // with its template's auth scheme config.
    let requester = auth.requester();
    let template_by_id: HashMap<&str, &ConnectionTemplate> =
        templates.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut requests: Vec<Option<ActivationConnectionCreate>> =
        body.connections.into_iter().map(Some).collect();
    let mut new_connections = Vec::new();
    let mut bound = Vec::with_capacity(bindings.len());
    for (template_id, binding) in bindings {
        match binding {
            Binding::Existing(cid) => bound.push((template_id, cid)),
            Binding::New(k) => {
                let index = entries[k].0;
                let req = requests[index].take().expect("each entry binds once");
                let template = template_by_id[template_id.as_str()];
                let create = ConnectionCreate {
                    name: req.name.unwrap_or_default(),
                    credentials: req.credentials.unwrap_or_default(),
                    variables: req.variables,
                };
                let schemes = std::slice::from_ref(&template.auth_scheme_config);
                match v1::build_connection(
                    &s,
                    &org,
                    &template.connector_id,
                    Some(&user.id),
                    create,
                    schemes,
                    requester,
                    &format!("connections[{index}]."),
                ) {
                    Ok(nc) => {
                        bound.push((template_id, nc.connection.connection.id.clone()));
                        new_connections.push(nc);
                    }
                    Err(mut f) => fields.append(&mut f),
                }
            }
        }
    }
    if !fields.is_empty() {
        let message = activation::summarise(&fields);
        return Err(ApiError(Error::invalid_fields(message, fields)));
    }
    // Only now that the request is otherwise sound are OAuth2 codes spent.
    let new_connections = crate::oauth::complete(&s, &org, new_connections).await?;

    let now = time::now();
    let a = Activation {
        id: new_id(),
        organisation_id: org.clone(),
        hub_id: integration.hub_id.clone(),
        integration_id: integration.id.clone(),
        end_user_id: user.id.clone(),
        dynamic_variables: vars,
        bindings: bound,
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = s
        .store
        .insert_activation(&org, &a, new_user.as_ref(), &new_connections)
        .await
    {
        if e.is_conflict() {
            already_activated(&s, &org, &user.id, &integration.id).await?;
        }
        return Err(e.into());
    }
    crate::tokens::check_new_credentials(
        &s,
        &org,
        &new_connections
            .iter()
            .map(|n| &n.connection)
            .collect::<Vec<_>>(),
    )
    .await;
    Ok(axum::Json(
        activation_out_with(&s, &org, a, Some(integration), Some(user), primary).await?,
    ))
}

/// 409 naming the activation when the end user has already activated the integration.
async fn already_activated(
    s: &AppState,
    org: &str,
    user_id: &str,
    integration_id: &str,
) -> ApiResult<()> {
    match s
        .store
        .find_activation(org, user_id, integration_id)
        .await?
    {
        Some(existing) => Err(ApiError(
            Error::conflict(format!(
                "the end user has already activated this integration: activation {}",
                existing.id
            ))
            .with_details(existing.id),
        )),
        None => Ok(()),
    }
}

#[utoipa::path(get, path = "/api/embedded/v1/activations/{activation_id}", operation_id = "GetActivation", tag = "activations",
    params(("activation_id" = String, Path)), responses((status = 200, body = ActivationOut), (status = "default", body = ErrorBody)))]
async fn get_activation(
    State(s): State<AppState>,
    auth: HubAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ActivationOut>> {
    let org = auth.organisation_id().to_owned();
    let a = s
        .store
        .get_activation(&org, &id)
        .await?
        .or_not_found("activation")?;
    auth.check_activation(&s, &a).await?;
    Ok(axum::Json(activation_out(&s, &org, a, None, None).await?))
}

/// Deactivates: removes the activation; the end user and their connections stay.
#[utoipa::path(delete, path = "/api/embedded/v1/activations/{activation_id}", operation_id = "DeleteActivation", tag = "activations",
    params(("activation_id" = String, Path)), responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_activation(
    State(s): State<AppState>,
    auth: HubAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let org = auth.organisation_id().to_owned();
    let a = s
        .store
        .get_activation(&org, &id)
        .await?
        .or_not_found("activation")?;
    auth.check_activation(&s, &a).await?;
    s.store
        .delete_activation(&org, &a.id)
        .await?
        .then_some(())
        .or_not_found("activation")?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces an activation's dynamic variables, validated against the integration's schema
/// (defaults applied); returns what is stored.
#[utoipa::path(put, path = "/api/embedded/v1/activations/{activation_id}/variables", operation_id = "UpdateDynamicVariables", tag = "activations",
    params(("activation_id" = String, Path)), request_body = DynamicVariablesBody, responses((status = 200, body = DynamicVariablesBody), (status = "default", body = ErrorBody)))]
async fn update_activation_variables(
    State(s): State<AppState>,
    auth: HubAuth,
    Path(id): Path<String>,
    body: JsonBody<DynamicVariablesBody>,
) -> ApiResult<axum::Json<DynamicVariablesBody>> {
    let org = auth.organisation_id().to_owned();
    let a = s
        .store
        .get_activation(&org, &id)
        .await?
        .or_not_found("activation")?;
    auth.check_activation(&s, &a).await?;
    let body = body.get()?;
    let i = integration_of(&s, &org, &a.integration_id).await?;
    let vars = variables::validate(
        variables::INTEGRATION,
        i.variables_schema.as_ref(),
        body.dynamic_variables,
        "dynamicVariables",
    )
    .await?;
    s.store
        .update_activation_variables(&org, &a.id, &vars, time::now())
        .await?;
    Ok(axum::Json(DynamicVariablesBody {
        dynamic_variables: vars,
    }))
}

/// Replaces the connection that serves one of an activation's connection templates (Switchyard's
/// addition, used by the hub page to reconnect an account).
#[utoipa::path(put, path = "/api/embedded/v1/activations/{activation_id}/connections/{template_id}", operation_id = "ReplaceActivationConnection", tag = "activations",
    params(("activation_id" = String, Path), ("template_id" = String, Path)), request_body = ActivationConnectionReplace,
    responses((status = 200, body = ActivationOut), (status = "default", body = ErrorBody)))]
async fn replace_activation_connection(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((id, template_id)): Path<(String, String)>,
    body: JsonBody<ActivationConnectionReplace>,
) -> ApiResult<axum::Json<ActivationOut>> {
    let org = auth.organisation_id().to_owned();
    let a = s
        .store
        .get_activation(&org, &id)
        .await?
        .or_not_found("activation")?;
    auth.check_activation(&s, &a).await?;
    let body = body.get()?;
    let template = s
        .store
        .get_template(&org, &template_id)
        .await?
        .filter(|t| t.integration_id == a.integration_id)
        .or_not_found("connection template")?;
    let user = s
        .store
        .get_end_user_by_id(&org, &a.end_user_id)
        .await?
        .or_not_found("end user")?;
    let (connection_id, new_connection) = match (body.connection_id, body.name) {
        (Some(cid), _) => {
            let c = s.store.get_connection(&org, &cid).await?;
            let usable = c.is_some_and(|c| {
                c.connector_id == template.connector_id
                    && c.end_user_id.as_deref() == Some(user.id.as_str())
            });
            if !usable {
                return Err(ApiError(Error::invalid_field(
                    "connectionId",
                    format!(
                        "is not a connection of this end user to the template's connector {}",
                        template.connector_id
                    ),
                )));
            }
            (cid, None)
        }
        (None, Some(name)) => {
            let create = ConnectionCreate {
                name,
                credentials: body.credentials.unwrap_or_default(),
                variables: body.variables,
            };
            let schemes = std::slice::from_ref(&template.auth_scheme_config);
            let pending = v1::build_connection(
                &s,
                &org,
                &template.connector_id,
                Some(&user.id),
                create,
                schemes,
                auth.requester(),
                "",
            )
            .map_err(|f| fields_error("invalid connection", f))?;
            let nc = crate::oauth::complete(&s, &org, vec![pending])
                .await?
                .remove(0);
            (nc.connection.id.clone(), Some(nc))
        }
        (None, None) => {
            return Err(ApiError(Error::invalid_field(
                "connectionId",
                "give either connectionId (an existing connection) or name and credentials (a new one)",
            )));
        }
    };
    s.store
        .rebind_activation(
            &org,
            &a.id,
            &template.id,
            &connection_id,
            new_connection.as_ref(),
            time::now(),
        )
        .await?
        .then_some(())
        .or_not_found("activation")?;
    crate::tokens::check_new_credentials(
        &s,
        &org,
        &new_connection
            .iter()
            .map(|n| &n.connection)
            .collect::<Vec<_>>(),
    )
    .await;
    let a = s
        .store
        .get_activation(&org, &a.id)
        .await?
        .or_not_found("activation")?;
    Ok(axum::Json(
        activation_out(&s, &org, a, None, Some(user)).await?,
    ))
}
