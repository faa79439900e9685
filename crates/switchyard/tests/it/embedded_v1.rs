//! Embedded API v1: the whole lifecycle as Versori's spec describes it, every response checked
//! against the spec's schemas, and every error case with its status, shape and "nothing written".

use crate::common::spec;
use crate::common::*;
use serde_json::{json, Value};

const PRIMARY_SECRET: &str = "canary-primary-key-7f3a";
const ERP_PASSWORD: &str = "canary-erp-password-91b2";

struct Setup {
    hub: String,
    integration: String,
    t_primary: String,
    t_erp: String,
    c_primary: String,
    c_erp: String,
}

fn variables_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["region"],
        "properties": {
            "region": {"type": "string", "enum": ["eu", "us"]},
            "batchSize": {"type": "integer", "minimum": 1, "default": 50},
            "notify": {"type": "object", "properties": {"email": {"type": "string"}, "enabled": {"type": "boolean", "default": false}}}
        }
    })
}

fn primary_connection(secret: &str) -> Value {
    json!({"name": "primary", "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Api-Key"), "credential": {"name": "(API Key)", "type": "string", "data": {"value": secret}}}]}, "variables": []})
}

fn erp_connection(name: &str, password: &str) -> Value {
    json!({"name": name, "credentials": {"action": [{"authSchemeConfig": basic_scheme("basic"), "credential": {"name": "ERP login", "type": "basic-auth", "data": {"username": "erp-user", "password": password}}}]}, "variables": [{"name": "tenant", "value": "t1"}]})
}

async fn setup(w: &World) -> Setup {
    let o = &w.org;
    let primary = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "Acme App", "baseUrl": "https://api.acme.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]}),
        )
        .await
        .expect(201);
    spec::check(spec::connect(), "HTTPConnector", &primary);
    let erp = w
        .api
        .post(&format!("/api/connect/v1/o/{o}/protocols/http/connectors"), json!({"name": "ERP", "baseUrl": "https://{{tenant}}.erp.example", "authSchemeConfigs": [basic_scheme("basic")], "connectionVariables": [{"name":"tenant","value":""}]}))
        .await
        .expect(201);
    let c_primary = primary["id"].as_str().unwrap().to_owned();
    let c_erp = erp["id"].as_str().unwrap().to_owned();
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Main hub", "primaryConnectorId": c_primary, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
        )
        .await
        .expect(201);
    spec::check(spec::embedded(), "Hub", &hub);
    assert_eq!(hub["isDefault"], true);
    assert_eq!(hub["primaryConnector"]["name"], "Acme App");
    let hub_id = hub["id"].as_str().unwrap().to_owned();
    let integration = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub_id}/integrations"),
            json!({"organisationId": o, "name": "Orders to ERP", "description": "Sends orders to the ERP", "variablesSchema": variables_schema(),
                   "connectionTemplate": {"connectorId": c_primary, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}}),
        )
        .await
        .expect(200);
    spec::check(spec::embedded(), "Integration", &integration);
    assert_eq!(integration["isDeployed"], false);
    let iid = integration["id"].as_str().unwrap().to_owned();
    let t = w
        .api
        .post(
            &format!("/api/embedded/v1/integrations/{iid}/connection-templates"),
            json!({"connectorId": c_erp, "authSchemeConfig": basic_scheme("basic")}),
        )
        .await
        .expect(200);
    spec::check(spec::embedded(), "HubConnectionTemplate", &t);
    assert_eq!(
        (t["isPrimary"].as_bool(), t["name"].as_str()),
        (Some(false), Some("ERP"))
    );
    let list = w
        .api
        .get(&format!(
            "/api/embedded/v1/integrations/{iid}/connection-templates"
        ))
        .await
        .expect(200);
    spec::check(spec::embedded(), "HubConnectionTemplatePage", &list);
    assert_eq!(list["totalCount"], 2);
    let t_primary = list["connectionTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["isPrimary"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Setup {
        hub: hub_id,
        integration: iid,
        t_primary,
        t_erp: t["id"].as_str().unwrap().to_owned(),
        c_primary,
        c_erp,
    }
}

