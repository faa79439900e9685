//! The store's typed errors as the API words them: every rule a write can break (a unique index, a
//! rule the store checks in its transaction) answers 409 with the message it always had, whether
//! the handler's own check or the store's catches it (concurrent requests race past the handler's
//! check); a stored value the store cannot read is a 500 that says nothing of it, logged with its
//! cause and the request id. (An unreachable database is a 503: `foundation.rs`.)

use crate::common::*;
use serde_json::{json, Value};
use switchyard_store::{Constraint, StoreError};

/// Sends `n` copies of a POST at once and returns their responses.
async fn race(api: &Api, path: &str, body: Value, n: usize) -> Vec<Res> {
    let calls = (0..n).map(|_| {
        let (api, path, body) = (api.clone(), path.to_owned(), body.clone());
        tokio::spawn(async move { api.post(&path, body).await })
    });
    let mut out = Vec::new();
    for c in calls.collect::<Vec<_>>() {
        out.push(c.await.unwrap());
    }
    out
}

/// Exactly one of `results` succeeded with `ok`, and every other one is a 409 with `message`.
#[track_caller]
fn one_wins(results: Vec<Res>, ok: u16, message: &str) {
    let mut wins = 0;
    for r in results {
        if r.status == ok {
            wins += 1;
        } else {
            let e = r.error(409);
            assert_eq!(e["message"], message, "{e}");
        }
    }
    assert_eq!(wins, 1, "exactly one of the racing requests wins");
}

fn message(e: &Value) -> &str {
    e["message"].as_str().unwrap()
}

/// Embedded and Connect API v1: connection names, connectors and integrations in use, a second
/// activation, racing end users.
async fn v1_conflicts(w: World) {
    let o = &w.org;
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "Acme", "baseUrl": "https://api.acme.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]}),
        )
        .await
        .expect(201);
    let cid = connector["id"].as_str().unwrap();

    // A connection name is unique per connector and owner: the unique index answers.
    let cpath = format!("/api/connect/v1/o/{o}/connectors/{cid}/connections");
    let conn = |name: &str| {
        json!({"name": name, "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Api-Key"),
            "credential": {"name": "key", "type": "string", "data": {"value": "k"}}}]}, "variables": []})
    };
    w.api.post(&cpath, conn("ops")).await.expect(200);
    let e = w.api.post(&cpath, conn("ops")).await.error(409);
    assert_eq!(
        message(&e),
        "a connection named \"ops\" already exists for this connector"
    );
    assert_eq!(
        w.api.get(&cpath).await.expect(200)["totalCount"],
        1,
        "nothing written"
    );

    // A hub uses the connector: the store's check in the delete's transaction answers.
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Hub", "primaryConnectorId": cid, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
        )
        .await
        .expect(201);
    let hub = hub["id"].as_str().unwrap();
    let e = w
        .api
        .delete(&format!("/api/connect/v1/o/{o}/connectors/{cid}"))
        .await
        .error(409);
    assert_eq!(
        message(&e),
        "the connector is in use by a hub, a connection template or end-user connections"
    );

    // End users racing for one external id: one is created, the others are told why.
    let users = format!("/api/embedded/v1/hubs/{hub}/users");
    let results = race(
        &w.api,
        &users,
        json!({"externalId": "race", "primaryConnection": conn("primary")}),
        6,
    )
    .await;
    one_wins(
        results,
        201,
        "an end user with externalId \"race\" already exists in this hub",
    );
    let user = w
        .api
        .post(
            &users,
            json!({"externalId": "cust-1", "primaryConnection": conn("primary")}),
        )
        .await
        .expect(201);
    let primary = user["primaryConnection"]["id"].as_str().unwrap();
    // Another connection of that user with the same name.
    let e = w
        .api
        .post(
            &format!("{users}/cust-1/connections"),
            json!({"connectorId": cid, "connection": conn("primary")}),
        )
        .await
        .error(409);
    assert_eq!(
        message(&e),
        "a connection named \"primary\" already exists for this connector"
    );

    // A second activation names the first, in the message and in `details`.
    let integration = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/integrations"),
            json!({"organisationId": o, "name": "Sync", "connectionTemplate": {"connectorId": cid, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}}),
        )
        .await
        .expect(200);
    let iid = integration["id"].as_str().unwrap();
    let templates = w
        .api
        .get(&format!(
            "/api/embedded/v1/integrations/{iid}/connection-templates"
        ))
        .await
        .expect(200);
    let tid = templates["connectionTemplates"][0]["id"].as_str().unwrap();
    w.api
        .post(
            &format!("/api/embedded/v1/integrations/{iid}/deploy"),
            json!({}),
        )
        .await
        .expect(200);
    let activate = json!({"userId": "cust-1", "integrationId": iid, "connections": [{"templateId": tid, "connectionId": primary}], "dynamicVariables": {}});
    let a = w
        .api
        .post("/api/embedded/v1/activations", activate.clone())
        .await
        .expect(200);
    let aid = a["id"].as_str().unwrap();
    let e = w
        .api
        .post("/api/embedded/v1/activations", activate)
        .await
        .error(409);
    assert_eq!(
        message(&e),
        format!("the end user has already activated this integration: activation {aid}")
    );
    assert_eq!(e["details"], aid);

    // An undeployed integration with an activation: the store counts them in the delete's
    // transaction.
    w.api
        .post(
            &format!("/api/embedded/v1/integrations/{iid}/undeploy"),
            json!({}),
        )
        .await
        .expect(200);
    let e = w
        .api
        .delete(&format!("/api/embedded/v1/integrations/{iid}"))
        .await
        .error(409);
    assert_eq!(
        message(&e),
        "the integration has 1 activations; deactivate them first"
    );
    w.api
        .get(&format!("/api/embedded/v1/integrations/{iid}"))
        .await
        .expect(200);
}

