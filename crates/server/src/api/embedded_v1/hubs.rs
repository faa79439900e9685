//! Hubs: the entry point, built around the primary connector (the host's own app).
use crate::api::v1_wire::PageInfo;
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, JsonBody, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use switchyard_domain::model::*;
use switchyard_domain::new_id;
use switchyard_domain::time::{self};
use switchyard_store::OrgId;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::{ConnectorInfo, HubCreate, HubOut, HubUpdate, HubsPage};
use super::{check_body_org, hub_of, live_hub};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hubs))
        .routes(routes!(create_hub))
        .routes(routes!(get_hub, update_hub, delete_hub))
}

pub(super) async fn hub_out(s: &AppState, org: &OrgId, h: Hub) -> ApiResult<HubOut> {
    let c = s.store.get_connector(org, &h.primary_connector_id).await?;
    let (name, image_url, variables) = c
        .map(|c| (c.name, c.image_url, c.connection_variables))
        .unwrap_or_default();
    Ok(HubOut {
        id: h.id,
        name: h.name,
        primary_connector: ConnectorInfo {
            connector_id: h.primary_connector_id,
            name,
            auth_scheme_config: h.auth_scheme_config,
            image_url,
            variables,
        },
        is_default: h.is_default,
        oauth_redirect_urls: h.oauth_redirect_urls,
    })
}

// ---------------------------------------------------------------------------------------------
// Hubs.

/// Lists the organisation's hubs (all of them, on one page).
#[utoipa::path(get, path = "/api/embedded/v1/o/{organisation_id}/hubs", operation_id = "ListHubs", tag = "hubs",
    params(("organisation_id" = String, Path)), responses((status = 200, body = HubsPage), (status = "default", body = ErrorBody)))]
async fn list_hubs(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
) -> ApiResult<axum::Json<HubsPage>> {
    let org = auth.org.clone();
    let hubs = s.store.list_hubs(&org).await?;
    let mut out = Vec::with_capacity(hubs.len());
    for h in hubs {
        out.push(hub_out(&s, &org, h).await?);
    }
    Ok(axum::Json(HubsPage {
        page: PageInfo {
            total_count: out.len() as i64,
            next: String::new(),
            prev: String::new(),
        },
        hubs: out,
    }))
}

/// Creates a hub around a primary connector. The organisation's first hub is its default.
#[utoipa::path(post, path = "/api/embedded/v1/hubs", operation_id = "CreateHub", tag = "hubs", request_body = HubCreate,
    responses((status = 201, body = HubOut), (status = "default", body = ErrorBody)))]
async fn create_hub(
    State(s): State<AppState>,
    auth: OrgAuth,
    Json(body): Json<HubCreate>,
) -> ApiResult<(StatusCode, axum::Json<HubOut>)> {
    check_body_org(&auth, &body.organisation_id)?;
    let org = auth.org;
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    let oauth_redirect_urls = crate::oauth::policy::validate_redirect_urls(
        "oauthRedirectUrls",
        body.oauth_redirect_urls.unwrap_or_default(),
    )?;
    if s.store
        .get_connector(&org, &body.primary_connector_id)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid_field(
            "primaryConnectorId",
            format!("connector {} does not exist", body.primary_connector_id),
        ));
    }
    let mut scheme = body.auth_scheme_config;
    let grant = crate::credentials::absorb_grant_secret(&s, &org, &mut scheme, "authSchemeConfig")?;
    let now = time::now();
    let first = s.store.list_hubs(&org).await?.is_empty();
    let hub = Hub {
        id: new_id(),
        organisation_id: org.to_string(),
        name: body.name,
        primary_connector_id: body.primary_connector_id,
        auth_scheme_config: scheme,
        is_default: first,
        oauth_redirect_urls,
        deleted_at: None,
        created_at: now,
        updated_at: now,
    };
    s.store.insert_hub(&org, &hub, grant.as_slice()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(hub_out(&s, &org, hub).await?),
    ))
}

/// A hub by id; soft-deleted hubs stay readable.
#[utoipa::path(get, path = "/api/embedded/v1/hubs/{hub_id}", operation_id = "GetHub", tag = "hubs",
    params(("hub_id" = String, Path)), responses((status = 200, body = HubOut), (status = "default", body = ErrorBody)))]
async fn get_hub(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
) -> ApiResult<axum::Json<HubOut>> {
    let org = auth.org;
    let h = hub_of(&s, &org, &hub_id).await?;
    Ok(axum::Json(hub_out(&s, &org, h).await?))
}

/// Renames a hub or makes it the default.
#[utoipa::path(patch, path = "/api/embedded/v1/hubs/{hub_id}", operation_id = "UpdateHubDetails", tag = "hubs",
    params(("hub_id" = String, Path)), request_body = HubUpdate, responses((status = 200, body = HubOut), (status = "default", body = ErrorBody)))]
async fn update_hub(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
    body: JsonBody<HubUpdate>,
) -> ApiResult<axum::Json<HubOut>> {
    let org = auth.org;
    let mut h = live_hub(&s, &org, &hub_id).await?;
    let body = body.get()?;
    if let Some(name) = body.name {
        if name.trim().is_empty() {
            return Err(ApiError::invalid_field("name", "must not be empty"));
        }
        h.name = name;
    }
    if let Some(d) = body.is_default {
        h.is_default = d;
    }
    if let Some(urls) = body.oauth_redirect_urls {
        h.oauth_redirect_urls =
            crate::oauth::policy::validate_redirect_urls("oauthRedirectUrls", urls)?;
    }
    h.updated_at = time::now();
    s.store.update_hub(&org, &h).await?;
    Ok(axum::Json(hub_out(&s, &org, h).await?))
}

/// Soft-deletes a hub: it leaves the hub list, but its integrations, users and activations stay
/// readable by id.
#[utoipa::path(delete, path = "/api/embedded/v1/hubs/{hub_id}", operation_id = "DeleteHub", tag = "hubs",
    params(("hub_id" = String, Path)), responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_hub(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(hub_id): Path<String>,
) -> ApiResult<StatusCode> {
    let org = auth.org;
    let mut h = live_hub(&s, &org, &hub_id).await?;
    let now = time::now();
    h.deleted_at = Some(now);
    h.is_default = false;
    h.updated_at = now;
    s.store.update_hub(&org, &h).await?;
    Ok(StatusCode::NO_CONTENT)
}
