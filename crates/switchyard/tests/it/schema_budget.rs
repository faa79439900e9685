//! Variables schemas with a budget: a schema that would make validation run away (a `$ref`
//! cycle that consumes no input) is refused wherever one is set, a stored one (written straight
//! into the database) never stalls the server, a legitimate recursive schema still works,
//! oversized variables are refused, and a schema that blows the time budget is remembered.

use crate::common::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The schema of the incident: `a` refers to `b`, `b` to `a`, and nothing is consumed between.
fn cyclic() -> Value {
    json!({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})
}

const CYCLE: &str =
    "$ref cycle #/$defs/a -> #/$defs/b -> #/$defs/a recurses without consuming input";

/// A tree: recursion through `properties` and `items`, which consume the value.
fn tree() -> Value {
    json!({"$defs":{"node":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},
        "children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"})
}

fn key_connection(name: &str) -> Value {
    json!({"name": name, "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Api-Key"), "credential": {"name": "key", "type": "string", "data": {"value": "k"}}}]}, "variables": []})
}

/// An Embedded v1 hub whose primary connector is the only one its integrations need.
struct V1 {
    hub: String,
    crm: String,
}

async fn v1_hub(w: &World) -> V1 {
    let o = &w.org;
    let crm = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "CRM", "baseUrl": "https://crm.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Hub", "primaryConnectorId": crm, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    V1 { hub, crm }
}

impl V1 {
    fn integration_body(&self, w: &World, name: &str, schema: Option<Value>) -> Value {
        let mut body = json!({"organisationId": w.org, "name": name, "connectionTemplate": {"connectorId": self.crm, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}});
        if let Some(s) = schema {
            body["variablesSchema"] = s;
        }
        body
    }

    /// A deployed integration with `schema`, and its id.
    async fn integration(&self, w: &World, name: &str, schema: Option<Value>) -> String {
        let i = w
            .api
            .post(
                &format!("/api/embedded/v1/hubs/{}/integrations", self.hub),
                self.integration_body(w, name, schema),
            )
            .await
            .expect(200);
        let id = i["id"].as_str().unwrap().to_owned();
        w.api
            .post(
                &format!("/api/embedded/v1/integrations/{id}/deploy"),
                json!({}),
            )
            .await
            .expect(200);
        id
    }

    async fn user(&self, w: &World, external: &str) {
        w.api
            .post(
                &format!("/api/embedded/v1/hubs/{}/users", self.hub),
                json!({"externalId": external, "primaryConnection": key_connection("primary")}),
            )
            .await
            .expect(201);
    }

    async fn integration_count(&self, w: &World) -> i64 {
        w.api
            .get(&format!("/api/embedded/v1/hubs/{}/integrations", self.hub))
            .await
            .expect(200)["total"]
            .as_i64()
            .unwrap()
    }
}

fn activation(user: &str, integration: &str, vars: Value) -> Value {
    json!({"userId": user, "integrationId": integration, "connections": [], "dynamicVariables": vars})
}

/// A Platform v2 project with one dynamic template, deployed.
struct V2 {
    project: String,
    env: String,
    crm: String,
}

fn v2_connection() -> Value {
    json!({"name": ulid::Ulid::new().to_string(), "credentials": [{"id": ulid::Ulid::new().to_string(),
        "authSchemeConfig": {"type": "api-key", "apiKey": {"id": "apikey", "description": "API key", "name": "X-Api-Key", "in": "header"}},
        "credential": {"id": ulid::Ulid::new().to_string(), "name": "(API Key)", "type": "string", "data": {"string": {"value": "k"}}}}]})
}

