//! Platform API v2 systems: connectors in v2's wrapper encoding, with `domain` and `labels`.
use super::{fields_error, scheme_from_v2, scheme_to_v2};
use crate::auth::PlatformAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path, Query};
use crate::v1::{PageInfo, PageParams};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use switchyard_domain::model::Connector;
use switchyard_domain::platform::PlatformSystem;
use switchyard_domain::time::{self};
use switchyard_domain::{new_id, Error, FieldError};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_system, list_systems)).routes(routes!(get_system, delete_system))
}

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
    auth: PlatformAuth,
    Path(org): Path<String>,
    Json(body): Json<SystemCreate>,
) -> ApiResult<(StatusCode, axum::Json<SystemOut>)> {
    auth.check_admin(&org)?;
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
    auth: PlatformAuth,
    Path(org): Path<String>,
    Query(q): Query<ListSystemsParams>,
) -> ApiResult<axum::Json<SystemPage>> {
    auth.check_admin(&org)?;
    let page = PageParams { first: q.first, after: q.after, before: q.before }.request()?;
    let p = s.store.list_platform_systems(&org, q.search.as_deref(), &page).await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(SystemPage { page: info, items: p.items.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/systems/{system_id}", operation_id = "v2GetSystem", tag = "v2-systems",
    params(("organisation_id" = String, Path), ("system_id" = String, Path)),
    responses((status = 200, body = SystemOut), (status = "default", body = ErrorBody)))]
async fn get_system(State(s): State<AppState>, auth: PlatformAuth, Path((org, id)): Path<(String, String)>) -> ApiResult<axum::Json<SystemOut>> {
    auth.check_admin(&org)?;
    Ok(axum::Json(s.store.get_platform_system(&org, &id).await?.or_not_found("system")?.into()))
}

/// Deletes a system; refused (409) while anything uses it.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/systems/{system_id}", operation_id = "v2DeleteSystem", tag = "v2-systems",
    params(("organisation_id" = String, Path), ("system_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_system(State(s): State<AppState>, auth: PlatformAuth, Path((org, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    auth.check_admin(&org)?;
    if !s.store.delete_connector(&org, &id).await? {
        return Err(ApiError(Error::not_found("system")));
    }
    Ok(StatusCode::NO_CONTENT)
}
