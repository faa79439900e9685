//! `jwt-bearer` credentials: the token endpoint answers a new JWT (an RFC 7523 assertion) signed
//! with the stored secret, HMAC or RSA, carrying the stored claims, `iat`, `exp` (`expiresIn`) and a
//! unique `jti`, with the configured header prefix; bad algorithm, secret, payload or duration are
//! 400s naming the field, on create.

use crate::common::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

fn oauth_scheme() -> Value {
    json!({"id": "oauth", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": "https://p.example/token", "grant": {"grantType": "client_credentials"}})
}

fn jwt_connection(name: &str, data: Value) -> Value {
    json!({"name": name, "credentials": {"action": [{"authSchemeConfig": oauth_scheme(), "credential": {"name": "assertion", "type": "jwt-bearer", "data": data}}]}, "variables": []})
}

async fn assertions(w: World) {
    let o = w.org.clone();
    let connector = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "API", "baseUrl": "https://api.example", "authSchemeConfigs": [oauth_scheme()]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cpath = format!("/api/connect/v1/o/{o}/connectors/{connector}/connections");
    let token_of = |id: &str| format!("{cpath}/{id}/token");

    // HMAC: claims from the payload, the prefix as the token type, expiresIn honoured.
    let secret = b"a-shared-hmac-secret-of-32-bytes";
    let payload = json!({"iss": "switchyard", "sub": "svc-42", "aud": "https://api.example/token"})
        .to_string();
    let c = w
        .api
        .post(
            &cpath,
            jwt_connection(
                "hs",
                json!({"algorithm": "HS256", "secret": STANDARD.encode(secret), "payload": payload, "expiresIn": "30m", "authorizationHeaderPrefix": "JWT"}),
            ),
        )
        .await
        .expect(200);
    assert!(
        !c.to_string().contains(&STANDARD.encode(secret)),
        "the secret is never shown: {c}"
    );
    let id = c["id"].as_str().unwrap();
    let t1 = w.api.post(&token_of(id), json!({})).await.expect(200);
    assert_eq!(t1["tokenType"], "JWT");
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&["https://api.example/token"]);
    let claims: Value = jsonwebtoken::decode(
        t1["accessToken"].as_str().unwrap(),
        &DecodingKey::from_secret(secret),
        &v,
    )
    .expect("signed with the secret")
    .claims;
    assert_eq!(
        (claims["iss"].as_str(), claims["sub"].as_str()),
        (Some("switchyard"), Some("svc-42"))
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1800
    );
    let t2 = w.api.post(&token_of(id), json!({})).await.expect(200);
    let again: Value = jsonwebtoken::decode(
        t2["accessToken"].as_str().unwrap(),
        &DecodingKey::from_secret(secret),
        &v,
    )
    .unwrap()
    .claims;
    assert_ne!(again["jti"], claims["jti"], "every assertion is new");
    assert!(jsonwebtoken::decode::<Value>(
        t1["accessToken"].as_str().unwrap(),
        &DecodingKey::from_secret(b"another-secret-entirely-32-bytes"),
        &v
    )
    .is_err());

    // RSA: the secret is the base64 of a PEM private key (here one of the organisation's signing
    // keys), verified with its public key; defaults: an hour, Bearer.
    let key = w
        .api
        .post(
            &format!("/api/organisations/v1/organisations/{o}/keys"),
            json!({"name": "assertions"}),
        )
        .await
        .expect(201);
    let private = key["privateKey"].as_str().unwrap();
    let c = w
        .api
        .post(&cpath, jwt_connection("rs", json!({"algorithm": "RS256", "secret": STANDARD.encode(private), "payload": "{\"iss\":\"switchyard\"}"})))
        .await
        .expect(200);
    let t = w
        .api
        .post(&token_of(c["id"].as_str().unwrap()), json!({}))
        .await
        .expect(200);
    assert_eq!(t["tokenType"], "Bearer");
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_aud = false;
    let claims: Value = jsonwebtoken::decode(
        t["accessToken"].as_str().unwrap(),
        &DecodingKey::from_rsa_pem(key["publicKey"].as_str().unwrap().as_bytes()).unwrap(),
        &v,
    )
    .expect("signed with the private key")
    .claims;
    assert_eq!(claims["iss"], "switchyard");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );

    // Refused on create, each naming its field; nothing stored.
    let n = w.api.get(&cpath).await.expect(200)["totalCount"].clone();
    let p = "credentials.action[0].credential.data";
    for (data, field) in [
        (
            json!({"algorithm": "none", "secret": STANDARD.encode(secret)}),
            "algorithm",
        ),
        (json!({"secret": "***not base64***"}), "secret"),
        (json!({"secret": STANDARD.encode("short")}), "secret"),
        (
            json!({"algorithm": "RS256", "secret": STANDARD.encode(secret)}),
            "secret",
        ),
        (
            json!({"secret": STANDARD.encode(secret), "payload": "[1, 2]"}),
            "payload",
        ),
        (
            json!({"secret": STANDARD.encode(secret), "expiresIn": "forever"}),
            "expiresIn",
        ),
    ] {
        let e = w
            .api
            .post(&cpath, jwt_connection("bad", data.clone()))
            .await
            .error(400);
        assert_eq!(Res::fields(&e), [format!("{p}.{field}")], "{data}");
    }
    assert_eq!(w.api.get(&cpath).await.expect(200)["totalCount"], n);
}

on_both_databases! {
    jwt_bearer => assertions;
}
