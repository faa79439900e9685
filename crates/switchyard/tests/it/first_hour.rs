//! What a newcomer meets first: `--help`, `GET /`, the start-up line and log format, start-up
//! errors, and the 4xx answers to the first bodies they get wrong.
use crate::common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

fn help(args: &[&str]) -> String {
    let out = bin().args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

const KEY_VARS: [&str; 3] = [
    "SWITCHYARD_MASTER_KEY ",
    "SWITCHYARD_MASTER_KEY_FILE",
    "SWITCHYARD_OLD_MASTER_KEYS",
];

#[test]
fn help_lists_every_setting_of_each_command_and_only_those() {
    let serve_flags = [
        "--listen",
        "--public-url",
        "--egress-allow",
        "--request-timeout-seconds",
        "--max-connections",
        "SWITCHYARD_LISTEN",
        "SWITCHYARD_RATE_LIMIT_FAILED_AUTH_PER_MINUTE",
    ];
    let db_flags = [
        "--config",
        "--database-url",
        "--data-dir",
        "--log-format",
        "[env: SWITCHYARD_DATABASE_URL",
        "SWITCHYARD_DATABASE_URL_FILE",
        "RUST_LOG",
    ];
    for args in [&[][..], &["serve"][..]] {
        let h = help(args);
        for s in serve_flags.iter().chain(&db_flags).chain(&KEY_VARS) {
            assert!(h.contains(s), "switchyard {args:?} --help lacks {s}:\n{h}");
        }
    }
    for args in [
        &["admin", "create-org"][..],
        &["admin", "create-api-key"][..],
        &["migrate"][..],
    ] {
        let h = help(args);
        for s in &db_flags {
            assert!(h.contains(s), "switchyard {args:?} --help lacks {s}:\n{h}");
        }
        for s in serve_flags.iter().chain(&KEY_VARS) {
            assert!(!h.contains(s), "switchyard {args:?} --help shows {s}:\n{h}");
        }
    }
    for args in [&["keys", "status"][..], &["keys", "rotate"][..]] {
        let h = help(args);
        for s in db_flags.iter().chain(&KEY_VARS) {
            assert!(h.contains(s), "switchyard {args:?} --help lacks {s}:\n{h}");
        }
        for s in &serve_flags {
            assert!(!h.contains(s), "switchyard {args:?} --help shows {s}:\n{h}");
        }
    }
    for args in [&["openapi"][..], &["keys", "generate"][..]] {
        let h = help(args);
        assert!(!h.contains("--database-url"), "{args:?}: {h}");
    }
    // Flags before the command still count.
    let db = std::env::temp_dir().join(format!("sy-help-{}", ulid::Ulid::new()));
    let out = bin()
        .arg("--data-dir")
        .arg(&db)
        .args(["admin", "create-org", "--name", "x"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.join("switchyard.db").exists());
    let _ = std::fs::remove_dir_all(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_root_points_to_the_hub_page_the_openapi_document_and_the_docs() {
    let w = World::new(Backend::Sqlite).await.unwrap();
    let index = reqwest::get(format!("{}/", w.server.url)).await.unwrap();
    assert_eq!(index.status(), 200);
    let index: Value = index.json().await.unwrap();
    assert_eq!(index["name"], "Switchyard");
    for (k, path) in [
        ("hubPage", "/hub/"),
        ("openapi", "/openapi.json"),
        ("health", "/healthz"),
    ] {
        let url = index[k].as_str().unwrap();
        assert_eq!(url, format!("{}{path}", w.server.url));
        assert_eq!(reqwest::get(url).await.unwrap().status(), 200, "{url}");
    }
    assert!(index["docs"].as_str().unwrap().contains("README"));
    // The start-up line says where to look.
    assert!(
        w.server
            .logs()
            .contains(&format!("{}/ points to the hub page", w.server.url)),
        "{}",
        w.server.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_json_only() {
    let db = Db::new(Backend::Sqlite).await.unwrap();
    let mut child = bin()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .expect("the server logged its address")
            .unwrap();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("a log line that is not JSON: {line:?}\nbefore: {seen:?}"));
        seen.push(line);
        if let Some(url) = v["url"].as_str() {
            assert!(v["message"]
                .as_str()
                .unwrap()
                .starts_with("switchyard listening on "));
            break url.to_owned();
        }
    };
    assert_eq!(
        reqwest::get(format!("{url}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let _ = child.kill();
    for line in lines.map_while(Result::ok) {
        assert!(
            serde_json::from_str::<Value>(&line).is_ok(),
            "a log line that is not JSON: {line:?}"
        );
    }
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_missing_required_field_is_named_at_once() {
    let w = World::new(Backend::Sqlite).await.unwrap();
    let e = w
        .api
        .post("/api/embedded/v1/hubs", json!({"name": "Hub"}))
        .await
        .error(400);
    let mut fields = Res::fields(&e);
    fields.sort();
    assert_eq!(
        fields,
        ["authSchemeConfig", "organisationId", "primaryConnectorId"],
        "{e}"
    );
    // Nested, in a list: the path of each.
    let c = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org),
            json!({"name": "CRM", "baseUrl": "https://crm.example", "authSchemeConfigs": [api_key_scheme("k", "X-Key")]}),
        )
        .await
        .expect(201);
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/connectors/{}/connections", w.org, c["id"].as_str().unwrap()),
            json!({"name": "c", "credentials": {"action": [{"credential": {"data": {"value": "x"}}}]}}),
        )
        .await
        .error(400);
    let mut fields = Res::fields(&e);
    fields.sort();
    assert_eq!(
        fields,
        [
            "credentials.action[0].credential.name",
            "credentials.action[0].credential.type"
        ],
        "{e}"
    );
    // v2's types are found under their documented names.
    let e = w
        .api
        .post(
            &format!("/api/v2/o/{}/systems", w.org),
            json!({"name": "S"}),
        )
        .await
        .error(400);
    let mut fields = Res::fields(&e);
    fields.sort();
    assert_eq!(
        fields,
        ["authSchemeConfigs", "domain", "templateBaseUrl"],
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_mistakes_get_a_hint() {
    let w = World::new(Backend::Sqlite).await.unwrap();
    let o = &w.org;
    let c = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "Acme", "baseUrl": "https://acme.example", "authSchemeConfigs": [api_key_scheme("k", "X-Key")]}),
        )
        .await
        .expect(201);
    let cid = c["id"].as_str().unwrap();
    // A credential type the scheme does not take: the ones it does.
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
            json!({"name": "c", "credentials": {"action": [{"authSchemeConfig": api_key_scheme("k", "X-Key"),
                "credential": {"name": "k", "type": "basic-auth", "data": {"username": "u", "password": "p"}}}]}}),
        )
        .await
        .error(400);
    assert!(
        e["fields"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("which takes string"),
        "{e}"
    );
    // The scheme's type given as the credential's: what to send instead.
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
            json!({"name": "c", "credentials": {"action": [{"authSchemeConfig": api_key_scheme("k", "X-Key"),
                "credential": {"name": "k", "type": "api-key", "data": {"value": "v"}}}]}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["credentials.action[0].credential.type"]);
    assert!(
        e["fields"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("`api-key` schemes take `string`)"),
        "{e}"
    );
    // An activation for a user who does not exist: how to make one.
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Hub", "primaryConnectorId": cid, "authSchemeConfig": api_key_scheme("k", "X-Key")}),
        )
        .await
        .expect(201);
    let hub = hub["id"].as_str().unwrap();
    let i = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/integrations"),
            json!({"organisationId": o, "name": "I", "summary": "In short"}),
        )
        .await
        .expect(200);
    // The summary given is returned, then and later.
    assert_eq!(i["summary"], "In short");
    let again = w
        .api
        .get(&format!(
            "/api/embedded/v1/integrations/{}",
            i["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(again["summary"], "In short");
    let e = w
        .api
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "nobody", "integrationId": i["id"]}),
        )
        .await
        .error(404);
    assert_eq!(Res::fields(&e), ["userId"]);
    let m = e["message"].as_str().unwrap();
    assert!(m.starts_with("end user not found"), "{m}");
    assert!(
        m.contains(&format!("POST /api/embedded/v1/hubs/{hub}/users")),
        "{m}"
    );
}

#[test]
fn an_unreachable_postgres_server_is_named_at_start_up() {
    let out = bin()
        .args([
            "admin",
            "create-org",
            "--name",
            "x",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/switchyard",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Connection refused"), "{err}");
    assert!(!err.contains("timed out"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    switchyard_no_test_postgres,
    ignore = "PostgreSQL suite not run: set SWITCHYARD_TEST_POSTGRES_URL"
)]
async fn a_missing_postgres_database_is_named_at_start_up() {
    let Some(db) = Db::new(Backend::Postgres).await else {
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_path("/switchyard_test_does_not_exist");
    let out = bin()
        .args(["migrate", "--database-url", url.as_str()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("switchyard_test_does_not_exist") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!err.contains("internal database error"), "{err}");
}
