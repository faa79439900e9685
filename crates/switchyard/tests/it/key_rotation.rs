//! Master key rotation under load: `switchyard keys rotate` writes a new key, running servers pick
//! it up, every stored secret is re-encrypted in batches, and no read or write fails meanwhile.

use crate::common::provider::Provider;
use crate::common::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

fn key_env(path: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("SWITCHYARD_MASTER_KEY", String::new()),
        ("SWITCHYARD_MASTER_KEY_FILE", path.display().to_string()),
    ]
}

fn keys_cmd(db: &Db, key_file: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.arg("keys").args(args).args(["--database-url", &db.url]);
    for (k, v) in key_env(key_file) {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn status(db: &Db, key_file: &std::path::Path) -> Value {
    let out = keys_cmd(db, key_file, &["status", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn rotation_under_load(backend: Backend) {
    let Some(db) = Db::new(backend).await else {
        return;
    };
    let key_dir = db.dir.join("keys");
    std::fs::create_dir_all(&key_dir).unwrap();
    let key_file = key_dir.join("master.key");
    std::fs::write(&key_file, MASTER_KEY).unwrap();
    let (org, key) = create_org(&db, "acme");
    let env = key_env(&key_file);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(&db, &env);
    let api = Api::new(&server, &key);
    let Some(p) = Provider::start() else { return };

    let scheme = json!({"id": "cc", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": p.token_url(), "grant": {"grantType": "client_credentials"}});
    let connector = api
        .post(
            &format!("/api/connect/v1/o/{org}/protocols/http/connectors"),
            json!({"name": "Reports", "baseUrl": "https://r.example", "authSchemeConfigs": [scheme]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let connections = format!("/api/connect/v1/o/{org}/connectors/{connector}/connections");
    let body = |n: usize| {
        json!({"name": format!("account {n}"), "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "client", "type": "oauth2-client",
            "data": {"clientId": p.client_id, "clientSecret": p.client_secret, "tokenUrl": p.token_url()}}}]}, "variables": []})
    };
    let mut ids = Vec::new();
    for n in 0..40 {
        ids.push(
            api.post(&connections, body(n)).await.expect(200)["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let before = status(&db, &key_file);
    let old_key = before["activeKeyId"].as_str().unwrap().to_owned();
    assert_eq!(
        before["keys"][0]["rows"], 40,
        "one sealed secret per connection: {before}"
    );

    // An event endpoint whose secret was rotated: both its secrets are sealed by the old key.
    let rx = crate::common::receiver::Receiver::start(200).await;
    let endpoints = format!("/api/organisations/v1/organisations/{org}/event-endpoints");
    let ep = api
        .post(&endpoints, json!({"url": rx.url("/hook")}))
        .await
        .expect(201);
    let rotated = api
        .post(
            &format!("{endpoints}/{}/rotate-secret", ep["id"].as_str().unwrap()),
            json!({}),
        )
        .await
        .expect(200);
    let secrets = [ep["secret"].clone(), rotated["secret"].clone()];

    // Load: every request opens a sealed secret (reads), or seals new ones (writes).
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let requests = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(std::sync::Mutex::new(ids));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (api, stop, failures, requests, ids, connections, body) = (
            api.clone(),
            stop.clone(),
            failures.clone(),
            requests.clone(),
            ids.clone(),
            connections.clone(),
            body(0),
        );
        workers.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let r = if n.is_multiple_of(4) {
                    let mut b = body.clone();
                    b["name"] = json!(format!("load {w}-{n}"));
                    let r = api.post(&connections, b).await;
                    if r.status == 200 {
                        ids.lock()
                            .unwrap()
                            .push(r.body["id"].as_str().unwrap().to_owned());
                    }
                    r
                } else {
                    let id = {
                        let ids = ids.lock().unwrap();
                        ids[(n * 7 + w) % ids.len()].clone()
                    };
                    api.post(&format!("{connections}/{id}/token"), json!({}))
                        .await
                };
                requests.fetch_add(1, Ordering::Relaxed);
                if r.status != 200 {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{}: {}", r.status, r.body));
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let (db_url, kf) = (db.url.clone(), key_file.clone());
    let rotate = tokio::task::spawn_blocking(move || {
        let mut c = bin();
        c.args(["keys", "rotate", "--batch", "7", "--database-url", &db_url]);
        for (k, v) in key_env(&kf) {
            c.env(k, v);
        }
        c.output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        rotate.status.success(),
        "rotate failed: {}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    let said = String::from_utf8_lossy(&rotate.stderr);
    assert!(said.contains("every secret is sealed by key"), "{said}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let failures = failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed during rotation: {:?}",
        failures.len(),
        requests.load(Ordering::Relaxed),
        &failures[..failures.len().min(5)]
    );
    assert!(requests.load(Ordering::Relaxed) > 50, "the load ran");

    // Every row is sealed by the new key, including those written during the rotation.
    let after = status(&db, &key_file);
    let new_key = after["activeKeyId"].as_str().unwrap().to_owned();
    assert_ne!(new_key, old_key);
    let rows = |id: &str| {
        after["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id)
            .map_or(0, |k| k["rows"].as_i64().unwrap())
    };
    assert_eq!(rows(&old_key), 0, "{after}");
    assert!(
        rows(&new_key) > before["keys"][0]["rows"].as_i64().unwrap(),
        "{after}"
    );
    assert!(
        !std::fs::read_to_string(&key_file)
            .unwrap()
            .contains(MASTER_KEY),
        "the key file holds the new key"
    );

    // Retire the old key: the data opens with the new key alone.
    drop(server);
    std::fs::remove_file(key_dir.join("master.key.old")).unwrap();
    let server = Server::start_with(&db, &env);
    let api = Api::new(&server, &key);
    let ids = ids.lock().unwrap().clone();
    for id in ids.iter().step_by(5) {
        api.post(&format!("{connections}/{id}/token"), json!({}))
            .await
            .expect(200);
    }
    // The event endpoint's secrets, re-sealed too, still sign: a new event is delivered and
    // verifies with each.
    let before = rx.wait_for(usize::MAX, 3).await.len();
    api.post(&connections, body(999)).await.expect(200);
    let got = rx.wait_for(before + 1, 15).await;
    assert!(got.len() > before, "{}", server.logs());
    let last = got.last().unwrap();
    for secret in secrets {
        standardwebhooks::Webhook::new(secret.as_str().unwrap())
            .unwrap()
            .verify(last.body.as_bytes(), &last.headers)
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_under_load_sqlite() {
    rotation_under_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    switchyard_no_test_postgres,
    ignore = "PostgreSQL suite not run: set SWITCHYARD_TEST_POSTGRES_URL"
)]
async fn rotation_under_load_postgres() {
    rotation_under_load(Backend::Postgres).await;
}
