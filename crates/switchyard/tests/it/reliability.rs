//! Faults and races: concurrent identical activations, retried requests with an Idempotency-Key,
//! and a server killed with SIGKILL in the middle of activations. Every case ends with the
//! database consistent: no half-made activation, connection or end user.

use crate::common::*;
use serde_json::{json, Value};

struct Setup {
    hub: String,
    integrations: Vec<String>,
    erp_templates: Vec<String>,
}

fn key_connection(name: &str) -> Value {
    json!({"name": name, "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Api-Key"), "credential": {"name": "key", "type": "string", "data": {"value": "k"}}}]}, "variables": []})
}

/// A hub (primary connector: CRM) with `n` deployed integrations needing the CRM and an ERP.
async fn setup(api: &Api, o: &str, n: usize) -> Setup {
    let connector = |name: &str| json!({"name": name, "baseUrl": "https://x.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]});
    let crm = api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            connector("CRM"),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let erp = api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            connector("ERP"),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hub = api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Hub", "primaryConnectorId": crm, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut integrations, mut erp_templates) = (Vec::new(), Vec::new());
    for k in 0..n {
        let i = api
            .post(&format!("/api/embedded/v1/hubs/{hub}/integrations"), json!({"organisationId": o, "name": format!("Sync {k}"), "connectionTemplate": {"connectorId": crm, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}}))
            .await
            .expect(200)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let t = api
            .post(
                &format!("/api/embedded/v1/integrations/{i}/connection-templates"),
                json!({"connectorId": erp, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
            )
            .await
            .expect(200);
        api.post(
            &format!("/api/embedded/v1/integrations/{i}/deploy"),
            json!({}),
        )
        .await
        .expect(200);
        integrations.push(i);
        erp_templates.push(t["id"].as_str().unwrap().to_owned());
    }
    Setup {
        hub,
        integrations,
        erp_templates,
    }
}

async fn create_user(api: &Api, hub: &str, external: &str) -> Res {
    api.post(
        &format!("/api/embedded/v1/hubs/{hub}/users"),
        json!({"externalId": external, "primaryConnection": key_connection("primary")}),
    )
    .await
}

fn activation(user: &str, integration: &str, erp_template: &str, name: &str) -> Value {
    let mut c = key_connection(name);
    c["templateId"] = json!(erp_template);
    json!({"userId": user, "integrationId": integration, "connections": [c]})
}

async fn user_connections(api: &Api, hub: &str, user: &str) -> i64 {
    api.get(&format!(
        "/api/embedded/v1/hubs/{hub}/users/{user}/connections?first=500"
    ))
    .await
    .expect(200)["totalCount"]
        .as_i64()
        .unwrap()
}

async fn user_activations(api: &Api, hub: &str, user: &str) -> i64 {
    api.get(&format!(
        "/api/embedded/v1/embed/{hub}/users/{user}/activations?first=500"
    ))
    .await
    .expect(200)["totalCount"]
        .as_i64()
        .unwrap()
}

/// 50 identical activations at once: one 200, 49 409s naming the winner, one new connection.
async fn concurrent_identical_activations(w: World) {
    let s = setup(&w.api, &w.org, 1).await;
    create_user(&w.api, &s.hub, "racer").await.expect(201);
    let calls = (0..50).map(|k| {
        let api = w.api.clone();
        let body = activation(
            "racer",
            &s.integrations[0],
            &s.erp_templates[0],
            &format!("erp {k}"),
        );
        tokio::spawn(async move { api.post("/api/embedded/v1/activations", body).await })
    });
    let mut ok = Vec::new();
    let mut conflicts = Vec::new();
    for c in calls {
        let r = c.await.unwrap();
        match r.status {
            200 => ok.push(r.body),
            409 => conflicts.push(r.body),
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!((ok.len(), conflicts.len()), (1, 49));
    let winner = ok[0]["id"].as_str().unwrap();
    assert!(
        conflicts.iter().all(|c| c["details"] == winner),
        "every 409 names the activation that won"
    );
    assert_eq!(user_activations(&w.api, &s.hub, "racer").await, 1);
    assert_eq!(
        user_connections(&w.api, &s.hub, "racer").await,
        2,
        "the primary connection and the winner's: the losers' were rolled back"
    );
}

/// Retries with an Idempotency-Key get the first answer; a reused key with another body is a
/// 422; concurrent retries make one activation.
async fn idempotent_retries(w: World) {
    let s = setup(&w.api, &w.org, 2).await;
    let with_key = |key: &str| {
        let mut api = w.api.clone();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("idempotency-key", key.parse().unwrap());
        api.http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        api
    };
    let first = create_user(&with_key("user-1"), &s.hub, "ida").await;
    assert_eq!(first.status, 201);
    let again = create_user(&with_key("user-1"), &s.hub, "ida").await;
    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = create_user(&with_key("user-1"), &s.hub, "someone-else").await;
    assert_eq!(other.status, 422, "{}", other.body);
    assert_error_shape(&other.body, 422);

    let body = activation("ida", &s.integrations[0], &s.erp_templates[0], "erp");
    let calls = (0..20).map(|_| {
        let api = with_key("activate-1");
        let body = body.clone();
        tokio::spawn(async move { api.post("/api/embedded/v1/activations", body).await })
    });
    let mut ids = std::collections::HashSet::new();
    for c in calls {
        let r = c.await.unwrap();
        match r.status {
            200 => {
                ids.insert(r.body["id"].as_str().unwrap().to_owned());
            }
            409 => assert!(
                r.body["message"].as_str().unwrap().contains("in progress"),
                "{}",
                r.body
            ),
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    assert_eq!(ids.len(), 1, "every success is the same activation");
    let replay = with_key("activate-1")
        .post("/api/embedded/v1/activations", body)
        .await;
    assert_eq!(replay.status, 200);
    assert!(ids.contains(replay.body["id"].as_str().unwrap()));
    assert_eq!(user_activations(&w.api, &s.hub, "ida").await, 1);
    assert_eq!(user_connections(&w.api, &s.hub, "ida").await, 2);
    // Errors are remembered too (a 4xx is an answer), so a retry does not change its mind.
    let bad = with_key("bad-1")
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "ida", "integrationId": s.integrations[1], "connections": []}),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        with_key("bad-1")
            .post(
                "/api/embedded/v1/activations",
                json!({"userId": "ida", "integrationId": s.integrations[1], "connections": []})
            )
            .await
            .status,
        400
    );
    // Keys belong to the caller, one API key: another key of the organisation runs its own request
    // (here a 409: the user exists), and so does another organisation's.
    let second = {
        let out = bin()
            .args([
                "admin",
                "create-api-key",
                "--org",
                &w.org,
                "--database-url",
                &w.db.url,
            ])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["apiKey"].as_str().unwrap().to_owned()
    };
    let mut second_api = with_key("user-1");
    second_api.key = Some(second);
    let ran = create_user(&second_api, &s.hub, "ida").await;
    assert_eq!(
        (ran.status, ran.headers.get("idempotent-replayed").is_some()),
        (409, false),
        "{}",
        ran.body
    );
    let (_, other) = w.other_org();
    let mut other_api = with_key("user-1");
    other_api.key = other.key.clone();
    let theirs = create_user(&other_api, &s.hub, "ida").await;
    assert_eq!(
        theirs.status, 404,
        "another organisation's request runs (and finds no such hub): {}",
        theirs.body
    );
    // A malformed key is refused.
    assert_eq!(
        with_key(&"k".repeat(256))
            .post("/api/embedded/v1/activations", json!({}))
            .await
            .status,
        400
    );

    // Keys are remembered for 24 hours: once the first use is 25 hours old, the key is free again
    // (here a different request with it runs instead of getting 422).
    let day_ago = chrono::Utc::now() - chrono::Duration::hours(25);
    if w.db.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&w.db.url).await.unwrap();
        sqlx::query("UPDATE idempotency_keys SET created_at = $1 WHERE key = 'user-1'")
            .bind(day_ago)
            .execute(&pool)
            .await
            .unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(&w.db.url).await.unwrap();
        sqlx::query("UPDATE idempotency_keys SET created_at = $1 WHERE key = 'user-1'")
            .bind(day_ago)
            .execute(&pool)
            .await
            .unwrap();
    }
    let later = create_user(&with_key("user-1"), &s.hub, "someone-else").await;
    assert_eq!(
        later.status, 201,
        "a 25-hour-old key binds nothing: {}",
        later.body
    );
    assert!(later.headers.get("idempotent-replayed").is_none());
    assert_eq!(later.body["externalId"], "someone-else");
    // And the fresh use is remembered from now on.
    assert_eq!(
        create_user(&with_key("user-1"), &s.hub, "someone-else")
            .await
            .headers["idempotent-replayed"],
        "true"
    );
}

/// One number from the test's database, read directly.
async fn count(db: &Db, sql: &str) -> i64 {
    if db.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    }
}

/// A POST that may find the server gone: the status, or `None` when the connection broke.
async fn post_raw(api: &Api, path: &str, body: &Value) -> Option<u16> {
    let r = api
        .http
        .post(format!("{}{path}", api.base))
        .bearer_auth(api.key.as_deref().unwrap_or_default())
        .json(body)
        .send()
        .await
        .ok()?;
    Some(r.status().as_u16())
}

/// SIGKILL in the middle of activations, then a restart: every activation is whole, every new
/// connection belongs to an activation, and the server carries on.
async fn killed_mid_activation(w: World) {
    let World {
        db,
        mut server,
        api,
        org,
        ..
    } = w;
    let s = setup(&api, &org, 4).await;
    // 200 end users, then 200 concurrent activation streams, one per user.
    let users: Vec<String> = (0..200).map(|k| format!("u{k}")).collect();
    for chunk in users.chunks(8) {
        let made = chunk.iter().map(|u| {
            let (api, hub, u) = (api.clone(), s.hub.clone(), u.clone());
            tokio::spawn(async move { create_user(&api, &hub, &u).await.status })
        });
        for m in made {
            assert_eq!(m.await.unwrap(), 201);
        }
    }
    let mut workers = Vec::new();
    for user in users.clone() {
        let (api, integrations, templates) =
            (api.clone(), s.integrations.clone(), s.erp_templates.clone());
        workers.push(tokio::spawn(async move {
            for (i, t) in integrations.iter().zip(&templates) {
                if post_raw(
                    &api,
                    "/api/embedded/v1/activations",
                    &activation(&user, i, t, &format!("erp {i}")),
                )
                .await
                .is_none()
                {
                    break; // the server is gone
                }
            }
        }));
    }
    // Kill once activations are committing, while most are still in flight.
    for _ in 0..100 {
        if count(&db, "SELECT COUNT(*) FROM activations").await > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    server.kill(); // SIGKILL: no graceful shutdown
    for w in workers {
        w.await.unwrap();
    }

    let server = Server::start(&db);
    let api = api.with_base(&server);
    // Through the API: every end user that exists has its primary connection, and one more
    // connection per activation.
    let mut checked = 0;
    for user in users.iter().step_by(7) {
        let got = api
            .get(&format!("/api/embedded/v1/hubs/{}/users/{user}", s.hub))
            .await;
        if got.status == 404 {
            continue; // never created: the kill came first
        }
        assert_eq!(got.status, 200);
        assert!(
            got.body["primaryConnection"]["id"].is_string(),
            "an end user exists only with its primary connection: {}",
            got.body
        );
        let activations = user_activations(&api, &s.hub, user).await;
        let connections = user_connections(&api, &s.hub, user).await;
        assert_eq!(
            connections,
            1 + activations,
            "{user}: one primary connection plus one per activation, nothing half-made"
        );
        checked += 1;
    }
    assert!(checked > 0);
    // In the database: no orphan row anywhere.
    let orphans = [
        ("credentials no connection uses", "SELECT COUNT(*) FROM credentials c WHERE NOT EXISTS (SELECT 1 FROM connection_credentials cc WHERE cc.credential_id = c.id)"),
        ("connections that are neither a primary connection nor bound to an activation", "SELECT COUNT(*) FROM connections c WHERE c.end_user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM end_users u WHERE u.primary_connection_id = c.id) AND NOT EXISTS (SELECT 1 FROM activation_connections ac WHERE ac.connection_id = c.id)"),
        ("activations without both their bindings", "SELECT COUNT(*) FROM activations a WHERE (SELECT COUNT(*) FROM activation_connections ac WHERE ac.activation_id = a.id) <> 2"),
        ("end users without their primary connection", "SELECT COUNT(*) FROM end_users u WHERE NOT EXISTS (SELECT 1 FROM connections c WHERE c.id = u.primary_connection_id)"),
    ];
    for (what, sql) in orphans {
        assert_eq!(count(&db, sql).await, 0, "{what}");
    }
    let made = count(&db, "SELECT COUNT(*) FROM activations").await;
    assert!(
        made > 0 && made < 800,
        "the kill came in the middle of the 800 activations ({made} made)"
    );
    // And it carries on.
    create_user(&api, &s.hub, "after-restart").await.expect(201);
}

on_both_databases! {
    identical_activations => concurrent_identical_activations;
    idempotency => idempotent_retries;
    sigkill => killed_mid_activation;
}
