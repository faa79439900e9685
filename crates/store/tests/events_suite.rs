//! Events in the store, on SQLite and PostgreSQL: emitted in the transaction of their change
//! (with one delivery job per endpoint that wants them; none when the change rolls back), the
//! delivery context, the log, endpoint effects, rotation and replay.
use switchyard_domain::events::{DeliveryAttempt, EndpointSecrets, EventEndpoint, DELIVER_JOB};
use switchyard_domain::model::{ApiKey, Organisation};
use switchyard_domain::new_id;
use switchyard_domain::platform::PlatformEndUser;
use switchyard_domain::time::now;
use switchyard_store::events::EndpointEffect;
use switchyard_store::jobs::now_millis;
use switchyard_store::{testing, DynStore, OrgId};

async fn org(store: &DynStore) -> OrgId {
    let org = Organisation {
        id: new_id(),
        name: "events".into(),
        created_at: now(),
    };
    let key = ApiKey {
        id: new_id(),
        organisation_id: org.id.clone(),
        name: "k".into(),
        prefix: "sy_test".into(),
        key_hash: format!("hash-{}", new_id()),
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    };
    store.create_organisation(&org, &key).await.unwrap()
}

fn endpoint(org: &OrgId, types: &[&str], enabled: bool) -> EventEndpoint {
    EventEndpoint {
        id: new_id(),
        organisation_id: org.to_string(),
        url: "https://example.com/hook".into(),
        description: "d".into(),
        event_types: types.iter().map(|t| t.to_string()).collect(),
        enabled,
        disabled_reason: None,
        failing_since: None,
        previous_secret_until: None,
        created_at: now(),
        updated_at: now(),
    }
}

fn secrets(s: &str) -> EndpointSecrets {
    EndpointSecrets {
        sealed: s.into(),
        key_id: "k1".into(),
        previous: None,
    }
}

fn user(org: &OrgId, external: &str) -> PlatformEndUser {
    PlatformEndUser {
        id: new_id(),
        organisation_id: org.to_string(),
        external_id: external.into(),
        display_name: "U".into(),
        created_at: now(),
        updated_at: now(),
    }
}

async fn claim(store: &DynStore) -> Vec<switchyard_store::jobs::Job> {
    let t = now_millis();
    store
        .claim_jobs(&[DELIVER_JOB], 10, t, t + 60_000)
        .await
        .unwrap()
}

