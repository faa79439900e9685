//! [`crate::EventStore`]: event endpoints, events emitted in the transaction of their change (with
//! their delivery jobs: the outbox), and the delivery log.
use super::jobs::enqueue_tx;
use super::query::{get, DbRow};
use super::{Backend, Db};
use crate::error::{db_err, Result, StoreError};
use crate::events::{DeliveryContext, EndpointEffect, EventStore};
use crate::jobs::{now_millis, NewJob};
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::events::{
    payload, DeliveryAttempt, EndpointSecrets, Event, EventEndpoint, NewEvent, DELIVER_JOB,
};
use switchyard_domain::new_id;
use switchyard_domain::time::{now, Timestamp};

const ENDPOINT_COLS: &str = "id, organisation_id, url, description, event_types, enabled, \
    disabled_reason, failing_since, previous_until, created_at, updated_at";

/// Delivery jobs have this many attempts: the first and seven retries.
pub(super) const DELIVERY_ATTEMPTS: i32 = 8;

fn endpoint(row: &DbRow) -> Result<EventEndpoint> {
    let types: String = get(row, "event_types")?;
    Ok(EventEndpoint {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        url: get(row, "url")?,
        description: get(row, "description")?,
        event_types: serde_json::from_str(&types)
            .map_err(|e| StoreError::unreadable(format!("stored event_types: {e}")))?,
        enabled: get(row, "enabled")?,
        disabled_reason: get(row, "disabled_reason")?,
        failing_since: get(row, "failing_since")?,
        previous_secret_until: get(row, "previous_until")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

fn event(row: &DbRow) -> Result<Event> {
    Ok(Event {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        event_type: get(row, "event_type")?,
        payload: get(row, "payload")?,
        created_at: get(row, "created_at")?,
    })
}

fn attempt(row: &DbRow) -> Result<DeliveryAttempt> {
    Ok(DeliveryAttempt {
        id: get(row, "id")?,
        organisation_id: get(row, "organisation_id")?,
        endpoint_id: get(row, "endpoint_id")?,
        event_id: get(row, "event_id")?,
        attempt: get(row, "attempt")?,
        attempted_at: get(row, "attempted_at")?,
        status_code: get(row, "status_code")?,
        latency_ms: get(row, "latency_ms")?,
        response_head: get(row, "response_head")?,
        error: get(row, "error")?,
        outcome: get(row, "outcome")?,
    })
}

fn deliver_job(event_id: &str, endpoint_id: &str) -> NewJob {
    NewJob {
        id: new_id(),
        kind: DELIVER_JOB.to_owned(),
        dedup_key: None,
        payload: serde_json::json!({"eventId": event_id, "endpointId": endpoint_id}).to_string(),
        max_attempts: DELIVERY_ATTEMPTS,
        run_at: now_millis(),
    }
}

/// Emits `events` in the caller's transaction: each is stored, with a delivery job per enabled
/// endpoint of the organisation that wants it, when at least one does (an event no endpoint
/// wants is not kept). A rolled-back change sends nothing. The number of delivery jobs.
pub(super) async fn emit_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    events: &[NewEvent],
) -> Result<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let rows = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLS} FROM event_endpoints WHERE organisation_id = $1 AND enabled = $2"
    ))
    .bind(org.to_owned())
    .bind(true)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_err)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let endpoints = rows.iter().map(endpoint).collect::<Result<Vec<_>>>()?;
    let at = now();
    let mut jobs = 0;
    for e in events {
        let wanting: Vec<&EventEndpoint> = endpoints
            .iter()
            .filter(|ep| ep.wants(e.event_type))
            .collect();
        if wanting.is_empty() {
            continue;
        }
        let id = format!("evt_{}", new_id());
        sqlx::query(
            "INSERT INTO events (id, organisation_id, event_type, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(org.to_owned())
        .bind(e.event_type)
        .bind(payload(&id, org, e, &at))
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        for ep in wanting {
            enqueue_tx(tx, &deliver_job(&id, &ep.id)).await?;
            jobs += 1;
        }
    }
    Ok(jobs)
}

