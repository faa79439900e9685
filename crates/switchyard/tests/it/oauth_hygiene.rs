//! OAuth redirect hygiene, the callback page's origin, and hub framing per organisation, against
//! the real server and real providers (npm `oauth2-mock-server`, oauthlib for OAuth 1.0a):
//! organisation settings; redirect URL allowlists on every initialise (Embedded v1 with a hub
//! session, Platform v2 with an end-user JWT, Connect v1 with an API key, OAuth 1.0a); reserved
//! `additionalParams`; the callback page answering only the origin that started the flow; and the
//! hub page's `frame-ancestors`.

use crate::common::oauth1_provider::OAuth1Provider;
use crate::common::provider::Provider;
use crate::common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::collections::HashMap;

const LISTED: &str = "https://app.example.com/oauth/done";
const UNLISTED: &str = "https://evil.example/steal";

fn settings_path(org: &str) -> String {
    format!("/api/organisations/v1/organisations/{org}/settings")
}

async fn put_settings(w: &World, redirects: &[&str], ancestors: &[&str]) -> Value {
    w.api
        .put(
            &settings_path(&w.org),
            json!({"oauthRedirectUrls": redirects, "hubFrameAncestors": ancestors}),
        )
        .await
        .expect(200)
}

/// A request with any `Authorization` value (`Bearer …`, `JWT …`) and, when given, an `Origin`.
async fn call(
    base: &str,
    method: reqwest::Method,
    path: &str,
    authorization: &str,
    origin: Option<&str>,
    body: Option<&Value>,
) -> Res {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("Authorization", authorization);
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status} answer to {path}: {text}"))
    };
    Res {
        status,
        body,
        headers,
    }
}

/// How many OAuth flows (states) the database holds, read directly.
async fn state_count(w: &World) -> i64 {
    let sql = "SELECT COUNT(*) FROM oauth_states";
    if w.db.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&w.db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&w.db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    }
}

fn query(url: &url::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

fn oauth_scheme(p: &Provider) -> Value {
    json!({"id": "oauth", "description": "CRM login", "schemeType": "oauth2", "authorizeUrl": p.authorize_url(), "tokenUrl": p.token_url(),
           "scopes": [{"name": "contacts.read"}], "defaultScopes": ["contacts.read"], "pkce": true,
           "grant": {"grantType": "authorization_code", "clientId": p.client_id, "clientSecret": p.client_secret}})
}

/// A Connect v1 connector with an OAuth2 authorization-code scheme: (connector id, stored scheme).
async fn crm(w: &World, p: &Provider) -> (String, Value) {
    let c = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org),
            json!({"name": "CRM", "baseUrl": "https://crm.example", "authSchemeConfigs": [oauth_scheme(p)]}),
        )
        .await
        .expect(201);
    (
        c["id"].as_str().unwrap().to_owned(),
        c["authSchemeConfigs"][0].clone(),
    )
}

/// Versori's embed SDK's initialise body for a v1 scheme, with `redirectUrl` when given.
fn init_body(org: &str, scheme: &Value, redirect: Option<&str>) -> Value {
    let mut b = json!({"credential": {"id": scheme["grant"]["credentialId"], "organisationId": org}, "authorizeUrl": scheme["authorizeUrl"],
        "clientId": scheme["grant"]["clientId"], "scopes": scheme["defaultScopes"], "prompt": "consent"});
    if let Some(r) = redirect {
        b["redirectUrl"] = json!(r);
    }
    b
}

