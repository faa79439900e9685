//! Linking a connection to more connection templates, and unlinking it.
use super::connections::{connection_for, template_in};
use crate::auth::PlatformAdmin;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, JsonOrEmpty, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use switchyard_domain::model::Connection;
use switchyard_domain::platform::PlatformTemplate;
use switchyard_domain::time;
use switchyard_store::OrgId;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(link_connection, unlink_connection))
}

/// `LinkConnectionEnvironment`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::LinkConnectionEnvironment)]
pub struct LinkConnectionEnvironment {
    pub connection_template_id: String,
}

pub(super) async fn link_target(
    s: &AppState,
    org: &OrgId,
    c: &Connection,
    template_id: &str,
) -> ApiResult<PlatformTemplate> {
    let t = template_in(s, org, template_id, "connectionTemplateId").await?;
    if t.system_id != c.connector_id {
        return Err(ApiError::invalid_field(
            "connectionTemplateId",
            "is a template of another system than the connection's",
        ));
    }
    Ok(t)
}

/// Makes a connection also serve another template (of the same system), reusing its credentials.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/connections/{connection_id}/link", operation_id = "v2LinkConnectionToEnvironment", tag = "v2-connections",
    params(("organisation_id" = String, Path), ("connection_id" = String, Path)), request_body = LinkConnectionEnvironment,
    responses((status = 201), (status = "default", body = ErrorBody)))]
pub(super) async fn link_connection(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
    Json(body): Json<LinkConnectionEnvironment>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    let c = connection_for(&s, &auth, &org, &id).await?;
    let t = link_target(&s, &org, &c, &body.connection_template_id).await?;
    if !s
        .store
        .link_platform_connection(&org, &c.id, &t.id, time::now())
        .await?
    {
        return Err(ApiError::conflict(
            "the connection already serves this template",
        ));
    }
    Ok(StatusCode::CREATED)
}

/// Removes a link made by create or link; activations bound through it lose that binding.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/connections/{connection_id}/link", operation_id = "v2UnlinkConnectionFromEnvironment", tag = "v2-connections",
    params(("organisation_id" = String, Path), ("connection_id" = String, Path)), request_body = LinkConnectionEnvironment,
    responses((status = 204), (status = "default", body = ErrorBody)))]
pub(super) async fn unlink_connection(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
    JsonOrEmpty(body): JsonOrEmpty<Option<LinkConnectionEnvironment>>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    let c = connection_for(&s, &auth, &org, &id).await?;
    let body = body.ok_or_else(|| {
        ApiError::invalid_field(
            "connectionTemplateId",
            "is required: send {\"connectionTemplateId\": ...}",
        )
    })?;
    let t = link_target(&s, &org, &c, &body.connection_template_id).await?;
    if !s
        .store
        .unlink_platform_connection(&org, &c.id, &t.id)
        .await?
    {
        return Err(ApiError::not_found(
            "link between this connection and template",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}
