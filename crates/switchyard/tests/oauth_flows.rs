//! Hosted OAuth2 authorization-code flows against a real OAuth2 server (npm `oauth2-mock-server`,
//! started by the test): initialise, consent, the hosted callback page, the code exchange with PKCE,
//! and every way a flow must fail without storing anything.
mod common;

use common::provider::Provider;
use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;

fn oauth_scheme(p: &Provider, pkce: bool) -> Value {
    json!({"id": "oauth", "description": "CRM login", "schemeType": "oauth2", "authorizeUrl": p.authorize_url(), "tokenUrl": p.token_url(),
           "scopes": [{"name": "contacts.read"}], "defaultScopes": ["contacts.read"], "pkce": pkce, "additionalTokenParams": "audience=crm-api",
           "grant": {"grantType": "authorization_code", "clientId": p.client_id, "clientSecret": p.client_secret}})
}

struct Crm {
    connector: String,
    /// The stored scheme, with `grant.credentialId` filled in by the server.
    scheme: Value,
}

async fn crm_connector(w: &World, p: &Provider, pkce: bool) -> Crm {
    let c = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org),
            json!({"name": "CRM", "baseUrl": "https://crm.example", "authSchemeConfigs": [oauth_scheme(p, pkce)]}),
        )
        .await
        .expect(201);
    let scheme = c["authSchemeConfigs"][0].clone();
    assert!(scheme["grant"]["credentialId"].is_string(), "the client secret became a credential: {scheme}");
    assert!(!c.to_string().contains(&p.client_secret), "the client secret is never shown");
    Crm { connector: c["id"].as_str().unwrap().to_owned(), scheme }
}

/// The body Versori's embed SDK sends to initialise (versori-api.md §6.5).
fn initialise_body(w: &World, scheme: &Value) -> Value {
    json!({"credential": {"id": scheme["grant"]["credentialId"], "organisationId": w.org}, "authorizeUrl": scheme["authorizeUrl"],
           "clientId": scheme["grant"]["clientId"], "scopes": scheme["defaultScopes"], "prompt": "consent"})
}

fn query(url: &url::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

fn code_connection(scheme: &Value, data: Value) -> Value {
    json!({"name": "my CRM", "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "CRM token", "type": "oauth2-code", "data": data}}]}, "variables": []})
}

async fn connection_count(w: &World, connector: &str) -> i64 {
    w.api.get(&format!("/api/connect/v1/o/{}/connectors/{connector}/connections", w.org)).await.expect(200)["totalCount"].as_i64().unwrap()
}

/// The whole flow with PKCE: initialise, consent at the provider, the hosted callback page, and the
/// code exchanged (with the client secret, the PKCE verifier and the scheme's additional token
/// parameters) into a stored, redacted `oauth2-token` credential.
async fn authorization_code_with_pkce(w: World) {
    let Some(p) = Provider::start() else { return };
    let crm = crm_connector(&w, &p, true).await;
    let url =
        w.api.post(&format!("/api/connect/v1/o/{}/connectors/{}/oauth2/initialise", w.org, crm.connector), initialise_body(&w, &crm.scheme)).await.expect(200);
    let authorize = url::Url::parse(url["url"].as_str().unwrap()).unwrap();
    assert!(authorize.as_str().starts_with(&p.authorize_url()));
    let q = query(&authorize);
    assert_eq!(q["client_id"], p.client_id);
    assert_eq!(q["redirect_uri"], format!("{}/oauth2/callback", w.server.url));
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["scope"], "contacts.read offline_access");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(q["state"].len() >= 43, "the state is 256 random bits");

    // The provider sends the browser to the hosted callback page.
    let back = p.consent(authorize.as_str()).await;
    assert!(back.as_str().starts_with(&format!("{}/oauth2/callback?", w.server.url)), "{back}");
    let page = reqwest::get(back.as_str()).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer", "the code must not leak through the referrer");
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    assert!(page.text().await.unwrap().contains("/oauth2/callback.js"));
    let script = reqwest::get(format!("{}/oauth2/callback.js", w.server.url)).await.unwrap().text().await.unwrap();
    for protocol in ["'hello'", "'response'", "event.source !== window.opener", "event.origin", "search: search"] {
        assert!(script.contains(protocol), "the callback page speaks the postMessage protocol: {protocol}");
    }

    // The embed SDK submits {code, state}: the server exchanges it.
    let b = query(&back);
    let conn = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/connectors/{}/connections", w.org, crm.connector),
            code_connection(&crm.scheme, json!({"code": b["code"], "state": b["state"]})),
        )
        .await
        .expect(200);
    let cred = &conn["credentials"]["action"][0]["credential"];
    assert_eq!(cred["type"], "oauth2-token", "{conn}");
    assert_eq!(cred["data"]["refreshToken"], "", "tokens are redacted");
    assert!(cred["data"].get("accessToken").is_none());
    // The scopes the provider granted (this one answers `dummy` when the request names none).
    assert_eq!(cred["data"]["scopes"], json!(["dummy"]));
    let counts = p.counts().await;
    assert_eq!((counts["authorization_code"].as_i64(), counts["rejected"].as_i64()), (Some(1), Some(0)), "{counts}");

    // Replaying the same state: 400 naming it, the provider not asked again, nothing stored.
    let before = connection_count(&w, &crm.connector).await;
    let replay = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/connectors/{}/connections", w.org, crm.connector),
            code_connection(&crm.scheme, json!({"code": b["code"], "state": b["state"]})),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&replay), vec!["credentials.action[0].credential.data.state"], "{replay}");
    assert_eq!(connection_count(&w, &crm.connector).await, before);
    assert_eq!(p.counts().await["authorization_code"], 1);
}

