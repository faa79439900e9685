//! The organisation's own connections to a connector, through the connection service.
use crate::api::v1_wire::{
    ConnectionCreate, ConnectionOut, ConnectionSummary, PageInfo, PageParams,
};
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::connection::{Owner, Requester};
use switchyard_domain::model::{ConnectionVariable, CredentialRole};
use switchyard_domain::time::{self};
use switchyard_domain::{ErrorKind, FieldError};
use switchyard_store::OrgId;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::connector_of;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connections, create_connection))
        .routes(routes!(
            get_connection,
            update_connection,
            delete_connection
        ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorConnectionPage {
    #[serde(flatten)]
    pub page: PageInfo,
    pub items: Vec<ConnectionSummary>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCredentialUpdate {
    pub id: String,
    pub auth_scheme_config: AuthSchemeConfig,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConnectionCredentialsUpdate {
    pub action: Option<Vec<ConnectionCredentialUpdate>>,
    pub trigger: Option<Vec<ConnectionCredentialUpdate>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConnectionUpdate {
    pub name: String,
    pub credentials: Option<ConnectionCredentialsUpdate>,
    /// Replaces the variables when present; `[]` removes them all.
    pub variables: Option<Vec<ConnectionVariable>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteConnectionParams {
    /// Delete even if an activation or an end user uses the connection.
    pub force: Option<bool>,
}

/// Lists the organisation's own connections to a connector, newest first.
#[utoipa::path(get, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/connections", operation_id = "ListConnectorConnections", tag = "connections",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path), PageParams),
    responses((status = 200, body = ConnectorConnectionPage), (status = "default", body = ErrorBody)))]
async fn list_connections(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
    Query(q): Query<PageParams>,
) -> ApiResult<axum::Json<ConnectorConnectionPage>> {
    let org = auth.org.clone();
    let page = q.request()?;
    connector_of(&s, &org, &id).await?;
    let p = s.store.list_connector_connections(&org, &id, &page).await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(ConnectorConnectionPage {
        page: info,
        items: p.items.into_iter().map(Into::into).collect(),
    }))
}

/// Creates a connection to the connector, with its credentials.
#[utoipa::path(post, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/connections", operation_id = "CreateConnectorConnection", tag = "connections",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path)), request_body = ConnectionCreate,
    responses((status = 200, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn create_connection(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
    Json(body): Json<ConnectionCreate>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let org = auth.org.clone();
    let connector = connector_of(&s, &org, &id).await?;
    let nc = crate::connections::build(
        &s,
        &org,
        &id,
        Owner::Organisation,
        body.into_draft(""),
        &connector.auth_scheme_configs,
        Requester::Organisation,
    )
    .map_err(|f| {
        ApiError::invalid_fields(
            format!(
                "invalid connection: {}",
                f.iter()
                    .map(|x| x.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            f,
        )
    })?;
    Ok(axum::Json(
        crate::connections::create(&s, &org, nc, &[]).await?.into(),
    ))
}

pub(super) async fn connection_of(
    s: &AppState,
    org: &OrgId,
    connector_id: &str,
    id: &str,
) -> ApiResult<switchyard_domain::model::Connection> {
    s.store
        .get_connection(org, id)
        .await?
        .filter(|c| c.connector_id == connector_id)
        .or_not_found("connection")
}

#[utoipa::path(get, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/connections/{connection_id}", operation_id = "GetConnection", tag = "connections",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn get_connection(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, connector_id, id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let org = auth.org.clone();
    Ok(axum::Json(
        connection_of(&s, &org, &connector_id, &id).await?.into(),
    ))
}

/// Renames a connection, replaces its variables, reorders its credentials and updates their auth
/// scheme configs (not their scheme type; secrets are not changed here).
#[utoipa::path(put, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/connections/{connection_id}", operation_id = "UpdateConnection", tag = "connections",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path), ("connection_id" = String, Path)), request_body = ConnectionUpdate,
    responses((status = 200, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn update_connection(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, connector_id, id)): Path<(String, String, String)>,
    Json(body): Json<ConnectionUpdate>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let org = auth.org.clone();
    let mut c = connection_of(&s, &org, &connector_id, &id).await?;
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    c.name = body.name;
    if let Some(vars) = body.variables {
        c.variables = vars;
    }
    if let Some(creds) = body.credentials {
        let mut reordered = Vec::new();
        let mut fields = Vec::new();
        for (role, list) in [
            (CredentialRole::Action, creds.action),
            (CredentialRole::Trigger, creds.trigger),
        ] {
            let Some(list) = list else {
                reordered.extend(c.credentials.iter().filter(|x| x.role == role).cloned());
                continue;
            };
            for (i, u) in list.into_iter().enumerate() {
                let path = format!("credentials.{}[{i}]", role.as_str());
                match c.credentials.iter().find(|x| x.id == u.id) {
                    None => fields.push(FieldError::new(
                        format!("{path}.id"),
                        "is not a credential of this connection",
                    )),
                    Some(x)
                        if x.auth_scheme_config.scheme.type_name()
                            != u.auth_scheme_config.scheme.type_name() =>
                    {
                        fields.push(FieldError::new(
                            format!("{path}.authSchemeConfig.schemeType"),
                            "cannot change",
                        ))
                    }
                    Some(x) => {
                        let mut x = x.clone();
                        x.role = role;
                        x.auth_scheme_config = u.auth_scheme_config;
                        reordered.push(x);
                    }
                }
            }
        }
        if !fields.is_empty() {
            return Err(ApiError::invalid_fields(
                "invalid connection update",
                fields,
            ));
        }
        c.credentials = reordered;
    }
    c.updated_at = time::now();
    s.store.update_connection(&org, &c).await?;
    Ok(axum::Json(c.into()))
}

/// Deletes a connection; 412 while an activation or end user uses it, unless `force=true`.
#[utoipa::path(delete, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/connections/{connection_id}", operation_id = "DeleteConnection", tag = "connections",
    params(("organisation_id" = String, Path), ("connector_id" = String, Path), ("connection_id" = String, Path), DeleteConnectionParams),
    responses((status = 204), (status = 412, body = ErrorBody), (status = "default", body = ErrorBody)))]
async fn delete_connection(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, connector_id, id)): Path<(String, String, String)>,
    Query(q): Query<DeleteConnectionParams>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    connection_of(&s, &org, &connector_id, &id).await?;
    if !q.force.unwrap_or(false) && s.store.connection_in_use(&org, &id).await? {
        return Err(ApiError::new(
            ErrorKind::PreconditionFailed,
            "the connection is in use by an activation or an end user; delete with force=true to remove it anyway",
        ));
    }
    s.store.delete_connection(&org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
