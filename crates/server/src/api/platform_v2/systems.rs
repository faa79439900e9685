//! Platform API v2 systems: connectors in v2's wrapper encoding, with `domain` and `labels`.
use super::{fields_error, scheme_from_v2, scheme_to_v2, SCHEME_KEYS};
use crate::api::v1_wire::{PageInfo, PageParams};
use crate::auth::PlatformAdmin;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::Connector;
use switchyard_domain::platform::PlatformSystem;
use switchyard_domain::time::{self};
use switchyard_domain::{new_id, FieldError};
use switchyard_store::OrgId;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_system, list_systems))
        .routes(routes!(get_system, update_system, delete_system))
        .routes(routes!(
            upsert_auth_scheme_config,
            delete_auth_scheme_config
        ))
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
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A system's fields, checked together (CreateSystem and UpdateSystem) so that every problem is
/// named at once: a non-empty name, a URL (placeholders allowed) as `templateBaseUrl`, label keys,
/// and, when given, the v2 auth scheme configs with unique non-empty ids, which are returned.
fn check_system(
    name: &str,
    template_base_url: &str,
    labels: &BTreeMap<String, String>,
    configs: Option<&[Value]>,
) -> ApiResult<Vec<AuthSchemeConfig>> {
    let mut fields = Vec::new();
    if name.trim().is_empty() {
        fields.push(FieldError::new("name", "must not be empty"));
    }
    if template_base_url.trim().is_empty() {
        fields.push(FieldError::new("templateBaseUrl", "must not be empty"));
    } else if url::Url::parse(&template_base_url.replace("{{", "x").replace("}}", "")).is_err() {
        fields.push(FieldError::new("templateBaseUrl", "is not a URL"));
    }
    for k in labels.keys().filter(|k| !label_key_ok(k)) {
        fields.push(FieldError::new(
            format!("labels.{k}"),
            "keys start with a letter and hold only letters, digits and underscores",
        ));
    }
    let mut schemes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, v) in configs.unwrap_or_default().iter().enumerate() {
        match scheme_from_v2(v, &format!("authSchemeConfigs[{i}]")) {
            Ok(c) => {
                if c.id.trim().is_empty() || !seen.insert(c.id.clone()) {
                    fields.push(FieldError::new(
                        format!("authSchemeConfigs[{i}].id"),
                        "must be non-empty and unique among the system's auth scheme configs",
                    ));
                }
                schemes.push(c);
            }
            Err(f) => fields.push(f),
        }
    }
    if !fields.is_empty() {
        return Err(fields_error("invalid system", fields));
    }
    Ok(schemes)
}

/// Seals the grant client secrets of `schemes` into credentials, which the configs then
/// reference; problems are named under `authSchemeConfigs[i]`.
fn seal_grants(
    s: &AppState,
    org: &OrgId,
    schemes: &mut [AuthSchemeConfig],
) -> ApiResult<Vec<NewCredential>> {
    let mut creds = Vec::new();
    for (i, c) in schemes.iter_mut().enumerate() {
        if let Some(cred) =
            crate::credentials::absorb_grant_secret(s, org, c, &format!("authSchemeConfigs[{i}]"))?
        {
            creds.push(cred);
        }
    }
    Ok(creds)
}

/// Refuses (409) to drop auth scheme configs that connection templates of the system name.
async fn check_schemes_unused(
    s: &AppState,
    org: &OrgId,
    system_id: &str,
    kept: &[AuthSchemeConfig],
) -> ApiResult<()> {
    let uses = s
        .store
        .platform_template_schemes(org, None, Some(system_id))
        .await?;
    for (template_id, name, ids) in uses {
        if let Some(gone) = ids.iter().find(|id| !kept.iter().any(|c| &c.id == *id)) {
            return Err(ApiError::conflict(format!(
                "auth scheme config {gone:?} is used by connection template {name:?} ({template_id}); update the template first"
            )));
        }
    }
    Ok(())
}

/// Creates a system; grant client secrets in its auth scheme configs are sealed into credentials.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/systems", operation_id = "v2CreateSystem", tag = "v2-systems",
    params(("organisation_id" = String, Path)), request_body = SystemCreate,
    responses((status = 201, body = SystemOut), (status = "default", body = ErrorBody)))]
