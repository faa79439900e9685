//! End users of a hub, their primary connection and their other connections.
use crate::api::v1_wire::{ConnectionOut, PageInfo};
use crate::auth::HubAuth;
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{JsonBody, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use switchyard_domain::connection::{Owner, Requester};
use switchyard_domain::model::*;
use switchyard_store::OrgId;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::{
    EndUserConnectionCreate, EndUserConnectionsPage, EndUserCreate, EndUserOut, EndUserPage,
    EndUserSummary, ListUserParams, UserConnectionParams, UserParams,
};
use super::{fields_error, hub_of, integration_of, live_hub, page_params, user_in_hub};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_end_user, list_end_users))
        .routes(routes!(get_end_user, delete_end_user))
        .routes(routes!(
            create_end_user_connection,
            list_end_user_connections
        ))
        .routes(routes!(get_end_user_connection))
}

pub(super) async fn end_user_out(s: &AppState, org: &OrgId, u: EndUser) -> ApiResult<EndUserOut> {
    end_user_out_with(s, org, u, None).await
}

/// `known`: the user's primary connection when the caller has read it already (one query less).
pub(super) async fn end_user_out_with(
    s: &AppState,
    org: &OrgId,
    u: EndUser,
    known: Option<Connection>,
) -> ApiResult<EndUserOut> {
    let primary = match (&u.primary_connection_id, known) {
        (Some(id), Some(c)) if c.id == *id => Some(ConnectionOut::from(c)),
        (Some(id), _) => s
            .store
            .get_connection(org, id)
            .await?
            .map(ConnectionOut::from),
        (None, _) => None,
    };
    Ok(EndUserOut {
        id: u.id,
        external_id: u.external_id,
        display_name: u.display_name,
        hub_id: u.hub_id,
        primary_connection: primary,
        created_at: u.created_at,
        updated_at: u.updated_at,
    })
}

// ---------------------------------------------------------------------------------------------
// End users.

/// Creates an end user and its primary connection to the hub's primary connector.
#[utoipa::path(post, path = "/api/embedded/v1/hubs/{hub_id}/users", operation_id = "CreateEndUser", tag = "end-users",
    params(("hub_id" = String, Path)), request_body = EndUserCreate, responses((status = 201, body = EndUserOut), (status = "default", body = ErrorBody)))]
async fn create_end_user(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
    body: JsonBody<EndUserCreate>,
) -> ApiResult<(StatusCode, axum::Json<EndUserOut>)> {
    let org = auth.org;
    let hub = live_hub(&s, &org, &hub_id).await?;
    let body = body.get()?;
    if body.external_id.trim().is_empty() {
        return Err(ApiError::invalid_field("externalId", "must not be empty"));
    }
    if s.store
        .get_end_user(&org, &hub.id, &body.external_id, IdentifierType::External)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(format!(
            "an end user with externalId {:?} already exists in this hub",
            body.external_id
        )));
    }
    let user = super::primary::create_user(
        &s,
        &org,
        &hub,
        body.external_id,
        body.display_name,
        body.primary_connection,
        Requester::Organisation,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(end_user_out(&s, &org, user).await?),
    ))
}

/// Lists a hub's end users; `search` matches id, external id and display name.
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}/users", operation_id = "ListEndUsers", tag = "end-users",
    params(("hub_id" = String, Path), ListUserParams), responses((status = 200, body = EndUserPage), (status = "default", body = ErrorBody)))]
async fn list_end_users(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
    Query(q): Query<ListUserParams>,
) -> ApiResult<axum::Json<EndUserPage>> {
    let org = auth.org;
    let page = page_params(q.first, &q.after, &q.before).request()?;
    hub_of(&s, &org, &hub_id).await?;
    let p = s
        .store
        .list_end_users(&org, &hub_id, q.search.as_deref(), &page)
        .await?;
    let info = PageInfo::of(&p);
    let users = p
        .items
        .into_iter()
        .map(|u| EndUserSummary {
            id: u.id,
            external_id: u.external_id,
            display_name: u.display_name,
            hub_id: u.hub_id,
            created_at: u.created_at,
            updated_at: u.updated_at,
        })
        .collect();
    Ok(axum::Json(EndUserPage { page: info, users }))
}

/// An end user, by external id (default) or internal id.
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}/users/{user_id}", operation_id = "GetEndUser", tag = "end-users",
    params(("hub_id" = String, Path), ("user_id" = String, Path), UserParams), responses((status = 200, body = EndUserOut), (status = "default", body = ErrorBody)))]
