//! Every end user has its primary connection, whoever created it (issue 17): a hub session may
//! carry it (the user is created with the session), or the session's first activation carries it
//! (`primaryConnection`) or binds it (a primary template); an activation that would create a user
//! with neither is refused and creates nothing. Each answer is checked against Versori's schemas.

use crate::common::spec;
use crate::common::*;
use serde_json::{json, Value};

fn key_connection(name: &str, secret: &str) -> Value {
    json!({"name": name, "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Api-Key"), "credential": {"name": "key", "type": "string", "data": {"value": secret}}}]}, "variables": []})
}

struct Setup {
    hub: String,
    crm: String,
    erp: String,
    /// Needs only the ERP (no primary template).
    erp_only: String,
    /// Needs the CRM, the hub's primary connector (a primary template).
    with_crm: String,
}

async fn setup(w: &World) -> Setup {
    let o = &w.org;
    let mut ids = Vec::new();
    for name in ["CRM", "ERP"] {
        let c = w
            .api
            .post(
                &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
                json!({"name": name, "baseUrl": "https://x.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]}),
            )
            .await
            .expect(201);
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let (crm, erp) = (ids[0].clone(), ids[1].clone());
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
    for (name, connector) in [("ERP only", erp.clone()), ("With CRM", crm.clone())] {
        let i = w
            .api
            .post(
                &format!("/api/embedded/v1/hubs/{hub}/integrations"),
                json!({"organisationId": o, "name": name, "connectionTemplate": {"connectorId": connector, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}}),
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
        integrations.push(i);
    }
    Setup {
        hub,
        crm,
        erp: erp.clone(),
        erp_only: integrations[0].clone(),
        with_crm: integrations[1].clone(),
    }
}

async fn template_id(page: &Api, hub: &str, user: &str, integration: &str) -> String {
    page.get(&format!(
        "/api/embedded/v1/embed/{hub}/users/{user}/integrations/{integration}"
    ))
    .await
    .expect(200)["connectionTemplates"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The user, its activation and the activation's answer all valid against Versori's schemas, the
/// primary connection being `primary_name`'s, to the CRM.
async fn check_valid(w: &World, s: &Setup, user: &str, activation: &Value, primary_name: &str) {
    let defs = spec::embedded();
    spec::check(defs, "Activation", activation);
    let id = activation["id"].as_str().unwrap();
    let got = w
        .api
        .get(&format!("/api/embedded/v1/activations/{id}"))
        .await
        .expect(200);
    spec::check(defs, "Activation", &got);
    let u = w
        .api
        .get(&format!("/api/embedded/v1/hubs/{}/users/{user}", s.hub))
        .await
        .expect(200);
    spec::check(defs, "EndUser", &u);
    assert_eq!(u["primaryConnection"]["name"], primary_name, "{u}");
    let to_crm = w
        .api
        .get(&format!(
            "/api/embedded/v1/hubs/{}/users/{user}/connections?hub_connector_id={}",
            s.hub, s.crm
        ))
        .await
        .expect(200);
    assert!(
        to_crm["connections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == u["primaryConnection"]["id"]),
        "the primary connection is to the CRM: {to_crm}"
    );
    assert_eq!(
        got["user"]["primaryConnection"]["id"],
        u["primaryConnection"]["id"]
    );
}

async fn primary(w: World) {
    let s = setup(&w).await;
    let sessions = |user: &str| format!("/api/embedded/v1/hubs/{}/users/{user}/sessions", s.hub);

    // 1. A session without a primary connection: the page learns the user does not exist yet
    // and what the primary connection is to.
    let token = w.api.post(&sessions("p-1"), json!({})).await.expect(201)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = w.api.with_key(&token);
    let info = page.get("/api/embedded/v1/session").await.expect(200);
    assert_eq!(info["endUserExists"], false, "{info}");
    let t = &info["primaryConnectionTemplate"];
    assert_eq!(
        (
            t["id"].as_str(),
            t["connectorId"].as_str(),
            t["name"].as_str(),
            t["isPrimary"].as_bool()
        ),
        (
            Some("primary"),
            Some(s.crm.as_str()),
            Some("CRM"),
            Some(true)
        ),
        "{info}"
    );
    // An integration without a primary template, and no primaryConnection: refused, nothing made.
    let erp_template = template_id(&page, &s.hub, "p-1", &s.erp_only).await;
    let mut erp = key_connection("My ERP", "erp-secret");
    erp["templateId"] = json!(erp_template);
    let body = json!({"userId": "p-1", "integrationId": s.erp_only, "connections": [erp]});
    let e = page
        .post("/api/embedded/v1/activations", body.clone())
        .await
        .error(400);
    assert_eq!(Res::fields(&e), vec!["primaryConnection"], "{e}");
    assert!(e["message"].as_str().unwrap().contains("CRM"), "{e}");
    w.api
        .get(&format!("/api/embedded/v1/hubs/{}/users/p-1", s.hub))
        .await
        .error(404);
    // A primary connection that is not sound: its field named, nothing made.
    let mut bad = body.clone();
    bad["primaryConnection"] = json!({"name": "My CRM", "credentials": {"action": [{"authSchemeConfig": api_key_scheme("nope", "X-Api-Key"), "credential": {"name": "key", "type": "string", "data": {"value": "x"}}}]}});
    let e = page
        .post("/api/embedded/v1/activations", bad)
        .await
        .error(400);
    assert!(
        !Res::fields(&e).is_empty()
            && Res::fields(&e)
                .iter()
                .all(|f| f.starts_with("primaryConnection.")),
        "{e}"
    );
    w.api
        .get(&format!("/api/embedded/v1/hubs/{}/users/p-1", s.hub))
        .await
        .error(404);
    // With it: the user is created with its primary connection.
    let mut good = body.clone();
    good["primaryConnection"] = key_connection("My CRM", "crm-secret");
    let a = page
        .post("/api/embedded/v1/activations", good)
        .await
        .expect(200);
    assert!(!a.to_string().contains("crm-secret"), "{a}");
    check_valid(&w, &s, "p-1", &a, "My CRM").await;
    let info = page.get("/api/embedded/v1/session").await.expect(200);
    assert_eq!(info["endUserExists"], true, "{info}");
    assert!(info.get("primaryConnectionTemplate").is_none(), "{info}");
    // The connections the page lists for the user now include both.
    let conns = page
        .get(&format!(
            "/api/embedded/v1/hubs/{}/users/p-1/connections",
            s.hub
        ))
        .await
        .expect(200);
    assert_eq!(conns["connections"].as_array().unwrap().len(), 2, "{conns}");

    // 2. An integration with a primary template: its connection becomes the primary one.
    let token = w.api.post(&sessions("p-2"), json!({})).await.expect(201)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = w.api.with_key(&token);
    let crm_template = template_id(&page, &s.hub, "p-2", &s.with_crm).await;
    let mut crm = key_connection("CRM for p-2", "crm-secret-2");
    crm["templateId"] = json!(crm_template);
    let a = page
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "p-2", "integrationId": s.with_crm, "connections": [crm]}),
        )
        .await
        .expect(200);
    check_valid(&w, &s, "p-2", &a, "CRM for p-2").await;

    // 3. The session request carries the primary connection: the user exists before the page
    // opens; an unsound one creates neither user nor session.
    let e = w
        .api
        .post(
            &sessions("p-3"),
            json!({"primaryConnection": {"name": "x", "credentials": {"action": [{"authSchemeConfig": api_key_scheme("nope", "X-Api-Key"), "credential": {"name": "key", "type": "string", "data": {"value": "x"}}}]}}}),
        )
        .await
        .error(400);
    assert!(
        !Res::fields(&e).is_empty()
            && Res::fields(&e)
                .iter()
                .all(|f| f.starts_with("primaryConnection.")),
        "{e}"
    );
    w.api
        .get(&format!("/api/embedded/v1/hubs/{}/users/p-3", s.hub))
        .await
        .error(404);
    let token = w
        .api
        .post(
            &sessions("p-3"),
            json!({"primaryConnection": key_connection("CRM of p-3", "crm-secret-3")}),
        )
        .await
        .expect(201)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let u = w
        .api
        .get(&format!("/api/embedded/v1/hubs/{}/users/p-3", s.hub))
        .await
        .expect(200);
    spec::check(spec::embedded(), "EndUser", &u);
    assert_eq!(u["primaryConnection"]["name"], "CRM of p-3");
    let page = w.api.with_key(&token);
    assert_eq!(
        page.get("/api/embedded/v1/session").await.expect(200)["endUserExists"],
        true
    );
    // Its first activation needs nothing more.
    let erp_template = template_id(&page, &s.hub, "p-3", &s.erp_only).await;
    let mut erp = key_connection("ERP of p-3", "erp-secret-3");
    erp["templateId"] = json!(erp_template);
    let a = page
        .post(
            "/api/embedded/v1/activations",
            json!({"userId": "p-3", "integrationId": s.erp_only, "connections": [erp]}),
        )
        .await
        .expect(200);
    check_valid(&w, &s, "p-3", &a, "CRM of p-3").await;
    // A later session's primaryConnection changes nothing for a user who exists.
    w.api
        .post(
            &sessions("p-3"),
            json!({"primaryConnection": key_connection("ignored", "crm-secret-4")}),
        )
        .await
        .expect(201);
    let u = w
        .api
        .get(&format!("/api/embedded/v1/hubs/{}/users/p-3", s.hub))
        .await
        .expect(200);
    assert_eq!(u["primaryConnection"]["name"], "CRM of p-3");
}

/// The manage view's saved connections: each with what uses it; one nothing uses can be removed,
/// a used one or the primary one is refused with the reason.
async fn saved_connections(w: World) {
    let s = setup(&w).await;
    let session = |user: &str| {
        let path = format!("/api/embedded/v1/hubs/{}/users/{user}/sessions", s.hub);
        let api = w.api.clone();
        async move {
            api.post(&path, json!({})).await.expect(201)["token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let page = w.api.with_key(&session("s-1").await);
    let saved = format!(
        "/api/embedded/v1/embed/{}/users/s-1/saved-connections",
        s.hub
    );
    // Before the user exists: none, and no error.
    let list = page.get(&saved).await.expect(200);
    assert_eq!(list["connections"], json!([]), "{list}");
    let erp_template = template_id(&page, &s.hub, "s-1", &s.erp_only).await;
    let mut erp = key_connection("My ERP", "erp-secret");
    erp["templateId"] = json!(erp_template.clone());
    page.post(
        "/api/embedded/v1/activations",
        json!({"userId": "s-1", "integrationId": s.erp_only, "connections": [erp], "primaryConnection": key_connection("My CRM", "crm-secret")}),
    )
    .await
    .expect(200);
    let old = w
        .api
        .post(
            &format!("/api/embedded/v1/hubs/{}/users/s-1/connections", s.hub),
            json!({"connectorId": s.erp, "connection": key_connection("Old ERP", "old-secret")}),
        )
        .await;
    assert!(old.status == 200 || old.status == 201, "{:?}", old.body);
    let list = page.get(&saved).await.expect(200);
    assert!(!list.to_string().contains("secret"), "{list}");
    let by_name = |name: &str| {
        list["connections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {list}"))
            .clone()
    };
    let (crm, erp, old) = (by_name("My CRM"), by_name("My ERP"), by_name("Old ERP"));
    assert_eq!(
        (crm["isPrimary"].as_bool(), crm["connectorName"].as_str()),
        (Some(true), Some("CRM"))
    );
    assert_eq!(erp["usedBy"][0]["integrationName"], "ERP only", "{erp}");
    assert_eq!(
        erp["usedBy"][0]["templateId"],
        erp_template.as_str(),
        "{erp}"
    );
    assert_eq!(
        (old["usedBy"].clone(), old["needsAttention"].as_bool()),
        (json!([]), Some(false))
    );
    let del = |c: &Value| format!("{saved}/{}", c["id"].as_str().unwrap());
    let e = page.delete(&del(&crm)).await.error(409);
    assert!(
        e["message"].as_str().unwrap().contains("main CRM account"),
        "{e}"
    );
    let e = page.delete(&del(&erp)).await.error(409);
    assert!(
        e["message"].as_str().unwrap().contains("used by ERP only"),
        "{e}"
    );
    page.delete(&del(&old)).await.expect(204);
    page.delete(&del(&old)).await.error(404);
    let list = page.get(&saved).await.expect(200);
    assert_eq!(list["connections"].as_array().unwrap().len(), 2, "{list}");
    // Another user's session cannot see or remove them.
    let other = w.api.with_key(&session("s-2").await);
    let e = other.delete(&del(&erp)).await;
    assert!(e.status == 403 || e.status == 404, "{:?}", e.body);
    let list = page.get(&saved).await.expect(200);
    assert_eq!(list["connections"].as_array().unwrap().len(), 2, "{list}");
}

on_both_databases! {
    hub_primary => primary;
    hub_saved_connections => saved_connections;
}
