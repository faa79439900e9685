//! Platform API v2 (`/api/v2/o/{organisation_id}/...`): Versori's current model. So far:
//! organisation-wide end users, systems (v1 connectors, in v2's wrapper encoding), projects with
//! their first environment, and connection templates.
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path, Query};
use crate::v1::{PageInfo, PageParams};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::model::Connector;
use switchyard_domain::platform::{PlatformEndUser, PlatformEnvironment, PlatformProject, PlatformSystem, PlatformTemplate};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{is_ulid, new_id, Error, FieldError};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_end_user, list_end_users))
        .routes(routes!(get_end_user, delete_end_user))
        .routes(routes!(create_system, list_systems))
        .routes(routes!(get_system, delete_system))
        .routes(routes!(create_project, list_projects))
        .routes(routes!(get_project, delete_project))
        .routes(routes!(create_connection_template, list_connection_templates))
}

/// `EndUserCreate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::EndUserCreate)]
pub struct EndUserCreate {
    pub external_id: String,
    #[serde(default)]
    pub display_name: String,
}

/// `EndUser`: organisation-wide, no hub.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::EndUser)]
pub struct EndUserOut {
    pub id: String,
    pub external_id: String,
    pub display_name: String,
    pub organisation_id: String,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<PlatformEndUser> for EndUserOut {
    fn from(u: PlatformEndUser) -> Self {
        Self {
            id: u.id,
            external_id: u.external_id,
            display_name: u.display_name,
            organisation_id: u.organisation_id,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// `EndUserPage`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v2::EndUserPage)]
pub struct EndUserPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub users: Vec<EndUserOut>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListEndUsersParams {
    /// Matches id, external id and display name.
    pub search: Option<String>,
    /// Page size: default 20, at most 500 (Switchyard's addition; Versori's spec declares no paging).
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// An end user by external id, or else by internal id.
async fn find_user(s: &AppState, org: &str, user_id: &str) -> ApiResult<PlatformEndUser> {
    if let Some(u) = s.store.find_platform_end_user_by_external_id(org, user_id).await? {
        return Ok(u);
    }
    if is_ulid(user_id) {
        if let Some(u) = s.store.get_platform_end_user(org, user_id).await? {
            return Ok(u);
        }
    }
    None.or_not_found("end user")
}

/// Creates an end user; `externalId` must be unique in the organisation (409 otherwise).
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/users", operation_id = "v2CreateEndUser", tag = "v2-end-users",
    params(("organisation_id" = String, Path)), request_body = EndUserCreate,
    responses((status = 201, body = EndUserOut), (status = "default", body = ErrorBody)))]
async fn create_end_user(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(org): Path<String>,
    Json(body): Json<EndUserCreate>,
) -> ApiResult<(StatusCode, axum::Json<EndUserOut>)> {
    auth.check_org(&org)?;
    if body.external_id.trim().is_empty() {
        return Err(ApiError(Error::invalid_field("externalId", "must not be empty")));
    }
    if s.store.find_platform_end_user_by_external_id(&org, &body.external_id).await?.is_some() {
        return Err(ApiError(Error::conflict(format!("an end user with externalId {:?} already exists in this organisation", body.external_id))));
    }
    let now = time::now();
    let user = PlatformEndUser {
        id: new_id(),
        organisation_id: org.clone(),
        external_id: body.external_id,
        display_name: body.display_name,
        created_at: now,
        updated_at: now,
    };
    s.store.insert_platform_end_user(&org, &user).await?;
    Ok((StatusCode::CREATED, axum::Json(user.into())))
}

/// Lists the organisation's end users, oldest first; `search` matches id, externalId and displayName.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/users", operation_id = "v2ListEndUsers", tag = "v2-end-users",
    params(("organisation_id" = String, Path), ListEndUsersParams),
    responses((status = 200, body = EndUserPage), (status = "default", body = ErrorBody)))]
async fn list_end_users(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(org): Path<String>,
    Query(q): Query<ListEndUsersParams>,
) -> ApiResult<axum::Json<EndUserPage>> {
    auth.check_org(&org)?;
    let page = PageParams { first: q.first, after: q.after, before: q.before }.request()?;
    let p = s.store.list_platform_end_users(&org, q.search.as_deref(), &page).await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(EndUserPage { page: info, users: p.items.into_iter().map(Into::into).collect() }))
}