async fn create_system(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path(_org): Path<String>,
    Json(body): Json<SystemCreate>,
) -> ApiResult<(StatusCode, axum::Json<SystemOut>)> {
    let org = auth.org.clone();
    let mut schemes = check_system(
        &body.name,
        &body.template_base_url,
        &body.labels,
        Some(&body.auth_scheme_configs),
    )?;
    let creds = seal_grants(&s, &org, &mut schemes)?;
    let now = time::now();
    let system = PlatformSystem {
        connector: Connector {
            id: new_id(),
            organisation_id: org.to_string(),
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
    s.store
        .insert_platform_system(&org, &system, &creds)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(system.into())))
}

/// Lists the organisation's systems, oldest first.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/systems", operation_id = "v2ListSystems", tag = "v2-systems",
    params(("organisation_id" = String, Path), ListSystemsParams),
    responses((status = 200, body = SystemPage), (status = "default", body = ErrorBody)))]
async fn list_systems(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path(_org): Path<String>,
    Query(q): Query<ListSystemsParams>,
) -> ApiResult<axum::Json<SystemPage>> {
    let org = auth.org.clone();
    let page = PageParams {
        first: q.first,
        after: q.after,
        before: q.before,
    }
    .request()?;
    let p = s
        .store
        .list_platform_systems(&org, q.search.as_deref(), &page)
        .await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(SystemPage {
        page: info,
        items: p.items.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/systems/{system_id}", operation_id = "v2GetSystem", tag = "v2-systems",
    params(("organisation_id" = String, Path), ("system_id" = String, Path)),
    responses((status = 200, body = SystemOut), (status = "default", body = ErrorBody)))]
async fn get_system(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<SystemOut>> {
    let org = auth.org.clone();
    Ok(axum::Json(
        s.store
            .get_platform_system(&org, &id)
            .await?
            .or_not_found("system")?
            .into(),
    ))
}

/// Deletes a system; refused (409) while anything uses it.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/systems/{system_id}", operation_id = "v2DeleteSystem", tag = "v2-systems",
    params(("organisation_id" = String, Path), ("system_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_system(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    if !s.store.delete_connector(&org, &id).await? {
        return Err(ApiError::not_found("system"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `UpdateSystem`: every field optional; what is left out keeps its value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::UpdateSystem)]
pub struct UpdateSystem {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub template_base_url: Option<String>,
    /// Switchyard's addition to Versori's `UpdateSystem`: replaces the whole list when given.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub auth_scheme_configs: Option<Vec<Value>>,
    /// Switchyard's addition to Versori's `UpdateSystem`: replaces the labels when given.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Updates a system: the fields given replace the stored ones and are checked as on create (grant
/// client secrets sealed). Answers 201, as Versori's spec says. Auth scheme configs that
/// connection templates use cannot be dropped (409).
#[utoipa::path(put, path = "/api/v2/o/{organisation_id}/systems/{system_id}", operation_id = "v2UpdateSystem", tag = "v2-systems",
    params(("organisation_id" = String, Path), ("system_id" = String, Path)), request_body = UpdateSystem,
    responses((status = 201, body = SystemOut), (status = "default", body = ErrorBody)))]
async fn update_system(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
    Json(body): Json<UpdateSystem>,
) -> ApiResult<(StatusCode, axum::Json<SystemOut>)> {
    let org = auth.org.clone();
    let mut system = s
        .store
        .get_platform_system(&org, &id)
        .await?
        .or_not_found("system")?;
    let c = &mut system.connector;
    let name = body.name.unwrap_or_else(|| c.name.clone());
    let base = body.template_base_url.unwrap_or_else(|| c.base_url.clone());
    let labels = body.labels.unwrap_or_else(|| system.labels.clone());
    let checked = check_system(&name, &base, &labels, body.auth_scheme_configs.as_deref())?;
    let mut creds = Vec::new();
    if body.auth_scheme_configs.is_some() {
        let mut schemes = checked;
        check_schemes_unused(&s, &org, &id, &schemes).await?;
        creds = seal_grants(&s, &org, &mut schemes)?;
        c.auth_scheme_configs = schemes;
    }
    c.name = name;
    c.base_url = base;
    c.updated_at = time::now();
    system.labels = labels;
    if let Some(d) = body.domain {
        system.domain = d;
    }
    if !s
        .store
        .update_platform_system(&org, &system, &creds)
        .await?
    {
        return Err(ApiError::not_found("system"));
    }
    Ok((StatusCode::CREATED, axum::Json(system.into())))
}

/// A field path under an upserted config's root: `scheme_from_v2` and the grant checks prefix
/// their paths with `.` when the root is the body itself.
fn at_root(mut f: FieldError) -> FieldError {
    f.field = f.field.trim_start_matches('.').to_owned();
    f
}

/// Adds (unknown id) or replaces (known id) one auth scheme config, in v2's wrapper encoding; the
/// path id must be the body's id, and a replaced config keeps its type. Grant client secrets are
/// sealed as on create. Answers 201 with the config as stored.
#[utoipa::path(put, path = "/api/v2/o/{organisation_id}/systems/{system_id}/auth-scheme-configs/{auth_scheme_config_id}",
    operation_id = "v2UpsertAuthSchemeConfig", tag = "v2-systems",
    params(("organisation_id" = String, Path), ("system_id" = String, Path), ("auth_scheme_config_id" = String, Path)),
    request_body(content = Object, description = "A v2 `AuthSchemeConfig`: `{type, apiKey: {id, ...}}` and so on"),
    responses((status = 201, body = Object, description = "The v2 `AuthSchemeConfig` as stored"), (status = "default", body = ErrorBody)))]
async fn upsert_auth_scheme_config(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id, scheme_id)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let org = auth.org.clone();
    let mut system = s
        .store
        .get_platform_system(&org, &id)
        .await?
        .or_not_found("system")?;
    let mut config = scheme_from_v2(&body, "")
        .map_err(|f| fields_error("invalid auth scheme config", vec![at_root(f)]))?;
    let key = body
        .get("type")
        .and_then(Value::as_str)
        .and_then(|t| SCHEME_KEYS.iter().find(|(ty, _)| *ty == t))
        .map(|(_, k)| *k)
        .unwrap_or("none");
    if config.id != scheme_id {
        return Err(fields_error(
            "invalid auth scheme config",
            vec![FieldError::new(
                format!("{key}.id"),
                "must equal the auth_scheme_config_id in the path",
            )],
        ));
    }
    let c = &mut system.connector;
    if let Some(existing) = c.auth_scheme_configs.iter().find(|x| x.id == scheme_id) {
        if existing.scheme.type_name() != config.scheme.type_name() {
            return Err(fields_error(
                "invalid auth scheme config",
                vec![FieldError::new(
                    "type",
                    format!(
                        "cannot change the type of an existing auth scheme config (it is {:?})",
                        existing.scheme.type_name()
                    ),
                )],
            ));
        }
    }
    let cred =
        crate::credentials::absorb_grant_secret(&s, &org, &mut config, key).map_err(|mut e| {
            e.fields = e.fields.into_iter().map(at_root).collect();
            ApiError(e)
        })?;
    match c.auth_scheme_configs.iter_mut().find(|x| x.id == scheme_id) {
        Some(existing) => *existing = config.clone(),
        None => c.auth_scheme_configs.push(config.clone()),
    }
    c.updated_at = time::now();
    if !s
        .store
        .update_platform_system(&org, &system, cred.as_slice())
        .await?
    {
        return Err(ApiError::not_found("system"));
    }
    Ok((StatusCode::CREATED, axum::Json(scheme_to_v2(&config))))
}

/// Removes an auth scheme config (404 when the system has none of that id; 409 while a connection
/// template uses it). Existing connections keep their credentials.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/systems/{system_id}/auth-scheme-configs/{auth_scheme_config_id}",
    operation_id = "v2DeleteAuthSchemeConfig", tag = "v2-systems",
    params(("organisation_id" = String, Path), ("system_id" = String, Path), ("auth_scheme_config_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_auth_scheme_config(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id, scheme_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    let mut system = s
        .store
        .get_platform_system(&org, &id)
        .await?
        .or_not_found("system")?;
    let c = &mut system.connector;
    let before = c.auth_scheme_configs.len();
    c.auth_scheme_configs.retain(|x| x.id != scheme_id);
    if c.auth_scheme_configs.len() == before {
        return Err(ApiError::not_found("auth scheme config"));
    }
    check_schemes_unused(&s, &org, &id, &c.auth_scheme_configs).await?;
    c.updated_at = time::now();
    if !s.store.update_platform_system(&org, &system, &[]).await? {
        return Err(ApiError::not_found("system"));
    }
    Ok(StatusCode::NO_CONTENT)
}