async fn v2_project(w: &World) -> V2 {
    let o = &w.org;
    let body = json!({"name": "CRM", "domain": "crm.example", "templateBaseUrl": "https://api.crm.example",
        "authSchemeConfigs": [{"type": "api-key", "apiKey": {"id": "apikey", "description": "API key", "name": "X-Api-Key", "in": "header"}}]});
    let system = w
        .api
        .post(&format!("/api/v2/o/{o}/systems"), body)
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let project = w
        .api
        .post(&format!("/api/v2/o/{o}/projects"), json!({"name": "Sync"}))
        .await
        .expect(200);
    let pid = project["id"].as_str().unwrap().to_owned();
    let env = project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let crm = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects/{pid}/connection-templates"),
            json!({"systemId": system, "name": "crm", "environmentId": env, "dynamic": true}),
        )
        .await
        .expect(200)["connectionTemplateId"]
        .as_str()
        .unwrap()
        .to_owned();
    w.api
        .put(
            &format!("/api/v2/o/{o}/projects/{pid}/deploy?project_env=production"),
            json!({"files": [], "labels": {}, "versionName": "v1"}),
        )
        .await
        .expect(200);
    V2 {
        project: pid,
        env,
        crm,
    }
}

impl V2 {
    async fn user(&self, w: &World, external: &str) {
        w.api
            .post(
                &format!("/api/v2/o/{}/users", w.org),
                json!({"externalId": external, "displayName": external}),
            )
            .await
            .expect(201);
    }
    fn activation(&self, user: &str, vars: Value) -> Value {
        json!({"userId": user, "environmentId": self.env, "connections": [{"connectionTemplateId": self.crm, "connection": v2_connection()}], "dynamicVariables": vars})
    }
    async fn schema(&self, w: &World) -> Value {
        w.api
            .get(&format!(
                "/api/v2/o/{}/projects/{}/variables",
                w.org, self.project
            ))
            .await
            .expect(200)
    }
}

async fn project_count(w: &World) -> usize {
    w.api
        .get(&format!("/api/v2/o/{}/projects", w.org))
        .await
        .expect(200)["projects"]
        .as_array()
        .unwrap()
        .len()
}

/// Writes `schema` as the stored variables schema of row `id` of `table`, behind the API's back.
async fn store_schema(db: &Db, table: &str, id: &str, schema: &Value) {
    let text = schema.to_string();
    let changed = if db.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        let r = sqlx::query(&format!(
            "UPDATE {table} SET variables_schema = $1 WHERE id = $2"
        ))
        .bind(&text)
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        r.rows_affected()
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let r = sqlx::query(&format!(
            "UPDATE {table} SET variables_schema = ? WHERE id = ?"
        ))
        .bind(&text)
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        r.rows_affected()
    };
    assert_eq!(changed, 1, "{table} {id}");
}

/// The resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/<pid>/status");
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

