//! The adversarial suite: each attack a security review found, tried as a hostile end user (hub
//! session, end-user JWT) or a hostile tenant would, against the real server on SQLite and
//! PostgreSQL, and shown to fail. Outbound requests are aimed at real local listeners that count
//! every connection they get.

use crate::common::peer::{Answer, Peer};
use crate::common::*;
use serde_json::{json, Value};

const ORG_CLIENT_SECRET: &str = "canary-org-client-secret-5e1d";

/// An OAuth2 (authorization code) scheme whose client secret is the organisation's.
fn org_oauth_scheme() -> Value {
    json!({"id": "oauth", "description": "Sign in", "schemeType": "oauth2", "authorizeUrl": "https://crm.example/authorize",
           "tokenUrl": "https://crm.example/token", "defaultScopes": ["read"],
           "grant": {"grantType": "authorization_code", "clientId": "org-client", "clientSecret": ORG_CLIENT_SECRET}})
}

/// A v1 hub whose deployed integration has one OAuth2 template, and a session for end user
/// `mallory`. Returns (hub, integration, template id, the template's scheme as the session reads
/// it, the session's API).
async fn v1_hub(w: &World) -> (String, String, String, Value, Api) {
    let o = &w.org;
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "CRM", "baseUrl": "https://crm.example", "authSchemeConfigs": [org_oauth_scheme(), api_key_scheme("key", "X-Key")]}),
        )
        .await
        .expect(201);
    let connector_id = connector["id"].as_str().unwrap().to_owned();
    let oauth = connector["authSchemeConfigs"][0].clone();
    assert!(oauth["grant"]["credentialId"].is_string());
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Hub", "primaryConnectorId": connector_id, "authSchemeConfig": api_key_scheme("key", "X-Key")}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let integration = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/integrations"),
            json!({"organisationId": o, "name": "Sync", "connectionTemplate": {"connectorId": connector_id, "authSchemeConfig": oauth}}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.api
        .post(
            &format!("/api/embedded/v1/integrations/{integration}/deploy"),
            json!({}),
        )
        .await
        .expect(200);
    let token = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users/mallory/sessions"),
            json!({}),
        )
        .await
        .expect(201)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = w.api.with_key(&token);
    // What the session reads of the integration: the template and its scheme, grant credential id included.
    let read = session
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/mallory/integrations/{integration}"
        ))
        .await
        .expect(200);
    let template = read["connectionTemplates"][0].clone();
    (
        hub,
        integration,
        template["id"].as_str().unwrap().to_owned(),
        template["authSchemeConfig"].clone(),
        session,
    )
}

fn password_connection(scheme: Value) -> Value {
    json!({"action": [{"authSchemeConfig": scheme, "credential": {"name": "p", "type": "oauth2-password", "data": {"username": "u", "password": "p"}}}]})
}

