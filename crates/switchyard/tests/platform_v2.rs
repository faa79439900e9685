//! Platform API v2 (`/api/v2/o/{organisation_id}/...`): every response checked against Versori's
//! platform spec, and every error case with its status, shape and "nothing written".
mod common;

use common::spec;
use common::*;
use serde_json::{json, Value};

fn users_path(w: &World) -> String {
    format!("/api/v2/o/{}/users", w.org)
}

async fn user_count(w: &World) -> i64 {
    let page = w.api.get(&users_path(w)).await.expect(200);
    page["totalCount"].as_i64().unwrap()
}

/// Create, get by external and internal id, list with search and paging, delete.
async fn end_user_lifecycle(w: World) {
    let path = users_path(&w);
    let alice = w.api.post(&path, json!({"externalId": "alice-42", "displayName": "Alice"})).await.expect(201);
    spec::check(spec::platform(), "EndUser", &alice);
    assert_eq!(alice["externalId"], "alice-42");
    assert_eq!(alice["displayName"], "Alice");
    assert_eq!(alice["organisationId"], w.org.as_str());
    let alice_id = alice["id"].as_str().unwrap().to_owned();
    assert_eq!(alice_id.len(), 26);

    // displayName defaults to "".
    let bob = w.api.post(&path, json!({"externalId": "bob"})).await.expect(201);
    spec::check(spec::platform(), "EndUser", &bob);
    assert_eq!(bob["displayName"], "");
    w.api.post(&path, json!({"externalId": "carol", "displayName": "Carol Danvers"})).await.expect(201);

    // By external id (what the embed SDK uses) and by internal id: the same user.
    let by_ext = w.api.get(&format!("{path}/alice-42")).await.expect(200);
    spec::check(spec::platform(), "EndUser", &by_ext);
    assert_eq!(by_ext, alice);
    assert_eq!(w.api.get(&format!("{path}/{alice_id}")).await.expect(200), alice);

    // List: oldest first, search over id, externalId and displayName, paging.
    let all = w.api.get(&path).await.expect(200);
    spec::check(spec::platform(), "EndUserPage", &all);
    assert_eq!(all["totalCount"], 3);
    let ext: Vec<&str> = all["users"].as_array().unwrap().iter().map(|u| u["externalId"].as_str().unwrap()).collect();
    assert_eq!(ext, ["alice-42", "bob", "carol"]);
    let found = w.api.get(&format!("{path}?search=danvers")).await.expect(200);
    spec::check(spec::platform(), "EndUserPage", &found);
    assert_eq!(found["totalCount"], 1);
    assert_eq!(found["users"][0]["externalId"], "carol");
    assert_eq!(w.api.get(&format!("{path}?search=ALICE")).await.expect(200)["users"][0]["id"], alice_id.as_str());
    assert_eq!(w.api.get(&format!("{path}?search={}", &alice_id[..20])).await.expect(200)["totalCount"], 1);
    assert_eq!(w.api.get(&format!("{path}?search=%25")).await.expect(200)["totalCount"], 0, "LIKE wildcards are literal");
    let p1 = w.api.get(&format!("{path}?first=2")).await.expect(200);
    spec::check(spec::platform(), "EndUserPage", &p1);
    assert_eq!(p1["users"].as_array().unwrap().len(), 2);
    assert_eq!(p1["totalCount"], 3);
    let next = p1["next"].as_str().unwrap();
    assert!(!next.is_empty());
    let p2 = w.api.get(&format!("{path}?first=2&after={next}")).await.expect(200);
    assert_eq!(p2["users"].as_array().unwrap().len(), 1);
    assert_eq!(p2["users"][0]["externalId"], "carol");
    assert_eq!(p2["next"], "");

    // Delete by external id, then by internal id.
    assert_eq!(w.api.delete(&format!("{path}/alice-42")).await.status, 204);
    w.api.get(&format!("{path}/alice-42")).await.error(404);
    w.api.get(&format!("{path}/{alice_id}")).await.error(404);
    w.api.delete(&format!("{path}/alice-42")).await.error(404);
    let bob_id = bob["id"].as_str().unwrap();
    assert_eq!(w.api.delete(&format!("{path}/{bob_id}")).await.status, 204);
    assert_eq!(user_count(&w).await, 1);

    // The external id is free again once its user is gone.
    w.api.post(&path, json!({"externalId": "alice-42"})).await.expect(201);
    assert_eq!(user_count(&w).await, 2);
}

