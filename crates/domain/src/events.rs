//! Event webhooks: what happened to an organisation's integrations, sent to the endpoints it
//! registered, signed by the Standard Webhooks convention.
use crate::time::Timestamp;
use serde_json::Value;

/// Every event type, as its wire name.
pub const EVENT_TYPES: &[&str] = &[
    "activation.created",
    "activation.updated",
    "activation.deleted",
    "connection.created",
    "connection.updated",
    "connection.deleted",
    "credential.refreshed",
    "credential.refresh_failed",
    "credential.expired",
    "end_user.created",
    "end_user.deleted",
];

/// The job kind that delivers one event to one endpoint.
pub const DELIVER_JOB: &str = "event.deliver";

/// An event endpoint as its owner sees it (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct EventEndpoint {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    pub description: String,
    /// The event types it wants; empty: all.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it is disabled (`disabled by its owner`, `the endpoint answered 410 Gone`, ...).
    pub disabled_reason: Option<String>,
    /// Since when every delivery failed (none since the last success).
    pub failing_since: Option<Timestamp>,
    /// Until when the previous secret still signs, after a rotation.
    pub previous_secret_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl EventEndpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type)
    }
}

/// An endpoint's signing secrets, sealed by the vault: the current one, and the previous one
/// until `previous_until` after a rotation.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSecrets {
    pub sealed: String,
    pub key_id: String,
    pub previous: Option<(String, String, Timestamp)>,
}

/// An event to emit, in the transaction of the change that causes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_type: &'static str,
    /// What a host needs to act on it (never a secret).
    pub data: Value,
}

impl NewEvent {
    pub fn new(event_type: &'static str, data: Value) -> Self {
        debug_assert!(EVENT_TYPES.contains(&event_type));
        Self { event_type, data }
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub organisation_id: String,
    pub event_type: String,
    /// The body every delivery sends.
    pub payload: String,
    pub created_at: Timestamp,
}

/// The body of an event: `{"type", "timestamp", "data"}` (Standard Webhooks), the data carrying
/// the organisation.
pub fn payload(id: &str, org: &str, event: &NewEvent, at: &Timestamp) -> String {
    let mut data = match &event.data {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    data.insert("organisationId".into(), Value::String(org.to_owned()));
    serde_json::json!({
        "id": id,
        "type": event.event_type,
        "timestamp": crate::time::format(at),
        "data": Value::Object(data),
    })
    .to_string()
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Failed; another attempt is scheduled.
    Retrying,
    /// Failed for good (attempts used, the endpoint disabled or gone).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Retrying => "retrying",
            Outcome::Failed => "failed",
        }
    }
}

/// One delivery attempt, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttempt {
    pub id: String,
    pub organisation_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub attempt: i32,
    pub attempted_at: Timestamp,
    /// None: no answer (a timeout, a refused connection).
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    /// The first bytes of the answer.
    pub response_head: String,
    pub error: Option<String>,
    pub outcome: String,
}

/// Which API generation a resource belongs to, in an event's data.
pub const API_V1: &str = "v1";
pub const API_V2: &str = "v2";

/// `connection.created` / `connection.updated`: the connection, its connector and its owner.
pub fn connection_event(event_type: &'static str, c: &crate::model::Connection) -> NewEvent {
    let (api, end_user) = match (&c.end_user_id, &c.platform_end_user_id) {
        (_, Some(u)) => (API_V2, Some(u)),
        (Some(u), None) => (API_V1, Some(u)),
        (None, None) => (API_V1, None),
    };
    NewEvent::new(
        event_type,
        serde_json::json!({
            "api": api,
            "connectionId": c.id,
            "connectorId": c.connector_id,
            "name": c.name,
            "endUserId": end_user,
            "credentialIds": c.credentials.iter().map(|cc| &cc.credential.id).collect::<Vec<_>>(),
        }),
    )
}

/// `connection.deleted`.
pub fn connection_deleted(id: &str) -> NewEvent {
    NewEvent::new(
        "connection.deleted",
        serde_json::json!({ "connectionId": id }),
    )
}

/// `end_user.created` of an Embedded v1 end user (of a hub).
pub fn end_user_created_v1(u: &crate::model::EndUser) -> NewEvent {
    NewEvent::new(
        "end_user.created",
        serde_json::json!({
            "api": API_V1, "endUserId": u.id, "hubId": u.hub_id, "externalId": u.external_id,
            "displayName": u.display_name,
        }),
    )
}

/// `end_user.created` of a Platform v2 end user.
pub fn end_user_created_v2(u: &crate::platform::PlatformEndUser) -> NewEvent {
    NewEvent::new(
        "end_user.created",
        serde_json::json!({
            "api": API_V2, "endUserId": u.id, "externalId": u.external_id,
            "displayName": u.display_name,
        }),
    )
}

/// `end_user.deleted`.
pub fn end_user_deleted(api: &str, id: &str) -> NewEvent {
    NewEvent::new(
        "end_user.deleted",
        serde_json::json!({ "api": api, "endUserId": id }),
    )
}

fn bindings(b: &[(String, String)]) -> serde_json::Value {
    b.iter()
        .map(|(t, c)| serde_json::json!({"templateId": t, "connectionId": c}))
        .collect()
}

/// `activation.created` / `activation.updated` of an Embedded v1 activation (its bindings as
/// given: an update that changes variables only names none).
pub fn activation_v1(event_type: &'static str, a: &crate::model::Activation) -> NewEvent {
    NewEvent::new(
        event_type,
        serde_json::json!({
            "api": API_V1, "activationId": a.id, "hubId": a.hub_id,
            "integrationId": a.integration_id, "endUserId": a.end_user_id,
            "connections": bindings(&a.bindings),
        }),
    )
}

/// `activation.created` / `activation.updated` of a Platform v2 activation.
pub fn activation_v2(
    event_type: &'static str,
    a: &crate::platform::PlatformActivation,
) -> NewEvent {
    NewEvent::new(
        event_type,
        serde_json::json!({
            "api": API_V2, "activationId": a.id, "environmentId": a.environment_id,
            "endUserId": a.end_user.id, "externalId": a.end_user.external_id,
            "connections": bindings(&a.bindings),
        }),
    )
}

/// `activation.updated` where only the id (and what changed) is at hand.
pub fn activation_changed(api: &str, id: &str, changed: &str) -> NewEvent {
    NewEvent::new(
        "activation.updated",
        serde_json::json!({ "api": api, "activationId": id, "changed": [changed] }),
    )
}

/// `activation.deleted`.
pub fn activation_deleted(api: &str, id: &str) -> NewEvent {
    NewEvent::new(
        "activation.deleted",
        serde_json::json!({ "api": api, "activationId": id }),
    )
}

/// `credential.refreshed`, `credential.refresh_failed` or `credential.expired`: the credential
/// and the connections it serves (never its data).
pub fn credential_event(
    event_type: &'static str,
    credential_id: &str,
    connection_ids: &[String],
    reason: Option<&str>,
) -> NewEvent {
    let mut data = serde_json::json!({
        "credentialId": credential_id, "connectionIds": connection_ids,
    });
    if let Some(r) = reason {
        data["reason"] = serde_json::Value::String(r.to_owned());
    }
    NewEvent::new(event_type, data)
}
