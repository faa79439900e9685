//! Hosted OAuth2 authorization-code flows against a real OAuth2 server (npm `oauth2-mock-server`,
//! started by the test): initialise, consent, the hosted callback page, the code exchange with PKCE,
//! and every way a flow must fail without storing anything. The same for OAuth 1.0a against
//! oauthlib's provider endpoints (PyPI, `tests/it/oauth1/provider.py`).

use crate::common::oauth1_provider::OAuth1Provider;
use crate::common::provider::Provider;
use crate::common::*;
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
    assert!(
        scheme["grant"]["credentialId"].is_string(),
        "the client secret became a credential: {scheme}"
    );
    assert!(
        !c.to_string().contains(&p.client_secret),
        "the client secret is never shown"
    );
    Crm {
        connector: c["id"].as_str().unwrap().to_owned(),
        scheme,
    }
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
    w.api
        .get(&format!(
            "/api/connect/v1/o/{}/connectors/{connector}/connections",
            w.org
        ))
        .await
        .expect(200)["totalCount"]
        .as_i64()
        .unwrap()
}

/// The whole flow with PKCE: initialise, consent at the provider, the hosted callback page, and the
/// code exchanged (with the client secret, the PKCE verifier and the scheme's additional token
/// parameters) into a stored, redacted `oauth2-token` credential.
async fn authorization_code_with_pkce(w: World) {
    let Some(p) = Provider::start() else { return };
    let crm = crm_connector(&w, &p, true).await;
    let url = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{}/oauth2/initialise",
                w.org, crm.connector
            ),
            initialise_body(&w, &crm.scheme),
        )
        .await
        .expect(200);
    let authorize = url::Url::parse(url["url"].as_str().unwrap()).unwrap();
    assert!(authorize.as_str().starts_with(&p.authorize_url()));
    let q = query(&authorize);
    assert_eq!(q["client_id"], p.client_id);
    assert_eq!(
        q["redirect_uri"],
        format!("{}/oauth2/callback", w.server.url)
    );
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["scope"], "contacts.read offline_access");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(q["state"].len() >= 43, "the state is 256 random bits");

    // The provider sends the browser to the hosted callback page.
    let back = p.consent(authorize.as_str()).await;
    assert!(
        back.as_str()
            .starts_with(&format!("{}/oauth2/callback?", w.server.url)),
        "{back}"
    );
    let page = reqwest::get(back.as_str()).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["referrer-policy"],
        "no-referrer",
        "the code must not leak through the referrer"
    );
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    assert!(page.text().await.unwrap().contains("/oauth2/callback.js"));
    let script = reqwest::get(format!("{}/oauth2/callback.js", w.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for protocol in [
        "'hello'",
        "'response'",
        "event.source !== window.opener",
        "event.origin",
        "search: search",
    ] {
        assert!(
            script.contains(protocol),
            "the callback page speaks the postMessage protocol: {protocol}"
        );
    }

    // The embed SDK submits {code, state}: the server exchanges it.
    let b = query(&back);
    let conn = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{}/connections",
                w.org, crm.connector
            ),
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
    assert_eq!(
        (
            counts["authorization_code"].as_i64(),
            counts["rejected"].as_i64()
        ),
        (Some(1), Some(0)),
        "{counts}"
    );

    // Replaying the same state: 400 naming it, the provider not asked again, nothing stored.
    let before = connection_count(&w, &crm.connector).await;
    let replay = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{}/connections",
                w.org, crm.connector
            ),
            code_connection(&crm.scheme, json!({"code": b["code"], "state": b["state"]})),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&replay),
        vec!["credentials.action[0].credential.data.state"],
        "{replay}"
    );
    assert_eq!(connection_count(&w, &crm.connector).await, before);
    assert_eq!(p.counts().await["authorization_code"], 1);
}

