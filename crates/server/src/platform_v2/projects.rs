//! Platform API v2 projects and their environments.
use crate::auth::PlatformAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_domain::platform::{PlatformEnvironment, PlatformProject};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{new_id, Error};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_project, list_projects)).routes(routes!(get_project, delete_project))
}

/// `ProjectCreate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ProjectCreate)]
pub struct ProjectCreate {
    pub name: String,
    #[serde(default)]
    pub execution_pool: Option<String>,
}

/// `ProjectEnvironment`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ProjectEnvironment)]
pub struct EnvironmentOut {
    pub id: String,
    pub name: String,
    /// `draft|running|suspended|error`.
    pub status: String,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Where the deployed code's webhooks are served; empty: Switchyard runs no code.
    pub public_url: String,
    pub execution_pool: String,
    #[schema(value_type = Object)]
    pub config: Value,
    /// Never deployed: `null`.
    #[schema(value_type = Option<String>)]
    pub last_deployed_at: Option<String>,
}

impl From<PlatformEnvironment> for EnvironmentOut {
    fn from(e: PlatformEnvironment) -> Self {
        Self {
            id: e.id,
            name: e.name,
            status: e.status,
            created_at: e.created_at,
            updated_at: e.updated_at,
            public_url: String::new(),
            execution_pool: e.execution_pool,
            config: Value::Object(Map::new()),
            last_deployed_at: None,
        }
    }
}

/// `Project`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::Project)]
pub struct ProjectOut {
    pub id: String,
    pub name: String,
    pub environments: Vec<EnvironmentOut>,
    #[schema(value_type = Object)]
    pub current_files: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub dynamic_variables_schema: Option<Value>,
    #[schema(value_type = Object)]
    pub settings: Value,
    #[schema(value_type = Object)]
    pub metadata: Value,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

pub(super) fn project_out(p: PlatformProject, environments: Vec<PlatformEnvironment>) -> ApiResult<ProjectOut> {
    let schema = p
        .variables_schema
        .as_deref()
        .map(serde_json::from_str::<Value>)
        .transpose()
        .map_err(|_| ApiError(Error::internal("a stored variables schema is not JSON")))?;
    Ok(ProjectOut {
        id: p.id,
        name: p.name,
        environments: environments.into_iter().map(Into::into).collect(),
        current_files: serde_json::json!({"files": [], "labels": {}}),
        dynamic_variables_schema: schema,
        settings: Value::Object(Map::new()),
        metadata: Value::Object(Map::new()),
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
}

pub(super) async fn project_of(s: &AppState, org: &str, id: &str) -> ApiResult<PlatformProject> {
    s.store.get_platform_project(org, id).await?.or_not_found("project")
}

/// The name of the environment created with a project (the CLI deploys to `production`).
pub const FIRST_ENVIRONMENT: &str = "production";

/// Creates a project with its first environment (`production`, `draft`). Answers 200, as Versori's spec says.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/projects", operation_id = "v2CreateProject", tag = "v2-projects",
    params(("organisation_id" = String, Path)), request_body = ProjectCreate,
    responses((status = 200, body = ProjectOut), (status = "default", body = ErrorBody)))]
async fn create_project(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path(org): Path<String>,
    Json(body): Json<ProjectCreate>,
) -> ApiResult<axum::Json<ProjectOut>> {
    auth.check_admin(&org)?;
    if body.name.trim().is_empty() {
        return Err(ApiError(Error::invalid_field("name", "must not be empty")));
    }
    let now = time::now();
    let pool = body.execution_pool.filter(|p| !p.is_empty()).unwrap_or_else(|| "default".to_owned());
    let project = PlatformProject {
        id: new_id(),
        organisation_id: org.clone(),
        name: body.name,
        execution_pool: pool.clone(),
        variables_schema: None,
        created_at: now,
        updated_at: now,
    };
    let env = PlatformEnvironment {
        id: new_id(),
        organisation_id: org.clone(),
        project_id: project.id.clone(),
        name: FIRST_ENVIRONMENT.to_owned(),
        status: "draft".to_owned(),
        execution_pool: pool,
        created_at: now,
        updated_at: now,
    };
    s.store.insert_platform_project(&org, &project, &env).await?;
    Ok(axum::Json(project_out(project, vec![env])?))
}

/// `ProjectSummary`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ProjectSummary)]
pub struct ProjectSummary {
    pub id: String,
    pub name: String,
    pub environments: Vec<EnvironmentOut>,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// `ProjectsList`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v2::ProjectsList)]
pub struct ProjectsList {
    pub projects: Vec<ProjectSummary>,
}

/// The organisation's projects with their environments, oldest first, on one page.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/projects", operation_id = "v2ListProjects", tag = "v2-projects",
    params(("organisation_id" = String, Path)),
    responses((status = 200, body = ProjectsList), (status = "default", body = ErrorBody)))]
async fn list_projects(State(s): State<AppState>, auth: PlatformAuth, Path(org): Path<String>) -> ApiResult<axum::Json<ProjectsList>> {
    auth.check_org(&org)?;
    let mut projects = Vec::new();
    for p in s.store.list_platform_projects(&org).await? {
        let envs = s.store.list_platform_environments(&org, &p.id).await?;
        projects.push(ProjectSummary {
            id: p.id,
            name: p.name,
            environments: envs.into_iter().map(Into::into).collect(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        });
    }
    Ok(axum::Json(ProjectsList { projects }))
}

#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/projects/{project_id}", operation_id = "v2GetProject", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)),
    responses((status = 200, body = ProjectOut), (status = "default", body = ErrorBody)))]
async fn get_project(State(s): State<AppState>, auth: PlatformAuth, Path((org, id)): Path<(String, String)>) -> ApiResult<axum::Json<ProjectOut>> {
    auth.check_org(&org)?;
    let p = project_of(&s, &org, &id).await?;
    let envs = s.store.list_platform_environments(&org, &p.id).await?;
    Ok(axum::Json(project_out(p, envs)?))
}

/// Deletes a project with its environments and connection templates.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/projects/{project_id}", operation_id = "v2DeleteProject", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_project(State(s): State<AppState>, auth: PlatformAuth, Path((org, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    auth.check_admin(&org)?;
    if !s.store.delete_platform_project(&org, &id).await? {
        return Err(ApiError(Error::not_found("project")));
    }
    Ok(StatusCode::NO_CONTENT)
}
