//! API keys of an organisation: create (the key is shown once), list, revoke; and the
//! organisation's settings (OAuth redirect URLs, hub framing).
use crate::auth::{new_api_key, OrgAuth};
use crate::error::{ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchyard_domain::model::{ApiKey, OrganisationSettings};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::Error;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
        .routes(routes!(get_settings, put_settings))
}

#[derive(Deserialize, ToSchema)]
pub struct ApiKeyCreate {
    /// A name to recognise the key by.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyOut {
    pub id: String,
    pub name: String,
    /// The first characters of the key.
    pub prefix: String,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339_opt", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    #[serde(with = "time::rfc3339_opt", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

impl From<ApiKey> for ApiKeyOut {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyCreated {
    #[serde(flatten)]
    pub key: ApiKeyOut,
    /// The key itself: shown this once, never again.
    pub api_key: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyOut>,
}

/// Creates an API key for the organisation.
#[utoipa::path(post, path = "/api/organisations/v1/organisations/{organisation_id}/api-keys", operation_id = "CreateApiKey", tag = "api-keys",
    params(("organisation_id" = String, Path)), request_body = ApiKeyCreate,
    responses((status = 201, body = ApiKeyCreated), (status = "default", body = ErrorBody)))]
async fn create_api_key(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
    Json(body): Json<ApiKeyCreate>,
) -> ApiResult<(StatusCode, axum::Json<ApiKeyCreated>)> {
    let org = auth.org.clone();
    let (text, key) = new_api_key(&org, &body.name);
    s.store.insert_api_key(&org, &key).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ApiKeyCreated {
            key: key.into(),
            api_key: text,
        }),
    ))
}

/// Lists the organisation's API keys (never the keys themselves).
#[utoipa::path(get, path = "/api/organisations/v1/organisations/{organisation_id}/api-keys", operation_id = "ListApiKeys", tag = "api-keys",
    params(("organisation_id" = String, Path)), responses((status = 200, body = ApiKeyList), (status = "default", body = ErrorBody)))]
async fn list_api_keys(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
) -> ApiResult<axum::Json<ApiKeyList>> {
    let org = auth.org.clone();
    let items = s
        .store
        .list_api_keys(&org)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(axum::Json(ApiKeyList { items }))
}

/// Revokes an API key: it stops working at once.
#[utoipa::path(delete, path = "/api/organisations/v1/organisations/{organisation_id}/api-keys/{key_id}", operation_id = "RevokeApiKey", tag = "api-keys",
    params(("organisation_id" = String, Path), ("key_id" = String, Path)), responses((status = 204), (status = "default", body = ErrorBody)))]
async fn revoke_api_key(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    s.store
        .revoke_api_key(&org, &key_id, time::now())
        .await?
        .then_some(())
        .or_not_found("API key")?;
    // This node forgets at once; the others hear of it through the store's change feed.
    s.auth_cache.invalidate();
    Ok(StatusCode::NO_CONTENT)
}

/// An organisation's settings (a Switchyard addition to Organisations API v1).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrganisationSettings)]
pub struct OrganisationSettingsBody {
    /// The redirect URLs that Connect v1 and Platform v2 `oauth2/initialise` and `oauth1/initialise`
    /// may be given (`redirectUrl`), compared after normalisation; Switchyard's hosted callback is
    /// always allowed. Absolute http(s) URLs without a fragment, at most 50, each at most 2048
    /// characters.
    #[serde(default)]
    pub oauth_redirect_urls: Vec<String>,
    /// The host origins that may frame the hub page (its CSP `frame-ancestors`, for hub URLs with
    /// `?o=<organisationId>`): `https://app.example.com`, `http://localhost:3000`,
    /// `https://*.example.com`; no path. At most 50. Empty: any origin (`*`).
    #[serde(default)]
    pub hub_frame_ancestors: Vec<String>,
}

impl From<OrganisationSettings> for OrganisationSettingsBody {
    fn from(s: OrganisationSettings) -> Self {
        Self {
            oauth_redirect_urls: s.oauth_redirect_urls,
            hub_frame_ancestors: s.hub_frame_ancestors,
        }
    }
}

/// The organisation's settings (both lists empty until set).
#[utoipa::path(get, path = "/api/organisations/v1/organisations/{organisation_id}/settings", operation_id = "GetOrganisationSettings", tag = "organisations",
    params(("organisation_id" = String, Path)), responses((status = 200, body = OrganisationSettingsBody), (status = "default", body = ErrorBody)))]
async fn get_settings(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
) -> ApiResult<axum::Json<OrganisationSettingsBody>> {
    let org = auth.org.clone();
    Ok(axum::Json(
        s.store.get_organisation_settings(&org).await?.into(),
    ))
}

/// Replaces the organisation's settings: a list left out becomes empty.
#[utoipa::path(put, path = "/api/organisations/v1/organisations/{organisation_id}/settings", operation_id = "UpdateOrganisationSettings", tag = "organisations",
    params(("organisation_id" = String, Path)), request_body = OrganisationSettingsBody,
    responses((status = 200, body = OrganisationSettingsBody), (status = "default", body = ErrorBody)))]
async fn put_settings(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
    Json(body): Json<OrganisationSettingsBody>,
) -> ApiResult<axum::Json<OrganisationSettingsBody>> {
    let org = auth.org.clone();
    let redirects =
        crate::oauth::policy::validate_redirect_urls("oauthRedirectUrls", body.oauth_redirect_urls);
    let ancestors = crate::oauth::policy::validate_frame_ancestors(
        "hubFrameAncestors",
        body.hub_frame_ancestors,
    );
    let (oauth_redirect_urls, hub_frame_ancestors) = match (redirects, ancestors) {
        (Ok(r), Ok(a)) => (r, a),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => return Err(e.into()),
        (Err(a), Err(b)) => {
            let fields = a.fields.into_iter().chain(b.fields).collect::<Vec<_>>();
            return Err(Error::invalid_fields(
                format!("{} settings are invalid", fields.len()),
                fields,
            )
            .into());
        }
    };
    let settings = OrganisationSettings {
        oauth_redirect_urls,
        hub_frame_ancestors,
        updated_at: Some(time::now()),
    };
    s.store.put_organisation_settings(&org, &settings).await?;
    Ok(axum::Json(settings.into()))
}
