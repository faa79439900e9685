//! Platform API v2 connections: static ones (the organisation's, serving an environment's
//! template for every activation) and dynamic ones (one end user's, created with `externalId`).
//! They are the same connections as v1's, in v2's encoding: a flat credential list, credential
//! `data` wrapped in a key named by its type (`{string: {value}}`), auth scheme configs in the
//! wrapper form, and a `baseUrl` override.
use super::{fields_error, find_user, flatten_scheme, scheme_to_v2};
use crate::api::v1_wire::{PageInfo, PageParams};
use crate::auth::{end_user_forbidden, PlatformAdmin, PlatformAuth};
use crate::connections::PendingConnection;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, JsonBody, JsonOrEmpty, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_domain::auth_scheme::{self, AuthSchemeConfig};
use switchyard_domain::connection::{ConnectionDraft, CredentialDraft, Owner, Requester};
use switchyard_domain::credential::{CredentialType, CredentialView};
use switchyard_domain::model::{Connection, ConnectionCredential, Connector, CredentialRole};
use switchyard_domain::platform::{ConnectionDeletion, PlatformEndUser, PlatformTemplate};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{Error, ErrorKind, FieldError};
use switchyard_store::ConnectionFilter;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_connection, list_connections))
        .routes(routes!(
            get_connection,
            update_connection,
            delete_connection
        ))
        .routes(routes!(link_connection, unlink_connection))
        .routes(routes!(list_environment_connections))
}

// ---------------------------------------------------------------------------------------------
// The v2 credential encoding.

/// Credential types and the key their `data` sits under in v2.
const DATA_KEYS: &[(CredentialType, &str)] = &[
    (CredentialType::None, "none"),
    (CredentialType::String, "string"),
    (CredentialType::Binary, "binary"),
    (CredentialType::BasicAuth, "basicAuth"),
    (CredentialType::OAuth2Client, "oauth2Client"),
    (CredentialType::OAuth2Code, "oauth2Code"),
    (CredentialType::OAuth2Password, "oauth2Password"),
    (CredentialType::OAuth2Token, "oauth2Token"),
    (CredentialType::Certificate, "certificate"),
    (CredentialType::JwtBearer, "jwtBearer"),
    (CredentialType::CustomFunction, "customFunction"),
    (CredentialType::OAuth1, "oauth1"),
    (CredentialType::OAuth1Token, "oauth1Token"),
];

fn data_key(ty: CredentialType) -> &'static str {
    DATA_KEYS
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, k)| *k)
        .unwrap_or("none")
}

/// What a v2 `Credential` (`{id?, organisationId?, type?, name?, data?: {<key>: {...}}}`) asks
/// for. The type comes from `type`, or else from the data's key; both must agree.
struct CredentialRequest {
    name: String,
    credential_type: CredentialType,
    data: Option<Value>,
    expires_at: Option<switchyard_domain::time::Timestamp>,
}

fn credential_from_v2(v: &Value, path: &str) -> Result<CredentialRequest, FieldError> {
    let Value::Object(m) = v else {
        return Err(FieldError::new(path, "must be an object"));
    };
    let declared = match m.get("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(CredentialType::parse(s).ok_or_else(|| {
            FieldError::new(
                format!("{path}.type"),
                format!("{s:?} is not a credential type"),
            )
        })?),
        Some(_) => return Err(FieldError::new(format!("{path}.type"), "must be a string")),
    };
    let (from_data, inner) = match m.get("data") {
        None | Some(Value::Null) => (None, None),
        Some(Value::Object(d)) if d.is_empty() => (None, None),
        Some(Value::Object(d)) if d.len() == 1 => {
            let (k, inner) = d.iter().next().expect("one entry");
            let ty = DATA_KEYS
                .iter()
                .find(|(_, key)| key == k)
                .map(|(t, _)| *t)
                .ok_or_else(|| FieldError::new(format!("{path}.data.{k}"), format!("{k:?} is not a credential data key")))?;
            (Some(ty), Some(inner.clone()))
        }
        Some(_) => {
            return Err(FieldError::new(format!("{path}.data"), "must hold exactly one key, named by the credential type (string, basicAuth, oauth2Code...)"))
        }
    };
    let ty = match (declared, from_data) {
        (Some(a), Some(b)) if a != b => {
            return Err(FieldError::new(
                format!("{path}.data"),
                format!("holds {} data but type is {:?}", data_key(b), a.as_str()),
            ));
        }
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => CredentialType::None,
    };
    let name = m
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let expires_at = match m.get("expiresAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    FieldError::new(format!("{path}.expiresAt"), "is not an RFC 3339 date-time")
                })?,
        ),
        Some(_) => {
            return Err(FieldError::new(
                format!("{path}.expiresAt"),
                "must be an RFC 3339 date-time string",
            ))
        }
    };
    Ok(CredentialRequest {
        name,
        credential_type: ty,
        data: inner,
        expires_at,
    })
}