async fn create_user(w: &World, hub: &str, external: &str) -> Value {
    w.api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users"),
            json!({"externalId": external, "displayName": "Customer", "primaryConnection": primary_connection(PRIMARY_SECRET)}),
        )
        .await
        .expect(201)
}

async fn deploy(w: &World, integration: &str) {
    let d = w
        .api
        .post(
            &format!("/api/embedded/v1/integrations/{integration}/deploy"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(d["isDeployed"], true);
}

async fn lifecycle(w: World) {
    let s = setup(&w).await;
    let mut bodies = Vec::new();
    deploy(&w, &s.integration).await;

    // Someone who does not exist yet sees every integration, none activated.
    let before = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/cust-42/integrations",
            s.hub
        ))
        .await
        .expect(200);
    spec::check(spec::embedded(), "EmbeddedIntegrationPage", &before);
    assert_eq!(
        (
            before["totalCount"].as_i64(),
            before["totalConnected"].as_i64(),
            before["integrations"][0]["isActivated"].as_bool()
        ),
        (Some(1), Some(0), Some(false))
    );

    let user = create_user(&w, &s.hub, "cust-42").await;
    spec::check(spec::embedded(), "EndUser", &user);
    let user_id = user["id"].as_str().unwrap().to_owned();
    let primary_conn = user["primaryConnection"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        user["primaryConnection"]["credentials"]["action"][0]["credential"]["type"],
        "string"
    );
    bodies.push(user.clone());

    let list = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/cust-42/integrations",
            s.hub
        ))
        .await
        .expect(200);
    spec::check(spec::embedded(), "EmbeddedIntegrationPage", &list);
    assert_eq!(list["integrations"][0]["isActivated"], false);
    assert_eq!(list["totalConnected"], 0);

    // Activate with one existing connection (the primary one) and one new connection.
    let activation = w
        .api
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "cust-42", "integrationId": s.integration, "connections": [
                {"templateId": s.t_primary, "connectionId": primary_conn},
                {"templateId": s.t_erp, "name": "My ERP", "credentials": erp_connection("x", ERP_PASSWORD)["credentials"].clone(), "variables": [{"name": "tenant", "value": "t1"}]}
            ], "dynamicVariables": {"region": "eu", "notify": {"email": "ops@example.com"}}}),
        )
        .await
        .expect(200);
    spec::check(spec::embedded(), "Activation", &activation);
    assert_eq!(activation["user"]["id"], user_id.as_str());
    assert_eq!(
        activation["user"]["primaryConnection"]["id"],
        primary_conn.as_str()
    );
    assert_eq!(activation["hubId"], s.hub.as_str());
    assert_eq!(activation["integration"]["isActivated"], true);
    assert_eq!(
        activation["dynamicVariables"],
        json!({"region": "eu", "batchSize": 50, "notify": {"email": "ops@example.com", "enabled": false}}),
        "defaults applied"
    );
    let aid = activation["id"].as_str().unwrap().to_owned();
    bodies.push(activation.clone());

    let list = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/cust-42/integrations?deployed=true",
            s.hub
        ))
        .await
        .expect(200);
    spec::check(spec::embedded(), "EmbeddedIntegrationPage", &list);
    assert_eq!(
        (
            list["integrations"][0]["isActivated"].as_bool(),
            list["totalConnected"].as_i64()
        ),
        (Some(true), Some(1))
    );
    let by_internal = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/{user_id}/integrations?identifier_type=internal",
            s.hub
        ))
        .await
        .expect(200);
    assert_eq!(by_internal["totalConnected"], 1);
    let none = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/cust-42/integrations?deployed=false",
            s.hub
        ))
        .await
        .expect(200);
    assert_eq!(none["totalCount"], 0);

    // Reads.
    let got = w
        .api
        .get(&format!("/api/embedded/v1/activations/{aid}"))
        .await
        .expect(200);
    spec::check(spec::embedded(), "Activation", &got);
    let acts = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/cust-42/activations?integration_id={}",
            s.hub, s.integration
        ))
        .await
        .expect(200);
    spec::check(spec::embedded(), "EndUserActivationPage", &acts);
    assert_eq!(acts["activations"][0]["id"], aid.as_str());
    let ei = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/cust-42/integrations/{}",
            s.hub, s.integration
        ))
        .await
        .expect(200);
    spec::check(spec::embedded(), "EmbeddedIntegration", &ei);
    assert_eq!(ei["connectionTemplates"].as_array().unwrap().len(), 2);
    let erp_conn = w
        .api
        .get(&format!(
            "/api/embedded/v1/connection-templates/{}/users/cust-42",
            s.t_erp
        ))
        .await
        .expect(200);
    spec::check(spec::embedded(), "Connection", &erp_conn);
    assert_eq!(erp_conn["name"], "My ERP");
    assert_eq!(
        erp_conn["credentials"]["action"][0]["credential"]["data"],
        json!({"username": "erp-user", "password": ""}),
        "redacted"
    );
    bodies.push(erp_conn.clone());
    let conns = w
        .api
        .get(&format!(
            "/api/embedded/v1/hubs/{}/users/cust-42/connections",
            s.hub
        ))
        .await
        .expect(200);
    spec::check(spec::embedded(), "EndUserConnectionsPage", &conns);
    assert_eq!(conns["totalCount"], 2);
    let only_erp = w
        .api
        .get(&format!(
            "/api/embedded/v1/hubs/{}/users/cust-42/connections?hub_connector_id={}",
            s.hub, s.c_erp
        ))
        .await
        .expect(200);
    assert_eq!(only_erp["totalCount"], 1);
    let users = w
        .api
        .get(&format!(
            "/api/embedded/v1/hubs/{}/users?search=CUST",
            s.hub
        ))
        .await
        .expect(200);
    spec::check(spec::embedded(), "EndUserPage", &users);
    assert_eq!(users["totalCount"], 1);
    let hubs = w
        .api
        .get(&format!("/api/embedded/v1/o/{}/hubs", w.org))
        .await
        .expect(200);
    spec::check(spec::embedded(), "HubsPage", &hubs);
    let ints = w
        .api
        .get(&format!("/api/embedded/v1/hubs/{}/integrations", s.hub))
        .await
        .expect(200);
    spec::check(spec::embedded(), "ListIntegrations", &ints);
    let got_user = w
        .api
        .get(&format!("/api/embedded/v1/hubs/{}/users/cust-42", s.hub))
        .await
        .expect(200);
    spec::check(spec::embedded(), "EndUser", &got_user);
    bodies.push(got_user);

    // Update variables: validated, defaults applied, stored.
    let updated = w
        .api
        .put(
            &format!("/api/embedded/v1/activations/{aid}/variables"),
            json!({"dynamicVariables": {"region": "us"}}),
        )
        .await
        .expect(200);
    assert_eq!(
        updated,
        json!({"dynamicVariables": {"region": "us", "batchSize": 50}})
    );
    let e = w
        .api
        .put(
            &format!("/api/embedded/v1/activations/{aid}/variables"),
            json!({"dynamicVariables": {"region": "mars"}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariables.region"]);
    let vars = w
        .api
        .get(&format!(
            "/api/embedded/v1/integrations/{}/users/cust-42/variables",
            s.integration
        ))
        .await
        .expect(200);
    assert_eq!(vars, json!({"region": "us", "batchSize": 50}));
    let r = w
        .api
        .put(
            &format!(
                "/api/embedded/v1/integrations/{}/users/cust-42/variables",
                s.integration
            ),
            json!({"region": "eu", "batchSize": 5}),
        )
        .await;
    assert_eq!(r.status, 204);
    let vars = w
        .api
        .get(&format!(
            "/api/embedded/v1/integrations/{}/users/cust-42/variables",
            s.integration
        ))
        .await
        .expect(200);
    assert_eq!(vars, json!({"region": "eu", "batchSize": 5}));

    // Deactivate.
    assert_eq!(
        w.api
            .delete(&format!("/api/embedded/v1/activations/{aid}"))
            .await
            .status,
        204
    );
    w.api
        .get(&format!("/api/embedded/v1/activations/{aid}"))
        .await
        .error(404);
    let list = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/cust-42/integrations",
            s.hub
        ))
        .await
        .expect(200);
    assert_eq!(
        (
            list["integrations"][0]["isActivated"].as_bool(),
            list["totalConnected"].as_i64()
        ),
        (Some(false), Some(0))
    );
    // The user and their connections stay.
    assert_eq!(
        w.api
            .get(&format!(
                "/api/embedded/v1/hubs/{}/users/cust-42/connections",
                s.hub
            ))
            .await
            .expect(200)["totalCount"],
        2
    );

    for b in bodies {
        let text = b.to_string();
        assert!(
            !text.contains(PRIMARY_SECRET) && !text.contains(ERP_PASSWORD),
            "a secret leaked: {text}"
        );
    }
    assert!(
        !w.server.logs().contains(PRIMARY_SECRET) && !w.server.logs().contains(ERP_PASSWORD),
        "a secret reached the log"
    );
}

