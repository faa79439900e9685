//! The authentication cache: a known API key, hub session or signing key costs no database round
//! trip, yet revocation, deletion and expiry reach every node at once: a key revoked on one node
//! is refused by another, a key revoked by the CLI (another process writing the same database) is
//! refused by the running server, a node whose PostgreSQL notification connection is cut stops
//! trusting what it cached, and a hub session ends at its expiry.
use crate::common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How soon a revocation must be seen everywhere.
const AT_ONCE: Duration = Duration::from_secs(1);

/// Calls `path` with `api` until it answers 401, and says how long that took (at most `limit`).
async fn refused_within(api: &Api, path: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let status = api.get(path).await.status;
        if status == 401 {
            return start.elapsed();
        }
        assert_eq!(status, 200, "{path}");
        assert!(
            start.elapsed() < limit,
            "{path} still answers {status} {:?} after the revocation",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The node's count of authentications answered from its cache.
async fn cache_hits(server: &Server) -> u64 {
    let text = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("switchyard_auth_cache_total{outcome=\"hit\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// A second API key for the world's organisation: (id, key).
async fn second_key(w: &World) -> (String, String) {
    let created = w
        .api
        .post(
            &format!("/api/organisations/v1/organisations/{}/api-keys", w.org),
            json!({"name": "cached"}),
        )
        .await
        .expect(201);
    (
        created["id"].as_str().unwrap().to_owned(),
        created["apiKey"].as_str().unwrap().to_owned(),
    )
}

/// Uses `api` on `path` until the node answers from its cache (its feed may still be starting).
async fn warm(server: &Server, api: &Api, path: &str) {
    let before = cache_hits(server).await;
    let start = Instant::now();
    loop {
        api.get(path).await.expect(200);
        if cache_hits(server).await > before {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the node never answered from its cache"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn revoked_on_one_node_refused_on_another(w: World) {
    let node_b = Server::start(&w.db);
    let (id, key) = second_key(&w).await;
    let on_b = Api::new(&node_b, &key);
    let path = format!("/api/connect/v1/o/{}/connectors", w.org);
    warm(&node_b, &on_b, &path).await;
    let hits = cache_hits(&node_b).await;
    for _ in 0..5 {
        on_b.get(&path).await.expect(200);
    }
    assert!(
        cache_hits(&node_b).await >= hits + 5,
        "a known key is answered from the cache"
    );

    // Revoked on node A: node B refuses it within a second.
    w.api
        .delete(&format!(
            "/api/organisations/v1/organisations/{}/api-keys/{id}",
            w.org
        ))
        .await
        .expect(204);
    let took = refused_within(&on_b, &path, AT_ONCE).await;
    eprintln!("API key revoked on node A, refused on node B after {took:?}");
    // And node A at once (it forgets in the request that revokes).
    assert_eq!(w.api.with_key(&key).get(&path).await.status, 401);

    // A signing key deleted on node A: node B refuses the JWTs it signed.
    let (key_id, private) = signing_key(&w.api, &w.org).await;
    let jwt = Api::anonymous(&node_b).with_jwt(&end_user_jwt(&key_id, &private, "alice"));
    let projects = format!("/api/v2/o/{}/projects", w.org);
    warm(&node_b, &jwt, &projects).await;
    w.api
        .delete(&format!(
            "/api/organisations/v1/organisations/{}/keys/{key_id}",
            w.org
        ))
        .await
        .expect(204);
    let took = refused_within(&jwt, &projects, AT_ONCE).await;
    eprintln!("signing key deleted on node A, its JWT refused on node B after {took:?}");
}

async fn revoked_by_the_cli_refused_by_the_server(w: World) {
    let (id, key) = second_key(&w).await;
    let api = w.api.with_key(&key);
    let path = format!("/api/connect/v1/o/{}/connectors", w.org);
    warm(&w.server, &api, &path).await;
    let out = bin()
        .args([
            "admin",
            "revoke-api-key",
            "--org",
            &w.org,
            "--key-id",
            &id,
            "--database-url",
            &w.db.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let took = refused_within(&api, &path, AT_ONCE).await;
    eprintln!("API key revoked by the CLI, refused by the server after {took:?}");
}

async fn hub_session_refused_at_expiry(w: World) {
    let o = &w.org;
    let crm = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "CRM", "baseUrl": "https://x.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]}),
        )
        .await
        .expect(201);
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Hub", "primaryConnectorId": crm["id"], "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
        )
        .await
        .expect(201);
    let hub = hub["id"].as_str().unwrap();
    let session: Value = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users/cust-1/sessions"),
            json!({"ttlSeconds": 2}),
        )
        .await
        .expect(201);
    let expires: chrono::DateTime<chrono::Utc> =
        session["expiresAt"].as_str().unwrap().parse().unwrap();
    let page = w.api.with_key(session["token"].as_str().unwrap());
    let path = format!("/api/embedded/v1/embed/{hub}/users/cust-1/integrations");
    warm(&w.server, &page, &path).await;
    let wait = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(5)).await;
    let gone = page.get(&path).await.error(401);
    assert!(
        gone["message"].as_str().unwrap().contains("expired"),
        "{gone}"
    );
}

on_both_databases! {
    revocation_reaches_every_node => revoked_on_one_node_refused_on_another;
    cli_revocation_reaches_the_server => revoked_by_the_cli_refused_by_the_server;
    session_expiry => hub_session_refused_at_expiry;
}

/// PostgreSQL: with the node's notification connection cut (from another session), a key revoked
/// meanwhile is still refused, and the node listens again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_notification_connection_postgres() {
    let Some(w) = World::new(Backend::Postgres).await else {
        return;
    };
    let pool = sqlx::PgPool::connect(&w.db.url).await.unwrap();
    let listeners = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                     AND query ILIKE 'LISTEN%'";
    let (id, key) = second_key(&w).await;
    let api = w.api.with_key(&key);
    let path = format!("/api/connect/v1/o/{}/connectors", w.org);
    warm(&w.server, &api, &path).await;
    let pids: Vec<i32> = sqlx::query_scalar(listeners)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(pids.len(), 1, "the node listens on one connection");
    let cut: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pids[0])
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(cut);
    // Revoked behind the server's back, while its listener is down: the notification is lost.
    sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE id = $1")
        .bind(&id)
        .execute(&pool)
        .await
        .unwrap();
    let took = refused_within(&api, &path, AT_ONCE).await;
    eprintln!("with the listener cut, a revoked key was refused after {took:?}");
    // The node listens again, and its cache serves again.
    let start = Instant::now();
    loop {
        let now: Vec<i32> = sqlx::query_scalar(listeners)
            .fetch_all(&pool)
            .await
            .unwrap();
        if now.len() == 1 && now[0] != pids[0] {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no new listener");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    warm(&w.server, &w.api, &path).await;
    assert_eq!(api.get(&path).await.status, 401, "still refused");
}