/// A duplicate externalId is a 409; bad bodies are 4xx naming the field; nothing is written.
async fn end_user_errors(w: World) {
    let path = users_path(&w);
    w.api.post(&path, json!({"externalId": "dup", "displayName": "first"})).await.expect(201);
    let e = w.api.post(&path, json!({"externalId": "dup", "displayName": "second"})).await.error(409);
    assert!(e["message"].as_str().unwrap().contains("dup"), "{e}");
    assert_eq!(w.api.get(&format!("{path}/dup")).await.expect(200)["displayName"], "first");

    let e = w.api.post(&path, json!({"displayName": "no id"})).await.error(400);
    assert_eq!(Res::fields(&e), ["externalId"]);
    let e = w.api.post(&path, json!({"externalId": "  "})).await.error(400);
    assert_eq!(Res::fields(&e), ["externalId"]);
    let e = w.api.post(&path, json!({"externalId": 7})).await.error(400);
    assert_eq!(Res::fields(&e), ["externalId"]);
    w.api.get(&format!("{path}?first=0")).await.error(400);
    w.api.get(&format!("{path}?after=not-a-cursor")).await.error(400);
    w.api.get(&format!("{path}/nobody")).await.error(404);
    w.api.delete(&format!("{path}/nobody")).await.error(404);
    assert_eq!(user_count(&w).await, 1, "nothing written by the failed calls");

    // Unauthenticated: 401.
    Api::anonymous(&w.server).get(&path).await.error(401);
    Api::anonymous(&w.server).post(&path, json!({"externalId": "x"})).await.error(401);
    assert_eq!(user_count(&w).await, 1);
}

/// End users are per organisation: the same externalId in two organisations is two users, and
/// neither organisation can see, list or delete the other's.
async fn end_users_are_per_organisation(w: World) {
    let path = users_path(&w);
    let mine = w.api.post(&path, json!({"externalId": "shared-id", "displayName": "A's"})).await.expect(201);
    let (other_org, other) = w.other_org();
    let other_path = format!("/api/v2/o/{other_org}/users");
    let theirs = other.post(&other_path, json!({"externalId": "shared-id", "displayName": "B's"})).await.expect(201);
    assert_ne!(mine["id"], theirs["id"]);
    assert_eq!(theirs["organisationId"], other_org.as_str());

    // B on A's paths, and B naming A's user on its own paths.
    let mine_id = mine["id"].as_str().unwrap();
    other.get(&path).await.error(404);
    other.get(&format!("{path}/shared-id")).await.error(404);
    other.post(&path, json!({"externalId": "intruder"})).await.error(404);
    other.delete(&format!("{path}/shared-id")).await.error(404);
    other.get(&format!("{other_path}/{mine_id}")).await.error(404);
    other.delete(&format!("{other_path}/{mine_id}")).await.error(404);
    let listed: Vec<Value> = other.get(&other_path).await.expect(200)["users"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["displayName"], "B's");

    // A is untouched.
    assert_eq!(w.api.get(&format!("{path}/shared-id")).await.expect(200), mine);
    assert_eq!(user_count(&w).await, 1);
}

const GRANT_SECRET: &str = "canary-grant-secret-5d1e";

fn v2_api_key(id: &str, header: &str) -> Value {
    json!({"type": "api-key", "apiKey": {"id": id, "description": "API key", "name": header, "in": "header"}})
}

fn v2_oauth2(id: &str) -> Value {
    json!({"type": "oauth2", "oauth2": {"id": id, "description": "OAuth", "authorizeUrl": "https://auth.example/authorize", "tokenUrl": "https://auth.example/token",
        "scopes": [{"name": "read"}], "defaultScopes": ["read"],
        "grant": {"type": "authorizationCode", "authorizationCode": {"clientId": "cid-1", "clientSecret": GRANT_SECRET}}}})
}

fn systems_path(w: &World) -> String {
    format!("/api/v2/o/{}/systems", w.org)
}

async fn system_count(w: &World) -> i64 {
    w.api.get(&systems_path(w)).await.expect(200)["totalCount"].as_i64().unwrap()
}

