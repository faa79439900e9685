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

on_both_databases! {
    end_user_crud => end_user_lifecycle;
    end_user_error_cases => end_user_errors;
    end_user_isolation => end_users_are_per_organisation;
}
