//! Event webhooks: an organisation's event endpoints, the events emitted for them (in the
//! transaction of the change that causes them, with one delivery job per endpoint that wants
//! each), and the delivery log.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::events::{DeliveryAttempt, EndpointSecrets, Event, EventEndpoint, NewEvent};
use switchyard_domain::time::Timestamp;

/// What the delivery worker needs for one job: the event, its endpoint and the endpoint's secrets.
#[derive(Debug, Clone)]
pub struct DeliveryContext {
    pub org: OrgId,
    pub endpoint: EventEndpoint,
    pub secrets: EndpointSecrets,
    pub event: Event,
}

/// What a delivery attempt does to its endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointEffect {
    /// Nothing (the attempt was not made: the endpoint is disabled).
    Unchanged,
    /// A success: the endpoint is no longer failing.
    Succeeded,
    /// A failure at `at`: the endpoint is failing since then (or since earlier), and is disabled,
    /// with `reason`, once it has been failing since `disable_if_failing_since` or before.
    Failed {
        at: Timestamp,
        disable_if_failing_since: Timestamp,
        reason: String,
    },
    /// The endpoint is disabled at once (it answered 410 Gone).
    Disable { reason: String, at: Timestamp },
}

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    async fn insert_event_endpoint(
        &self,
        org: &OrgId,
        endpoint: &EventEndpoint,
        secrets: &EndpointSecrets,
    ) -> Result<()>;
    /// The organisation's endpoints, oldest first.
    async fn list_event_endpoints(&self, org: &OrgId) -> Result<Vec<EventEndpoint>>;
    async fn get_event_endpoint(&self, org: &OrgId, id: &str) -> Result<Option<EventEndpoint>>;
    /// Writes the URL, description, event types, enabled flag and disabled reason (and clears
    /// `failing_since` when it is cleared in `endpoint`). False when there is no such endpoint.
    async fn update_event_endpoint(&self, org: &OrgId, endpoint: &EventEndpoint) -> Result<bool>;
    async fn delete_event_endpoint(&self, org: &OrgId, id: &str) -> Result<bool>;
    /// A new secret; the current one becomes the previous one, signing beside the new one until
    /// `previous_until`. False when there is no such endpoint.
    async fn rotate_event_endpoint_secret(
        &self,
        org: &OrgId,
        id: &str,
        sealed: &str,
        key_id: &str,
        previous_until: Timestamp,
        at: Timestamp,
    ) -> Result<bool>;
    /// Emits events in a transaction of their own (for changes no other store method writes,
    /// such as a credential's refresh): each is stored, with a delivery job per enabled endpoint
    /// that wants it, when at least one does. The number of delivery jobs.
    async fn emit_events(&self, org: &OrgId, events: &[NewEvent]) -> Result<usize>;
    /// The delivery worker's read: the event, the endpoint and its secrets (None when either is gone).
    async fn delivery_context(
        &self,
        endpoint_id: &str,
        event_id: &str,
    ) -> Result<Option<DeliveryContext>>;
    /// Logs an attempt and applies its effect on the endpoint, in one transaction.
    async fn record_delivery(
        &self,
        attempt: &DeliveryAttempt,
        effect: &EndpointEffect,
    ) -> Result<()>;
    /// Delivery attempts, newest first, of one endpoint and/or one event.
    async fn list_deliveries(
        &self,
        org: &OrgId,
        endpoint_id: Option<&str>,
        event_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeliveryAttempt>>;
    /// Key rotation: up to `limit` endpoint secrets sealed by a key other than `active_key_id`,
    /// as (endpoint id, whether it is the previous secret, sealed secret), across organisations.
    async fn endpoint_secrets_to_reseal(
        &self,
        active_key_id: &str,
        limit: i64,
    ) -> Result<Vec<(String, bool, String)>>;
    /// Replaces an endpoint's (current or previous) sealed secret if it is still `old_sealed`.
    async fn reseal_endpoint_secret(
        &self,
        endpoint_id: &str,
        previous: bool,
        old_sealed: &str,
        new_sealed: &str,
        key_id: &str,
    ) -> Result<bool>;
    /// The organisation's events, newest first.
    async fn list_events(&self, org: &OrgId, limit: i64) -> Result<Vec<Event>>;
    /// Sends an event to an endpoint again (same event id). False when either does not exist.
    async fn replay_event(&self, org: &OrgId, endpoint_id: &str, event_id: &str) -> Result<bool>;
    /// Sends again every event whose delivery to the endpoint failed for good since `since` and
    /// never succeeded. The number of events.
    async fn replay_failed_events(
        &self,
        org: &OrgId,
        endpoint_id: &str,
        since: Timestamp,
    ) -> Result<i64>;
}
