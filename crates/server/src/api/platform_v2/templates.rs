//! Platform API v2 connection templates: a system linked into an environment under a name.
use super::projects::project_of;
use super::{fields_error, scheme_to_v2};
use crate::api::v1_wire::PageInfo;
use crate::auth::{PlatformAdmin, PlatformAuth};
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use switchyard_domain::platform::{PlatformSystem, PlatformTemplate};
use switchyard_domain::time::{self};
use switchyard_domain::{new_id, FieldError};
use switchyard_store::OrgId;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            create_connection_template,
            list_connection_templates
        ))
        .routes(routes!(
            update_connection_template,
            delete_connection_template
        ))
}

/// `LinkSystem`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::LinkSystem)]
pub struct LinkSystem {
    pub system_id: String,
    pub name: String,
    /// The project's first environment when left out.
    #[serde(default)]
    pub environment_id: Option<String>,
    #[serde(default)]
    pub dynamic: bool,
}

/// `ConnectionTemplate`: `id` is the system's id, `connectionTemplateId` the template's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ConnectionTemplate)]
pub struct TemplateOut {
    pub id: String,
    pub connection_template_id: String,
    pub name: String,
    pub domain: String,
    pub dynamic: bool,
    #[schema(value_type = Vec<Object>)]
    pub auth_scheme_configs: Vec<Value>,
    pub template_base_url: String,
}

/// A template as answered: its system's auth scheme configs, only those it names when it does
/// (`scheme_ids`), in the system's order.
fn template_out(
    t: PlatformTemplate,
    system: Option<PlatformSystem>,
    scheme_ids: Option<&[String]>,
) -> TemplateOut {
    let (domain, configs, base) = system
        .map(|s| {
            let configs = s
                .connector
                .auth_scheme_configs
                .iter()
                .filter(|c| scheme_ids.is_none_or(|ids| ids.contains(&c.id)))
                .map(scheme_to_v2)
                .collect();
            (s.domain, configs, s.connector.base_url)
        })
        .unwrap_or_default();
    TemplateOut {
        id: t.system_id,
        connection_template_id: t.id,
        name: t.name,
        domain,
        dynamic: t.dynamic,
        auth_scheme_configs: configs,
        template_base_url: base,
    }
}

/// `EnvironmentSystemPage` (every template on one page).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v2::EnvironmentSystemPage)]
pub struct TemplatePage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub items: Vec<TemplateOut>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTemplatesParams {
    /// Only this environment's templates.
    pub env_id: Option<String>,
}

/// Links a system into one of the project's environments under a name (unique in the environment).
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/projects/{project_id}/connection-templates", operation_id = "v2CreateConnectionTemplate", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)), request_body = LinkSystem,
    responses((status = 200, body = TemplateOut), (status = "default", body = ErrorBody)))]
async fn create_connection_template(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, project_id)): Path<(String, String)>,
    Json(body): Json<LinkSystem>,
) -> ApiResult<axum::Json<TemplateOut>> {
    let org = auth.org.clone();
    let project = project_of(&s, &org, &project_id).await?;
    let envs = s
        .store
        .list_platform_environments(&org, &project.id)
        .await?;
    let mut fields = Vec::new();
    if body.name.trim().is_empty() {
        fields.push(FieldError::new("name", "must not be empty"));
    }
    let env = match &body.environment_id {
        Some(id) => envs.iter().find(|e| &e.id == id),
        None => envs.first(),
    };
    if env.is_none() {
        fields.push(FieldError::new(
            "environmentId",
            "is not an environment of this project",
        ));
    }
    let system = s.store.get_platform_system(&org, &body.system_id).await?;
    if system.is_none() {
        fields.push(FieldError::new(
            "systemId",
            "is not a system of this organisation",
        ));
    }
    if !fields.is_empty() {
        return Err(fields_error("invalid connection template", fields));
    }
    let t = PlatformTemplate {
        id: new_id(),
        organisation_id: org.to_string(),
        project_id: project.id,
        environment_id: env.map(|e| e.id.clone()).unwrap_or_default(),
        system_id: body.system_id,
        name: body.name,
        dynamic: body.dynamic,
        created_at: time::now(),
    };
    s.store.insert_platform_template(&org, &t).await?;
    Ok(axum::Json(template_out(t, system, None)))
}

/// A project's connection templates, optionally one environment's (`env_id`).
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/projects/{project_id}/connection-templates", operation_id = "v2ListProjectConnectionTemplates", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path), ListTemplatesParams),
    responses((status = 200, body = TemplatePage), (status = "default", body = ErrorBody)))]
