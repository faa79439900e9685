//! How deliveries are retried, on SQLite and PostgreSQL: `Retry-After` on a 429 is honoured
//! over a shorter schedule, a 3xx is retried (not followed), and a delivery that used its
//! attempts is a failed job that `switchyard jobs status` shows.
use crate::common::receiver::Receiver;
use crate::common::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn retries(backend: Backend) {
    let Some(db) = Db::new(backend).await else {
        return;
    };
    let (o, key) = create_org(&db, "acme");
    let server = Server::start_with(
        &db,
        &[
            ("SWITCHYARD_EVENT_RETRY_SCHEDULE_MS", "100,100"),
            ("SWITCHYARD_JOB_POLL_MS", "50"),
        ],
    );
    let api = Api::new(&server, &key);
    let rx = Receiver::start(200).await;
    rx.answer_first(&[
        (429, &[("retry-after", "2")]),
        (302, &[("location", "/elsewhere")]),
    ]);
    api.post(
        &format!("/api/organisations/v1/organisations/{o}/event-endpoints"),
        json!({"url": rx.url("/hook")}),
    )
    .await
    .expect(201);
    api.post(
        &format!("/api/v2/o/{o}/users"),
        json!({"externalId": "alice", "displayName": "A"}),
    )
    .await
    .expect(201);
    let got = rx.wait_for(3, 20).await;
    assert_eq!(got.len(), 3, "429, then 302, then 200: {got:?}");
    let waited = got[1].at - got[0].at;
    assert!(
        waited >= Duration::from_millis(1900),
        "Retry-After: 2 was honoured over the 100 ms schedule (waited {waited:?})"
    );
    assert!(got
        .iter()
        .all(|r| r.header("webhook-id") == got[0].header("webhook-id")));
    assert!(
        got.iter()
            .all(|r| !r.header("host").is_empty() && r.body == got[0].body),
        "the 302 was not followed elsewhere"
    );

    // A receiver that always fails: the first attempt and two retries, then a failed job.
    let down = Receiver::start(500).await;
    api.post(
        &format!("/api/organisations/v1/organisations/{o}/event-endpoints"),
        json!({"url": down.url("/hook"), "eventTypes": ["end_user.deleted"]}),
    )
    .await
    .expect(201);
    api.delete(&format!("/api/v2/o/{o}/users/alice")).await;
    assert_eq!(down.wait_for(3, 10).await.len(), 3);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(down.received().len(), 3, "no fourth attempt");
    let out = bin()
        .args(["jobs", "status", "--json", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kind = &status["kinds"][0];
    assert_eq!(kind["kind"], "event.deliver", "{status}");
    assert_eq!(
        (kind["failed"].clone(), kind["ready"].clone()),
        (json!(1), json!(0)),
        "{status}"
    );
    assert_eq!(status["failed"][0]["attempts"], 3);
    assert_eq!(status["failed"][0]["lastError"], "answered 500");
    let text = bin()
        .args(["jobs", "status", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("event.deliver"));
    // The queue's figures are metrics too.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let metrics = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("switchyard_jobs{"), "{metrics}");
    assert!(metrics.contains("switchyard_job_runs_total{"));
    assert!(metrics.contains("switchyard_event_deliveries_total{"));
}

mod retry_after_3xx_and_failed_jobs {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::retries(super::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::retries(super::Backend::Postgres).await;
    }
}
