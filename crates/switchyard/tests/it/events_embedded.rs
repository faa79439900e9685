//! Events of Embedded v1 changes, on SQLite and PostgreSQL: an end user created (with its
//! primary connection), an activation created (with a new connection), its variables updated,
//! the activation deleted, the end user deleted (with their connections); each event signed,
//! carrying the v1 fields a host acts on and no secret.
use crate::common::receiver::Receiver;
use crate::common::*;
use serde_json::{json, Value};
use standardwebhooks::Webhook;

const SECRET: &str = "canary-v1-key-5d2e";

fn key_connection(name: &str) -> Value {
    json!({"name": name, "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Api-Key"), "credential": {"name": "(API Key)", "type": "string", "data": {"value": SECRET}}}]}, "variables": []})
}

async fn embedded_v1_events(backend: Backend) {
    let Some(db) = Db::new(backend).await else {
        return;
    };
    let (o, key) = create_org(&db, "acme");
    let server = Server::start_with(&db, &[("SWITCHYARD_JOB_POLL_MS", "50")]);
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
            json!({"name": "Acme", "baseUrl": "https://api.acme.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hub = api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Main", "primaryConnectorId": connector, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let schema = json!({"type": "object", "properties": {"region": {"type": "string"}}});
    let integration = api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/integrations"),
            json!({"organisationId": o, "name": "Sync", "description": "", "variablesSchema": schema,
                   "connectionTemplate": {"connectorId": connector, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let template = api
        .get(&format!(
            "/api/embedded/v1/integrations/{integration}/connection-templates"
        ))
        .await
        .expect(200)["connectionTemplates"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.post(
        &format!("/api/embedded/v1/integrations/{integration}/deploy"),
        json!({}),
    )
    .await
    .expect(200);
    let user = api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users"),
            json!({"externalId": "cust-1", "displayName": "C", "primaryConnection": key_connection("primary")}),
        )
        .await
        .expect(201);
    let activation = api
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "cust-1", "integrationId": integration, "connections": [
                {"templateId": template, "name": "second", "credentials": key_connection("x")["credentials"].clone(), "variables": []}
            ], "dynamicVariables": {"region": "eu"}}),
        )
        .await
        .expect(200);
    let aid = activation["id"].as_str().unwrap().to_owned();
    api.put(
        &format!("/api/embedded/v1/activations/{aid}/variables"),
        json!({"dynamicVariables": {"region": "us"}}),
    )
    .await
    .expect(200);
    assert_eq!(
        api.delete(&format!("/api/embedded/v1/activations/{aid}"))
            .await
            .status,
        204
    );
    assert_eq!(
        api.delete(&format!("/api/embedded/v1/hubs/{hub}/users/cust-1"))
            .await
            .status,
        204
    );
    let expected = [
        "end_user.created",
        "connection.created",
        "connection.created",
        "activation.created",
        "activation.updated",
        "activation.deleted",
        "connection.deleted",
        "connection.deleted",
        "end_user.deleted",
    ];
    let got = rx.wait_for(expected.len(), 20).await;
    let bodies: Vec<Value> = got.iter().map(|r| r.json()).collect();
    let mut types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    types.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(types, want, "{bodies:#?}");
    for r in &got {
        Webhook::new(&secret)
            .unwrap()
            .verify(r.body.as_bytes(), &r.headers)
            .unwrap();
        assert!(
            !r.body.contains(SECRET),
            "no secret in an event: {}",
            r.body
        );
    }
    let of = |t: &str| bodies.iter().find(|b| b["type"] == t).unwrap()["data"].clone();
    let created = of("activation.created");
    assert_eq!(created["api"], "v1");
    assert_eq!(created["activationId"], aid.as_str());
    assert_eq!(created["hubId"], hub.as_str());
    assert_eq!(created["integrationId"], integration.as_str());
    assert_eq!(created["endUserId"], user["id"]);
    assert_eq!(created["connections"][0]["templateId"], template.as_str());
    assert_eq!(of("activation.updated")["changed"], json!(["variables"]));
    assert_eq!(of("end_user.created")["hubId"], hub.as_str());
    assert_eq!(of("end_user.created")["externalId"], "cust-1");
    assert_eq!(of("end_user.deleted")["endUserId"], user["id"]);
}

mod embedded_v1 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::embedded_v1_events(super::Backend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::embedded_v1_events(super::Backend::Postgres).await;
    }
}
