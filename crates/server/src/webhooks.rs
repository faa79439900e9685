//! Event webhooks, the delivery side: the job that sends one event to one endpoint, signed by
//! the Standard Webhooks convention (`webhook-id`, `webhook-timestamp`, `webhook-signature`:
//! `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` keyed by the `whsec_` secret; two
//! signatures while a rotated-out secret still signs), through the egress guard.
//!
//! A 2xx within the timeout (15 s) is a success. Anything else is retried by the schedule (5 s,
//! 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each with jitter; a longer `Retry-After` wins); 410
//! Gone disables the endpoint at once, and an endpoint failing for five days is disabled. Every
//! attempt is logged with its status, latency and the first bytes of the answer.
use crate::egress::{self, Egress};
use crate::jobs::{jitter, JobHandler, JobResult};
use base64::Engine;
use hmac::{Hmac, Mac};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_domain::events::{DeliveryAttempt, Outcome};
use switchyard_domain::new_id;
use switchyard_domain::time::now;
use switchyard_store::events::{DeliveryContext, EndpointEffect};
use switchyard_store::jobs::Job;
use switchyard_store::DynStore;
use switchyard_vault::KeyRing;
use zeroize::Zeroizing;

/// How many bytes of an answer the log keeps.
const RESPONSE_HEAD: usize = 256;

/// Delivery settings.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// The delay before each retry (the first retry waits `retry_schedule[0]`); when it is used
    /// up, the delivery fails for good.
    pub retry_schedule: Vec<Duration>,
    /// An answer must come within this.
    pub timeout: Duration,
    /// An endpoint whose deliveries have all failed for this long is disabled.
    pub disable_after: chrono::Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        let m = |n: u64| Duration::from_secs(60 * n);
        Self {
            retry_schedule: vec![
                Duration::from_secs(5),
                m(5),
                m(30),
                m(120),
                m(300),
                m(600),
                m(600),
            ],
            timeout: Duration::from_secs(15),
            disable_after: chrono::Duration::days(5),
        }
    }
}

/// Parses `5000,300000,...` (milliseconds) into a retry schedule.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    text.split(',')
        .map(|s| {
            s.trim()
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| format!("{s:?} is not a number of milliseconds"))
        })
        .collect()
}

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, bytes.as_mut());
    Zeroizing::new(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes.as_ref())
    ))
}

/// The vault's binding of an endpoint's sealed secret (so it cannot be moved to another row).
pub fn secret_aad(endpoint_id: &str) -> String {
    format!("event_endpoint:{endpoint_id}")
}

/// `v1,<base64 HMAC-SHA256 of id.timestamp.body>` with a `whsec_` secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `event.deliver` job.
pub struct Deliverer {
    pub store: DynStore,
    pub vault: Arc<KeyRing>,
    pub egress: Egress,
    pub settings: DeliverySettings,
}

/// What one attempt got.
struct Answer {
    status: Option<u16>,
    head: String,
    error: Option<String>,
    retry_after: Option<Duration>,
}

impl Deliverer {
    /// The signatures for this delivery: the current secret's, and the previous one's while it
    /// still signs.
    fn signatures(&self, ctx: &DeliveryContext, timestamp: i64) -> Result<String, String> {
        let aad = secret_aad(&ctx.endpoint.id);
        let mut sealed = vec![ctx.secrets.sealed.as_str()];
        if let Some((prev, _, until)) = &ctx.secrets.previous {
            if *until > now() {
                sealed.push(prev.as_str());
            }
        }
        let mut out = Vec::new();
        for s in sealed {
            let secret = self
                .vault
                .open(s, &aad)
                .map_err(|_| "the endpoint's secret cannot be opened".to_owned())?;
            let secret = std::str::from_utf8(&secret).map_err(|_| "bad secret".to_owned())?;
            out.push(
                sign(secret, &ctx.event.id, timestamp, &ctx.event.payload)
                    .ok_or_else(|| "bad secret".to_owned())?,
            );
        }
        Ok(out.join(" "))
    }