/// Bad initialise requests and bad submissions: each a 400 naming the field, nothing stored.
async fn refusals(w: World) {
    let Some(p) = Provider::start() else { return };
    let crm = crm_connector(&w, &p, false).await;
    let init = format!(
        "/api/connect/v1/o/{}/connectors/{}/oauth2/initialise",
        w.org, crm.connector
    );
    let connections = format!(
        "/api/connect/v1/o/{}/connectors/{}/connections",
        w.org, crm.connector
    );

    // additionalParams may not set what the server sets.
    let mut body = initialise_body(&w, &crm.scheme);
    body["additionalParams"] = json!("access_type=offline&state=mine");
    assert_eq!(
        Res::fields(&w.api.post(&init, body).await.error(400)),
        vec!["additionalParams"]
    );
    let mut body = initialise_body(&w, &crm.scheme);
    body["additionalParams"] = json!("redirect_uri=https%3A%2F%2Fevil.example");
    assert_eq!(
        Res::fields(&w.api.post(&init, body).await.error(400)),
        vec!["additionalParams"]
    );
    // Extra parameters that clash with nothing pass through; approval_prompt drops the default prompt.
    let mut body = initialise_body(&w, &crm.scheme);
    body.as_object_mut().unwrap().remove("prompt");
    body["additionalParams"] = json!("access_type=offline&approval_prompt=force");
    body["disableOfflineAccess"] = json!(true);
    let u = url::Url::parse(
        w.api.post(&init, body).await.expect(200)["url"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let q = query(&u);
    assert_eq!(
        (
            q.get("access_type").map(String::as_str),
            q.get("prompt"),
            q["scope"].as_str()
        ),
        (Some("offline"), None, "contacts.read")
    );
    let mut body = initialise_body(&w, &crm.scheme);
    body.as_object_mut().unwrap().remove("prompt");
    assert_eq!(
        query(
            &url::Url::parse(
                w.api.post(&init, body).await.expect(200)["url"]
                    .as_str()
                    .unwrap()
            )
            .unwrap()
        )["prompt"],
        "login"
    );
    assert!(
        !query(&u).contains_key("code_challenge"),
        "no PKCE unless the scheme asks"
    );

    // The client id must be the stored one; the credential must be this scheme's.
    let mut body = initialise_body(&w, &crm.scheme);
    body["clientId"] = json!("someone-else");
    assert_eq!(
        Res::fields(&w.api.post(&init, body).await.error(400)),
        vec!["clientId"]
    );
    let mut body = initialise_body(&w, &crm.scheme);
    body["credential"]["id"] = json!("01J0000000000000000000000Z");
    assert_eq!(
        Res::fields(&w.api.post(&init, body).await.error(400)),
        vec!["credential.id"]
    );

    // A state nobody issued.
    let unknown = w
        .api
        .post(
            &connections,
            code_connection(&crm.scheme, json!({"code": "c", "state": "made-up"})),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&unknown),
        vec!["credentials.action[0].credential.data.state"]
    );

    // A redirect URL of the caller's own (the CLI's loopback), which the organisation allows: the
    // code must come back with it.
    w.api
        .put(
            &format!("/api/organisations/v1/organisations/{}/settings", w.org),
            json!({"oauthRedirectUrls": ["http://127.0.0.1:62168/oauth/callback"]}),
        )
        .await
        .expect(200);
    let mut body = initialise_body(&w, &crm.scheme);
    body["redirectUrl"] = json!("http://127.0.0.1:62168/oauth/callback");
    let u = url::Url::parse(
        w.api.post(&init, body).await.expect(200)["url"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        query(&u)["redirect_uri"],
        "http://127.0.0.1:62168/oauth/callback"
    );
    let back = query(&p.consent(u.as_str()).await);
    let wrong = w
        .api
        .post(
            &connections,
            code_connection(&crm.scheme, json!({"code": back["code"], "state": back["state"], "redirectUrl": "http://127.0.0.1:9999/elsewhere"})),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&wrong),
        vec!["credentials.action[0].credential.data.redirectUrl"]
    );
    // The state was spent by that attempt: a state works once, whatever happens.
    let again = w
        .api
        .post(
            &connections,
            code_connection(
                &crm.scheme,
                json!({"code": back["code"], "state": back["state"]}),
            ),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&again),
        vec!["credentials.action[0].credential.data.state"]
    );

    // A code the provider refuses (tampered): 400 on the code, with the provider's reason.
    let u = url::Url::parse(
        w.api
            .post(&init, initialise_body(&w, &crm.scheme))
            .await
            .expect(200)["url"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let back = query(&p.consent(u.as_str()).await);
    let refused = w
        .api
        .post(
            &connections,
            code_connection(
                &crm.scheme,
                json!({"code": "not-the-code", "state": back["state"]}),
            ),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&refused),
        vec!["credentials.action[0].credential.data.code"]
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{refused}"
    );
    assert_eq!(
        connection_count(&w, &crm.connector).await,
        0,
        "nothing was stored by any refusal"
    );

    // An expired state: a node whose flows last one second.
    let short = Server::start_with(&w.db, &[("SWITCHYARD_OAUTH_STATE_TTL_SECONDS", "1")]);
    let api = Api::new(&short, &w.key);
    let u = url::Url::parse(
        api.post(&init, initialise_body(&w, &crm.scheme))
            .await
            .expect(200)["url"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let back = query(&p.consent(u.as_str()).await);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let expired = api
        .post(
            &connections,
            code_connection(
                &crm.scheme,
                json!({"code": back["code"], "state": back["state"]}),
            ),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&expired),
        vec!["credentials.action[0].credential.data.state"]
    );
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
    other
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{}/oauth2/initialise",
                w.org, crm.connector
            ),
            body.clone(),
        )
        .await
        .error(404);
    body["credential"]["organisationId"] = json!(other_org);
    other
        .post(
            &format!(
                "/api/connect/v1/o/{other_org}/connectors/{}/oauth2/initialise",
                crm.connector
            ),
            body,
        )
        .await
        .error(404);
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
    w.api
        .post(
            &format!("/api/embedded/v1/integrations/{i}/deploy"),
            json!({}),
        )
        .await
        .expect(200);
    let session = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub}/users/ada/sessions"),
            json!({}),
        )
        .await
        .expect(201);
    let page = w.api.with_key(session["token"].as_str().unwrap());
    let integration = page
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/ada/integrations/{i}"
        ))
        .await
        .expect(200);
    let template = &integration["connectionTemplates"][0];
    let scheme = &template["authSchemeConfig"];
    assert!(scheme["grant"].get("clientSecret").is_none());
    let u = page
        .post(
            &format!(
                "/api/embedded/v1/embed/{hub}/connector/{}/oauth2/initialise",
                crm.connector
            ),
            initialise_body(&w, scheme),
        )
        .await
        .expect(200);
    let back = query(&p.consent(u["url"].as_str().unwrap()).await);
    let mut conn = code_connection(
        scheme,
        json!({"code": back["code"], "state": back["state"]}),
    );
    conn["templateId"] = template["id"].clone();
    let a = page
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "ada", "integrationId": i, "connections": [conn]}),
        )
        .await
        .expect(200);
    assert_eq!(a["user"]["externalId"], "ada");
    let c = w
        .api
        .get(&format!(
            "/api/embedded/v1/connection-templates/{}/users/ada",
            template["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(
        c["credentials"]["action"][0]["credential"]["type"], "oauth2-token",
        "{c}"
    );
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
    let project = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects"),
            json!({"name": "Contacts"}),
        )
        .await
        .expect(200);
    let env = project["environments"][0]["id"].as_str().unwrap();
    let template = w
        .api
        .post(
            &format!(
                "/api/v2/o/{o}/projects/{}/connection-templates",
                project["id"].as_str().unwrap()
            ),
            json!({"systemId": system["id"], "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200);
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "ada", "displayName": "ada_primary"}),
        )
        .await
        .expect(201);
    let stored = &template["authSchemeConfigs"][0];
    let grant = &stored["oauth2"]["grant"]["authorizationCode"];
    assert!(
        grant["credentialId"].is_string() && grant.get("clientSecret").is_none(),
        "{stored}"
    );
    let body = json!({"credential": {"id": grant["credentialId"], "organisationId": o}, "authorizeUrl": stored["oauth2"]["authorizeUrl"],
        "clientId": grant["clientId"], "scopes": ["contacts.read"]});
    let u = w
        .api
        .post(
            &format!(
                "/api/v2/o/{o}/systems/{}/oauth2/initialise",
                template["id"].as_str().unwrap()
            ),
            body,
        )
        .await
        .expect(200);
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
    assert_eq!(
        c["credentials"][0]["credential"]["type"], "oauth2-token",
        "{a}"
    );
    assert!(
        c["credentials"][0]["credential"]["data"]["oauth2Token"].is_object(),
        "{a}"
    );
    assert_eq!(p.counts().await["authorization_code"], 1);
    let token = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{o}/connectors/{}/connections/{}/token",
                system["id"].as_str().unwrap(),
                c["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await
        .expect(200);
    assert!(token["accessToken"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        !a.to_string()
            .contains(token["accessToken"].as_str().unwrap()),
        "the activation never shows the token"
    );
    // The same state cannot be spent twice.
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "bob"}),
        )
        .await
        .expect(201);
    let e = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            json!({"userId": "bob", "environmentId": env,
            "connections": [{"connectionTemplateId": template["connectionTemplateId"], "connection": {"name": "again", "credentials": [credential]}}]}),
        )
        .await
        .error(400);
    assert!(
        Res::fields(&e)[0].starts_with("connections[0].connection.credentials[0].credential.data"),
        "{e}"
    );
    assert_eq!(
        p.counts().await["authorization_code"],
        1,
        "a replayed state never reaches the provider"
    );
}

