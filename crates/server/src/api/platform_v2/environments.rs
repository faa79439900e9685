//! Platform API v2 environments of a project: clone, delete, deploy and suspend. Switchyard runs
//! no code: deploying checks what Versori's deploy checks (every static connection template has a
//! static connection) and records the environment as `running`.
use super::projects::{project_of, project_view, ProjectOut};
use crate::auth::PlatformAdmin;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use switchyard_domain::platform::{PlatformEnvironment, PlatformProject, PlatformTemplate};
use switchyard_domain::time;
use switchyard_domain::{new_id, Error, ErrorKind, FieldError};
use switchyard_store::OrgId;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(clone_environment))
        .routes(routes!(delete_environment))
        .routes(routes!(deploy_project))
        .routes(routes!(suspend_project))
}

/// At most this many environments per project (Versori's environments guide).
pub const MAX_ENVIRONMENTS: usize = 5;

/// The environment of the project named `name` (query parameter `param`): 404 naming both.
async fn environment_named(
    s: &AppState,
    org: &OrgId,
    project: &PlatformProject,
    name: &str,
    param: &str,
) -> ApiResult<PlatformEnvironment> {
    s.store
        .list_platform_environments(org, &project.id)
        .await?
        .into_iter()
        .find(|e| e.name == name)
        .ok_or_else(|| {
            let mut e = Error::new(
                ErrorKind::NotFound,
                format!("the project has no environment named {name:?}"),
            );
            e.fields.push(FieldError::new(
                param,
                format!("no environment is named {name:?}"),
            ));
            ApiError(e)
        })
}

/// `CloneEnvironmentRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::CloneEnvironmentRequest)]
pub struct CloneEnvironmentRequest {
    pub old_env_name: String,
    pub new_env_name: String,
    /// The source environment's when left out or empty.
    #[serde(default)]
    pub execution_pool: Option<String>,
    /// Copies the source environment's connection templates (not its connections).
    #[serde(default)]
    pub clone_systems: bool,
    /// Copies the source environment's static user variables, when it has any.
    #[serde(default)]
    pub copy_static_user_variables: bool,
}

/// Adds an environment to the project as a copy of another: a new `draft` environment named
/// `newEnvName` (unique in the project: 409), in the source's execution pool unless given, with
/// copies of the source's connection templates when `cloneSystems` (connections are not copied)
/// and of its static user's variables when `copyStaticUserVariables`. A project has at most 5
/// environments (409 beyond).
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/projects/{project_id}/environments/clone", operation_id = "v2CloneEnvironment", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)), request_body = CloneEnvironmentRequest,
    responses((status = 200, body = ProjectOut), (status = "default", body = ErrorBody)))]
async fn clone_environment(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, project_id)): Path<(String, String)>,
    Json(body): Json<CloneEnvironmentRequest>,
) -> ApiResult<axum::Json<ProjectOut>> {
    let org = auth.org.clone();
    let project = project_of(&s, &org, &project_id).await?;
    let envs = s
        .store
        .list_platform_environments(&org, &project.id)
        .await?;
    let mut fields = Vec::new();
    let source = envs.iter().find(|e| e.name == body.old_env_name);
    if source.is_none() {
        fields.push(FieldError::new(
            "oldEnvName",
            format!(
                "the project has no environment named {:?}",
                body.old_env_name
            ),
        ));
    }
    if body.new_env_name.trim().is_empty() {
        fields.push(FieldError::new("newEnvName", "must not be empty"));
    }
    let (Some(source), true) = (source, fields.is_empty()) else {
        return Err(super::fields_error("invalid environment clone", fields));
    };
    if envs.iter().any(|e| e.name == body.new_env_name) {
        return Err(ApiError::conflict(format!(
            "the project already has an environment named {:?}",
            body.new_env_name
        )));
    }
    if envs.len() >= MAX_ENVIRONMENTS {
        return Err(ApiError::conflict(format!(
            "a project has at most {MAX_ENVIRONMENTS} environments, and this one has {}",
            envs.len()
        )));
    }
    let now = time::now();
    let env = PlatformEnvironment {
        id: new_id(),
        organisation_id: org.to_string(),
        project_id: project.id.clone(),
        name: body.new_env_name,
        status: "draft".to_owned(),
        execution_pool: body
            .execution_pool
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| source.execution_pool.clone()),
        created_at: now,
        updated_at: now,
    };
    let mut templates = Vec::new();
    if body.clone_systems {
        let choices: HashMap<String, Vec<String>> = s
            .store
            .platform_template_schemes(&org, Some(&project.id), None)
            .await?
            .into_iter()
            .map(|(id, _, ids)| (id, ids))
            .collect();
        for t in s
            .store
            .list_platform_templates(&org, &project.id, Some(&source.id))
            .await?
        {
            let ids = choices.get(&t.id).cloned();
            templates.push((
                PlatformTemplate {
                    id: new_id(),
                    environment_id: env.id.clone(),
                    created_at: now,
                    ..t
                },
                ids,
            ));
        }
    }
    // The limit and the name are checked again in the transaction, against concurrent clones.
    s.store
        .insert_platform_environment(&org, &env, &templates, MAX_ENVIRONMENTS)
        .await?;
    if body.copy_static_user_variables {
        let source_static = s
            .store
            .list_platform_activations(&org, &source.id, true)
            .await?;
        if let Some(vars) = source_static
            .into_iter()
            .next()
            .map(|a| a.dynamic_variables)
            .filter(|v| !v.is_empty())
        {
            let target = s.store.static_platform_activation(&org, &env, now).await?;
            s.store
                .swap_platform_activation_variables(
                    &org,
                    &target.id,
                    &target.dynamic_variables,
                    &vars,
                    now,
                )
                .await?;
        }
    }
    Ok(axum::Json(project_view(&s, &org, project).await?))
}