    async fn send(&self, ctx: &DeliveryContext, signatures: &str, timestamp: i64) -> Answer {
        let request = match self.egress.post(&ctx.endpoint.url) {
            Ok(r) => r,
            Err(e) => return Answer::failed(e.to_string()),
        };
        let request = request
            .timeout(self.settings.timeout)
            .header("content-type", "application/json")
            .header("webhook-id", &ctx.event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures)
            .body(ctx.event.payload.clone());
        let res = match egress::send(request).await {
            Ok(r) => r,
            Err(e) => return Answer::failed(e.to_string()),
        };
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        // The first bytes of the answer only; a longer answer is cut, not an error.
        let head = read_head(res).await;
        Answer {
            status: Some(status),
            head,
            error: None,
            retry_after,
        }
    }
}

impl Answer {
    fn failed(error: String) -> Self {
        Answer {
            status: None,
            head: String::new(),
            error: Some(error),
            retry_after: None,
        }
    }
}

async fn read_head(mut res: reqwest::Response) -> String {
    let mut buf = Vec::new();
    while buf.len() < RESPONSE_HEAD {
        match res.chunk().await {
            Ok(Some(c)) => buf.extend_from_slice(&c),
            Ok(None) => break,
            Err(_) => break,
        }
    }
    buf.truncate(RESPONSE_HEAD);
    String::from_utf8_lossy(&buf).into_owned()
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliverPayload {
    event_id: String,
    endpoint_id: String,
}

#[async_trait::async_trait]
impl JobHandler for Deliverer {
    async fn run(&self, job: &Job) -> JobResult {
        let Ok(p) = serde_json::from_str::<DeliverPayload>(&job.payload) else {
            return JobResult::Fail("unreadable payload".into());
        };
        let ctx = match self
            .store
            .delivery_context(&p.endpoint_id, &p.event_id)
            .await
        {
            Ok(Some(ctx)) => ctx,
            // The endpoint or the event is gone: nothing to deliver.
            Ok(None) => return JobResult::Done,
            Err(e) => {
                return JobResult::Retry {
                    after: None,
                    error: format!("store: {e}"),
                }
            }
        };
        let attempt = |outcome: Outcome, a: &Answer, latency: Duration| DeliveryAttempt {
            id: new_id(),
            organisation_id: ctx.org.to_string(),
            endpoint_id: ctx.endpoint.id.clone(),
            event_id: ctx.event.id.clone(),
            attempt: job.attempts,
            attempted_at: now(),
            status_code: a.status.map(i32::from),
            latency_ms: latency.as_millis() as i64,
            response_head: a.head.clone(),
            error: a.error.clone(),
            outcome: outcome.as_str().to_owned(),
        };
        if !ctx.endpoint.enabled {
            // Logged as failed without a call, so that a replay after re-enabling finds it.
            let a = Answer::failed("the endpoint is disabled: not sent".into());
            let _ = self
                .store
                .record_delivery(
                    &attempt(Outcome::Failed, &a, Duration::ZERO),
                    &EndpointEffect::Unchanged,
                )
                .await;
            return JobResult::Done;
        }
        let timestamp = chrono::Utc::now().timestamp();
        let signatures = match self.signatures(&ctx, timestamp) {
            Ok(s) => s,
            Err(e) => return JobResult::Fail(e),
        };
        let started = Instant::now();
        let answer = self.send(&ctx, &signatures, timestamp).await;
        let latency = started.elapsed();
        let at = now();
        let succeeded = answer.status.is_some_and(|s| (200..300).contains(&s));
        let gone = answer.status == Some(410);
        let next = self
            .settings
            .retry_schedule
            .get((job.attempts.max(1) - 1) as usize)
            .copied();
        let (outcome, effect, result) = if succeeded {
            (
                Outcome::Succeeded,
                EndpointEffect::Succeeded,
                JobResult::Done,
            )
        } else if gone {
            (
                Outcome::Failed,
                EndpointEffect::Disable {
                    reason: "the endpoint answered 410 Gone".into(),
                    at,
                },
                JobResult::Done,
            )
        } else {
            let why = match (answer.status, &answer.error) {
                (Some(s), _) => format!("answered {s}"),
                (None, Some(e)) => e.clone(),
                (None, None) => "no answer".into(),
            };
            let effect = EndpointEffect::Failed {
                at,
                disable_if_failing_since: at - self.settings.disable_after,
                reason: format!(
                    "every delivery failed for {} days (the last: {why})",
                    self.settings.disable_after.num_days()
                ),
            };
            match next {
                Some(delay) if job.attempts < job.max_attempts => {
                    let delay = jitter(delay).max(answer.retry_after.unwrap_or_default());
                    (
                        Outcome::Retrying,
                        effect,
                        JobResult::Retry {
                            after: Some(delay),
                            error: why,
                        },
                    )
                }
                _ => (Outcome::Failed, effect, JobResult::Fail(why)),
            }
        };
        metrics::counter!("switchyard_event_deliveries_total", "outcome" => outcome.as_str())
            .increment(1);
        metrics::histogram!("switchyard_event_delivery_seconds").record(latency.as_secs_f64());
        if let Err(e) = self
            .store
            .record_delivery(&attempt(outcome, &answer, latency), &effect)
            .await
        {
            tracing::warn!(error = %e, "could not log a delivery attempt");
        }
        result
    }
}

/// The body of every event delivery (`webhooks` in the OpenAPI document).
#[allow(dead_code)]
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": "evt_01J...", "type": "activation.created", "timestamp": "2026-01-01T00:00:00.000000Z", "data": {"organisationId": "01J...", "api": "v2", "activationId": "01J...", "endUserId": "01J...", "environmentId": "01J...", "connections": [{"templateId": "01J...", "connectionId": "01J..."}]}}))]
pub struct EventPayload {
    /// The event's id, also its `webhook-id` header: the same on every attempt and replay.
    id: String,
    /// `activation.created`, `activation.updated`, `activation.deleted`, `connection.created`,
    /// `connection.updated`, `connection.deleted`, `credential.refreshed`,
    /// `credential.refresh_failed`, `credential.expired`, `end_user.created`, `end_user.deleted`.
    #[serde(rename = "type")]
    event_type: String,
    /// When the change happened (RFC 3339).
    timestamp: String,
    /// Always `organisationId`; then, by type: activations `api` (`v1` or `v2`),
    /// `activationId`, `endUserId`, v1 `hubId` and `integrationId`, v2 `environmentId` and
    /// `externalId`, `connections` (`templateId`, `connectionId`) or, for an update,
    /// `changed` (`variables` or `connections`); connections `connectionId`, `connectorId`,
    /// `name`, `endUserId`, `credentialIds`, `api`; credentials `credentialId`,
    /// `connectionIds`, `reason` (failures and expiry); end users `api`, `endUserId`,
    /// `externalId`, `displayName`, v1 `hubId`. Never a secret.
    #[schema(value_type = Object)]
    data: serde_json::Value,
}

/// Adds the `webhooks` section (OpenAPI 3.1): one POST per event type, with the Standard
/// Webhooks headers and the [`EventPayload`] body.
pub fn document(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::PartialSchema;
    let header = |name: &str, description: &str| serde_json::json!({"name": name, "in": "header", "required": true, "description": description, "schema": {"type": "string"}});
    let mut hooks = serde_json::Map::new();
    for t in switchyard_domain::events::EVENT_TYPES {
        hooks.insert(
            (*t).to_owned(),
            serde_json::json!({"post": {
                "operationId": format!("event-{}", t.replace(['.', '_'], "-")),
                "summary": format!("The `{t}` event, POSTed to every enabled endpoint that wants it"),
                "tags": ["events"],
                "parameters": [
                    header("webhook-id", "The event's id: the same on every attempt"),
                    header("webhook-timestamp", "Unix seconds when this attempt was signed"),
                    header("webhook-signature", "`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` keyed by the endpoint's `whsec_` secret; two, space-separated, while a rotated-out secret still signs"),
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventPayload"}}}},
                "responses": {
                    "200": {"description": "Received (any 2xx within 15 s). Anything else is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, a longer Retry-After honoured"},
                    "410": {"description": "Gone: the endpoint is disabled and gets nothing more"}
                }
            }}),
        );
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("EventPayload".to_owned(), EventPayload::schema());
    doc.extensions
        .get_or_insert_with(Default::default)
        .insert("webhooks".to_owned(), serde_json::Value::Object(hooks));
}
