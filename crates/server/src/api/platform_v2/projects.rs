//! Platform API v2 projects and their environments.
use crate::auth::{PlatformAdmin, PlatformAuth};
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_domain::new_id;
use switchyard_domain::platform::{PlatformEnvironment, PlatformProject};
use switchyard_domain::time::{self, Timestamp};
use switchyard_store::OrgId;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_project, list_projects))
        .routes(routes!(get_project, update_project, delete_project))
}

/// `ProjectCreate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ProjectCreate)]
pub struct ProjectCreate {
    pub name: String,
    #[serde(default)]
    pub execution_pool: Option<String>,
    /// The dynamic-variables JSON Schema (Switchyard's addition: Versori sets it with
    /// SetProjectVariablesSchema only); checked as that route checks it.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub dynamic_variables_schema: Option<Value>,
}

/// `ProjectEnvironment`.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    /// The last successful deploy; never deployed: `null`.
    #[serde(with = "time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_deployed_at: Option<Timestamp>,
}

pub(super) fn environment_out(
    e: PlatformEnvironment,
    last_deployed_at: Option<Timestamp>,
) -> EnvironmentOut {
    EnvironmentOut {
        id: e.id,
        name: e.name,
        status: e.status,
        created_at: e.created_at,
        updated_at: e.updated_at,
        public_url: String::new(),
        execution_pool: e.execution_pool,
        config: Value::Object(Map::new()),
        last_deployed_at,
    }
}

/// A project's environments as answered, oldest first, with their last deploy.
pub(super) async fn environments_out(
    s: &AppState,
    org: &OrgId,
    project_id: &str,
) -> ApiResult<Vec<EnvironmentOut>> {
    let envs = s.store.list_platform_environments(org, project_id).await?;
    let deployed = s.store.platform_deploy_times(org, project_id).await?;
    Ok(envs
        .into_iter()
        .map(|e| {
            let at = deployed.get(&e.id).copied();
            environment_out(e, at)
        })
        .collect())
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

pub(super) fn stored_json(text: &str, what: &str) -> ApiResult<Value> {
    serde_json::from_str(text)
        .map_err(|_| ApiError::internal(format!("a stored {what} is not JSON")))
}

pub(super) fn project_out(
    p: PlatformProject,
    environments: Vec<EnvironmentOut>,
) -> ApiResult<ProjectOut> {
    let schema = p
        .variables_schema
        .as_deref()
        .map(|t| stored_json(t, "variables schema"))
        .transpose()?;
    Ok(ProjectOut {
        id: p.id,
        name: p.name,
        environments,
        current_files: serde_json::json!({"files": [], "labels": {}}),
        dynamic_variables_schema: schema,
        settings: stored_json(&p.settings, "project settings")?,
        metadata: stored_json(&p.metadata, "project metadata")?,
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
}

/// The project with its environments, as answered.
pub(super) async fn project_view(
    s: &AppState,
    org: &OrgId,
    p: PlatformProject,
) -> ApiResult<ProjectOut> {
    let envs = environments_out(s, org, &p.id).await?;
    project_out(p, envs)
}

pub(super) async fn project_of(s: &AppState, org: &OrgId, id: &str) -> ApiResult<PlatformProject> {
    s.store
        .get_platform_project(org, id)
        .await?
        .or_not_found("project")
}

/// The name of the environment created with a project (the CLI deploys to `production`).
pub const FIRST_ENVIRONMENT: &str = "production";

/// Creates a project with its first environment (`production`, `draft`). Answers 200, as Versori's spec says.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/projects", operation_id = "v2CreateProject", tag = "v2-projects",
    params(("organisation_id" = String, Path)), request_body = ProjectCreate,
    responses((status = 200, body = ProjectOut), (status = "default", body = ErrorBody)))]
pub(super) async fn create_project(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path(_org): Path<String>,
    Json(body): Json<ProjectCreate>,
) -> ApiResult<axum::Json<ProjectOut>> {
    let org = auth.org.clone();
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    if let Some(schema) = &body.dynamic_variables_schema {
        check_variables_schema(schema, "dynamicVariablesSchema").await?;
    }
    let now = time::now();
    let pool = body
        .execution_pool
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    let project = PlatformProject {
        id: new_id(),
        organisation_id: org.to_string(),
        name: body.name,
        execution_pool: pool.clone(),
        variables_schema: body.dynamic_variables_schema.map(|v| v.to_string()),
        settings: "{}".to_owned(),
        metadata: "{}".to_owned(),
        created_at: now,
        updated_at: now,
    };
    let env = PlatformEnvironment {
        id: new_id(),
        organisation_id: org.to_string(),
        project_id: project.id.clone(),
        name: FIRST_ENVIRONMENT.to_owned(),
        status: "draft".to_owned(),
        execution_pool: pool,
        created_at: now,
        updated_at: now,
    };
    s.store
        .insert_platform_project(&org, &project, &env)
        .await?;
    Ok(axum::Json(project_out(
        project,
        vec![environment_out(env, None)],
    )?))
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
pub(super) async fn list_projects(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path(_org): Path<String>,
) -> ApiResult<axum::Json<ProjectsList>> {
    let org = auth.org.clone();
    let mut projects = Vec::new();
    for p in s.store.list_platform_projects(&org).await? {
        let environments = environments_out(&s, &org, &p.id).await?;
        projects.push(ProjectSummary {
            id: p.id,
            name: p.name,
            environments,
            created_at: p.created_at,
            updated_at: p.updated_at,
        });
    }
    Ok(axum::Json(ProjectsList { projects }))
}

#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/projects/{project_id}", operation_id = "v2GetProject", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)),
    responses((status = 200, body = ProjectOut), (status = "default", body = ErrorBody)))]