fn code_connection(scheme: &Value, data: Value) -> Value {
    json!({"name": "my CRM", "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "CRM token", "type": "oauth2-code", "data": data}}]}, "variables": []})
}

/// The hosted callback page for a provider redirect (or any URL): its HTML.
async fn page(url: &str) -> String {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"),
        "no inline script"
    );
    r.text().await.unwrap()
}

/// The opener origin a callback page carries, if any, checking that it carries at most one.
fn page_origin(html: &str) -> Option<String> {
    let marker = r#"<meta name="switchyard-opener-origin" content=""#;
    assert!(
        html.matches("switchyard-opener-origin").count() <= 1,
        "{html}"
    );
    let start = html.find(marker)? + marker.len();
    Some(html[start..start + html[start..].find('"').unwrap()].to_owned())
}

fn csp(res: &reqwest::Response) -> String {
    res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// The settings endpoints (round trip, validation, other organisations), the hub page's
/// `frame-ancestors` per `?o=`, and the `o` in the hub URLs Switchyard hands out.
async fn settings_and_framing(w: World) {
    let o = w.org.clone();
    let path = settings_path(&o);
    assert_eq!(
        w.api.get(&path).await.expect(200),
        json!({"oauthRedirectUrls": [], "hubFrameAncestors": []})
    );
    let saved = put_settings(
        &w,
        &[LISTED, "http://127.0.0.1:62168/oauth/callback"],
        &[
            "https://App.Example.com",
            "http://localhost:3000",
            "https://*.example.org",
        ],
    )
    .await;
    let expected = json!({"oauthRedirectUrls": [LISTED, "http://127.0.0.1:62168/oauth/callback"],
        "hubFrameAncestors": ["https://app.example.com", "http://localhost:3000", "https://*.example.org"]});
    assert_eq!(saved, expected);
    assert_eq!(w.api.get(&path).await.expect(200), expected);

    // Refusals: a 400 naming the field and index, nothing changed.
    for (body, field) in [
        (
            json!({"hubFrameAncestors": ["https://ok.example", "https://x.example; script-src *"]}),
            "hubFrameAncestors[1]",
        ),
        (
            json!({"hubFrameAncestors": ["'self'"]}),
            "hubFrameAncestors[0]",
        ),
        (
            json!({"hubFrameAncestors": ["https://x.example\""]}),
            "hubFrameAncestors[0]",
        ),
        (
            json!({"hubFrameAncestors": ["https://x.example https://y.example"]}),
            "hubFrameAncestors[0]",
        ),
        (
            json!({"hubFrameAncestors": ["https://x.example/path"]}),
            "hubFrameAncestors[0]",
        ),
        (
            json!({"oauthRedirectUrls": [LISTED, "https://ok.example/b", "ftp://files.example/cb"]}),
            "oauthRedirectUrls[2]",
        ),
        (
            json!({"oauthRedirectUrls": ["https://ok.example/cb#frag"]}),
            "oauthRedirectUrls[0]",
        ),
        (
            json!({"oauthRedirectUrls": ["https://ok.example/a\u{0}b"]}),
            "oauthRedirectUrls[0]",
        ),
        (
            json!({"hubFrameAncestors": ["https://ok.example\u{0}"]}),
            "hubFrameAncestors[0]",
        ),
        (
            json!({"oauthRedirectUrls": [format!("https://ok.example/{}", "a".repeat(2048))]}),
            "oauthRedirectUrls[0]",
        ),
        (
            json!({"oauthRedirectUrls": (0..51).map(|i| format!("https://ok.example/{i}")).collect::<Vec<_>>()}),
            "oauthRedirectUrls",
        ),
        (
            json!({"hubFrameAncestors": (0..51).map(|i| format!("https://h{i}.example")).collect::<Vec<_>>()}),
            "hubFrameAncestors",
        ),
    ] {
        let e = w.api.put(&path, body.clone()).await.error(400);
        assert_eq!(Res::fields(&e), vec![field], "{body}: {e}");
    }
    assert_eq!(
        w.api.get(&path).await.expect(200),
        expected,
        "a refused PUT changed nothing"
    );

    // Another organisation's key: 404, as elsewhere; its own settings are its own.
    let (other_org, other) = w.other_org();
    other.get(&path).await.error(404);
    other
        .put(&path, json!({"hubFrameAncestors": []}))
        .await
        .error(404);
    assert_eq!(
        other.get(&settings_path(&other_org)).await.expect(200),
        json!({"oauthRedirectUrls": [], "hubFrameAncestors": []})
    );
    assert_eq!(w.api.get(&path).await.expect(200), expected);

    // The hub page's framing policy: the organisation's with `?o=`, `*` without.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |p: String| http.get(format!("{}{p}", w.server.url)).send();
    let with_o = get(format!("/hub/?o={o}")).await.unwrap();
    assert_eq!(with_o.status(), 200);
    let policy = csp(&with_o);
    assert!(
        policy.ends_with(
            "; frame-ancestors https://app.example.com http://localhost:3000 https://*.example.org"
        ),
        "{policy}"
    );
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(
        csp(&get(format!("/hub/index.html?o={o}")).await.unwrap()).ends_with(
            "frame-ancestors https://app.example.com http://localhost:3000 https://*.example.org"
        )
    );
    assert!(csp(&get("/hub/".into()).await.unwrap()).ends_with("; frame-ancestors *"));
    assert!(
        csp(&get(format!("/hub/?o={other_org}")).await.unwrap()).ends_with("; frame-ancestors *"),
        "an organisation with no list"
    );
    assert!(csp(&get("/hub/?o=01J0000000000000000000000Z".into())
        .await
        .unwrap())
    .ends_with("; frame-ancestors *"));
    assert!(
        csp(&get("/hub/?o=%27none%27%3B".into()).await.unwrap()).ends_with("; frame-ancestors *"),
        "not an id"
    );
    let moved = get(format!("/hub?o={o}")).await.unwrap();
    assert_eq!(
        moved.headers()["location"],
        format!("/hub/?o={o}").as_str(),
        "the redirect keeps the query"
    );

    // Hub session URLs carry `?o=` before the fragment; the page can learn its token's organisation.
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "App", "baseUrl": "https://app.example", "authSchemeConfigs": [api_key_scheme("k", "X-Key")]}),
        )
        .await
        .expect(201);
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Hub", "primaryConnectorId": connector["id"], "authSchemeConfig": api_key_scheme("k", "X-Key")}),
        )
        .await
        .expect(201);
    let hub_id = hub["id"].as_str().unwrap();
    let session = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub_id}/users/ada/sessions"),
            json!({}),
        )
        .await
        .expect(201);
    let url = session["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/hub/?o={o}#token=sys_", w.server.url)),
        "{url}"
    );
    let me = w
        .api
        .with_key(session["token"].as_str().unwrap())
        .get("/api/embedded/v1/session")
        .await
        .expect(200);
    assert_eq!(
        (
            me["organisationId"].as_str(),
            me["hubId"].as_str(),
            me["userId"].as_str()
        ),
        (Some(o.as_str()), Some(hub_id), Some("ada")),
        "{me}"
    );
    assert_eq!(
        w.api.get("/api/embedded/v1/session").await.expect(200),
        json!({"organisationId": o}),
        "an API key: its organisation"
    );
    Api::anonymous(&w.server)
        .get("/api/embedded/v1/session")
        .await
        .error(401);

    // PUT replaces: lists left out become empty, and framing is open again.
    assert_eq!(
        w.api.put(&path, json!({})).await.expect(200),
        json!({"oauthRedirectUrls": [], "hubFrameAncestors": []})
    );
    assert!(csp(&get(format!("/hub/?o={o}")).await.unwrap()).ends_with("; frame-ancestors *"));
}