#[async_trait]
impl EventStore for Backend {
    async fn insert_event_endpoint(
        &self,
        org: &OrgId,
        ep: &EventEndpoint,
        secrets: &EndpointSecrets,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO event_endpoints (id, organisation_id, url, description, event_types, \
             enabled, disabled_reason, sealed_secret, key_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&ep.id)
        .bind(org)
        .bind(&ep.url)
        .bind(&ep.description)
        .bind(serde_json::to_string(&ep.event_types).expect("strings serialise"))
        .bind(ep.enabled)
        .bind(&ep.disabled_reason)
        .bind(&secrets.sealed)
        .bind(&secrets.key_id)
        .bind(ep.created_at)
        .bind(ep.updated_at)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn list_event_endpoints(&self, org: &OrgId) -> Result<Vec<EventEndpoint>> {
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLS} FROM event_endpoints WHERE organisation_id = $1 ORDER BY id"
        ))
        .bind(org)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter().map(endpoint).collect()
    }

    async fn get_event_endpoint(&self, org: &OrgId, id: &str) -> Result<Option<EventEndpoint>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLS} FROM event_endpoints WHERE organisation_id = $1 AND id = $2"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(self.reads())
        .await
        .map_err(db_err)?;
        row.as_ref().map(endpoint).transpose()
    }

    async fn update_event_endpoint(&self, org: &OrgId, ep: &EventEndpoint) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE event_endpoints SET url = $3, description = $4, event_types = $5, \
             enabled = $6, disabled_reason = $7, failing_since = $8, updated_at = $9 \
             WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(&ep.id)
        .bind(&ep.url)
        .bind(&ep.description)
        .bind(serde_json::to_string(&ep.event_types).expect("strings serialise"))
        .bind(ep.enabled)
        .bind(&ep.disabled_reason)
        .bind(ep.failing_since)
        .bind(ep.updated_at)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_event_endpoint(&self, org: &OrgId, id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM event_endpoints WHERE organisation_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(self.writes())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn rotate_event_endpoint_secret(
        &self,
        org: &OrgId,
        id: &str,
        sealed: &str,
        key_id: &str,
        previous_until: Timestamp,
        at: Timestamp,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE event_endpoints SET previous_sealed_secret = sealed_secret, \
             previous_key_id = key_id, previous_until = $5, sealed_secret = $3, key_id = $4, \
             updated_at = $6 WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org)
        .bind(id)
        .bind(sealed)
        .bind(key_id)
        .bind(previous_until)
        .bind(at)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn emit_events(&self, org: &OrgId, events: &[NewEvent]) -> Result<usize> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let n = emit_tx(&mut tx, org, events).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(n)
    }

    async fn delivery_context(
        &self,
        endpoint_id: &str,
        event_id: &str,
    ) -> Result<Option<DeliveryContext>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLS}, sealed_secret, key_id, previous_sealed_secret, \
             previous_key_id FROM event_endpoints WHERE id = $1"
        ))
        .bind(endpoint_id)
        .fetch_optional(self.reads())
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let ep = endpoint(&row)?;
        let previous = match (
            get::<Option<String>>(&row, "previous_sealed_secret")?,
            get::<Option<String>>(&row, "previous_key_id")?,
            ep.previous_secret_until,
        ) {
            (Some(s), Some(k), Some(until)) => Some((s, k, until)),
            _ => None,
        };
        let secrets = EndpointSecrets {
            sealed: get(&row, "sealed_secret")?,
            key_id: get(&row, "key_id")?,
            previous,
        };
        let Some(ev) = sqlx::query(
            "SELECT id, organisation_id, event_type, payload, created_at FROM events \
             WHERE id = $1 AND organisation_id = $2",
        )
        .bind(event_id)
        .bind(&ep.organisation_id)
        .fetch_optional(self.reads())
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        Ok(Some(DeliveryContext {
            org: OrgId::new(&ep.organisation_id),
            event: event(&ev)?,
            endpoint: ep,
            secrets,
        }))
    }

    async fn record_delivery(&self, a: &DeliveryAttempt, effect: &EndpointEffect) -> Result<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO event_deliveries (id, organisation_id, endpoint_id, event_id, attempt, \
             attempted_at, status_code, latency_ms, response_head, error, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&a.id)
        .bind(&a.organisation_id)
        .bind(&a.endpoint_id)
        .bind(&a.event_id)
        .bind(a.attempt)
        .bind(a.attempted_at)
        .bind(a.status_code)
        .bind(a.latency_ms)
        .bind(&a.response_head)
        .bind(&a.error)
        .bind(&a.outcome)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        match effect {
            EndpointEffect::Unchanged => {}
            EndpointEffect::Succeeded => {
                sqlx::query(
                    "UPDATE event_endpoints SET failing_since = NULL WHERE id = $1 \
                     AND failing_since IS NOT NULL",
                )
                .bind(&a.endpoint_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            EndpointEffect::Failed {
                at,
                disable_if_failing_since,
                reason,
            } => {
                sqlx::query(
                    "UPDATE event_endpoints SET failing_since = $2 WHERE id = $1 \
                     AND failing_since IS NULL",
                )
                .bind(&a.endpoint_id)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                sqlx::query(
                    "UPDATE event_endpoints SET enabled = $2, disabled_reason = $3, \
                     updated_at = $4 WHERE id = $1 AND enabled = $5 AND failing_since <= $6",
                )
                .bind(&a.endpoint_id)
                .bind(false)
                .bind(reason)
                .bind(at)
                .bind(true)
                .bind(disable_if_failing_since)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            EndpointEffect::Disable { reason, at } => {
                sqlx::query(
                    "UPDATE event_endpoints SET enabled = $2, disabled_reason = $3, \
                     updated_at = $4 WHERE id = $1",
                )
                .bind(&a.endpoint_id)
                .bind(false)
                .bind(reason)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn list_deliveries(
        &self,
        org: &OrgId,
        endpoint_id: Option<&str>,
        event_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeliveryAttempt>> {
        let rows = sqlx::query(
            "SELECT id, organisation_id, endpoint_id, event_id, attempt, attempted_at, \
             status_code, latency_ms, response_head, error, outcome FROM event_deliveries \
             WHERE organisation_id = $1 AND ($2 IS NULL OR endpoint_id = $2) \
             AND ($3 IS NULL OR event_id = $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(org)
        .bind(endpoint_id)
        .bind(event_id)
        .bind(limit)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter().map(attempt).collect()
    }

    async fn endpoint_secrets_to_reseal(
        &self,
        active_key_id: &str,
        limit: i64,
    ) -> Result<Vec<(String, bool, String)>> {
        let rows = sqlx::query(
            "SELECT id, previous, sealed FROM (SELECT id, $3 AS previous, sealed_secret AS sealed \
             FROM event_endpoints WHERE key_id <> $1 UNION ALL SELECT id, $4 AS previous, \
             previous_sealed_secret AS sealed FROM event_endpoints WHERE previous_key_id IS NOT NULL \
             AND previous_key_id <> $1) s ORDER BY id LIMIT $2",
        )
        .bind(active_key_id)
        .bind(limit)
        .bind(false)
        .bind(true)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((get(r, "id")?, get(r, "previous")?, get(r, "sealed")?)))
            .collect()
    }

    async fn reseal_endpoint_secret(
        &self,
        endpoint_id: &str,
        previous: bool,
        old_sealed: &str,
        new_sealed: &str,
        key_id: &str,
    ) -> Result<bool> {
        let sql = if previous {
            "UPDATE event_endpoints SET previous_sealed_secret = $3, previous_key_id = $4 \
             WHERE id = $1 AND previous_sealed_secret = $2"
        } else {
            "UPDATE event_endpoints SET sealed_secret = $3, key_id = $4 \
             WHERE id = $1 AND sealed_secret = $2"
        };
        let r = sqlx::query(sql)
            .bind(endpoint_id)
            .bind(old_sealed)
            .bind(new_sealed)
            .bind(key_id)
            .execute(self.writes())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn list_events(&self, org: &OrgId, limit: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT id, organisation_id, event_type, payload, created_at FROM events \
             WHERE organisation_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(org)
        .bind(limit)
        .fetch_all(self.reads())
        .await
        .map_err(db_err)?;
        rows.iter().map(event).collect()
    }

    async fn replay_event(&self, org: &OrgId, endpoint_id: &str, event_id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let found = sqlx::query(
            "SELECT e.id FROM events e JOIN event_endpoints p ON p.organisation_id = \
             e.organisation_id WHERE e.organisation_id = $1 AND e.id = $2 AND p.id = $3",
        )
        .bind(org)
        .bind(event_id)
        .bind(endpoint_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if found.is_none() {
            return Ok(false);
        }
        enqueue_tx(&mut tx, &deliver_job(event_id, endpoint_id)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn replay_failed_events(
        &self,
        org: &OrgId,
        endpoint_id: &str,
        since: Timestamp,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT DISTINCT d.event_id FROM event_deliveries d WHERE d.organisation_id = $1 \
             AND d.endpoint_id = $2 AND d.outcome = 'failed' AND d.attempted_at >= $3 \
             AND NOT EXISTS (SELECT 1 FROM event_deliveries s WHERE s.endpoint_id = d.endpoint_id \
             AND s.event_id = d.event_id AND s.outcome = 'succeeded') ORDER BY d.event_id",
        )
        .bind(org)
        .bind(endpoint_id)
        .bind(since)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for r in &rows {
            let event_id: String = get(r, "event_id")?;
            enqueue_tx(&mut tx, &deliver_job(&event_id, endpoint_id)).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(rows.len() as i64)
    }
}

/// Emits a credential event (`credential.refreshed`...) in the caller's transaction, naming the
/// connections the credential serves (read before the change deletes their links).
pub(super) async fn emit_credential_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    org: &str,
    event_type: &'static str,
    credential_id: &str,
    reason: Option<&str>,
) -> Result<usize> {
    let rows = sqlx::query(
        "SELECT DISTINCT connection_id FROM connection_credentials WHERE credential_id = $1 \
         ORDER BY connection_id",
    )
    .bind(credential_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_err)?;
    let connections = rows
        .iter()
        .map(|r| get(r, "connection_id"))
        .collect::<Result<Vec<String>>>()?;
    let event = switchyard_domain::events::credential_event(
        event_type,
        credential_id,
        &connections,
        reason,
    );
    emit_tx(tx, org, &[event]).await
}