/// Runs `work` while `/healthz` is asked every 100 ms; returns its output and the slowest answer.
async fn while_probing<T>(
    server: &Server,
    work: impl std::future::Future<Output = T>,
) -> (T, Duration, usize) {
    let url = format!("{}/healthz", server.url);
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let probe = tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let (mut slowest, mut n) = (Duration::ZERO, 0usize);
        loop {
            let done = stop2.load(Ordering::SeqCst);
            let t = Instant::now();
            let r = http.get(&url).send().await.expect("/healthz answers");
            assert_eq!(r.status(), 200);
            slowest = slowest.max(t.elapsed());
            n += 1;
            if done {
                return (slowest, n);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let out = work.await;
    stop.store(true, Ordering::SeqCst);
    let (slowest, n) = probe.await.unwrap();
    (out, slowest, n)
}

on_both_databases! {
    cyclic_schemas_are_refused_wherever_one_is_set => cyclic_schemas_are_refused_wherever_one_is_set;
    a_stored_cyclic_schema_does_not_stall_the_server => a_stored_cyclic_schema_does_not_stall_the_server;
    a_tree_schema_still_activates_and_validates_nested_input => a_tree_schema_still_activates_and_validates_nested_input;
    oversized_dynamic_variables_are_refused => oversized_dynamic_variables_are_refused;
    a_schema_that_blows_the_time_budget_is_remembered => a_schema_that_blows_the_time_budget_is_remembered;
}

async fn cyclic_schemas_are_refused_wherever_one_is_set(w: World) {
    let o = w.org.clone();
    let v1 = v1_hub(&w).await;

    // Embedded v1 CreateIntegration: a 400 naming the field and the cycle; nothing created.
    let e = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{}/integrations", v1.hub),
            v1.integration_body(&w, "Loop", Some(cyclic())),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["variablesSchema"]);
    assert!(
        e["fields"][0]["message"].as_str().unwrap().contains(CYCLE),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("variablesSchema"),
        "{e}"
    );
    assert_eq!(v1.integration_count(&w).await, 0);

    // The other static rules, each refused with the field named.
    let mut deep = json!({"type": "string"});
    for _ in 0..40 {
        deep = json!({"type": "object", "properties": {"x": deep}});
    }
    for (schema, problem) in [
        (
            json!({"type":"object","properties":{"a":{"$ref":"https://schemas.example/a.json"}}}),
            "is not local",
        ),
        (
            json!({"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}),
            "does not resolve",
        ),
        (
            json!({"$defs":{"a":{"$anchor":"a","allOf":[{"$ref":"#a"}]}},"$ref":"#a"}),
            "recurses without consuming input",
        ),
        (deep, "deeper than 64"),
        (
            json!({"type":"object","$comment":"x".repeat(300 * 1024)}),
            "262144",
        ),
    ] {
        let e = w
            .api
            .post(
                &format!("/api/embedded/v1/hubs/{}/integrations", v1.hub),
                v1.integration_body(&w, "Bad", Some(schema)),
            )
            .await
            .error(400);
        assert_eq!(Res::fields(&e), ["variablesSchema"]);
        assert!(
            e["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains(problem),
            "{problem}: {e}"
        );
    }
    assert_eq!(v1.integration_count(&w).await, 0);

    // UpdateIntegration: refused, the stored schema unchanged.
    let good = json!({"type": "object", "properties": {"region": {"type": "string"}}});
    let id = v1.integration(&w, "Sync", Some(good.clone())).await;
    let e = w
        .api
        .patch(
            &format!("/api/embedded/v1/integrations/{id}"),
            json!({"name": "Renamed", "variablesSchema": cyclic()}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["variablesSchema"]);
    assert!(
        e["fields"][0]["message"].as_str().unwrap().contains(CYCLE),
        "{e}"
    );
    let got = w
        .api
        .get(&format!("/api/embedded/v1/integrations/{id}"))
        .await
        .expect(200);
    assert_eq!(
        (got["variablesSchema"].clone(), got["name"].clone()),
        (good.clone(), json!("Sync"))
    );

    // Platform v2: project create and update with dynamicVariablesSchema.
    let e = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects"),
            json!({"name": "Loop", "dynamicVariablesSchema": cyclic()}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariablesSchema"]);
    assert!(
        e["fields"][0]["message"].as_str().unwrap().contains(CYCLE),
        "{e}"
    );
    assert_eq!(project_count(&w).await, 0);
    let p = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects"),
            json!({"name": "Sync", "dynamicVariablesSchema": good}),
        )
        .await
        .expect(200);
    assert_eq!(p["dynamicVariablesSchema"], good);
    let pid = p["id"].as_str().unwrap().to_owned();
    let e = w
        .api
        .put(
            &format!("/api/v2/o/{o}/projects/{pid}"),
            json!({"name": "Renamed", "dynamicVariablesSchema": cyclic()}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariablesSchema"]);
    let got = w
        .api
        .get(&format!("/api/v2/o/{o}/projects/{pid}"))
        .await
        .expect(200);
    assert_eq!(
        (got["dynamicVariablesSchema"].clone(), got["name"].clone()),
        (good.clone(), json!("Sync"))
    );
    // A good one is taken by UpdateProject.
    let other = json!({"type": "object", "properties": {"batch": {"type": "integer"}}});
    let got = w
        .api
        .put(
            &format!("/api/v2/o/{o}/projects/{pid}"),
            json!({"dynamicVariablesSchema": other}),
        )
        .await
        .expect(200);
    assert_eq!(got["dynamicVariablesSchema"], other);

    // The variables-schema routes: PUT the whole schema, PATCH one variable into a cycle.
    let vpath = format!("/api/v2/o/{o}/projects/{pid}/variables");
    let mut cyclic_object = cyclic();
    cyclic_object["type"] = json!("object");
    let e = w.api.put(&vpath, cyclic_object).await.error(400);
    assert_eq!(Res::fields(&e), ["body"]);
    assert!(
        e["fields"][0]["message"].as_str().unwrap().contains(CYCLE),
        "{e}"
    );
    let e = w.api.patch(&vpath, json!({"op": "add", "path": "/properties/loop", "value": {"allOf": [{"$ref": "#/properties/loop"}]}})).await.error(400);
    assert_eq!(Res::fields(&e), ["value"]);
    assert!(
        e["fields"][0]["message"].as_str().unwrap().contains(
            "$ref cycle #/properties/loop -> #/properties/loop/allOf/0 -> #/properties/loop"
        ),
        "{e}"
    );
    let e = w.api.patch(&vpath, json!({"op": "add", "path": "/properties/far", "value": {"$ref": "https://schemas.example/far.json"}})).await.error(400);
    assert_eq!(Res::fields(&e), ["value"]);
    assert_eq!(
        w.api.get(&vpath).await.expect(200),
        other,
        "nothing changed"
    );
    // A legitimate patch still goes through.
    let patched = w
        .api
        .patch(
            &vpath,
            json!({"op": "add", "path": "/properties/region", "value": {"type": "string"}}),
        )
        .await
        .expect(200);
    assert_eq!(patched["properties"]["region"], json!({"type": "string"}));
}

async fn a_stored_cyclic_schema_does_not_stall_the_server(w: World) {
    let o = w.org.clone();
    let v1 = v1_hub(&w).await;
    let id = v1.integration(&w, "Sync", None).await;
    for k in 0..20 {
        v1.user(&w, &format!("user-{k}")).await;
    }
    v1.user(&w, "earlier").await;
    let earlier = w
        .api
        .post(
            "/api/embedded/v1/activations",
            activation("earlier", &id, json!({})),
        )
        .await
        .expect(200);
    let earlier = earlier["id"].as_str().unwrap().to_owned();
    let v2 = v2_project(&w).await;
    for k in 0..20 {
        v2.user(&w, &format!("user-{k}")).await;
    }
    v2.user(&w, "earlier").await;
    let a2 = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            v2.activation("earlier", json!({})),
        )
        .await
        .expect(200);
    let a2 = a2["id"].as_str().unwrap().to_owned();

    // The schema of the incident, written where the API would have refused it.
    store_schema(&w.db, "integrations", &id, &cyclic()).await;
    store_schema(&w.db, "platform_projects", &v2.project, &cyclic()).await;
    let before = rss(w.server.pid());

    // 20 activations at once on each API, while /healthz is asked.
    let (responses, slowest, probes) = while_probing(&w.server, async {
        let mut all = Vec::new();
        let handles: Vec<_> = (0..20)
            .flat_map(|k| {
                let v1_body = activation(&format!("user-{k}"), &id, json!({"region": "eu"}));
                let v2_body = v2.activation(&format!("user-{k}"), json!({"region": "eu"}));
                let (a, b, o) = (w.api.clone(), w.api.clone(), o.clone());
                [
                    tokio::spawn(async move {
                        ("v1", a.post("/api/embedded/v1/activations", v1_body).await)
                    }),
                    tokio::spawn(async move {
                        (
                            "v2",
                            b.post(&format!("/api/v2/o/{o}/activations"), v2_body).await,
                        )
                    }),
                ]
            })
            .collect();
        for h in handles {
            all.push(h.await.unwrap());
        }
        all
    })
    .await;
    eprintln!(
        "40 activations against stored cyclic schemas; slowest /healthz of {probes}: {slowest:?}"
    );
    assert!(
        slowest < Duration::from_secs(5),
        "/healthz took {slowest:?}"
    );
    assert_eq!(responses.len(), 40);
    for (api, r) in responses {
        assert_eq!(r.status, 409, "{api}: {}", r.body);
        assert_error_shape(&r.body, 409);
        let field = if api == "v1" {
            "variablesSchema"
        } else {
            "dynamicVariablesSchema"
        };
        assert_eq!(Res::fields(&r.body), [field], "{}", r.body);
        let message = r.body["message"].as_str().unwrap();
        let owner = if api == "v1" {
            "the integration's variables schema is unusable"
        } else {
            "the project's dynamic variables schema is unusable"
        };
        assert!(
            message.contains(owner) && message.contains(CYCLE),
            "{message}"
        );
    }
    let grown = rss(w.server.pid()).saturating_sub(before);
    eprintln!("RSS grew by {} KiB", grown / 1024);
    assert!(grown < 200 * 1024 * 1024, "RSS grew by {grown} bytes");

    // Nothing was activated.
    let acts = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/user-0/activations",
            v1.hub
        ))
        .await
        .expect(200);
    assert_eq!(acts["totalCount"], 0);
    assert_eq!(
        w.api
            .get(&format!(
                "/api/v2/o/{o}/environments/{}/activations",
                v2.env
            ))
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Variables updates on earlier activations: the same clear 409, nothing changed.
    let e = w
        .api
        .put(
            &format!("/api/embedded/v1/activations/{earlier}/variables"),
            json!({"dynamicVariables": {"region": "eu"}}),
        )
        .await
        .error(409);
    assert_eq!(Res::fields(&e), ["variablesSchema"]);
    let e = w
        .api
        .put(
            &format!("/api/embedded/v1/integrations/{id}/users/earlier/variables"),
            json!({"region": "eu"}),
        )
        .await
        .error(409);
    assert_eq!(Res::fields(&e), ["variablesSchema"]);
    let vpath = format!(
        "/api/v2/o/{o}/environments/{}/activations/{a2}/variables",
        v2.env
    );
    let e = w
        .api
        .patch(&vpath, json!({"region": "eu"}))
        .await
        .error(409);
    assert_eq!(Res::fields(&e), ["dynamicVariablesSchema"]);
    let e = w
        .api
        .put(&format!("{vpath}/region"), json!({"value": "eu"}))
        .await
        .error(409);
    assert_eq!(Res::fields(&e), ["dynamicVariablesSchema"]);
    let e = w
        .api
        .patch(
            &format!("/api/v2/o/{o}/environments/{}/variables", v2.env),
            json!({"region": "eu"}),
        )
        .await
        .error(409);
    assert_eq!(Res::fields(&e), ["dynamicVariablesSchema"]);
    assert_eq!(
        w.api
            .get(&format!("/api/embedded/v1/activations/{earlier}"))
            .await
            .expect(200)["dynamicVariables"],
        json!({})
    );

    // Setting a good schema makes the integration usable again.
    let good = json!({"type": "object", "properties": {"region": {"type": "string"}}});
    w.api
        .patch(
            &format!("/api/embedded/v1/integrations/{id}"),
            json!({"variablesSchema": good}),
        )
        .await
        .expect(200);
    w.api
        .post(
            "/api/embedded/v1/activations",
            activation("user-0", &id, json!({"region": "eu"})),
        )
        .await
        .expect(200);
    w.api
        .put(
            &format!("/api/v2/o/{o}/projects/{}/variables", v2.project),
            good,
        )
        .await
        .expect(200);
    w.api
        .patch(&vpath, json!({"region": "eu"}))
        .await
        .expect(200);
}

async fn a_tree_schema_still_activates_and_validates_nested_input(w: World) {
    let o = w.org.clone();
    let nested = json!({"name": "root", "children": [{"name": "a", "children": [{"name": "a1"}, {"name": "a2", "children": []}]}, {"name": "b"}]});
    let wrong = json!({"name": "root", "children": [{"name": "a", "children": [{"name": 7}]}]});

    let v1 = v1_hub(&w).await;
    let id = v1.integration(&w, "Tree", Some(tree())).await;
    v1.user(&w, "ada").await;
    let e = w
        .api
        .post(
            "/api/embedded/v1/activations",
            activation("ada", &id, wrong.clone()),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["dynamicVariables.children[0].children[0].name"]
    );
    let a = w
        .api
        .post(
            "/api/embedded/v1/activations",
            activation("ada", &id, nested.clone()),
        )
        .await
        .expect(200);
    assert_eq!(a["dynamicVariables"], nested);
    let aid = a["id"].as_str().unwrap();
    let e = w
        .api
        .put(
            &format!("/api/embedded/v1/activations/{aid}/variables"),
            json!({"dynamicVariables": {"children": []}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariables.name"]);

    let v2 = v2_project(&w).await;
    let mut schema = tree();
    schema["type"] = json!("object");
    w.api
        .put(
            &format!("/api/v2/o/{o}/projects/{}/variables", v2.project),
            schema.clone(),
        )
        .await
        .expect(200);
    assert_eq!(v2.schema(&w).await, schema);
    v2.user(&w, "ada").await;
    let e = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            v2.activation("ada", wrong),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["dynamicVariables.children[0].children[0].name"]
    );
    let a = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            v2.activation("ada", nested.clone()),
        )
        .await
        .expect(200);
    assert_eq!(a["dynamicVariables"], nested);
}

async fn oversized_dynamic_variables_are_refused(w: World) {
    let o = w.org.clone();
    let blob = "x".repeat(300 * 1024);
    let schema = json!({"type": "object", "properties": {"note": {"type": "string"}}});

    let v1 = v1_hub(&w).await;
    let id = v1.integration(&w, "Notes", Some(schema.clone())).await;
    v1.user(&w, "ada").await;
    let e = w
        .api
        .post(
            "/api/embedded/v1/activations",
            activation("ada", &id, json!({"note": blob})),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariables"]);
    assert!(
        e["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("262144"),
        "{e}"
    );
    assert_eq!(
        w.api
            .get(&format!(
                "/api/embedded/v1/embed/{}/users/ada/activations",
                v1.hub
            ))
            .await
            .expect(200)["totalCount"],
        0
    );
    let a = w
        .api
        .post(
            "/api/embedded/v1/activations",
            activation("ada", &id, json!({"note": "short"})),
        )
        .await
        .expect(200);
    let aid = a["id"].as_str().unwrap();
    let e = w
        .api
        .put(
            &format!("/api/embedded/v1/activations/{aid}/variables"),
            json!({"dynamicVariables": {"note": blob}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariables"]);
    let e = w
        .api
        .put(
            &format!("/api/embedded/v1/integrations/{id}/users/ada/variables"),
            json!({"note": blob}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariables"]);
    assert_eq!(
        w.api
            .get(&format!("/api/embedded/v1/activations/{aid}"))
            .await
            .expect(200)["dynamicVariables"],
        json!({"note": "short"})
    );

    let v2 = v2_project(&w).await;
    w.api
        .put(
            &format!("/api/v2/o/{o}/projects/{}/variables", v2.project),
            schema,
        )
        .await
        .expect(200);
    v2.user(&w, "ada").await;
    let e = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            v2.activation("ada", json!({"note": blob})),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariables"]);
    let a = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            v2.activation("ada", json!({"note": "short"})),
        )
        .await
        .expect(200);
    let e = w
        .api
        .patch(
            &format!(
                "/api/v2/o/{o}/environments/{}/activations/{}/variables",
                v2.env,
                a["id"].as_str().unwrap()
            ),
            json!({"note": blob}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["dynamicVariables"]);
}

/// `allOf: [{$ref: next}, {$ref: next}]` for 11 levels: 8189 subschemas applied to each value
/// (the `allOf` entries count too), within the static limit (10 000), and legitimate. On 600
/// values, about 4.9 million evaluations (within the 5 million the estimate allows), a second in a
/// debug build; one value takes milliseconds.
fn heavy_but_legitimate() -> Value {
    let mut defs = serde_json::Map::new();
    for i in 0..11 {
        defs.insert(format!("l{i}"), json!({"allOf": [{"$ref": format!("#/$defs/l{}", i + 1)}, {"$ref": format!("#/$defs/l{}", i + 1)}]}));
    }
    defs.insert(
        "l11".into(),
        json!({"type": "string", "minLength": 1, "maxLength": 20}),
    );
    json!({"type": "object", "$defs": defs, "properties": {"xs": {"type": "array", "items": {"$ref": "#/$defs/l0"}}}})
}

async fn a_schema_that_blows_the_time_budget_is_remembered(w: World) {
    // A second server on the same database, with a budget of 250 ms.
    let server = Server::start_with(&w.db, &[("SWITCHYARD_VARIABLES_BUDGET_MS", "250")]);
    let api = w.api.with_base(&server);
    let v1 = v1_hub(&w).await;
    let id = v1
        .integration(&w, "Heavy", Some(heavy_but_legitimate()))
        .await;
    v1.user(&w, "ada").await;
    v1.user(&w, "bob").await;

    // Small input is fast, even against this schema (nothing remembered against it yet).
    let a = api
        .post(
            "/api/embedded/v1/activations",
            activation("bob", &id, json!({"xs": ["abc"]})),
        )
        .await
        .expect(200);
    assert_eq!(a["dynamicVariables"], json!({"xs": ["abc"]}));

    let xs: Vec<Value> = (0..600).map(|_| json!("abcdefghij")).collect();
    let (r, slowest, _) = while_probing(&server, async {
        let t = Instant::now();
        let r = api
            .post(
                "/api/embedded/v1/activations",
                activation("ada", &id, json!({"xs": xs})),
            )
            .await;
        (r, t.elapsed())
    })
    .await;
    let (r, took) = r;
    eprintln!(
        "the activation blowing the budget answered in {took:?}; slowest /healthz {slowest:?}"
    );
    let e = r.error(409);
    assert_eq!(Res::fields(&e), ["variablesSchema"]);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("took longer than 250 ms"),
        "{e}"
    );
    assert!(
        took < Duration::from_secs(2),
        "answered within about the budget, not when the work ended: {took:?}"
    );
    assert!(
        slowest < Duration::from_secs(5),
        "/healthz took {slowest:?}"
    );

    // Remembered: even a tiny input is refused at once now, as is setting the same schema again.
    let t = Instant::now();
    let e = api
        .post(
            "/api/embedded/v1/activations",
            activation("ada", &id, json!({"xs": []})),
        )
        .await
        .error(409);
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("took longer than 250 ms"),
        "{e}"
    );
    let e = api
        .post(
            &format!("/api/embedded/v1/hubs/{}/integrations", v1.hub),
            v1.integration_body(&w, "Again", Some(heavy_but_legitimate())),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["variablesSchema"]);
    // The other server has its own budget (2 s) and memory: there the schema is still usable.
    w.api
        .post(
            "/api/embedded/v1/activations",
            activation("ada", &id, json!({"xs": []})),
        )
        .await
        .expect(200);
    // A changed schema is a new schema.
    api.patch(
        &format!("/api/embedded/v1/integrations/{id}"),
        json!({"variablesSchema": {"type": "object"}}),
    )
    .await
    .expect(200);
    assert_eq!(
        api.put(
            &format!("/api/embedded/v1/integrations/{id}/users/ada/variables"),
            json!({"xs": xs})
        )
        .await
        .status,
        204
    );
}