/// Connects through the whole code flow and returns the new connection's id.
async fn connect(w: &World, p: &Provider, crm: &Crm, name: &str) -> String {
    let u = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{}/oauth2/initialise",
                w.org, crm.connector
            ),
            initialise_body(w, &crm.scheme),
        )
        .await
        .expect(200);
    let back = query(&p.consent(u["url"].as_str().unwrap()).await);
    let c = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{}/connections",
                w.org, crm.connector
            ),
            {
                let mut c = code_connection(
                    &crm.scheme,
                    json!({"code": back["code"], "state": back["state"]}),
                );
                c["name"] = json!(name);
                c
            },
        )
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
    let token_path = format!(
        "/api/connect/v1/o/{}/connectors/{}/connections/{conn}/token",
        w.org, crm.connector
    );

    let t1 = w.api.post(&token_path, json!({})).await.expect(200);
    let t2 = w.api.post(&token_path, json!({})).await.expect(200);
    assert_ne!(t1["accessToken"], t2["accessToken"]);
    // The second refresh used the rotated refresh token: the first one is dead at the provider.
    let counts = p.counts().await;
    assert_eq!(
        (
            counts["refresh_token"].as_i64(),
            counts["rejected"].as_i64()
        ),
        (Some(2), Some(0)),
        "{counts}"
    );

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
    assert_eq!(
        (
            counts["refresh_token"].as_i64(),
            counts["rejected"].as_i64()
        ),
        (Some(3), Some(0)),
        "exactly one refresh for 50 requests: {counts}"
    );
    assert_eq!(tokens.len(), 1, "everyone got the one new token");
    // A good token is served from the cache.
    w.api.post(&token_path, json!({})).await.expect(200);
    assert_eq!(p.counts().await["refresh_token"], 3);

    // The user revokes the app at the provider: the refresh fails, the credential says why, and
    // an event is recorded.
    p.set_expires_in(60).await;
    let conn2 = connect(&w, &p, &crm, "second").await;
    p.revoke_all().await;
    let path2 = format!(
        "/api/connect/v1/o/{}/connectors/{}/connections/{conn2}/token",
        w.org, crm.connector
    );
    let e = w.api.post(&path2, json!({})).await.error(409);
    assert!(
        e["message"].as_str().unwrap().contains("invalid_grant"),
        "{e}"
    );
    let c = w
        .api
        .get(&format!(
            "/api/connect/v1/o/{}/connectors/{}/connections/{conn2}",
            w.org, crm.connector
        ))
        .await
        .expect(200);
    let cred = &c["credentials"]["action"][0]["credential"];
    assert!(
        cred["errors"][0]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{c}"
    );
    let events = w
        .api
        .get(&format!(
            "/api/connect/v1/o/{}/credentials/{}/events",
            w.org,
            cred["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
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
    let good = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{connector}/connections",
                w.org
            ),
            connection(&p.client_secret),
        )
        .await
        .expect(200);
    assert!(!good.to_string().contains(&p.client_secret));
    assert_eq!(
        good["credentials"]["action"][0]["credential"]["errors"],
        json!([]),
        "checked on create by fetching a token: {good}"
    );
    let path = format!(
        "/api/connect/v1/o/{}/connectors/{connector}/connections/{}/token",
        w.org,
        good["id"].as_str().unwrap()
    );
    let t = w.api.post(&path, json!({})).await.expect(200);
    assert_eq!(t["tokenType"], "Bearer");
    assert_eq!(
        w.api.post(&path, json!({})).await.expect(200)["accessToken"],
        t["accessToken"]
    );
    assert_eq!(
        p.counts().await["client_credentials"],
        1,
        "the token fetched on create is served from the cache"
    );

    let bad = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{connector}/connections",
                w.org
            ),
            connection("wrong-secret"),
        )
        .await
        .expect(200);
    let errors = &bad["credentials"]["action"][0]["credential"]["errors"];
    assert!(
        errors[0].as_str().unwrap().contains("invalid_client"),
        "the provider's refusal is on the credential: {bad}"
    );
    let e = w
        .api
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{connector}/connections/{}/token",
                w.org,
                bad["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await
        .error(409);
    assert!(
        e["message"].as_str().unwrap().contains("invalid_client"),
        "{e}"
    );
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
    let cpath = format!(
        "/api/connect/v1/o/{}/connectors/{connector}/connections",
        w.org
    );
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
    let trusted = w
        .api
        .post(
            &cpath,
            identity(
                "trusted",
                include_str!("fixtures/mtls/client.crt"),
                include_str!("fixtures/mtls/client.key"),
            ),
        )
        .await
        .expect(200);
    let trusted_id = trusted["credentials"]["action"][0]["credential"]["id"]
        .as_str()
        .unwrap();
    let good = w
        .api
        .post(
            &cpath,
            client(
                "good",
                json!({"mTLSEnabled": true, "mTLSCredentialId": trusted_id}),
            ),
        )
        .await
        .expect(200);
    assert_eq!(
        good["credentials"]["action"][0]["credential"]["errors"],
        json!([]),
        "checked on create through mTLS: {good}"
    );
    let t = w
        .api
        .post(
            &format!("{cpath}/{}/token", good["id"].as_str().unwrap()),
            json!({}),
        )
        .await
        .expect(200);
    assert!(t["accessToken"].as_str().is_some_and(|a| !a.is_empty()));
    let counts = p.counts().await;
    assert_eq!(
        (
            counts["client_credentials"].as_i64(),
            counts["mtls"].as_i64()
        ),
        (Some(1), Some(1)),
        "one token request, with a verified client certificate: {counts}"
    );

    // A certificate the provider's CA did not sign: the handshake fails, no token.
    let rogue = w
        .api
        .post(
            &cpath,
            identity(
                "rogue",
                include_str!("fixtures/client.crt"),
                include_str!("fixtures/client.key"),
            ),
        )
        .await
        .expect(200);
    let rogue_id = rogue["credentials"]["action"][0]["credential"]["id"]
        .as_str()
        .unwrap();
    let bad = w
        .api
        .post(
            &cpath,
            client(
                "rogue client",
                json!({"mTLSEnabled": true, "mTLSCredentialId": rogue_id}),
            ),
        )
        .await
        .expect(200);
    assert!(
        bad["credentials"]["action"][0]["credential"]
            .get("errors")
            .is_none(),
        "unreachable: not validated: {bad}"
    );
    w.api
        .post(
            &format!("{cpath}/{}/token", bad["id"].as_str().unwrap()),
            json!({}),
        )
        .await
        .error(503);
    // No mTLS at all: refused too.
    let plain = w
        .api
        .post(&cpath, client("plain", Value::Null))
        .await
        .expect(200);
    w.api
        .post(
            &format!("{cpath}/{}/token", plain["id"].as_str().unwrap()),
            json!({}),
        )
        .await
        .error(503);
    // mTLS naming no certificate credential: a clear 409.
    let wrong = w
        .api
        .post(&cpath, client("wrong", json!({"mTLSEnabled": true, "mTLSCredentialId": good["credentials"]["action"][0]["credential"]["id"]})))
        .await
        .expect(200);
    let e = w
        .api
        .post(
            &format!("{cpath}/{}/token", wrong["id"].as_str().unwrap()),
            json!({}),
        )
        .await
        .error(409);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("not a certificate credential"),
        "{e}"
    );
    let missing = w
        .api
        .post(&cpath, client("missing", json!({"mTLSEnabled": true})))
        .await
        .expect(200);
    let e = w
        .api
        .post(
            &format!("{cpath}/{}/token", missing["id"].as_str().unwrap()),
            json!({}),
        )
        .await
        .error(409);
    assert!(
        e["message"].as_str().unwrap().contains("mTLSCredentialId"),
        "{e}"
    );
    assert_eq!(
        p.counts().await["client_credentials"],
        1,
        "no other request reached the provider's token handler"
    );
}

