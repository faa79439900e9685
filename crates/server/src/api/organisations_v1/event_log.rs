//! The event delivery log and replay: the organisation's events, every delivery attempt per
//! endpoint or per event (time, status, latency, the first bytes of the answer), and resending
//! one event or every failed one since a time.
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{JsonBody, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchyard_domain::events::{DeliveryAttempt, Event};
use switchyard_domain::time;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

const MAX_LIMIT: i64 = 500;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(endpoint_deliveries))
        .routes(routes!(event_deliveries))
        .routes(routes!(replay))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct LimitQuery {
    /// At most this many, newest first (1 to 500, default 100).
    pub limit: Option<i64>,
}

fn limit(q: &LimitQuery) -> Result<i64, ApiError> {
    match q.limit {
        None => Ok(100),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid_field(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// An event as it was sent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The body every delivery sends.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        Self {
            payload: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
            id: e.id,
            event_type: e.event_type,
            created_at: time::format(&e.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventView>,
}

/// One delivery attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    #[schema(value_type = String, format = DateTime)]
    pub attempted_at: String,
    /// The answer's status; absent when there was none (a timeout, a refused connection).
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    /// The first bytes of the answer.
    pub response: String,
    pub error: Option<String>,
    /// `succeeded`, `retrying` (another attempt is scheduled) or `failed`.
    pub outcome: String,
}

impl From<DeliveryAttempt> for DeliveryView {
    fn from(a: DeliveryAttempt) -> Self {
        Self {
            id: a.id,
            endpoint_id: a.endpoint_id,
            event_id: a.event_id,
            attempt: a.attempt,
            attempted_at: time::format(&a.attempted_at),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response: a.response_head,
            error: a.error,
            outcome: a.outcome,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

/// What to send again: one event, or every event whose delivery failed for good since a time.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayRequest {
    pub event_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failed_since: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReplayAnswer {
    /// How many events are sent again.
    pub replayed: i64,
}

/// The organisation's events (those at least one endpoint wanted), newest first.
#[utoipa::path(get, path = "/api/organisations/v1/organisations/{organisation_id}/events", operation_id = "ListEvents", tag = "events",
    params(("organisation_id" = String, Path), LimitQuery),
    responses((status = 200, body = EventList), (status = "default", body = ErrorBody)))]
async fn list_events(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
    Query(q): Query<LimitQuery>,
) -> ApiResult<axum::Json<EventList>> {
    let events = s.store.list_events(&auth.org, limit(&q)?).await?;
    Ok(axum::Json(EventList {
        events: events.into_iter().map(Into::into).collect(),
    }))
}

/// An endpoint's delivery attempts, newest first.
#[utoipa::path(get, path = "/api/organisations/v1/organisations/{organisation_id}/event-endpoints/{endpoint_id}/deliveries", operation_id = "ListEndpointDeliveries", tag = "events",
    params(("organisation_id" = String, Path), ("endpoint_id" = String, Path), LimitQuery),
    responses((status = 200, body = DeliveryList), (status = "default", body = ErrorBody)))]
async fn endpoint_deliveries(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
    Query(q): Query<LimitQuery>,
) -> ApiResult<axum::Json<DeliveryList>> {
    let n = limit(&q)?;
    s.store
        .get_event_endpoint(&auth.org, &id)
        .await?
        .or_not_found("event endpoint")?;
    let d = s
        .store
        .list_deliveries(&auth.org, Some(&id), None, n)
        .await?;
    Ok(axum::Json(DeliveryList {
        deliveries: d.into_iter().map(Into::into).collect(),
    }))
}

/// An event's delivery attempts (to every endpoint), newest first.
#[utoipa::path(get, path = "/api/organisations/v1/organisations/{organisation_id}/events/{event_id}/deliveries", operation_id = "ListEventDeliveries", tag = "events",
    params(("organisation_id" = String, Path), ("event_id" = String, Path), LimitQuery),
    responses((status = 200, body = DeliveryList), (status = "default", body = ErrorBody)))]
async fn event_deliveries(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
    Query(q): Query<LimitQuery>,
) -> ApiResult<axum::Json<DeliveryList>> {
    let n = limit(&q)?;
    let d = s
        .store
        .list_deliveries(&auth.org, None, Some(&id), n)
        .await?;
    Ok(axum::Json(DeliveryList {
        deliveries: d.into_iter().map(Into::into).collect(),
    }))
}

/// Sends events to the endpoint again, with their original `webhook-id`: one (`eventId`), or
/// every event whose delivery failed for good since `failedSince` and never succeeded.
#[utoipa::path(post, path = "/api/organisations/v1/organisations/{organisation_id}/event-endpoints/{endpoint_id}/replay", operation_id = "ReplayEvents", tag = "events",
    params(("organisation_id" = String, Path), ("endpoint_id" = String, Path)), request_body = ReplayRequest,
    responses((status = 202, body = ReplayAnswer), (status = "default", body = ErrorBody)))]
async fn replay(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
    body: JsonBody<ReplayRequest>,
) -> ApiResult<(StatusCode, axum::Json<ReplayAnswer>)> {
    s.store
        .get_event_endpoint(&auth.org, &id)
        .await?
        .or_not_found("event endpoint")?;
    let body = body.get()?;
    let replayed = match (body.event_id, body.failed_since) {
        (Some(event), None) => {
            s.store
                .replay_event(&auth.org, &id, &event)
                .await?
                .then_some(())
                .or_not_found("event")?;
            1
        }
        (None, Some(since)) => {
            let since = chrono::DateTime::parse_from_rfc3339(&since)
                .map_err(|_| ApiError::invalid_field("failedSince", "must be an RFC 3339 time"))?
                .with_timezone(&chrono::Utc);
            s.store.replay_failed_events(&auth.org, &id, since).await?
        }
        _ => {
            return Err(ApiError::invalid_field(
                "eventId",
                "give either eventId or failedSince",
            ))
        }
    };
    Ok((StatusCode::ACCEPTED, axum::Json(ReplayAnswer { replayed })))
}