/// Systems in v2's wrapper encoding: create, get, list with search and paging, delete; a v2
/// system is a v1 connector, and a grant's client secret is sealed, never echoed.
async fn system_lifecycle(w: World) {
    let path = systems_path(&w);
    let erp = w
        .api
        .post(&path, json!({"name": "ERP", "domain": "erp.example", "templateBaseUrl": "https://api.erp.example", "authSchemeConfigs": [v2_api_key("apikey", "X-Api-Key")], "labels": {"team": "finance"}}))
        .await
        .expect(201);
    spec::check(spec::platform(), "System", &erp);
    assert_eq!(erp["authSchemeConfigs"], json!([v2_api_key("apikey", "X-Api-Key")]));
    assert_eq!(erp["templateBaseUrl"], "https://api.erp.example");
    assert_eq!(erp["labels"], json!({"team": "finance"}));
    let erp_id = erp["id"].as_str().unwrap().to_owned();

    let crm = w
        .api
        .post(&path, json!({"name": "CRM", "domain": "crm.example", "templateBaseUrl": "https://crm.example/api", "authSchemeConfigs": [v2_oauth2("oauth"), {"type": "basic-auth", "basicAuth": {"id": "basic"}}]}))
        .await
        .expect(201);
    spec::check(spec::platform(), "System", &crm);
    assert!(!crm.to_string().contains(GRANT_SECRET), "the grant secret is never returned: {crm}");
    let grant = &crm["authSchemeConfigs"][0]["oauth2"]["grant"];
    assert_eq!(grant["type"], "authorizationCode");
    assert_eq!(grant["authorizationCode"]["clientId"], "cid-1");
    assert!(grant["authorizationCode"]["credentialId"].is_string(), "the secret went into a credential: {grant}");
    assert_eq!(crm["authSchemeConfigs"][1], json!({"type": "basic-auth", "basicAuth": {"id": "basic", "description": ""}}));

    let got = w.api.get(&format!("{path}/{erp_id}")).await.expect(200);
    spec::check(spec::platform(), "System", &got);
    assert_eq!(got, erp);

    // One model, two faces: the system is a Connect v1 connector too.
    let connector = w.api.get(&format!("/api/connect/v1/o/{}/connectors/{erp_id}", w.org)).await.expect(200);
    assert_eq!(connector["name"], "ERP");
    assert_eq!(connector["authSchemeConfigs"][0]["schemeType"], "api-key");

    let all = w.api.get(&path).await.expect(200);
    spec::check(spec::platform(), "SystemPage", &all);
    assert_eq!(all["totalCount"], 2);
    assert_eq!(all["items"][0]["id"], erp_id.as_str());
    let found = w.api.get(&format!("{path}?search=crm.EXAMPLE")).await.expect(200);
    assert_eq!(found["totalCount"], 1);
    assert_eq!(found["items"][0]["name"], "CRM");
    let p1 = w.api.get(&format!("{path}?first=1")).await.expect(200);
    spec::check(spec::platform(), "SystemPage", &p1);
    let p2 = w.api.get(&format!("{path}?first=1&after={}", p1["next"].as_str().unwrap())).await.expect(200);
    assert_eq!(p2["items"][0]["name"], "CRM");

    // In use (a v1 hub's primary connector): refused, and nothing removed.
    let hub = json!({"organisationId": w.org, "name": "Main hub", "primaryConnectorId": erp_id, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")});
    w.api.post("/api/embedded/v1/hubs", hub).await.expect(201);
    w.api.delete(&format!("{path}/{erp_id}")).await.error(409);
    assert_eq!(w.api.get(&format!("{path}/{erp_id}")).await.expect(200), erp);

    let crm_id = crm["id"].as_str().unwrap();
    assert_eq!(w.api.delete(&format!("{path}/{crm_id}")).await.status, 204);
    w.api.get(&format!("{path}/{crm_id}")).await.error(404);
    w.api.delete(&format!("{path}/{crm_id}")).await.error(404);
    assert_eq!(system_count(&w).await, 1);
}

/// Bad systems: every problem named with its path; nothing written.
async fn system_errors(w: World) {
    let path = systems_path(&w);
    let ok = |schemes: Value| json!({"name": "S", "domain": "s.example", "templateBaseUrl": "https://s.example", "authSchemeConfigs": schemes});
    let e = w.api.post(&path, ok(json!([{"apiKey": {"id": "a", "name": "X", "in": "header"}}]))).await.error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[0].type"]);
    let e = w.api.post(&path, ok(json!([{"type": "telepathy"}]))).await.error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[0].type"]);
    let e = w.api.post(&path, ok(json!([{"type": "api-key"}]))).await.error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[0].apiKey"]);
    let e = w.api.post(&path, ok(json!([v2_api_key("same", "X"), v2_api_key("same", "Y")]))).await.error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[1].id"]);
    let e = w
        .api
        .post(&path, json!({"name": " ", "domain": "d", "templateBaseUrl": "not a url", "authSchemeConfigs": [], "labels": {"1bad": "x"}}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["name", "templateBaseUrl", "labels.1bad"]);
    let e = w.api.post(&path, json!({"name": "S", "templateBaseUrl": "https://s.example", "authSchemeConfigs": []})).await.error(400);
    assert_eq!(Res::fields(&e), ["domain"]);
    w.api.get(&format!("{path}/01ARZ3NDEKTSV4RRFFQ69G5FAV")).await.error(404);
    w.api.delete(&format!("{path}/01ARZ3NDEKTSV4RRFFQ69G5FAV")).await.error(404);
    assert_eq!(system_count(&w).await, 0, "nothing written");
    assert_eq!(w.api.get(&format!("/api/connect/v1/o/{}/connectors", w.org)).await.expect(200)["totalCount"], 0);

    // Another organisation sees none of it.
    let s = w.api.post(&path, ok(json!([v2_api_key("k", "X")]))).await.expect(201);
    let (other_org, other) = w.other_org();
    other.get(&format!("{path}/{}", s["id"].as_str().unwrap())).await.error(404);
    other.get(&format!("/api/v2/o/{other_org}/systems/{}", s["id"].as_str().unwrap())).await.error(404);
    other.delete(&format!("/api/v2/o/{other_org}/systems/{}", s["id"].as_str().unwrap())).await.error(404);
    assert_eq!(other.get(&format!("/api/v2/o/{other_org}/systems")).await.expect(200)["totalCount"], 0);
    assert_eq!(system_count(&w).await, 1);
}

async fn create_system(w: &World, name: &str) -> Value {
    let body = json!({"name": name, "domain": format!("{}.example", name.to_lowercase()), "templateBaseUrl": format!("https://api.{}.example", name.to_lowercase()), "authSchemeConfigs": [v2_api_key("apikey", "X-Api-Key")]});
    w.api.post(&systems_path(w), body).await.expect(201)
}

/// A project comes with one `draft` environment; templates link systems into it under names,
/// static or dynamic, and are listed per project and per environment.
async fn projects_and_templates(w: World) {
    let o = &w.org;
    let erp = create_system(&w, "ERP").await;
    let crm = create_system(&w, "CRM").await;
    let project = w.api.post(&format!("/api/v2/o/{o}/projects"), json!({"name": "Orders sync"})).await.expect(200);
    spec::check(spec::platform(), "Project", &project);
    assert_eq!(project["name"], "Orders sync");
    let envs = project["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["status"], "draft");
    assert_eq!(envs[0]["name"], "production");
    let pid = project["id"].as_str().unwrap().to_owned();
    let env_id = envs[0]["id"].as_str().unwrap().to_owned();
    let got = w.api.get(&format!("/api/v2/o/{o}/projects/{pid}")).await.expect(200);
    spec::check(spec::platform(), "Project", &got);
    assert_eq!(got, project);

    let second = w.api.post(&format!("/api/v2/o/{o}/projects"), json!({"name": "Second"})).await.expect(200);
    let listed = w.api.get(&format!("/api/v2/o/{o}/projects")).await.expect(200);
    spec::check(spec::platform(), "ProjectsList", &listed);
    let names: Vec<&str> = listed["projects"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Orders sync", "Second"]);
    assert_eq!(listed["projects"][0]["environments"], project["environments"]);
    assert_eq!(w.api.delete(&format!("/api/v2/o/{o}/projects/{}", second["id"].as_str().unwrap())).await.status, 204);
    assert_eq!(w.api.get(&format!("/api/v2/o/{o}/projects")).await.expect(200)["projects"].as_array().unwrap().len(), 1);

    let tpath = format!("/api/v2/o/{o}/projects/{pid}/connection-templates");
    let t_erp = w.api.post(&tpath, json!({"systemId": erp["id"], "name": "erp", "environmentId": env_id})).await.expect(200);
    spec::check(spec::platform(), "ConnectionTemplate", &t_erp);
    assert_eq!(t_erp["id"], erp["id"], "a template's id is its system's");
    assert_eq!(t_erp["dynamic"], false);
    assert_eq!(t_erp["authSchemeConfigs"], erp["authSchemeConfigs"]);
    assert_eq!(t_erp["templateBaseUrl"], "https://api.erp.example");
    assert_ne!(t_erp["connectionTemplateId"], erp["id"]);
    // environmentId left out: the project's first environment.
    let t_crm = w.api.post(&tpath, json!({"systemId": crm["id"], "name": "crm", "dynamic": true})).await.expect(200);
    spec::check(spec::platform(), "ConnectionTemplate", &t_crm);
    assert_eq!(t_crm["dynamic"], true);

    let list = w.api.get(&tpath).await.expect(200);
    spec::check(spec::platform(), "EnvironmentSystemPage", &list);
    assert_eq!(list["totalCount"], 2);
    assert_eq!(list["items"], json!([t_erp, t_crm]));
    assert_eq!(w.api.get(&format!("{tpath}?env_id={env_id}")).await.expect(200)["items"], json!([t_erp, t_crm]));
    assert_eq!(w.api.get(&format!("{tpath}?env_id=01ARZ3NDEKTSV4RRFFQ69G5FAV")).await.expect(200)["totalCount"], 0);

    // Errors, nothing written: a duplicate name, unknown system/environment, empty name.
    let e = w.api.post(&tpath, json!({"systemId": crm["id"], "name": "erp"})).await.error(409);
    assert!(e["message"].as_str().unwrap().contains("erp"), "{e}");
    let e = w.api.post(&tpath, json!({"systemId": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "name": " ", "environmentId": "nope"})).await.error(400);
    assert_eq!(Res::fields(&e), ["name", "environmentId", "systemId"]);
    w.api
        .post(&format!("/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/connection-templates"), json!({"systemId": crm["id"], "name": "x"}))
        .await
        .error(404);
    let e = w.api.post(&format!("/api/v2/o/{o}/projects"), json!({"name": ""})).await.error(400);
    assert_eq!(Res::fields(&e), ["name"]);
    assert_eq!(w.api.get(&tpath).await.expect(200)["totalCount"], 2);

    // A linked system cannot be deleted.
    w.api.delete(&format!("{}/{}", systems_path(&w), erp["id"].as_str().unwrap())).await.error(409);
    assert_eq!(w.api.get(&tpath).await.expect(200)["totalCount"], 2);

    // Another organisation sees none of it.
    let (other_org, other) = w.other_org();
    other.get(&format!("/api/v2/o/{o}/projects/{pid}")).await.error(404);
    other.get(&tpath).await.error(404);
    other.get(&format!("/api/v2/o/{other_org}/projects/{pid}")).await.error(404);
    other.get(&format!("/api/v2/o/{other_org}/projects/{pid}/connection-templates")).await.error(404);
    other.post(&format!("/api/v2/o/{other_org}/projects"), json!({"name": "theirs"})).await.expect(200);
    other.get(&format!("/api/v2/o/{o}/projects")).await.error(404);
    let theirs = other.get(&format!("/api/v2/o/{other_org}/projects")).await.expect(200);
    assert_eq!(theirs["projects"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["projects"][0]["name"], "theirs");
    let e = other.post(&format!("/api/v2/o/{other_org}/projects/{pid}/connection-templates"), json!({"systemId": erp["id"], "name": "steal"})).await.error(404);
    assert_error_shape(&e, 404);

    // Deleting the project takes its templates; the systems stay and are free again.
    assert_eq!(w.api.delete(&format!("/api/v2/o/{o}/projects/{pid}")).await.status, 204);
    w.api.get(&format!("/api/v2/o/{o}/projects/{pid}")).await.error(404);
    w.api.get(&tpath).await.error(404);
    w.api.delete(&format!("/api/v2/o/{o}/projects/{pid}")).await.error(404);
    assert_eq!(w.api.delete(&format!("{}/{}", systems_path(&w), erp["id"].as_str().unwrap())).await.status, 204);
    assert_eq!(system_count(&w).await, 1);
}

on_both_databases! {
    projects_with_templates => projects_and_templates;
    system_crud => system_lifecycle;
    system_error_cases => system_errors;
    end_user_crud => end_user_lifecycle;
    end_user_error_cases => end_user_errors;
    end_user_isolation => end_users_are_per_organisation;
}
