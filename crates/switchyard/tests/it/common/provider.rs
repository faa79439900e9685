//! A real OAuth2 provider for tests: npm's `oauth2-mock-server`, wrapped by `tests/it/oauth/server.mjs`
//! (strict client authentication, single-use codes and refresh tokens, request counts).
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub struct Provider {
    pub issuer: String,
    /// The same provider over HTTPS, requiring a client certificate signed by `fixtures/mtls/ca.crt`.
    pub mtls_issuer: String,
    control: String,
    pub client_id: String,
    pub client_secret: String,
    child: Child,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/oauth")
}

/// Installs the npm package once per test process (`npm ci`, from the committed lock file).
/// Without Node.js and npm the OAuth tests cannot run: outside CI they say so and return (as the
/// PostgreSQL tests do without a server); under `CI=true` they fail.
fn install() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        if dir().join("node_modules/oauth2-mock-server").exists() {
            return Ok(());
        }
        super::notice(
            "installing the OAuth2 test provider: npm ci in crates/switchyard/tests/it/oauth (from the npm registry, once)",
        );
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir())
            .output()
            .map_err(|e| format!("npm is not installed ({e})"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "npm ci in tests/it/oauth failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    })
    .clone()
}

fn unavailable(why: String) -> Option<Provider> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("the OAuth tests need Node.js and npm under CI=true: {why}");
    }
    super::notice(&format!(
        "OAuth tests not run, they pass without testing anything: {why} (install Node.js 18+ and npm to run them)"
    ));
    None
}

impl Provider {
    /// A running provider, or `None` (outside CI only) when Node.js is not available.
    pub fn start() -> Option<Provider> {
        if let Err(why) = install() {
            return unavailable(why);
        }
        let child = Command::new("node")
            .arg("server.mjs")
            .current_dir(dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => return unavailable(format!("node is not installed ({e})")),
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the OAuth2 provider did not start: {line:?}"));
        let s = |k: &str| v[k].as_str().unwrap().to_owned();
        Some(Provider {
            issuer: s("issuer"),
            mtls_issuer: s("mtlsIssuer"),
            control: s("control"),
            client_id: s("clientId"),
            client_secret: s("clientSecret"),
            child,
        })
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.issuer)
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.issuer)
    }

    /// Token requests so far, by grant type, plus `rejected` and the `rejections` texts.
    pub async fn counts(&self) -> Value {
        reqwest::get(format!("{}/counts", self.control))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Sets the lifetime of the access tokens it issues from now on.
    pub async fn set_expires_in(&self, seconds: i64) {
        let r = reqwest::Client::new()
            .post(format!("{}/config", self.control))
            .json(&serde_json::json!({"expiresIn": seconds}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// Revokes every refresh token it issued (a user disconnecting the app at the provider).
    pub async fn revoke_all(&self) {
        let r = reqwest::Client::new()
            .post(format!("{}/revoke", self.control))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// Follows the provider's authorize step as a consenting user would: returns the redirect
    /// location (the callback URL with `code` and `state`).
    pub async fn consent(&self, authorize_url: &str) -> url::Url {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = client.get(authorize_url).send().await.unwrap();
        assert_eq!(
            r.status().as_u16(),
            302,
            "the provider did not redirect: {:?}",
            r.text().await
        );
        url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
