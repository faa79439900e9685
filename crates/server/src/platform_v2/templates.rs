//! Platform API v2 connection templates: a system linked into an environment under a name.
use super::projects::project_of;
use super::{fields_error, scheme_to_v2};
use crate::auth::PlatformAuth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::v1::PageInfo;
use crate::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_domain::platform::{PlatformSystem, PlatformTemplate};
use switchyard_domain::time::{self};
use switchyard_domain::{new_id, FieldError};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_connection_template, list_connection_templates))
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

fn template_out(t: PlatformTemplate, system: Option<PlatformSystem>) -> TemplateOut {
    let (domain, configs, base) =
        system.map(|s| (s.domain, s.connector.auth_scheme_configs.iter().map(scheme_to_v2).collect(), s.connector.base_url)).unwrap_or_default();
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
    auth: PlatformAuth,
    Path((org, project_id)): Path<(String, String)>,
    Json(body): Json<LinkSystem>,
) -> ApiResult<axum::Json<TemplateOut>> {
    auth.check_admin(&org)?;
    let project = project_of(&s, &org, &project_id).await?;
    let envs = s.store.list_platform_environments(&org, &project.id).await?;
    let mut fields = Vec::new();
    if body.name.trim().is_empty() {
        fields.push(FieldError::new("name", "must not be empty"));
    }
    let env = match &body.environment_id {
        Some(id) => envs.iter().find(|e| &e.id == id),
        None => envs.first(),
    };
    if env.is_none() {
        fields.push(FieldError::new("environmentId", "is not an environment of this project"));
    }
    let system = s.store.get_platform_system(&org, &body.system_id).await?;
    if system.is_none() {
        fields.push(FieldError::new("systemId", "is not a system of this organisation"));
    }
    if !fields.is_empty() {
        return Err(fields_error("invalid connection template", fields));
    }
    let t = PlatformTemplate {
        id: new_id(),
        organisation_id: org.clone(),
        project_id: project.id,
        environment_id: env.map(|e| e.id.clone()).unwrap_or_default(),
        system_id: body.system_id,
        name: body.name,
        dynamic: body.dynamic,
        created_at: time::now(),
    };
    s.store.insert_platform_template(&org, &t).await?;
    Ok(axum::Json(template_out(t, system)))
}

/// A project's connection templates, optionally one environment's (`env_id`).
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/projects/{project_id}/connection-templates", operation_id = "v2ListProjectConnectionTemplates", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path), ListTemplatesParams),
    responses((status = 200, body = TemplatePage), (status = "default", body = ErrorBody)))]
async fn list_connection_templates(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, project_id)): Path<(String, String)>,
    Query(q): Query<ListTemplatesParams>,
) -> ApiResult<axum::Json<TemplatePage>> {
    auth.check_org(&org)?;
    let project = project_of(&s, &org, &project_id).await?;
    let env = q.env_id.filter(|e| !e.is_empty());
    let templates = s.store.list_platform_templates(&org, &project.id, env.as_deref()).await?;
    let mut items = Vec::with_capacity(templates.len());
    for t in templates {
        let system = s.store.get_platform_system(&org, &t.system_id).await?;
        items.push(template_out(t, system));
    }
    Ok(axum::Json(TemplatePage { page: PageInfo { total_count: items.len() as i64, next: String::new(), prev: String::new() }, items }))
}