// ---------------------------------------------------------------------------------------------
// OAuth 1.0a (RFC 5849) against oauthlib's provider endpoints (tests/it/oauth1/provider.py).

/// A v2 OAuth 1.0a scheme for the provider; `styles` are the temporary-credential and token
/// endpoints' `parameterTransmission` (the `Authorization` header when `None`).
fn oauth1_scheme(
    p: &OAuth1Provider,
    id: &str,
    method: &str,
    styles: (Option<&str>, Option<&str>),
) -> Value {
    let endpoint = |url: &str, style: Option<&str>| match style {
        Some(s) => json!({"url": url, "parameterTransmission": s}),
        None => json!({"url": url}),
    };
    json!({"type": "oauth1", "oauth1": {"id": id, "description": "Ledger login", "consumerKey": p.consumer_key, "consumerSecret": p.consumer_secret,
        "signatureMethod": method, "tempCredentialEndpoint": endpoint(&p.request_token_url, styles.0),
        "resourceOwnerAuthorizationEndpoint": {"url": p.authorize_url}, "tokenEndpoint": endpoint(&p.access_token_url, styles.1)}})
}

/// A system with `schemes`, a project whose dynamic template uses it, and its first environment.
struct Ledger {
    template: Value,
    env: String,
}

async fn ledger(w: &World, schemes: Vec<Value>, secret: &str) -> Ledger {
    let o = &w.org;
    let system = w
        .api
        .post(
            &format!("/api/v2/o/{o}/systems"),
            json!({"name": "Ledger", "domain": "ledger.example", "templateBaseUrl": "https://ledger.example", "authSchemeConfigs": schemes}),
        )
        .await
        .expect(201);
    for c in system["authSchemeConfigs"].as_array().unwrap() {
        assert!(
            c["oauth1"]["credentialId"].is_string() && c["oauth1"].get("consumerSecret").is_none(),
            "the consumer secret became a credential: {c}"
        );
    }
    let read = w
        .api
        .get(&format!(
            "/api/v2/o/{o}/systems/{}",
            system["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert!(
        !system.to_string().contains(secret) && !read.to_string().contains(secret),
        "the consumer secret is never shown"
    );
    let project = w
        .api
        .post(&format!("/api/v2/o/{o}/projects"), json!({"name": "Books"}))
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
            json!({"systemId": system["id"], "name": "ledger", "dynamic": true}),
        )
        .await
        .expect(200);
    Ledger { template, env }
}

impl Ledger {
    fn scheme(&self, i: usize) -> &Value {
        &self.template["authSchemeConfigs"][i]
    }
    fn initialise_path(&self, w: &World) -> String {
        format!(
            "/api/v2/o/{}/systems/{}/oauth1/initialise",
            w.org,
            self.template["id"].as_str().unwrap()
        )
    }
    fn initialise_body(&self, w: &World, i: usize) -> Value {
        json!({"credential": {"id": self.scheme(i)["oauth1"]["credentialId"], "organisationId": w.org}})
    }
    /// ActivateUser for `user` with one credential of `scheme`.
    fn activation(&self, user: &str, scheme: &Value, credential: Value) -> Value {
        json!({"userId": user, "environmentId": self.env, "connections": [{"connectionTemplateId": self.template["connectionTemplateId"],
            "connection": {"name": ulid::Ulid::new().to_string(), "credentials": [{"id": ulid::Ulid::new().to_string(), "authSchemeConfig": scheme, "credential": credential}]}}]})
    }
}

fn oauth1_credential(back: &HashMap<String, String>) -> Value {
    json!({"name": "Ledger token", "type": "oauth1", "data": {"oauth1": {"state": back["state"], "oauthToken": back["oauth_token"], "oauthVerifier": back["oauth_verifier"]}}})
}

async fn user_activations(w: &World, env: &str, user: &str) -> usize {
    let r = w
        .api
        .get(&format!(
            "/api/v2/o/{}/environment/{env}/users/{user}/activations",
            w.org
        ))
        .await;
    if r.status == 404 {
        return 0;
    }
    r.expect(200).as_array().map(Vec::len).unwrap_or_default()
}

/// The whole OAuth 1.0a flow through Platform API v2 (HMAC-SHA256, parameters in the
/// `Authorization` header): the consumer secret sealed, temporary credentials from the provider,
/// the user's consent, the hosted callback, and ActivateUser trading the verifier for a stored,
/// redacted `oauth1-token`; the same state cannot be spent twice.
async fn oauth1_activation(w: World) {
    let Some(p) = OAuth1Provider::start() else {
        return;
    };
    let o = &w.org;
    let l = ledger(
        &w,
        vec![oauth1_scheme(&p, "ledger", "sha256", (None, None))],
        &p.consumer_secret,
    )
    .await;
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "ada"}),
        )
        .await
        .expect(201);

    let u = w
        .api
        .post(&l.initialise_path(&w), l.initialise_body(&w, 0))
        .await
        .expect(200);
    let authorize = url::Url::parse(u["url"].as_str().unwrap()).unwrap();
    assert!(
        authorize
            .as_str()
            .starts_with(&format!("{}?oauth_token=", p.authorize_url)),
        "{authorize}"
    );
    let counts = p.counts().await;
    assert_eq!(
        (
            counts["request_token"].as_i64(),
            counts["rejected"].as_i64()
        ),
        (Some(1), Some(0)),
        "{counts}"
    );

    // Consent: the provider sends the browser to the hosted callback page with the verifier.
    let back = p.consent(authorize.as_str()).await;
    assert!(
        back.as_str()
            .starts_with(&format!("{}/oauth2/callback?state=", w.server.url)),
        "{back}"
    );
    let b = query(&back);
    assert_eq!(b["oauth_token"], query(&authorize)["oauth_token"]);
    assert!(
        b["state"].len() >= 43 && !b["oauth_verifier"].is_empty(),
        "{back}"
    );
    let page = reqwest::get(back.as_str()).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let script = reqwest::get(format!("{}/oauth2/callback.js", w.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        script.contains("search: search") && script.contains("'oauth_token'"),
        "the page relays the verifier and accepts a hello naming the token"
    );

    // ActivateUser with the callback's result: exchanged for an oauth1-token, shown redacted.
    let a = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            l.activation("ada", l.scheme(0), oauth1_credential(&b)),
        )
        .await
        .expect(200);
    let c = &a["connections"][0];
    let cred = &c["credentials"][0]["credential"];
    assert_eq!(cred["type"], "oauth1-token", "{a}");
    let data = &cred["data"]["oauth1Token"];
    assert_eq!(
        (data["token"].as_str(), data["tokenSecret"].as_str()),
        (Some(""), Some("")),
        "tokens are redacted: {a}"
    );
    assert!(
        data["additionalParams"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "user_id", "value": "ada"})),
        "{a}"
    );
    let counts = p.counts().await;
    assert_eq!(
        (counts["access_token"].as_i64(), counts["rejected"].as_i64()),
        (Some(1), Some(0)),
        "{counts}"
    );
    let issued = &counts["issued"][0];
    let read = w
        .api
        .get(&format!(
            "/api/v2/o/{o}/connections/{}",
            c["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    let listed = w
        .api
        .get(&format!(
            "/api/v2/o/{o}/environment/{}/users/ada/activations",
            l.env
        ))
        .await
        .expect(200);
    for shown in [&a, &read, &listed] {
        let text = shown.to_string();
        for secret in [
            issued["token"].as_str().unwrap(),
            issued["secret"].as_str().unwrap(),
            &p.consumer_secret,
            &b["oauth_verifier"],
        ] {
            assert!(
                !text.contains(secret),
                "no token, secret or verifier in any response: {text}"
            );
        }
    }

    // Replaying the state: 400 naming it, the provider not asked again, nothing stored.
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "bob"}),
        )
        .await
        .expect(201);
    let e = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            l.activation("bob", l.scheme(0), oauth1_credential(&b)),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        vec!["connections[0].connection.credentials[0].credential.data.state"],
        "{e}"
    );
    assert_eq!(user_activations(&w, &l.env, "bob").await, 0);
    assert_eq!(
        p.counts().await["access_token"],
        1,
        "a replayed state never reaches the provider"
    );
}

