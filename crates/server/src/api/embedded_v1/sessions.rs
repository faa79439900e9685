//! Hub page sessions: the host application's backend asks for one with its API key
//! (`POST /hubs/{hub}/users/{user}/sessions`); the page asks what its token is
//! (`GET /session`).
use crate::api::v1_wire::ConnectionCreate;
use crate::auth::{HubAuth, OrgAuth, SESSION_TOKEN_PREFIX as TOKEN_PREFIX};
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{JsonBody, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use switchyard_domain::connection::Requester;
use switchyard_domain::model::{HubSession, IdentifierType};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::FieldError;
use utoipa::{IntoParams, ToSchema};

use super::wire::TemplateOut;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(current_session))
}

const DEFAULT_TTL: u32 = 1800;

const MAX_TTL: u32 = 86_400;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreate {
    /// The only integrations the page may show and activate; all of the hub's when omitted.
    #[serde(default)]
    pub allowed_integrations: Option<Vec<String>>,
    /// Lifetime in seconds: default 1800, at most 86400.
    #[serde(default)]
    pub ttl_seconds: Option<u32>,
    /// The end user's primary connection (to the hub's primary connector), used only when the user
    /// does not exist yet: the user is then created with it, before the session is answered, so the
    /// page acts for an end user that Versori's `EndUser` schema describes. Without it, the user's
    /// first activation must carry or bind the primary connection (see `ActivationCreate`).
    #[serde(default)]
    pub primary_connection: Option<ConnectionCreate>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = HubSession)]
pub struct SessionOut {
    /// The bearer token the hub page uses. Shown once; only its hash is kept.
    pub token: String,
    /// The hub page, with the organisation in its query (`?o=`, which picks the organisation's
    /// framing policy) and the token, hub and user in its fragment (never sent to servers).
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionParams {
    /// How `user_id` is read: `external` (default) or `internal`.
    pub identifier_type: Option<IdentifierType>,
}

/// Creates a hub page session for an end user, who need not exist yet. With `primaryConnection`, a
/// user who does not exist is created with it now; without it, their first activation creates them
/// and must carry or bind their primary connection (`ActivationCreate.primaryConnection`).
#[utoipa::path(post, path = "/api/embedded/v1/hubs/{hub_id}/users/{user_id}/sessions", operation_id = "CreateHubSession", tag = "sessions",
    params(("hub_id" = String, Path), ("user_id" = String, Path), SessionParams), request_body(content = SessionCreate, description = "Optional"),
    responses((status = 201, body = SessionOut), (status = "default", body = ErrorBody)))]
async fn create_session(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<SessionParams>,
    body: JsonBody<SessionCreate>,
) -> ApiResult<(StatusCode, axum::Json<SessionOut>)> {
    let org = auth.org;
    let hub = s
        .store
        .get_hub(&org, &hub_id)
        .await?
        .filter(|h| h.deleted_at.is_none())
        .or_not_found("hub")?;
    let body = body.get_or_default()?;
    let kind = q.identifier_type.unwrap_or_default();
    let existing = s.store.get_end_user(&org, &hub.id, &user_id, kind).await?;
    let external_id = match (kind, &existing) {
        (_, Some(u)) => u.external_id.clone(),
        (IdentifierType::External, None) => user_id,
        (IdentifierType::Internal, None) => return Err(ApiError::not_found("end user")),
    };
    if external_id.trim().is_empty() {
        return Err(ApiError::invalid_field("user_id", "must not be empty"));
    }
    let ttl = body.ttl_seconds.unwrap_or(DEFAULT_TTL);
    if !(1..=MAX_TTL).contains(&ttl) {
        return Err(ApiError::invalid_field(
            "ttlSeconds",
            format!("must be between 1 and {MAX_TTL}"),
        ));
    }
    if let Some(ids) = &body.allowed_integrations {
        let mut fields = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            if s.store
                .get_integration(&org, id)
                .await?
                .is_none_or(|x| x.hub_id != hub.id)
            {
                fields.push(FieldError::new(
                    format!("allowedIntegrations[{i}]"),
                    format!("integration {id} is not in this hub"),
                ));
            }
        }
        if !fields.is_empty() {
            return Err(ApiError::invalid_fields(
                "allowedIntegrations names integrations this hub does not have",
                fields,
            ));
        }
    }
    if let (None, Some(create)) = (&existing, body.primary_connection) {
        super::primary::create_user(
            &s,
            &org,
            &hub,
            external_id.clone(),
            String::new(),
            create,
            Requester::Organisation,
        )
        .await?;
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let now = time::now();
    let session = HubSession {
        token_hash: crate::auth::hash_key(&token),
        organisation_id: org.to_string(),
        hub_id: hub.id.clone(),
        external_user_id: external_id.clone(),
        allowed_integrations: body.allowed_integrations,
        created_at: now,
        expires_at: now + chrono::Duration::seconds(i64::from(ttl)),
    };
    s.store.insert_hub_session(&org, &session).await?;
    let fragment: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", &token)
        .append_pair("hub", &hub.id)
        .append_pair("user", &external_id)
        .finish();
    let o: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("o", &org)
        .finish();
    let url = format!("{}/hub/?{o}#{fragment}", s.public_url.trim_end_matches('/'));
    Ok((
        StatusCode::CREATED,
        axum::Json(SessionOut {
            token,
            url,
            expires_at: session.expires_at,
        }),
    ))
}

/// Who the hub page's token acts as: what the page checks its URL against.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = HubSessionInfo)]
pub struct SessionInfo {
    pub organisation_id: String,
    /// The session's hub (absent for an API key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub_id: Option<String>,
    /// The session's end user, by external id (absent for an API key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Whether the session's end user exists yet (absent for an API key). Until it does, the page
    /// asks for nothing about the user (it has no connections or activations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_user_exists: Option<bool>,
    /// For a session whose end user does not exist yet: the hub's primary connector as a connection
    /// template (id `primary`), whose connection the first activation must carry as
    /// `primaryConnection` when the integration has no primary template of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_connection_template: Option<TemplateOut>,
}

/// The organisation (and, for a hub session, the hub and end user) the caller's token acts for:
/// the hub page checks that its URL's `o` names this organisation before it runs.
#[utoipa::path(get, path = "/api/embedded/v1/session", operation_id = "GetHubSession", tag = "sessions",
    responses((status = 200, body = SessionInfo), (status = "default", body = ErrorBody)))]
async fn current_session(
    State(s): State<AppState>,
    auth: HubAuth,
) -> ApiResult<axum::Json<SessionInfo>> {
    Ok(axum::Json(match auth {
        HubAuth::Org(o) => SessionInfo {
            organisation_id: o.org.to_string(),
            hub_id: None,
            user_id: None,
            expires_at: None,
            end_user_exists: None,
            primary_connection_template: None,
        },
        HubAuth::Session(org, session) => {
            let exists = s
                .store
                .get_end_user(
                    &org,
                    &session.hub_id,
                    &session.external_user_id,
                    IdentifierType::External,
                )
                .await?
                .is_some();
            let template = match exists {
                true => None,
                false => {
                    let hub = super::hub_of(&s, &org, &session.hub_id).await?;
                    Some(super::primary::template(&s, &org, &hub).await?)
                }
            };
            SessionInfo {
                organisation_id: org.to_string(),
                hub_id: Some(session.hub_id),
                user_id: Some(session.external_user_id),
                expires_at: Some(session.expires_at),
                end_user_exists: Some(exists),
                primary_connection_template: template,
            }
        }
    }))
}
