//! Events of Connect v1 changes, on SQLite and PostgreSQL: a connection created, updated and
//! deleted, and a credential that expired (deleted by the sweeper, `credential.expired` naming
//! its connection), each signed and delivered.
use crate::common::receiver::Receiver;
use crate::common::*;
use serde_json::{json, Value};
use standardwebhooks::Webhook;

fn key_credential(value: &str, expires_in: Option<i64>) -> Value {
    let mut c = json!({"name": "key", "type": "string", "data": {"value": value}});
    if let Some(s) = expires_in {
        c["expiresAt"] = json!((chrono::Utc::now() + chrono::Duration::seconds(s)).to_rfc3339());
    }
    json!({"authSchemeConfig": api_key_scheme("apikey", "X-Key"), "credential": c})
}

async fn connect_v1_events(backend: Backend) {
    let Some(db) = Db::new(backend).await else {
        return;
    };
    let (o, key) = create_org(&db, "acme");
    let server = Server::start_with(
        &db,
        &[
            ("SWITCHYARD_CREDENTIAL_SWEEP_SECONDS", "1"),
            ("SWITCHYARD_JOB_POLL_MS", "50"),
        ],
    );
    let api = Api::new(&server, &key);
    let rx = Receiver::start(200).await;
    let ep = api
        .post(
            &format!("/api/organisations/v1/organisations/{o}/event-endpoints"),
            json!({"url": rx.url("/hook")}),
        )
        .await
        .expect(201);
    let secret = ep["secret"].as_str().unwrap().to_owned();
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
    let c = api
        .post(&cpath, json!({"name": "temp", "credentials": {"action": [key_credential("canary-short-lived", Some(2)), key_credential("canary-lasting", None)]}, "variables": []}))
        .await
        .expect(200);
    let cid = c["id"].as_str().unwrap().to_owned();
    let expiring = c["credentials"]["action"][0]["credential"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The sweeper deletes the expired credential: credential.expired.
    let got = rx.wait_for(2, 20).await;
    assert_eq!(got.len(), 2, "{got:?}");
    api.delete(&format!("{cpath}/{cid}")).await;
    let got = rx.wait_for(3, 10).await;
    let bodies: Vec<Value> = got.iter().map(|r| r.json()).collect();
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "connection.created",
            "credential.expired",
            "connection.deleted"
        ],
        "{bodies:?}"
    );
    for r in &got {
        Webhook::new(&secret)
            .unwrap()
            .verify(r.body.as_bytes(), &r.headers)
            .unwrap();
        assert!(
            !r.body.contains("canary"),
            "no secret in an event: {}",
            r.body
        );
    }
    assert_eq!(bodies[0]["data"]["connectionId"], cid.as_str());
    assert_eq!(bodies[0]["data"]["connectorId"], connector.as_str());
    assert_eq!(bodies[0]["data"]["api"], "v1");
    assert_eq!(bodies[1]["data"]["credentialId"], expiring.as_str());
    assert_eq!(bodies[1]["data"]["connectionIds"], json!([cid]));
    assert!(bodies[1]["data"]["reason"]
        .as_str()
        .unwrap()
        .contains("expiresAt"));
    assert_eq!(bodies[2]["data"]["connectionId"], cid.as_str());
}

mod connect_v1 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::connect_v1_events(super::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::connect_v1_events(super::Backend::Postgres).await;
    }
}
