//! Organisations API v1 signing keys and the end-user JWTs they sign, against the real server on
//! both databases: keys created, listed, served publicly and deleted (the private key shown once
//! and kept nowhere); an end user's token acting only as that user on Platform API v2; and every
//! kind of bad token refused with a 401 that changes nothing.

use crate::common::spec;
use crate::common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

fn keys_path(org: &str) -> String {
    format!("/api/organisations/v1/organisations/{org}/keys")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn versori_iss(key_id: &str) -> String {
    format!("https://versori.com/sk/{key_id}")
}

/// An RS256 token signed with `private_pem` carrying `claims`.
fn mint(private_pem: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// The usual claims: `iss` naming the key, `sub` the end user, an hour to live.
fn claims(iss: &str, sub: &str) -> Value {
    json!({"iss": iss, "sub": sub, "iat": now(), "exp": now() + 3600})
}

/// An HTTP client acting with `Authorization: JWT <token>`.
#[derive(Clone)]
struct Jwt {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Jwt {
    fn new(w: &World, token: &str) -> Jwt {
        Jwt {
            base: w.server.url.clone(),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Res {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("Authorization", format!("JWT {}", self.token));
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{status} response to {path} is not JSON: {text}"))
        };
        Res {
            status,
            body,
            headers,
        }
    }
    async fn get(&self, path: &str) -> Res {
        self.send(reqwest::Method::GET, path, None, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Res {
        self.send(reqwest::Method::POST, path, Some(&body), None)
            .await
    }
    async fn delete(&self, path: &str) -> Res {
        self.send(reqwest::Method::DELETE, path, None, None).await
    }
    async fn put(&self, path: &str, body: Value) -> Res {
        self.send(reqwest::Method::PUT, path, Some(&body), None)
            .await
    }
    async fn patch(&self, path: &str, body: Value) -> Res {
        self.send(reqwest::Method::PATCH, path, Some(&body), None)
            .await
    }
}

/// Creates a signing key; returns (id, private key PEM, the whole answer).
async fn create_key(w: &World, name: &str) -> (String, String, Value) {
    let set = w
        .api
        .post(&keys_path(&w.org), json!({"name": name}))
        .await
        .expect(201);
    (
        set["id"].as_str().unwrap().to_owned(),
        set["privateKey"].as_str().unwrap().to_owned(),
        set,
    )
}

/// The base64 lines of a PEM, without its armour: what a leak would show.
fn pem_body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 40)
        .map(str::to_owned)
        .collect()
}

/// Create (201 with both keys), list (public keys only, oldest first), the public GET without
/// authentication, bad names, another organisation (404), delete; the private key is in the
/// create answer and nowhere else: not in a later answer, the log or the database.
async fn signing_key_lifecycle(w: World) {
    let path = keys_path(&w.org);
    assert_eq!(w.api.get(&path).await.expect(200), json!({"keys": []}));

    let (k1, private1, set1) = create_key(&w, "backend").await;
    spec::check(spec::organisations(), "SigningKeySet", &set1);
    assert_eq!(k1.len(), 26);
    assert_eq!(set1["name"], "backend");
    assert!(
        private1.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "PKCS #8 PEM: {private1}"
    );
    let public1 = set1["publicKey"].as_str().unwrap().to_owned();
    assert!(
        public1.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "SPKI PEM: {public1}"
    );
    let (k2, private2, set2) = create_key(&w, "second").await;
    assert_ne!(private1, private2);
    assert_ne!(set1["publicKey"], set2["publicKey"]);

    let listed = w.api.get(&path).await.expect(200);
    spec::check(spec::organisations(), "SigningKeysListResponse", &listed);
    let public_of = |set: &Value| json!({"id": set["id"], "name": set["name"], "publicKey": set["publicKey"], "createdAt": set["createdAt"]});
    assert_eq!(
        listed,
        json!({"keys": [public_of(&set1), public_of(&set2)]})
    );

    // The public key, to anyone, without authentication.
    let anonymous = Api::anonymous(&w.server);
    let got = anonymous
        .get(&format!("/api/organisations/v1/keys/{k1}"))
        .await
        .expect(200);
    spec::check(spec::organisations(), "PublicKey", &got);
    assert_eq!(got, public_of(&set1));
    anonymous
        .get(&format!("/api/organisations/v1/keys/{}", ulid::Ulid::new()))
        .await
        .error(404);
    anonymous
        .get("/api/organisations/v1/keys/not-a-key")
        .await
        .error(404);
    // The organisation's routes are not public.
    anonymous.get(&path).await.error(401);
    anonymous.post(&path, json!({"name": "x"})).await.error(401);
    anonymous.delete(&format!("{path}/{k1}")).await.error(401);

    // Bad input: 400 naming the field; nothing created.
    for body in [
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({}),
        json!({"name": 7}),
        json!({"name": "x".repeat(256)}),
    ] {
        let e = w.api.post(&path, body.clone()).await.error(400);
        assert_eq!(Res::fields(&e), ["name"], "{body}: {e}");
    }
    assert_eq!(
        w.api.get(&path).await.expect(200)["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Another organisation sees none of it and deletes none of it.
    let (other_org, other) = w.other_org();
    other.get(&path).await.error(404);
    other
        .post(&path, json!({"name": "intruder"}))
        .await
        .error(404);
    other.delete(&format!("{path}/{k1}")).await.error(404);
    other
        .delete(&format!("{}/{k1}", keys_path(&other_org)))
        .await
        .error(404);
    assert_eq!(
        other.get(&keys_path(&other_org)).await.expect(200),
        json!({"keys": []})
    );
    assert_eq!(
        w.api.get(&path).await.expect(200)["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Delete: 204, then gone everywhere; a second delete is a 404.
    assert_eq!(w.api.delete(&format!("{path}/{k2}")).await.status, 204);
    w.api.delete(&format!("{path}/{k2}")).await.error(404);
    anonymous
        .get(&format!("/api/organisations/v1/keys/{k2}"))
        .await
        .error(404);
    assert_eq!(
        w.api.get(&path).await.expect(200),
        json!({"keys": [public_of(&set1)]})
    );

    // The private keys were in the create answers only.
    let later = [
        w.api.get(&path).await.body,
        anonymous
            .get(&format!("/api/organisations/v1/keys/{k1}"))
            .await
            .body,
    ]
    .map(|b| b.to_string());
    let stored = w.db.dump_text();
    let logs = w.server.logs();
    assert!(
        stored.contains(&pem_body_lines(&public1)[1]),
        "the database holds the public key, so an absence below means something"
    );
    for private in [&private1, &private2] {
        let lines = pem_body_lines(private);
        assert!(lines.len() > 20, "a 2048-bit PKCS #8 key: {private}");
        for line in &lines {
            for text in &later {
                assert!(
                    !text.contains(line.as_str()),
                    "the private key appears in a later answer"
                );
            }
            assert!(
                !stored.contains(line.as_str()),
                "the private key appears in the database"
            );
            assert!(
                !logs.contains(line.as_str()),
                "the private key appears in the log"
            );
        }
    }
}

/// What an end user's token may do on Platform API v2 (Versori's authorisation matrix): read and
/// create only itself, read projects and connection templates; nothing of the organisation's
/// administration, nothing of another end user, nothing of another organisation. Both issuers
/// (Versori's and this server's) work, and idempotency keys are the end user's own.
async fn end_user_matrix(w: World) {
    let o = w.org.clone();
    let v2 = format!("/api/v2/o/{o}");
    let (key, private, _) = create_key(&w, "backend").await;
    let system = w
        .api
        .post(
            &format!("{v2}/systems"),
            json!({"name": "CRM", "domain": "crm.example", "templateBaseUrl": "https://api.crm.example",
                   "authSchemeConfigs": [{"type": "api-key", "apiKey": {"id": "apikey", "description": "API key", "name": "X-Api-Key", "in": "header"}}]}),
        )
        .await
        .expect(201);
    let project = w
        .api
        .post(&format!("{v2}/projects"), json!({"name": "Orders sync"}))
        .await
        .expect(200);
    let pid = project["id"].as_str().unwrap().to_owned();
    let template = w
        .api
        .post(
            &format!("{v2}/projects/{pid}/connection-templates"),
            json!({"systemId": system["id"], "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200);
    let bob = w
        .api
        .post(
            &format!("{v2}/users"),
            json!({"externalId": "bob", "displayName": "Bob"}),
        )
        .await
        .expect(201);
    let bob_id = bob["id"].as_str().unwrap().to_owned();

    let alice = Jwt::new(&w, &mint(&private, &claims(&versori_iss(&key), "alice")));
    let alice_here = Jwt::new(
        &w,
        &mint(
            &private,
            &claims(&format!("{}/sk/{key}", w.server.url), "alice"),
        ),
    );

    // Itself: 404 before it exists, then created (only with its own externalId), then read.
    for a in [&alice, &alice_here] {
        a.get(&format!("{v2}/users/alice")).await.error(404);
    }
    w.api
        .post(&format!("{v2}/users"), json!({"externalId": "carol"}))
        .await
        .expect(201);
    w.api
        .post(&format!("{v2}/users"), json!({"externalId": "dave"}))
        .await
        .expect(201);
    // The organisation used no Idempotency-Key above; the end user's own key is its own scope.
    let idem = w
        .api
        .http
        .post(format!("{}{v2}/users", w.server.url))
        .bearer_auth(&w.key)
        .header("Idempotency-Key", "shared-key")
        .json(&json!({"externalId": "erin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(idem.status().as_u16(), 201);
    let created = alice
        .send(
            reqwest::Method::POST,
            &format!("{v2}/users"),
            Some(&json!({"externalId": "alice", "displayName": "Alice"})),
            Some("shared-key"),
        )
        .await;
    assert_eq!(
        created.status, 201,
        "the organisation's Idempotency-Key is not the end user's: {}",
        created.body
    );
    spec::check(spec::platform(), "EndUser", &created.body);
    assert_eq!(created.body["externalId"], "alice");
    let replayed = alice
        .send(
            reqwest::Method::POST,
            &format!("{v2}/users"),
            Some(&json!({"externalId": "alice", "displayName": "Alice"})),
            Some("shared-key"),
        )
        .await;
    assert_eq!(
        (
            replayed.status,
            replayed.headers.get("idempotent-replayed").is_some()
        ),
        (201, true),
        "{}",
        replayed.body
    );
    assert_eq!(replayed.body, created.body);
    let alice_id = created.body["id"].as_str().unwrap().to_owned();
    for a in [&alice, &alice_here] {
        let me = a.get(&format!("{v2}/users/alice")).await.expect(200);
        spec::check(spec::platform(), "EndUser", &me);
        assert_eq!(me, created.body);
        assert_eq!(
            a.get(&format!("{v2}/users/{alice_id}")).await.expect(200),
            created.body
        );
    }
    alice
        .post(&format!("{v2}/users"), json!({"externalId": "alice"}))
        .await
        .error(409);

    // Projects and connection templates: readable.
    let projects = alice.get(&format!("{v2}/projects")).await.expect(200);
    spec::check(spec::platform(), "ProjectsList", &projects);
    assert_eq!(projects["projects"][0]["id"], pid.as_str());
    assert_eq!(
        alice.get(&format!("{v2}/projects/{pid}")).await.expect(200)["id"],
        pid.as_str()
    );
    let templates = alice_here
        .get(&format!("{v2}/projects/{pid}/connection-templates"))
        .await
        .expect(200);
    spec::check(spec::platform(), "EnvironmentSystemPage", &templates);
    assert_eq!(templates["items"], json!([template]));

    // Another end user: 403, whether it exists or not, by external or internal id.
    for a in [&alice, &alice_here] {
        a.post(&format!("{v2}/users"), json!({"externalId": "mallory"}))
            .await
            .error(403);
        a.get(&format!("{v2}/users/bob")).await.error(403);
        a.get(&format!("{v2}/users/{bob_id}")).await.error(403);
        a.get(&format!("{v2}/users/nobody")).await.error(403);
        a.delete(&format!("{v2}/users/bob")).await.error(403);
    }

    // The organisation's administration: 403.
    let forbidden = [
        alice
            .post(
                &format!("{v2}/systems"),
                json!({"name": "Evil", "domain": "evil.example", "templateBaseUrl": "https://evil.example", "authSchemeConfigs": []}),
            )
            .await,
        alice.get(&format!("{v2}/systems")).await,
        alice.get(&format!("{v2}/users")).await,
        alice.delete(&format!("{v2}/users/alice")).await,
        alice.post(&format!("{v2}/projects"), json!({"name": "Evil"})).await,
        alice.delete(&format!("{v2}/projects/{pid}")).await,
        alice.post(&format!("{v2}/projects/{pid}/connection-templates"), json!({"systemId": system["id"], "name": "evil"})).await,
    ];
    for r in forbidden {
        let e = r.error(403);
        assert!(!e.to_string().contains("Bob"), "{e}");
    }

    // Another organisation's paths: as if they did not exist, like an API key of another organisation.
    let (other_org, other) = w.other_org();
    other
        .post(
            &format!("/api/v2/o/{other_org}/users"),
            json!({"externalId": "alice"}),
        )
        .await
        .expect(201);
    for a in [&alice, &alice_here] {
        a.get(&format!("/api/v2/o/{other_org}/users/alice"))
            .await
            .error(404);
        a.get(&format!("/api/v2/o/{other_org}/projects"))
            .await
            .error(404);
        a.post(
            &format!("/api/v2/o/{other_org}/users"),
            json!({"externalId": "alice"}),
        )
        .await
        .error(404);
    }
    // The token is for Platform API v2 only: the organisation's other APIs refuse it.
    let r = alice.get(&keys_path(&o)).await;
    assert!([401, 403].contains(&r.status), "{}: {}", r.status, r.body);
    assert_error_shape(&r.body, r.status);
    let r = alice
        .get(&format!("/api/connect/v1/o/{o}/connectors"))
        .await;
    assert!([401, 403].contains(&r.status), "{}: {}", r.status, r.body);

    // Nothing the refusals touched changed.
    let users = w.api.get(&format!("{v2}/users")).await.expect(200);
    let ext: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["externalId"].as_str().unwrap())
        .collect();
    assert_eq!(ext, ["bob", "carol", "dave", "erin", "alice"]);
    assert_eq!(
        w.api.get(&format!("{v2}/systems")).await.expect(200)["totalCount"],
        1
    );
    assert_eq!(
        w.api.get(&format!("{v2}/projects")).await.expect(200)["projects"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        w.api
            .get(&format!("{v2}/projects/{pid}/connection-templates"))
            .await
            .expect(200)["items"],
        json!([template])
    );
    assert_eq!(
        other
            .get(&format!("/api/v2/o/{other_org}/users"))
            .await
            .expect(200)["totalCount"],
        1
    );
}

/// An end user's token on connections and activations (versori-api.md §7.4): its own dynamic
/// connections and its own activation, created, read, updated and deleted; another user's, the
/// organisation's static ones and the environment's administration refused with 403, changing
/// nothing.
async fn own_connections_and_activations(w: World) {
    let o = w.org.clone();
    let v2 = format!("/api/v2/o/{o}");
    let (key, private, _) = create_key(&w, "backend").await;
    let scheme = json!({"type": "api-key", "apiKey": {"id": "apikey", "description": "API key", "name": "X-Api-Key", "in": "header"}});
    let credential = |v: &str| json!({"authSchemeConfig": scheme, "credential": {"type": "string", "name": "k", "data": {"string": {"value": v}}}});
    let system = w
        .api
        .post(
            &format!("{v2}/systems"),
            json!({"name": "CRM", "domain": "crm.example", "templateBaseUrl": "https://api.crm.example", "authSchemeConfigs": [scheme]}),
        )
        .await
        .expect(201);
    let project = w
        .api
        .post(&format!("{v2}/projects"), json!({"name": "Sync"}))
        .await
        .expect(200);
    let pid = project["id"].as_str().unwrap().to_owned();
    let env = project["environments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dynamic = w
        .api
        .post(
            &format!("{v2}/projects/{pid}/connection-templates"),
            json!({"systemId": system["id"], "name": "crm", "dynamic": true}),
        )
        .await
        .expect(200)["connectionTemplateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let shared = w
        .api
        .post(
            &format!("{v2}/projects/{pid}/connection-templates"),
            json!({"systemId": system["id"], "name": "shared", "dynamic": false}),
        )
        .await
        .expect(200)["connectionTemplateId"]
        .as_str()
        .unwrap()
        .to_owned();
    let static_conn = w
        .api
        .post(&format!("{v2}/connections"), json!({"connectionTemplateId": shared, "connection": {"name": "org", "credentials": [credential("org-key")]}}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.api
        .post(&format!("{v2}/users"), json!({"externalId": "bob"}))
        .await
        .expect(201);
    let bob_conn = w
        .api
        .post(
            &format!("{v2}/connections"),
            json!({"connectionTemplateId": dynamic, "externalId": "bob", "connection": {"name": "bob", "credentials": [credential("bob-key")]}}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_act = w
        .api
        .post(
            &format!("{v2}/activations"),
            json!({"userId": "bob", "environmentId": env, "connections": [{"connectionTemplateId": dynamic, "existingConnectionId": bob_conn}]}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let alice = Jwt::new(&w, &mint(&private, &claims(&versori_iss(&key), "alice")));
    alice
        .post(
            &format!("{v2}/users"),
            json!({"externalId": "alice", "displayName": "alice_primary"}),
        )
        .await
        .expect(201);

    // Its own: a dynamic connection, the activation (the SDK's dynamic-only form), reads, variables, deactivation.
    let mine = alice
        .post(
            &format!("{v2}/connections"),
            json!({"connectionTemplateId": dynamic, "externalId": "alice", "connection": {"name": "alice", "credentials": [credential("alice-key")]}}),
        )
        .await
        .expect(201);
    let mine_id = mine["id"].as_str().unwrap().to_owned();
    alice
        .get(&format!("{v2}/connections/{mine_id}"))
        .await
        .expect(200);
    let listed = alice.get(&format!("{v2}/connections")).await.expect(200);
    assert_eq!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [mine_id.as_str()],
        "only its own: {listed}"
    );
    alice
        .put(
            &format!("{v2}/connections/{mine_id}"),
            json!({"name": "alice-2", "credentials": [credential("alice-key-2")], "baseUrl": ""}),
        )
        .await
        .expect(200);
    let a = alice
        .post(
            &format!("{v2}/activations"),
            json!({"userId": "alice", "environmentId": env, "connections": [{"connectionTemplateId": dynamic, "existingConnectionId": mine_id}]}),
        )
        .await
        .expect(200);
    let aid = a["id"].as_str().unwrap().to_owned();
    assert_eq!(
        a["connections"].as_array().unwrap().len(),
        2,
        "the static template is served by the organisation's connection: {a}"
    );
    assert_eq!(
        alice
            .get(&format!("{v2}/environment/{env}/users/alice/activations"))
            .await
            .expect(200)[0]["id"],
        aid.as_str()
    );
    alice
        .get(&format!("{v2}/environments/{env}/activations/{aid}"))
        .await
        .expect(200);
    alice
        .get(&format!(
            "{v2}/environment-systems/{dynamic}/activations/{aid}"
        ))
        .await
        .expect(200);
    w.api
        .put(
            &format!("{v2}/projects/{pid}/variables"),
            json!({"type": "object", "properties": {"region": {"type": "string"}}}),
        )
        .await
        .expect(200);
    assert_eq!(
        alice
            .patch(
                &format!("{v2}/environments/{env}/activations/{aid}/variables"),
                json!({"region": "eu"})
            )
            .await
            .expect(200),
        json!({"region": "eu"})
    );
    alice
        .put(
            &format!("{v2}/environments/{env}/activations/{aid}/variables/region"),
            json!({"value": "us"}),
        )
        .await
        .expect(200);

    // Another user's, the organisation's and the environment's: 403.
    let refused = [
        alice.get(&format!("{v2}/connections/{bob_conn}")).await,
        alice.get(&format!("{v2}/connections/{static_conn}")).await,
        alice.put(&format!("{v2}/connections/{bob_conn}"), json!({"name": "x", "credentials": [], "baseUrl": ""})).await,
        alice.delete(&format!("{v2}/connections/{bob_conn}")).await,
        alice.delete(&format!("{v2}/connections/{static_conn}")).await,
        alice.get(&format!("{v2}/connections?end_user_id=bob")).await,
        alice
            .post(&format!("{v2}/connections"), json!({"connectionTemplateId": dynamic, "externalId": "bob", "connection": {"name": "x", "credentials": []}}))
            .await,
        alice.post(&format!("{v2}/connections"), json!({"connectionTemplateId": shared, "connection": {"name": "x", "credentials": []}})).await,
        alice.post(&format!("{v2}/connections/{mine_id}/link"), json!({"connectionTemplateId": shared})).await,
        alice.post(&format!("{v2}/activations"), json!({"userId": "bob", "environmentId": env, "connections": []})).await,
        alice.get(&format!("{v2}/environments/{env}/activations/{bob_act}")).await,
        alice.delete(&format!("{v2}/environments/{env}/activations/{bob_act}")).await,
        alice.patch(&format!("{v2}/environments/{env}/activations/{bob_act}/variables"), json!({"region": "x"})).await,
        alice.put(&format!("{v2}/environments/{env}/activations/{bob_act}/variables/region"), json!({"value": "x"})).await,
        alice.get(&format!("{v2}/environment-systems/{dynamic}/activations/{bob_act}")).await,
        alice.get(&format!("{v2}/environment/{env}/users/bob/activations")).await,
        alice.get(&format!("{v2}/environments/{env}/activations")).await,
        alice.patch(&format!("{v2}/environments/{env}/variables"), json!({"region": "x"})).await,
        alice.get(&format!("{v2}/projects/{pid}/connections")).await,
        alice.put(&format!("{v2}/projects/{pid}/variables"), json!({"type": "object"})).await,
        alice.put(&format!("{v2}/projects/{pid}/deploy"), json!({"files": [], "labels": {}, "versionName": "x"})).await,
    ];
    for r in refused {
        let e = r.error(403);
        assert!(
            !e.to_string().contains("bob-key") && !e.to_string().contains("org-key"),
            "{e}"
        );
    }

    // Deactivate its own; the refusals changed nothing of Bob's or the organisation's.
    assert_eq!(
        alice
            .delete(&format!("{v2}/environments/{env}/activations/{aid}"))
            .await
            .status,
        204
    );
    assert_eq!(
        alice
            .delete(&format!("{v2}/connections/{mine_id}"))
            .await
            .status,
        204
    );
    w.api
        .get(&format!("{v2}/connections/{bob_conn}"))
        .await
        .expect(200);
    w.api
        .get(&format!("{v2}/connections/{static_conn}"))
        .await
        .expect(200);
    let bob_now = w
        .api
        .get(&format!("{v2}/environments/{env}/activations/{bob_act}"))
        .await
        .expect(200);
    assert_eq!(bob_now["dynamicVariables"], json!({}));
    assert_eq!(
        w.api.get(&format!("{v2}/connections")).await.expect(200)["totalCount"],
        2
    );
    assert_eq!(
        w.api
            .get(&format!("{v2}/projects/{pid}/variables"))
            .await
            .expect(200)["properties"],
        json!({"region": {"type": "string"}})
    );
}

/// Every kind of bad token is a 401 in the error shape, saying why without echoing the token, and
/// changes nothing; a token without `exp` is refused, one just past `exp` (within the leeway) works.
async fn refused_tokens(w: World) {
    let v2 = format!("/api/v2/o/{}", w.org);
    let (key, private, set) = create_key(&w, "backend").await;
    let (_, other_private, _) = create_key(&w, "other").await;
    let (deleted, deleted_private, _) = create_key(&w, "soon deleted").await;
    let public = set["publicKey"].as_str().unwrap().to_owned();
    let iss = versori_iss(&key);
    let deleted_token = mint(&deleted_private, &claims(&versori_iss(&deleted), "alice"));
    // It worked before the key was deleted.
    Jwt::new(&w, &deleted_token)
        .get(&format!("{v2}/users/alice"))
        .await
        .error(404);
    assert_eq!(
        w.api
            .delete(&format!("{}/{deleted}", keys_path(&w.org)))
            .await
            .status,
        204
    );

    let hs256 = |secret: &[u8]| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(&iss, "alice"),
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let valid = mint(&private, &claims(&iss, "alice"));
    let mut tampered = valid.clone();
    tampered.replace_range(
        valid.rfind('.').unwrap() + 1..valid.rfind('.').unwrap() + 5,
        "AAAA",
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            mint(
                &private,
                &json!({"iss": iss, "sub": "alice", "iat": now() - 7200, "exp": now() - 120}),
            ),
            "expired",
        ),
        (
            "not valid yet",
            mint(
                &private,
                &json!({"iss": iss, "sub": "alice", "nbf": now() + 600, "exp": now() + 3600}),
            ),
            "not valid yet",
        ),
        (
            "signed by another key pair",
            mint(&other_private, &claims(&iss, "alice")),
            "signature",
        ),
        ("tampered signature", tampered, "signature"),
        ("signing key deleted", deleted_token, "signing key"),
        (
            "unknown signing key",
            mint(
                &private,
                &claims(&versori_iss(&ulid::Ulid::new().to_string()), "alice"),
            ),
            "signing key",
        ),
        (
            "not a key id",
            mint(&private, &claims(&versori_iss("nope"), "alice")),
            "signing key",
        ),
        ("HS256 with a secret", hs256(b"a shared secret"), "RS256"),
        (
            "HS256 with the public key as secret",
            hs256(public.as_bytes()),
            "RS256",
        ),
        (
            "no sub",
            mint(&private, &json!({"iss": iss, "exp": now() + 3600})),
            "sub",
        ),
        ("empty sub", mint(&private, &claims(&iss, "")), "sub"),
        (
            "numeric sub",
            mint(
                &private,
                &json!({"iss": iss, "sub": 42, "exp": now() + 3600}),
            ),
            "sub",
        ),
        (
            "no iss",
            mint(&private, &json!({"sub": "alice", "exp": now() + 3600})),
            "iss",
        ),
        (
            "foreign issuer",
            mint(
                &private,
                &claims(&format!("https://evil.example/sk/{key}"), "alice"),
            ),
            "iss",
        ),
        (
            "string exp",
            mint(
                &private,
                &json!({"iss": iss, "sub": "alice", "exp": "tomorrow"}),
            ),
            "exp",
        ),
        ("not a JWT", "not-a-jwt".to_owned(), "malformed"),
        ("garbage segments", "a.b.c".to_owned(), "malformed"),
    ];
    for (label, token, says) in &cases {
        let jwt = Jwt::new(&w, token);
        let responses = [
            jwt.get(&format!("{v2}/users/alice")).await,
            jwt.post(&format!("{v2}/users"), json!({"externalId": "alice"}))
                .await,
            jwt.send(
                reqwest::Method::POST,
                &format!("{v2}/users"),
                Some(&json!({"externalId": "alice"})),
                Some(&format!("k-{label}")),
            )
            .await,
            jwt.get(&format!("{v2}/projects")).await,
        ];
        for r in responses {
            assert_eq!(r.status, 401, "{label}: {}", r.body);
            assert_error_shape(&r.body, 401);
            let message = r.body["message"].as_str().unwrap();
            assert!(
                message.contains(says),
                "{label}: {message:?} should say {says:?}"
            );
            if token.len() > 20 {
                assert!(
                    !r.body.to_string().contains(token.as_str()),
                    "{label}: the answer echoes the token"
                );
            }
        }
    }
    // An empty token after the scheme.
    let r = Jwt::new(&w, "").get(&format!("{v2}/users/alice")).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_error_shape(&r.body, 401);

    // Nothing was created, and no refused request left an idempotency record behind: the same
    // key with a good token runs.
    assert_eq!(
        w.api.get(&format!("{v2}/users")).await.expect(200)["totalCount"],
        0
    );
    let good = Jwt::new(&w, &valid);
    let r = good
        .send(
            reqwest::Method::POST,
            &format!("{v2}/users"),
            Some(&json!({"externalId": "alice"})),
            Some("k-expired"),
        )
        .await;
    assert_eq!(
        (r.status, r.headers.get("idempotent-replayed").is_some()),
        (201, false),
        "{}",
        r.body
    );

    // exp is required (a token without it never expires); exp and nbf are checked with a little leeway.
    let no_exp = Jwt::new(&w, &mint(&private, &json!({"iss": iss, "sub": "alice"})));
    assert!(
        no_exp.get(&format!("{v2}/users/alice")).await.error(401)["message"]
            .as_str()
            .unwrap()
            .contains("no exp")
    );
    let just_expired = Jwt::new(
        &w,
        &mint(
            &private,
            &json!({"iss": iss, "sub": "alice", "exp": now() - 5, "nbf": now() + 5}),
        ),
    );
    just_expired
        .get(&format!("{v2}/users/alice"))
        .await
        .expect(200);
    assert_eq!(
        w.api.get(&format!("{v2}/users")).await.expect(200)["totalCount"],
        1
    );

    // No token reached the log.
    let logs = w.server.logs();
    for (label, token, _) in &cases {
        if token.len() > 20 {
            assert!(
                !logs.contains(token.as_str()),
                "{label}: the token appears in the log"
            );
        }
    }
    assert!(!logs.contains(&valid), "a valid token appears in the log");
}

on_both_databases! {
    lifecycle => signing_key_lifecycle;
    matrix => end_user_matrix;
    own_resources => own_connections_and_activations;
    refusals => refused_tokens;
}