fn v2_api_key() -> Value {
    json!({"type": "api-key", "apiKey": {"id": "apikey", "description": "API key", "name": "X-Api-Key", "in": "header"}})
}

/// Platform API v2: template names, environments (names raced, the last one kept), end users
/// raced, a second activation.
async fn v2_conflicts(w: World) {
    let o = &w.org;
    let mut systems = Vec::new();
    for name in ["CRM", "ERP"] {
        let s = w
            .api
            .post(
                &format!("/api/v2/o/{o}/systems"),
                json!({"name": name, "domain": format!("{name}.example"), "templateBaseUrl": "https://api.example", "authSchemeConfigs": [v2_api_key()]}),
            )
            .await
            .expect(201);
        systems.push(s["id"].as_str().unwrap().to_owned());
    }
    let project = w
        .api
        .post(&format!("/api/v2/o/{o}/projects"), json!({"name": "P"}))
        .await
        .expect(200);
    let pid = project["id"].as_str().unwrap();
    let env = project["environments"][0]["id"].as_str().unwrap();
    let ppath = format!("/api/v2/o/{o}/projects/{pid}");

    // A template name is unique in its environment: the unique index answers, on insert and on
    // rename.
    let tpath = format!("{ppath}/connection-templates");
    let crm = w
        .api
        .post(
            &tpath,
            json!({"systemId": systems[0], "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200);
    let erp = w
        .api
        .post(&tpath, json!({"systemId": systems[1], "name": "erp"}))
        .await
        .expect(200);
    let e = w
        .api
        .post(&tpath, json!({"systemId": systems[1], "name": "crm"}))
        .await
        .error(409);
    assert_eq!(
        message(&e),
        "the environment already has a connection template named \"crm\""
    );
    let erp_t = erp["connectionTemplateId"].as_str().unwrap();
    let e = w
        .api
        .put(&format!("{tpath}/{erp_t}"), json!({"name": "crm"}))
        .await
        .error(409);
    assert_eq!(
        message(&e),
        "the environment already has a connection template named \"crm\""
    );
    assert_eq!(w.api.get(&tpath).await.expect(200)["totalCount"], 2);

    // The last environment stays.
    let e = w
        .api
        .post(&format!("{ppath}/environments/{env}"), json!({}))
        .await
        .error(409);
    assert_eq!(
        message(&e),
        "a project keeps at least one environment: this is its last"
    );

    // Clones racing for one name: one is made.
    let results = race(
        &w.api,
        &format!("{ppath}/environments/clone"),
        json!({"oldEnvName": "production", "newEnvName": "staging"}),
        4,
    )
    .await;
    one_wins(
        results,
        200,
        "the project already has an environment named \"staging\"",
    );
    let p = w.api.get(&ppath).await.expect(200);
    assert_eq!(p["environments"].as_array().unwrap().len(), 2);

    // End users racing for one external id.
    let results = race(
        &w.api,
        &format!("/api/v2/o/{o}/users"),
        json!({"externalId": "bob"}),
        6,
    )
    .await;
    one_wins(
        results,
        201,
        "an end user with externalId \"bob\" already exists in this organisation",
    );

    // A second activation of the same user and environment.
    let crm_t = crm["connectionTemplateId"].as_str().unwrap();
    let erp_conn = json!({"name": "erp-static", "credentials": [{"authSchemeConfig": v2_api_key(),
        "credential": {"name": "key", "type": "string", "data": {"string": {"value": "k"}}}}]});
    w.api
        .post(
            &format!("/api/v2/o/{o}/connections"),
            json!({"connectionTemplateId": erp_t, "connection": erp_conn}),
        )
        .await
        .expect(201);
    let activate = |name: &str| {
        json!({"userId": "bob", "environmentId": env, "dynamicVariables": {}, "connections": [{"connectionTemplateId": crm_t,
            "connection": {"name": name, "credentials": [{"authSchemeConfig": v2_api_key(),
                "credential": {"name": "key", "type": "string", "data": {"string": {"value": "k"}}}}]}}]})
    };
    let apath = format!("/api/v2/o/{o}/activations");
    w.api.post(&apath, activate("first")).await.expect(200);
    let e = w.api.post(&apath, activate("second")).await.error(409);
    assert_eq!(
        message(&e),
        "end user \"bob\" is already activated in this environment"
    );
}

/// A stored value the store cannot read back: 500, "internal error" and the request id to quote,
/// nothing of the cause in the answer; the cause is logged once, with the request's id.
async fn unreadable_value(w: World) {
    let o = &w.org;
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "Acme", "baseUrl": "https://api.acme.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]}),
        )
        .await
        .expect(201);
    let cid = connector["id"].as_str().unwrap();
    let path = format!("/api/connect/v1/o/{o}/connectors/{cid}");
    w.api.get(&path).await.expect(200);
    // A list where a list of auth scheme configs belongs: valid JSON, but not what it must be.
    let sql = "UPDATE connectors SET auth_scheme_configs = '\"oops\"' WHERE id = $1";
    if w.db.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&w.db.url).await.unwrap();
        sqlx::query(sql).bind(cid).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(&w.db.url).await.unwrap();
        sqlx::query(sql).bind(cid).execute(&pool).await.unwrap();
    }
    let res = w.api.get(&path).await;
    let request_id = res.headers["x-request-id"].to_str().unwrap().to_owned();
    let e = res.error(500);
    assert_eq!(message(&e), "internal error");
    assert_eq!(e["details"], format!("request id {request_id}"), "{e}");
    assert!(!e.to_string().contains("auth_scheme_configs"), "{e}");
    // The log line is written as the response leaves: wait for it briefly.
    let mut line = None;
    for _ in 0..50 {
        line = w
            .server
            .logs()
            .lines()
            .find(|l| l.contains("stored auth_scheme_configs is unreadable"))
            .map(str::to_owned);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let line = line.expect("the cause is logged");
    assert!(line.contains("database error"), "{line}");
    assert!(line.contains(&request_id), "{line}");
    let logged = w
        .server
        .logs()
        .lines()
        .filter(|l| l.contains("stored auth_scheme_configs is unreadable"))
        .count();
    assert_eq!(logged, 1, "the cause is logged once");
}

on_both_databases! {
    v1 => v1_conflicts;
    v2 => v2_conflicts;
    unreadable => unreadable_value;
}

/// The rows of the mapping no request reaches on demand (a missing row the handler already
/// checked, the generic index and key rules, an unreachable database, several connection names),
/// worded as the API words them.
#[test]
fn the_mapping_table() {
    use switchyard_server::error::store_error;
    let cases: Vec<(StoreError, u16, &str)> = vec![
        (
            StoreError::NotFound { what: "project" },
            404,
            "project not found",
        ),
        (
            StoreError::conflict(Constraint::Unique),
            409,
            "a resource with these identifying fields already exists",
        ),
        (
            StoreError::conflict(Constraint::ForeignKey),
            409,
            "the resource is referenced by, or references, another resource",
        ),
        (
            StoreError::conflict(Constraint::ConnectionName {
                names: vec!["a".into(), "b".into()],
            }),
            409,
            "a connection with one of the names \"a\", \"b\" already exists for its connector",
        ),
        (
            StoreError::conflict(Constraint::EnvironmentLimit { max: 5, count: 5 }),
            409,
            "a project has at most 5 environments, and this one has 5",
        ),
        (
            StoreError::Unavailable("connection refused".into()),
            503,
            "the database is unavailable, try again shortly",
        ),
        (
            StoreError::Other("stored secret-ish detail".into()),
            500,
            // The cause travels with the error, to be logged once and never answered.
            "database error: stored secret-ish detail",
        ),
    ];
    for (store, status, words) in cases {
        let e = store_error(store);
        assert_eq!((e.kind.status(), e.message.as_str()), (status, words));
    }
}