/// Embedded v1 with a hub session: the hub's `oauthRedirectUrls` (validated, stored, returned)
/// decide; an unlisted URL (even one the organisation lists) is a 400 writing no state; a listed
/// one works through the code exchange; the hosted callback always works.
async fn embedded_v1_hub_list(w: World) {
    let Some(p) = Provider::start() else { return };
    let o = w.org.clone();
    let (connector, scheme) = crm(&w, &p).await;
    let hub_body = |urls: Value| json!({"organisationId": o, "name": "Hub", "primaryConnectorId": connector, "authSchemeConfig": scheme, "oauthRedirectUrls": urls});
    let e = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            hub_body(json!([LISTED, "not a url"])),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), vec!["oauthRedirectUrls[1]"], "{e}");
    let hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            hub_body(json!(["https://old.example/cb"])),
        )
        .await
        .expect(201);
    spec::check(spec::embedded(), "Hub", &hub);
    assert_eq!(hub["oauthRedirectUrls"], json!(["https://old.example/cb"]));
    let hub_id = hub["id"].as_str().unwrap().to_owned();
    let updated = w
        .api
        .patch(
            &format!("/api/embedded/v1/hubs/{hub_id}"),
            json!({"oauthRedirectUrls": [LISTED]}),
        )
        .await
        .expect(200);
    assert_eq!(updated["oauthRedirectUrls"], json!([LISTED]));
    let e = w
        .api
        .patch(
            &format!("/api/embedded/v1/hubs/{hub_id}"),
            json!({"oauthRedirectUrls": [LISTED, "https://x.example/#f"]}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), vec!["oauthRedirectUrls[1]"], "{e}");
    let renamed = w
        .api
        .patch(
            &format!("/api/embedded/v1/hubs/{hub_id}"),
            json!({"name": "Renamed"}),
        )
        .await
        .expect(200);
    assert_eq!(
        renamed["oauthRedirectUrls"],
        json!([LISTED]),
        "kept when not named"
    );
    let read = w
        .api
        .get(&format!("/api/embedded/v1/hubs/{hub_id}"))
        .await
        .expect(200);
    spec::check(spec::embedded(), "Hub", &read);
    assert_eq!(read["oauthRedirectUrls"], json!([LISTED]));
    spec::check(
        spec::embedded(),
        "HubsPage",
        &w.api
            .get(&format!("/api/embedded/v1/o/{o}/hubs"))
            .await
            .expect(200),
    );

    let i = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{hub_id}/integrations"),
            json!({"organisationId": o, "name": "Contacts", "connectionTemplate": {"connectorId": connector, "authSchemeConfig": scheme}}),
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
            &format!("/api/embedded/v1/hubs/{hub_id}/users/ada/sessions"),
            json!({}),
        )
        .await
        .expect(201);
    let hub_page = w.api.with_key(session["token"].as_str().unwrap());
    let integration = hub_page
        .get(&format!(
            "/api/embedded/v1/embed/{hub_id}/users/ada/integrations/{i}"
        ))
        .await
        .expect(200);
    let template = integration["connectionTemplates"][0].clone();
    let tscheme = template["authSchemeConfig"].clone();
    let init = format!("/api/embedded/v1/embed/{hub_id}/connector/{connector}/oauth2/initialise");

    // Unlisted (and listed only by the organisation, which Embedded v1 does not consult): 400, no state.
    put_settings(&w, &["https://org-only.example/cb"], &[]).await;
    let before = state_count(&w).await;
    for bad in [
        UNLISTED,
        "https://org-only.example/cb",
        "https://app.example.com/oauth/done/../other",
        "https://app.example.com/oauth/done?x=1",
    ] {
        let e = hub_page
            .post(&init, init_body(&o, &tscheme, Some(bad)))
            .await
            .error(400);
        assert_eq!(Res::fields(&e), vec!["redirectUrl"], "{bad}: {e}");
    }
    assert_eq!(
        state_count(&w).await,
        before,
        "a refused initialise writes no state"
    );

    // The hosted callback, named or not, always works.
    let hosted = format!("{}/oauth2/callback", w.server.url);
    let u = hub_page
        .post(&init, init_body(&o, &tscheme, Some(&hosted)))
        .await
        .expect(200);
    assert_eq!(
        query(&url::Url::parse(u["url"].as_str().unwrap()).unwrap())["redirect_uri"],
        hosted
    );
    hub_page
        .post(&init, init_body(&o, &tscheme, None))
        .await
        .expect(200);

    // A listed URL (normalised: the host's case and the default port do not matter) works end to end.
    let u = hub_page
        .post(
            &init,
            init_body(&o, &tscheme, Some("https://APP.example.com:443/oauth/done")),
        )
        .await
        .expect(200);
    let authorize = url::Url::parse(u["url"].as_str().unwrap()).unwrap();
    assert_eq!(
        query(&authorize)["redirect_uri"],
        "https://APP.example.com:443/oauth/done",
        "sent as given"
    );
    let back = p.consent(authorize.as_str()).await;
    assert_eq!(
        back.host_str(),
        Some("app.example.com"),
        "the provider sends the code to the listed URL: {back}"
    );
    let b = query(&back);
    let mut conn = code_connection(
        &tscheme,
        json!({"code": b["code"], "state": b["state"], "redirectUrl": "https://APP.example.com:443/oauth/done"}),
    );
    conn["templateId"] = template["id"].clone();
    let a = hub_page
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "ada", "integrationId": i, "connections": [conn]}),
        )
        .await
        .expect(200);
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
        "{a} {c}"
    );
    let counts = p.counts().await;
    assert_eq!(
        (
            counts["authorization_code"].as_i64(),
            counts["rejected"].as_i64()
        ),
        (Some(1), Some(0)),
        "{counts}"
    );
}

