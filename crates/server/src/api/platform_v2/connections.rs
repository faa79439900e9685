//! Platform API v2 connections: static ones (the organisation's, serving an environment's
//! template for every activation) and dynamic ones (one end user's, created with `externalId`).
//! They are the same connections as v1's, in v2's encoding: a flat credential list, credential
//! `data` wrapped in a key named by its type (`{string: {value}}`), auth scheme configs in the
//! wrapper form, and a `baseUrl` override.
use super::{fields_error, find_user};
use crate::api::v1_wire::{PageInfo, PageParams};
use crate::auth::{end_user_forbidden, PlatformAdmin, PlatformAuth};
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, JsonBody, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_domain::model::{Connection, ConnectionCredential, CredentialRole};
use switchyard_domain::platform::{ConnectionDeletion, PlatformTemplate};
use switchyard_domain::time;
use switchyard_domain::{Error, ErrorKind};
use switchyard_store::ConnectionFilter;
use switchyard_store::OrgId;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::connection_wire::{
    build, connection_out, requester, resolve_scheme, ConnectionCreate, ConnectionOut,
};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_connection, list_connections))
        .routes(routes!(
            get_connection,
            update_connection,
            delete_connection
        ))
        .routes(routes!(list_environment_connections))
}

/// Connections with the first template each serves.
pub(super) async fn outs(
    s: &AppState,
    org: &OrgId,
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
pub(super) async fn connection_for(
    s: &AppState,
    auth: &PlatformAuth,
    org: &OrgId,
    id: &str,
) -> ApiResult<Connection> {
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

pub(super) async fn template_in(
    s: &AppState,
    org: &OrgId,
    id: &str,
    field: &str,
) -> ApiResult<PlatformTemplate> {
    s.store
        .find_platform_template(org, id)
        .await?
        .ok_or_else(|| {
            ApiError::invalid_field(field, "is not a connection template of this organisation")
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
pub(super) async fn create_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path(_org): Path<String>,
    Json(body): Json<EnvSystemConnectionCreate>,
) -> ApiResult<(StatusCode, axum::Json<ConnectionOut>)> {
    let org = auth.org.clone();
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
                    ApiError::invalid_field(
                        "externalId",
                        "no end user of this organisation has this externalId",
                    )
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
    let links = std::slice::from_ref(&template.id);
    let c = crate::connections::create(&s, &org, pending, links).await?;
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
pub(super) async fn list_connections(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path(_org): Path<String>,
    Query(q): Query<ListConnectionsParams>,
) -> ApiResult<axum::Json<ConnectionPage>> {
    let org = auth.org.clone();
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
            ApiError::invalid_field("end_user_id", "is not an end user of this organisation")
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
pub(super) async fn list_environment_connections(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, project_id)): Path<(String, String)>,
    Query(q): Query<EnvironmentConnectionsParams>,
) -> ApiResult<axum::Json<ConnectionPage>> {
    let org = auth.org.clone();
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
            return Err(ApiError::invalid_field(
                "env_id",
                "is not an environment of this project",
            ));
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
pub(super) async fn get_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let org = auth.org.clone();
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
pub(super) async fn update_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, id)): Path<(String, String)>,
    body: JsonBody<ConnectionUpdate>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let org = auth.org.clone();
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
        return Err(ApiError::not_found("connection"));
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
    crate::tokens::check_new_credentials(&s, &org, [&fresh_conn]).await;
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
pub(super) async fn delete_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    connection_for(&s, &auth, &org, &id).await?;
    match s.store.delete_platform_connection(&org, &id).await? {
        ConnectionDeletion::Deleted => Ok(StatusCode::NO_CONTENT),
        ConnectionDeletion::NotFound => Err(ApiError::not_found("connection")),
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
