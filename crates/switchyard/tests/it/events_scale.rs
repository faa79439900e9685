//! 10,000 events across two nodes on PostgreSQL: each is delivered successfully exactly once to
//! a receiver that always answers 200, and none is lost. Both nodes serve the API and both run
//! workers that claim from the one queue (`FOR UPDATE SKIP LOCKED`).
use crate::common::receiver::Receiver;
use crate::common::*;
use serde_json::json;
use std::collections::HashMap;

const EVENTS: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_events_two_nodes_postgres() {
    let Some(db) = Db::new(Backend::Postgres).await else {
        return;
    };
    let (org, key) = create_org(&db, "acme");
    let env = [
        ("SWITCHYARD_JOB_POLL_MS", "50"),
        ("SWITCHYARD_JOB_WORKERS", "16"),
    ];
    let a = Server::start_with(&db, &env);
    let b = Server::start_with(&db, &env);
    let rx = Receiver::start(200).await;
    let api_a = Api::new(&a, &key);
    let api_b = Api::new(&b, &key);
    api_a
        .post(
            &format!("/api/organisations/v1/organisations/{org}/event-endpoints"),
            json!({"url": rx.url("/hook"), "eventTypes": ["end_user.created"]}),
        )
        .await
        .expect(201);
    // 10,000 end users, half through each node, 32 at a time.
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..32 {
        let api = if worker % 2 == 0 {
            api_a.clone()
        } else {
            api_b.clone()
        };
        let org = org.clone();
        tasks.push(tokio::spawn(async move {
            for i in (worker..EVENTS).step_by(32) {
                api.post(
                    &format!("/api/v2/o/{org}/users"),
                    json!({"externalId": format!("user-{i}"), "displayName": "u"}),
                )
                .await
                .expect(201);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let got = rx.wait_for(EVENTS, 300).await;
    let elapsed = started.elapsed();
    // Wait a little more: a duplicate would come now.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let got = if rx.received().len() > got.len() {
        rx.received()
    } else {
        got
    };
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut users = std::collections::HashSet::new();
    for r in &got {
        *by_id.entry(r.header("webhook-id")).or_default() += 1;
        users.insert(r.json()["data"]["externalId"].as_str().unwrap().to_owned());
    }
    let dupes = by_id.values().filter(|&&n| n > 1).count();
    assert_eq!(dupes, 0, "every event is delivered once");
    assert_eq!(users.len(), EVENTS, "no event is lost");
    assert_eq!(got.len(), EVENTS);
    eprintln!(
        "10,000 events across two nodes: all delivered once in {:.1} s",
        elapsed.as_secs_f64()
    );
    drop((a, b));
}