/// Deletes one of the project's environments ("unpublishes and removes" it): its connection
/// templates, activations and static user go with it; end users and connections stay. A project
/// keeps at least one environment (409). Answers with the project.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/projects/{project_id}/environments/{environment_id}", operation_id = "v2DeleteEnvironment", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path), ("environment_id" = String, Path)),
    responses((status = 200, body = ProjectOut), (status = "default", body = ErrorBody)))]
async fn delete_environment(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, project_id, env_id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<ProjectOut>> {
    let org = auth.org.clone();
    let project = project_of(&s, &org, &project_id).await?;
    if !s
        .store
        .delete_platform_environment(&org, &project.id, &env_id)
        .await?
    {
        return Err(ApiError::not_found("environment"));
    }
    Ok(axum::Json(project_view(&s, &org, project).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeployParams {
    /// The environment's name (not its id); `production` when left out.
    pub project_env: Option<String>,
}

/// One file of `Files`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = v2::File)]
#[allow(dead_code)] // read for its shape only
pub struct FileIn {
    pub filename: String,
    pub content: String,
}

/// `ProjectDeployPayload`: `Files` (`files`, `labels`) and the version to create. Switchyard runs
/// no code: the files and version are checked for shape and otherwise ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ProjectDeployPayload)]
#[allow(dead_code)] // read for its shape only
pub struct ProjectDeployPayload {
    pub files: Vec<FileIn>,
    pub labels: BTreeMap<String, String>,
    /// Required by Versori's spec; may be empty (Versori then makes a name up).
    pub version_name: String,
    #[serde(default)]
    pub version_description: Option<String>,
}

/// Deploys the project to the environment named `project_env` (default `production`): refused
/// with 409 and `missing connections for the following systems: <names>` (the static templates
/// without a static connection, oldest first) and no change; otherwise the environment becomes
/// `running` with `lastDeployedAt` now. Deploying a suspended environment resumes it.
#[utoipa::path(put, path = "/api/v2/o/{organisation_id}/projects/{project_id}/deploy", operation_id = "v2DeployProject", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path), DeployParams), request_body = ProjectDeployPayload,
    responses((status = 200, body = ProjectOut), (status = "default", body = ErrorBody)))]
async fn deploy_project(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, project_id)): Path<(String, String)>,
    Query(q): Query<DeployParams>,
    Json(_body): Json<ProjectDeployPayload>,
) -> ApiResult<axum::Json<ProjectOut>> {
    let org = auth.org.clone();
    let project = project_of(&s, &org, &project_id).await?;
    let name = q
        .project_env
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| super::FIRST_ENVIRONMENT.to_owned());
    let env = environment_named(&s, &org, &project, &name, "project_env").await?;
    let missing = s
        .store
        .deploy_platform_environment(&org, &env.id, time::now())
        .await?;
    if !missing.is_empty() {
        return Err(ApiError::conflict(format!(
            "missing connections for the following systems: {}",
            missing.join(", ")
        )));
    }
    Ok(axum::Json(project_view(&s, &org, project).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuspendParams {
    /// The environment's name.
    pub environment: String,
}

/// Suspends the environment named `environment`: it stops (`suspended`) without being deleted,
/// and deploying again resumes it. An environment never deployed (`draft`) cannot be suspended
/// (409); suspending a suspended one changes nothing.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/projects/{project_id}/suspend", operation_id = "v2SuspendProject", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path), SuspendParams),
    responses((status = 200, body = ProjectOut), (status = "default", body = ErrorBody)))]
async fn suspend_project(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, project_id)): Path<(String, String)>,
    Query(q): Query<SuspendParams>,
) -> ApiResult<axum::Json<ProjectOut>> {
    let org = auth.org.clone();
    let project = project_of(&s, &org, &project_id).await?;
    let env = environment_named(&s, &org, &project, &q.environment, "environment").await?;
    match env.status.as_str() {
        "draft" => {
            return Err(ApiError::conflict(format!(
                "environment {:?} has never been deployed",
                env.name
            )))
        }
        "suspended" => {}
        _ => {
            s.store
                .set_platform_environment_status(&org, &env.id, "suspended", time::now())
                .await?;
        }
    }
    Ok(axum::Json(project_view(&s, &org, project).await?))
}
