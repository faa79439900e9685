//! The foundation: authentication, tenant isolation, the error shape, operations endpoints,
//! the OpenAPI document, and several nodes on one PostgreSQL database.

use crate::common::*;
use serde_json::{json, Value};

async fn api_keys_and_authentication(w: World) {
    let anon = Api::anonymous(&w.server);
    let path = format!("/api/connect/v1/o/{}/connectors", w.org);
    // Missing, malformed, unknown and revoked keys: 401 in the error shape.
    anon.get(&path).await.error(401);
    let res = anon.send(reqwest::Method::GET, &path, None).await;
    assert_eq!(res.status, 401);
    anon.with_key("not-a-key").get(&path).await.error(401);
    anon.with_key("sy_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .get(&path)
        .await
        .error(401);
    let raw = reqwest::Client::new()
        .get(format!("{}{path}", w.server.url))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 401);
    w.api.get(&path).await.expect(200);

    // Keys over HTTP: create, list (no secret, last used), revoke.
    let keys = format!("/api/organisations/v1/organisations/{}/api-keys", w.org);
    let created = w.api.post(&keys, json!({"name": "ci"})).await.expect(201);
    let second = created["apiKey"].as_str().unwrap().to_owned();
    assert!(second.starts_with("sy_") && second.len() >= 46);
    let other = w.api.with_key(&second);
    other.get(&path).await.expect(200);
    let list = w.api.get(&keys).await.expect(200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        !list.to_string().contains(&second),
        "the key is shown only once"
    );
    assert!(
        items.iter().any(|k| k["lastUsedAt"].is_string()),
        "last use is recorded: {list}"
    );
    let id = created["id"].as_str().unwrap();
    w.api.delete(&format!("{keys}/{id}")).await.expect(204);
    other.get(&path).await.error(401);
    w.api.post(&keys, json!({})).await.error(400);

    // The CLI can do the same.
    let out = bin()
        .args([
            "admin",
            "create-api-key",
            "--org",
            &w.org,
            "--name",
            "cli",
            "--database-url",
            &w.db.url,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli_key = v["apiKey"].as_str().unwrap();
    w.api.with_key(cli_key).get(&path).await.expect(200);
    let out = bin()
        .args([
            "admin",
            "revoke-api-key",
            "--org",
            &w.org,
            "--key-id",
            v["id"].as_str().unwrap(),
            "--database-url",
            &w.db.url,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    // The running server hears of it within a second (its authentication cache polls the
    // database's change counter; see auth_cache.rs).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while w.api.with_key(cli_key).get(&path).await.status != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "a key revoked by the CLI still works"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn organisations_cannot_see_each_other(w: World) {
    let (other_org, other) = w.other_org();
    let c = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org),
            json!({"name":"CRM","baseUrl":"https://crm.example","authSchemeConfigs":[api_key_scheme("k","X-Key")]}),
        )
        .await
        .expect(201);
    let cid = c["id"].as_str().unwrap();
    // B's key on A's organisation path, and on A's resource under B's own path: both 404.
    other
        .get(&format!("/api/connect/v1/o/{}/connectors/{cid}", w.org))
        .await
        .error(404);
    other
        .get(&format!("/api/connect/v1/o/{}/connectors", w.org))
        .await
        .error(404);
    other
        .get(&format!("/api/connect/v1/o/{other_org}/connectors/{cid}"))
        .await
        .error(404);
    other
        .get(&format!(
            "/api/organisations/v1/organisations/{}/api-keys",
            w.org
        ))
        .await
        .error(404);
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": w.org, "name":"Hub","primaryConnectorId": cid, "authSchemeConfig": api_key_scheme("k","X-Key")}),
        )
        .await
        .expect(201);
    other
        .get(&format!(
            "/api/embedded/v1/hubs/{}",
            hub["id"].as_str().unwrap()
        ))
        .await
        .error(404);
    other
        .get(&format!("/api/embedded/v1/o/{}/hubs", w.org))
        .await
        .error(404);
    let listed = other
        .get(&format!("/api/connect/v1/o/{other_org}/connectors"))
        .await
        .expect(200);
    assert_eq!(listed["totalCount"], 0);
}

async fn bad_input_gets_a_clear_4xx(w: World) {
    let path = format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org);
    let http = reqwest::Client::new();
    let url = format!("{}{path}", w.server.url);
    // Malformed JSON.
    let r = http
        .post(&url)
        .bearer_auth(&w.key)
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_error_shape(&r.json().await.unwrap(), 400);
    // Wrong content type.
    let r = http
        .post(&url)
        .bearer_auth(&w.key)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    assert_error_shape(&r.json().await.unwrap(), 415);
    // Wrong JSON type, named.
    let e = w
        .api
        .post(&path, json!({"name": 12, "baseUrl": "https://x.example"}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["name"]);
    // Missing required field, named.
    let e = w
        .api
        .post(&path, json!({"baseUrl": "https://x.example"}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["name"]);
    // A nested path.
    let e = w.api.post(&path, json!({"name": "x", "baseUrl": "https://x.example", "authSchemeConfigs": [api_key_scheme("a","h"), {"id":"b","schemeType":"api-key","name":"h","in":"body"}]})).await.error(400);
    // (The flattened, tagged auth scheme is read whole, so the entry is named, not its key.)
    assert!(
        Res::fields(&e)[0].starts_with("authSchemeConfigs[1]"),
        "{e}"
    );
    // What is allowed is named; the value given is not echoed (it could be a secret elsewhere).
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("unknown variant, expected one of")
            && message.contains("`header`")
            && !message.contains("`body`"),
        "{e}"
    );
    // Unknown fields are ignored.
    w.api
        .post(
            &path,
            json!({"name": "x", "baseUrl": "https://x.example", "surprise": true}),
        )
        .await
        .expect(201);
    // Oversized body.
    let big = json!({"name": "x".repeat(1_100_000), "baseUrl": "https://x.example"});
    w.api.post(&path, big).await.error(413);
    // Bad query parameters, named.
    let e = w
        .api
        .get(&format!(
            "/api/connect/v1/o/{}/connectors?first=lots",
            w.org
        ))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["first"]);
    let e = w
        .api
        .get(&format!(
            "/api/connect/v1/o/{}/connectors?after=not-a-cursor",
            w.org
        ))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["after"]);
    // Unknown path and method: JSON.
    w.api.get("/api/embedded/v1/nothing-here").await.error(404);
    Api::anonymous(&w.server).get("/nothing").await.error(404);
    w.api
        .send(reqwest::Method::DELETE, "/api/embedded/v1/healthz", None)
        .await
        .error(405);
    // Nothing above was written.
    let list = w
        .api
        .get(&format!("/api/connect/v1/o/{}/connectors", w.org))
        .await
        .expect(200);
    assert_eq!(
        list["totalCount"], 1,
        "only the valid connector exists: {list}"
    );
}