async fn events_story(store: DynStore) {
    let org = org(&store).await;
    // No endpoint: a change emits nothing.
    store
        .insert_platform_end_user(&org, &user(&org, "u0"))
        .await
        .unwrap();
    assert!(store.list_events(&org, 10).await.unwrap().is_empty());

    let all = endpoint(&org, &[], true);
    let only_deleted = endpoint(&org, &["end_user.deleted"], true);
    let disabled = endpoint(&org, &[], false);
    for e in [&all, &only_deleted, &disabled] {
        store
            .insert_event_endpoint(&org, e, &secrets("sealed-1"))
            .await
            .unwrap();
    }
    let listed = store.list_event_endpoints(&org).await.unwrap();
    assert_eq!(listed.len(), 3);

    // end_user.created: one event, one job (only the enabled endpoint that wants all types).
    let u1 = user(&org, "u1");
    store.insert_platform_end_user(&org, &u1).await.unwrap();
    let events = store.list_events(&org, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "end_user.created");
    let body: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(body["type"], "end_user.created");
    assert_eq!(body["id"], events[0].id.as_str());
    assert_eq!(body["data"]["endUserId"], u1.id.as_str());
    assert_eq!(body["data"]["organisationId"], org.as_str());
    let jobs = claim(&store).await;
    assert_eq!(jobs.len(), 1);
    let p: serde_json::Value = serde_json::from_str(&jobs[0].payload).unwrap();
    assert_eq!(
        (p["eventId"].as_str(), p["endpointId"].as_str()),
        (Some(events[0].id.as_str()), Some(all.id.as_str()))
    );
    let ctx = store
        .delivery_context(&all.id, &events[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ctx.org, org);
    assert_eq!(ctx.secrets.sealed, "sealed-1");
    assert_eq!(ctx.event.payload, events[0].payload);
    store
        .complete_job(&jobs[0].id, &jobs[0].lease_token)
        .await
        .unwrap();

    // A change that fails (a duplicate external id) rolls back: no event, no job.
    assert!(store
        .insert_platform_end_user(&org, &user(&org, "u1"))
        .await
        .is_err());
    assert_eq!(store.list_events(&org, 10).await.unwrap().len(), 1);
    assert!(claim(&store).await.is_empty());

    // end_user.deleted: two endpoints want it.
    assert!(store.delete_platform_end_user(&org, &u1.id).await.unwrap());
    let jobs = claim(&store).await;
    assert_eq!(jobs.len(), 2);
    for j in &jobs {
        store.complete_job(&j.id, &j.lease_token).await.unwrap();
    }
    let deleted = &store.list_events(&org, 10).await.unwrap()[0];
    assert_eq!(deleted.event_type, "end_user.deleted");

    // The log, and the endpoint effects: a failure marks failing_since, and one failing since
    // long enough is disabled with its reason; a success clears failing_since.
    let attempt = |outcome: &str, n: i32| DeliveryAttempt {
        id: new_id(),
        organisation_id: org.to_string(),
        endpoint_id: all.id.clone(),
        event_id: deleted.id.clone(),
        attempt: n,
        attempted_at: now(),
        status_code: Some(500),
        latency_ms: 3,
        response_head: "oops".into(),
        error: None,
        outcome: outcome.into(),
    };
    let at = now();
    let effect = EndpointEffect::Failed {
        at,
        disable_if_failing_since: at - chrono::Duration::days(5),
        reason: "failing for 5 days".into(),
    };
    store
        .record_delivery(&attempt("retrying", 1), &effect)
        .await
        .unwrap();
    let ep = store
        .get_event_endpoint(&org, &all.id)
        .await
        .unwrap()
        .unwrap();
    assert!(ep.enabled && ep.failing_since.is_some());
    store
        .record_delivery(&attempt("succeeded", 2), &EndpointEffect::Succeeded)
        .await
        .unwrap();
    let ep = store
        .get_event_endpoint(&org, &all.id)
        .await
        .unwrap()
        .unwrap();
    assert!(ep.enabled && ep.failing_since.is_none());
    store
        .record_delivery(
            &attempt("failed", 3),
            &EndpointEffect::Failed {
                at,
                disable_if_failing_since: at,
                reason: "failing for 5 days".into(),
            },
        )
        .await
        .unwrap();
    let ep = store
        .get_event_endpoint(&org, &all.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!ep.enabled);
    assert_eq!(ep.disabled_reason.as_deref(), Some("failing for 5 days"));
    let log = store
        .list_deliveries(&org, Some(&all.id), None, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].attempt, 3);
    assert_eq!(
        store
            .list_deliveries(&org, None, Some(&deleted.id), 10)
            .await
            .unwrap()
            .len(),
        3
    );

    // Replay: this event's delivery succeeded once, so "failed since" finds nothing; one event
    // is resent on request.
    assert_eq!(
        store
            .replay_failed_events(&org, &all.id, at - chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert!(store
        .replay_event(&org, &all.id, &deleted.id)
        .await
        .unwrap());
    assert!(!store.replay_event(&org, &all.id, "nope").await.unwrap());
    assert_eq!(claim(&store).await.len(), 1);

    // Rotation keeps the old secret beside the new one.
    let until = now() + chrono::Duration::hours(24);
    assert!(store
        .rotate_event_endpoint_secret(&org, &all.id, "sealed-2", "k1", until, now())
        .await
        .unwrap());
    let ctx = store
        .delivery_context(&all.id, &deleted.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ctx.secrets.sealed, "sealed-2");
    assert_eq!(
        ctx.secrets.previous.as_ref().map(|p| p.0.as_str()),
        Some("sealed-1")
    );

    // Another organisation sees none of it.
    let other = self::org(&store).await;
    assert!(store
        .get_event_endpoint(&other, &all.id)
        .await
        .unwrap()
        .is_none());
    assert!(store.list_events(&other, 10).await.unwrap().is_empty());
    assert!(!store
        .replay_event(&other, &all.id, &deleted.id)
        .await
        .unwrap());
    assert!(store.delete_event_endpoint(&org, &all.id).await.unwrap());
    store.close().await;
}

#[tokio::test]
async fn events_sqlite() {
    let store = switchyard_store::connect(&testing::sqlite_url(&std::env::temp_dir()))
        .await
        .unwrap();
    events_story(store).await;
}

#[tokio::test]
async fn events_postgres() {
    let Some(url) = testing::postgres_url().await else {
        return;
    };
    let _dropped_at_the_end = testing::DropDatabase(url.clone());
    events_story(store_for(&url).await).await;
}

async fn store_for(url: &str) -> DynStore {
    switchyard_store::connect(url).await.unwrap()
}