/// An end user, by externalId or by internal id.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/users/{user_id}", operation_id = "v2GetEndUser", tag = "v2-end-users",
    params(("organisation_id" = String, Path), ("user_id" = String, Path, description = "The externalId, or the internal id")),
    responses((status = 200, body = EndUserOut), (status = "default", body = ErrorBody)))]
async fn get_end_user(State(s): State<AppState>, auth: OrgAuth, Path((org, user_id)): Path<(String, String)>) -> ApiResult<axum::Json<EndUserOut>> {
    auth.check_org(&org)?;
    Ok(axum::Json(find_user(&s, &org, &user_id).await?.into()))
}

/// Deletes an end user, by externalId or by internal id.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/users/{user_id}", operation_id = "v2DeleteEndUser", tag = "v2-end-users",
    params(("organisation_id" = String, Path), ("user_id" = String, Path, description = "The externalId, or the internal id")),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_end_user(State(s): State<AppState>, auth: OrgAuth, Path((org, user_id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    auth.check_org(&org)?;
    let u = find_user(&s, &org, &user_id).await?;
    if !s.store.delete_platform_end_user(&org, &u.id).await? {
        return Err(ApiError(Error::not_found("end user")));
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// The v2 auth scheme encoding (versori-api.md §6.2): `{type, <camelCaseType>: {id, description, ...}}`,
// and OAuth2 grants as `{type: "authorizationCode", authorizationCode: {...}}`. Converted to and
// from v1's flat encoding, which the domain type reads and writes.

const SCHEME_KEYS: &[(&str, &str)] =
    &[("none", "none"), ("api-key", "apiKey"), ("basic-auth", "basicAuth"), ("oauth2", "oauth2"), ("hmac", "hmac"), ("certificate", "certificate")];
const GRANT_KEYS: &[(&str, &str)] = &[("authorizationCode", "authorization_code"), ("clientCredentials", "client_credentials"), ("password", "password")];

/// A v2 `AuthSchemeConfig` → the domain config; problems are reported at `path`.
pub fn scheme_from_v2(v: &Value, path: &str) -> Result<AuthSchemeConfig, FieldError> {
    let ty = v.get("type").and_then(Value::as_str).ok_or_else(|| FieldError::new(format!("{path}.type"), "is required"))?;
    let key = SCHEME_KEYS
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, k)| *k)
        .ok_or_else(|| FieldError::new(format!("{path}.type"), format!("{ty:?} is not a supported auth scheme type")))?;
    let mut flat = match v.get(key) {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) if ty == "none" || ty == "basic-auth" || ty == "certificate" => Map::new(),
        _ => return Err(FieldError::new(format!("{path}.{key}"), format!("is required when type is {ty:?}"))),
    };
    flat.insert("schemeType".into(), Value::String(ty.into()));
    if ty == "oauth2" {
        let grant = flat.get("grant").cloned().unwrap_or(Value::Null);
        let gty = grant.get("type").and_then(Value::as_str).ok_or_else(|| FieldError::new(format!("{path}.oauth2.grant.type"), "is required"))?;
        let v1_name = GRANT_KEYS
            .iter()
            .find(|(t, _)| *t == gty)
            .map(|(_, n)| *n)
            .ok_or_else(|| FieldError::new(format!("{path}.oauth2.grant.type"), format!("{gty:?} is not a supported grant type")))?;
        let mut g = match grant.get(gty) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        g.insert("grantType".into(), Value::String(v1_name.into()));
        flat.insert("grant".into(), Value::Object(g));
    }
    serde_json::from_value(Value::Object(flat)).map_err(|e| FieldError::new(format!("{path}.{key}"), e.to_string()))
}

/// The domain config → v2's wrapper encoding (secrets are never serialised by the domain type).
pub fn scheme_to_v2(c: &AuthSchemeConfig) -> Value {
    let mut flat = match serde_json::to_value(c) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let ty = flat.remove("schemeType").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| c.scheme.type_name().to_owned());
    let key = SCHEME_KEYS.iter().find(|(t, _)| *t == ty).map(|(_, k)| *k).unwrap_or("none");
    if let Some(Value::Object(g)) = flat.remove("grant") {
        // The spec's grant objects still require v1's `grantType`, so it stays in the inner object.
        let v1_name = g.get("grantType").and_then(Value::as_str).unwrap_or_default().to_owned();
        let gty = GRANT_KEYS.iter().find(|(_, n)| *n == v1_name).map(|(t, _)| *t).unwrap_or("authorizationCode");
        let mut wrapper = Map::new();
        wrapper.insert("type".into(), Value::String(gty.into()));
        wrapper.insert(gty.into(), Value::Object(g));
        flat.insert("grant".into(), Value::Object(wrapper));
    }
    let mut out = Map::new();
    out.insert("type".into(), Value::String(ty));
    out.insert(key.into(), Value::Object(flat));
    Value::Object(out)
}

