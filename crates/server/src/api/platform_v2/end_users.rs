//! Platform API v2 end users: organisation-wide, unique `externalId` in the organisation.
use crate::api::v1_wire::{PageInfo, PageParams};
use crate::auth::{end_user_forbidden, PlatformAdmin, PlatformAuth};
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchyard_domain::platform::PlatformEndUser;
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{is_ulid, new_id};
use switchyard_store::OrgId;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_end_user, list_end_users))
        .routes(routes!(get_end_user, delete_end_user))
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
    /// With `environment_id` (required then): `true` lists the users activated in that
    /// environment, `false` those not activated there.
    pub activated: Option<bool>,
    /// An environment of the organisation (404 otherwise); only together with `activated`.
    pub environment_id: Option<String>,
    /// Page size: default 20, at most 500 (Switchyard's addition; Versori's spec declares no paging).
    pub first: Option<u32>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// An end user by external id, or else by internal id.
pub async fn find_user(s: &AppState, org: &OrgId, user_id: &str) -> ApiResult<PlatformEndUser> {
    if let Some(u) = s
        .store
        .find_platform_end_user_by_external_id(org, user_id)
        .await?
    {
        return Ok(u);
    }
    if is_ulid(user_id) {
        if let Some(u) = s.store.get_platform_end_user(org, user_id).await? {
            return Ok(u);
        }
    }
    None.or_not_found("end user")
}

/// As [`find_user`], for a caller that may be an end user: an end user finds only itself (403 for
/// anyone else, existing or not; 404 for itself before it is created, so that the embed SDK's
/// get-or-create works).
pub async fn find_user_as(
    s: &AppState,
    auth: &PlatformAuth,
    org: &OrgId,
    user_id: &str,
) -> ApiResult<PlatformEndUser> {
    let found = find_user(s, org, user_id).await;
    if let Some(own) = auth.end_user() {
        match &found {
            Ok(u) if u.external_id == own => {}
            Err(_) if user_id == own => {}
            _ => return Err(end_user_forbidden()),
        }
    }
    found
}

/// Creates an end user; `externalId` must be unique in the organisation (409 otherwise).
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/users", operation_id = "v2CreateEndUser", tag = "v2-end-users",
    params(("organisation_id" = String, Path)), request_body = EndUserCreate,
    responses((status = 201, body = EndUserOut), (status = "default", body = ErrorBody)))]
async fn create_end_user(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path(_org): Path<String>,
    Json(body): Json<EndUserCreate>,
) -> ApiResult<(StatusCode, axum::Json<EndUserOut>)> {
    let org = auth.org.clone();
    auth.check_user(&body.external_id)?;
    if body.external_id.trim().is_empty() {
        return Err(ApiError::invalid_field("externalId", "must not be empty"));
    }
    if s.store
        .find_platform_end_user_by_external_id(&org, &body.external_id)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(format!(
            "an end user with externalId {:?} already exists in this organisation",
            body.external_id
        )));
    }
    let now = time::now();
    let user = PlatformEndUser {
        id: new_id(),
        organisation_id: org.to_string(),
        external_id: body.external_id,
        display_name: body.display_name,
        created_at: now,
        updated_at: now,
    };
    s.store.insert_platform_end_user(&org, &user).await?;
    Ok((StatusCode::CREATED, axum::Json(user.into())))
}

/// Lists the organisation's end users, oldest first; `search` matches id, externalId and displayName.
/// `activated` and `environment_id` go together (400 naming the one that is missing):
/// `activated=true` keeps the users with an activation of that environment, `false` those without
/// one. An environment that is not the organisation's is a 404. Environments' static users are
/// never listed.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/users", operation_id = "v2ListEndUsers", tag = "v2-end-users",
    params(("organisation_id" = String, Path), ListEndUsersParams),
    responses((status = 200, body = EndUserPage), (status = "default", body = ErrorBody)))]
async fn list_end_users(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path(_org): Path<String>,
    Query(q): Query<ListEndUsersParams>,
) -> ApiResult<axum::Json<EndUserPage>> {
    let org = auth.org.clone();
    let page = PageParams {
        first: q.first,
        after: q.after,
        before: q.before,
    }
    .request()?;
    let activated = match (q.activated, q.environment_id.filter(|e| !e.is_empty())) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(ApiError::invalid_field(
                "activated",
                "requires environment_id",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid_field(
                "environment_id",
                "requires activated (true or false)",
            ))
        }
        (Some(yes), Some(env)) => {
            s.store
                .find_platform_environment(&org, &env)
                .await?
                .or_not_found("environment")?;
            Some((env, yes))
        }
    };
    let p = s
        .store
        .list_platform_end_users(
            &org,
            q.search.as_deref(),
            activated.as_ref().map(|(e, yes)| (e.as_str(), *yes)),
            &page,
        )
        .await?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(EndUserPage {
        page: info,
        users: p.items.into_iter().map(Into::into).collect(),
    }))
}

/// An end user, by externalId or by internal id.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/users/{user_id}", operation_id = "v2GetEndUser", tag = "v2-end-users",
    params(("organisation_id" = String, Path), ("user_id" = String, Path, description = "The externalId, or the internal id")),
    responses((status = 200, body = EndUserOut), (status = "default", body = ErrorBody)))]
async fn get_end_user(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, user_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<EndUserOut>> {
    let org = auth.org.clone();
    Ok(axum::Json(
        find_user_as(&s, &auth, &org, &user_id).await?.into(),
    ))
}

/// Deletes an end user, by externalId or by internal id.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/users/{user_id}", operation_id = "v2DeleteEndUser", tag = "v2-end-users",
    params(("organisation_id" = String, Path), ("user_id" = String, Path, description = "The externalId, or the internal id")),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_end_user(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    let u = find_user(&s, &org, &user_id).await?;
    if !s.store.delete_platform_end_user(&org, &u.id).await? {
        return Err(ApiError::not_found("end user"));
    }
    Ok(StatusCode::NO_CONTENT)
}