/// What an end user has: (connections, activations).
async fn footprint(w: &World, hub: &str, user: &str) -> (i64, i64) {
    let c = w
        .api
        .get(&format!(
            "/api/embedded/v1/hubs/{hub}/users/{user}/connections"
        ))
        .await
        .expect(200)["totalCount"]
        .as_i64()
        .unwrap();
    let a = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/{user}/activations"
        ))
        .await
        .expect(200)["totalCount"]
        .as_i64()
        .unwrap();
    (c, a)
}

async fn activation_errors(w: World) {
    let s = setup(&w).await;
    let user = create_user(&w, &s.hub, "cust-1").await;
    let primary_conn = user["primaryConnection"]["id"].as_str().unwrap().to_owned();
    let other = create_user(&w, &s.hub, "cust-2").await;
    let other_conn = other["primaryConnection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_erp = |name: &str| {
        let mut c = erp_connection(name, ERP_PASSWORD);
        c["templateId"] = json!(s.t_erp);
        c
    };
    let good = |conns: Value, vars: Value| json!({"userId": "cust-1", "integrationId": s.integration, "connections": conns, "dynamicVariables": vars});
    let base = footprint(&w, &s.hub, "cust-1").await;
    assert_eq!(base, (1, 0));

    // Not deployed.
    let e = w
        .api
        .post(
            "/api/embedded/v1/activations",
            good(
                json!([{"templateId": s.t_primary, "connectionId": primary_conn}, new_erp("e")]),
                json!({"region": "eu"}),
            ),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["integrationId"]);
    assert!(e["message"].as_str().unwrap().contains("not deployed"));
    assert_eq!(footprint(&w, &s.hub, "cust-1").await, base);
    deploy(&w, &s.integration).await;

    // Unknown user, unknown integration.
    let mut b = good(json!([]), json!({"region": "eu"}));
    b["userId"] = json!("nobody");
    w.api
        .post("/api/embedded/v1/activations", b)
        .await
        .error(404);
    let mut b = good(json!([]), json!({"region": "eu"}));
    b["integrationId"] = json!("01ARZ3NDEKTSV4RRFFQ69G5FAV");
    w.api
        .post("/api/embedded/v1/activations", b)
        .await
        .error(404);

    // Unknown template, a connection of another user, another connector's connection, a template twice.
    let cases = [
        (
            json!([{"templateId": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "connectionId": primary_conn}, new_erp("e")]),
            "connections[0].templateId",
        ),
        (
            json!([{"templateId": s.t_primary, "connectionId": other_conn}, new_erp("e")]),
            "connections[0].connectionId",
        ),
        (
            json!([{"templateId": s.t_erp, "connectionId": primary_conn}, {"templateId": s.t_primary, "connectionId": primary_conn}]),
            "connections[0].connectionId",
        ),
        (
            json!([{"templateId": s.t_primary, "connectionId": primary_conn}, new_erp("e"), new_erp("f")]),
            "connections[2].templateId",
        ),
    ];
    for (conns, field) in cases {
        let e = w
            .api
            .post(
                "/api/embedded/v1/activations",
                good(conns.clone(), json!({"region": "eu"})),
            )
            .await
            .error(400);
        assert!(
            Res::fields(&e).contains(&field.to_owned()),
            "expected {field} in {e} for {conns}"
        );
        assert_eq!(
            footprint(&w, &s.hub, "cust-1").await,
            base,
            "nothing written for {conns}"
        );
    }
    // A non-primary template left unbound: one error listing every missing template by id and name.
    let e = w
        .api
        .post(
            "/api/embedded/v1/activations",
            good(json!([]), json!({"region": "eu"})),
        )
        .await
        .error(400);
    let msg = e["fields"][0]["message"].as_str().unwrap();
    assert!(msg.contains(&s.t_erp) && msg.contains("ERP"), "{e}");
    assert!(
        !msg.contains(&s.t_primary),
        "the primary template is served by the user's primary connection: {e}"
    );
    // Variables: every violation, with its path.
    let e = w
        .api
        .post(
            "/api/embedded/v1/activations",
            good(
                json!([new_erp("e")]),
                json!({"batchSize": 0, "colour": "red", "notify": {"enabled": "yes"}}),
            ),
        )
        .await
        .error(400);
    let mut f = Res::fields(&e);
    f.sort();
    assert_eq!(
        f,
        [
            "dynamicVariables.batchSize",
            "dynamicVariables.colour",
            "dynamicVariables.notify.enabled",
            "dynamicVariables.region"
        ],
        "{e}"
    );
    // Bad credential data in a new connection is named, and nothing is written.
    let mut bad = new_erp("e");
    bad["credentials"]["action"][0]["credential"]["data"] = json!({"username": "u"});
    let e = w
        .api
        .post(
            "/api/embedded/v1/activations",
            good(json!([bad]), json!({"region": "eu"})),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["connections[0].credentials.action[0].credential.data.password"],
        "{e}"
    );
    assert_eq!(footprint(&w, &s.hub, "cust-1").await, base);

    // The older body form, and activation by internal id.
    let old = json!({"userId": user["id"], "integrationId": s.integration, "connections": [new_erp("legacy")], "variables": [{"name": "region", "value": "us"}]});
    let a = w
        .api
        .post("/api/embedded/v1/activations", old)
        .await
        .expect(200);
    assert_eq!(a["dynamicVariables"]["region"], "us");
    assert_eq!(footprint(&w, &s.hub, "cust-1").await, (2, 1));
    // A second activation: 409 naming the existing one; nothing more written.
    let e = w
        .api
        .post(
            "/api/embedded/v1/activations",
            good(json!([new_erp("again")]), json!({"region": "eu"})),
        )
        .await
        .error(409);
    assert!(e.to_string().contains(a["id"].as_str().unwrap()), "{e}");
    assert_eq!(footprint(&w, &s.hub, "cust-1").await, (2, 1));
}