async fn operations_endpoints(w: World) {
    let anon = Api::anonymous(&w.server);
    assert_eq!(
        anon.get("/api/embedded/v1/healthz").await.expect(200),
        json!({"message": "ok"})
    );
    anon.get("/healthz").await.expect(200);
    anon.get("/readyz").await.expect(200);
    let res = anon.get("/healthz").await;
    let rid = res
        .headers
        .get("x-request-id")
        .expect("a request id header")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(rid.len(), 26);
    w.api
        .get(&format!("/api/connect/v1/o/{}/connectors", w.org))
        .await
        .expect(200);
    let text = reqwest::get(format!("{}/metrics", w.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("switchyard_http_requests_total{method=\"GET\",route=\"/api/connect/v1/o/{organisation_id}/connectors\",status=\"200\"}"), "{text}");
    assert!(text.contains("switchyard_http_request_duration_seconds_bucket"));
    assert!(text.contains("switchyard_db_pool_connections"));
    let doc = anon.get("/openapi.json").await.expect(200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(
        w.server.logs().contains("request_id="),
        "log lines carry the request id"
    );
}

on_both_databases! {
    authentication => api_keys_and_authentication;
    tenant_isolation => organisations_cannot_see_each_other;
    bad_input => bad_input_gets_a_clear_4xx;
    operations => operations_endpoints;
}

/// The committed `openapi.json` is what the code generates: a route added without regenerating
/// the document fails here (regenerate with `cargo run -- openapi > openapi.json`).
#[test]
fn committed_openapi_document_matches_the_code() {
    let out = bin().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let generated: Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json");
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("openapi.json is committed at the repository root"),
    )
    .unwrap();
    if generated != committed {
        let paths = |v: &Value| {
            v["paths"]
                .as_object()
                .map(|m| m.keys().cloned().collect::<std::collections::BTreeSet<_>>())
                .unwrap_or_default()
        };
        let (g, c) = (paths(&generated), paths(&committed));
        panic!(
            "openapi.json is out of date; regenerate it with `cargo run -- openapi > openapi.json`.\nonly in the code: {:?}\nonly in openapi.json: {:?}",
            g.difference(&c).collect::<Vec<_>>(),
            c.difference(&g).collect::<Vec<_>>()
        );
    }
    // Every operation Versori's embedded v1 spec has is in ours, under the same operationId.
    let versori: Value = serde_yaml::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/it/versori/versori-embedded-api-v1.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    let ours: std::collections::HashSet<String> = generated["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| {
            p.as_object()
                .unwrap()
                .values()
                .filter_map(|o| o["operationId"].as_str().map(str::to_owned))
        })
        .collect();
    for (p, item) in versori["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            if let Some(id) = op["operationId"].as_str() {
                if id != "InitialiseOAuth2EmbeddedConnection" {
                    assert!(
                        ours.contains(id),
                        "{m} {p} ({id}) is missing from Switchyard"
                    );
                }
            }
        }
    }
}

