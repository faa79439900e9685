//! Platform API v2 connections and activations: the embedded lifecycle of versori-api.md §8.2
//! walked with the spec's own request and response shapes (every response body validated
//! against Versori's platform spec), every ActivateUser error with its status, shape and
//! "nothing written", and v2 connections (static, dynamic, update, link, delete rules).

use crate::common::spec;
use crate::common::*;
use serde_json::{json, Value};

const CRM_SECRET: &str = "canary-crm-user-key-7a41";
const ERP_SECRET: &str = "canary-erp-static-key-0c93";

fn v2_api_key(id: &str, header: &str) -> Value {
    json!({"type": "api-key", "apiKey": {"id": id, "description": "API key", "name": header, "in": "header"}})
}

/// A v2 `ConnectionCredential` holding an API key, as the embed SDK builds one.
fn api_key_credential(value: &str) -> Value {
    json!({"id": ulid::Ulid::new().to_string(), "authSchemeConfig": v2_api_key("apikey", "X-Api-Key"),
        "credential": {"id": ulid::Ulid::new().to_string(), "name": "(API Key)", "type": "string", "data": {"string": {"value": value}}}})
}

fn new_connection(value: &str) -> Value {
    json!({"name": ulid::Ulid::new().to_string(), "credentials": [api_key_credential(value)]})
}

/// An organisation set up as an admin would (§8.2 step 1): two systems with an api-key scheme, a
/// project, a dynamic template (crm) and a static one (erp), and erp's static connection.
struct Setup {
    w: World,
    crm_system: String,
    project: String,
    env: String,
    crm: String,
    erp: String,
    erp_connection: String,
}

impl Setup {
    fn o(&self) -> &str {
        &self.w.org
    }
    fn api(&self) -> &Api {
        &self.w.api
    }
    async fn activation_count(&self) -> usize {
        self.api()
            .get(&format!(
                "/api/v2/o/{}/environments/{}/activations",
                self.o(),
                self.env
            ))
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len()
    }
    async fn connection_count(&self) -> i64 {
        self.api()
            .get(&format!("/api/v2/o/{}/connections", self.o()))
            .await
            .expect(200)["totalCount"]
            .as_i64()
            .unwrap()
    }
    async fn create_user(&self, external_id: &str) -> Value {
        let u = self
            .api()
            .post(
                &format!("/api/v2/o/{}/users", self.o()),
                json!({"externalId": external_id, "displayName": format!("{external_id}_primary")}),
            )
            .await
            .expect(201);
        spec::check(spec::platform(), "EndUser", &u);
        u
    }
    async fn activate(&self, body: Value) -> Res {
        self.api()
            .post(&format!("/api/v2/o/{}/activations", self.o()), body)
            .await
    }
}

async fn setup(w: World) -> Setup {
    let o = w.org.clone();
    let mut systems = Vec::new();
    for name in ["CRM", "ERP"] {
        let body = json!({"name": name, "domain": format!("{}.example", name.to_lowercase()), "templateBaseUrl": format!("https://api.{}.example", name.to_lowercase()), "authSchemeConfigs": [v2_api_key("apikey", "X-Api-Key")]});
        let sys = w
            .api
            .post(&format!("/api/v2/o/{o}/systems"), body)
            .await
            .expect(201);
        spec::check(spec::platform(), "System", &sys);
        systems.push(sys["id"].as_str().unwrap().to_owned());
    }
    let project = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects"),
            json!({"name": "Orders sync"}),
        )
        .await
        .expect(200);
    let pid = project["id"].as_str().unwrap().to_owned();
    let env = project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tpath = format!("/api/v2/o/{o}/projects/{pid}/connection-templates");
    let crm = w
        .api
        .post(
            &tpath,
            json!({"systemId": systems[0], "name": "crm", "environmentId": env, "dynamic": true}),
        )
        .await
        .expect(200);
    let erp = w
        .api
        .post(
            &tpath,
            json!({"systemId": systems[1], "name": "erp", "environmentId": env, "dynamic": false}),
        )
        .await
        .expect(200);
    let erp_t = erp["connectionTemplateId"].as_str().unwrap().to_owned();
    let conn = w
        .api
        .post(
            &format!("/api/v2/o/{o}/connections"),
            json!({"connectionTemplateId": erp_t, "connection": {"name": "erp-production", "credentials": [api_key_credential(ERP_SECRET)]}}),
        )
        .await
        .expect(201);
    spec::check(spec::platform(), "Connection", &conn);
    assert_eq!(conn["connectionTemplateId"], erp_t.as_str());
    assert_eq!(conn["systemId"], systems[1].as_str());
    assert!(
        !conn.to_string().contains(ERP_SECRET),
        "a connection read never shows its secret: {conn}"
    );
    assert_eq!(conn["credentials"][0]["credential"]["type"], "string");
    assert_eq!(
        conn["credentials"][0]["authSchemeConfig"],
        v2_api_key("apikey", "X-Api-Key")
    );
    Setup {
        crm_system: systems[0].clone(),
        project: pid,
        env,
        crm: crm["connectionTemplateId"].as_str().unwrap().to_owned(),
        erp: erp_t,
        erp_connection: conn["id"].as_str().unwrap().to_owned(),
        w,
    }
}

