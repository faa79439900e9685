//! Hub page sessions: what the host's backend asks for, what the page's token can and cannot do,
//! and the page and embed script the binary serves.

use crate::common::*;
use serde_json::{json, Value};

struct Hub {
    id: String,
    crm: String,
    erp: String,
    integrations: Vec<String>,
}

fn key_connection(name: &str, secret: &str) -> Value {
    json!({"name": name, "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Api-Key"), "credential": {"name": "key", "type": "string", "data": {"value": secret}}}]}, "variables": []})
}

/// A hub whose primary connector is an API-key CRM, with three deployed integrations that each
/// need the CRM and an ERP.
async fn hub(w: &World) -> Hub {
    let o = &w.org;
    let connector = |name: &str| json!({"name": name, "baseUrl": "https://x.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]});
    let crm = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            connector("CRM"),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let erp = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            connector("ERP"),
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
    let mut integrations = Vec::new();
    for name in ["Orders", "Invoices", "Stock"] {
        let i = w
            .api
            .post(
                &format!("/api/embedded/v1/hubs/{hub}/integrations"),
                json!({"organisationId": o, "name": name, "variablesSchema": {"type": "object", "required": ["region"], "properties": {"region": {"type": "string", "enum": ["eu", "us"]}}},
                       "connectionTemplate": {"connectorId": crm, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}}),
            )
            .await
            .expect(200)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        w.api
            .post(
                &format!("/api/embedded/v1/integrations/{i}/connection-templates"),
                json!({"connectorId": erp, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
            )
            .await
            .expect(200);
        w.api
            .post(
                &format!("/api/embedded/v1/integrations/{i}/deploy"),
                json!({}),
            )
            .await
            .expect(200);
        integrations.push(i);
    }
    Hub {
        id: hub,
        crm,
        erp,
        integrations,
    }
}

async fn templates(api: &Api, hub: &str, user: &str, integration: &str) -> Vec<(String, String)> {
    let i = api
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/{user}/integrations/{integration}"
        ))
        .await
        .expect(200);
    i["connectionTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_owned(),
                t["connectorId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn sessions(w: World) {
    let h = hub(&w).await;
    let path = |user: &str| format!("/api/embedded/v1/hubs/{}/users/{user}/sessions", h.id);

    // The host's backend asks for a session for someone who does not exist yet.
    let s = w
        .api
        .post(
            &path("cust-7"),
            json!({"allowedIntegrations": [h.integrations[0], h.integrations[1]]}),
        )
        .await
        .expect(201);
    let token = s["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("sys_") && token.len() == 47, "{token}");
    let url = url::Url::parse(s["url"].as_str().unwrap()).unwrap();
    assert_eq!(url.path(), "/hub/");
    let fragment: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(url.fragment().unwrap().as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        (
            fragment["token"].as_str(),
            fragment["hub"].as_str(),
            fragment["user"].as_str()
        ),
        (token.as_str(), h.id.as_str(), "cust-7")
    );
    let expires = chrono::DateTime::parse_from_rfc3339(s["expiresAt"].as_str().unwrap()).unwrap();
    let ttl = expires
        .signed_duration_since(chrono::Utc::now())
        .num_seconds();
    assert!(
        (1790..=1800).contains(&ttl),
        "default lifetime 1800 s, got {ttl}"
    );
    // No body at all is fine too.
    let bare = w
        .api
        .send(reqwest::Method::POST, &path("cust-8"), None)
        .await;
    assert_eq!(bare.status, 201, "{:?}", bare.body);

    // Bad requests change nothing.
    assert_eq!(
        Res::fields(
            &w.api
                .post(&path("cust-7"), json!({"ttlSeconds": 86401}))
                .await
                .error(400)
        ),
        vec!["ttlSeconds"]
    );
    assert_eq!(
        Res::fields(
            &w.api
                .post(
                    &path("cust-7"),
                    json!({"allowedIntegrations": ["01J0000000000000000000000Z"]})
                )
                .await
                .error(400)
        ),
        vec!["allowedIntegrations[0]"]
    );
    w.api
        .post(
            "/api/embedded/v1/hubs/01J0000000000000000000000Z/users/cust-7/sessions",
            json!({}),
        )
        .await
        .error(404);
    let (_, other) = w.other_org();
    other.post(&path("cust-7"), json!({})).await.error(404);

    let page = w.api.with_key(&token);
    let embed = format!("/api/embedded/v1/embed/{}/users/cust-7", h.id);
    // The page sees only the allowed integrations, for its own user.
    let list = page.get(&format!("{embed}/integrations")).await.expect(200);
    assert_eq!(
        (list["totalCount"].as_i64(), list["totalConnected"].as_i64()),
        (Some(2), Some(0)),
        "{list}"
    );
    page.get(&format!("{embed}/integrations/{}", h.integrations[2]))
        .await
        .error(404);
    page.get(&format!(
        "/api/embedded/v1/embed/{}/users/cust-8/integrations",
        h.id
    ))
    .await
    .error(404);
    // ...and nothing the host's backend does: 403, even on this hub.
    for p in [
        format!("/api/embedded/v1/o/{}/hubs", w.org),
        format!("/api/embedded/v1/hubs/{}/users", h.id),
        format!("/api/connect/v1/o/{}/connectors", w.org),
    ] {
        let e = page.get(&p).await;
        assert_eq!(e.status, 403, "{p}: {:?}", e.body);
        let e = e.body;
        assert!(e["message"].as_str().unwrap().contains("session"), "{e}");
    }
    page.post(&path("cust-7"), json!({})).await.error(403);
    // A made-up session token is unknown: 401.
    w.api
        .with_key("sys_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .get(&format!("{embed}/integrations"))
        .await
        .error(401);

    // The first activation creates the end user, bound to new connections.
    let ts = templates(&page, &h.id, "cust-7", &h.integrations[0]).await;
    let connections: Vec<Value> = ts
        .iter()
        .enumerate()
        .map(|(k, (t, _))| {
            let mut c = key_connection(&format!("conn {k}"), "canary-session-secret");
            c["templateId"] = json!(t);
            c
        })
        .collect();
    // Another user's id, or a forbidden integration: as if they did not exist.
    page.post(
        "/api/embedded/v1/activations",
        json!({"userId": "cust-8", "integrationId": h.integrations[0], "connections": connections, "dynamicVariables": {"region": "eu"}}),
    )
    .await
    .error(404);
    page.post(
        "/api/embedded/v1/activations",
        json!({"userId": "cust-7", "integrationId": h.integrations[2], "connections": connections, "dynamicVariables": {"region": "eu"}}),
    )
    .await
    .error(404);
    let a = page
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "cust-7", "integrationId": h.integrations[0], "connections": connections, "dynamicVariables": {"region": "eu"}}),
        )
        .await
        .expect(200);
    assert_eq!(a["user"]["externalId"], "cust-7");
    assert!(!a.to_string().contains("canary-session-secret"));
    let aid = a["id"].as_str().unwrap().to_owned();
    let user = w
        .api
        .get(&format!("/api/embedded/v1/hubs/{}/users/cust-7", h.id))
        .await
        .expect(200);
    assert_eq!(user["id"], a["user"]["id"]);
    assert_eq!(
        page.get(&format!("{embed}/integrations")).await.expect(200)["totalConnected"],
        1
    );

    // Reconfigure, then reconnect the ERP: reuse of a connection of another connector is refused,
    // a new connection is made and bound.
    page.put(
        &format!("/api/embedded/v1/activations/{aid}/variables"),
        json!({"dynamicVariables": {"region": "us"}}),
    )
    .await
    .expect(200);
    let bad = page
        .put(
            &format!("/api/embedded/v1/activations/{aid}/variables"),
            json!({"dynamicVariables": {"region": "mars"}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&bad), vec!["dynamicVariables.region"]);
    let (erp_template, _) = ts.iter().find(|(_, c)| *c == h.erp).unwrap().clone();
    let conns = page
        .get(&format!(
            "/api/embedded/v1/hubs/{}/users/cust-7/connections?hub_connector_id={}",
            h.id, h.crm
        ))
        .await
        .expect(200);
    let crm_conn = conns["connections"][0]["id"].as_str().unwrap().to_owned();
    let wrong = page
        .put(
            &format!("/api/embedded/v1/activations/{aid}/connections/{erp_template}"),
            json!({"connectionId": crm_conn}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&wrong), vec!["connectionId"]);
    let replaced = page
        .put(
            &format!("/api/embedded/v1/activations/{aid}/connections/{erp_template}"),
            key_connection("new ERP", "canary-new-erp"),
        )
        .await
        .expect(200);
    assert_eq!(replaced["id"], aid.as_str());
    let erp_conns = w
        .api
        .get(&format!(
            "/api/embedded/v1/hubs/{}/users/cust-7/connections?hub_connector_id={}",
            h.id, h.erp
        ))
        .await
        .expect(200);
    assert_eq!(
        erp_conns["totalCount"], 2,
        "the old connection stays, the new one serves the template"
    );
    let serving = w
        .api
        .get(&format!(
            "/api/embedded/v1/connection-templates/{erp_template}/users/cust-7"
        ))
        .await
        .expect(200);
    assert_eq!(serving["name"], "new ERP");

    // Another user's session cannot touch this activation.
    let s8 = w.api.post(&path("cust-8"), json!({})).await.expect(201);
    let page8 = w.api.with_key(s8["token"].as_str().unwrap());
    page8
        .get(&format!("/api/embedded/v1/activations/{aid}"))
        .await
        .error(404);
    page8
        .delete(&format!("/api/embedded/v1/activations/{aid}"))
        .await
        .error(404);
    page8
        .put(
            &format!("/api/embedded/v1/activations/{aid}/variables"),
            json!({"dynamicVariables": {"region": "eu"}}),
        )
        .await
        .error(404);

    // Another hub is out of reach.
    let other_hub = w
        .api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": w.org, "name": "Other", "primaryConnectorId": h.crm, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
        )
        .await
        .expect(201);
    page.get(&format!(
        "/api/embedded/v1/embed/{}/users/cust-7/integrations",
        other_hub["id"].as_str().unwrap()
    ))
    .await
    .error(404);
    // A session ends when it expires.
    let short = w
        .api
        .post(&path("cust-7"), json!({"ttlSeconds": 1}))
        .await
        .expect(201);
    let short_page = w.api.with_key(short["token"].as_str().unwrap());
    short_page
        .get(&format!("{embed}/integrations"))
        .await
        .expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    let gone = short_page
        .get(&format!("{embed}/integrations"))
        .await
        .error(401);
    assert!(
        gone["message"].as_str().unwrap().contains("expired"),
        "{gone}"
    );

    // Deactivate.
    assert_eq!(
        page.delete(&format!("/api/embedded/v1/activations/{aid}"))
            .await
            .status,
        204
    );
    assert_eq!(
        page.get(&format!("{embed}/integrations")).await.expect(200)["totalConnected"],
        0
    );
}

/// The binary serves the built hub page and embed script.
async fn page_and_script(w: World) {
    let page = reqwest::get(format!("{}/hub/", w.server.url))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors *"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    let asset = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page loads a script")
        .to_owned();
    assert!(asset.starts_with("/hub/assets/"), "{asset}");
    let js = reqwest::get(format!("{}{asset}", w.server.url))
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(js.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let embed = reqwest::get(format!("{}/embed.js", w.server.url))
        .await
        .unwrap();
    assert_eq!(embed.status(), 200);
    assert!(embed.text().await.unwrap().contains("Switchyard"));
    let missing = reqwest::get(format!("{}/hub/assets/nope.js", w.server.url))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_error_shape(&missing.json().await.unwrap(), 404);
}

/// The page shows a schema's fields in the order they were written: keys keep their order.
async fn schema_key_order(w: World) {
    let h = hub(&w).await;
    let schema = json!({"type": "object", "properties": {"zone": {"type": "string"}, "alpha": {"type": "object", "properties": {"y": {"type": "string"}, "b": {"type": "string"}}}, "middle": {"type": "integer"}}});
    let i = w
        .api
        .post(&format!("/api/embedded/v1/hubs/{}/integrations", h.id), json!({"organisationId": w.org, "name": "Ordered", "variablesSchema": schema, "connectionTemplate": {"connectorId": h.crm, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}}))
        .await
        .expect(200);
    let got = w
        .api
        .get(&format!(
            "/api/embedded/v1/embed/{}/users/anyone/integrations/{}",
            h.id,
            i["id"].as_str().unwrap()
        ))
        .await;
    let text = got.body["variablesSchema"].to_string();
    let at = |k: &str| text.find(&format!("\"{k}\"")).unwrap();
    assert!(
        at("zone") < at("alpha") && at("alpha") < at("middle") && at("y") < at("b"),
        "{text}"
    );
}

on_both_databases! {
    schema_order => schema_key_order;
    hub_sessions => sessions;
    hub_page => page_and_script;
}