/// A proxy between Switchyard and PostgreSQL that the test can cut and restore.
struct Cuttable {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Cuttable {
    async fn start(target: String) -> Cuttable {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (up2, conns2) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    break;
                };
                if !up2.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let h = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                conns2.lock().unwrap().push(h.abort_handle());
            }
        });
        Cuttable { port, up, conns }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    switchyard_no_test_postgres,
    ignore = "PostgreSQL suite not run: set SWITCHYARD_TEST_POSTGRES_URL"
)]
async fn readyz_follows_the_database_without_a_restart() {
    let Some(db) = Db::new(Backend::Postgres).await else {
        return;
    };
    let (_, key) = create_org(&db, "acme");
    let mut u = url::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap_or(5432));
    let proxy = Cuttable::start(target).await;
    u.set_host(Some("127.0.0.1")).unwrap();
    u.set_port(Some(proxy.port)).unwrap();
    let via_proxy = Db {
        url: u.to_string(),
        dir: db.dir.clone(),
        owned: false,
    };
    let server = Server::start(&via_proxy);
    let api = Api::new(&server, &key);
    api.get("/readyz").await.expect(200);

    // Load while the database goes away and comes back: reads and writes, never a 500.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let statuses = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let org_id = {
        let out = bin()
            .args([
                "admin",
                "create-org",
                "--name",
                "load",
                "--database-url",
                &db.url,
            ])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            v["organisationId"].as_str().unwrap().to_owned(),
            v["apiKey"].as_str().unwrap().to_owned(),
        )
    };
    let load_api = api.with_key(&org_id.1);
    let mut workers = Vec::new();
    for w in 0..8 {
        let (api, stop, statuses, org) = (
            load_api.clone(),
            stop.clone(),
            statuses.clone(),
            org_id.0.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let r = if n % 2 == 0 {
                    api.get(&format!("/api/connect/v1/o/{org}/connectors"))
                        .await
                } else {
                    api.post(
                        &format!("/api/connect/v1/o/{org}/protocols/http/connectors"),
                        json!({"name": format!("c{w}-{n}"), "baseUrl": "https://x.example"}),
                    )
                    .await
                };
                if r.status >= 400 {
                    assert_error_shape(&r.body, r.status);
                }
                statuses.lock().unwrap().push(r.status);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    proxy.cut();
    api.get("/readyz").await.error(503);
    // Other requests during the outage fail with 503 in the error shape, not 500.
    api.get("/api/embedded/v1/hubs/01ARZ3NDEKTSV4RRFFQ69G5FAV")
        .await
        .error(503);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    proxy.restore();
    let mut ready = false;
    for _ in 0..50 {
        if api.get("/readyz").await.status == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        ready,
        "readyz recovers once the database is back: {}",
        server.logs()
    );
    let before = statuses.lock().unwrap().len();
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let all = statuses.lock().unwrap().clone();
    assert!(
        all.iter().all(|s| [200, 201, 503].contains(s)),
        "only successes and 503s: {:?}",
        all.iter()
            .filter(|s| ![200, 201, 503].contains(*s))
            .collect::<Vec<_>>()
    );
    assert!(all.contains(&503), "the outage was felt by the load");
    assert!(
        all[before..].iter().all(|s| *s == 200 || *s == 201),
        "after recovery, everything succeeds without a restart: {:?}",
        &all[before..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    switchyard_no_test_postgres,
    ignore = "PostgreSQL suite not run: set SWITCHYARD_TEST_POSTGRES_URL"
)]
async fn two_nodes_share_one_postgres_database() {
    let Some(db) = Db::new(Backend::Postgres).await else {
        return;
    };
    let (org, key) = create_org(&db, "acme");
    let a = Server::start(&db);
    let b = Server::start(&db);
    assert_ne!(a.url, b.url);
    let (api_a, api_b) = (Api::new(&a, &key), Api::new(&b, &key));
    let c = api_a
        .post(
            &format!("/api/connect/v1/o/{org}/protocols/http/connectors"),
            json!({"name":"CRM","baseUrl":"https://crm.example","authSchemeConfigs":[api_key_scheme("k","X-Key")]}),
        )
        .await
        .expect(201);
    let got = api_b
        .get(&format!(
            "/api/connect/v1/o/{org}/connectors/{}",
            c["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(got, c);
    // A key revoked through one node stops working on the other within a second (the other
    // node's authentication cache hears of it through LISTEN/NOTIFY; see auth_cache.rs).
    let keys = format!("/api/organisations/v1/organisations/{org}/api-keys");
    let k = api_a.post(&keys, json!({"name":"temp"})).await.expect(201);
    let temp_b = api_b.with_key(k["apiKey"].as_str().unwrap());
    temp_b.get(&keys).await.expect(200);
    api_a
        .delete(&format!("{keys}/{}", k["id"].as_str().unwrap()))
        .await
        .expect(204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while temp_b.get(&keys).await.status != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "a key revoked on node A still works on node B after a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[test]
fn a_wrong_master_key_is_refused_at_start() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(Db::new(Backend::Sqlite)).unwrap();
    let (org, key) = create_org(&db, "acme");
    {
        let server = Server::start(&db);
        let api = Api::new(&server, &key);
        rt.block_on(async {
            api.post(&format!("/api/connect/v1/o/{org}/protocols/http/connectors"), json!({"name":"P","baseUrl":"https://p.example","authSchemeConfigs":[api_key_scheme("k","X-Key")]}))
                .await
                .expect(201);
            let c = api.get(&format!("/api/connect/v1/o/{org}/connectors")).await.expect(200);
            let cid = c["connectors"][0]["id"].as_str().unwrap().to_owned();
            api.post(
                &format!("/api/connect/v1/o/{org}/connectors/{cid}/connections"),
                json!({"name":"c","credentials":{"action":[{"authSchemeConfig": api_key_scheme("k","X-Key"),"credential":{"name":"k","type":"string","data":{"value":"s3cret"}}}]}}),
            )
            .await
            .expect(200);
        });
    }
    let out = bin()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
        ])
        .env(
            "SWITCHYARD_MASTER_KEY",
            "0000000000000000000000000000000000000000000000000000000000000001",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot open the existing data"), "{err}");
}
