//! HTTP connectors and their auth scheme configs (grant and consumer secrets moved into sealed
//! credentials).
use crate::api::v1_wire::{ConnectionOut, PageInfo, PageParams};
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::credential::NewCredential;
use switchyard_domain::model::{ConnectionVariable, Connector};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{new_id, Error, FieldError};
use switchyard_store::OrgId;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::connector_of;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_http_connector))
        .routes(routes!(list_connectors))
        .routes(routes!(get_connector, update_connector, delete_connector))
        .routes(routes!(
            upsert_auth_scheme_config,
            delete_auth_scheme_config
        ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HTTPConnectorCreate {
    pub name: String,
    /// May hold `{{variable}}` placeholders, filled by each connection's variables.
    pub base_url: String,
    #[serde(default)]
    pub connection_variables: Vec<ConnectionVariable>,
    #[serde(default)]
    pub auth_scheme_configs: Vec<AuthSchemeConfig>,
    #[serde(default)]
    pub public: bool,
    #[serde(default, rename = "imageURL")]
    pub image_url: String,
    #[serde(default, rename = "documentationURL")]
    pub documentation_url: String,
}

/// `HTTPConnectorUpdate`: every mutable field is set from the body; missing ones are unset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HTTPConnectorUpdate {
    pub name: String,
    pub base_url: String,
    #[serde(default)]
    pub connection_variables: Vec<ConnectionVariable>,
    #[serde(default)]
    pub auth_scheme_configs: Vec<AuthSchemeConfig>,
    #[serde(default)]
    pub public: bool,
    #[serde(default, rename = "imageURL")]
    pub image_url: String,
    #[serde(default, rename = "documentationURL")]
    pub documentation_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = HTTPConnector)]
