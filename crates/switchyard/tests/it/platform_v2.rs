//! Platform API v2 (`/api/v2/o/{organisation_id}/...`): every response checked against Versori's
//! platform spec, and every error case with its status, shape and "nothing written".

use crate::common::spec;
use crate::common::*;
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
    let alice = w
        .api
        .post(
            &path,
            json!({"externalId": "alice-42", "displayName": "Alice"}),
        )
        .await
        .expect(201);
    spec::check(spec::platform(), "EndUser", &alice);
    assert_eq!(alice["externalId"], "alice-42");
    assert_eq!(alice["displayName"], "Alice");
    assert_eq!(alice["organisationId"], w.org.as_str());
    let alice_id = alice["id"].as_str().unwrap().to_owned();
    assert_eq!(alice_id.len(), 26);

    // displayName defaults to "".
    let bob = w
        .api
        .post(&path, json!({"externalId": "bob"}))
        .await
        .expect(201);
    spec::check(spec::platform(), "EndUser", &bob);
    assert_eq!(bob["displayName"], "");
    w.api
        .post(
            &path,
            json!({"externalId": "carol", "displayName": "Carol Danvers"}),
        )
        .await
        .expect(201);

    // By external id (what the embed SDK uses) and by internal id: the same user.
    let by_ext = w.api.get(&format!("{path}/alice-42")).await.expect(200);
    spec::check(spec::platform(), "EndUser", &by_ext);
    assert_eq!(by_ext, alice);
    assert_eq!(
        w.api.get(&format!("{path}/{alice_id}")).await.expect(200),
        alice
    );

    // List: oldest first, search over id, externalId and displayName, paging.
    let all = w.api.get(&path).await.expect(200);
    spec::check(spec::platform(), "EndUserPage", &all);
    assert_eq!(all["totalCount"], 3);
    let ext: Vec<&str> = all["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["externalId"].as_str().unwrap())
        .collect();
    assert_eq!(ext, ["alice-42", "bob", "carol"]);
    let found = w
        .api
        .get(&format!("{path}?search=danvers"))
        .await
        .expect(200);
    spec::check(spec::platform(), "EndUserPage", &found);
    assert_eq!(found["totalCount"], 1);
    assert_eq!(found["users"][0]["externalId"], "carol");
    assert_eq!(
        w.api.get(&format!("{path}?search=ALICE")).await.expect(200)["users"][0]["id"],
        alice_id.as_str()
    );
    assert_eq!(
        w.api
            .get(&format!("{path}?search={}", &alice_id[..20]))
            .await
            .expect(200)["totalCount"],
        1
    );
    assert_eq!(
        w.api.get(&format!("{path}?search=%25")).await.expect(200)["totalCount"],
        0,
        "LIKE wildcards are literal"
    );
    let p1 = w.api.get(&format!("{path}?first=2")).await.expect(200);
    spec::check(spec::platform(), "EndUserPage", &p1);
    assert_eq!(p1["users"].as_array().unwrap().len(), 2);
    assert_eq!(p1["totalCount"], 3);
    let next = p1["next"].as_str().unwrap();
    assert!(!next.is_empty());
    let p2 = w
        .api
        .get(&format!("{path}?first=2&after={next}"))
        .await
        .expect(200);
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
    w.api
        .post(&path, json!({"externalId": "alice-42"}))
        .await
        .expect(201);
    assert_eq!(user_count(&w).await, 2);
}