async fn end_users_hubs_and_integrations(w: World) {
    let s = setup(&w).await;
    let hub = &s.hub;
    let u = create_user(&w, hub, "dup").await;
    let e = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users"),
            json!({"externalId": "dup", "primaryConnection": primary_connection("x")}),
        )
        .await
        .error(409);
    assert!(e["message"].as_str().unwrap().contains("dup"));
    let e = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users"),
            json!({"externalId": "nocreds"}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["primaryConnection"]);
    let e = w.api.post(&format!("/api/embedded/v1/hubs/{hub}/users"), json!({"externalId": "badcreds", "primaryConnection": {"name": "p", "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Api-Key"), "credential": {"name": "k", "type": "basic-auth", "data": {}}}]}}})).await.error(400);
    assert_eq!(
        Res::fields(&e),
        ["primaryConnection.credentials.action[0].credential.type"]
    );
    w.api
        .get(&format!("/api/embedded/v1/hubs/{hub}/users/badcreds"))
        .await
        .error(404);
    // By internal id, and an end-user connection created directly.
    let uid = u["id"].as_str().unwrap();
    w.api
        .get(&format!(
            "/api/embedded/v1/hubs/{hub}/users/{uid}?identifier_type=internal"
        ))
        .await
        .expect(200);
    w.api
        .get(&format!("/api/embedded/v1/hubs/{hub}/users/{uid}"))
        .await
        .error(404);
    let c = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users/dup/connections"),
            json!({"connectorId": s.c_erp, "connection": erp_connection("erp", "pw")}),
        )
        .await
        .expect(201);
    spec::check(spec::embedded(), "Connection", &c);
    w.api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users/dup/connections"),
            json!({"connectorId": s.c_erp, "connection": erp_connection("erp", "pw")}),
        )
        .await
        .error(409);

    // A deployed integration cannot be deleted; an activation blocks deletion too.
    deploy(&w, &s.integration).await;
    w.api
        .delete(&format!("/api/embedded/v1/integrations/{}", s.integration))
        .await
        .error(409);
    let a = w
        .api
        .post("/api/embedded/v1/activations", json!({"userId": "dup", "integrationId": s.integration, "connections": [{"templateId": s.t_erp, "connectionId": c["id"]}], "dynamicVariables": {"region": "eu"}}))
        .await
        .expect(200);
    // The connection is in use: Connect's delete answers 412 unless forced.
    w.api
        .delete(&format!(
            "/api/connect/v1/o/{}/connectors/{}/connections/{}",
            w.org,
            s.c_erp,
            c["id"].as_str().unwrap()
        ))
        .await
        .error(412);

    // Deleting the end user removes their connections and activations.
    assert_eq!(
        w.api
            .delete(&format!("/api/embedded/v1/hubs/{hub}/users/dup"))
            .await
            .status,
        204
    );
    w.api
        .get(&format!(
            "/api/embedded/v1/activations/{}",
            a["id"].as_str().unwrap()
        ))
        .await
        .error(404);
    w.api
        .get(&format!("/api/embedded/v1/hubs/{hub}/users/dup"))
        .await
        .error(404);
    w.api
        .get(&format!(
            "/api/connect/v1/o/{}/connectors/{}/connections/{}",
            w.org,
            s.c_erp,
            c["id"].as_str().unwrap()
        ))
        .await
        .error(404);
    let primary = u["primaryConnection"]["id"].as_str().unwrap();
    w.api
        .get(&format!(
            "/api/connect/v1/o/{}/connectors/{}/connections/{primary}",
            w.org, s.c_primary
        ))
        .await
        .error(404);
    w.api
        .get(&format!(
            "/api/embedded/v1/hubs/{hub}/users/dup/connections"
        ))
        .await
        .error(404);

    // Undeploy, then delete.
    let und = w
        .api
        .post(
            &format!("/api/embedded/v1/integrations/{}/undeploy", s.integration),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(und["isDeployed"], false);
    assert_eq!(
        w.api
            .delete(&format!("/api/embedded/v1/integrations/{}", s.integration))
            .await
            .status,
        204
    );
    w.api
        .get(&format!("/api/embedded/v1/integrations/{}", s.integration))
        .await
        .error(404);

    // Integration input errors.
    let e = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/integrations"),
            json!({"organisationId": w.org, "name": "x", "variablesSchema": {"type": 12}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["variablesSchema"]);
    let e = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/integrations"),
            json!({"name": "x"}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["organisationId"]);
    let e = w
        .api
        .post(&format!("/api/embedded/v1/hubs/{hub}/integrations"), json!({"organisationId": w.org, "name": "x", "connectionTemplate": {"connectorId": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "authSchemeConfig": basic_scheme("b")}}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["connectionTemplate.connectorId"]);
    assert_eq!(
        w.api
            .get(&format!("/api/embedded/v1/hubs/{hub}/integrations"))
            .await
            .expect(200)["total"],
        0,
        "nothing was written"
    );

    // Hubs: update, and a soft delete that keeps the hub readable by id.
    let h = w
        .api
        .patch(
            &format!("/api/embedded/v1/hubs/{hub}"),
            json!({"name": "Renamed"}),
        )
        .await
        .expect(200);
    assert_eq!(h["name"], "Renamed");
    let e = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": w.org, "name": "H", "primaryConnectorId": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "authSchemeConfig": basic_scheme("b")}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["primaryConnectorId"]);
    let keep = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/integrations"),
            json!({"organisationId": w.org, "name": "Kept"}),
        )
        .await
        .expect(200);
    assert_eq!(
        w.api
            .delete(&format!("/api/embedded/v1/hubs/{hub}"))
            .await
            .status,
        204
    );
    let still = w
        .api
        .get(&format!("/api/embedded/v1/hubs/{hub}"))
        .await
        .expect(200);
    assert_eq!(still["id"], hub.as_str());
    w.api
        .get(&format!(
            "/api/embedded/v1/integrations/{}",
            keep["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(
        w.api
            .get(&format!("/api/embedded/v1/o/{}/hubs", w.org))
            .await
            .expect(200)["totalCount"],
        0
    );
    w.api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users"),
            json!({"externalId": "late", "primaryConnection": primary_connection("x")}),
        )
        .await
        .error(404);
}

async fn paging_visits_every_integration_once(w: World) {
    let s = setup(&w).await;
    let mut ids = vec![s.integration.clone()];
    for i in 0..24 {
        let it = w
            .api
            .post(
                &format!("/api/embedded/v1/hubs/{}/integrations", s.hub),
                json!({"organisationId": w.org, "name": format!("Integration {i}")}),
            )
            .await
            .expect(200);
        if i % 2 == 0 {
            deploy(&w, it["id"].as_str().unwrap()).await;
        }
        ids.push(it["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = w
            .api
            .get(&format!(
                "/api/embedded/v1/embed/{}/users/someone/integrations?first=7&after={after}",
                s.hub
            ))
            .await
            .expect(200);
        spec::check(spec::embedded(), "EmbeddedIntegrationPage", &page);
        assert_eq!(page["totalCount"], 25);
        seen.extend(
            page["integrations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        after = page["next"].as_str().unwrap().to_owned();
        if after.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ids, "every integration once, in a stable order");
    // Backwards from the end with `before`.
    let last = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/someone/integrations?first=20",
            s.hub
        ))
        .await
        .expect(200);
    let tail = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/someone/integrations?first=20&after={}",
            s.hub,
            last["next"].as_str().unwrap()
        ))
        .await
        .expect(200);
    let back = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/someone/integrations?first=5&before={}",
            s.hub,
            tail["prev"].as_str().unwrap()
        ))
        .await
        .expect(200);
    let back_ids: Vec<_> = back["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(back_ids, ids[15..20]);
    let deployed = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/someone/integrations?deployed=true&first=100",
            s.hub
        ))
        .await
        .expect(200);
    assert_eq!(deployed["totalCount"], 12);
    assert!(deployed["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["isDeployed"] == true));
    let undeployed = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/someone/integrations?deployed=false&first=100",
            s.hub
        ))
        .await
        .expect(200);
    assert_eq!(undeployed["totalCount"], 13);
}

