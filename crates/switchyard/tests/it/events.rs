//! Event webhooks over HTTP, on SQLite and PostgreSQL: endpoints (CRUD, validation, isolation,
//! the secret shown once), events produced by the changes that cause them and only when they
//! commit, deliveries verified with the `standardwebhooks` crate, retries with the same
//! `webhook-id`, 410, disabled endpoints, secret rotation (two signatures), the delivery log and
//! replay, and delivery after a `kill -9` between commit and delivery.
use crate::common::receiver::{Received, Receiver};
use crate::common::*;
use serde_json::{json, Value};
use standardwebhooks::Webhook;
use std::time::Duration;

/// Servers for these tests: retries shortened to 100 ms, workers looking every 50 ms.
const FAST: &[(&str, &str)] = &[
    (
        "SWITCHYARD_EVENT_RETRY_SCHEDULE_MS",
        "100,100,100,100,100,100,100",
    ),
    ("SWITCHYARD_JOB_POLL_MS", "50"),
    ("SWITCHYARD_JOB_LEASE_SECONDS", "3"),
];

struct Env {
    db: Db,
    server: Server,
    org: String,
    api: Api,
}

async fn env(backend: Backend, extra: &[(&str, &str)]) -> Option<Env> {
    let db = Db::new(backend).await?;
    let (org, key) = create_org(&db, "acme");
    let mut vars = FAST.to_vec();
    vars.extend_from_slice(extra);
    let server = Server::start_with(&db, &vars);
    let api = Api::new(&server, &key);
    Some(Env {
        db,
        server,
        org,
        api,
    })
}

macro_rules! both {
    ($($name:ident => $body:ident;)*) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$body(super::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$body(super::Backend::Postgres).await;
                }
            }
        )*
    };
}

both! {
    endpoints_crud => endpoints_crud;
    delivery_signed_and_retried => delivery_signed_and_retried;
    only_committed_changes_send => only_committed_changes_send;
    every_v2_change_has_its_event => every_v2_change_has_its_event;
    disabled_filtered_and_gone => disabled_filtered_and_gone;
    rotation_signs_twice => rotation_signs_twice;
    replay_failed => replay_failed;
    kill_between_commit_and_delivery => kill_between_commit_and_delivery;
}

fn endpoints(org: &str) -> String {
    format!("/api/organisations/v1/organisations/{org}/event-endpoints")
}