/// A duplicate externalId is a 409; bad bodies are 4xx naming the field; nothing is written.
async fn end_user_errors(w: World) {
    let path = users_path(&w);
    w.api
        .post(&path, json!({"externalId": "dup", "displayName": "first"}))
        .await
        .expect(201);
    let e = w
        .api
        .post(&path, json!({"externalId": "dup", "displayName": "second"}))
        .await
        .error(409);
    assert!(e["message"].as_str().unwrap().contains("dup"), "{e}");
    assert_eq!(
        w.api.get(&format!("{path}/dup")).await.expect(200)["displayName"],
        "first"
    );

    let e = w
        .api
        .post(&path, json!({"displayName": "no id"}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["externalId"]);
    let e = w
        .api
        .post(&path, json!({"externalId": "  "}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["externalId"]);
    let e = w.api.post(&path, json!({"externalId": 7})).await.error(400);
    assert_eq!(Res::fields(&e), ["externalId"]);
    w.api.get(&format!("{path}?first=0")).await.error(400);
    w.api
        .get(&format!("{path}?after=not-a-cursor"))
        .await
        .error(400);
    w.api.get(&format!("{path}/nobody")).await.error(404);
    w.api.delete(&format!("{path}/nobody")).await.error(404);
    assert_eq!(
        user_count(&w).await,
        1,
        "nothing written by the failed calls"
    );

    // Unauthenticated: 401.
    Api::anonymous(&w.server).get(&path).await.error(401);
    Api::anonymous(&w.server)
        .post(&path, json!({"externalId": "x"}))
        .await
        .error(401);
    assert_eq!(user_count(&w).await, 1);
}

/// End users are per organisation: the same externalId in two organisations is two users, and
/// neither organisation can see, list or delete the other's.
async fn end_users_are_per_organisation(w: World) {
    let path = users_path(&w);
    let mine = w
        .api
        .post(
            &path,
            json!({"externalId": "shared-id", "displayName": "A's"}),
        )
        .await
        .expect(201);
    let (other_org, other) = w.other_org();
    let other_path = format!("/api/v2/o/{other_org}/users");
    let theirs = other
        .post(
            &other_path,
            json!({"externalId": "shared-id", "displayName": "B's"}),
        )
        .await
        .expect(201);
    assert_ne!(mine["id"], theirs["id"]);
    assert_eq!(theirs["organisationId"], other_org.as_str());

    // B on A's paths, and B naming A's user on its own paths.
    let mine_id = mine["id"].as_str().unwrap();
    other.get(&path).await.error(404);
    other.get(&format!("{path}/shared-id")).await.error(404);
    other
        .post(&path, json!({"externalId": "intruder"}))
        .await
        .error(404);
    other.delete(&format!("{path}/shared-id")).await.error(404);
    other
        .get(&format!("{other_path}/{mine_id}"))
        .await
        .error(404);
    other
        .delete(&format!("{other_path}/{mine_id}"))
        .await
        .error(404);
    let listed: Vec<Value> = other.get(&other_path).await.expect(200)["users"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["displayName"], "B's");

    // A is untouched.
    assert_eq!(
        w.api.get(&format!("{path}/shared-id")).await.expect(200),
        mine
    );
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
    w.api.get(&systems_path(w)).await.expect(200)["totalCount"]
        .as_i64()
        .unwrap()
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
    assert_eq!(
        erp["authSchemeConfigs"],
        json!([v2_api_key("apikey", "X-Api-Key")])
    );
    assert_eq!(erp["templateBaseUrl"], "https://api.erp.example");
    assert_eq!(erp["labels"], json!({"team": "finance"}));
    let erp_id = erp["id"].as_str().unwrap().to_owned();

    let crm = w
        .api
        .post(&path, json!({"name": "CRM", "domain": "crm.example", "templateBaseUrl": "https://crm.example/api", "authSchemeConfigs": [v2_oauth2("oauth"), {"type": "basic-auth", "basicAuth": {"id": "basic"}}]}))
        .await
        .expect(201);
    spec::check(spec::platform(), "System", &crm);
    assert!(
        !crm.to_string().contains(GRANT_SECRET),
        "the grant secret is never returned: {crm}"
    );
    let grant = &crm["authSchemeConfigs"][0]["oauth2"]["grant"];
    assert_eq!(grant["type"], "authorizationCode");
    assert_eq!(grant["authorizationCode"]["clientId"], "cid-1");
    assert!(
        grant["authorizationCode"]["credentialId"].is_string(),
        "the secret went into a credential: {grant}"
    );
    assert_eq!(
        crm["authSchemeConfigs"][1],
        json!({"type": "basic-auth", "basicAuth": {"id": "basic", "description": ""}})
    );

    let got = w.api.get(&format!("{path}/{erp_id}")).await.expect(200);
    spec::check(spec::platform(), "System", &got);
    assert_eq!(got, erp);

    // One model, two faces: the system is a Connect v1 connector too.
    let connector = w
        .api
        .get(&format!("/api/connect/v1/o/{}/connectors/{erp_id}", w.org))
        .await
        .expect(200);
    assert_eq!(connector["name"], "ERP");
    assert_eq!(connector["authSchemeConfigs"][0]["schemeType"], "api-key");

    let all = w.api.get(&path).await.expect(200);
    spec::check(spec::platform(), "SystemPage", &all);
    assert_eq!(all["totalCount"], 2);
    assert_eq!(all["items"][0]["id"], erp_id.as_str());
    let found = w
        .api
        .get(&format!("{path}?search=crm.EXAMPLE"))
        .await
        .expect(200);
    assert_eq!(found["totalCount"], 1);
    assert_eq!(found["items"][0]["name"], "CRM");
    let p1 = w.api.get(&format!("{path}?first=1")).await.expect(200);
    spec::check(spec::platform(), "SystemPage", &p1);
    let p2 = w
        .api
        .get(&format!(
            "{path}?first=1&after={}",
            p1["next"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(p2["items"][0]["name"], "CRM");

    // In use (a v1 hub's primary connector): refused, and nothing removed.
    let hub = json!({"organisationId": w.org, "name": "Main hub", "primaryConnectorId": erp_id, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")});
    w.api.post("/api/embedded/v1/hubs", hub).await.expect(201);
    w.api.delete(&format!("{path}/{erp_id}")).await.error(409);
    assert_eq!(
        w.api.get(&format!("{path}/{erp_id}")).await.expect(200),
        erp
    );

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
    let e = w
        .api
        .post(
            &path,
            ok(json!([{"apiKey": {"id": "a", "name": "X", "in": "header"}}])),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[0].type"]);
    let e = w
        .api
        .post(&path, ok(json!([{"type": "telepathy"}])))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[0].type"]);
    let e = w
        .api
        .post(&path, ok(json!([{"type": "api-key"}])))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[0].apiKey"]);
    let e = w
        .api
        .post(
            &path,
            ok(json!([v2_api_key("same", "X"), v2_api_key("same", "Y")])),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[1].id"]);
    let e = w
        .api
        .post(&path, json!({"name": " ", "domain": "d", "templateBaseUrl": "not a url", "authSchemeConfigs": [], "labels": {"1bad": "x"}}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["name", "templateBaseUrl", "labels.1bad"]);
    let e = w
        .api
        .post(
            &path,
            json!({"name": "S", "templateBaseUrl": "https://s.example", "authSchemeConfigs": []}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["domain"]);
    w.api
        .get(&format!("{path}/01ARZ3NDEKTSV4RRFFQ69G5FAV"))
        .await
        .error(404);
    w.api
        .delete(&format!("{path}/01ARZ3NDEKTSV4RRFFQ69G5FAV"))
        .await
        .error(404);
    assert_eq!(system_count(&w).await, 0, "nothing written");
    assert_eq!(
        w.api
            .get(&format!("/api/connect/v1/o/{}/connectors", w.org))
            .await
            .expect(200)["totalCount"],
        0
    );

    // Another organisation sees none of it.
    let s = w
        .api
        .post(&path, ok(json!([v2_api_key("k", "X")])))
        .await
        .expect(201);
    let (other_org, other) = w.other_org();
    other
        .get(&format!("{path}/{}", s["id"].as_str().unwrap()))
        .await
        .error(404);
    other
        .get(&format!(
            "/api/v2/o/{other_org}/systems/{}",
            s["id"].as_str().unwrap()
        ))
        .await
        .error(404);
    other
        .delete(&format!(
            "/api/v2/o/{other_org}/systems/{}",
            s["id"].as_str().unwrap()
        ))
        .await
        .error(404);
    assert_eq!(
        other
            .get(&format!("/api/v2/o/{other_org}/systems"))
            .await
            .expect(200)["totalCount"],
        0
    );
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
    let project = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects"),
            json!({"name": "Orders sync"}),
        )
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &project);
    assert_eq!(project["name"], "Orders sync");
    let envs = project["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["status"], "draft");
    assert_eq!(envs[0]["name"], "production");
    let pid = project["id"].as_str().unwrap().to_owned();
    let env_id = envs[0]["id"].as_str().unwrap().to_owned();
    let got = w
        .api
        .get(&format!("/api/v2/o/{o}/projects/{pid}"))
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &got);
    assert_eq!(got, project);

    let second = w
        .api
        .post(
            &format!("/api/v2/o/{o}/projects"),
            json!({"name": "Second"}),
        )
        .await
        .expect(200);
    let listed = w
        .api
        .get(&format!("/api/v2/o/{o}/projects"))
        .await
        .expect(200);
    spec::check(spec::platform(), "ProjectsList", &listed);
    let names: Vec<&str> = listed["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Orders sync", "Second"]);
    assert_eq!(
        listed["projects"][0]["environments"],
        project["environments"]
    );
    assert_eq!(
        w.api
            .delete(&format!(
                "/api/v2/o/{o}/projects/{}",
                second["id"].as_str().unwrap()
            ))
            .await
            .status,
        204
    );
    assert_eq!(
        w.api
            .get(&format!("/api/v2/o/{o}/projects"))
            .await
            .expect(200)["projects"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let tpath = format!("/api/v2/o/{o}/projects/{pid}/connection-templates");
    let t_erp = w
        .api
        .post(
            &tpath,
            json!({"systemId": erp["id"], "name": "erp", "environmentId": env_id}),
        )
        .await
        .expect(200);
    spec::check(spec::platform(), "ConnectionTemplate", &t_erp);
    assert_eq!(t_erp["id"], erp["id"], "a template's id is its system's");
    assert_eq!(t_erp["dynamic"], false);
    assert_eq!(t_erp["authSchemeConfigs"], erp["authSchemeConfigs"]);
    assert_eq!(t_erp["templateBaseUrl"], "https://api.erp.example");
    assert_ne!(t_erp["connectionTemplateId"], erp["id"]);
    // environmentId left out: the project's first environment.
    let t_crm = w
        .api
        .post(
            &tpath,
            json!({"systemId": crm["id"], "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200);
    spec::check(spec::platform(), "ConnectionTemplate", &t_crm);
    assert_eq!(t_crm["dynamic"], true);

    let list = w.api.get(&tpath).await.expect(200);
    spec::check(spec::platform(), "EnvironmentSystemPage", &list);
    assert_eq!(list["totalCount"], 2);
    assert_eq!(list["items"], json!([t_erp, t_crm]));
    assert_eq!(
        w.api
            .get(&format!("{tpath}?env_id={env_id}"))
            .await
            .expect(200)["items"],
        json!([t_erp, t_crm])
    );
    assert_eq!(
        w.api
            .get(&format!("{tpath}?env_id=01ARZ3NDEKTSV4RRFFQ69G5FAV"))
            .await
            .expect(200)["totalCount"],
        0
    );

    // Errors, nothing written: a duplicate name, unknown system/environment, empty name.
    let e = w
        .api
        .post(&tpath, json!({"systemId": crm["id"], "name": "erp"}))
        .await
        .error(409);
    assert!(e["message"].as_str().unwrap().contains("erp"), "{e}");
    let e = w
        .api
        .post(
            &tpath,
            json!({"systemId": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "name": " ", "environmentId": "nope"}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["name", "environmentId", "systemId"]);
    w.api
        .post(
            &format!("/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/connection-templates"),
            json!({"systemId": crm["id"], "name": "x"}),
        )
        .await
        .error(404);
    let e = w
        .api
        .post(&format!("/api/v2/o/{o}/projects"), json!({"name": ""}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["name"]);
    assert_eq!(w.api.get(&tpath).await.expect(200)["totalCount"], 2);

    // A linked system cannot be deleted.
    w.api
        .delete(&format!(
            "{}/{}",
            systems_path(&w),
            erp["id"].as_str().unwrap()
        ))
        .await
        .error(409);
    assert_eq!(w.api.get(&tpath).await.expect(200)["totalCount"], 2);

    // Another organisation sees none of it.
    let (other_org, other) = w.other_org();
    other
        .get(&format!("/api/v2/o/{o}/projects/{pid}"))
        .await
        .error(404);
    other.get(&tpath).await.error(404);
    other
        .get(&format!("/api/v2/o/{other_org}/projects/{pid}"))
        .await
        .error(404);
    other
        .get(&format!(
            "/api/v2/o/{other_org}/projects/{pid}/connection-templates"
        ))
        .await
        .error(404);
    other
        .post(
            &format!("/api/v2/o/{other_org}/projects"),
            json!({"name": "theirs"}),
        )
        .await
        .expect(200);
    other
        .get(&format!("/api/v2/o/{o}/projects"))
        .await
        .error(404);
    let theirs = other
        .get(&format!("/api/v2/o/{other_org}/projects"))
        .await
        .expect(200);
    assert_eq!(theirs["projects"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["projects"][0]["name"], "theirs");
    let e = other
        .post(
            &format!("/api/v2/o/{other_org}/projects/{pid}/connection-templates"),
            json!({"systemId": erp["id"], "name": "steal"}),
        )
        .await
        .error(404);
    assert_error_shape(&e, 404);

    // Deleting the project takes its templates; the systems stay and are free again.
    assert_eq!(
        w.api
            .delete(&format!("/api/v2/o/{o}/projects/{pid}"))
            .await
            .status,
        204
    );
    w.api
        .get(&format!("/api/v2/o/{o}/projects/{pid}"))
        .await
        .error(404);
    w.api.get(&tpath).await.error(404);
    w.api
        .delete(&format!("/api/v2/o/{o}/projects/{pid}"))
        .await
        .error(404);
    assert_eq!(
        w.api
            .delete(&format!(
                "{}/{}",
                systems_path(&w),
                erp["id"].as_str().unwrap()
            ))
            .await
            .status,
        204
    );
    assert_eq!(system_count(&w).await, 1);
}

fn v2_basic(id: &str) -> Value {
    json!({"type": "basic-auth", "basicAuth": {"id": id, "description": ""}})
}

/// UpdateSystem (201): the fields given replace the stored ones, checked as on create; a grant
/// secret is sealed; a v1 connector gets a domain and labels. Errors name their fields and write nothing.
async fn system_update(w: World) {
    let path = systems_path(&w);
    let erp = w
        .api
        .post(&path, json!({"name": "ERP", "domain": "erp.example", "templateBaseUrl": "https://api.erp.example", "authSchemeConfigs": [v2_api_key("apikey", "X-Api-Key")], "labels": {"team": "finance"}}))
        .await
        .expect(201);
    let id = erp["id"].as_str().unwrap().to_owned();
    let sys = format!("{path}/{id}");

    // Only the name: everything else stays.
    let renamed = w.api.put(&sys, json!({"name": "ERP 2"})).await.expect(201);
    spec::check(spec::platform(), "System", &renamed);
    assert_eq!(renamed["name"], "ERP 2");
    let mut expected = erp.clone();
    expected["name"] = json!("ERP 2");
    assert_eq!(renamed, expected);
    assert_eq!(w.api.get(&sys).await.expect(200), renamed);

    // Every field, with an OAuth2 grant whose secret is sealed.
    let all = w
        .api
        .put(&sys, json!({"name": "ERP 3", "domain": "erp3.example", "templateBaseUrl": "https://{{tenant}}.erp3.example/api", "labels": {"team": "ops", "tier": "gold"},
            "authSchemeConfigs": [v2_api_key("apikey", "X-Key-2"), v2_oauth2("oauth")]}))
        .await
        .expect(201);
    spec::check(spec::platform(), "System", &all);
    assert!(
        !all.to_string().contains(GRANT_SECRET),
        "the grant secret is never returned: {all}"
    );
    assert_eq!(all["domain"], "erp3.example");
    assert_eq!(
        all["templateBaseUrl"],
        "https://{{tenant}}.erp3.example/api"
    );
    assert_eq!(all["labels"], json!({"team": "ops", "tier": "gold"}));
    assert_eq!(all["authSchemeConfigs"][0], v2_api_key("apikey", "X-Key-2"));
    let credential = all["authSchemeConfigs"][1]["oauth2"]["grant"]["authorizationCode"]
        ["credentialId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(w.api.get(&sys).await.expect(200), all);
    // Sending back what was read keeps the sealed secret's credential.
    let again = w
        .api
        .put(&sys, json!({"authSchemeConfigs": all["authSchemeConfigs"]}))
        .await
        .expect(201);
    assert_eq!(
        again["authSchemeConfigs"][1]["oauth2"]["grant"]["authorizationCode"]["credentialId"],
        credential.as_str()
    );
    assert_eq!(again, all);

    // Errors: every problem named; nothing written.
    let e = w
        .api
        .put(
            &sys,
            json!({"name": " ", "templateBaseUrl": "not a url", "labels": {"1bad": "x"}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["name", "templateBaseUrl", "labels.1bad"]);
    let e = w
        .api
        .put(
            &sys,
            json!({"authSchemeConfigs": [v2_api_key("same", "X"), v2_api_key("same", "Y")]}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[1].id"]);
    let e = w
        .api
        .put(&sys, json!({"authSchemeConfigs": [{"type": "telepathy"}]}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigs[0].type"]);
    let e = w.api.put(&sys, json!({"name": 7})).await.error(400);
    assert_eq!(Res::fields(&e), ["name"]);
    let e = w
        .api
        .put(&sys, json!({"templateBaseUrl": ""}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["templateBaseUrl"]);
    w.api
        .put(
            &format!("{path}/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            json!({"name": "x"}),
        )
        .await
        .error(404);
    assert_eq!(
        w.api.get(&sys).await.expect(200),
        all,
        "nothing written by the failed calls"
    );

    // A Connect v1 connector is a system too: it gets a domain and labels.
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{}/protocols/http/connectors", w.org),
            json!({"name": "Legacy", "baseUrl": "https://legacy.example", "authSchemeConfigs": [api_key_scheme("k", "X-K")]}),
        )
        .await
        .expect(201);
    let legacy = format!("{path}/{}", connector["id"].as_str().unwrap());
    let updated = w
        .api
        .put(
            &legacy,
            json!({"domain": "legacy.example", "labels": {"era": "v1"}}),
        )
        .await
        .expect(201);
    spec::check(spec::platform(), "System", &updated);
    assert_eq!(updated["domain"], "legacy.example");
    assert_eq!(updated["labels"], json!({"era": "v1"}));
    assert_eq!(w.api.get(&legacy).await.expect(200), updated);

    // Another organisation can change none of it.
    let (other_org, other) = w.other_org();
    other.put(&sys, json!({"name": "stolen"})).await.error(404);
    other
        .put(
            &format!("/api/v2/o/{other_org}/systems/{id}"),
            json!({"name": "stolen"}),
        )
        .await
        .error(404);
    assert_eq!(w.api.get(&sys).await.expect(200), all);
}

/// UpsertAuthSchemeConfig (201): an unknown id appends, a known one replaces in place; the path
/// id must be the body's, a replaced config keeps its type. DeleteAuthSchemeConfig (204, 404).
async fn auth_scheme_configs(w: World) {
    let path = systems_path(&w);
    let erp = create_system(&w, "ERP").await;
    let sys = format!("{path}/{}", erp["id"].as_str().unwrap());
    let schemes = format!("{sys}/auth-scheme-configs");

    let basic = w
        .api
        .put(&format!("{schemes}/basic"), v2_basic("basic"))
        .await
        .expect(201);
    spec::check(spec::platform(), "AuthSchemeConfig", &basic);
    assert_eq!(basic, v2_basic("basic"));
    let oauth = w
        .api
        .put(&format!("{schemes}/oauth"), v2_oauth2("oauth"))
        .await
        .expect(201);
    spec::check(spec::platform(), "AuthSchemeConfig", &oauth);
    assert!(
        !oauth.to_string().contains(GRANT_SECRET),
        "the grant secret is never returned: {oauth}"
    );
    assert!(
        oauth["oauth2"]["grant"]["authorizationCode"]["credentialId"].is_string(),
        "{oauth}"
    );
    let replaced = w
        .api
        .put(
            &format!("{schemes}/apikey"),
            v2_api_key("apikey", "X-Other"),
        )
        .await
        .expect(201);
    assert_eq!(replaced, v2_api_key("apikey", "X-Other"));
    let got = w.api.get(&sys).await.expect(200);
    spec::check(spec::platform(), "System", &got);
    let ids: Vec<&str> = got["authSchemeConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["api-key", "basic-auth", "oauth2"],
        "replaced in place, new ones appended"
    );
    assert_eq!(got["authSchemeConfigs"][0], replaced);
    assert_eq!(got["authSchemeConfigs"][2], oauth);

    // Errors, nothing written.
    let e = w
        .api
        .put(&format!("{schemes}/other"), v2_api_key("apikey", "X"))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["apiKey.id"]);
    let e = w
        .api
        .put(
            &format!("{schemes}/apikey"),
            json!({"type": "basic-auth", "basicAuth": {"id": "apikey"}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["type"]);
    let e = w
        .api
        .put(
            &format!("{schemes}/x"),
            json!({"apiKey": {"id": "x", "name": "X", "in": "header"}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["type"]);
    let e = w
        .api
        .put(&format!("{schemes}/x"), json!({"type": "api-key"}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["apiKey"]);
    let e = w.api.put(&format!("{schemes}/x"), json!({"type": "oauth2", "oauth2": {"id": "x", "authorizeUrl": "https://a.example", "tokenUrl": "https://a.example/t", "grant": {"type": "implicit"}}})).await.error(400);
    assert_eq!(Res::fields(&e), ["oauth2.grant.type"]);
    let mut half_ref = v2_oauth2("x");
    half_ref["oauth2"]["grant"]["authorizationCode"] =
        json!({"clientId": "c", "credentialId": "01ARZ3NDEKTSV4RRFFQ69G5FAV"});
    let e = w
        .api
        .put(&format!("{schemes}/x"), half_ref)
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["oauth2.grant.credentialId"]);
    w.api
        .put(
            &format!("{path}/01ARZ3NDEKTSV4RRFFQ69G5FAV/auth-scheme-configs/x"),
            v2_api_key("x", "X"),
        )
        .await
        .error(404);
    assert_eq!(
        w.api.get(&sys).await.expect(200),
        got,
        "nothing written by the failed calls"
    );

    // Delete: 204, then 404; the others stay.
    assert_eq!(w.api.delete(&format!("{schemes}/basic")).await.status, 204);
    w.api.delete(&format!("{schemes}/basic")).await.error(404);
    w.api
        .delete(&format!(
            "{path}/01ARZ3NDEKTSV4RRFFQ69G5FAV/auth-scheme-configs/apikey"
        ))
        .await
        .error(404);
    let after = w.api.get(&sys).await.expect(200);
    assert_eq!(after["authSchemeConfigs"], json!([replaced, oauth]));

    // Another organisation can change none of it.
    let (other_org, other) = w.other_org();
    other
        .put(&format!("{schemes}/evil"), v2_api_key("evil", "X"))
        .await
        .error(404);
    other.delete(&format!("{schemes}/apikey")).await.error(404);
    other
        .put(
            &format!(
                "/api/v2/o/{other_org}/systems/{}/auth-scheme-configs/evil",
                erp["id"].as_str().unwrap()
            ),
            v2_api_key("evil", "X"),
        )
        .await
        .error(404);
    assert_eq!(w.api.get(&sys).await.expect(200), after);
}

/// A project and its first environment: (project id, environment id).
async fn create_project(w: &World, name: &str) -> (String, String) {
    let p = w
        .api
        .post(
            &format!("/api/v2/o/{}/projects", w.org),
            json!({"name": name}),
        )
        .await
        .expect(200);
    (
        p["id"].as_str().unwrap().to_owned(),
        p["environments"][0]["id"].as_str().unwrap().to_owned(),
    )
}

/// UpdateConnectionTemplate (200): name, dynamic and the auth scheme configs it uses (only those
/// are shown; `[]` means all again); configs a template uses cannot leave the system.
/// DeleteConnectionTemplate (204).
async fn template_update_and_delete(w: World) {
    let o = &w.org;
    let erp = create_system(&w, "ERP").await;
    let sys = format!("{}/{}", systems_path(&w), erp["id"].as_str().unwrap());
    w.api
        .put(
            &format!("{sys}/auth-scheme-configs/basic"),
            v2_basic("basic"),
        )
        .await
        .expect(201);
    let (pid, _) = create_project(&w, "P").await;
    let tpath = format!("/api/v2/o/{o}/projects/{pid}/connection-templates");
    let t = w
        .api
        .post(&tpath, json!({"systemId": erp["id"], "name": "erp"}))
        .await
        .expect(200);
    let other_t = w
        .api
        .post(&tpath, json!({"systemId": erp["id"], "name": "erp-two"}))
        .await
        .expect(200);
    let tid = t["connectionTemplateId"].as_str().unwrap().to_owned();
    let one = format!("{tpath}/{tid}");

    let u = w
        .api
        .put(&one, json!({"name": "erp-main", "dynamic": true}))
        .await
        .expect(200);
    spec::check(spec::platform(), "ConnectionTemplate", &u);
    assert_eq!(u["name"], "erp-main");
    assert_eq!(u["dynamic"], true);
    assert_eq!(u["connectionTemplateId"], tid.as_str());
    assert_eq!(u["authSchemeConfigs"].as_array().unwrap().len(), 2);

    // Narrowed to one config: only it is shown, here and in the list; the other template is untouched.
    let narrowed = w
        .api
        .put(&one, json!({"authSchemeConfigIds": ["basic"]}))
        .await
        .expect(200);
    spec::check(spec::platform(), "ConnectionTemplate", &narrowed);
    assert_eq!(narrowed["authSchemeConfigs"], json!([v2_basic("basic")]));
    assert_eq!(
        narrowed["name"], "erp-main",
        "fields left out keep their value"
    );
    assert_eq!(narrowed["dynamic"], true);
    let list = w.api.get(&tpath).await.expect(200);
    spec::check(spec::platform(), "EnvironmentSystemPage", &list);
    assert_eq!(list["items"], json!([narrowed, other_t]));
    // A later update without authSchemeConfigIds keeps the choice.
    assert_eq!(
        w.api.put(&one, json!({"dynamic": false})).await.expect(200)["authSchemeConfigs"],
        json!([v2_basic("basic")])
    );

    // The chosen config cannot leave the system while the template names it.
    let e = w
        .api
        .delete(&format!("{sys}/auth-scheme-configs/basic"))
        .await
        .error(409);
    assert!(e["message"].as_str().unwrap().contains("erp-main"), "{e}");
    w.api
        .put(
            &sys,
            json!({"authSchemeConfigs": [v2_api_key("apikey", "X-Api-Key")]}),
        )
        .await
        .error(409);
    assert_eq!(
        w.api.get(&sys).await.expect(200)["authSchemeConfigs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Errors, nothing written.
    let before = w.api.get(&tpath).await.expect(200);
    let e = w
        .api
        .put(&one, json!({"authSchemeConfigIds": ["nope"]}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigIds[0]"]);
    let e = w
        .api
        .put(&one, json!({"authSchemeConfigIds": ["basic", "basic"]}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["authSchemeConfigIds[1]"]);
    let e = w
        .api
        .put(&one, json!({"name": " ", "authSchemeConfigIds": ["nope"]}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["name", "authSchemeConfigIds[0]"]);
    let e = w.api.put(&one, json!({"dynamic": "yes"})).await.error(400);
    assert_eq!(Res::fields(&e), ["dynamic"]);
    let e = w.api.put(&one, json!({"name": "erp-two"})).await.error(409);
    assert!(e["message"].as_str().unwrap().contains("erp-two"), "{e}");
    w.api
        .put(
            &format!("{tpath}/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            json!({"name": "x"}),
        )
        .await
        .error(404);
    w.api
        .put(
            &format!(
                "/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/connection-templates/{tid}"
            ),
            json!({"name": "x"}),
        )
        .await
        .error(404);
    assert_eq!(
        w.api.get(&tpath).await.expect(200),
        before,
        "nothing written by the failed calls"
    );

    // `[]`: all of the system's configs again; then the config may go.
    let all = w
        .api
        .put(&one, json!({"authSchemeConfigIds": []}))
        .await
        .expect(200);
    assert_eq!(all["authSchemeConfigs"].as_array().unwrap().len(), 2);
    assert_eq!(
        w.api
            .delete(&format!("{sys}/auth-scheme-configs/basic"))
            .await
            .status,
        204
    );

    // Another organisation can change none of it.
    let (other_org, other) = w.other_org();
    other.put(&one, json!({"name": "stolen"})).await.error(404);
    other.delete(&one).await.error(404);
    other
        .delete(&format!(
            "/api/v2/o/{other_org}/projects/{pid}/connection-templates/{tid}"
        ))
        .await
        .error(404);
    assert_eq!(w.api.get(&tpath).await.expect(200)["totalCount"], 2);

    // Delete: 204, then 404; the other template stays.
    assert_eq!(w.api.delete(&one).await.status, 204);
    w.api.delete(&one).await.error(404);
    w.api.put(&one, json!({"name": "x"})).await.error(404);
    let left = w.api.get(&tpath).await.expect(200);
    let mut expected = other_t.clone();
    expected["authSchemeConfigs"] = json!([v2_api_key("apikey", "X-Api-Key")]); // "basic" was deleted above
    assert_eq!(left["items"], json!([expected]));
}

/// The variables schema: GET (the enforced default without one), PUT (replaces; must be an object
/// schema that compiles), PATCH (one add/replace/remove on `/properties/<name>`); key order kept.
async fn variables_schema(w: World) {
    let o = &w.org;
    let (pid, _) = create_project(&w, "P").await;
    let vpath = format!("/api/v2/o/{o}/projects/{pid}/variables");
    let none = w.api.get(&vpath).await.expect(200);
    spec::check(spec::platform(), "DynamicVariablesSchema", &none);
    assert_eq!(
        none,
        json!({"type": "object", "properties": {}, "additionalProperties": false})
    );

    let schema = json!({"type": "object", "required": ["zone"], "properties": {"zone": {"type": "string"}, "alpha": {"type": "integer", "default": 5}}, "additionalProperties": false});
    let set = w.api.put(&vpath, schema.clone()).await.expect(200);
    spec::check(spec::platform(), "DynamicVariablesSchema", &set);
    assert_eq!(set.to_string(), schema.to_string(), "keys keep their order");
    assert_eq!(
        w.api.get(&vpath).await.expect(200).to_string(),
        schema.to_string()
    );
    let project = w
        .api
        .get(&format!("/api/v2/o/{o}/projects/{pid}"))
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &project);
    assert_eq!(
        project["dynamicVariablesSchema"].to_string(),
        schema.to_string()
    );

    // PATCH: add (the schema itself, or wrapped in its name as Versori's spec shows), replace, remove.
    let added = w
        .api
        .patch(
            &vpath,
            json!({"op": "add", "path": "/properties/batch", "value": {"type": "integer"}}),
        )
        .await
        .expect(200);
    spec::check(spec::platform(), "DynamicVariablesSchema", &added);
    let names: Vec<&String> = added["properties"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["zone", "alpha", "batch"]);
    let wrapped = w
        .api
        .patch(&vpath, json!({"op": "add", "path": "/properties/region", "value": {"region": {"type": "string", "enum": ["eu", "us"]}}}))
        .await
        .expect(200);
    assert_eq!(
        wrapped["properties"]["region"],
        json!({"type": "string", "enum": ["eu", "us"]})
    );
    let replaced = w
        .api
        .patch(
            &vpath,
            json!({"op": "replace", "path": "/properties/alpha", "value": {"type": "number"}}),
        )
        .await
        .expect(200);
    assert_eq!(replaced["properties"]["alpha"], json!({"type": "number"}));
    let names: Vec<&String> = replaced["properties"].as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        ["zone", "alpha", "batch", "region"],
        "replaced in place"
    );
    let removed = w
        .api
        .patch(&vpath, json!({"op": "remove", "path": "/properties/zone"}))
        .await
        .expect(200);
    assert!(removed["properties"].get("zone").is_none());
    assert_eq!(
        removed["required"],
        json!([]),
        "a removed variable is no longer required"
    );
    assert_eq!(w.api.get(&vpath).await.expect(200), removed);

    // Errors, nothing written.
    for (body, field) in [
        (json!([1, 2]), "body"),
        (json!({"type": "string"}), "type"),
        (
            json!({"type": "object", "properties": {"a": {"type": "nonsense"}}}),
            "body",
        ),
    ] {
        let e = w.api.put(&vpath, body.clone()).await.error(400);
        assert_eq!(Res::fields(&e), [field], "PUT {body}");
    }
    for (body, field) in [
        (json!({"op": "move", "path": "/properties/batch"}), "op"),
        (json!({"path": "/properties/batch"}), "op"),
        (json!({"op": "add"}), "path"),
        (
            json!({"op": "add", "path": "/required", "value": {}}),
            "path",
        ),
        (
            json!({"op": "add", "path": "/properties/", "value": {}}),
            "path",
        ),
        (json!({"op": "add", "path": "/properties/x"}), "value"),
        (
            json!({"op": "add", "path": "/properties/x", "value": 5}),
            "value",
        ),
        (
            json!({"op": "add", "path": "/properties/x", "value": {"type": "nonsense"}}),
            "value",
        ),
        (
            json!({"op": "remove", "path": "/properties/nobody"}),
            "path",
        ),
        (
            json!({"op": "replace", "path": "/properties/nobody", "value": {"type": "string"}}),
            "path",
        ),
    ] {
        let e = w.api.patch(&vpath, body.clone()).await.error(400);
        assert_eq!(Res::fields(&e), [field], "PATCH {body}");
    }
    w.api
        .get(&format!(
            "/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/variables"
        ))
        .await
        .error(404);
    w.api
        .put(
            &format!("/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/variables"),
            schema.clone(),
        )
        .await
        .error(404);
    w.api
        .patch(
            &format!("/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/variables"),
            json!({"op": "remove", "path": "/properties/a"}),
        )
        .await
        .error(404);
    assert_eq!(
        w.api.get(&vpath).await.expect(200),
        removed,
        "nothing written by the failed calls"
    );

    // A project without a schema starts PATCH from the enforced default.
    let (fresh, _) = create_project(&w, "Fresh").await;
    let first = w
        .api
        .patch(
            &format!("/api/v2/o/{o}/projects/{fresh}/variables"),
            json!({"op": "add", "path": "/properties/a~1b", "value": {"type": "string"}}),
        )
        .await
        .expect(200);
    assert_eq!(
        first,
        json!({"type": "object", "properties": {"a/b": {"type": "string"}}, "additionalProperties": false})
    );

    // Another organisation sees and changes none of it.
    let (other_org, other) = w.other_org();
    other.get(&vpath).await.error(404);
    other.put(&vpath, schema.clone()).await.error(404);
    other
        .patch(&vpath, json!({"op": "remove", "path": "/properties/batch"}))
        .await
        .error(404);
    other
        .put(
            &format!("/api/v2/o/{other_org}/projects/{pid}/variables"),
            schema,
        )
        .await
        .error(404);
    assert_eq!(w.api.get(&vpath).await.expect(200), removed);
}

/// UpdateProject (200): name, settings and metadata; the rest stays.
async fn project_update(w: World) {
    let o = &w.org;
    let (pid, _) = create_project(&w, "Before").await;
    let ppath = format!("/api/v2/o/{o}/projects/{pid}");
    let before = w.api.get(&ppath).await.expect(200);
    let p = w.api.put(&ppath, json!({"name": "After", "settings": {"acceptCodeChangesAutomatically": true, "planningChatVersion": "v2"}})).await.expect(200);
    spec::check(spec::platform(), "Project", &p);
    assert_eq!(p["name"], "After");
    assert_eq!(
        p["settings"],
        json!({"acceptCodeChangesAutomatically": true, "planningChatVersion": "v2"})
    );
    assert_eq!(p["environments"], before["environments"]);
    assert_eq!(p["createdAt"], before["createdAt"]);
    assert_ne!(p["updatedAt"], before["updatedAt"]);
    assert_eq!(w.api.get(&ppath).await.expect(200), p);
    let m = w
        .api
        .put(&ppath, json!({"metadata": {"sentimentHistory": [{"timestamp": "2026-01-02T03:04:05.000006Z", "sentimentScore": 4, "messageId": "m1"}]}}))
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &m);
    assert_eq!(m["name"], "After");
    assert_eq!(m["settings"], p["settings"]);
    assert_eq!(m["metadata"]["sentimentHistory"][0]["messageId"], "m1");
    let listed = w
        .api
        .get(&format!("/api/v2/o/{o}/projects"))
        .await
        .expect(200);
    assert_eq!(listed["projects"][0]["name"], "After");

    // Errors, nothing written.
    let e = w.api.put(&ppath, json!({"name": ""})).await.error(400);
    assert_eq!(Res::fields(&e), ["name"]);
    let e = w
        .api
        .put(
            &ppath,
            json!({"settings": {"acceptCodeChangesAutomatically": "yes"}}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["settings.acceptCodeChangesAutomatically"]);
    let e = w.api.put(&ppath, json!({"metadata": {"sentimentHistory": [{"timestamp": "yesterday", "sentimentScore": 1, "messageId": "m"}]}})).await.error(400);
    assert_eq!(Res::fields(&e), ["metadata.sentimentHistory[0].timestamp"]);
    w.api
        .put(
            &format!("/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            json!({"name": "x"}),
        )
        .await
        .error(404);
    let (other_org, other) = w.other_org();
    other
        .put(&ppath, json!({"name": "stolen"}))
        .await
        .error(404);
    other
        .put(
            &format!("/api/v2/o/{other_org}/projects/{pid}"),
            json!({"name": "stolen"}),
        )
        .await
        .error(404);
    assert_eq!(
        w.api.get(&ppath).await.expect(200),
        m,
        "nothing written by the failed calls"
    );
}

fn env_names(project: &Value) -> Vec<String> {
    project["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

/// CloneEnvironment (200 Project): a new draft environment, the source's templates copied with
/// `cloneSystems`; at most 5 per project; names unique. DeleteEnvironment (200 Project): its
/// templates go too; the last one stays.
async fn environments(w: World) {
    let o = &w.org;
    let erp = create_system(&w, "ERP").await;
    let crm = create_system(&w, "CRM").await;
    w.api
        .put(
            &format!(
                "{}/{}/auth-scheme-configs/basic",
                systems_path(&w),
                crm["id"].as_str().unwrap()
            ),
            v2_basic("basic"),
        )
        .await
        .expect(201);
    let (pid, prod) = create_project(&w, "P").await;
    let ppath = format!("/api/v2/o/{o}/projects/{pid}");
    let tpath = format!("{ppath}/connection-templates");
    let t_erp = w
        .api
        .post(&tpath, json!({"systemId": erp["id"], "name": "erp"}))
        .await
        .expect(200);
    let t_crm = w
        .api
        .post(
            &tpath,
            json!({"systemId": crm["id"], "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200);
    let t_crm = w
        .api
        .put(
            &format!(
                "{tpath}/{}",
                t_crm["connectionTemplateId"].as_str().unwrap()
            ),
            json!({"authSchemeConfigIds": ["basic"]}),
        )
        .await
        .expect(200);

    let clone = format!("{ppath}/environments/clone");
    let p = w
        .api
        .post(
            &clone,
            json!({"oldEnvName": "production", "newEnvName": "staging", "cloneSystems": true}),
        )
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &p);
    assert_eq!(env_names(&p), ["production", "staging"]);
    let staging = &p["environments"][1];
    assert_eq!(staging["status"], "draft");
    assert_eq!(staging["lastDeployedAt"], Value::Null);
    assert_eq!(
        staging["executionPool"],
        p["environments"][0]["executionPool"]
    );
    let staging_id = staging["id"].as_str().unwrap().to_owned();
    assert_eq!(w.api.get(&ppath).await.expect(200), p);
    // The templates were copied (new ids, the same systems, names, flags and chosen configs).
    let copied = w
        .api
        .get(&format!("{tpath}?env_id={staging_id}"))
        .await
        .expect(200);
    spec::check(spec::platform(), "EnvironmentSystemPage", &copied);
    assert_eq!(copied["totalCount"], 2);
    for (copy, original) in copied["items"]
        .as_array()
        .unwrap()
        .iter()
        .zip([&t_erp, &t_crm])
    {
        assert_ne!(
            copy["connectionTemplateId"],
            original["connectionTemplateId"]
        );
        let mut same = copy.clone();
        same["connectionTemplateId"] = original["connectionTemplateId"].clone();
        assert_eq!(&same, original);
    }
    assert_eq!(
        w.api
            .get(&format!("{tpath}?env_id={prod}"))
            .await
            .expect(200)["items"],
        json!([t_erp, t_crm]),
        "the source is untouched"
    );

    // Without cloneSystems: no templates; the execution pool may be chosen.
    let p = w
        .api
        .post(
            &clone,
            json!({"oldEnvName": "staging", "newEnvName": "dev", "executionPool": "eu-pool"}),
        )
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &p);
    assert_eq!(env_names(&p), ["production", "staging", "dev"]);
    assert_eq!(p["environments"][2]["executionPool"], "eu-pool");
    let dev_id = p["environments"][2]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        w.api
            .get(&format!("{tpath}?env_id={dev_id}"))
            .await
            .expect(200)["totalCount"],
        0
    );

    // Errors, nothing written.
    let e = w
        .api
        .post(
            &clone,
            json!({"oldEnvName": "production", "newEnvName": "staging"}),
        )
        .await
        .error(409);
    assert!(e["message"].as_str().unwrap().contains("staging"), "{e}");
    let e = w
        .api
        .post(&clone, json!({"oldEnvName": "nowhere", "newEnvName": "x"}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["oldEnvName"]);
    let e = w
        .api
        .post(&clone, json!({"oldEnvName": "nowhere", "newEnvName": " "}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["oldEnvName", "newEnvName"]);
    let e = w
        .api
        .post(&clone, json!({"oldEnvName": "production"}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["newEnvName"]);
    let e = w
        .api
        .post(
            &clone,
            json!({"oldEnvName": "production", "newEnvName": "x", "cloneSystems": "yes"}),
        )
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["cloneSystems"]);
    w.api
        .post(
            &format!("/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/environments/clone"),
            json!({"oldEnvName": "production", "newEnvName": "x"}),
        )
        .await
        .error(404);
    assert_eq!(
        env_names(&w.api.get(&ppath).await.expect(200)),
        ["production", "staging", "dev"]
    );

    // At most five environments.
    w.api
        .post(
            &clone,
            json!({"oldEnvName": "production", "newEnvName": "qa"}),
        )
        .await
        .expect(200);
    let p = w
        .api
        .post(
            &clone,
            json!({"oldEnvName": "production", "newEnvName": "uat", "cloneSystems": true}),
        )
        .await
        .expect(200);
    assert_eq!(p["environments"].as_array().unwrap().len(), 5);
    let e = w
        .api
        .post(
            &clone,
            json!({"oldEnvName": "production", "newEnvName": "sixth", "cloneSystems": true}),
        )
        .await
        .error(409);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("at most 5 environments"),
        "{e}"
    );
    assert_eq!(w.api.get(&ppath).await.expect(200), p, "nothing written");
    assert_eq!(w.api.get(&tpath).await.expect(200)["totalCount"], 6);

    // Another organisation can change none of it.
    let (other_org, other) = w.other_org();
    other
        .post(
            &clone,
            json!({"oldEnvName": "production", "newEnvName": "evil"}),
        )
        .await
        .error(404);
    other
        .post(&format!("{ppath}/environments/{staging_id}"), json!({}))
        .await
        .error(404);
    other
        .post(
            &format!("/api/v2/o/{other_org}/projects/{pid}/environments/{staging_id}"),
            json!({}),
        )
        .await
        .error(404);
    assert_eq!(w.api.get(&ppath).await.expect(200), p);

    // Delete: the environment and its templates go; 404 after; the last one stays (409).
    let after = w
        .api
        .post(&format!("{ppath}/environments/{staging_id}"), json!({}))
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &after);
    assert_eq!(env_names(&after), ["production", "dev", "qa", "uat"]);
    assert_eq!(
        w.api
            .get(&format!("{tpath}?env_id={staging_id}"))
            .await
            .expect(200)["totalCount"],
        0
    );
    assert_eq!(w.api.get(&tpath).await.expect(200)["totalCount"], 4);
    w.api
        .post(&format!("{ppath}/environments/{staging_id}"), json!({}))
        .await
        .error(404);
    w.api
        .post(
            &format!("{ppath}/environments/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            json!({}),
        )
        .await
        .error(404);
    w.api
        .post(
            &format!("/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/environments/{prod}"),
            json!({}),
        )
        .await
        .error(404);
    // A freed slot can be used again.
    w.api
        .post(
            &clone,
            json!({"oldEnvName": "production", "newEnvName": "staging"}),
        )
        .await
        .expect(200);
    let mut p = w.api.get(&ppath).await.expect(200);
    while p["environments"].as_array().unwrap().len() > 1 {
        let last = p["environments"].as_array().unwrap().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        p = w
            .api
            .post(&format!("{ppath}/environments/{last}"), json!({}))
            .await
            .expect(200);
    }
    assert_eq!(env_names(&p), ["production"]);
    let e = w
        .api
        .post(&format!("{ppath}/environments/{prod}"), json!({}))
        .await
        .error(409);
    assert!(e["message"].as_str().unwrap().contains("last"), "{e}");
    assert_eq!(w.api.get(&ppath).await.expect(200), p);
    assert_eq!(
        w.api.get(&tpath).await.expect(200)["items"],
        json!([t_erp, t_crm])
    );
}

fn deploy_body() -> Value {
    json!({"files": [{"filename": "index.ts", "content": "export {}"}], "labels": {}, "versionName": "v1"})
}

/// DeployProject refuses while a static template has no static connection (409, the exact message,
/// nothing changed); the body is checked as the spec declares it; unknown environment names are
/// 404s. SuspendProject needs a deployed environment.
async fn deploy_refused(w: World) {
    let o = &w.org;
    let erp = create_system(&w, "ERP").await;
    let crm = create_system(&w, "CRM").await;
    let hub = create_system(&w, "Hub").await;
    let (pid, _) = create_project(&w, "P").await;
    let ppath = format!("/api/v2/o/{o}/projects/{pid}");
    let tpath = format!("{ppath}/connection-templates");
    w.api
        .post(&tpath, json!({"systemId": crm["id"], "name": "crm"}))
        .await
        .expect(200);
    w.api
        .post(
            &tpath,
            json!({"systemId": hub["id"], "name": "hub", "dynamic": true}),
        )
        .await
        .expect(200);
    w.api
        .post(&tpath, json!({"systemId": erp["id"], "name": "erp"}))
        .await
        .expect(200);
    let before = w.api.get(&ppath).await.expect(200);

    let e = w
        .api
        .put(
            &format!("{ppath}/deploy?project_env=production"),
            deploy_body(),
        )
        .await
        .error(409);
    assert_eq!(
        e["message"],
        "missing connections for the following systems: crm, erp"
    );
    let e = w
        .api
        .put(&format!("{ppath}/deploy"), deploy_body())
        .await
        .error(409);
    assert_eq!(
        e["message"], "missing connections for the following systems: crm, erp",
        "production by default"
    );

    // The body as the spec declares it: files, labels and versionName are required.
    for (body, field) in [
        (json!({"files": [], "labels": {}}), "versionName"),
        (json!({"labels": {}, "versionName": "v"}), "files"),
        (json!({"files": [], "versionName": "v"}), "labels"),
        (
            json!({"files": [{"filename": "a.ts"}], "labels": {}, "versionName": "v"}),
            "files[0].content",
        ),
        (
            json!({"files": [], "labels": {"k": 1}, "versionName": "v"}),
            "labels.k",
        ),
    ] {
        let e = w
            .api
            .put(&format!("{ppath}/deploy"), body.clone())
            .await
            .error(400);
        assert_eq!(Res::fields(&e), [field], "{body}");
    }
    let e = w
        .api
        .put(
            &format!("{ppath}/deploy?project_env=nowhere"),
            deploy_body(),
        )
        .await
        .error(404);
    assert!(e["message"].as_str().unwrap().contains("nowhere"), "{e}");
    assert_eq!(Res::fields(&e), ["project_env"]);
    w.api
        .put(
            &format!("/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/deploy"),
            deploy_body(),
        )
        .await
        .error(404);

    // Suspend: `environment` is required and must name one; a never-deployed one cannot be suspended.
    let e = w
        .api
        .post(&format!("{ppath}/suspend"), json!({}))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["environment"]);
    let e = w
        .api
        .post(&format!("{ppath}/suspend?environment=nowhere"), json!({}))
        .await
        .error(404);
    assert_eq!(Res::fields(&e), ["environment"]);
    let e = w
        .api
        .post(
            &format!("{ppath}/suspend?environment=production"),
            json!({}),
        )
        .await
        .error(409);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("never been deployed"),
        "{e}"
    );
    w.api
        .post(
            &format!(
                "/api/v2/o/{o}/projects/01ARZ3NDEKTSV4RRFFQ69G5FAV/suspend?environment=production"
            ),
            json!({}),
        )
        .await
        .error(404);

    // Another organisation can deploy and suspend nothing.
    let (other_org, other) = w.other_org();
    other
        .put(&format!("{ppath}/deploy"), deploy_body())
        .await
        .error(404);
    other
        .put(
            &format!("/api/v2/o/{other_org}/projects/{pid}/deploy"),
            deploy_body(),
        )
        .await
        .error(404);
    other
        .post(
            &format!("{ppath}/suspend?environment=production"),
            json!({}),
        )
        .await
        .error(404);
    assert_eq!(
        w.api.get(&ppath).await.expect(200),
        before,
        "nothing changed"
    );
    assert_eq!(before["environments"][0]["status"], "draft");
}

/// Without static templates there is nothing to connect: deploy (running, lastDeployedAt set),
/// suspend (suspended; again: no change), deploy again (resumes), per environment name.
async fn deploy_and_suspend(w: World) {
    let o = &w.org;
    let hub = create_system(&w, "Hub").await;
    let (pid, _) = create_project(&w, "P").await;
    let ppath = format!("/api/v2/o/{o}/projects/{pid}");
    w.api
        .post(
            &format!("{ppath}/connection-templates"),
            json!({"systemId": hub["id"], "name": "hub", "dynamic": true}),
        )
        .await
        .expect(200);
    w.api
        .post(
            &format!("{ppath}/environments/clone"),
            json!({"oldEnvName": "production", "newEnvName": "staging"}),
        )
        .await
        .expect(200);

    let p = w
        .api
        .put(&format!("{ppath}/deploy"), deploy_body())
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &p);
    let prod = &p["environments"][0];
    assert_eq!(prod["status"], "running");
    let first = prod["lastDeployedAt"].as_str().unwrap().to_owned();
    assert!(
        chrono::DateTime::parse_from_rfc3339(&first).is_ok(),
        "{first}"
    );
    assert_eq!(
        p["environments"][1]["status"], "draft",
        "only the named environment"
    );
    assert_eq!(p["environments"][1]["lastDeployedAt"], Value::Null);
    assert_eq!(w.api.get(&ppath).await.expect(200), p);
    let listed = w
        .api
        .get(&format!("/api/v2/o/{o}/projects"))
        .await
        .expect(200);
    spec::check(spec::platform(), "ProjectsList", &listed);
    assert_eq!(listed["projects"][0]["environments"], p["environments"]);

    let s = w
        .api
        .post(
            &format!("{ppath}/suspend?environment=production"),
            json!({}),
        )
        .await
        .expect(200);
    spec::check(spec::platform(), "Project", &s);
    assert_eq!(s["environments"][0]["status"], "suspended");
    assert_eq!(s["environments"][0]["lastDeployedAt"], first.as_str());
    assert_eq!(
        w.api
            .post(
                &format!("{ppath}/suspend?environment=production"),
                json!({})
            )
            .await
            .expect(200),
        s,
        "suspending again changes nothing"
    );

    let again = w
        .api
        .put(&format!("{ppath}/deploy?project_env=production"), json!({"files": [], "labels": {"a": "b"}, "versionName": "", "versionDescription": "d"}))
        .await
        .expect(200);
    assert_eq!(
        again["environments"][0]["status"], "running",
        "deploying resumes"
    );
    assert!(again["environments"][0]["lastDeployedAt"].as_str().unwrap() > first.as_str());

    let st = w
        .api
        .put(
            &format!("{ppath}/deploy?project_env=staging"),
            deploy_body(),
        )
        .await
        .expect(200);
    assert_eq!(st["environments"][1]["status"], "running");
    assert_eq!(
        st["environments"][0]["lastDeployedAt"],
        again["environments"][0]["lastDeployedAt"]
    );
}

/// ListEndUsers' `activated` filter needs `environment_id` and the other way round (400 naming the
/// missing one); an unknown environment is a 404.
async fn end_user_filter_errors(w: World) {
    let o = &w.org;
    let path = users_path(&w);
    w.api
        .post(&path, json!({"externalId": "alice"}))
        .await
        .expect(201);
    w.api
        .post(&path, json!({"externalId": "bob"}))
        .await
        .expect(201);
    let (_, env) = create_project(&w, "P").await;
    let e = w
        .api
        .get(&format!("{path}?activated=true"))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["activated"]);
    let e = w
        .api
        .get(&format!("{path}?environment_id={env}"))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["environment_id"]);
    let e = w
        .api
        .get(&format!("{path}?activated=maybe&environment_id={env}"))
        .await
        .error(400);
    assert_eq!(Res::fields(&e), ["activated"]);
    w.api
        .get(&format!(
            "{path}?activated=true&environment_id=01ARZ3NDEKTSV4RRFFQ69G5FAV"
        ))
        .await
        .error(404);
    let (other_org, other) = w.other_org();
    other
        .get(&format!(
            "/api/v2/o/{other_org}/users?activated=true&environment_id={env}"
        ))
        .await
        .error(404);

    // Nobody is activated yet.
    let none = w
        .api
        .get(&format!("{path}?activated=true&environment_id={env}"))
        .await
        .expect(200);
    spec::check(spec::platform(), "EndUserPage", &none);
    assert_eq!(none["totalCount"], 0);
    let all = w
        .api
        .get(&format!("{path}?activated=false&environment_id={env}"))
        .await
        .expect(200);
    spec::check(spec::platform(), "EndUserPage", &all);
    assert_eq!(all["totalCount"], 2);
    let _ = o;
}

fn v2_key_connection(value: &str) -> Value {
    json!({"name": ulid::Ulid::new().to_string(), "credentials": [{"authSchemeConfig": v2_api_key("apikey", "X-Api-Key"),
        "credential": {"name": "(API Key)", "type": "string", "data": {"string": {"value": value}}}}]})
}

/// A static connection (no end user) for a template: its id.
async fn static_connection(w: &World, template_id: &Value) -> String {
    let c = w
        .api
        .post(
            &format!("/api/v2/o/{}/connections", w.org),
            json!({"connectionTemplateId": template_id, "connection": v2_key_connection("k")}),
        )
        .await
        .expect(201);
    c["id"].as_str().unwrap().to_owned()
}

/// DeployProject succeeds once every static template of the environment has a static connection:
/// end users' (dynamic) connections and other environments' connections do not count, and a
/// deleted static connection makes the next deploy fail again without changing anything.
async fn deploy_with_connections(w: World) {
    let o = &w.org;
    let erp = create_system(&w, "ERP").await;
    let crm = create_system(&w, "CRM").await;
    let (pid, _) = create_project(&w, "P").await;
    let ppath = format!("/api/v2/o/{o}/projects/{pid}");
    let tpath = format!("{ppath}/connection-templates");
    let t_erp = w
        .api
        .post(&tpath, json!({"systemId": erp["id"], "name": "erp"}))
        .await
        .expect(200);
    let t_crm = w
        .api
        .post(&tpath, json!({"systemId": crm["id"], "name": "crm"}))
        .await
        .expect(200);
    w.api
        .post(
            &format!("{ppath}/environments/clone"),
            json!({"oldEnvName": "production", "newEnvName": "staging", "cloneSystems": true}),
        )
        .await
        .expect(200);
    let deploy = |env: &str| {
        let path = format!("{ppath}/deploy?project_env={env}");
        let api = w.api.clone();
        async move { api.put(&path, deploy_body()).await }
    };

    static_connection(&w, &t_erp["connectionTemplateId"]).await;
    let e = deploy("production").await.error(409);
    assert_eq!(
        e["message"],
        "missing connections for the following systems: crm"
    );
    // An end user's connection to crm is not a static connection.
    w.api
        .post(&users_path(&w), json!({"externalId": "bob"}))
        .await
        .expect(201);
    w.api
        .post(
            &format!("/api/v2/o/{o}/connections"),
            json!({"connectionTemplateId": t_crm["connectionTemplateId"], "externalId": "bob", "connection": v2_key_connection("bob")}),
        )
        .await
        .expect(201);
    let e = deploy("production").await.error(409);
    assert_eq!(
        e["message"],
        "missing connections for the following systems: crm"
    );
    assert_eq!(
        w.api.get(&ppath).await.expect(200)["environments"][0]["status"],
        "draft"
    );

    let crm_conn = static_connection(&w, &t_crm["connectionTemplateId"]).await;
    let p = deploy("production").await.expect(200);
    spec::check(spec::platform(), "Project", &p);
    assert_eq!(p["environments"][0]["status"], "running");
    assert!(p["environments"][0]["lastDeployedAt"].is_string());
    // Production's connections do not serve staging's templates.
    let e = deploy("staging").await.error(409);
    assert_eq!(
        e["message"],
        "missing connections for the following systems: erp, crm"
    );

    // Without crm's static connection the next deploy fails, and nothing changes.
    assert_eq!(
        w.api
            .delete(&format!("/api/v2/o/{o}/connections/{crm_conn}"))
            .await
            .status,
        204
    );
    let e = deploy("production").await.error(409);
    assert_eq!(
        e["message"],
        "missing connections for the following systems: crm"
    );
    assert_eq!(w.api.get(&ppath).await.expect(200), p);
}

/// ListEndUsers `activated` with `environment_id`: activated users, the others, never the static
/// user; per environment; a deactivated user is not activated any more.
async fn end_user_activated_filter(w: World) {
    let o = &w.org;
    let path = users_path(&w);
    for u in ["alice", "bob", "carol"] {
        w.api
            .post(
                &path,
                json!({"externalId": u, "displayName": format!("{u} user")}),
            )
            .await
            .expect(201);
    }
    let crm = create_system(&w, "CRM").await;
    let (pid, env) = create_project(&w, "P").await;
    let ppath = format!("/api/v2/o/{o}/projects/{pid}");
    let t = w
        .api
        .post(
            &format!("{ppath}/connection-templates"),
            json!({"systemId": crm["id"], "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200);
    let staging = w
        .api
        .post(
            &format!("{ppath}/environments/clone"),
            json!({"oldEnvName": "production", "newEnvName": "staging"}),
        )
        .await
        .expect(200)["environments"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let activation = w
        .api
        .post(&format!("/api/v2/o/{o}/activations"), json!({"userId": "alice", "environmentId": env, "connections": [{"connectionTemplateId": t["connectionTemplateId"], "connection": v2_key_connection("a")}]}))
        .await
        .expect(200);
    // The environment's static activation exists too, and is nobody's.
    w.api
        .put(
            &format!("/api/v2/o/{o}/projects/{pid}/variables"),
            json!({"type": "object", "properties": {"region": {"type": "string"}}}),
        )
        .await
        .expect(200);
    w.api
        .patch(
            &format!("/api/v2/o/{o}/environments/{env}/variables"),
            json!({"region": "eu"}),
        )
        .await
        .expect(200);

    let ext = |page: &Value| {
        page["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["externalId"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let yes = w
        .api
        .get(&format!("{path}?activated=true&environment_id={env}"))
        .await
        .expect(200);
    spec::check(spec::platform(), "EndUserPage", &yes);
    assert_eq!(ext(&yes), ["alice"]);
    assert_eq!(yes["totalCount"], 1);
    let no = w
        .api
        .get(&format!("{path}?activated=false&environment_id={env}"))
        .await
        .expect(200);
    spec::check(spec::platform(), "EndUserPage", &no);
    assert_eq!(ext(&no), ["bob", "carol"]);
    assert_eq!(no["totalCount"], 2);
    // With search and paging.
    assert_eq!(
        ext(&w
            .api
            .get(&format!(
                "{path}?activated=false&environment_id={env}&search=CAROL"
            ))
            .await
            .expect(200)),
        ["carol"]
    );
    let p1 = w
        .api
        .get(&format!(
            "{path}?activated=false&environment_id={env}&first=1"
        ))
        .await
        .expect(200);
    assert_eq!(ext(&p1), ["bob"]);
    let p2 = w
        .api
        .get(&format!(
            "{path}?activated=false&environment_id={env}&first=1&after={}",
            p1["next"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert_eq!(ext(&p2), ["carol"]);
    // Another environment: nobody is activated there.
    assert_eq!(
        ext(&w
            .api
            .get(&format!("{path}?activated=true&environment_id={staging}"))
            .await
            .expect(200)),
        Vec::<String>::new()
    );
    assert_eq!(
        ext(&w
            .api
            .get(&format!("{path}?activated=false&environment_id={staging}"))
            .await
            .expect(200)),
        ["alice", "bob", "carol"]
    );

    // Deactivated: not activated any more.
    let aid = activation["id"].as_str().unwrap();
    assert_eq!(
        w.api
            .delete(&format!(
                "/api/v2/o/{o}/environments/{env}/activations/{aid}"
            ))
            .await
            .status,
        204
    );
    assert_eq!(
        ext(&w
            .api
            .get(&format!("{path}?activated=true&environment_id={env}"))
            .await
            .expect(200)),
        Vec::<String>::new()
    );
}

/// CloneEnvironment `copyStaticUserVariables` copies the static user's variables (only when
/// asked); deleting an environment with activations keeps the end users.
async fn clone_static_variables(w: World) {
    let o = &w.org;
    let (pid, env) = create_project(&w, "P").await;
    let ppath = format!("/api/v2/o/{o}/projects/{pid}");
    w.api
        .put(&format!("{ppath}/variables"), json!({"type": "object", "properties": {"region": {"type": "string"}, "batch": {"type": "integer"}}}))
        .await
        .expect(200);
    w.api
        .patch(
            &format!("/api/v2/o/{o}/environments/{env}/variables"),
            json!({"region": "eu", "batch": 7}),
        )
        .await
        .expect(200);
    let statics = |env: String| {
        let (api, path) = (
            w.api.clone(),
            format!("/api/v2/o/{o}/environments/{env}/activations?static=true"),
        );
        async move { api.get(&path).await.expect(200) }
    };

    let p = w
        .api
        .post(&format!("{ppath}/environments/clone"), json!({"oldEnvName": "production", "newEnvName": "copy", "copyStaticUserVariables": true}))
        .await
        .expect(200);
    let copy = p["environments"][1]["id"].as_str().unwrap().to_owned();
    let st = statics(copy.clone()).await;
    assert_eq!(st.as_array().unwrap().len(), 1, "{st}");
    assert_eq!(
        st[0]["dynamicVariables"],
        json!({"region": "eu", "batch": 7})
    );
    let p = w
        .api
        .post(
            &format!("{ppath}/environments/clone"),
            json!({"oldEnvName": "production", "newEnvName": "plain"}),
        )
        .await
        .expect(200);
    let plain = p["environments"][2]["id"].as_str().unwrap().to_owned();
    let st = statics(plain).await;
    assert!(
        st.as_array()
            .unwrap()
            .iter()
            .all(|a| a["dynamicVariables"] == json!({})),
        "nothing copied unless asked: {st}"
    );
    // The source keeps its own.
    assert_eq!(
        statics(env.clone()).await[0]["dynamicVariables"],
        json!({"region": "eu", "batch": 7})
    );

    // Deleting an environment with an activation: the end user stays.
    w.api
        .post(&users_path(&w), json!({"externalId": "alice"}))
        .await
        .expect(201);
    w.api
        .post(
            &format!("/api/v2/o/{o}/activations"),
            json!({"userId": "alice", "environmentId": copy, "connections": []}),
        )
        .await
        .expect(200);
    let after = w
        .api
        .post(&format!("{ppath}/environments/{copy}"), json!({}))
        .await
        .expect(200);
    assert_eq!(env_names(&after), ["production", "plain"]);
    assert_eq!(user_count(&w).await, 1);
    w.api
        .get(&format!(
            "{}?activated=true&environment_id={copy}",
            users_path(&w)
        ))
        .await
        .error(404);
}

on_both_databases! {
    deploy_with_static_connections => deploy_with_connections;
    end_user_activated => end_user_activated_filter;
    clone_copies_static_variables => clone_static_variables;
    system_update_cases => system_update;
    auth_scheme_config_upsert => auth_scheme_configs;
    template_update_delete => template_update_and_delete;
    variables_schema_cases => variables_schema;
    project_update_cases => project_update;
    environment_clone_delete => environments;
    deploy_refusals => deploy_refused;
    deploy_suspend => deploy_and_suspend;
    end_user_activation_filter_errors => end_user_filter_errors;
    projects_with_templates => projects_and_templates;
    system_crud => system_lifecycle;
    system_error_cases => system_errors;
    end_user_crud => end_user_lifecycle;
    end_user_error_cases => end_user_errors;
    end_user_isolation => end_users_are_per_organisation;
}