/// An RS256 end-user token for `sub`, signed by a new signing key of the organisation.
async fn end_user_jwt(w: &World, sub: &str) -> String {
    let key = w
        .api
        .post(
            &format!("/api/organisations/v1/organisations/{}/keys", w.org),
            json!({"name": "backend"}),
        )
        .await
        .expect(201);
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": format!("https://versori.com/sk/{}", key["id"].as_str().unwrap()), "sub": sub, "iat": now, "exp": now + 3600});
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(key["privateKey"].as_str().unwrap().as_bytes()).unwrap(),
    )
    .unwrap()
}

/// Platform v2 with an end-user JWT: the organisation's list decides; unlisted is a 400 writing no
/// state; a listed URL works through ActivateUser; the hosted callback always works. The callback
/// page carries the `Origin` the token's page called from.
async fn platform_v2_jwt(w: World) {
    let Some(p) = Provider::start() else { return };
    let o = w.org.clone();
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
            json!({"systemId": system["id"], "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200);
    w.api
        .post(
            &format!("/api/v2/o/{o}/users"),
            json!({"externalId": "ada"}),
        )
        .await
        .expect(201);
    let stored = template["authSchemeConfigs"][0].clone();
    let grant = stored["oauth2"]["grant"]["authorizationCode"].clone();
    let body = |redirect: Option<&str>| {
        let mut b = json!({"credential": {"id": grant["credentialId"], "organisationId": o}, "authorizeUrl": stored["oauth2"]["authorizeUrl"],
            "clientId": grant["clientId"], "scopes": ["contacts.read"]});
        if let Some(r) = redirect {
            b["redirectUrl"] = json!(r);
        }
        b
    };
    let jwt = format!("JWT {}", end_user_jwt(&w, "ada").await);
    let init = format!(
        "/api/v2/o/{o}/systems/{}/oauth2/initialise",
        template["id"].as_str().unwrap()
    );
    let post = |path: String, b: Value, origin: Option<&'static str>| {
        let (base, jwt) = (w.server.url.clone(), jwt.clone());
        async move { call(&base, reqwest::Method::POST, &path, &jwt, origin, Some(&b)).await }
    };

    let before = state_count(&w).await;
    let e = post(
        init.clone(),
        body(Some(UNLISTED)),
        Some("https://host.example"),
    )
    .await
    .error(400);
    assert_eq!(Res::fields(&e), vec!["redirectUrl"], "{e}");
    let e = post(init.clone(), body(Some(LISTED)), None)
        .await
        .error(400);
    assert_eq!(Res::fields(&e), vec!["redirectUrl"], "not listed yet: {e}");
    assert_eq!(state_count(&w).await, before, "no state written");

    post(
        init.clone(),
        body(Some(&format!("{}/oauth2/callback", w.server.url))),
        None,
    )
    .await
    .expect(200);
    put_settings(&w, &[LISTED], &[]).await;
    let u = post(
        init.clone(),
        body(Some(LISTED)),
        Some("https://host.example"),
    )
    .await
    .expect(200);
    let back = query(&p.consent(u["url"].as_str().unwrap()).await);
    let credential = json!({"id": ulid::Ulid::new().to_string(), "authSchemeConfig": stored,
        "credential": {"name": "CRM token", "type": "oauth2-code", "data": {"oauth2Code": {"code": back["code"], "state": back["state"], "redirectUrl": LISTED}}}});
    let a = post(
        format!("/api/v2/o/{o}/activations"),
        json!({"userId": "ada", "environmentId": env,
            "connections": [{"connectionTemplateId": template["connectionTemplateId"], "connection": {"name": ulid::Ulid::new().to_string(), "credentials": [credential]}}]}),
        None,
    )
    .await
    .expect(200);
    assert_eq!(
        a["connections"][0]["credentials"][0]["credential"]["type"], "oauth2-token",
        "{a}"
    );
    assert_eq!(p.counts().await["authorization_code"], 1);

    // The token's page called from https://host.example: the callback page answers that origin only.
    let u = post(init.clone(), body(None), Some("https://host.example"))
        .await
        .expect(200);
    let back = p.consent(u["url"].as_str().unwrap()).await;
    assert_eq!(
        page_origin(&page(back.as_str()).await).as_deref(),
        Some("https://host.example")
    );
}

/// Connect v1 with an API key: the organisation's list decides (after normalisation), unlisted is a
/// 400 writing no state, a listed URL works through CreateConnection, the hosted callback always.
async fn connect_v1_api_key(w: World) {
    let Some(p) = Provider::start() else { return };
    let (connector, scheme) = crm(&w, &p).await;
    let init = format!(
        "/api/connect/v1/o/{}/connectors/{connector}/oauth2/initialise",
        w.org
    );
    let connections = format!(
        "/api/connect/v1/o/{}/connectors/{connector}/connections",
        w.org
    );
    let hosted = format!("{}/oauth2/callback", w.server.url);

    let before = state_count(&w).await;
    for bad in [
        UNLISTED,
        LISTED,
        "http://127.0.0.1:62168/oauth/callback",
        "ftp://app.example.com/x",
        "https://app.example.com/x#f",
    ] {
        let e = w
            .api
            .post(&init, init_body(&w.org, &scheme, Some(bad)))
            .await
            .error(400);
        assert_eq!(Res::fields(&e), vec!["redirectUrl"], "{bad}: {e}");
    }
    assert_eq!(state_count(&w).await, before, "no state written");
    w.api
        .post(&init, init_body(&w.org, &scheme, Some(&hosted)))
        .await
        .expect(200);

    put_settings(
        &w,
        &[
            "HTTPS://App.Example.com:443/oauth/done",
            "http://127.0.0.1:62168/oauth/callback",
        ],
        &[],
    )
    .await;
    let before = state_count(&w).await;
    let e = w
        .api
        .post(&init, init_body(&w.org, &scheme, Some(UNLISTED)))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), vec!["redirectUrl"]);
    assert_eq!(state_count(&w).await, before);
    w.api
        .post(&init, init_body(&w.org, &scheme, Some(&hosted)))
        .await
        .expect(200);
    assert_eq!(state_count(&w).await, before + 1);

    let u = w
        .api
        .post(&init, init_body(&w.org, &scheme, Some(LISTED)))
        .await
        .expect(200);
    let back = p.consent(u["url"].as_str().unwrap()).await;
    assert!(back.as_str().starts_with(&format!("{LISTED}?")), "{back}");
    let b = query(&back);
    let c = w
        .api
        .post(
            &connections,
            code_connection(
                &scheme,
                json!({"code": b["code"], "state": b["state"], "redirectUrl": LISTED}),
            ),
        )
        .await
        .expect(200);
    assert_eq!(
        c["credentials"]["action"][0]["credential"]["type"], "oauth2-token",
        "{c}"
    );
    let counts = p.counts().await;
    assert_eq!(
        (
            counts["authorization_code"].as_i64(),
            counts["rejected"].as_i64()
        ),
        (Some(1), Some(0)),
        "{counts}"
    );
}

