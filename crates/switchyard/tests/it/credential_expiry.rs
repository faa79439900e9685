//! `expiresAt` on a credential: a past one is refused on create; when it passes, the background
//! sweeper deletes the credential (and its place in the connection) and records an `expired`
//! event; credentials without one stay.

use crate::common::*;
use serde_json::{json, Value};
use std::time::Duration;

fn key_credential(value: &str, expires_at: Option<String>) -> Value {
    let mut c = json!({"name": "key", "type": "string", "data": {"value": value}});
    if let Some(e) = expires_at {
        c["expiresAt"] = json!(e);
    }
    json!({"authSchemeConfig": api_key_scheme("apikey", "X-Key"), "credential": c})
}

fn in_seconds(s: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(s)).to_rfc3339()
}

async fn expiry(backend: Backend) {
    let Some(db) = Db::new(backend).await else {
        return;
    };
    let (o, key) = create_org(&db, "acme");
    let server = Server::start_with(&db, &[("SWITCHYARD_CREDENTIAL_SWEEP_SECONDS", "1")]);
    let api = Api::new(&server, &key);
    let connector = api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "CRM", "baseUrl": "https://crm.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Key")]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cpath = format!("/api/connect/v1/o/{o}/connectors/{connector}/connections");

    // A date in the past, or not a date: 400 naming the field; nothing stored.
    let e = api.post(&cpath, json!({"name": "old", "credentials": {"action": [key_credential("k", Some(in_seconds(-60)))]}, "variables": []})).await.error(400);
    assert_eq!(
        Res::fields(&e),
        ["credentials.action[0].credential.expiresAt"]
    );
    let e =
        api.post(&cpath, json!({"name": "bad", "credentials": {"action": [key_credential("k", Some("tomorrow".into()))]}, "variables": []})).await.error(400);
    assert!(e["message"].as_str().unwrap().contains("expiresAt"), "{e}");
    assert_eq!(api.get(&cpath).await.expect(200)["totalCount"], 0);

    let due = in_seconds(3);
    let c = api
        .post(&cpath, json!({"name": "temp", "credentials": {"action": [key_credential("short-lived", Some(due.clone())), key_credential("lasting", None)]}, "variables": []}))
        .await
        .expect(200);
    let creds = &c["credentials"]["action"];
    assert!(creds[0]["credential"]["expiresAt"].is_string(), "{c}");
    assert!(creds[1]["credential"].get("expiresAt").is_none(), "{c}");
    let (cid, gone, kept) = (
        c["id"].as_str().unwrap(),
        creds[0]["credential"]["id"].as_str().unwrap(),
        creds[1]["credential"]["id"].as_str().unwrap(),
    );

    // The sweeper runs every second here.
    let mut left = Vec::new();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = api.get(&format!("{cpath}/{cid}")).await.expect(200);
        left = now["credentials"]["action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["credential"]["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        if left.len() == 1 {
            break;
        }
    }
    assert_eq!(
        left,
        [kept],
        "the expired credential is gone, the other stays"
    );
    let events = api
        .get(&format!("/api/connect/v1/o/{o}/credentials/{gone}/events"))
        .await
        .expect(200);
    assert_eq!(events[0]["kind"], "expired", "{events}");
    assert!(
        events[0]["reason"].as_str().unwrap().contains("expiresAt"),
        "{events}"
    );
    assert_eq!(
        api.get(&format!("/api/connect/v1/o/{o}/credentials/{kept}/events"))
            .await
            .expect(200),
        json!([])
    );
    assert!(server.logs().contains("an expired credential was deleted"));

    // Platform API v2's encoding carries it too.
    let project = api
        .post(&format!("/api/v2/o/{o}/projects"), json!({"name": "P"}))
        .await
        .expect(200);
    let t = api
        .post(
            &format!(
                "/api/v2/o/{o}/projects/{}/connection-templates",
                project["id"].as_str().unwrap()
            ),
            json!({"systemId": connector, "name": "crm"}),
        )
        .await
        .expect(200);
    let v2 = json!({"authSchemeConfig": {"type": "api-key", "apiKey": {"id": "apikey", "description": "", "name": "X-Key", "in": "header"}},
        "credential": {"type": "string", "expiresAt": in_seconds(-1), "data": {"string": {"value": "v"}}}});
    let e = api
        .post(
            &format!("/api/v2/o/{o}/connections"),
            json!({"connectionTemplateId": t["connectionTemplateId"], "connection": {"name": "x", "credentials": [v2]}}),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["connection.credentials[0].credential.expiresAt"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    expiry(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    switchyard_no_test_postgres,
    ignore = "PostgreSQL suite not run: set SWITCHYARD_TEST_POSTGRES_URL"
)]
async fn postgres() {
    expiry(Backend::Postgres).await;
}
