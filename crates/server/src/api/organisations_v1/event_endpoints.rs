//! Event endpoints (`/api/organisations/v1/organisations/{organisation_id}/event-endpoints`):
//! where an organisation wants its events, which types (all by default), enabled or not, and its
//! signing secret, shown on creation and on rotation only (the previous one keeps signing for
//! 24 h beside the new one). The delivery log and replay are in `event_log.rs`.
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, JsonBody, Path};
use crate::state::AppState;
use crate::webhooks::{new_secret, secret_aad};
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize, Serializer};
use switchyard_domain::events::{EndpointSecrets, EventEndpoint, EVENT_TYPES};
use switchyard_domain::new_id;
use switchyard_domain::time::{self, Timestamp};
use switchyard_vault::KeyRing;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use zeroize::Zeroizing;

const MAX_DESCRIPTION: usize = 1024;
const MAX_URL: usize = 2048;
/// How long a rotated-out secret keeps signing beside the new one.
const ROTATION_OVERLAP_HOURS: i64 = 24;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateEventEndpoint {
    /// Where events are POSTed (http or https).
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// The event types wanted; empty or absent: all.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// Absent: enabled.
    pub enabled: Option<bool>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateEventEndpoint {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// Disabling records "disabled by its owner"; enabling clears the reason and the failure
    /// streak.
    pub enabled: Option<bool>,
}

/// An event endpoint as its owner sees it (never its secret).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventEndpointView {
    pub id: String,
    pub url: String,
    pub description: String,
    /// Empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it is disabled: by its owner, a 410 answer, or failing for five days.
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed (none since the last success).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failing_since: Option<String>,
    /// Until when the previous secret still signs beside the current one.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: String,
}

impl From<EventEndpoint> for EventEndpointView {
    fn from(e: EventEndpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since.as_ref().map(time::format),
            previous_secret_expires_at: e.previous_secret_until.as_ref().map(time::format),
            created_at: time::format(&e.created_at),
            updated_at: time::format(&e.updated_at),
        }
    }
}

/// A new endpoint, with its secret: shown in this answer only.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedEventEndpoint {
    #[serde(flatten)]
    pub endpoint: EventEndpointView,
    /// The signing secret (`whsec_...`), for verifying `webhook-signature`.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub secret: Zeroizing<String>,
}

/// A rotated secret: the new one, shown once; the previous one signs beside it until
/// `previousSecretExpiresAt`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedSecret {
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub secret: Zeroizing<String>,
    #[schema(value_type = String, format = DateTime)]
    pub previous_secret_expires_at: String,
}

fn expose<S: Serializer>(secret: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret)
}

#[derive(Serialize, ToSchema)]
pub struct EventEndpointList {
    pub endpoints: Vec<EventEndpointView>,
}

fn check_url(s: &AppState, url: &str) -> Result<(), ApiError> {
    if url.len() > MAX_URL {
        return Err(ApiError::invalid_field(
            "url",
            format!("must be at most {MAX_URL} characters"),
        ));
    }
    let parsed = url::Url::parse(url)
        .map_err(|_| ApiError::invalid_field("url", "must be an absolute http(s) URL"))?;
    s.egress.check(&parsed).map_err(|_| {
        ApiError::invalid_field(
            "url",
            "must be an http(s) URL Switchyard may call (not an internal address)",
        )
    })
}

fn check_types(types: &[String]) -> Result<(), ApiError> {
    if let Some(bad) = types.iter().find(|t| !EVENT_TYPES.contains(&t.as_str())) {
        return Err(ApiError::invalid_field(
            "eventTypes",
            format!(
                "{bad:?} is not an event type: use {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    Ok(())
}

fn check_description(d: &str) -> Result<(), ApiError> {
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::invalid_field(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(())
}

fn seal_secret(vault: &KeyRing, endpoint_id: &str, secret: &str) -> (String, String) {
    let sealed = vault.seal(secret.as_bytes(), &secret_aad(endpoint_id));
    let key_id = KeyRing::key_id_of(&sealed)
        .map(str::to_owned)
        .unwrap_or_else(|| vault.active_key_id());
    (sealed, key_id)
}

/// Registers an event endpoint. The answer carries its signing secret, this once.
#[utoipa::path(post, path = "/api/organisations/v1/organisations/{organisation_id}/event-endpoints", operation_id = "CreateEventEndpoint", tag = "events",
    params(("organisation_id" = String, Path)), request_body = CreateEventEndpoint,
    responses((status = 201, body = CreatedEventEndpoint), (status = "default", body = ErrorBody)))]
async fn create_endpoint(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
    Json(body): Json<CreateEventEndpoint>,
) -> ApiResult<(StatusCode, axum::Json<CreatedEventEndpoint>)> {
    check_url(&s, &body.url)?;
    check_types(&body.event_types)?;
    check_description(&body.description)?;
    let at = time::now();
    let enabled = body.enabled.unwrap_or(true);
    let endpoint = EventEndpoint {
        id: new_id(),
        organisation_id: auth.org.to_string(),
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        enabled,
        disabled_reason: (!enabled).then(|| "disabled by its owner".to_owned()),
        failing_since: None,
        previous_secret_until: None,
        created_at: at,
        updated_at: at,
    };
    let secret = new_secret();
    let (sealed, key_id) = seal_secret(&s.vault, &endpoint.id, &secret);
    let secrets = EndpointSecrets {
        sealed,
        key_id,
        previous: None,
    };
    s.store
        .insert_event_endpoint(&auth.org, &endpoint, &secrets)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedEventEndpoint {
            endpoint: endpoint.into(),
            secret,
        }),
    ))
}