/// A credential as v2 reads show it (secrets were never in the view).
pub fn credential_to_v2(view: &CredentialView) -> Value {
    let mut v = serde_json::to_value(view).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        let data = m.remove("data").unwrap_or(Value::Object(Map::new()));
        let mut wrapped = Map::new();
        wrapped.insert(data_key(view.credential_type).to_owned(), data);
        m.insert("data".into(), Value::Object(wrapped));
    }
    v
}

/// A v2 `ConnectionCredential` as reads show it.
fn connection_credential_to_v2(cc: &ConnectionCredential) -> Value {
    serde_json::json!({"id": cc.id, "authSchemeConfig": scheme_to_v2(&cc.auth_scheme_config), "credential": credential_to_v2(&cc.credential)})
}

/// `ConnectionCreate` (v2): name, a flat credential list, and an optional base URL override.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ConnectionCreate)]
pub struct ConnectionCreate {
    pub name: String,
    /// `ConnectionCredential`s: `{id?, authSchemeConfig (v2 wrapper form), credential: {type, name, data: {<key>: {...}}}}`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub credentials: Vec<Value>,
    /// Only scheme and host are kept; `https://` when the scheme is missing; empty: the system's.
    #[serde(default)]
    pub base_url: String,
}

/// Only the scheme and host (and port) of a base URL override; `https://` when no scheme is
/// given; empty stays empty.
pub fn normalise_base_url(raw: &str, field: &str) -> Result<String, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = url::Url::parse(&with_scheme)
        .map_err(|e| FieldError::new(field, format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FieldError::new(field, "must be an http or https URL"));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| FieldError::new(field, "has no host"))?;
    Ok(match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// A v2 `ConnectionCreate` as the draft the connection service checks, with the problems found
/// in its v2 encoding (reported beside the service's own, all at once). `path` prefixes every
/// field (`connection.`).
fn draft(create: ConnectionCreate, path: &str) -> (ConnectionDraft, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut credentials = Vec::new();
    for (i, cc) in create.credentials.iter().enumerate() {
        let p = format!("{path}credentials[{i}]");
        let scheme = match cc.get("authSchemeConfig") {
            Some(v) if !v.is_null() => flatten_scheme(v, &format!("{p}.authSchemeConfig"))
                .map(|(flat, key)| (Value::Object(flat), format!("{p}.authSchemeConfig.{key}"))),
            _ => Err(FieldError::new(
                format!("{p}.authSchemeConfig"),
                "is required",
            )),
        };
        let field = format!("{p}.credential");
        let cred = credential_from_v2(cc.get("credential").unwrap_or(&Value::Null), &field);
        match (scheme, cred) {
            (Ok((scheme, scheme_field)), Ok(c)) => credentials.push(CredentialDraft {
                role: CredentialRole::Action,
                scheme,
                scheme_field,
                name: c.name,
                credential_type: c.credential_type,
                data: c.data,
                expires_at: c.expires_at,
                field,
            }),
            (a, b) => errors.extend(a.err().into_iter().chain(b.err())),
        }
    }
    let base_url = match normalise_base_url(&create.base_url, &format!("{path}baseUrl")) {
        Ok(u) => u,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let draft = ConnectionDraft {
        name: create.name,
        name_field: format!("{path}name"),
        credentials,
        variables: Vec::new(),
        variables_field: format!("{path}variables"),
        base_url,
    };
    (draft, errors)
}

/// The organisation's copy, among `schemes`, of the v2 auth scheme config a request names.
fn resolve_scheme(
    v: &Value,
    schemes: &[AuthSchemeConfig],
    path: &str,
) -> Result<AuthSchemeConfig, FieldError> {
    let (flat, key) = flatten_scheme(v, path)?;
    auth_scheme::resolve(&Value::Object(flat), schemes, &format!("{path}.{key}"))
}

/// Builds a new v2 connection to `system` (a dynamic one when `owner` is set) through the
/// connection service, each credential on one of the system's auth scheme configs; `oauth2-code`
/// credentials still need [`crate::oauth::complete`]. `path` prefixes error fields, for example
/// `connection.`.
pub fn build(
    s: &AppState,
    org: &str,
    system: &Connector,
    owner: Option<&PlatformEndUser>,
    create: ConnectionCreate,
    requester: Requester,
    path: &str,
) -> Result<PendingConnection, Vec<FieldError>> {
    let (draft, mut errors) = draft(create, path);
    let owner = owner.map_or(Owner::Organisation, |u| {
        Owner::PlatformEndUser(u.id.clone())
    });
    let built = crate::connections::build(
        s,
        org,
        &system.id,
        owner,
        draft,
        &system.auth_scheme_configs,
        requester,
    );
    match built {
        Ok(p) if errors.is_empty() => Ok(p),
        Ok(_) => Err(errors),
        Err(f) => {
            errors.extend(f);
            Err(errors)
        }
    }
}

/// Who a v2 caller is, for what a credential may carry.
pub fn requester(auth: &PlatformAuth) -> Requester {
    if auth.end_user().is_some() {
        Requester::EndUser
    } else {
        Requester::Organisation
    }
}

/// `Connection` (v2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::Connection)]
pub struct ConnectionOut {
    pub id: String,
    pub name: String,
    #[schema(value_type = Vec<Object>)]
    pub credentials: Vec<Value>,
    /// `""`: the system's `templateBaseUrl` (always present, as Versori's server writes it).
    pub base_url: String,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub system_id: String,
    /// The template the connection serves (the first it was linked to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_template_id: Option<String>,
}

pub fn connection_out(c: &Connection, template_id: Option<String>) -> ConnectionOut {
    ConnectionOut {
        id: c.id.clone(),
        name: c.name.clone(),
        credentials: c
            .credentials
            .iter()
            .map(connection_credential_to_v2)
            .collect(),
        base_url: c.base_url.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        system_id: c.connector_id.clone(),
        connection_template_id: template_id,
    }
}

/// Connections with the first template each serves.
async fn outs(
    s: &AppState,
    org: &str,
    connections: Vec<Connection>,
) -> ApiResult<Vec<ConnectionOut>> {
    let links = s
        .store
        .platform_connection_links(
            org,
            &connections.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        )
        .await?;
    Ok(connections
        .iter()
        .map(|c| {
            connection_out(
                c,
                links
                    .iter()
                    .find(|(cid, _)| *cid == c.id)
                    .map(|(_, t)| t.clone()),
            )
        })
        .collect())
}

/// A v2 connection of the organisation that the caller may act on: the organisation's key any,
/// an end user only its own dynamic connections (403 otherwise).
async fn connection_for(
    s: &AppState,
    auth: &PlatformAuth,
    org: &str,
    id: &str,
) -> ApiResult<Connection> {
    auth.check_org(org)?;
    let c = s
        .store
        .get_connection(org, id)
        .await?
        .filter(|c| c.end_user_id.is_none());
    if let Some(own) = auth.end_user() {
        let own_id = s
            .store
            .find_platform_end_user_by_external_id(org, own)
            .await?
            .map(|u| u.id);
        match &c {
            Some(c) if c.platform_end_user_id.is_some() && c.platform_end_user_id == own_id => {}
            _ => return Err(end_user_forbidden()),
        }
    }
    c.or_not_found("connection")
}

async fn template_in(
    s: &AppState,
    org: &str,
    id: &str,
    field: &str,
) -> ApiResult<PlatformTemplate> {
    s.store
        .find_platform_template(org, id)
        .await?
        .ok_or_else(|| {
            ApiError(Error::invalid_field(
                field,
                "is not a connection template of this organisation",
            ))
        })
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// `EnvSystemConnectionCreate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::EnvSystemConnectionCreate)]
pub struct EnvSystemConnectionCreate {
    pub connection_template_id: String,
    pub connection: ConnectionCreate,
    /// The end user whose (dynamic) connection this is; without it, a static connection.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// Creates a connection for a template: a dynamic one for the end user named by `externalId`, or
/// else a static one. OAuth2 codes are exchanged for tokens before anything is stored.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/connections", operation_id = "v2CreateConnection", tag = "v2-connections",
    params(("organisation_id" = String, Path)), request_body = EnvSystemConnectionCreate,
    responses((status = 201, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn create_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path(org): Path<String>,
    Json(body): Json<EnvSystemConnectionCreate>,
) -> ApiResult<(StatusCode, axum::Json<ConnectionOut>)> {
    auth.check_org(&org)?;
    let external_id = body.external_id.filter(|e| !e.is_empty());
    match (&external_id, auth.end_user()) {
        (_, None) => {}
        (Some(e), Some(own)) if e == own => {}
        _ => return Err(end_user_forbidden()),
    }
    let template = template_in(
        &s,
        &org,
        &body.connection_template_id,
        "connectionTemplateId",
    )
    .await?;
    let owner = match &external_id {
        Some(e) => Some(
            s.store
                .find_platform_end_user_by_external_id(&org, e)
                .await?
                .ok_or_else(|| {
                    ApiError(Error::invalid_field(
                        "externalId",
                        "no end user of this organisation has this externalId",
                    ))
                })?,
        ),
        None => None,
    };
    let system = s
        .store
        .get_connector(&org, &template.system_id)
        .await?
        .or_not_found("system")?;
    let pending = build(
        &s,
        &org,
        &system,
        owner.as_ref(),
        body.connection,
        requester(&auth),
        "connection.",
    )
    .map_err(|f| fields_error("invalid connection", f))?;
    let mut done = crate::oauth::complete(&s, &org, vec![pending]).await?;
    let nc = done.pop().expect("one connection in, one out");
    s.store
        .insert_platform_connection(&org, &nc, std::slice::from_ref(&template.id))
        .await?;
    crate::tokens::check_new_credentials(&s, &org, &[&nc.connection]).await;
    let c = s
        .store
        .get_connection(&org, &nc.connection.id)
        .await?
        .or_not_found("connection")?;
    Ok((
        StatusCode::CREATED,
        axum::Json(connection_out(&c, Some(template.id))),
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListConnectionsParams {
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
    /// Only this system's connections.
    pub system_id: Option<String>,
    /// Only this end user's (its internal id; an externalId is accepted too).
    pub end_user_id: Option<String>,
}

/// `ConnectionPage`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = v2::ConnectionPage)]
pub struct ConnectionPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub items: Vec<ConnectionOut>,
}

/// The organisation's connections, oldest first. An end-user token sees only its own.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/connections", operation_id = "v2ListConnections", tag = "v2-connections",
    params(("organisation_id" = String, Path), ListConnectionsParams),
    responses((status = 200, body = ConnectionPage), (status = "default", body = ErrorBody)))]
async fn list_connections(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path(org): Path<String>,
    Query(q): Query<ListConnectionsParams>,
) -> ApiResult<axum::Json<ConnectionPage>> {
    auth.check_org(&org)?;
    let page = PageParams {
        first: q.first,
        after: q.after,
        before: q.before,
    }
    .request()?;
    let mut filter = ConnectionFilter {
        system_id: q.system_id.filter(|x| !x.is_empty()),
        ..Default::default()
    };
    let named = match q.end_user_id.filter(|x| !x.is_empty()) {
        Some(u) => Some(find_user(&s, &org, &u).await.map_err(|_| {
            ApiError(Error::invalid_field(
                "end_user_id",
                "is not an end user of this organisation",
            ))
        })?),
        None => None,
    };
    if let Some(own) = auth.end_user() {
        let me = s
            .store
            .find_platform_end_user_by_external_id(&org, own)
            .await?;
        match (&named, &me) {
            (Some(n), Some(m)) if n.id != m.id => return Err(end_user_forbidden()),
            (Some(_), None) => return Err(end_user_forbidden()),
            _ => {}
        }
        let Some(me) = me else {
            return Ok(axum::Json(ConnectionPage {
                page: PageInfo {
                    total_count: 0,
                    next: String::new(),
                    prev: String::new(),
                },
                items: Vec::new(),
            }));
        };
        filter.end_user_id = Some(me.id);
    } else {
        filter.end_user_id = named.map(|u| u.id);
    }
    let p = s
        .store
        .list_platform_connections(&org, &filter, &page)
        .await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(ConnectionPage {
        page: info,
        items: outs(&s, &org, p.items).await?,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnvironmentConnectionsParams {
    /// Only the static connections of this environment's templates.
    pub env_id: Option<String>,
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// A project's static connections (optionally one environment's), oldest first.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/projects/{project_id}/connections", operation_id = "v2ListEnvironmentConnections", tag = "v2-connections",
    params(("organisation_id" = String, Path), ("project_id" = String, Path), EnvironmentConnectionsParams),
    responses((status = 200, body = ConnectionPage), (status = "default", body = ErrorBody)))]
async fn list_environment_connections(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((org, project_id)): Path<(String, String)>,
    Query(q): Query<EnvironmentConnectionsParams>,
) -> ApiResult<axum::Json<ConnectionPage>> {
    auth.check_admin(&org)?;
    let project = s
        .store
        .get_platform_project(&org, &project_id)
        .await?
        .or_not_found("project")?;
    let env = q.env_id.filter(|e| !e.is_empty());
    if let Some(e) = &env {
        if s.store
            .find_platform_environment(&org, e)
            .await?
            .is_none_or(|x| x.project_id != project.id)
        {
            return Err(ApiError(Error::invalid_field(
                "env_id",
                "is not an environment of this project",
            )));
        }
    }
    let page = PageParams {
        first: q.first,
        after: q.after,
        before: q.before,
    }
    .request()?;
    let filter = ConnectionFilter {
        project_id: Some(project.id),
        environment_id: env,
        ..Default::default()
    };
    let p = s
        .store
        .list_platform_connections(&org, &filter, &page)
        .await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(ConnectionPage {
        page: info,
        items: outs(&s, &org, p.items).await?,
    }))
}

#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/connections/{connection_id}", operation_id = "v2GetConnection", tag = "v2-connections",
    params(("organisation_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn get_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let c = connection_for(&s, &auth, &org, &id).await?;
    Ok(axum::Json(
        outs(&s, &org, vec![c])
            .await?
            .pop()
            .expect("one in, one out"),
    ))
}

/// `ConnectionUpdate`: `name`, `credentials` and `baseUrl` are all required, as in Versori's spec.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ConnectionUpdate)]
pub struct ConnectionUpdate {
    pub name: String,
    /// The new credential list. An entry whose `credential` carries no `data` but the `id` of one
    /// of the connection's credentials keeps that credential (its auth scheme config may change);
    /// an entry with `data` is a new credential (rotation).
    #[schema(value_type = Vec<Object>)]
    pub credentials: Vec<Value>,
    /// Empty: the system's base URL.
    pub base_url: String,
}

/// Replaces a connection's name, credentials and base URL. Credentials no longer used are
/// deleted; new ones are sealed (OAuth2 codes exchanged) before anything is written.
#[utoipa::path(put, path = "/api/v2/o/{organisation_id}/connections/{connection_id}", operation_id = "v2UpdateConnection", tag = "v2-connections",
    params(("organisation_id" = String, Path), ("connection_id" = String, Path)), request_body = ConnectionUpdate,
    responses((status = 200, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn update_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, id)): Path<(String, String)>,
    body: JsonBody<ConnectionUpdate>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let current = connection_for(&s, &auth, &org, &id).await?;
    let body = body.get()?;
    let system = s
        .store
        .get_connector(&org, &current.connector_id)
        .await?
        .or_not_found("system")?;
    let mut fields = Vec::new();
    // Entries that keep a current credential, by position; the rest are built as new ones.
    let mut kept: Vec<(usize, ConnectionCredential)> = Vec::new();
    let mut fresh = Vec::new();
    for (i, entry) in body.credentials.iter().enumerate() {
        let cred = entry.get("credential");
        let has_data = cred
            .and_then(|c| c.get("data"))
            .is_some_and(|d| d.as_object().is_some_and(|m| !m.is_empty()));
        let cred_id = cred.and_then(|c| c.get("id")).and_then(Value::as_str);
        match (
            has_data,
            cred_id.and_then(|cid| {
                current
                    .credentials
                    .iter()
                    .find(|cc| cc.credential.id == cid)
            }),
        ) {
            (false, Some(existing)) => {
                let mut keep = existing.clone();
                if let Some(v) = entry.get("authSchemeConfig").filter(|v| !v.is_null()) {
                    match resolve_scheme(
                        v,
                        &system.auth_scheme_configs,
                        &format!("credentials[{i}].authSchemeConfig"),
                    ) {
                        Ok(c) => keep.auth_scheme_config = c,
                        Err(e) => fields.push(e),
                    }
                }
                kept.push((i, keep));
            }
            _ => fresh.push((i, entry.clone())),
        }
    }
    let create = ConnectionCreate {
        name: body.name,
        credentials: fresh.iter().map(|(_, v)| v.clone()).collect(),
        base_url: body.base_url,
    };
    let pending = match build(&s, &org, &system, None, create, requester(&auth), "") {
        Ok(p) => Some(p),
        Err(f) => {
            // Positions in the built list are positions among the new entries; name the request's.
            fields.extend(f.into_iter().map(|mut e| {
                for (k, (i, _)) in fresh.iter().enumerate().rev() {
                    e.field = e
                        .field
                        .replace(&format!("credentials[{k}]"), &format!("credentials[{i}]"));
                }
                e
            }));
            None
        }
    };
    if !fields.is_empty() {
        return Err(fields_error("invalid connection", fields));
    }
    let mut nc = crate::oauth::complete(&s, &org, vec![pending.expect("no errors, so built")])
        .await?
        .pop()
        .expect("one in, one out");
    // Merge kept and new credentials back into the request's order.
    let mut new_iter = nc.connection.credentials.drain(..);
    let mut list = Vec::with_capacity(body.credentials.len());
    for i in 0..body.credentials.len() {
        match kept.iter().position(|(k, _)| *k == i) {
            Some(p) => list.push(kept[p].1.clone()),
            None => list.extend(new_iter.next()),
        }
    }
    drop(new_iter);
    let updated = Connection {
        name: nc.connection.name.clone(),
        base_url: nc.connection.base_url.clone(),
        credentials: list
            .into_iter()
            .map(|cc| ConnectionCredential {
                role: CredentialRole::Action,
                ..cc
            })
            .collect(),
        updated_at: time::now(),
        ..current
    };
    if !s
        .store
        .replace_platform_connection(&org, &updated, &nc.credentials)
        .await?
    {
        return Err(ApiError(Error::not_found("connection")));
    }
    let fresh_conn = Connection {
        credentials: updated
            .credentials
            .iter()
            .filter(|cc| nc.credentials.iter().any(|n| n.view.id == cc.credential.id))
            .cloned()
            .collect(),
        ..updated.clone()
    };
    crate::tokens::check_new_credentials(&s, &org, &[&fresh_conn]).await;
    let c = s
        .store
        .get_connection(&org, &id)
        .await?
        .or_not_found("connection")?;
    Ok(axum::Json(
        outs(&s, &org, vec![c])
            .await?
            .pop()
            .expect("one in, one out"),
    ))
}

/// Deletes a connection and its credentials. A dynamic connection an activation uses is refused
/// (409, naming the activations); a static one is not, and activations fall back to the
/// environment's other static connection, if any.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/connections/{connection_id}", operation_id = "v2DeleteConnection", tag = "v2-connections",
    params(("organisation_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    connection_for(&s, &auth, &org, &id).await?;
    match s.store.delete_platform_connection(&org, &id).await? {
        ConnectionDeletion::Deleted => Ok(StatusCode::NO_CONTENT),
        ConnectionDeletion::NotFound => Err(ApiError(Error::not_found("connection"))),
        ConnectionDeletion::InUse(activations) => Err(ApiError(
            Error::new(
                ErrorKind::Conflict,
                format!(
                    "the connection is used by {} activation(s); deactivate them first",
                    activations.len()
                ),
            )
            .with_details(format!("activations: {}", activations.join(", "))),
        )),
    }
}

/// `LinkConnectionEnvironment`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::LinkConnectionEnvironment)]
pub struct LinkConnectionEnvironment {
    pub connection_template_id: String,
}

async fn link_target(
    s: &AppState,
    org: &str,
    c: &Connection,
    template_id: &str,
) -> ApiResult<PlatformTemplate> {
    let t = template_in(s, org, template_id, "connectionTemplateId").await?;
    if t.system_id != c.connector_id {
        return Err(ApiError(Error::invalid_field(
            "connectionTemplateId",
            "is a template of another system than the connection's",
        )));
    }
    Ok(t)
}

/// Makes a connection also serve another template (of the same system), reusing its credentials.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/connections/{connection_id}/link", operation_id = "v2LinkConnectionToEnvironment", tag = "v2-connections",
    params(("organisation_id" = String, Path), ("connection_id" = String, Path)), request_body = LinkConnectionEnvironment,
    responses((status = 201), (status = "default", body = ErrorBody)))]
async fn link_connection(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((org, id)): Path<(String, String)>,
    Json(body): Json<LinkConnectionEnvironment>,
) -> ApiResult<StatusCode> {
    auth.check_admin(&org)?;
    let c = connection_for(&s, &auth, &org, &id).await?;
    let t = link_target(&s, &org, &c, &body.connection_template_id).await?;
    if !s
        .store
        .link_platform_connection(&org, &c.id, &t.id, time::now())
        .await?
    {
        return Err(ApiError(Error::conflict(
            "the connection already serves this template",
        )));
    }
    Ok(StatusCode::CREATED)
}

/// Removes a link made by create or link; activations bound through it lose that binding.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/connections/{connection_id}/link", operation_id = "v2UnlinkConnectionFromEnvironment", tag = "v2-connections",
    params(("organisation_id" = String, Path), ("connection_id" = String, Path)), request_body = LinkConnectionEnvironment,
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn unlink_connection(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((org, id)): Path<(String, String)>,
    JsonOrEmpty(body): JsonOrEmpty<Option<LinkConnectionEnvironment>>,
) -> ApiResult<StatusCode> {
    auth.check_admin(&org)?;
    let c = connection_for(&s, &auth, &org, &id).await?;
    let body = body.ok_or_else(|| {
        ApiError(Error::invalid_field(
            "connectionTemplateId",
            "is required: send {\"connectionTemplateId\": ...}",
        ))
    })?;
    let t = link_target(&s, &org, &c, &body.connection_template_id).await?;
    if !s
        .store
        .unlink_platform_connection(&org, &c.id, &t.id)
        .await?
    {
        return Err(ApiError(Error::not_found(
            "link between this connection and template",
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}