pub struct ConnectorOut {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    /// Always `http`.
    pub protocol: String,
    pub public: bool,
    #[serde(rename = "documentationURL")]
    pub documentation_url: String,
    #[serde(rename = "imageURL")]
    pub image_url: String,
    pub base_url: String,
    pub auth_scheme_configs: Vec<AuthSchemeConfig>,
    pub connection_variables: Vec<ConnectionVariable>,
    /// The organisation's own connections to this connector (not end users'), up to 100.
    pub connections: Vec<ConnectionOut>,
    /// Switchyard connectors are not versioned: one version, always the latest and the default.
    pub versions: Vec<ConnectorVersion>,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorVersion {
    pub id: String,
    pub name: String,
    pub is_latest: bool,
    pub is_default: bool,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub published_at: Timestamp,
}

/// A connector with its own connections, as Connect's reads show it.
pub(super) async fn connector_out(
    s: &AppState,
    org: &OrgId,
    c: Connector,
) -> ApiResult<ConnectorOut> {
    let connections = s
        .store
        .list_connector_connections(
            org,
            &c.id,
            &switchyard_domain::page::PageRequest::new(Some(100)),
        )
        .await?
        .items;
    Ok(ConnectorOut::new(
        c,
        connections.into_iter().map(Into::into).collect(),
    ))
}

impl ConnectorOut {
    fn new(c: Connector, connections: Vec<ConnectionOut>) -> Self {
        let version = ConnectorVersion {
            id: c.id.clone(),
            name: "1".into(),
            is_latest: true,
            is_default: true,
            created_at: c.created_at,
            updated_at: c.updated_at,
            published_at: c.created_at,
        };
        Self {
            connections,
            versions: vec![version],
            id: c.id,
            organisation_id: c.organisation_id,
            name: c.name,
            protocol: "http".into(),
            public: c.public,
            documentation_url: c.documentation_url,
            image_url: c.image_url,
            base_url: c.base_url,
            auth_scheme_configs: c.auth_scheme_configs,
            connection_variables: c.connection_variables,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub connectors: Vec<ConnectorOut>,
}

/// Checks auth scheme configs (unique, non-empty ids) and moves grant secrets into credentials.
pub(super) fn prepare_schemes(
    s: &AppState,
    org: &OrgId,
    schemes: &mut [AuthSchemeConfig],
) -> Result<Vec<NewCredential>, Error> {
    let mut seen = std::collections::HashSet::new();
    let mut fields = Vec::new();
    for (i, c) in schemes.iter().enumerate() {
        if c.id.trim().is_empty() || !seen.insert(c.id.clone()) {
            fields.push(FieldError::new(
                format!("authSchemeConfigs[{i}].id"),
                "must be non-empty and unique among the connector's auth scheme configs",
            ));
        }
    }
    if !fields.is_empty() {
        return Err(Error::invalid_fields("invalid auth scheme configs", fields));
    }
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

pub(super) fn check_base_url(url: &str) -> Result<(), Error> {
    if url.trim().is_empty() {
        return Err(Error::invalid_field("baseUrl", "must not be empty"));
    }
    // Placeholders may stand anywhere, so check the URL with them filled in.
    let filled = regex_free_fill(url);
    url::Url::parse(&filled)
        .map(|_| ())
        .map_err(|e| Error::invalid_field("baseUrl", format!("is not a URL: {e}")))
}

/// `https://{{sub}}.example.com` → `https://x.example.com`.
pub(super) fn regex_free_fill(url: &str) -> String {
    let mut out = String::new();
    let mut rest = url;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                out.push('x');
                rest = &rest[start + end + 2..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Creates an HTTP connector.
#[utoipa::path(post, path = "/api/connect/v1/o/{organisation_id}/protocols/http/connectors", operation_id = "CreateHTTPConnector", tag = "connectors",
    params(("organisation_id" = String, Path)), request_body = HTTPConnectorCreate, responses((status = 201, body = ConnectorOut), (status = "default", body = ErrorBody)))]
async fn create_http_connector(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
    Json(body): Json<HTTPConnectorCreate>,
) -> ApiResult<(StatusCode, axum::Json<ConnectorOut>)> {
    let org = auth.org.clone();
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    check_base_url(&body.base_url)?;
    let mut schemes = body.auth_scheme_configs;
    let creds = prepare_schemes(&s, &org, &mut schemes)?;
    let now = time::now();
    let c = Connector {
        id: new_id(),
        organisation_id: org.to_string(),
        name: body.name,
        base_url: body.base_url,
        auth_scheme_configs: schemes,
        connection_variables: body.connection_variables,
        image_url: body.image_url,
        documentation_url: body.documentation_url,
        public: body.public,
        created_at: now,
        updated_at: now,
    };
    s.store.insert_connector(&org, &c, &creds).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ConnectorOut::new(c, Vec::new())),
    ))
}

/// Lists the organisation's connectors, newest first.
#[utoipa::path(get, path = "/api/connect/v1/o/{organisation_id}/connectors", operation_id = "ListConnectors", tag = "connectors",
    params(("organisation_id" = String, Path), PageParams), responses((status = 200, body = ConnectorPage), (status = "default", body = ErrorBody)))]
async fn list_connectors(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<ConnectorPage>> {
    let org = auth.org.clone();
    let p = s.store.list_connectors(&org, &q.request()?).await?;
    let info = PageInfo::of(&p);
    let mut connectors = Vec::with_capacity(p.items.len());
    for c in p.items {
        connectors.push(connector_out(&s, &org, c).await?);
    }
    Ok(axum::Json(ConnectorPage {
        page: info,
        connectors,
    }))
}

#[utoipa::path(get, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}", operation_id = "GetConnector", tag = "connectors",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path)), responses((status = 200, body = ConnectorOut), (status = "default", body = ErrorBody)))]
async fn get_connector(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<ConnectorOut>> {
    let org = auth.org.clone();
    let c = connector_of(&s, &org, &id).await?;
    Ok(axum::Json(connector_out(&s, &org, c).await?))
}

/// Replaces a connector's mutable fields.
#[utoipa::path(put, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}", operation_id = "UpdateConnector", tag = "connectors",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path)), request_body = HTTPConnectorUpdate,
    responses((status = 200, body = ConnectorOut), (status = "default", body = ErrorBody)))]