pub(super) async fn get_project(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<ProjectOut>> {
    let org = auth.org.clone();
    let p = project_of(&s, &org, &id).await?;
    Ok(axum::Json(project_view(&s, &org, p).await?))
}

/// Deletes a project with its environments and connection templates.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/projects/{project_id}", operation_id = "v2DeleteProject", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub(super) async fn delete_project(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    if !s.store.delete_platform_project(&org, &id).await? {
        return Err(ApiError::not_found("project"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Read-modify-write of a project, retried when another write came in between (compare and swap
/// on `updatedAt`); `change` may refuse. The project as written.
pub(super) async fn change_project(
    s: &AppState,
    org: &OrgId,
    id: &str,
    mut change: impl FnMut(&mut PlatformProject) -> ApiResult<()>,
) -> ApiResult<PlatformProject> {
    for _ in 0..8 {
        let mut p = project_of(s, org, id).await?;
        let expected = p.updated_at;
        change(&mut p)?;
        p.updated_at = time::now().max(expected + chrono::Duration::microseconds(1));
        if s.store.swap_platform_project(org, &p, expected).await? {
            return Ok(p);
        }
    }
    Err(ApiError::conflict(
        "the project is being changed by other requests; try again",
    ))
}

/// `ProjectSettings`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = v2::ProjectSettings)]
pub struct ProjectSettings {
    #[serde(
        rename = "acceptCodeChangesAutomatically",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub accept_code_changes_automatically: Option<bool>,
    #[serde(
        rename = "testingMockWithAI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub testing_mock_with_ai: Option<bool>,
    #[serde(
        rename = "planningChatVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub planning_chat_version: Option<String>,
    #[serde(
        rename = "chatStoredInDB",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub chat_stored_in_db: Option<bool>,
}

/// `Sentiment`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::Sentiment)]
pub struct Sentiment {
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: Timestamp,
    pub sentiment_score: i64,
    pub message_id: String,
}

/// `ProjectMetadata`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ProjectMetadata)]
pub struct ProjectMetadata {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sentiment_history: Vec<Sentiment>,
}

/// `ProjectUpdate`: what is left out keeps its value; `settings` and `metadata` are replaced whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ProjectUpdate)]
pub struct ProjectUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub settings: Option<ProjectSettings>,
    #[serde(default)]
    pub metadata: Option<ProjectMetadata>,
    /// Replaces the dynamic-variables JSON Schema (Switchyard's addition, as on ProjectCreate).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub dynamic_variables_schema: Option<Value>,
}

/// Renames a project or replaces its settings or metadata. Does not redeploy anything.
#[utoipa::path(put, path = "/api/v2/o/{organisation_id}/projects/{project_id}", operation_id = "v2UpdateProject", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)), request_body = ProjectUpdate,
    responses((status = 200, body = ProjectOut), (status = "default", body = ErrorBody)))]
pub(super) async fn update_project(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
    Json(body): Json<ProjectUpdate>,
) -> ApiResult<axum::Json<ProjectOut>> {
    let org = auth.org.clone();
    if body.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    let settings = body
        .settings
        .map(|x| serde_json::to_string(&x).expect("settings serialise"));
    let metadata = body
        .metadata
        .map(|x| serde_json::to_string(&x).expect("metadata serialise"));
    if let Some(schema) = &body.dynamic_variables_schema {
        check_variables_schema(schema, "dynamicVariablesSchema").await?;
    }
    let schema = body.dynamic_variables_schema.map(|v| v.to_string());
    let p = change_project(&s, &org, &id, |p| {
        if let Some(x) = &schema {
            p.variables_schema = Some(x.clone());
        }
        if let Some(n) = &body.name {
            p.name = n.clone();
        }
        if let Some(x) = &settings {
            p.settings = x.clone();
        }
        if let Some(x) = &metadata {
            p.metadata = x.clone();
        }
        Ok(())
    })
    .await?;
    Ok(axum::Json(project_view(&s, &org, p).await?))
}

/// A dynamic-variables schema must be a JSON object, describe objects (`type`, when given, is
/// `"object"`), stay within the limits of `crate::variables` and compile with the validator
/// that checks variables; `field` names the problem.
pub(super) async fn check_variables_schema(schema: &Value, field: &str) -> ApiResult<()> {
    let Some(obj) = schema.as_object() else {
        return Err(ApiError::invalid_field(
            field,
            "must be a JSON Schema object",
        ));
    };
    if let Some(t) = obj.get("type") {
        if t != "object" {
            let at = if field == "body" {
                "type".to_owned()
            } else {
                format!("{field}.type")
            };
            return Err(ApiError::invalid_field(
                at,
                "must be \"object\": dynamic variables are a JSON object",
            ));
        }
    }
    crate::variables::check_schema(schema, field).await?;
    Ok(())
}