fn fields_error(message: &str, fields: Vec<FieldError>) -> ApiError {
    ApiError(Error::invalid_fields(
        if fields.len() == 1 { format!("{message}: {}: {}", fields[0].field, fields[0].message) } else { format!("{message}: {} problems", fields.len()) },
        fields,
    ))
}

// ---------------------------------------------------------------------------------------------
// Systems.

/// `SystemCreate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::SystemCreate)]
pub struct SystemCreate {
    pub name: String,
    pub domain: String,
    pub template_base_url: String,
    /// v2 `AuthSchemeConfig`s: `{type, apiKey: {id, description, name, in}}` and so on.
    #[schema(value_type = Vec<Object>)]
    pub auth_scheme_configs: Vec<Value>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `System`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::System)]
pub struct SystemOut {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub template_base_url: String,
    #[schema(value_type = Vec<Object>)]
    pub auth_scheme_configs: Vec<Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl From<PlatformSystem> for SystemOut {
    fn from(s: PlatformSystem) -> Self {
        let c = s.connector;
        Self {
            id: c.id,
            name: c.name,
            domain: s.domain,
            template_base_url: c.base_url,
            auth_scheme_configs: c.auth_scheme_configs.iter().map(scheme_to_v2).collect(),
            labels: s.labels,
        }
    }
}

/// `SystemPage`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v2::SystemPage)]
pub struct SystemPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub items: Vec<SystemOut>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSystemsParams {
    /// Matches name and domain.
    pub search: Option<String>,
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
}

fn label_key_ok(k: &str) -> bool {
    let mut chars = k.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Creates a system; grant client secrets in its auth scheme configs are sealed into credentials.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/systems", operation_id = "v2CreateSystem", tag = "v2-systems",
    params(("organisation_id" = String, Path)), request_body = SystemCreate,
    responses((status = 201, body = SystemOut), (status = "default", body = ErrorBody)))]
async fn create_system(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(org): Path<String>,
    Json(body): Json<SystemCreate>,
) -> ApiResult<(StatusCode, axum::Json<SystemOut>)> {
    auth.check_org(&org)?;
    let mut fields = Vec::new();
    if body.name.trim().is_empty() {
        fields.push(FieldError::new("name", "must not be empty"));
    }
    if body.template_base_url.trim().is_empty() {
        fields.push(FieldError::new("templateBaseUrl", "must not be empty"));
    } else if url::Url::parse(&body.template_base_url.replace("{{", "x").replace("}}", "")).is_err() {
        fields.push(FieldError::new("templateBaseUrl", "is not a URL"));
    }
    for k in body.labels.keys().filter(|k| !label_key_ok(k)) {
        fields.push(FieldError::new(format!("labels.{k}"), "keys start with a letter and hold only letters, digits and underscores"));
    }
    let mut schemes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, v) in body.auth_scheme_configs.iter().enumerate() {
        match scheme_from_v2(v, &format!("authSchemeConfigs[{i}]")) {
            Ok(c) => {
                if c.id.trim().is_empty() || !seen.insert(c.id.clone()) {
                    fields.push(FieldError::new(format!("authSchemeConfigs[{i}].id"), "must be non-empty and unique among the system's auth scheme configs"));
                }
                schemes.push(c);
            }
            Err(f) => fields.push(f),
        }
    }
    if !fields.is_empty() {
        return Err(fields_error("invalid system", fields));
    }
    let mut creds = Vec::new();
    for (i, c) in schemes.iter_mut().enumerate() {
        if let Some(cred) = crate::v1::absorb_grant_secret(&s, &org, c, &format!("authSchemeConfigs[{i}]"))? {
            creds.push(cred);
        }
    }
    let now = time::now();
    let system = PlatformSystem {
        connector: Connector {
            id: new_id(),
            organisation_id: org.clone(),
            name: body.name,
            base_url: body.template_base_url,
            auth_scheme_configs: schemes,
            connection_variables: Vec::new(),
            image_url: String::new(),
            documentation_url: String::new(),
            public: false,
            created_at: now,
            updated_at: now,
        },
        domain: body.domain,
        labels: body.labels,
    };
    s.store.insert_platform_system(&org, &system, &creds).await?;
    Ok((StatusCode::CREATED, axum::Json(system.into())))
}