/// The organisation's event endpoints, oldest first.
#[utoipa::path(get, path = "/api/organisations/v1/organisations/{organisation_id}/event-endpoints", operation_id = "ListEventEndpoints", tag = "events",
    params(("organisation_id" = String, Path)),
    responses((status = 200, body = EventEndpointList), (status = "default", body = ErrorBody)))]
async fn list_endpoints(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
) -> ApiResult<axum::Json<EventEndpointList>> {
    let endpoints = s.store.list_event_endpoints(&auth.org).await?;
    Ok(axum::Json(EventEndpointList {
        endpoints: endpoints.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/organisations/v1/organisations/{organisation_id}/event-endpoints/{endpoint_id}", operation_id = "GetEventEndpoint", tag = "events",
    params(("organisation_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 200, body = EventEndpointView), (status = "default", body = ErrorBody)))]
async fn get_endpoint(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<EventEndpointView>> {
    let e = s
        .store
        .get_event_endpoint(&auth.org, &id)
        .await?
        .or_not_found("event endpoint")?;
    Ok(axum::Json(e.into()))
}

/// Changes an endpoint: its URL, description, event types, or enabled state.
#[utoipa::path(patch, path = "/api/organisations/v1/organisations/{organisation_id}/event-endpoints/{endpoint_id}", operation_id = "UpdateEventEndpoint", tag = "events",
    params(("organisation_id" = String, Path), ("endpoint_id" = String, Path)), request_body = UpdateEventEndpoint,
    responses((status = 200, body = EventEndpointView), (status = "default", body = ErrorBody)))]
async fn update_endpoint(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
    body: JsonBody<UpdateEventEndpoint>,
) -> ApiResult<axum::Json<EventEndpointView>> {
    let mut e = s
        .store
        .get_event_endpoint(&auth.org, &id)
        .await?
        .or_not_found("event endpoint")?;
    let body = body.get()?;
    if let Some(url) = body.url {
        check_url(&s, &url)?;
        e.url = url;
    }
    if let Some(d) = body.description {
        check_description(&d)?;
        e.description = d;
    }
    if let Some(t) = body.event_types {
        check_types(&t)?;
        e.event_types = t;
    }
    match body.enabled {
        Some(true) if !e.enabled => {
            e.enabled = true;
            e.disabled_reason = None;
            e.failing_since = None;
        }
        Some(false) if e.enabled => {
            e.enabled = false;
            e.disabled_reason = Some("disabled by its owner".into());
        }
        _ => {}
    }
    e.updated_at = time::now();
    s.store
        .update_event_endpoint(&auth.org, &e)
        .await?
        .then_some(())
        .or_not_found("event endpoint")?;
    Ok(axum::Json(e.into()))
}

#[utoipa::path(delete, path = "/api/organisations/v1/organisations/{organisation_id}/event-endpoints/{endpoint_id}", operation_id = "DeleteEventEndpoint", tag = "events",
    params(("organisation_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_endpoint(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.store
        .delete_event_endpoint(&auth.org, &id)
        .await?
        .then_some(())
        .or_not_found("event endpoint")?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, shown once; the previous one keeps signing beside it for 24 hours
/// (deliveries carry both signatures meanwhile).
#[utoipa::path(post, path = "/api/organisations/v1/organisations/{organisation_id}/event-endpoints/{endpoint_id}/rotate-secret", operation_id = "RotateEventEndpointSecret", tag = "events",
    params(("organisation_id" = String, Path), ("endpoint_id" = String, Path)),
    responses((status = 200, body = RotatedSecret), (status = "default", body = ErrorBody)))]
async fn rotate_secret(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<RotatedSecret>> {
    let secret = new_secret();
    let (sealed, key_id) = seal_secret(&s.vault, &id, &secret);
    let at = time::now();
    let until: Timestamp = at + chrono::Duration::hours(ROTATION_OVERLAP_HOURS);
    s.store
        .rotate_event_endpoint_secret(&auth.org, &id, &sealed, &key_id, until, at)
        .await?
        .then_some(())
        .or_not_found("event endpoint")?;
    Ok(axum::Json(RotatedSecret {
        secret,
        previous_secret_expires_at: time::format(&until),
    }))
}