/// Finding 1, v1: a hub session sends the template's own scheme with `tokenUrl` pointed at its
/// server, and an `oauth2-password` credential. Nothing reaches the attacker; nothing is stored.
async fn forged_token_url_from_a_hub_session(w: World) {
    let attacker = Peer::start(Answer::Refusal {
        banner: "thanks".into(),
    })
    .await;
    let (_hub, integration, template, scheme, session) = v1_hub(&w).await;
    let mut forged = scheme.clone();
    forged["tokenUrl"] = json!(attacker.url("/steal"));
    let activation = |scheme: Value| json!({"userId": "mallory", "integrationId": integration, "connections": [{"templateId": template, "name": "crm", "credentials": password_connection(scheme)}]});
    let e = session
        .post("/api/embedded/v1/activations", activation(forged.clone()))
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["connections[0].credentials.action[0].authSchemeConfig.tokenUrl"],
        "{e}"
    );
    // A made-up scheme id carrying the organisation's grant credential is no better.
    let mut made_up = forged.clone();
    made_up["id"] = json!("mine");
    let e = session
        .post("/api/embedded/v1/activations", activation(made_up))
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["connections[0].credentials.action[0].authSchemeConfig.id"],
        "{e}"
    );
    // Other deciding fields, one at a time.
    for (field, value) in [
        ("authorizeUrl", json!("https://evil.example/a")),
        ("defaultScopes", json!(["admin"])),
        ("additionalTokenParams", json!("aud=evil")),
    ] {
        let mut f = scheme.clone();
        f[field] = value;
        let e = session
            .post("/api/embedded/v1/activations", activation(f))
            .await
            .error(400);
        assert!(
            Res::fields(&e)[0].starts_with(&format!(
                "connections[0].credentials.action[0].authSchemeConfig.{field}"
            )),
            "{e}"
        );
    }
    // The user was not even created, and nothing reached the attacker.
    w.api
        .get(&format!("/api/embedded/v1/hubs/{}/users/mallory", _hub))
        .await
        .error(404);

    // The end user's own oauth2-client credential may not point elsewhere either.
    let client = json!({"action": [{"authSchemeConfig": scheme.clone(), "credential": {"name": "c", "type": "oauth2-client",
        "data": {"clientId": "mine", "clientSecret": "mine", "tokenUrl": attacker.url("/token")}}}]});
    let body = json!({"userId": "mallory", "integrationId": integration, "connections": [{"templateId": template, "name": "crm", "credentials": client}]});
    let e = session
        .post("/api/embedded/v1/activations", body)
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["connections[0].credentials.action[0].credential.data.tokenUrl"],
        "{e}"
    );
    assert_eq!(
        attacker.connections(),
        0,
        "the attacker's server was reached"
    );
    assert!(!w.server.logs().contains(ORG_CLIENT_SECRET));
}

/// A v2 system with an OAuth2 scheme, a project with a dynamic template on it, and an end-user
/// JWT for `mallory`, who exists. Returns (system's OAuth2 scheme in v2 encoding, template id,
/// environment id, mallory's API).
async fn v2_project(w: &World) -> (Value, String, String, Api) {
    let o = &w.org;
    let v2_oauth = json!({"type": "oauth2", "oauth2": {"id": "oauth", "description": "Sign in", "authorizeUrl": "https://crm.example/authorize",
        "tokenUrl": "https://crm.example/token", "defaultScopes": ["read"],
        "grant": {"type": "authorizationCode", "authorizationCode": {"clientId": "org-client", "clientSecret": ORG_CLIENT_SECRET}}}});
    let system = w
        .api
        .post(
            &format!("/api/v2/o/{o}/systems"),
            json!({"name": "CRM", "domain": "crm.example", "templateBaseUrl": "https://crm.example", "authSchemeConfigs": [v2_oauth]}),
        )
        .await
        .expect(201);
    let system_id = system["id"].as_str().unwrap().to_owned();
    let scheme = system["authSchemeConfigs"][0].clone();
    let project = w
        .api
        .post(&format!("/api/v2/o/{o}/projects"), json!({"name": "P"}))
        .await
        .expect(200);
    let env = project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let template = w
        .api
        .post(
            &format!(
                "/api/v2/o/{o}/projects/{}/connection-templates",
                project["id"].as_str().unwrap()
            ),
            json!({"systemId": system_id, "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200)["connectionTemplateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (key_id, pem) = signing_key(&w.api, o).await;
    let mallory = w.api.with_jwt(&end_user_jwt(&key_id, &pem, "mallory"));
    mallory
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "mallory", "displayName": "Mallory"}),
        )
        .await
        .expect(201);
    (scheme, template, env, mallory)
}