async fn list_connection_templates(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, project_id)): Path<(String, String)>,
    Query(q): Query<ListTemplatesParams>,
) -> ApiResult<axum::Json<TemplatePage>> {
    let org = auth.org.clone();
    let project = project_of(&s, &org, &project_id).await?;
    let env = q.env_id.filter(|e| !e.is_empty());
    let templates = s
        .store
        .list_platform_templates(&org, &project.id, env.as_deref())
        .await?;
    let schemes = scheme_choices(&s, &org, &project.id).await?;
    let mut items = Vec::with_capacity(templates.len());
    for t in templates {
        let system = s.store.get_platform_system(&org, &t.system_id).await?;
        let ids = schemes.get(&t.id).map(Vec::as_slice);
        items.push(template_out(t, system, ids));
    }
    Ok(axum::Json(TemplatePage {
        page: PageInfo {
            total_count: items.len() as i64,
            next: String::new(),
            prev: String::new(),
        },
        items,
    }))
}

/// The auth scheme config ids of a project's templates that name some (template id → ids).
async fn scheme_choices(
    s: &AppState,
    org: &OrgId,
    project_id: &str,
) -> ApiResult<HashMap<String, Vec<String>>> {
    Ok(s.store
        .platform_template_schemes(org, Some(project_id), None)
        .await?
        .into_iter()
        .map(|(id, _, ids)| (id, ids))
        .collect())
}

async fn template_of(
    s: &AppState,
    org: &OrgId,
    project_id: &str,
    id: &str,
) -> ApiResult<PlatformTemplate> {
    s.store
        .list_platform_templates(org, project_id, None)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .or_not_found("connection template")
}

/// `UpdateConnectionTemplate`: what is left out keeps its value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::UpdateConnectionTemplate)]
pub struct UpdateConnectionTemplate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub dynamic: Option<bool>,
    /// Ids of the system's auth scheme configs this template uses, in the system's order on
    /// output; `[]` goes back to all of them.
    #[serde(default)]
    pub auth_scheme_config_ids: Option<Vec<String>>,
}

/// Renames a template, makes it static or dynamic, or narrows the auth scheme configs it uses to
/// some of its system's (`authSchemeConfigIds`; `[]`: all of them again). A duplicate name in the
/// environment is a 409.
#[utoipa::path(put, path = "/api/v2/o/{organisation_id}/projects/{project_id}/connection-templates/{template_id}",
    operation_id = "v2UpdateConnectionTemplate", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path), ("template_id" = String, Path)), request_body = UpdateConnectionTemplate,
    responses((status = 200, body = TemplateOut), (status = "default", body = ErrorBody)))]
async fn update_connection_template(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, project_id, id)): Path<(String, String, String)>,
    Json(body): Json<UpdateConnectionTemplate>,
) -> ApiResult<axum::Json<TemplateOut>> {
    let org = auth.org.clone();
    let project = project_of(&s, &org, &project_id).await?;
    let mut t = template_of(&s, &org, &project.id, &id).await?;
    let system = s.store.get_platform_system(&org, &t.system_id).await?;
    let mut fields = Vec::new();
    if let Some(name) = body.name {
        if name.trim().is_empty() {
            fields.push(FieldError::new("name", "must not be empty"));
        }
        t.name = name;
    }
    if let Some(d) = body.dynamic {
        t.dynamic = d;
    }
    let known: Vec<&str> = system
        .iter()
        .flat_map(|s| {
            s.connector
                .auth_scheme_configs
                .iter()
                .map(|c| c.id.as_str())
        })
        .collect();
    let ids = match body.auth_scheme_config_ids {
        Some(ids) => {
            for (i, id) in ids.iter().enumerate() {
                if !known.contains(&id.as_str()) {
                    fields.push(FieldError::new(
                        format!("authSchemeConfigIds[{i}]"),
                        format!("{id:?} is not an auth scheme config of the template's system"),
                    ));
                } else if ids[..i].contains(id) {
                    fields.push(FieldError::new(
                        format!("authSchemeConfigIds[{i}]"),
                        format!("{id:?} is named twice"),
                    ));
                }
            }
            (!ids.is_empty()).then_some(ids)
        }
        None => scheme_choices(&s, &org, &project.id).await?.remove(&t.id),
    };
    if !fields.is_empty() {
        return Err(fields_error("invalid connection template", fields));
    }
    if !s
        .store
        .update_platform_template(&org, &t, ids.as_deref())
        .await?
    {
        return Err(ApiError::not_found("connection template"));
    }
    Ok(axum::Json(template_out(t, system, ids.as_deref())))
}

/// Deletes a template; its connection links and activation bindings go with it (the connections
/// themselves stay).
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/projects/{project_id}/connection-templates/{template_id}",
    operation_id = "v2DeleteConnectionTemplate", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path), ("template_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_connection_template(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, project_id, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    let project = project_of(&s, &org, &project_id).await?;
    if !s
        .store
        .delete_platform_template(&org, &project.id, &id)
        .await?
    {
        return Err(ApiError::not_found("connection template"));
    }
    Ok(StatusCode::NO_CONTENT)
}
