//! `Idempotency-Key` without leaks, and end-user JWTs that expire, against the real server on both
//! databases: remembered answers (a signing key's private key, a new API key, a hub session token,
//! an access token) are stored sealed by the vault and replay only to the caller that made them;
//! `keys status` counts them, `keys rotate` re-seals them and the start-up check covers them; an
//! end-user JWT needs `exp` and a lifetime within `--end-user-jwt-max-lifetime-seconds`.

use crate::common::provider::Provider;
use crate::common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn body_of(status: u16, text: &str, path: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text)
            .unwrap_or_else(|_| panic!("{status} response to {path} is not JSON: {text}"))
    }
}

/// `method path` with `Authorization` as given and an `Idempotency-Key`.
async fn send_as(
    base: &str,
    authorization: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
    idempotency_key: Option<&str>,
) -> Res {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("Authorization", authorization);
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
    Res {
        status,
        body: body_of(status, &text, path),
        headers,
    }
}

/// A POST with the API key of `api` and an `Idempotency-Key`.
async fn post_idem(api: &Api, path: &str, body: Value, idempotency_key: &str) -> Res {
    let auth = format!("Bearer {}", api.key.as_deref().unwrap());
    send_as(
        &api.base,
        &auth,
        reqwest::Method::POST,
        path,
        Some(&body),
        Some(idempotency_key),
    )
    .await
}

fn replayed(r: &Res) -> bool {
    r.headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

/// The first answer, and a retry of it that must be its replay.
#[track_caller]
fn assert_replay(first: &Res, again: &Res) {
    assert!(
        !replayed(first),
        "the first request ran: {:?}",
        first.headers
    );
    assert!(
        replayed(again),
        "the retry is a replay: {:?} {}",
        again.headers,
        again.body
    );
    assert_eq!(
        (again.status, &again.body),
        (first.status, &first.body),
        "the replay is the first answer"
    );
}

fn signing_keys_path(org: &str) -> String {
    format!("/api/organisations/v1/organisations/{org}/keys")
}

fn api_keys_path(org: &str) -> String {
    format!("/api/organisations/v1/organisations/{org}/api-keys")
}

/// A line of a PEM body: what a stored private key would show.
fn pem_line(pem: &str) -> String {
    let line = pem.lines().nth(2).unwrap().to_owned();
    assert!(line.len() >= 60, "a full base64 line of the PEM: {line:?}");
    line
}

/// A hub around an API-key connector, for hub sessions.
async fn hub(w: &World) -> String {
    let o = &w.org;
    let crm = w
        .api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "CRM", "baseUrl": "https://crm.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Api-Key")]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": o, "name": "Hub", "primaryConnectorId": crm, "authSchemeConfig": api_key_scheme("apikey", "X-Api-Key")}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Secrets answered to requests with an Idempotency-Key are stored nowhere in the clear (nor