/// The whole of §8.2, as the admin and the embed SDK make the calls.
async fn lifecycle_walk(w: World) {
    let s = setup(w).await;
    let (o, env, pid) = (s.o().to_owned(), s.env.clone(), s.project.clone());
    let schema = json!({"type": "object", "properties": {"region": {"type": "string", "enum": ["eu", "us"]}, "batch": {"type": "integer", "minimum": 1}}, "required": ["region"]});
    let set = s
        .api()
        .put(
            &format!("/api/v2/o/{o}/projects/{pid}/variables"),
            schema.clone(),
        )
        .await
        .expect(200);
    assert_eq!(set, schema);
    let deployed = s
        .api()
        .put(
            &format!("/api/v2/o/{o}/projects/{pid}/deploy?project_env=production"),
            json!({"files": [], "labels": {}, "versionName": "v1"}),
        )
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &deployed);
    assert_eq!(deployed["environments"][0]["status"], "running");

    // The end user, as the SDK does it: 404, then create.
    s.api()
        .get(&format!("/api/v2/o/{o}/users/alice"))
        .await
        .error(404);
    let alice = s.create_user("alice").await;
    let bob = s.create_user("bob").await;

    // ActivateUser, the SDK's dynamic-only form: the static template is served by its static connection.
    let a = s
        .activate(json!({"userId": "alice", "environmentId": env, "connections": [{"connectionTemplateId": s.crm, "connection": new_connection(CRM_SECRET)}], "dynamicVariables": {"region": "eu"}}))
        .await
        .expect(200);
    spec::check(spec::platform(), "Activation", &a);
    assert_eq!(a["user"], alice);
    assert_eq!(a["environment"]["id"], env.as_str());
    assert_eq!(a["dynamicVariables"], json!({"region": "eu"}));
    let served: Vec<(&str, &str)> = a["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["connectionTemplateId"].as_str().unwrap(),
                c["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(served.len(), 2, "{a}");
    assert_eq!(served[1], (s.erp.as_str(), s.erp_connection.as_str()));
    assert_eq!(served[0].0, s.crm.as_str());
    let alice_crm = served[0].1.to_owned();
    assert!(
        !a.to_string().contains(CRM_SECRET) && !a.to_string().contains(ERP_SECRET),
        "{a}"
    );

    // The full form, by internal id: one entry per template, the static one by its connection.
    let b = s
        .activate(json!({"userId": bob["id"], "environmentId": env, "connections": [
            {"connectionTemplateId": s.crm, "connection": new_connection("bob-key"), "existingConnectionId": s.erp_connection},
            {"connectionTemplateId": s.erp, "existingConnectionId": s.erp_connection}],
            "dynamicVariables": {"region": "us", "batch": 5}}))
        .await
        .expect(200);
    spec::check(spec::platform(), "Activation", &b);
    assert_eq!(b["user"]["externalId"], "bob");
    assert_ne!(
        b["connections"][0]["id"],
        s.erp_connection.as_str(),
        "the new connection wins over existingConnectionId"
    );
    assert_eq!(b["connections"][1]["id"], s.erp_connection.as_str());

    // The user's activations (the SDK's getActivations; note the singular /environment/).
    let mine = s
        .api()
        .get(&format!(
            "/api/v2/o/{o}/environment/{env}/users/alice/activations"
        ))
        .await
        .expect(200);
    spec::check(spec::platform(), "ActivationsList", &mine);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], a["id"]);
    assert_eq!(
        s.api()
            .get(&format!(
                "/api/v2/o/{o}/environment/{env}/users/nobody-yet/activations"
            ))
            .await
            .expect(200),
        json!([])
    );
    let all = s
        .api()
        .get(&format!("/api/v2/o/{o}/environments/{env}/activations"))
        .await
        .expect(200);
    spec::check(spec::platform(), "ActivationsList", &all);
    assert_eq!(
        all.as_array()
            .unwrap()
            .iter()
            .map(|x| x["user"]["externalId"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    let aid = a["id"].as_str().unwrap().to_owned();
    let got = s
        .api()
        .get(&format!(
            "/api/v2/o/{o}/environments/{env}/activations/{aid}"
        ))
        .await
        .expect(200);
    spec::check(spec::platform(), "Activation", &got);
    assert_eq!(got, a);

    // Variables, both calls: PATCH merges, PUT sets one; each checked against the schema.
    let vpath = format!("/api/v2/o/{o}/environments/{env}/activations/{aid}/variables");
    let merged = s
        .api()
        .patch(&vpath, json!({"batch": 10}))
        .await
        .expect(200);
    spec::check(spec::platform(), "DynamicVariables", &merged);
    assert_eq!(merged, json!({"region": "eu", "batch": 10}));
    let one = s
        .api()
        .put(&format!("{vpath}/region"), json!({"value": "us"}))
        .await
        .expect(200);
    assert_eq!(one, json!({"region": "us", "batch": 10}));
    let bad = s
        .api()
        .put(&format!("{vpath}/region"), json!({"value": "mars"}))
        .await
        .error(400);
    assert_eq!(Res::fields(&bad), ["dynamicVariables.region"]);
    let bad = s
        .api()
        .patch(&vpath, json!({"colour": "red", "batch": 0}))
        .await
        .error(400);
    let mut f = Res::fields(&bad);
    f.sort();
    assert_eq!(f, ["dynamicVariables.batch", "dynamicVariables.colour"]);
    assert_eq!(
        s.api()
            .get(&format!(
                "/api/v2/o/{o}/environments/{env}/activations/{aid}"
            ))
            .await
            .expect(200)["dynamicVariables"],
        json!({"region": "us", "batch": 10})
    );

    // The environment's static activation and its variables.
    let statics = s
        .api()
        .patch(
            &format!("/api/v2/o/{o}/environments/{env}/variables"),
            json!({"region": "eu"}),
        )
        .await
        .expect(200);
    assert_eq!(statics, json!({"region": "eu"}));
    let st = s
        .api()
        .get(&format!(
            "/api/v2/o/{o}/environments/{env}/activations?static=true"
        ))
        .await
        .expect(200);
    spec::check(spec::platform(), "ActivationsList", &st);
    assert_eq!(st.as_array().unwrap().len(), 1);
    assert_eq!(st[0]["dynamicVariables"], json!({"region": "eu"}));
    assert_eq!(
        s.api()
            .get(&format!("/api/v2/o/{o}/users"))
            .await
            .expect(200)["totalCount"],
        2,
        "the static user is not an end user"
    );
    assert_eq!(
        s.activation_count().await,
        2,
        "nor is its activation listed with theirs"
    );

    // What serves a template for an activation (the runtime's lookup).
    let c = s
        .api()
        .get(&format!(
            "/api/v2/o/{o}/environment-systems/{}/activations/{aid}",
            s.crm
        ))
        .await
        .expect(200);
    spec::check(spec::platform(), "Connection", &c);
    assert_eq!(c["id"], alice_crm.as_str());
    let c = s
        .api()
        .get(&format!(
            "/api/v2/o/{o}/environment-systems/{}/activations/{aid}",
            s.erp
        ))
        .await
        .expect(200);
    assert_eq!(c["id"], s.erp_connection.as_str());

    // A dynamic connection in use cannot be deleted; deactivating leaves the user and connection.
    s.api()
        .delete(&format!("/api/v2/o/{o}/connections/{alice_crm}"))
        .await
        .error(409);
    assert_eq!(
        s.api()
            .delete(&format!(
                "/api/v2/o/{o}/environments/{env}/activations/{aid}"
            ))
            .await
            .status,
        204
    );
    s.api()
        .get(&format!(
            "/api/v2/o/{o}/environments/{env}/activations/{aid}"
        ))
        .await
        .error(404);
    s.api()
        .get(&format!("/api/v2/o/{o}/users/alice"))
        .await
        .expect(200);
    s.api()
        .get(&format!("/api/v2/o/{o}/connections/{alice_crm}"))
        .await
        .expect(200);
    assert_eq!(
        s.api()
            .get(&format!(
                "/api/v2/o/{o}/environment/{env}/users/alice/activations"
            ))
            .await
            .expect(200),
        json!([])
    );
    assert_eq!(
        s.api()
            .delete(&format!("/api/v2/o/{o}/connections/{alice_crm}"))
            .await
            .status,
        204
    );
    // A static connection in use can be deleted.
    assert_eq!(
        s.api()
            .delete(&format!("/api/v2/o/{o}/connections/{}", s.erp_connection))
            .await
            .status,
        204
    );
    let bid = b["id"].as_str().unwrap();
    let b_now = s
        .api()
        .get(&format!(
            "/api/v2/o/{o}/environments/{env}/activations/{bid}"
        ))
        .await
        .expect(200);
    assert_eq!(
        b_now["connections"].as_array().unwrap().len(),
        1,
        "erp has no connection now: {b_now}"
    );
    // Deleting an end user deletes its activations and dynamic connections.
    assert_eq!(
        s.api()
            .delete(&format!("/api/v2/o/{o}/users/bob"))
            .await
            .status,
        204
    );
    assert_eq!(s.activation_count().await, 0);
    assert_eq!(s.connection_count().await, 0);
}

/// The seed document's request, exactly as written (../shared/seeds/activate-user-v2.txt): every
/// template given an `existingConnectionId`, and empty `dynamicVariables`; the answer has every
/// field of the seed's example answer.
async fn seed_request(w: World) {
    let s = setup(w).await;
    let o = s.o().to_owned();
    s.create_user("carol").await;
    let mine = s
        .api()
        .post(&format!("/api/v2/o/{o}/connections"), json!({"connectionTemplateId": s.crm, "externalId": "carol", "connection": new_connection("carol-key")}))
        .await
        .expect(201);
    let a = s
        .activate(json!({"userId": "carol", "environmentId": s.env, "connections": [
            {"connectionTemplateId": s.crm, "existingConnectionId": mine["id"]},
            {"connectionTemplateId": s.erp, "existingConnectionId": s.erp_connection}], "dynamicVariables": {}}))
        .await
        .expect(200);
    spec::check(spec::platform(), "Activation", &a);
    for k in ["id", "user", "connections", "dynamicVariables"] {
        assert!(a.get(k).is_some(), "{k} missing from {a}");
    }
    for k in [
        "id",
        "externalId",
        "displayName",
        "organisationId",
        "createdAt",
        "updatedAt",
    ] {
        assert!(a["user"].get(k).is_some(), "user.{k} missing from {a}");
    }
    for c in a["connections"].as_array().unwrap() {
        for k in [
            "id",
            "name",
            "credentials",
            "createdAt",
            "updatedAt",
            "baseUrl",
            "systemId",
            "connectionTemplateId",
        ] {
            assert!(c.get(k).is_some(), "connection.{k} missing from {c}");
        }
        assert!(c["credentials"][0]["id"].is_string());
    }
    assert_eq!(a["connections"][0]["id"], mine["id"]);
    assert_eq!(a["dynamicVariables"], json!({}));
}

/// Each ActivateUser error: status, error shape, the field named, and nothing written.
async fn activate_user_errors(w: World) {
    let s = setup(w).await;
    let (o, env, pid) = (s.o().to_owned(), s.env.clone(), s.project.clone());
    s.api()
        .put(
            &format!("/api/v2/o/{o}/projects/{pid}/variables"),
            json!({"type": "object", "properties": {"region": {"type": "string", "enum": ["eu", "us"]}}, "required": ["region"]}),
        )
        .await
        .expect(200);
    s.create_user("alice").await;
    let bob = s.create_user("bob").await;
    let bob_crm = s
        .api()
        .post(&format!("/api/v2/o/{o}/connections"), json!({"connectionTemplateId": s.crm, "externalId": "bob", "connection": new_connection("bob-key")}))
        .await
        .expect(201);
    assert_eq!(bob_crm["connectionTemplateId"], s.crm.as_str());
    let before = (s.activation_count().await, s.connection_count().await);
    let good_vars = json!({"region": "eu"});

    // Missing template: no entry for the dynamic one.
    let e = s.activate(json!({"userId": "alice", "environmentId": env, "connections": [], "dynamicVariables": good_vars})).await.error(400);
    assert_eq!(Res::fields(&e), ["connections[crm]"]);
    assert!(
        e["message"].as_str().unwrap().contains("missing crm"),
        "{e}"
    );
    // A static template without a static connection and no entry: both named.
    let project2 = s
        .api()
        .post(&format!("/api/v2/o/{o}/projects"), json!({"name": "Two"}))
        .await
        .expect(200);
    let env2 = project2["environments"][0]["id"].as_str().unwrap();
    let tpath = format!(
        "/api/v2/o/{o}/projects/{}/connection-templates",
        project2["id"].as_str().unwrap()
    );
    s.api()
        .post(
            &tpath,
            json!({"systemId": s.crm_system, "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200);
    s.api()
        .post(
            &tpath,
            json!({"systemId": s.crm_system, "name": "shared", "dynamic": false}),
        )
        .await
        .expect(200);
    let e = s
        .activate(json!({"userId": "alice", "environmentId": env2, "connections": []}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["connections[crm]", "connections[shared]"]);
    assert!(
        e["message"].as_str().unwrap().contains("crm, shared"),
        "{e}"
    );

    // Unknown user, unknown environment.
    let e = s.activate(json!({"userId": "nobody", "environmentId": env, "connections": [], "dynamicVariables": good_vars})).await.error(404);
    assert_eq!(Res::fields(&e), ["userId"]);
    let e = s.activate(json!({"userId": "alice", "environmentId": ulid::Ulid::new().to_string(), "connections": []})).await.error(404);
    assert_eq!(Res::fields(&e), ["environmentId"]);
    // Another organisation's environment is unknown here.
    let (other, other_api) = s.w.other_org();
    let op = other_api
        .post(
            &format!("/api/v2/o/{other}/projects"),
            json!({"name": "Theirs"}),
        )
        .await
        .expect(200);
    let e = s.activate(json!({"userId": "alice", "environmentId": op["environments"][0]["id"], "connections": []})).await.error(404);
    assert_eq!(Res::fields(&e), ["environmentId"]);

    // Another user's connection.
    let e = s
        .activate(json!({"userId": "alice", "environmentId": env, "connections": [{"connectionTemplateId": s.crm, "existingConnectionId": bob_crm["id"]}], "dynamicVariables": good_vars}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["connections[0].existingConnectionId"]);
    // A connection to another system, an unknown connection, a template of another environment.
    let e = s
        .activate(json!({"userId": "alice", "environmentId": env, "connections": [
            {"connectionTemplateId": s.crm, "existingConnectionId": s.erp_connection},
            {"connectionTemplateId": ulid::Ulid::new().to_string(), "existingConnectionId": ulid::Ulid::new().to_string()}], "dynamicVariables": good_vars}))
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        [
            "connections[1].connectionTemplateId",
            "connections[0].existingConnectionId"
        ]
    );

    // Bad variables: every violation with its path.
    let conn = json!([{"connectionTemplateId": s.crm, "connection": new_connection(CRM_SECRET)}]);
    let e =
        s.activate(json!({"userId": "alice", "environmentId": env, "connections": conn, "dynamicVariables": {"region": "mars", "extra": 1}})).await.error(400);
    let mut f = Res::fields(&e);
    f.sort();
    assert_eq!(f, ["dynamicVariables.extra", "dynamicVariables.region"]);
    let e = s.activate(json!({"userId": "alice", "environmentId": env, "connections": conn, "dynamicVariables": {}})).await.error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariables.region"]);

    // A bad credential in a new connection.
    let bad = json!([{"connectionTemplateId": s.crm, "connection": {"name": "x", "credentials": [{"authSchemeConfig": v2_api_key("apikey", "X-Api-Key"), "credential": {"type": "string", "data": {"string": {}}}}]}}]);
    let e = s.activate(json!({"userId": "alice", "environmentId": env, "connections": bad, "dynamicVariables": good_vars})).await.error(400);
    assert_eq!(
        Res::fields(&e),
        ["connections[0].connection.credentials[0].credential.data.value"]
    );

    // Nothing of all that was written.
    assert_eq!(
        (s.activation_count().await, s.connection_count().await),
        before
    );

    // A second activation of the same user and environment.
    s.activate(json!({"userId": bob["id"], "environmentId": env, "connections": [{"connectionTemplateId": s.crm, "existingConnectionId": bob_crm["id"]}], "dynamicVariables": good_vars}))
        .await
        .expect(200);
    let after = (s.activation_count().await, s.connection_count().await);
    let e = s.activate(json!({"userId": "bob", "environmentId": env, "connections": [{"connectionTemplateId": s.crm, "connection": new_connection("again")}], "dynamicVariables": good_vars})).await.error(409);
    assert!(
        e["message"].as_str().unwrap().contains("already activated"),
        "{e}"
    );
    assert_eq!(
        (s.activation_count().await, s.connection_count().await),
        after
    );
}

/// Static and dynamic connections: create, list with filters, update (name, base URL, rotated
/// and kept credentials), link and unlink, and their errors.
async fn connections(w: World) {
    let s = setup(w).await;
    let o = s.o().to_owned();
    let cpath = format!("/api/v2/o/{o}/connections");
    let alice = s.create_user("alice").await;
    let c = s
        .api()
        .post(&cpath, json!({"connectionTemplateId": s.crm, "externalId": "alice", "connection": {"name": "alice-crm", "credentials": [api_key_credential(CRM_SECRET)], "baseUrl": "alice.crm.example/api/v3?x=1"}}))
        .await
        .expect(201);
    spec::check(spec::platform(), "Connection", &c);
    assert_eq!(
        c["baseUrl"], "https://alice.crm.example",
        "only scheme and host are kept"
    );
    let cid = c["id"].as_str().unwrap().to_owned();

    let all = s.api().get(&cpath).await.expect(200);
    spec::check(spec::platform(), "ConnectionPage", &all);
    assert_eq!(all["totalCount"], 2);
    let mine = s
        .api()
        .get(&format!(
            "{cpath}?end_user_id={}",
            alice["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [cid.as_str()]
    );
    let by_system = s
        .api()
        .get(&format!("{cpath}?system_id={}", s.crm_system))
        .await
        .expect(200);
    assert_eq!(by_system["totalCount"], 1);
    let page = s.api().get(&format!("{cpath}?first=1")).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_ne!(page["next"], "");
    let statics = s
        .api()
        .get(&format!(
            "/api/v2/o/{o}/projects/{}/connections?env_id={}",
            s.project, s.env
        ))
        .await
        .expect(200);
    spec::check(spec::platform(), "ConnectionPage", &statics);
    assert_eq!(
        statics["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [s.erp_connection.as_str()]
    );

    // Update: rename, reset the base URL, keep the first credential by id and add a new one.
    let kept_id = c["credentials"][0]["credential"]["id"].clone();
    let upd = s
        .api()
        .put(
            &format!("{cpath}/{cid}"),
            json!({"name": "alice-crm-2", "baseUrl": "", "credentials": [
            {"authSchemeConfig": v2_api_key("apikey", "X-Api-Key"), "credential": {"id": kept_id}},
            api_key_credential("rotated-secret-1")]}),
        )
        .await
        .expect(200);
    spec::check(spec::platform(), "Connection", &upd);
    assert_eq!(upd["name"], "alice-crm-2");
    assert_eq!(upd["baseUrl"], "", "{upd}");
    assert_eq!(upd["credentials"].as_array().unwrap().len(), 2);
    assert_eq!(upd["credentials"][0]["credential"]["id"], kept_id);
    assert!(!upd.to_string().contains("rotated-secret-1"));
    // Rotation: only the new credential stays.
    let rot = s
        .api()
        .put(
            &format!("{cpath}/{cid}"),
            json!({"name": "alice-crm-2", "baseUrl": "https://eu.crm.example", "credentials": [api_key_credential("rotated-secret-2")]}),
        )
        .await
        .expect(200);
    assert_eq!(rot["credentials"].as_array().unwrap().len(), 1);
    assert_ne!(rot["credentials"][0]["credential"]["id"], kept_id);
    assert_eq!(rot["baseUrl"], "https://eu.crm.example");
    let bad =
        s.api().put(&format!("{cpath}/{cid}"), json!({"name": "", "baseUrl": "ftp://x", "credentials": [{"credential": {"type": "string"}}]})).await.error(400);
    let mut f = Res::fields(&bad);
    f.sort();
    assert_eq!(f, ["baseUrl", "credentials[0].authSchemeConfig", "name"]);
    assert_eq!(
        s.api().get(&format!("{cpath}/{cid}")).await.expect(200),
        rot,
        "a refused update changes nothing"
    );

    // Link to another template of the same system, once; unlink.
    let tpath = format!("/api/v2/o/{o}/projects/{}/connection-templates", s.project);
    let crm2 = s
        .api()
        .post(
            &tpath,
            json!({"systemId": s.crm_system, "name": "crm-archive", "dynamic": true}),
        )
        .await
        .expect(200);
    let link = json!({"connectionTemplateId": crm2["connectionTemplateId"]});
    assert_eq!(
        s.api()
            .post(&format!("{cpath}/{cid}/link"), link.clone())
            .await
            .status,
        201
    );
    s.api()
        .post(&format!("{cpath}/{cid}/link"), link.clone())
        .await
        .error(409);
    let e = s
        .api()
        .post(
            &format!("{cpath}/{cid}/link"),
            json!({"connectionTemplateId": s.erp}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["connectionTemplateId"]);
    assert_eq!(
        s.api()
            .send(
                reqwest::Method::DELETE,
                &format!("{cpath}/{cid}/link"),
                Some(&link)
            )
            .await
            .status,
        204
    );
    s.api()
        .send(
            reqwest::Method::DELETE,
            &format!("{cpath}/{cid}/link"),
            Some(&link),
        )
        .await
        .error(404);

    // Create errors: unknown template, unknown end user, bad credential; nothing written.
    let n = s.connection_count().await;
    let e = s.api().post(&cpath, json!({"connectionTemplateId": ulid::Ulid::new().to_string(), "connection": new_connection("x")})).await.error(400);
    assert_eq!(Res::fields(&e), ["connectionTemplateId"]);
    let e = s.api().post(&cpath, json!({"connectionTemplateId": s.crm, "externalId": "nobody", "connection": new_connection("x")})).await.error(400);
    assert_eq!(Res::fields(&e), ["externalId"]);
    let e = s
        .api()
        .post(&cpath, json!({"connectionTemplateId": s.crm, "connection": {"name": "x", "credentials": [{"authSchemeConfig": v2_api_key("apikey", "X-Api-Key"), "credential": {"type": "basic-auth", "data": {"string": {"value": "v"}}}}]}}))
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["connection.credentials[0].credential.data"]
    );
    assert_eq!(s.connection_count().await, n);

    // Another organisation sees none of it.
    let (other, other_api) = s.w.other_org();
    other_api
        .get(&format!("/api/v2/o/{other}/connections/{cid}"))
        .await
        .error(404);
    assert_eq!(
        other_api
            .get(&format!("/api/v2/o/{other}/connections"))
            .await
            .expect(200)["totalCount"],
        0
    );
}

on_both_databases! {
    lifecycle => lifecycle_walk;
    seed => seed_request;
    activate_errors => activate_user_errors;
    connection_rules => connections;
}