/// Lists the organisation's systems, oldest first.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/systems", operation_id = "v2ListSystems", tag = "v2-systems",
    params(("organisation_id" = String, Path), ListSystemsParams),
    responses((status = 200, body = SystemPage), (status = "default", body = ErrorBody)))]
async fn list_systems(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(org): Path<String>,
    Query(q): Query<ListSystemsParams>,
) -> ApiResult<axum::Json<SystemPage>> {
    auth.check_org(&org)?;
    let page = PageParams { first: q.first, after: q.after, before: q.before }.request()?;
    let p = s.store.list_platform_systems(&org, q.search.as_deref(), &page).await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(SystemPage { page: info, items: p.items.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/systems/{system_id}", operation_id = "v2GetSystem", tag = "v2-systems",
    params(("organisation_id" = String, Path), ("system_id" = String, Path)),
    responses((status = 200, body = SystemOut), (status = "default", body = ErrorBody)))]
async fn get_system(State(s): State<AppState>, auth: OrgAuth, Path((org, id)): Path<(String, String)>) -> ApiResult<axum::Json<SystemOut>> {
    auth.check_org(&org)?;
    Ok(axum::Json(s.store.get_platform_system(&org, &id).await?.or_not_found("system")?.into()))
}

/// Deletes a system; refused (409) while anything uses it.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/systems/{system_id}", operation_id = "v2DeleteSystem", tag = "v2-systems",
    params(("organisation_id" = String, Path), ("system_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_system(State(s): State<AppState>, auth: OrgAuth, Path((org, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    auth.check_org(&org)?;
    if !s.store.delete_connector(&org, &id).await? {
        return Err(ApiError(Error::not_found("system")));
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Projects and environments.

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

fn project_out(p: PlatformProject, environments: Vec<PlatformEnvironment>) -> ApiResult<ProjectOut> {
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

async fn project_of(s: &AppState, org: &str, id: &str) -> ApiResult<PlatformProject> {
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
    auth: OrgAuth,
    Path(org): Path<String>,
    Json(body): Json<ProjectCreate>,
) -> ApiResult<axum::Json<ProjectOut>> {
    auth.check_org(&org)?;
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
async fn list_projects(State(s): State<AppState>, auth: OrgAuth, Path(org): Path<String>) -> ApiResult<axum::Json<ProjectsList>> {
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
async fn get_project(State(s): State<AppState>, auth: OrgAuth, Path((org, id)): Path<(String, String)>) -> ApiResult<axum::Json<ProjectOut>> {
    auth.check_org(&org)?;
    let p = project_of(&s, &org, &id).await?;
    let envs = s.store.list_platform_environments(&org, &p.id).await?;
    Ok(axum::Json(project_out(p, envs)?))
}

/// Deletes a project with its environments and connection templates.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/projects/{project_id}", operation_id = "v2DeleteProject", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_project(State(s): State<AppState>, auth: OrgAuth, Path((org, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    auth.check_org(&org)?;
    if !s.store.delete_platform_project(&org, &id).await? {
        return Err(ApiError(Error::not_found("project")));
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Connection templates.

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
    auth: OrgAuth,
    Path((org, project_id)): Path<(String, String)>,
    Json(body): Json<LinkSystem>,
) -> ApiResult<axum::Json<TemplateOut>> {
    auth.check_org(&org)?;
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
    auth: OrgAuth,
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