async fn update_connector(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
    Json(body): Json<HTTPConnectorUpdate>,
) -> ApiResult<axum::Json<ConnectorOut>> {
    let org = auth.org.clone();
    let mut c = connector_of(&s, &org, &id).await?;
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    check_base_url(&body.base_url)?;
    let mut schemes = body.auth_scheme_configs;
    let creds = prepare_schemes(&s, &org, &mut schemes)?;
    c.name = body.name;
    c.base_url = body.base_url;
    c.auth_scheme_configs = schemes;
    c.connection_variables = body.connection_variables;
    c.public = body.public;
    c.image_url = body.image_url;
    c.documentation_url = body.documentation_url;
    c.updated_at = time::now();
    s.store.update_connector(&org, &c, &creds).await?;
    Ok(axum::Json(connector_out(&s, &org, c).await?))
}

/// Deletes a connector nothing uses (409 while a hub, a template or end users' connections use it).
#[utoipa::path(delete, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}", operation_id = "DeleteConnector", tag = "connectors",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path)), responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_connector(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    s.store
        .delete_connector(&org, &id)
        .await?
        .then_some(())
        .or_not_found("connector")?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds or replaces one auth scheme config; the path id must equal the body's.
#[utoipa::path(put, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/auth-scheme-configs/{auth_scheme_config_id}", operation_id = "UpsertAuthSchemeConfig", tag = "connectors",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path), ("auth_scheme_config_id" = String, Path)), request_body = AuthSchemeConfig,
    responses((status = 200, body = ConnectorOut), (status = "default", body = ErrorBody)))]
async fn upsert_auth_scheme_config(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id, scheme_id)): Path<(String, String, String)>,
    Json(mut body): Json<AuthSchemeConfig>,
) -> ApiResult<axum::Json<ConnectorOut>> {
    let org = auth.org.clone();
    let mut c = connector_of(&s, &org, &id).await?;
    if body.id != scheme_id {
        return Err(ApiError::invalid_field(
            "id",
            "must equal the auth_scheme_config_id in the path",
        ));
    }
    let cred = crate::credentials::absorb_grant_secret(&s, &org, &mut body, "")?;
    match c.auth_scheme_configs.iter_mut().find(|x| x.id == scheme_id) {
        Some(existing) => {
            if existing.scheme.type_name() != body.scheme.type_name() {
                return Err(ApiError::invalid_field(
                    "schemeType",
                    "cannot change the scheme type of an existing auth scheme config",
                ));
            }
            *existing = body;
        }
        None => c.auth_scheme_configs.push(body),
    }
    c.updated_at = time::now();
    s.store.update_connector(&org, &c, cred.as_slice()).await?;
    Ok(axum::Json(connector_out(&s, &org, c).await?))
}

/// Removes an auth scheme config; existing connections keep theirs.
#[utoipa::path(delete, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/auth-scheme-configs/{auth_scheme_config_id}", operation_id = "DeleteAuthSchemeConfig", tag = "connectors",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path), ("auth_scheme_config_id" = String, Path)),
    responses((status = 200, body = ConnectorOut), (status = "default", body = ErrorBody)))]
async fn delete_auth_scheme_config(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id, scheme_id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<ConnectorOut>> {
    let org = auth.org.clone();
    let mut c = connector_of(&s, &org, &id).await?;
    let before = c.auth_scheme_configs.len();
    c.auth_scheme_configs.retain(|x| x.id != scheme_id);
    if c.auth_scheme_configs.len() == before {
        return Err(ApiError::not_found("auth scheme config"));
    }
    c.updated_at = time::now();
    s.store.update_connector(&org, &c, &[]).await?;
    Ok(axum::Json(connector_out(&s, &org, c).await?))
}