async fn connect_connections(w: World) {
    let s = setup(&w).await;
    let base = format!("/api/connect/v1/o/{}/connectors/{}", w.org, s.c_erp);
    let c = w
        .api
        .post(
            &format!("{base}/connections"),
            erp_connection("ops", "pw-1"),
        )
        .await
        .expect(200);
    spec::check(spec::connect(), "Connection", &c);
    let id = c["id"].as_str().unwrap();
    let list = w.api.get(&format!("{base}/connections")).await.expect(200);
    spec::check(spec::connect(), "ConnectorConnectionPage", &list);
    assert_eq!(list["totalCount"], 1);
    let cred_id = c["credentials"]["action"][0]["id"].as_str().unwrap();
    let upd = w
        .api
        .put(&format!("{base}/connections/{id}"), json!({"id": id, "name": "ops-2", "credentials": {"action": [{"id": cred_id, "authSchemeConfig": {"id": "basic", "description": "renamed", "schemeType": "basic-auth"}}]}, "variables": []}))
        .await
        .expect(200);
    assert_eq!(
        (
            upd["name"].as_str(),
            upd["variables"].as_array().map(Vec::len)
        ),
        (Some("ops-2"), Some(0))
    );
    assert_eq!(
        upd["credentials"]["action"][0]["authSchemeConfig"]["description"],
        "renamed"
    );
    let e = w
        .api
        .put(
            &format!("{base}/connections/{id}"),
            json!({"id": id, "name": "x", "credentials": {"action": [{"id": cred_id, "authSchemeConfig": api_key_scheme("k", "h")}]}}),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["credentials.action[0].authSchemeConfig.schemeType"]
    );
    // Auth scheme configs.
    let con = w
        .api
        .put(
            &format!("{base}/auth-scheme-configs/key2"),
            api_key_scheme("key2", "X-Other"),
        )
        .await
        .expect(200);
    assert_eq!(con["authSchemeConfigs"].as_array().unwrap().len(), 2);
    w.api
        .put(
            &format!("{base}/auth-scheme-configs/other"),
            api_key_scheme("key3", "X"),
        )
        .await
        .error(400);
    let con = w
        .api
        .put(
            &format!("{base}/auth-scheme-configs/oauth"),
            json!({"id": "oauth", "schemeType": "oauth2", "authorizeUrl": "https://idp.example/authorize", "tokenUrl": "https://idp.example/token", "scopes": [], "defaultScopes": [],
                   "grant": {"grantType": "authorization_code", "clientId": "client-1", "clientSecret": "canary-client-secret"}}),
        )
        .await
        .expect(200);
    let grant = &con["authSchemeConfigs"][2]["grant"];
    assert!(
        grant["credentialId"].is_string() && grant["organisationId"] == w.org.as_str(),
        "{con}"
    );
    assert!(!con.to_string().contains("canary-client-secret"));
    w.api
        .put(&format!("{base}/auth-scheme-configs/o2"), json!({"id": "o2", "schemeType": "oauth2", "authorizeUrl": "https://a", "tokenUrl": "https://t", "grant": {"grantType": "password", "credentialId": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}}))
        .await
        .error(400);
    let con = w
        .api
        .delete(&format!("{base}/auth-scheme-configs/key2"))
        .await
        .expect(200);
    assert_eq!(con["authSchemeConfigs"].as_array().unwrap().len(), 2);
    w.api
        .delete(&format!("{base}/auth-scheme-configs/key2"))
        .await
        .error(404);
    // In use by an end user's activation: 412 unless forced.
    deploy(&w, &s.integration).await;
    let u = create_user(&w, &s.hub, "u1").await;
    let conn = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{}/users/u1/connections", s.hub),
            json!({"connectorId": s.c_erp, "connection": erp_connection("mine", "pw")}),
        )
        .await
        .expect(201);
    w.api
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "u1", "integrationId": s.integration, "connections": [{"templateId": s.t_erp, "connectionId": conn["id"]}, {"templateId": s.t_primary, "connectionId": u["primaryConnection"]["id"]}], "dynamicVariables": {"region": "eu"}}),
        )
        .await
        .expect(200);
    let cid = conn["id"].as_str().unwrap();
    w.api
        .delete(&format!("{base}/connections/{cid}"))
        .await
        .error(412);
    assert_eq!(
        w.api
            .delete(&format!("{base}/connections/{cid}?force=true"))
            .await
            .status,
        204
    );
    w.api
        .get(&format!("{base}/connections/{cid}"))
        .await
        .error(404);
    assert_eq!(
        w.api
            .delete(&format!("{base}/connections/{id}"))
            .await
            .status,
        204
    );
    // Connectors in use cannot be deleted; others can.
    w.api
        .delete(&format!(
            "/api/connect/v1/o/{}/connectors/{}",
            w.org, s.c_primary
        ))
        .await
        .error(409);
    let lone = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org),
            json!({"name": "Lone", "baseUrl": "https://l.example"}),
        )
        .await
        .expect(201);
    let lid = lone["id"].as_str().unwrap();
    let upd = w
        .api
        .put(
            &format!("/api/connect/v1/o/{}/connectors/{lid}", w.org),
            json!({"name": "Lone 2", "baseUrl": "https://l2.example"}),
        )
        .await
        .expect(200);
    assert_eq!(upd["name"], "Lone 2");
    assert_eq!(
        w.api
            .delete(&format!("/api/connect/v1/o/{}/connectors/{lid}", w.org))
            .await
            .status,
        204
    );
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org),
            json!({"name": "Bad", "baseUrl": "not a url"}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["baseUrl"]);
    let page = w
        .api
        .get(&format!("/api/connect/v1/o/{}/connectors?first=1", w.org))
        .await
        .expect(200);
    spec::check(spec::connect(), "ConnectorPage", &page);
}

on_both_databases! {
    v1_lifecycle => lifecycle;
    v1_activation_errors => activation_errors;
    v1_users_hubs_integrations => end_users_hubs_and_integrations;
    v1_paging => paging_visits_every_integration_once;
    v1_connect => connect_connections;
}