/// Finding 1, v2: the same forgery with an end-user JWT, on every route that takes a scheme.
async fn forged_token_url_from_an_end_user_jwt(w: World) {
    let o = w.org.clone();
    let attacker = Peer::start(Answer::Refusal {
        banner: "thanks".into(),
    })
    .await;
    let (scheme, template, env, mallory) = v2_project(&w).await;
    let mut forged = scheme.clone();
    forged["oauth2"]["tokenUrl"] = json!(attacker.url("/steal"));
    let credential = |scheme: &Value| json!({"authSchemeConfig": scheme, "credential": {"type": "oauth2-password", "name": "p", "data": {"oauth2Password": {"username": "u", "password": "p"}}}});
    let e = mallory
        .post(
            &format!("/api/v2/o/{o}/connections"),
            json!({"connectionTemplateId": template, "externalId": "mallory", "connection": {"name": "c", "credentials": [credential(&forged)]}}),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["connection.credentials[0].authSchemeConfig.oauth2.tokenUrl"],
        "{e}"
    );
    let e = mallory
        .post(
            &format!("/api/v2/o/{o}/activations"),
            json!({"userId": "mallory", "environmentId": env, "connections": [{"connectionTemplateId": template, "connection": {"name": "c", "credentials": [credential(&forged)]}}]}),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["connections[0].connection.credentials[0].authSchemeConfig.oauth2.tokenUrl"],
        "{e}"
    );

    // A genuine connection (an API key would do; here the scheme exactly as read, with a token
    // obtained elsewhere) is accepted, and then may not be rebound to a forged scheme.
    let token = json!({"authSchemeConfig": scheme, "credential": {"type": "oauth2-token", "name": "t", "data": {"oauth2Token": {"accessToken": "a", "refreshToken": "r"}}}});
    let c = mallory
        .post(
            &format!("/api/v2/o/{o}/connections"),
            json!({"connectionTemplateId": template, "externalId": "mallory", "connection": {"name": "c", "credentials": [token]}}),
        )
        .await
        .expect(201);
    let credential_id = c["credentials"][0]["credential"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let e = mallory
        .put(
            &format!("/api/v2/o/{o}/connections/{}", c["id"].as_str().unwrap()),
            json!({"name": "c", "baseUrl": "", "credentials": [{"authSchemeConfig": forged, "credential": {"id": credential_id}}]}),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        ["credentials[0].authSchemeConfig.oauth2.tokenUrl"],
        "{e}"
    );
    // The organisation refreshing the stored connection's token calls the scheme's provider, never
    // the attacker: the stored scheme is the organisation's.
    let stored = w
        .api
        .get(&format!(
            "/api/v2/o/{o}/connections/{}",
            c["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(
        stored["credentials"][0]["authSchemeConfig"]["oauth2"]["tokenUrl"],
        "https://crm.example/token"
    );
    assert_eq!(
        attacker.connections(),
        0,
        "the attacker's server was reached"
    );
}

/// A server on `db` whose egress guard allows nothing internal, with one organisation.
fn closed_world(db: Db) -> World {
    let (org, key) = create_org(&db, "acme");
    let server = Server::start_with(&db, &[("SWITCHYARD_EGRESS_ALLOW", "")]);
    let api = Api::new(&server, &key);
    World {
        db,
        server,
        org,
        key,
        api,
    }
}

/// Finding 2: an `oauth2-client` credential's own `tokenUrl` naming an internal address, in every
/// spelling, is refused without a connection, even when the organisation's key sets it.
async fn internal_token_urls_are_never_called(w: World) {
    let w = closed_world(w.db);
    let o = &w.org;
    let target = Peer::start(Answer::Refusal {
        banner: "internal-banner".into(),
    })
    .await;
    let port = target.port;
    let scheme = json!({"id": "cc", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": target.url("/token"), "grant": {"grantType": "client_credentials"}});
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "Inner", "baseUrl": "https://inner.example", "authSchemeConfigs": [scheme]}),
        )
        .await
        .expect(201);
    let cid = connector["id"].as_str().unwrap().to_owned();
    let urls = [
        format!("http://127.0.0.1:{port}/token"),
        format!("http://localhost:{port}/token"),
        format!("http://0.0.0.0:{port}/token"),
        format!("http://2130706433:{port}/token"),
        format!("http://0x7f.0.0.1:{port}/token"),
        format!("http://[::ffff:127.0.0.1]:{port}/token"),
        format!("http://[::1]:{port}/token"),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://10.0.0.1/token".to_owned(),
    ];
    for (i, url) in urls.iter().enumerate() {
        let body = json!({"name": format!("c{i}"), "credentials": {"action": [{"authSchemeConfig": connector["authSchemeConfigs"][0], "credential": {"name": "c", "type": "oauth2-client",
            "data": {"clientId": "id", "clientSecret": "secret", "tokenUrl": url}}}]}, "variables": []});
        let c = w
            .api
            .post(
                &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
                body,
            )
            .await
            .expect(200);
        let started = std::time::Instant::now();
        let e = w
            .api
            .post(
                &format!(
                    "/api/connect/v1/o/{o}/connectors/{cid}/connections/{}/token",
                    c["id"].as_str().unwrap()
                ),
                json!({}),
            )
            .await
            .error(503);
        assert!(
            e["message"].as_str().unwrap().contains("not allowed"),
            "{url}: {e}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{url}: the refusal waited for a connection"
        );
    }
    assert_eq!(target.connections(), 0, "an internal address was called");
}

/// Finding 2, the oracle: a provider's own words (an internal service's banner) never reach an
/// end user; the organisation's events keep them, truncated.
async fn provider_words_reach_only_the_organisation(w: World) {
    let o = w.org.clone();
    let banner = format!("SSH-2.0-OpenSSH_9.2 internal-db-7 {}", "x".repeat(600));
    let provider = Peer::start(Answer::Refusal {
        banner: banner.clone(),
    })
    .await;
    let scheme = json!({"type": "oauth2", "oauth2": {"id": "cc", "description": "", "authorizeUrl": "", "tokenUrl": provider.url("/token"),
        "grant": {"type": "clientCredentials", "clientCredentials": {}}}});
    let system = w
        .api
        .post(
            &format!("/api/v2/o/{o}/systems"),
            json!({"name": "S", "domain": "s.example", "templateBaseUrl": "https://s.example", "authSchemeConfigs": [scheme]}),
        )
        .await
        .expect(201);
    let project = w
        .api
        .post(&format!("/api/v2/o/{o}/projects"), json!({"name": "P"}))
        .await
        .expect(200);
    let template = w
        .api
        .post(
            &format!(
                "/api/v2/o/{o}/projects/{}/connection-templates",
                project["id"].as_str().unwrap()
            ),
            json!({"systemId": system["id"], "name": "s", "dynamic": true}),
        )
        .await
        .expect(200)["connectionTemplateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (key_id, pem) = signing_key(&w.api, &o).await;
    let user = w.api.with_jwt(&end_user_jwt(&key_id, &pem, "eve"));
    user.post(
        &format!("/api/v2/o/{o}/users"),
        json!({"externalId": "eve", "displayName": "Eve"}),
    )
    .await
    .expect(201);
    let credential = json!({"authSchemeConfig": system["authSchemeConfigs"][0], "credential": {"type": "oauth2-client", "name": "c",
        "data": {"oauth2Client": {"clientId": "eve", "clientSecret": "eve-secret", "tokenUrl": provider.url("/token")}}}});
    let c = user
        .post(
            &format!("/api/v2/o/{o}/connections"),
            json!({"connectionTemplateId": template, "externalId": "eve", "connection": {"name": "c", "credentials": [credential]}}),
        )
        .await
        .expect(201);
    assert!(!c.to_string().contains("OpenSSH"), "{c}");
    let id = c["id"].as_str().unwrap();
    let e = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{o}/connectors/{}/connections/{id}/token",
                system["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await
        .error(409);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("invalid_request (HTTP 400)"),
        "{e}"
    );
    assert!(!e.to_string().contains("OpenSSH"), "{e}");
    // The end user reads the credential's errors: the code, never the banner.
    let read = user
        .get(&format!("/api/v2/o/{o}/connections/{id}"))
        .await
        .expect(200);
    let errors = read["credentials"][0]["credential"]["errors"].to_string();
    assert!(errors.contains("invalid_request"), "{read}");
    assert!(!read.to_string().contains("OpenSSH"), "{read}");
    // The organisation's events keep the provider's words, truncated.
    let cred = read["credentials"][0]["credential"]["id"].as_str().unwrap();
    let events = w
        .api
        .get(&format!("/api/connect/v1/o/{o}/credentials/{cred}/events"))
        .await
        .expect(200);
    let reason = events[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("SSH-2.0-OpenSSH_9.2 internal-db-7"),
        "{reason}"
    );
    assert!(reason.len() < 500, "{reason}");
}

/// Finding 4: a 300 MB answer from a provider is dropped after 1 MiB; the server's memory stays
/// bounded, with or without a Content-Length.
async fn huge_provider_answers_are_bounded(w: World) {
    let o = w.org.clone();
    for chunked in [false, true] {
        let provider = Peer::start(Answer::Huge {
            len: 300 * 1024 * 1024,
            chunked,
        })
        .await;
        let scheme = json!({"id": "cc", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": provider.url("/token"), "grant": {"grantType": "client_credentials"}});
        let connector = w
            .api
            .post(
                &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
                json!({"name": format!("Big {chunked}"), "baseUrl": "https://b.example", "authSchemeConfigs": [scheme]}),
            )
            .await
            .expect(201);
        let cid = connector["id"].as_str().unwrap().to_owned();
        let before = w.server.rss();
        let body = json!({"name": "c", "credentials": {"action": [{"authSchemeConfig": connector["authSchemeConfigs"][0], "credential": {"name": "c", "type": "oauth2-client",
            "data": {"clientId": "id", "clientSecret": "secret", "tokenUrl": provider.url("/token")}}}]}, "variables": []});
        let c = w
            .api
            .post(
                &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
                body,
            )
            .await
            .expect(200);
        let e = w
            .api
            .post(
                &format!(
                    "/api/connect/v1/o/{o}/connectors/{cid}/connections/{}/token",
                    c["id"].as_str().unwrap()
                ),
                json!({}),
            )
            .await
            .error(503);
        assert!(
            e["message"].as_str().unwrap().contains("larger than"),
            "{e}"
        );
        let grown = w.server.rss().saturating_sub(before);
        assert!(
            grown < 64 * 1024 * 1024,
            "the server grew by {} MB reading a huge answer (chunked: {chunked})",
            grown / 1024 / 1024
        );
        assert!(provider.connections() >= 1);
    }
}

/// Runs `sql` on the test's database.
async fn execute(db: &Db, sql: &str) {
    if db.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// Forged schemes already stored (before this release) are rebound to the organisation's copy by
/// migration 0015; one whose id the organisation never defined loses its grant credential.
async fn stored_forgeries_are_rebound(mut w: World) {
    let o = w.org.clone();
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "CRM", "baseUrl": "https://crm.example", "authSchemeConfigs": [org_oauth_scheme()]}),
        )
        .await
        .expect(201);
    let cid = connector["id"].as_str().unwrap().to_owned();
    let scheme = connector["authSchemeConfigs"][0].clone();
    let grant = scheme["grant"]["credentialId"].as_str().unwrap().to_owned();
    let token = |name: &str| json!({"name": name, "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "t", "type": "oauth2-token", "data": {"accessToken": "a", "refreshToken": "r"}}}]}, "variables": []});
    let a = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
            token("a"),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
            token("b"),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // What an attack before the fix would have left in the database.
    let forged = |id: &str| {
        let mut f = scheme.clone();
        f["id"] = json!(id);
        f["tokenUrl"] = json!("https://attacker.example/steal");
        f.to_string().replace('\'', "''")
    };
    execute(&w.db, &format!("UPDATE connection_credentials SET auth_scheme_config = '{}' WHERE connection_id = '{a}'", forged("oauth"))).await;
    execute(&w.db, &format!("UPDATE connection_credentials SET auth_scheme_config = '{}' WHERE connection_id = '{b}'", forged("mine"))).await;
    // The migration runs again at the next start.
    w.server.kill();
    execute(&w.db, "DELETE FROM _sqlx_migrations WHERE version = 15").await;
    let server = Server::start(&w.db);
    let api = w.api.with_base(&server);
    let read = api
        .get(&format!(
            "/api/connect/v1/o/{o}/connectors/{cid}/connections/{a}"
        ))
        .await
        .expect(200);
    assert_eq!(
        read["credentials"]["action"][0]["authSchemeConfig"], scheme,
        "{read}"
    );
    let read = api
        .get(&format!(
            "/api/connect/v1/o/{o}/connectors/{cid}/connections/{b}"
        ))
        .await
        .expect(200);
    let kept = &read["credentials"]["action"][0]["authSchemeConfig"];
    assert_eq!(kept["id"], "mine");
    assert!(kept["grant"].get("credentialId").is_none(), "{kept}");
    assert!(!read.to_string().contains(&grant), "{read}");
}

/// A burst of failed authentications from one address gets 429s with `Retry-After`, for good
/// keys too, until the quota refills; provider calls are limited per organisation, and another
/// organisation is not held back by the first one's burst.
async fn bursts_get_429(w: World) {
    let db = w.db;
    let (org, key) = create_org(&db, "acme");
    let server = Server::start_with(
        &db,
        &[
            ("SWITCHYARD_RATE_LIMIT_FAILED_AUTH_PER_MINUTE", "5"),
            (
                "SWITCHYARD_RATE_LIMIT_PROVIDER_CALLS_PER_ORG_PER_MINUTE",
                "3",
            ),
        ],
    );
    let api = Api::new(&server, &key);
    // Provider calls: the organisation's quota is 3 a minute.
    let provider = Peer::start(Answer::Refusal {
        banner: "no".into(),
    })
    .await;
    let scheme = json!({"id": "cc", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": provider.url("/token"), "grant": {"grantType": "client_credentials"}});
    let mut token_paths = Vec::new();
    for (o, api) in [(org.clone(), api.clone()), {
        let (o, k) = create_org(&db, "globex");
        (o, api.with_key(&k))
    }] {
        let connector = api
            .post(
                &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
                json!({"name": "P", "baseUrl": "https://p.example", "authSchemeConfigs": [scheme]}),
            )
            .await
            .expect(201);
        let cid = connector["id"].as_str().unwrap().to_owned();
        let body = json!({"name": "c", "credentials": {"action": [{"authSchemeConfig": connector["authSchemeConfigs"][0], "credential": {"name": "c", "type": "oauth2-client",
            "data": {"clientId": "id", "clientSecret": "secret", "tokenUrl": provider.url("/token")}}}]}, "variables": []});
        // Creating the connection checks the credential: one call.
        let c = api
            .post(
                &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
                body,
            )
            .await
            .expect(200);
        token_paths.push((
            api,
            format!(
                "/api/connect/v1/o/{o}/connectors/{cid}/connections/{}/token",
                c["id"].as_str().unwrap()
            ),
        ));
    }
    let (acme, path) = &token_paths[0];
    acme.post(path, json!({})).await.error(409);
    acme.post(path, json!({})).await.error(409);
    let r = acme.post(path, json!({})).await;
    let retry: u64 = r
        .headers
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&retry), "{retry}");
    let e = r.error(429);
    assert!(
        e["message"].as_str().unwrap().contains("organisation"),
        "{e}"
    );
    // Acme's connection check and two token calls reached the provider, globex's check one.
    assert_eq!(provider.connections(), 4);
    let (globex, path) = &token_paths[1];
    globex.post(path, json!({})).await.error(409);
    assert_eq!(provider.connections(), 5);

    // Failed authentication: five a minute from one address, then 429 for everything.
    let bad = api.with_key("sy_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    for _ in 0..5 {
        bad.get(&format!("/api/v2/o/{org}/users")).await.error(401);
    }
    let r = bad.get(&format!("/api/v2/o/{org}/users")).await;
    assert!(r.headers.get("retry-after").is_some());
    r.error(429);
    // The address is held back, whatever key it now sends.
    api.get(&format!("/api/v2/o/{org}/users")).await.error(429);
    assert!(server.logs().contains("429"), "the refusals are logged");
}

/// Finding 7: NUL and other control characters are a 400 naming the field on both databases (on
/// PostgreSQL a NUL used to be a 500), names and ids have length limits, and nothing is written.
async fn control_characters_and_lengths(w: World) {
    let o = w.org.clone();
    let count_users = || async {
        w.api.get(&format!("/api/v2/o/{o}/users")).await.expect(200)["totalCount"]
            .as_i64()
            .unwrap()
    };
    let before = count_users().await;
    for (body, field) in [
        (
            json!({"externalId": "a\u{0}b", "displayName": "x"}),
            "externalId",
        ),
        (
            json!({"externalId": "nul-name", "displayName": "a\u{0}b"}),
            "displayName",
        ),
        (
            json!({"externalId": "tab\tid", "displayName": "x"}),
            "externalId",
        ),
        (
            json!({"externalId": "esc", "displayName": "\u{1b}[31mred"}),
            "displayName",
        ),
        (
            json!({"externalId": "x".repeat(257), "displayName": "x"}),
            "externalId",
        ),
        (
            json!({"externalId": "long-name", "displayName": "n".repeat(257)}),
            "displayName",
        ),
    ] {
        let e = w
            .api
            .post(&format!("/api/v2/o/{o}/users"), body)
            .await
            .error(400);
        assert_eq!(Res::fields(&e), [field], "{e}");
    }
    // v1 names and URLs too.
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "bad\u{0}", "baseUrl": "https://x.example", "authSchemeConfigs": []}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["name"], "{e}");
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "ok", "baseUrl": format!("https://x.example/{}", "p".repeat(2100)), "authSchemeConfigs": []}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["baseUrl"], "{e}");
    // A secret value with a NUL is refused without being quoted back.
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "c", "baseUrl": "https://x.example", "authSchemeConfigs": [{"id": "o", "schemeType": "oauth2", "authorizeUrl": "https://x.example/a",
                "tokenUrl": "https://x.example/t", "grant": {"grantType": "authorization_code", "clientId": "c", "clientSecret": "s3cret-\u{0}-canary"}}]}),
        )
        .await
        .error(400);
    assert!(!e.to_string().contains("s3cret"), "{e}");
    // Free text may hold tab and newlines.
    w.api
        .post(
            &format!("/api/v2/o/{o}/projects"),
            json!({"name": "P", "description": "line one\n\tline two"}),
        )
        .await
        .expect(200);
    // Path and query parameters.
    w.api
        .get(&format!("/api/v2/o/{o}/users/a%00b"))
        .await
        .error(400);
    w.api
        .get(&format!("/api/v2/o/{o}/users?search=a%00b"))
        .await
        .error(400);
    assert_eq!(count_users().await, before, "nothing was written");
    // A number where a secret string belongs is refused without echoing it.
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "c", "baseUrl": "https://x.example", "authSchemeConfigs": [{"id": "o", "schemeType": "oauth2", "authorizeUrl": "https://x.example/a",
                "tokenUrl": "https://x.example/t", "grant": {"grantType": "authorization_code", "clientId": "c", "clientSecret": 918273645}}]}),
        )
        .await
        .error(400);
    assert!(!e.to_string().contains("918273645"), "{e}");
}