/// Bad initialise requests and bad submissions: each a 400 naming the field, nothing stored.
async fn refusals(w: World) {
    let Some(p) = Provider::start() else { return };
    let crm = crm_connector(&w, &p, false).await;
    let init = format!("/api/connect/v1/o/{}/connectors/{}/oauth2/initialise", w.org, crm.connector);
    let connections = format!("/api/connect/v1/o/{}/connectors/{}/connections", w.org, crm.connector);

    // additionalParams may not set what the server sets.
    let mut body = initialise_body(&w, &crm.scheme);
    body["additionalParams"] = json!("access_type=offline&state=mine");
    assert_eq!(Res::fields(&w.api.post(&init, body).await.error(400)), vec!["additionalParams"]);
    let mut body = initialise_body(&w, &crm.scheme);
    body["additionalParams"] = json!("redirect_uri=https%3A%2F%2Fevil.example");
    assert_eq!(Res::fields(&w.api.post(&init, body).await.error(400)), vec!["additionalParams"]);
    // Extra parameters that clash with nothing pass through; approval_prompt drops the default prompt.
    let mut body = initialise_body(&w, &crm.scheme);
    body.as_object_mut().unwrap().remove("prompt");
    body["additionalParams"] = json!("access_type=offline&approval_prompt=force");
    body["disableOfflineAccess"] = json!(true);
    let u = url::Url::parse(w.api.post(&init, body).await.expect(200)["url"].as_str().unwrap()).unwrap();
    let q = query(&u);
    assert_eq!((q.get("access_type").map(String::as_str), q.get("prompt"), q["scope"].as_str()), (Some("offline"), None, "contacts.read"));
    let mut body = initialise_body(&w, &crm.scheme);
    body.as_object_mut().unwrap().remove("prompt");
    assert_eq!(query(&url::Url::parse(w.api.post(&init, body).await.expect(200)["url"].as_str().unwrap()).unwrap())["prompt"], "login");
    assert!(!query(&u).contains_key("code_challenge"), "no PKCE unless the scheme asks");

    // The client id must be the stored one; the credential must be this scheme's.
    let mut body = initialise_body(&w, &crm.scheme);
    body["clientId"] = json!("someone-else");
    assert_eq!(Res::fields(&w.api.post(&init, body).await.error(400)), vec!["clientId"]);
    let mut body = initialise_body(&w, &crm.scheme);
    body["credential"]["id"] = json!("01J0000000000000000000000Z");
    assert_eq!(Res::fields(&w.api.post(&init, body).await.error(400)), vec!["credential.id"]);

    // A state nobody issued.
    let unknown = w.api.post(&connections, code_connection(&crm.scheme, json!({"code": "c", "state": "made-up"}))).await.error(400);
    assert_eq!(Res::fields(&unknown), vec!["credentials.action[0].credential.data.state"]);

    // A redirect URL of the caller's own (the CLI's loopback): the code must come back with it.
    let mut body = initialise_body(&w, &crm.scheme);
    body["redirectUrl"] = json!("http://127.0.0.1:62168/oauth/callback");
    let u = url::Url::parse(w.api.post(&init, body).await.expect(200)["url"].as_str().unwrap()).unwrap();
    assert_eq!(query(&u)["redirect_uri"], "http://127.0.0.1:62168/oauth/callback");
    let back = query(&p.consent(u.as_str()).await);
    let wrong = w
        .api
        .post(
            &connections,
            code_connection(&crm.scheme, json!({"code": back["code"], "state": back["state"], "redirectUrl": "http://127.0.0.1:9999/elsewhere"})),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&wrong), vec!["credentials.action[0].credential.data.redirectUrl"]);
    // The state was spent by that attempt: a state works once, whatever happens.
    let again = w.api.post(&connections, code_connection(&crm.scheme, json!({"code": back["code"], "state": back["state"]}))).await.error(400);
    assert_eq!(Res::fields(&again), vec!["credentials.action[0].credential.data.state"]);

    // A code the provider refuses (tampered): 400 on the code, with the provider's reason.
    let u = url::Url::parse(w.api.post(&init, initialise_body(&w, &crm.scheme)).await.expect(200)["url"].as_str().unwrap()).unwrap();
    let back = query(&p.consent(u.as_str()).await);
    let refused = w.api.post(&connections, code_connection(&crm.scheme, json!({"code": "not-the-code", "state": back["state"]}))).await.error(400);
    assert_eq!(Res::fields(&refused), vec!["credentials.action[0].credential.data.code"]);
    assert!(refused["message"].as_str().unwrap().contains("invalid_grant"), "{refused}");
    assert_eq!(connection_count(&w, &crm.connector).await, 0, "nothing was stored by any refusal");

    // An expired state: a node whose flows last one second.
    let short = Server::start_with(&w.db, &[("SWITCHYARD_OAUTH_STATE_TTL_SECONDS", "1")]);
    let api = Api::new(&short, &w.key);
    let u = url::Url::parse(api.post(&init, initialise_body(&w, &crm.scheme)).await.expect(200)["url"].as_str().unwrap()).unwrap();
    let back = query(&p.consent(u.as_str()).await);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let expired = api.post(&connections, code_connection(&crm.scheme, json!({"code": back["code"], "state": back["state"]}))).await.error(400);
    assert_eq!(Res::fields(&expired), vec!["credentials.action[0].credential.data.state"]);
    assert_eq!(connection_count(&w, &crm.connector).await, 0);
    // The provider only ever saw the one tampered code.
    let counts = p.counts().await;
    assert_eq!(counts["authorization_code"], 1, "{counts}");
}