async fn get_end_user(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<axum::Json<EndUserOut>> {
    let org = auth.org;
    let u = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    Ok(axum::Json(end_user_out(&s, &org, u).await?))
}

/// Deletes an end user with their connections and activations.
#[utoipa::path(delete, path = "/api/embedded/v1/hubs/{hub_id}/users/{user_id}", operation_id = "DeleteEndUser", tag = "end-users",
    params(("hub_id" = String, Path), ("user_id" = String, Path), UserParams), responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_end_user(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<StatusCode> {
    let org = auth.org;
    let u = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    s.store.delete_end_user(&org, &u.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a connection for an end user, with credentials obtained elsewhere.
#[utoipa::path(post, path = "/api/embedded/v1/hubs/{hub_id}/users/{user_id}/connections", operation_id = "CreateEndUserConnection", tag = "end-users",
    params(("hub_id" = String, Path), ("user_id" = String, Path), UserParams), request_body = EndUserConnectionCreate,
    responses((status = 201, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn create_end_user_connection(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
    body: JsonBody<EndUserConnectionCreate>,
) -> ApiResult<(StatusCode, axum::Json<ConnectionOut>)> {
    let org = auth.org;
    let u = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    let body = body.get()?;
    if s.store
        .get_connector(&org, &body.connector_id)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid_field(
            "connectorId",
            format!("connector {} does not exist", body.connector_id),
        ));
    }
    let hub = hub_of(&s, &org, &u.hub_id).await?;
    let schemes = crate::schemes::hub_schemes(&s, &org, &hub, &body.connector_id).await?;
    let nc = crate::connections::build(
        &s,
        &org,
        &body.connector_id,
        Owner::EndUser(u.id.clone()),
        body.connection.into_draft("connection."),
        &schemes,
        Requester::Organisation,
    )
    .map_err(|f| fields_error("invalid connection", f))?;
    let c = crate::connections::create(&s, &org, nc, &[]).await?;
    Ok((StatusCode::CREATED, axum::Json(c.into())))
}

/// Lists an end user's connections, optionally only those to some connectors.
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}/users/{user_id}/connections", operation_id = "ListEndUserConnections", tag = "end-users",
    params(("hub_id" = String, Path), ("user_id" = String, Path), UserConnectionParams),
    responses((status = 200, body = EndUserConnectionsPage), (status = "default", body = ErrorBody)))]
async fn list_end_user_connections(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    uri: axum::http::Uri,
    Query(q): Query<UserConnectionParams>,
) -> ApiResult<axum::Json<EndUserConnectionsPage>> {
    let org = auth.org().clone();
    let page = page_params(q.first, &q.after, &q.before).request()?;
    let u = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    // `hub_connector_id` may repeat: read every occurrence.
    let connectors: Vec<String> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "hub_connector_id")
        .map(|(_, v)| v.into_owned())
        .collect();
    let p = s
        .store
        .list_end_user_connections(&org, &u.id, &connectors, &page)
        .await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(EndUserConnectionsPage {
        page: info,
        connections: p.items.into_iter().map(Into::into).collect(),
    }))
}

/// The connection that serves a connection template for an end user (their activation's binding,
/// else their connection to the template's connector), credentials redacted.
#[utoipa::path(get, path = "/api/embedded/v1/connection-templates/{connection_template_id}/users/{user_id}", operation_id = "GetEndUserConnection", tag = "end-users",
    params(("connection_template_id" = String, Path), ("user_id" = String, Path), UserParams),
    responses((status = 200, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn get_end_user_connection(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((template_id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let org = auth.org;
    let t = s
        .store
        .get_template(&org, &template_id)
        .await?
        .or_not_found("connection template")?;
    let i = integration_of(&s, &org, &t.integration_id).await?;
    let u = user_in_hub(&s, &org, &i.hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("end user")?;
    let bound = s
        .store
        .find_activation(&org, &u.id, &i.id)
        .await?
        .and_then(|a| {
            a.bindings
                .into_iter()
                .find(|(tid, _)| *tid == t.id)
                .map(|(_, cid)| cid)
        });
    let connection = match bound {
        Some(cid) => s.store.get_connection(&org, &cid).await?,
        None => s
            .store
            .list_end_user_connections(
                &org,
                &u.id,
                std::slice::from_ref(&t.connector_id),
                &switchyard_domain::page::PageRequest::new(Some(1)),
            )
            .await?
            .items
            .pop(),
    };
    Ok(axum::Json(connection.or_not_found("connection")?.into()))
}