/// `additionalParams` may not set a reserved parameter, whatever its case or separator: each a 400
/// naming `additionalParams`, no state written.
async fn reserved_additional_params(w: World) {
    let Some(p) = Provider::start() else { return };
    let (connector, scheme) = crm(&w, &p).await;
    let init = format!(
        "/api/connect/v1/o/{}/connectors/{connector}/oauth2/initialise",
        w.org
    );
    let before = state_count(&w).await;
    for params in [
        "Redirect_URI=https%3A%2F%2Fevil.example",
        "response_mode=form_post",
        "REQUEST_URI=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aevil",
        "redirect-url=https%3A%2F%2Fevil.example",
        "Response-Mode=fragment",
        "request=eyJhbGciOiJub25lIn0.e30.",
        "access_type=offline&STATE=mine",
        "Client_Id=other",
        "code_challenge_method=plain",
        "Scope=admin",
        "prompt=none",
    ] {
        let mut body = init_body(&w.org, &scheme, None);
        body["additionalParams"] = json!(params);
        let e = w.api.post(&init, body).await.error(400);
        assert_eq!(Res::fields(&e), vec!["additionalParams"], "{params}: {e}");
    }
    assert_eq!(state_count(&w).await, before, "no state written");
    // What clashes with nothing passes; `prompt` may come from here when the body has none.
    let mut body = init_body(&w.org, &scheme, None);
    body.as_object_mut().unwrap().remove("prompt");
    body["additionalParams"] = json!("access_type=offline&Prompt=select_account");
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
            q.get("Prompt").map(String::as_str),
            q.get("prompt")
        ),
        (Some("offline"), Some("select_account"), None)
    );
}