/// Another organisation cannot start a flow with this one's grant credential.
async fn isolation(w: World) {
    let Some(p) = Provider::start() else { return };
    let crm = crm_connector(&w, &p, false).await;
    let (other_org, other) = w.other_org();
    let mut body = initialise_body(&w, &crm.scheme);
    other.post(&format!("/api/connect/v1/o/{}/connectors/{}/oauth2/initialise", w.org, crm.connector), body.clone()).await.error(404);
    body["credential"]["organisationId"] = json!(other_org);
    other.post(&format!("/api/connect/v1/o/{other_org}/connectors/{}/oauth2/initialise", crm.connector), body).await.error(404);
}

/// The hub page's path: a session token initialises through the Embedded API, and the first
/// activation carries the code; the end user is created with a stored token.
async fn embedded_activation(w: World) {
    let Some(p) = Provider::start() else { return };
    let crm = crm_connector(&w, &p, true).await;
    let o = &w.org;
    let hub = w
        .api
        .post("/api/embedded/v1/hubs", json!({"organisationId": o, "name": "Hub", "primaryConnectorId": crm.connector, "authSchemeConfig": crm.scheme}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let i = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/integrations"),
            json!({"organisationId": o, "name": "Contacts sync", "connectionTemplate": {"connectorId": crm.connector, "authSchemeConfig": crm.scheme}}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.api.post(&format!("/api/embedded/v1/integrations/{i}/deploy"), json!({})).await.expect(200);
    let session = w.api.post(&format!("/api/embedded/v1/hubs/{hub}/users/ada/sessions"), json!({})).await.expect(201);
    let page = w.api.with_key(session["token"].as_str().unwrap());
    let integration = page.get(&format!("/api/embedded/v1/embed/{hub}/users/ada/integrations/{i}")).await.expect(200);
    let template = &integration["connectionTemplates"][0];
    let scheme = &template["authSchemeConfig"];
    assert!(scheme["grant"].get("clientSecret").is_none());
    let u = page.post(&format!("/api/embedded/v1/embed/{hub}/connector/{}/oauth2/initialise", crm.connector), initialise_body(&w, scheme)).await.expect(200);
    let back = query(&p.consent(u["url"].as_str().unwrap()).await);
    let mut conn = code_connection(scheme, json!({"code": back["code"], "state": back["state"]}));
    conn["templateId"] = template["id"].clone();
    let a = page.post("/api/embedded/v1/activations", json!({"userId": "ada", "integrationId": i, "connections": [conn]})).await.expect(200);
    assert_eq!(a["user"]["externalId"], "ada");
    let c = w.api.get(&format!("/api/embedded/v1/connection-templates/{}/users/ada", template["id"].as_str().unwrap())).await.expect(200);
    assert_eq!(c["credentials"]["action"][0]["credential"]["type"], "oauth2-token", "{c}");
    assert_eq!(p.counts().await["authorization_code"], 1);
}

/// Platform API v2: a system with an OAuth2 scheme in v2's wrapper form, initialised through v2's
/// route, and the code spent by ActivateUser (the embed SDK's flow); the activation's connection
/// then holds a token the token endpoint serves.
async fn platform_activation(w: World) {
    let Some(p) = Provider::start() else { return };
    let o = &w.org;
    let scheme = json!({"type": "oauth2", "oauth2": {"id": "oauth", "description": "CRM login", "authorizeUrl": p.authorize_url(), "tokenUrl": p.token_url(),
        "scopes": [{"name": "contacts.read"}], "defaultScopes": ["contacts.read"], "pkce": true,
        "grant": {"type": "authorizationCode", "authorizationCode": {"clientId": p.client_id, "clientSecret": p.client_secret}}}});
    let system = w
        .api
        .post(
            &format!("/api/v2/o/{o}/systems"),
            json!({"name": "CRM", "domain": "crm.example", "templateBaseUrl": "https://crm.example", "authSchemeConfigs": [scheme]}),
        )
        .await
        .expect(201);
    let project = w.api.post(&format!("/api/v2/o/{o}/projects"), json!({"name": "Contacts"})).await.expect(200);
    let env = project["environments"][0]["id"].as_str().unwrap();
    let template = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects/{}/connection-templates", project["id"].as_str().unwrap()),
            json!({"systemId": system["id"], "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200);
    w.api.post(&format!("/api/v2/o/{o}/users"), json!({"externalId": "ada", "displayName": "ada_primary"})).await.expect(201);
    let stored = &template["authSchemeConfigs"][0];
    let grant = &stored["oauth2"]["grant"]["authorizationCode"];
    assert!(grant["credentialId"].is_string() && grant.get("clientSecret").is_none(), "{stored}");
    let body = json!({"credential": {"id": grant["credentialId"], "organisationId": o}, "authorizeUrl": stored["oauth2"]["authorizeUrl"],
        "clientId": grant["clientId"], "scopes": ["contacts.read"]});
    let u = w.api.post(&format!("/api/v2/o/{o}/systems/{}/oauth2/initialise", template["id"].as_str().unwrap()), body).await.expect(200);
    let back = query(&p.consent(u["url"].as_str().unwrap()).await);
    let credential = json!({"id": ulid::Ulid::new().to_string(), "authSchemeConfig": stored,
        "credential": {"name": "CRM token", "type": "oauth2-code", "data": {"oauth2Code": {"code": back["code"], "state": back["state"]}}}});
    let a = w
        .api
        .post(&format!("/api/v2/o/{o}/activations"), json!({"userId": "ada", "environmentId": env,
            "connections": [{"connectionTemplateId": template["connectionTemplateId"], "connection": {"name": ulid::Ulid::new().to_string(), "credentials": [credential.clone()]}}]}))
        .await
        .expect(200);
    let c = &a["connections"][0];
    assert_eq!(c["credentials"][0]["credential"]["type"], "oauth2-token", "{a}");
    assert!(c["credentials"][0]["credential"]["data"]["oauth2Token"].is_object(), "{a}");
    assert_eq!(p.counts().await["authorization_code"], 1);
    let token = w
        .api
        .post(&format!("/api/connect/v1/o/{o}/connectors/{}/connections/{}/token", system["id"].as_str().unwrap(), c["id"].as_str().unwrap()), json!({}))
        .await
        .expect(200);
    assert!(token["accessToken"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(!a.to_string().contains(token["accessToken"].as_str().unwrap()), "the activation never shows the token");
    // The same state cannot be spent twice.
    w.api.post(&format!("/api/v2/o/{o}/users"), json!({"externalId": "bob"})).await.expect(201);
    let e = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            json!({"userId": "bob", "environmentId": env,
            "connections": [{"connectionTemplateId": template["connectionTemplateId"], "connection": {"name": "again", "credentials": [credential]}}]}),
        )
        .await
        .error(400);
    assert!(Res::fields(&e)[0].starts_with("connections[0].connection.credentials[0].credential.data"), "{e}");
    assert_eq!(p.counts().await["authorization_code"], 1, "a replayed state never reaches the provider");
}

/// Connects through the whole code flow and returns the new connection's id.
async fn connect(w: &World, p: &Provider, crm: &Crm, name: &str) -> String {
    let u =
        w.api.post(&format!("/api/connect/v1/o/{}/connectors/{}/oauth2/initialise", w.org, crm.connector), initialise_body(w, &crm.scheme)).await.expect(200);
    let back = query(&p.consent(u["url"].as_str().unwrap()).await);
    let c = w
        .api
        .post(&format!("/api/connect/v1/o/{}/connectors/{}/connections", w.org, crm.connector), {
            let mut c = code_connection(&crm.scheme, json!({"code": back["code"], "state": back["state"]}));
            c["name"] = json!(name);
            c
        })
        .await
        .expect(200);
    c["id"].as_str().unwrap().to_owned()
}

/// Refresh with refresh-token rotation, then 50 concurrent token requests on an expiring token,
/// spread over two Switchyard processes sharing the database: exactly one refresh reaches the
/// provider, and everyone gets its token.
async fn refresh_exactly_once(w: World) {
    let Some(p) = Provider::start() else { return };
    let crm = crm_connector(&w, &p, false).await;
    p.set_expires_in(60).await; // inside the refresh margin: every use refreshes
    let conn = connect(&w, &p, &crm, "first").await;
    let token_path = format!("/api/connect/v1/o/{}/connectors/{}/connections/{conn}/token", w.org, crm.connector);

    let t1 = w.api.post(&token_path, json!({})).await.expect(200);
    let t2 = w.api.post(&token_path, json!({})).await.expect(200);
    assert_ne!(t1["accessToken"], t2["accessToken"]);
    // The second refresh used the rotated refresh token: the first one is dead at the provider.
    let counts = p.counts().await;
    assert_eq!((counts["refresh_token"].as_i64(), counts["rejected"].as_i64()), (Some(2), Some(0)), "{counts}");

    p.set_expires_in(3600).await;
    let second = Server::start(&w.db);
    let nodes = [w.api.clone(), Api::new(&second, &w.key)];
    let calls = (0..50).map(|i| {
        let api = nodes[i % 2].clone();
        let path = token_path.clone();
        tokio::spawn(async move { api.post(&path, json!({})).await })
    });
    let mut tokens = std::collections::HashSet::new();
    for c in calls {
        let r = c.await.unwrap();
        assert_eq!(r.status, 200, "{:?}", r.body);
        tokens.insert(r.body["accessToken"].as_str().unwrap().to_owned());
    }
    let counts = p.counts().await;
    assert_eq!((counts["refresh_token"].as_i64(), counts["rejected"].as_i64()), (Some(3), Some(0)), "exactly one refresh for 50 requests: {counts}");
    assert_eq!(tokens.len(), 1, "everyone got the one new token");
    // A good token is served from the cache.
    w.api.post(&token_path, json!({})).await.expect(200);
    assert_eq!(p.counts().await["refresh_token"], 3);

    // The user revokes the app at the provider: the refresh fails, the credential says why, and
    // an event is recorded.
    p.set_expires_in(60).await;
    let conn2 = connect(&w, &p, &crm, "second").await;
    p.revoke_all().await;
    let path2 = format!("/api/connect/v1/o/{}/connectors/{}/connections/{conn2}/token", w.org, crm.connector);
    let e = w.api.post(&path2, json!({})).await.error(409);
    assert!(e["message"].as_str().unwrap().contains("invalid_grant"), "{e}");
    let c = w.api.get(&format!("/api/connect/v1/o/{}/connectors/{}/connections/{conn2}", w.org, crm.connector)).await.expect(200);
    let cred = &c["credentials"]["action"][0]["credential"];
    assert!(cred["errors"][0].as_str().unwrap().contains("invalid_grant"), "{c}");
    let events = w.api.get(&format!("/api/connect/v1/o/{}/credentials/{}/events", w.org, cred["id"].as_str().unwrap())).await.expect(200);
    assert_eq!(events[0]["kind"], "refresh_failed", "{events}");
    assert!(!c.to_string().contains(t2["accessToken"].as_str().unwrap()));
}

/// Client credentials: a token obtained on demand, cached until it nears expiry; a wrong secret is
/// reported on the credential.
async fn client_credentials(w: World) {
    let Some(p) = Provider::start() else { return };
    let scheme = json!({"id": "cc", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": p.token_url(), "defaultScopes": ["reports"], "grant": {"grantType": "client_credentials"}});
    let c = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org),
            json!({"name": "Reports", "baseUrl": "https://r.example", "authSchemeConfigs": [scheme]}),
        )
        .await
        .expect(201);
    let connector = c["id"].as_str().unwrap().to_owned();
    let connection = |secret: &str| {
        json!({"name": format!("service account {}", &secret[..5]), "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "client", "type": "oauth2-client",
            "data": {"clientId": p.client_id, "clientSecret": secret, "tokenUrl": p.token_url()}}}]}, "variables": []})
    };
    let good = w.api.post(&format!("/api/connect/v1/o/{}/connectors/{connector}/connections", w.org), connection(&p.client_secret)).await.expect(200);
    assert!(!good.to_string().contains(&p.client_secret));
    assert_eq!(good["credentials"]["action"][0]["credential"]["errors"], json!([]), "checked on create by fetching a token: {good}");
    let path = format!("/api/connect/v1/o/{}/connectors/{connector}/connections/{}/token", w.org, good["id"].as_str().unwrap());
    let t = w.api.post(&path, json!({})).await.expect(200);
    assert_eq!(t["tokenType"], "Bearer");
    assert_eq!(w.api.post(&path, json!({})).await.expect(200)["accessToken"], t["accessToken"]);
    assert_eq!(p.counts().await["client_credentials"], 1, "the token fetched on create is served from the cache");

    let bad = w.api.post(&format!("/api/connect/v1/o/{}/connectors/{connector}/connections", w.org), connection("wrong-secret")).await.expect(200);
    let errors = &bad["credentials"]["action"][0]["credential"]["errors"];
    assert!(errors[0].as_str().unwrap().contains("invalid_client"), "the provider's refusal is on the credential: {bad}");
    let e = w
        .api
        .post(&format!("/api/connect/v1/o/{}/connectors/{connector}/connections/{}/token", w.org, bad["id"].as_str().unwrap()), json!({}))
        .await
        .error(409);
    assert!(e["message"].as_str().unwrap().contains("invalid_client"), "{e}");
}

/// Mutual TLS: client-credentials token requests to a token endpoint that demands a client
/// certificate present the certificate credential that `mTLSCredentialId` names (trusting its CA);
/// with a certificate the provider does not trust, or without mTLS, there is no token.
async fn mutual_tls(w: World) {
    let Some(p) = Provider::start() else { return };
    let token_url = format!("{}/token", p.mtls_issuer);
    let cc = json!({"id": "cc", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": token_url, "grant": {"grantType": "client_credentials"}});
    let cert = json!({"id": "cert", "schemeType": "certificate"});
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org),
            json!({"name": "Bank", "baseUrl": "https://bank.example", "authSchemeConfigs": [cc, cert]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cpath = format!("/api/connect/v1/o/{}/connectors/{connector}/connections", w.org);
    let identity = |name: &str, crt: &str, key: &str| {
        json!({"name": name, "credentials": {"action": [{"authSchemeConfig": cert, "credential": {"name": name, "type": "certificate",
            "data": {"certificate": crt, "key": key, "ca": include_str!("fixtures/mtls/ca.crt")}}}]}, "variables": []})
    };
    let client = |name: &str, mtls: Value| {
        let mut data = json!({"clientId": p.client_id, "clientSecret": p.client_secret, "tokenUrl": token_url});
        if let Value::Object(m) = mtls {
            data.as_object_mut().unwrap().extend(m);
        }
        json!({"name": name, "credentials": {"action": [{"authSchemeConfig": cc, "credential": {"name": name, "type": "oauth2-client", "data": data}}]}, "variables": []})
    };
    let trusted = w.api.post(&cpath, identity("trusted", include_str!("fixtures/mtls/client.crt"), include_str!("fixtures/mtls/client.key"))).await.expect(200);
    let trusted_id = trusted["credentials"]["action"][0]["credential"]["id"].as_str().unwrap();
    let good = w.api.post(&cpath, client("good", json!({"mTLSEnabled": true, "mTLSCredentialId": trusted_id}))).await.expect(200);
    assert_eq!(good["credentials"]["action"][0]["credential"]["errors"], json!([]), "checked on create through mTLS: {good}");
    let t = w.api.post(&format!("{cpath}/{}/token", good["id"].as_str().unwrap()), json!({})).await.expect(200);
    assert!(t["accessToken"].as_str().is_some_and(|a| !a.is_empty()));
    let counts = p.counts().await;
    assert_eq!(
        (counts["client_credentials"].as_i64(), counts["mtls"].as_i64()),
        (Some(1), Some(1)),
        "one token request, with a verified client certificate: {counts}"
    );

    // A certificate the provider's CA did not sign: the handshake fails, no token.
    let rogue = w.api.post(&cpath, identity("rogue", include_str!("fixtures/client.crt"), include_str!("fixtures/client.key"))).await.expect(200);
    let rogue_id = rogue["credentials"]["action"][0]["credential"]["id"].as_str().unwrap();
    let bad = w.api.post(&cpath, client("rogue client", json!({"mTLSEnabled": true, "mTLSCredentialId": rogue_id}))).await.expect(200);
    assert!(bad["credentials"]["action"][0]["credential"].get("errors").is_none(), "unreachable: not validated: {bad}");
    w.api.post(&format!("{cpath}/{}/token", bad["id"].as_str().unwrap()), json!({})).await.error(503);
    // No mTLS at all: refused too.
    let plain = w.api.post(&cpath, client("plain", Value::Null)).await.expect(200);
    w.api.post(&format!("{cpath}/{}/token", plain["id"].as_str().unwrap()), json!({})).await.error(503);
    // mTLS naming no certificate credential: a clear 409.
    let wrong = w
        .api
        .post(&cpath, client("wrong", json!({"mTLSEnabled": true, "mTLSCredentialId": good["credentials"]["action"][0]["credential"]["id"]})))
        .await
        .expect(200);
    let e = w.api.post(&format!("{cpath}/{}/token", wrong["id"].as_str().unwrap()), json!({})).await.error(409);
    assert!(e["message"].as_str().unwrap().contains("not a certificate credential"), "{e}");
    let missing = w.api.post(&cpath, client("missing", json!({"mTLSEnabled": true}))).await.expect(200);
    let e = w.api.post(&format!("{cpath}/{}/token", missing["id"].as_str().unwrap()), json!({})).await.error(409);
    assert!(e["message"].as_str().unwrap().contains("mTLSCredentialId"), "{e}");
    assert_eq!(p.counts().await["client_credentials"], 1, "no other request reached the provider's token handler");
}

on_both_databases! {
    mtls => mutual_tls;
    refresh_once => refresh_exactly_once;
    client_credentials_grant => client_credentials;
    embedded_activation_flow => embedded_activation;
    platform_activation_flow => platform_activation;
    pkce_flow => authorization_code_with_pkce;
    refused_flows => refusals;
    other_organisations => isolation;
}
