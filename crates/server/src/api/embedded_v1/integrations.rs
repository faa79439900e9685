//! Integrations, their connection templates, deployment, and an end user's variables by
//! integration.
use crate::api::v1_wire::{PageInfo, PageParams};
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{JsonBody, Path, Query};
use crate::state::AppState;
use crate::variables;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value};
use std::collections::HashMap;
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::model::*;
use switchyard_domain::time::{self};
use switchyard_domain::{new_id, Error, FieldError};
use switchyard_store::OrgId;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::{
    HubConnectionTemplateCreate, HubConnectionTemplatePage, IntegrationCreate, IntegrationMetadata,
    IntegrationOut, ListIntegrationParams, ListIntegrations, TemplateOut, UpdateIntegration,
    UserParams,
};
use super::{
    check_body_org, fields_error, hub_of, integration_of, integration_with_templates, live_hub,
    page_params, user_in_hub,
};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
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
}

/// Templates as the API shows them, with their connectors' variables (each connector read once).
pub(super) async fn templates_out(
    s: &AppState,
    org: &OrgId,
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

// ---------------------------------------------------------------------------------------------
// Integrations and connection templates.

pub(super) fn new_template(
    org: &OrgId,
    integration: &Integration,
    hub: &Hub,
    connector: &Connector,
    scheme: AuthSchemeConfig,
) -> ConnectionTemplate {
    ConnectionTemplate {
        id: new_id(),
        organisation_id: org.to_string(),
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
    let hub = live_hub(&s, &auth.org, &hub_id).await?;
    let body = body.get()?;
    check_body_org(&auth, &body.organisation_id)?;
    let org = auth.org;
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    if let Some(schema) = &body.variables_schema {
        variables::check_schema(schema, "variablesSchema").await?;
    }
    let now = time::now();
    let integration = Integration {
        id: new_id(),
        organisation_id: org.to_string(),
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
            grants.extend(crate::credentials::absorb_grant_secret(
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

/// Lists a hub's integrations, deployed or not (an administration view: not for end users).
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}/integrations", operation_id = "ListIntegrations", tag = "integrations",
    params(("hub_id" = String, Path), ListIntegrationParams), responses((status = 200, body = ListIntegrations), (status = "default", body = ErrorBody)))]
async fn list_integrations(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
    Query(q): Query<ListIntegrationParams>,
) -> ApiResult<axum::Json<ListIntegrations>> {
    let org = auth.org;
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
    Ok(axum::Json(integration_of(&s, &auth.org, &id).await?.into()))
}

#[utoipa::path(patch, path = "/api/embedded/v1/integrations/{integration_id}", operation_id = "UpdateIntegration", tag = "integrations",
    params(("integration_id" = String, Path)), request_body = UpdateIntegration, responses((status = 200, body = IntegrationOut), (status = "default", body = ErrorBody)))]
async fn update_integration(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
    body: JsonBody<UpdateIntegration>,
) -> ApiResult<axum::Json<IntegrationOut>> {
    let org = auth.org;
    let mut i = integration_of(&s, &org, &id).await?;
    let body = body.get()?;
    if let Some(name) = body.name {
        if name.trim().is_empty() {
            return Err(ApiError::invalid_field("name", "must not be empty"));
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
    let org = auth.org;
    let i = integration_of(&s, &org, &id).await?;
    if i.is_deployed {
        return Err(ApiError::conflict(
            "the integration is deployed: undeploy it before deleting it",
        ));
    }
    s.store.delete_integration(&org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn set_deployed(
    s: &AppState,
    org: &OrgId,
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
    set_deployed(&s, &auth.org, &id, true).await
}

/// Undeploys an integration: no new activations; existing ones stay. (Switchyard addition.)
#[utoipa::path(post, path = "/api/embedded/v1/integrations/{integration_id}/undeploy", operation_id = "UndeployIntegration", tag = "integrations",
    params(("integration_id" = String, Path)), responses((status = 200, body = IntegrationOut), (status = "default", body = ErrorBody)))]
async fn undeploy_integration(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IntegrationOut>> {
    set_deployed(&s, &auth.org, &id, false).await
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
    let org = auth.org;
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
    let org = auth.org;
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
    let grant = crate::credentials::absorb_grant_secret(&s, &org, &mut scheme, "authSchemeConfig")?;
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
    let org = auth.org;
    let page = q.request()?;
    integration_of(&s, &org, &id).await?;
    let p = s.store.list_templates_page(&org, &id, &page).await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(HubConnectionTemplatePage {
        page: info,
        connection_templates: templates_out(&s, &org, p.items).await?,
    }))
}

pub(super) async fn user_activation(
    s: &AppState,
    org: &OrgId,
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
    let (_, a) = user_activation(&s, &auth.org, &id, &user_id, q.identifier_type).await?;
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
    let org = auth.org;
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
