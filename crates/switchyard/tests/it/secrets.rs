//! Secrets stay secret: a canary created through every credential type (and a grant's client
//! secret) appears in no API response, no log line, not in the SQLite files and not in a
//! `pg_dump` of the PostgreSQL database.

use crate::common::*;
use serde_json::{json, Value};

fn canary(kind: &str) -> String {
    format!(
        "canary{kind}{}",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

async fn canaries_stay_sealed(w: World) {
    let o = &w.org;
    let mut secrets: Vec<String> = Vec::new();
    let mut keep = |s: String| {
        secrets.push(s.clone());
        s
    };
    let grant_secret = keep(canary("grantsecret"));
    let oauth = json!({"id": "oauth", "schemeType": "oauth2", "authorizeUrl": "https://p.example/authorize", "tokenUrl": "https://p.example/token",
                       "grant": {"grantType": "authorization_code", "clientId": "client-1", "clientSecret": grant_secret}});
    let schemes = json!([oauth, api_key_scheme("key", "X-Key"), basic_scheme("basic"), {"id": "cert", "schemeType": "certificate"},
                         {"id": "hmac", "schemeType": "hmac", "name": "X-Sig", "in": "header", "algorithm": "sha256"}, {"id": "none", "schemeType": "none"},
                         {"id": "tba", "schemeType": "oauth1", "tokenAuth": true, "consumerKey": "ck", "consumerSecret": keep(canary("consumersecret")), "signatureMethod": "sha256"}]);
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "Everything", "baseUrl": "https://e.example", "authSchemeConfigs": schemes}),
        )
        .await
        .expect(201);
    let cid = connector["id"].as_str().unwrap().to_owned();
    let oauth = connector["authSchemeConfigs"][0].clone();
    let scheme = |id: &str| {
        connector["authSchemeConfigs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    // A real certificate and key: the key's base64 body is the canary.
    let cert_pem = include_str!("fixtures/client.crt");
    let key_pem = include_str!("fixtures/client.key");
    let key_body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    keep(key_body[8..48].to_owned());

    let binary = keep("Y2FuYXJ5YmluYXJ5c2VjcmV0MDE=".to_owned());
    let cases: Vec<(&str, Value, Value)> = vec![
        (
            "string",
            scheme("key"),
            json!({"value": keep(canary("string"))}),
        ),
        ("binary", scheme("hmac"), json!({"valueBase64": binary})),
        (
            "basic-auth",
            scheme("basic"),
            json!({"username": "u", "password": keep(canary("basicpassword"))}),
        ),
        (
            "oauth2-client",
            oauth.clone(),
            json!({"clientId": "c", "clientSecret": keep(canary("clientsecret")), "tokenUrl": "https://p.example/token"}),
        ),
        (
            "oauth2-password",
            oauth.clone(),
            json!({"username": "u", "password": keep(canary("oauthpassword"))}),
        ),
        (
            "oauth2-token",
            oauth.clone(),
            json!({"accessToken": keep(canary("accesstoken")), "refreshToken": keep(canary("refreshtoken")), "scopes": ["a"]}),
        ),
        (
            "certificate",
            scheme("cert"),
            json!({"certificate": cert_pem, "key": key_pem, "ca": include_str!("fixtures/ca.crt")}),
        ),
        (
            "jwt-bearer",
            oauth.clone(),
            json!({"secret": keep(base64::engine::Engine::encode(&base64::engine::general_purpose::STANDARD, canary("jwtsecret"))), "algorithm": "HS256"}),
        ),
        (
            "custom-function",
            oauth.clone(),
            json!({"function": keep(canary("customfunction"))}),
        ),
        ("none", scheme("none"), json!({})),
        (
            "oauth1-token",
            scheme("tba"),
            json!({"token": keep(canary("oauth1token")), "tokenSecret": keep(canary("oauth1tokensecret"))}),
        ),
    ];
    let mut bodies = vec![connector.clone()];
    for (i, (ty, scheme, data)) in cases.iter().enumerate() {
        let c = w
            .api
            .post(
                &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
                json!({"name": format!("{ty} {i}"), "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": ty, "type": ty, "data": data}}]}, "variables": []}),
            )
            .await
            .expect(200);
        assert_eq!(c["credentials"]["action"][0]["credential"]["type"], *ty);
        bodies.push(c);
    }
    // Malformed PEM and base64 are refused, naming the field.
    let bad = |ty: &str, scheme: Value, data: Value| json!({"name": "bad", "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "bad", "type": ty, "data": data}}]}, "variables": []});
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
            bad(
                "certificate",
                scheme("cert"),
                json!({"certificate": "nope", "key": "nope"}),
            ),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        vec![
            "credentials.action[0].credential.data.certificate",
            "credentials.action[0].credential.data.key"
        ]
    );
    let e = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/connectors/{cid}/connections"),
            bad(
                "binary",
                scheme("hmac"),
                json!({"valueBase64": "not base64!"}),
            ),
        )
        .await
        .error(400);
    assert_eq!(
        Res::fields(&e),
        vec!["credentials.action[0].credential.data.valueBase64"]
    );

    // Every read there is.
    for path in [
        format!("/api/connect/v1/o/{o}/connectors"),
        format!("/api/connect/v1/o/{o}/connectors/{cid}"),
        format!("/api/connect/v1/o/{o}/connectors/{cid}/connections?first=100"),
    ] {
        bodies.push(w.api.get(&path).await.expect(200));
    }
    let ids: Vec<String> = bodies[1..=cases.len()]
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    for id in ids {
        bodies.push(
            w.api
                .get(&format!(
                    "/api/connect/v1/o/{o}/connectors/{cid}/connections/{id}"
                ))
                .await
                .expect(200),
        );
    }
    let everything = serde_json::to_string(&bodies).unwrap();
    let logs = w.server.logs();
    assert!(logs.lines().count() > 0);
    let stored = w.db.dump_text();
    assert!(
        stored.contains("client-1"),
        "the dump holds the non-secret data, so an absence below means something"
    );
    for s in &secrets {
        assert!(
            !everything.contains(s.as_str()),
            "{s} appears in an API response"
        );
        assert!(!logs.contains(s.as_str()), "{s} appears in the log");
        assert!(
            !stored.contains(s.as_str()),
            "{s} appears in the database files"
        );
    }
}

on_both_databases! {
    canaries => canaries_stay_sealed;
}