/// logged), and replays still give them back.
async fn remembered_answers_are_sealed(w: World) {
    let o = &w.org;
    let mut secrets: Vec<(&str, String)> = Vec::new();

    // A signing key: its private key is in the answer and, README says, nowhere else.
    let path = signing_keys_path(o);
    let first = post_idem(
        &w.api,
        &path,
        json!({"name": "backend"}),
        "idem-canary-signing-key",
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = post_idem(
        &w.api,
        &path,
        json!({"name": "backend"}),
        "idem-canary-signing-key",
    )
    .await;
    assert_replay(&first, &again);
    let private = first.body["privateKey"].as_str().unwrap();
    assert!(private.contains("BEGIN PRIVATE KEY"));
    secrets.push(("private key", pem_line(private)));
    assert_eq!(
        w.api.get(&path).await.expect(200)["keys"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "one key was made, not two"
    );

    // An API key.
    let path = api_keys_path(o);
    let first = post_idem(&w.api, &path, json!({"name": "ci"}), "idem-canary-api-key").await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = post_idem(&w.api, &path, json!({"name": "ci"}), "idem-canary-api-key").await;
    assert_replay(&first, &again);
    secrets.push(("API key", first.body["apiKey"].as_str().unwrap().to_owned()));

    // A hub session token.
    let hub = hub(&w).await;
    let path = format!("/api/embedded/v1/hubs/{hub}/users/customer-42/sessions");
    let first = post_idem(
        &w.api,
        &path,
        json!({"ttlSeconds": 1800}),
        "idem-canary-session",
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = post_idem(
        &w.api,
        &path,
        json!({"ttlSeconds": 1800}),
        "idem-canary-session",
    )
    .await;
    assert_replay(&first, &again);
    let token = first.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("sys_"));
    // The replayed token is the one that works.
    let session_api = w.api.with_key(&token);
    session_api
        .get(&format!(
            "/api/embedded/v1/embed/{hub}/users/customer-42/integrations"
        ))
        .await
        .expect(200);
    secrets.push(("hub session token", token));

    // An access token from the Connect token endpoint (an oauth2-client connection against the
    // local OAuth2 provider).
    let provider = Provider::start();
    if let Some(p) = &provider {
        let scheme = json!({"id": "cc", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": p.token_url(), "grant": {"grantType": "client_credentials"}});
        let connector = w
            .api
            .post(
                &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
                json!({"name": "Reports", "baseUrl": "https://r.example", "authSchemeConfigs": [scheme]}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let connection = w
            .api
            .post(
                &format!("/api/connect/v1/o/{o}/connectors/{connector}/connections"),
                json!({"name": "reports", "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "client", "type": "oauth2-client",
                    "data": {"clientId": p.client_id, "clientSecret": p.client_secret, "tokenUrl": p.token_url()}}}]}, "variables": []}),
            )
            .await
            .expect(200)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path =
            format!("/api/connect/v1/o/{o}/connectors/{connector}/connections/{connection}/token");
        let first = post_idem(&w.api, &path, json!({}), "idem-canary-access-token").await;
        assert_eq!(first.status, 200, "{}", first.body);
        let again = post_idem(&w.api, &path, json!({}), "idem-canary-access-token").await;
        assert_replay(&first, &again);
        let access = first.body["accessToken"].as_str().unwrap().to_owned();
        assert!(access.len() > 20, "a real access token: {access}");
        secrets.push(("access token", access));
    }

    // Nothing in the clear: not in the SQLite files (WAL included) nor in a pg_dump, not in the log.
    let stored = w.db.dump_text();
    for k in [
        "idem-canary-signing-key",
        "idem-canary-api-key",
        "idem-canary-session",
    ] {
        assert!(
            stored.contains(k),
            "the dump holds the idempotency rows ({k}), so an absence below means something"
        );
    }
    let logs = w.server.logs();
    for (what, secret) in &secrets {
        assert!(
            !stored.contains(secret.as_str()),
            "the {what} appears in the database"
        );
        assert!(
            !logs.contains(secret.as_str()),
            "the {what} appears in the log"
        );
    }
    // The answers are counted under the key that sealed them.
    let out = bin()
        .args(["keys", "status", "--json", "--database-url", &w.db.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let credentials = if provider.is_some() { 1 } else { 0 };
    let remembered = secrets.len() as i64;
    assert_eq!(
        status["keys"][0]["rows"],
        json!(credentials + remembered),
        "{status}"
    );
}

/// Another API key of the organisation has keys of its own: the same Idempotency-Key and body run
/// its own request and never answer the first key's secret; a sealed answer copied to another
/// caller's row does not open.
async fn replays_only_to_the_same_caller(w: World) {
    let path = api_keys_path(&w.org);
    let second = w
        .api
        .post(&path, json!({"name": "low privilege"}))
        .await
        .expect(201);
    let second_api = w.api.with_key(second["apiKey"].as_str().unwrap());

    let first = post_idem(&w.api, &path, json!({"name": "deploy"}), "same-key").await;
    assert_eq!(first.status, 201, "{}", first.body);
    let secret = first.body["apiKey"].as_str().unwrap().to_owned();
    let theirs = post_idem(&second_api, &path, json!({"name": "deploy"}), "same-key").await;
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    assert!(
        !replayed(&theirs),
        "another API key's request runs: {:?}",
        theirs.headers
    );
    assert_ne!(theirs.body["id"], first.body["id"]);
    assert!(
        !theirs.body.to_string().contains(&secret),
        "the first key's secret is not answered to another key"
    );
    // Each key replays its own answer.
    assert_replay(
        &first,
        &post_idem(&w.api, &path, json!({"name": "deploy"}), "same-key").await,
    );
    assert_replay(
        &theirs,
        &post_idem(&second_api, &path, json!({"name": "deploy"}), "same-key").await,
    );
    let names: Vec<Value> = w.api.get(&path).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].clone())
        .collect();
    assert_eq!(
        names.iter().filter(|n| *n == "deploy").count(),
        2,
        "two requests ran: {names:?}"
    );

    // The sealed body is bound to its row: the first key's answer copied into the second key's row
    // does not open (a 500, not the secret).
    let copy = "UPDATE idempotency_keys SET sealed_body = (SELECT sealed_body FROM idempotency_keys WHERE key = 'same-key' AND scope = $1) \
                WHERE key = 'same-key' AND scope <> $1";
    let first_scope = format!("apikey:{}", first_key_id(&w).await);
    let copied = if w.db.url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&w.db.url).await.unwrap();
        sqlx::query(copy)
            .bind(&first_scope)
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected()
    } else {
        let pool = sqlx::SqlitePool::connect(&w.db.url).await.unwrap();
        sqlx::query(copy)
            .bind(&first_scope)
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected()
    };
    assert_eq!(copied, 1, "the second key's row was overwritten");
    let r = post_idem(&second_api, &path, json!({"name": "deploy"}), "same-key").await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_error_shape(&r.body, 500);
    assert!(!r.body.to_string().contains(&secret));
    // The first key is unaffected.
    assert_replay(
        &first,
        &post_idem(&w.api, &path, json!({"name": "deploy"}), "same-key").await,
    );
}