/// Finding 8: a hub session lists and reads only what its page shows: deployed integrations.
async fn sessions_see_deployed_integrations_only(w: World) {
    let (hub, deployed, _template, _scheme, session) = v1_hub(&w).await;
    let o = &w.org;
    let hidden = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/integrations"),
            json!({"organisationId": o, "name": "Secret roadmap", "description": "not yet announced",
            "variablesSchema": {"type": "object", "properties": {"internal": {"type": "string"}}}}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = session
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/mallory/integrations"
        ))
        .await
        .expect(200);
    let ids: Vec<&str> = list["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [deployed.as_str()], "{list}");
    assert!(!list.to_string().contains("roadmap"));
    let list = session
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/mallory/integrations?deployed=false"
        ))
        .await
        .expect(200);
    assert_eq!(list["integrations"].as_array().unwrap().len(), 0, "{list}");
    session
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/mallory/integrations/{hidden}"
        ))
        .await
        .error(404);
    // The organisation's key still sees both.
    let all = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/mallory/integrations"
        ))
        .await
        .expect(200);
    assert_eq!(all["integrations"].as_array().unwrap().len(), 2, "{all}");
    w.api
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/mallory/integrations/{hidden}"
        ))
        .await
        .expect(200);
}

on_both_databases! {
    control_characters => control_characters_and_lengths;
    sessions_see_deployed_only => sessions_see_deployed_integrations_only;
    rate_limits => bursts_get_429;
    forged_token_url_v1 => forged_token_url_from_a_hub_session;
    forged_token_url_v2 => forged_token_url_from_an_end_user_jwt;
    internal_token_urls => internal_token_urls_are_never_called;
    provider_words => provider_words_reach_only_the_organisation;
    huge_provider_answers => huge_provider_answers_are_bounded;
    stored_forgeries => stored_forgeries_are_rebound;
}