/// HMAC-SHA1 with the parameters in the form body (temporary credentials) and the query (token),
/// through v2's CreateConnection; initialise refusals; a refused verifier, a foreign token and a
/// wrong consumer secret: each refused, naming the field, storing nothing.
async fn oauth1_refusals(w: World) {
    let Some(p) = OAuth1Provider::start() else {
        return;
    };
    let o = &w.org;
    let mut wrong = oauth1_scheme(&p, "wrong-secret", "sha256", (None, None));
    wrong["oauth1"]["consumerSecret"] = json!("not the consumer secret");
    let l = ledger(
        &w,
        vec![
            oauth1_scheme(
                &p,
                "ledger",
                "sha1",
                (Some("AUTH_STYLE_FORM"), Some("AUTH_STYLE_QUERY")),
            ),
            wrong,
        ],
        &p.consumer_secret,
    )
    .await;
    let init = l.initialise_path(&w);
    let connections = format!("/api/v2/o/{o}/connections");
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "ada"}),
        )
        .await
        .expect(201);
    let connect = |back: &HashMap<String, String>| {
        json!({"connectionTemplateId": l.template["connectionTemplateId"], "externalId": "ada",
            "connection": {"name": ulid::Ulid::new().to_string(), "credentials": [{"authSchemeConfig": l.scheme(0), "credential": oauth1_credential(back)}]}})
    };
    let count = || async {
        w.api.get(&connections).await.expect(200)["totalCount"]
            .as_i64()
            .unwrap()
    };

    // Initialise: the credential must be an OAuth 1.0a scheme's consumer secret, in this organisation.
    let mut body = l.initialise_body(&w, 0);
    body["credential"]["id"] = json!(ulid::Ulid::new().to_string());
    assert_eq!(
        Res::fields(&w.api.post(&init, body).await.error(400)),
        vec!["credential.id"]
    );
    let mut body = l.initialise_body(&w, 0);
    body["credential"]["organisationId"] = json!(ulid::Ulid::new().to_string());
    assert_eq!(
        Res::fields(&w.api.post(&init, body).await.error(400)),
        vec!["credential.organisationId"]
    );
    let (_, other) = w.other_org();
    other.post(&init, l.initialise_body(&w, 0)).await.error(404);
    assert_eq!(
        p.counts().await["request_token"],
        0,
        "refused before asking the provider"
    );
    // A consumer secret the provider does not know: 409, nothing handed out.
    let e = w.api.post(&init, l.initialise_body(&w, 1)).await.error(409);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("refused the temporary-credential request"),
        "{e}"
    );
    assert_eq!(p.counts().await["rejected"], 1);

    // A verifier the provider refuses: 400 naming it, nothing stored, the state spent.
    let u = w
        .api
        .post(&init, l.initialise_body(&w, 0))
        .await
        .expect(200);
    let back = query(&p.consent(u["url"].as_str().unwrap()).await);
    let before = count().await;
    let mut forged = back.clone();
    forged.insert(
        "oauth_verifier".into(),
        "forgedVerifierForgedVerifier".into(),
    );
    let e = w.api.post(&connections, connect(&forged)).await.error(400);
    assert_eq!(
        Res::fields(&e),
        vec!["connection.credentials[0].credential.data.oauthVerifier"],
        "{e}"
    );
    assert_eq!(count().await, before);
    let e = w.api.post(&connections, connect(&back)).await.error(400);
    assert_eq!(
        Res::fields(&e),
        vec!["connection.credentials[0].credential.data.state"],
        "{e}"
    );
    let counts = p.counts().await;
    assert_eq!(
        (counts["access_token"].as_i64(), counts["rejected"].as_i64()),
        (Some(1), Some(2)),
        "{counts}"
    );

    // Another flow's temporary token with this flow's state: refused before the provider is asked.
    let first = query(
        &p.consent(
            w.api
                .post(&init, l.initialise_body(&w, 0))
                .await
                .expect(200)["url"]
                .as_str()
                .unwrap(),
        )
        .await,
    );
    let second = query(
        &p.consent(
            w.api
                .post(&init, l.initialise_body(&w, 0))
                .await
                .expect(200)["url"]
                .as_str()
                .unwrap(),
        )
        .await,
    );
    let mut mixed = first.clone();
    mixed.insert("oauth_token".into(), second["oauth_token"].clone());
    let e = w.api.post(&connections, connect(&mixed)).await.error(400);
    assert_eq!(
        Res::fields(&e),
        vec!["connection.credentials[0].credential.data.oauthToken"],
        "{e}"
    );
    assert_eq!(p.counts().await["access_token"], 1);

    // The second flow completes: HMAC-SHA1, form body and query transmission all accepted.
    let c = w.api.post(&connections, connect(&second)).await.expect(201);
    assert_eq!(
        c["credentials"][0]["credential"]["type"], "oauth1-token",
        "{c}"
    );
    assert_eq!(count().await, before + 1);
    let counts = p.counts().await;
    assert_eq!(
        (counts["access_token"].as_i64(), counts["rejected"].as_i64()),
        (Some(2), Some(2)),
        "{counts}"
    );
}