/// The id of the World's own API key (the organisation's first, named "initial").
async fn first_key_id(w: &World) -> String {
    let keys = w.api.get(&api_keys_path(&w.org)).await.expect(200);
    keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "initial")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn key_env(path: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("SWITCHYARD_MASTER_KEY", String::new()),
        ("SWITCHYARD_MASTER_KEY_FILE", path.display().to_string()),
    ]
}

fn keys_cmd(db: &Db, key_file: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.arg("keys").args(args).args(["--database-url", &db.url]);
    for (k, v) in key_env(key_file) {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn status(db: &Db, key_file: &std::path::Path) -> Value {
    let out = keys_cmd(db, key_file, &["status", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rows(status: &Value, key_id: &str) -> i64 {
    status["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id)
        .map_or(0, |k| k["rows"].as_i64().unwrap())
}

/// `switchyard serve` with these variables must refuse to start: its stderr.
fn refused_start(db: &Db, env: &[(&str, &str)]) -> String {
    let mut cmd = bin();
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &db.url,
        "--data-dir",
    ])
    .arg(&db.dir)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(!code.success(), "the server exited successfully: {err}");
            return err;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started although it should have refused to");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `keys status` counts remembered answers under their key, the start-up check covers them, and
/// `keys rotate` re-seals them: they replay with the new key alone.
async fn rotation_reseals_remembered_answers(backend: Backend) {
    let Some(db) = Db::new(backend).await else {
        return;
    };
    let key_dir = db.dir.join("keys");
    std::fs::create_dir_all(&key_dir).unwrap();
    let key_file = key_dir.join("master.key");
    std::fs::write(&key_file, MASTER_KEY).unwrap();
    let (org, key) = create_org(&db, "acme");
    let env = key_env(&key_file);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(&db, &env);
    let api = Api::new(&server, &key);

    let signing = post_idem(
        &api,
        &signing_keys_path(&org),
        json!({"name": "backend"}),
        "rot-signing-key",
    )
    .await;
    assert_eq!(signing.status, 201, "{}", signing.body);
    let api_key = post_idem(
        &api,
        &api_keys_path(&org),
        json!({"name": "ci"}),
        "rot-api-key",
    )
    .await;
    assert_eq!(api_key.status, 201, "{}", api_key.body);
    // A 4xx is an answer too, remembered and sealed like the others.
    let refused = post_idem(
        &api,
        &api_keys_path(&org),
        json!({"name": 42}),
        "rot-refused",
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);

    let before = status(&db, &key_file);
    let old_key = before["activeKeyId"].as_str().unwrap().to_owned();
    assert_eq!(
        rows(&before, &old_key),
        3,
        "the three remembered answers (and no credential): {before}"
    );

    // A server whose key ring cannot open them refuses to start, naming the key.
    let other_key = "11".repeat(32);
    let said = refused_start(&db, &[("SWITCHYARD_MASTER_KEY", other_key.as_str())]);
    assert!(
        said.contains("cannot open the existing data") && said.contains(&old_key),
        "{said}"
    );

    let out = keys_cmd(
        &db,
        &key_file,
        &["rotate", "--batch", "2", "--settle-seconds", "1"],
    );
    assert!(
        out.status.success(),
        "rotate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = status(&db, &key_file);
    let new_key = after["activeKeyId"].as_str().unwrap().to_owned();
    assert_ne!(new_key, old_key);
    assert_eq!(
        (rows(&after, &old_key), rows(&after, &new_key)),
        (0, 3),
        "{after}"
    );

    // With the old key gone, the answers still replay.
    drop(server);
    std::fs::remove_file(key_dir.join("master.key.old")).unwrap();
    let server = Server::start_with(&db, &env);
    let api = Api::new(&server, &key);
    assert_replay(
        &signing,
        &post_idem(
            &api,
            &signing_keys_path(&org),
            json!({"name": "backend"}),
            "rot-signing-key",
        )
        .await,
    );
    assert_replay(
        &api_key,
        &post_idem(
            &api,
            &api_keys_path(&org),
            json!({"name": "ci"}),
            "rot-api-key",
        )
        .await,
    );
    assert_replay(
        &refused,
        &post_idem(
            &api,
            &api_keys_path(&org),
            json!({"name": 42}),
            "rot-refused",
        )
        .await,
    );
    assert!(!db.dump_text().contains(
        signing.body["privateKey"]
            .as_str()
            .map(pem_line)
            .unwrap()
            .as_str()
    ));
}

on_both_databases! {
    sealed => remembered_answers_are_sealed;
    same_caller => replays_only_to_the_same_caller;
    jwt_lifetime => jwt_exp_is_required_and_capped;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_sqlite() {
    rotation_reseals_remembered_answers(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    switchyard_no_test_postgres,
    ignore = "PostgreSQL suite not run: set SWITCHYARD_TEST_POSTGRES_URL"
)]
async fn rotation_postgres() {
    rotation_reseals_remembered_answers(Backend::Postgres).await;
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

async fn jwt_get(server: &Server, token: &str, path: &str) -> Res {
    send_as(
        &server.url,
        &format!("JWT {token}"),
        reqwest::Method::GET,
        path,
        None,
        None,
    )
    .await
}

/// A JWT without `exp` is refused, and so is one that lives longer than the cap (by `exp - iat`
/// or by `exp - now`); raising the cap lets the longer one in. Idempotency keys sent with a token
/// belong to its end user.
async fn jwt_exp_is_required_and_capped(w: World) {
    let set = w
        .api
        .post(&signing_keys_path(&w.org), json!({"name": "backend"}))
        .await
        .expect(201);
    let private = set["privateKey"].as_str().unwrap();
    let iss = format!("https://versori.com/sk/{}", set["id"].as_str().unwrap());
    let projects = format!("/api/v2/o/{}/projects", w.org);
    let hour = 3600;
    let day = 24 * hour;

    let refusals: Vec<(&str, Value, &str)> = vec![
        (
            "no exp",
            json!({"iss": iss, "sub": "alice", "iat": now()}),
            "no exp",
        ),
        (
            "no exp nor iat",
            json!({"iss": iss, "sub": "alice"}),
            "no exp",
        ),
        (
            "exp 48 h ahead",
            json!({"iss": iss, "sub": "alice", "iat": now(), "exp": now() + 2 * day}),
            "86400",
        ),
        (
            "exp 48 h ahead, no iat",
            json!({"iss": iss, "sub": "alice", "exp": now() + 2 * day}),
            "86400",
        ),
        (
            "issued two days ago for three",
            json!({"iss": iss, "sub": "alice", "iat": now() - 2 * day, "exp": now() + hour}),
            "exp - iat",
        ),
        (
            "a string iat",
            json!({"iss": iss, "sub": "alice", "iat": "today", "exp": now() + hour}),
            "iat",
        ),
    ];
    for (label, claims, says) in &refusals {
        let token = mint(private, claims);
        let r = jwt_get(&w.server, &token, &projects).await;
        assert_eq!(r.status, 401, "{label}: {}", r.body);
        assert_error_shape(&r.body, 401);
        let message = r.body["message"].as_str().unwrap();
        assert!(
            message.contains(says),
            "{label}: {message:?} should say {says:?}"
        );
        // A refused token's Idempotency-Key leaves nothing behind.
        let r = send_as(
            &w.server.url,
            &format!("JWT {token}"),
            reqwest::Method::POST,
            &format!("/api/v2/o/{}/users", w.org),
            Some(&json!({"externalId": "alice"})),
            Some("jwt-k"),
        )
        .await;
        assert_eq!(r.status, 401, "{label}: {}", r.body);
    }
    // An hour, and exactly the cap, are fine.
    let hour_token = mint(
        private,
        &json!({"iss": iss, "sub": "alice", "iat": now(), "exp": now() + hour}),
    );
    jwt_get(&w.server, &hour_token, &projects).await.expect(200);
    let day_token = mint(
        private,
        &json!({"iss": iss, "sub": "alice", "iat": now(), "exp": now() + day}),
    );
    jwt_get(&w.server, &day_token, &projects).await.expect(200);

    // Idempotency keys belong to the end user: another token of alice's replays, bob's runs his own.
    let users = format!("/api/v2/o/{}/users", w.org);
    let as_alice = |token: String| {
        let (base, users) = (w.server.url.clone(), users.clone());
        async move {
            send_as(
                &base,
                &format!("JWT {token}"),
                reqwest::Method::POST,
                &users,
                Some(&json!({"externalId": "alice"})),
                Some("jwt-k"),
            )
            .await
        }
    };
    let first = as_alice(hour_token.clone()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let other_alice_token = mint(
        private,
        &json!({"iss": iss, "sub": "alice", "iat": now() - 10, "exp": now() + 2 * hour}),
    );
    assert_replay(&first, &as_alice(other_alice_token).await);
    let bob_token = mint(
        private,
        &json!({"iss": iss, "sub": "bob", "iat": now(), "exp": now() + hour}),
    );
    let bob = as_alice(bob_token).await;
    assert!(!replayed(&bob), "bob's request runs: {}", bob.body);
    assert_eq!(bob.status, 403, "bob may not create alice: {}", bob.body);

    // Raised to three days, the 48-hour token works (on another server over the same database).
    let long = mint(
        private,
        &json!({"iss": iss, "sub": "alice", "iat": now(), "exp": now() + 2 * day}),
    );
    let raised = Server::start_with(
        &w.db,
        &[("SWITCHYARD_END_USER_JWT_MAX_LIFETIME_SECONDS", "259200")],
    );
    jwt_get(&raised, &long, &projects).await.expect(200);
    let too_long = mint(
        private,
        &json!({"iss": iss, "sub": "alice", "iat": now(), "exp": now() + 4 * day}),
    );
    assert!(
        jwt_get(&raised, &too_long, &projects).await.error(401)["message"]
            .as_str()
            .unwrap()
            .contains("259200")
    );
    // Still refused by the server with the default.
    jwt_get(&w.server, &long, &projects).await.error(401);
    // A cap of 0 is refused at start.
    let mut flag = bin();
    flag.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--end-user-jwt-max-lifetime-seconds",
        "0",
        "--database-url",
        &w.db.url,
    ]);
    let out = flag.output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--end-user-jwt-max-lifetime-seconds must be at least 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