async fn create_endpoint(e: &Env, url: &str, extra: Value) -> (String, String) {
    let mut body = json!({"url": url, "description": "host app"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let ep = e.api.post(&endpoints(&e.org), body).await.expect(201);
    let secret = ep["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{ep}");
    (ep["id"].as_str().unwrap().to_owned(), secret)
}

async fn create_user(e: &Env, external_id: &str) -> Res {
    e.api
        .post(
            &format!("/api/v2/o/{}/users", e.org),
            json!({"externalId": external_id, "displayName": external_id}),
        )
        .await
}

/// Verifies a delivery with the `standardwebhooks` crate.
fn verify(secret: &str, r: &Received) {
    Webhook::new(secret)
        .unwrap()
        .verify(r.body.as_bytes(), &r.headers)
        .unwrap_or_else(|err| panic!("delivery does not verify: {err:?}: {:?}", r.headers));
}

async fn endpoints_crud(backend: Backend) {
    let Some(e) = env(backend, &[]).await else {
        return;
    };
    let rx = Receiver::start(200).await;
    let (id, secret) = create_endpoint(
        &e,
        &rx.url("/hook"),
        json!({"eventTypes": ["end_user.created"]}),
    )
    .await;
    let path = format!("{}/{id}", endpoints(&e.org));
    let got = e.api.get(&path).await.expect(200);
    assert_eq!(got["url"], rx.url("/hook").as_str());
    assert_eq!(got["eventTypes"], json!(["end_user.created"]));
    assert_eq!(got["enabled"], true);
    // The secret is shown once: never in a read or a listing.
    let list = e.api.get(&endpoints(&e.org)).await.expect(200);
    assert_eq!(list["endpoints"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&secret) && !got.to_string().contains(&secret));
    assert!(
        !e.db.dump_text().contains(&secret),
        "the secret is stored sealed"
    );
    // Validation names the field.
    for (body, field) in [
        (json!({"url": "ftp://x"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": rx.url("/"), "eventTypes": ["nope"]}),
            "eventTypes",
        ),
    ] {
        let err = e.api.post(&endpoints(&e.org), body).await.error(400);
        assert_eq!(Res::fields(&err), vec![field.to_owned()], "{err}");
    }
    // Update: types, description, disable (with its reason), enable.
    let up = e
        .api
        .patch(
            &path,
            json!({"eventTypes": [], "description": "all", "enabled": false}),
        )
        .await
        .expect(200);
    assert_eq!(
        (up["eventTypes"].clone(), up["enabled"].clone()),
        (json!([]), json!(false))
    );
    assert_eq!(up["disabledReason"], "disabled by its owner");
    let up = e
        .api
        .patch(&path, json!({"enabled": true}))
        .await
        .expect(200);
    assert_eq!(
        (up["enabled"].clone(), up["disabledReason"].clone()),
        (json!(true), Value::Null)
    );
    e.api
        .patch(&path, json!({"eventTypes": ["x"]}))
        .await
        .error(400);
    // Another organisation sees nothing of it.
    let (other_org, other_key) = create_org(&e.db, "globex");
    let other = e.api.with_key(&other_key);
    other
        .get(&format!("{}/{id}", endpoints(&other_org)))
        .await
        .error(404);
    other
        .delete(&format!("{}/{id}", endpoints(&other_org)))
        .await
        .error(404);
    other.get(&path).await.error(404);
    // Delete.
    e.api.delete(&path).await;
    e.api.get(&path).await.error(404);
    drop(e.server);
}

async fn delivery_signed_and_retried(backend: Backend) {
    let Some(e) = env(backend, &[]).await else {
        return;
    };
    let rx = Receiver::start(200).await;
    rx.answer_first(&[(500, &[]), (500, &[]), (500, &[]), (500, &[]), (500, &[])]);
    let (id, secret) = create_endpoint(&e, &rx.url("/hook"), json!({})).await;
    let user = create_user(&e, "alice").await.expect(201);
    let got = rx.wait_for(6, 30).await;
    assert_eq!(got.len(), 6, "five 500s then a 200: {got:?}");
    let webhook_id = got[0].header("webhook-id");
    for r in &got {
        assert_eq!(
            r.header("webhook-id"),
            webhook_id,
            "the same id on every attempt"
        );
        assert_eq!(r.body, got[0].body);
        verify(&secret, r);
    }
    let body = got[5].json();
    assert_eq!(body["type"], "end_user.created");
    assert_eq!(body["id"], webhook_id.as_str());
    assert_eq!(body["data"]["endUserId"], user["id"]);
    assert_eq!(body["data"]["externalId"], "alice");
    assert_eq!(body["data"]["organisationId"], e.org.as_str());
    assert_eq!(body["data"]["api"], "v2");
    // Nothing more comes: the 200 ended it.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.received().len(), 6);
    // The log: six attempts, newest first, five retrying and one success.
    let log = e
        .api
        .get(&format!("{}/{id}/deliveries", endpoints(&e.org)))
        .await
        .expect(200);
    let log = log["deliveries"].as_array().unwrap().clone();
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(log[0]["outcome"], "succeeded");
    assert_eq!(log[0]["statusCode"], 200);
    assert_eq!(log[0]["attempt"], 6);
    assert_eq!(log[0]["response"], "ok");
    assert!(log[1..]
        .iter()
        .all(|d| d["outcome"] == "retrying" && d["statusCode"] == 500));
    let by_event = e
        .api
        .get(&format!(
            "/api/organisations/v1/organisations/{}/events/{webhook_id}/deliveries",
            e.org
        ))
        .await
        .expect(200);
    assert_eq!(by_event["deliveries"].as_array().unwrap().len(), 6);
    let events = e
        .api
        .get(&format!(
            "/api/organisations/v1/organisations/{}/events",
            e.org
        ))
        .await
        .expect(200);
    assert_eq!(events["events"][0]["id"], webhook_id.as_str());
    assert_eq!(events["events"][0]["type"], "end_user.created");
}

async fn only_committed_changes_send(backend: Backend) {
    let Some(e) = env(backend, &[]).await else {
        return;
    };
    let rx = Receiver::start(200).await;
    create_endpoint(&e, &rx.url("/hook"), json!({})).await;
    create_user(&e, "alice").await.expect(201);
    // A change that fails (a duplicate externalId: 409) is rolled back and sends nothing.
    create_user(&e, "alice").await.error(409);
    e.api
        .delete(&format!("/api/v2/o/{}/users/nobody", e.org))
        .await
        .error(404);
    let got = rx.wait_for(2, 3).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].json()["type"], "end_user.created");
}

async fn every_v2_change_has_its_event(backend: Backend) {
    let Some(e) = env(backend, &[]).await else {
        return;
    };
    let rx = Receiver::start(200).await;
    let (_, secret) = create_endpoint(&e, &rx.url("/hook"), json!({})).await;
    let o = e.org.clone();
    let scheme = json!({"type": "api-key", "apiKey": {"id": "apikey", "description": "API key", "name": "X-Api-Key", "in": "header"}});
    let cred = |v: &str| json!({"id": ulid::Ulid::new().to_string(), "authSchemeConfig": scheme, "credential": {"id": ulid::Ulid::new().to_string(), "name": "(API Key)", "type": "string", "data": {"string": {"value": v}}}});
    let sys = e.api.post(&format!("/api/v2/o/{o}/systems"), json!({"name": "CRM", "domain": "crm.example", "templateBaseUrl": "https://api.crm.example", "authSchemeConfigs": [scheme]})).await.expect(201);
    let project = e
        .api
        .post(&format!("/api/v2/o/{o}/projects"), json!({"name": "P"}))
        .await
        .expect(200);
    let (pid, env_id) = (
        project["id"].as_str().unwrap(),
        project["environments"][0]["id"].as_str().unwrap(),
    );
    let t = e
        .api
        .post(
            &format!("/api/v2/o/{o}/projects/{pid}/connection-templates"),
            json!({"systemId": sys["id"], "name": "crm", "environmentId": env_id, "dynamic": true}),
        )
        .await
        .expect(200);
    let template = t["connectionTemplateId"].as_str().unwrap();
    let user = create_user(&e, "alice").await.expect(201);
    let a = e.api.post(&format!("/api/v2/o/{o}/activations"), json!({"userId": "alice", "environmentId": env_id, "connections": [{"connectionTemplateId": template, "connection": {"name": "alice-crm", "credentials": [cred("secret-canary-1")]}}]})).await.expect(200);
    let cid = a["connections"][0]["id"].as_str().unwrap().to_owned();
    e.api
        .put(
            &format!("/api/v2/o/{o}/connections/{cid}"),
            json!({"name": "alice-crm-2", "baseUrl": "", "credentials": [cred("secret-canary-2")]}),
        )
        .await
        .expect(200);
    e.api.delete(&format!("/api/v2/o/{o}/users/alice")).await;
    let expected = [
        "end_user.created",
        "connection.created",
        "activation.created",
        "connection.updated",
        "activation.deleted",
        "connection.deleted",
        "end_user.deleted",
    ];
    let got = rx.wait_for(expected.len(), 15).await;
    let mut types: Vec<String> = got
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    types.sort();
    want.sort();
    assert_eq!(
        types,
        want,
        "{:?}",
        got.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );
    for r in &got {
        verify(&secret, r);
        assert!(
            !r.body.contains("secret-canary"),
            "no secret in an event: {}",
            r.body
        );
        let b = r.json();
        assert_eq!(b["data"]["organisationId"], o.as_str());
        match b["type"].as_str().unwrap() {
            "activation.created" => {
                assert_eq!(b["data"]["activationId"], a["id"]);
                assert_eq!(b["data"]["endUserId"], user["id"]);
                assert_eq!(b["data"]["environmentId"], env_id);
            }
            "connection.updated" => assert_eq!(b["data"]["name"], "alice-crm-2"),
            "end_user.deleted" => assert_eq!(b["data"]["endUserId"], user["id"]),
            _ => {}
        }
    }
}

async fn disabled_filtered_and_gone(backend: Backend) {
    let Some(e) = env(backend, &[]).await else {
        return;
    };
    let disabled = Receiver::start(200).await;
    let filtered = Receiver::start(200).await;
    let gone = Receiver::start(410).await;
    create_endpoint(&e, &disabled.url("/"), json!({"enabled": false})).await;
    create_endpoint(
        &e,
        &filtered.url("/"),
        json!({"eventTypes": ["end_user.deleted"]}),
    )
    .await;
    let (gid, _) = create_endpoint(&e, &gone.url("/"), json!({})).await;
    create_user(&e, "alice").await.expect(201);
    // 410 Gone: the endpoint is disabled at its first answer, with the reason, and not retried.
    assert_eq!(gone.wait_for(1, 10).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ep = e
        .api
        .get(&format!("{}/{gid}", endpoints(&e.org)))
        .await
        .expect(200);
    assert_eq!(ep["enabled"], false);
    assert!(
        ep["disabledReason"].as_str().unwrap().contains("410"),
        "{ep}"
    );
    create_user(&e, "bob").await.expect(201);
    e.api
        .delete(&format!("/api/v2/o/{}/users/bob", e.org))
        .await;
    let f = filtered.wait_for(1, 10).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(filtered.received().len(), 1, "only end_user.deleted: {f:?}");
    assert_eq!(f[0].json()["type"], "end_user.deleted");
    assert!(
        disabled.received().is_empty(),
        "a disabled endpoint gets nothing"
    );
    assert_eq!(
        gone.received().len(),
        1,
        "after its 410, an endpoint gets nothing more"
    );
}

async fn rotation_signs_twice(backend: Backend) {
    let Some(e) = env(backend, &[]).await else {
        return;
    };
    let rx = Receiver::start(200).await;
    let (id, old) = create_endpoint(&e, &rx.url("/hook"), json!({})).await;
    let rotated = e
        .api
        .post(
            &format!("{}/{id}/rotate-secret", endpoints(&e.org)),
            json!({}),
        )
        .await
        .expect(200);
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated["previousSecretExpiresAt"].is_string());
    create_user(&e, "alice").await.expect(201);
    let got = rx.wait_for(1, 10).await;
    assert_eq!(got.len(), 1);
    let sig = got[0].header("webhook-signature");
    assert_eq!(
        sig.split(' ').count(),
        2,
        "two signatures during a rotation: {sig}"
    );
    assert!(sig.split(' ').all(|s| s.starts_with("v1,")));
    verify(&old, &got[0]);
    verify(&new, &got[0]);
    // And only the new one verifies a delivery to an endpoint that never rotated... (a check
    // that verification can fail at all: a wrong secret is refused).
    let wrong = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert!(Webhook::new(wrong)
        .unwrap()
        .verify(got[0].body.as_bytes(), &got[0].headers)
        .is_err());
}

async fn replay_failed(backend: Backend) {
    let Some(e) = env(backend, &[("SWITCHYARD_EVENT_RETRY_SCHEDULE_MS", "50")]).await else {
        return;
    };
    let rx = Receiver::start(503).await;
    let (id, secret) = create_endpoint(&e, &rx.url("/hook"), json!({})).await;
    let since = switchyard_domain_time_now();
    create_user(&e, "alice").await.expect(201);
    // Two attempts (the schedule has one retry), both 503: failed for good.
    let got = rx.wait_for(2, 10).await;
    assert_eq!(got.len(), 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.received().len(), 2);
    let log = e
        .api
        .get(&format!("{}/{id}/deliveries", endpoints(&e.org)))
        .await
        .expect(200);
    assert_eq!(log["deliveries"][0]["outcome"], "failed");
    let event_id = got[0].header("webhook-id");
    // Replay every failed event since before it: the same event, the same webhook-id.
    let r = e
        .api
        .post(
            &format!("{}/{id}/replay", endpoints(&e.org)),
            json!({"failedSince": since}),
        )
        .await
        .expect(202);
    assert_eq!(r["replayed"], 1);
    let got = rx.wait_for(3, 10).await;
    assert_eq!(got[2].header("webhook-id"), event_id);
    verify(&secret, &got[2]);
    // One event by id.
    e.api
        .post(
            &format!("{}/{id}/replay", endpoints(&e.org)),
            json!({"eventId": event_id}),
        )
        .await
        .expect(202);
    assert!(rx.wait_for(4, 10).await.len() >= 4);
    e.api
        .post(
            &format!("{}/{id}/replay", endpoints(&e.org)),
            json!({"eventId": "evt_nope"}),
        )
        .await
        .error(404);
    e.api
        .post(&format!("{}/{id}/replay", endpoints(&e.org)), json!({}))
        .await
        .error(400);
}

fn switchyard_domain_time_now() -> String {
    chrono::Utc::now()
        .checked_sub_signed(chrono::Duration::seconds(5))
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The only node is killed (SIGKILL) after the change committed and before any delivery (it runs
/// no workers, so nothing was sent); a node started afterwards delivers the event.
async fn kill_between_commit_and_delivery(backend: Backend) {
    let Some(mut e) = env(backend, &[("SWITCHYARD_JOB_WORKERS", "0")]).await else {
        return;
    };
    let rx = Receiver::start(200).await;
    let (_, secret) = create_endpoint(&e, &rx.url("/hook"), json!({})).await;
    create_user(&e, "alice").await.expect(201);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.received().is_empty());
    // SIGKILL: no shutdown of any kind.
    let status = std::process::Command::new("kill")
        .args(["-9", &e.server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    e.server.kill();
    let server = Server::start_with(&e.db, FAST);
    let got = rx.wait_for(1, 15).await;
    assert_eq!(
        got.len(),
        1,
        "the event survives the crash: {}",
        server.logs()
    );
    assert_eq!(got[0].json()["type"], "end_user.created");
    verify(&secret, &got[0]);
}