/// `tokenAuth: true` schemes (token and token secret obtained elsewhere, as NetSuite's token-based
/// authentication): no endpoints needed, `oauth1-token` credentials stored directly in v2 and v1
/// encodings, the browser flow refused; and scheme validation.
async fn oauth1_token_auth(w: World) {
    let o = &w.org;
    let secret = "consumer-secret-for-token-auth";
    let scheme = json!({"type": "oauth1", "oauth1": {"id": "tba", "tokenAuth": true, "consumerKey": "ck-tba", "consumerSecret": secret, "signatureMethod": "sha256"}});
    let l = ledger(&w, vec![scheme], secret).await;
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "ada"}),
        )
        .await
        .expect(201);
    let stored = l.scheme(0).clone();
    assert_eq!(stored["oauth1"]["tokenAuth"], true, "{stored}");

    let token = json!({"name": "TBA", "type": "oauth1-token", "data": {"oauth1Token": {"token": "tok-123", "tokenSecret": "tok-secret-456",
        "additionalParams": [{"name": "realm", "value": "1234567"}]}}});
    let a = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            l.activation("ada", &stored, token),
        )
        .await
        .expect(200);
    let cred = &a["connections"][0]["credentials"][0]["credential"];
    assert_eq!(cred["type"], "oauth1-token", "{a}");
    assert_eq!(
        cred["data"]["oauth1Token"],
        json!({"token": "", "tokenSecret": "", "additionalParams": [{"name": "realm", "value": "1234567"}]})
    );
    assert!(!a.to_string().contains("tok-secret-456") && !a.to_string().contains("tok-123"));

    // The browser flow does not apply: neither its credential nor initialise.
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "bob"}),
        )
        .await
        .expect(201);
    let flow = json!({"name": "x", "type": "oauth1", "data": {"oauth1": {"state": "s", "oauthToken": "t", "oauthVerifier": "v"}}});
    let e = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            l.activation("bob", &stored, flow),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        vec!["connections[0].connection.credentials[0].credential.type"],
        "{e}"
    );
    let e = w
        .api
        .post(&l.initialise_path(&w), l.initialise_body(&w, 0))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), vec!["credential.id"], "{e}");
    // An oauth1-token missing its secret names the field.
    let bad = json!({"name": "x", "type": "oauth1-token", "data": {"oauth1Token": {"token": "t"}}});
    let e = w
        .api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            l.activation("bob", &stored, bad),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        vec!["connections[0].connection.credentials[0].credential.data.tokenSecret"],
        "{e}"
    );

    // Scheme validation: a browser-flow scheme needs its endpoints, any scheme its consumer secret.
    let systems = format!("/api/v2/o/{o}/systems");
    let no_endpoints = json!({"type": "oauth1", "oauth1": {"id": "x", "consumerKey": "ck", "consumerSecret": "s", "signatureMethod": "sha1"}});
    let e = w
        .api
        .post(&systems, json!({"name": "N", "domain": "n.example", "templateBaseUrl": "https://n.example", "authSchemeConfigs": [no_endpoints]}))
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        vec!["authSchemeConfigs[0].tempCredentialEndpoint"],
        "{e}"
    );
    let no_secret = json!({"type": "oauth1", "oauth1": {"id": "x", "tokenAuth": true, "consumerKey": "ck", "signatureMethod": "sha1"}});
    let e = w
        .api
        .post(&systems, json!({"name": "N", "domain": "n.example", "templateBaseUrl": "https://n.example", "authSchemeConfigs": [no_secret]}))
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        vec!["authSchemeConfigs[0].consumerSecret"],
        "{e}"
    );
    let bad_method = json!({"type": "oauth1", "oauth1": {"id": "x", "tokenAuth": true, "consumerKey": "ck", "consumerSecret": "s", "signatureMethod": "md5"}});
    w.api
        .post(&systems, json!({"name": "N", "domain": "n.example", "templateBaseUrl": "https://n.example", "authSchemeConfigs": [bad_method]}))
        .await
        .error(400);

    // Connect API v1's flat encoding: the connector's consumer secret sealed, an oauth1-token
    // connection in v1's credential encoding.
    let flat = json!({"id": "tba", "schemeType": "oauth1", "tokenAuth": true, "consumerKey": "ck-tba", "consumerSecret": secret, "signatureMethod": "sha1"});
    let c = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "Ledger v1", "baseUrl": "https://ledger.example", "authSchemeConfigs": [flat]}),
        )
        .await
        .expect(201);
    let scheme = c["authSchemeConfigs"][0].clone();
    assert!(
        scheme["credentialId"].is_string() && !c.to_string().contains(secret),
        "{c}"
    );
    let conn = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/connectors/{}/connections", c["id"].as_str().unwrap()),
            json!({"name": "books", "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "TBA", "type": "oauth1-token",
                "data": {"token": "v1-token", "tokenSecret": "v1-token-secret"}}}]}, "variables": []}),
        )
        .await
        .expect(200);
    let cred = &conn["credentials"]["action"][0]["credential"];
    assert_eq!(
        (cred["type"].as_str(), cred["data"]["tokenSecret"].as_str()),
        (Some("oauth1-token"), Some("")),
        "{conn}"
    );
    assert!(!conn.to_string().contains("v1-token-secret"));
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
    oauth1_activation_flow => oauth1_activation;
    oauth1_refused_flows => oauth1_refusals;
    oauth1_token_auth_schemes => oauth1_token_auth;
}