/// The hosted callback page carries the origin recorded when the flow started (the `Origin` of the
/// initialise call when it is a proper origin, Switchyard's own otherwise), and nothing for an
/// unknown, missing or spent state; its script answers and posts to that origin only. The same
/// for OAuth 1.0a (the state is Switchyard's, in the callback URL), whose `redirectUrl` the
/// organisation's list also decides.
async fn callback_origin(w: World) {
    let Some(p) = Provider::start() else { return };
    let (connector, scheme) = crm(&w, &p).await;
    let init = format!(
        "/api/connect/v1/o/{}/connectors/{connector}/oauth2/initialise",
        w.org
    );
    let bearer = format!("Bearer {}", w.key);
    let own = url::Url::parse(&w.server.url)
        .unwrap()
        .origin()
        .ascii_serialization();
    let start = |origin: Option<&'static str>| {
        let (base, path, auth, body) = (
            w.server.url.clone(),
            init.clone(),
            bearer.clone(),
            init_body(&w.org, &scheme, None),
        );
        async move {
            call(
                &base,
                reqwest::Method::POST,
                &path,
                &auth,
                origin,
                Some(&body),
            )
            .await
            .expect(200)["url"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };

    let host_flow = p.consent(&start(Some("https://host.example")).await).await;
    let html = page(host_flow.as_str()).await;
    assert_eq!(
        page_origin(&html).as_deref(),
        Some("https://host.example"),
        "{html}"
    );
    assert!(!html.contains(&own), "only the recorded origin: {html}");
    for (sent, recorded) in [
        (None, own.as_str()),
        (Some("null"), own.as_str()),
        (Some("https://host.example/path"), own.as_str()),
        (Some("http://localhost:5173"), "http://localhost:5173"),
    ] {
        let back = p.consent(&start(sent).await).await;
        assert_eq!(
            page_origin(&page(back.as_str()).await).as_deref(),
            Some(recorded),
            "Origin: {sent:?}"
        );
    }
    // Loading the page does not spend the state; a second load says the same.
    assert_eq!(
        page_origin(&page(host_flow.as_str()).await).as_deref(),
        Some("https://host.example")
    );

    // Unknown, missing and spent states: a page that says the attempt expired, with no origin.
    let cb = format!("{}/oauth2/callback", w.server.url);
    for url in [
        format!("{cb}?code=c&state=made-up"),
        format!("{cb}?code=c"),
        cb.clone(),
    ] {
        let html = page(&url).await;
        assert_eq!(page_origin(&html), None, "{url}: {html}");
        assert!(html.contains("expired"), "{html}");
    }
    let b = query(&host_flow);
    w.api
        .post(
            &format!(
                "/api/connect/v1/o/{}/connectors/{connector}/connections",
                w.org
            ),
            code_connection(&scheme, json!({"code": b["code"], "state": b["state"]})),
        )
        .await
        .expect(200);
    assert_eq!(
        page_origin(&page(host_flow.as_str()).await),
        None,
        "a spent state"
    );

    // The script answers a hello from the recorded origin only, and posts to exactly that origin.
    let script = reqwest::get(format!("{}/oauth2/callback.js", w.server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needed in [
        "meta[name=\"switchyard-opener-origin\"]",
        "event.origin !== origin",
        "payload: { search: search } }, origin)",
        "'hello'",
        "'response'",
    ] {
        assert!(script.contains(needed), "{needed}");
    }
    assert!(
        !script.contains("}, event.origin)") && !script.contains("'*'"),
        "never posts to the sender's or any origin"
    );

    // OAuth 1.0a: the organisation's list decides `redirectUrl`; the callback page carries the origin.
    let Some(p1) = OAuth1Provider::start() else {
        return;
    };
    let o = w.org.clone();
    let secret = p1.consumer_secret.clone();
    let oauth1 = json!({"type": "oauth1", "oauth1": {"id": "ledger", "consumerKey": p1.consumer_key, "consumerSecret": secret, "signatureMethod": "sha256",
        "tempCredentialEndpoint": {"url": p1.request_token_url}, "resourceOwnerAuthorizationEndpoint": {"url": p1.authorize_url}, "tokenEndpoint": {"url": p1.access_token_url}}});
    let system = w
        .api
        .post(
            &format!("/api/v2/o/{o}/systems"),
            json!({"name": "Ledger", "domain": "ledger.example", "templateBaseUrl": "https://ledger.example", "authSchemeConfigs": [oauth1]}),
        )
        .await
        .expect(201);
    let init1 = format!(
        "/api/v2/o/{o}/systems/{}/oauth1/initialise",
        system["id"].as_str().unwrap()
    );
    let body1 = |redirect: Option<&str>| {
        let mut b = json!({"credential": {"id": system["authSchemeConfigs"][0]["oauth1"]["credentialId"], "organisationId": o}});
        if let Some(r) = redirect {
            b["redirectUrl"] = json!(r);
        }
        b
    };
    let before = state_count(&w).await;
    let e = w.api.post(&init1, body1(Some(UNLISTED))).await.error(400);
    assert_eq!(Res::fields(&e), vec!["redirectUrl"], "{e}");
    assert_eq!(
        (
            state_count(&w).await,
            p1.counts().await["request_token"].as_i64()
        ),
        (before, Some(0)),
        "no state, the provider not asked"
    );
    put_settings(&w, &[LISTED], &[]).await;
    let u = call(
        &w.server.url,
        reqwest::Method::POST,
        &init1,
        &bearer,
        Some("https://books.example"),
        Some(&body1(Some(LISTED))),
    )
    .await
    .expect(200);
    let back = p1.consent(u["url"].as_str().unwrap()).await;
    assert!(
        back.as_str().starts_with(&format!("{LISTED}?state=")),
        "the listed callback, with the state: {back}"
    );
    let u = call(
        &w.server.url,
        reqwest::Method::POST,
        &init1,
        &bearer,
        Some("https://books.example"),
        Some(&body1(None)),
    )
    .await
    .expect(200);
    let back = p1.consent(u["url"].as_str().unwrap()).await;
    assert!(
        back.as_str()
            .starts_with(&format!("{}/oauth2/callback?state=", w.server.url)),
        "{back}"
    );
    assert_eq!(
        page_origin(&page(back.as_str()).await).as_deref(),
        Some("https://books.example")
    );
}

on_both_databases! {
    settings_endpoints_and_hub_framing => settings_and_framing;
    embedded_v1_hub_redirect_urls => embedded_v1_hub_list;
    platform_v2_end_user_redirect_urls => platform_v2_jwt;
    connect_v1_redirect_urls => connect_v1_api_key;
    reserved_params => reserved_additional_params;
    callback_page_origin => callback_origin;
}
