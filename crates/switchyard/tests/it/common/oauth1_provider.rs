//! A real OAuth 1.0a provider for tests: PyPI's `oauthlib` (its RFC 5849 request-token,
//! authorization and access-token endpoints) in `tests/it/oauth1/provider.py`, served by Python's
//! http.server: only the test consumer, valid signatures, fresh nonces, single-use verifiers, and
//! request counts.
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub struct OAuth1Provider {
    pub request_token_url: String,
    pub authorize_url: String,
    pub access_token_url: String,
    counts_url: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    child: Child,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/oauth1")
}

/// `target/oauth1-venv` of the workspace.
fn venv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/oauth1-venv")
}

/// Creates the virtual environment and installs the pinned `requirements.txt` into it, once per
/// test process, and only when the environment does not already hold exactly those requirements.
/// It is built beside its final place and renamed into it, so that concurrent test processes never
/// see half an environment.
fn install() -> Result<PathBuf, String> {
    static DONE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let wanted = std::fs::read_to_string(dir().join("requirements.txt"))
            .map_err(|e| format!("cannot read tests/it/oauth1/requirements.txt: {e}"))?;
        let python = venv().join("bin/python");
        if std::fs::read_to_string(venv().join("requirements.txt")).is_ok_and(|have| have == wanted)
            && python.exists()
        {
            return Ok(python);
        }
        super::notice(
            "installing the OAuth 1.0a test provider: python3 -m venv target/oauth1-venv, pip install -r tests/it/oauth1/requirements.txt (from PyPI, once)",
        );
        let staging = venv().with_file_name(format!("oauth1-venv.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
            let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{what} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
        };
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&staging),
            "python3 -m venv (is python3 with venv installed?)",
        )?;
        run(
            Command::new(staging.join("bin/python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(dir().join("requirements.txt")),
            "pip install -r tests/it/oauth1/requirements.txt",
        )?;
        std::fs::write(staging.join("requirements.txt"), &wanted).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(venv());
        if std::fs::rename(&staging, venv()).is_err() {
            // Another process got there first: use its environment if it is complete.
            let _ = std::fs::remove_dir_all(&staging);
            if !std::fs::read_to_string(venv().join("requirements.txt"))
                .is_ok_and(|have| have == wanted)
            {
                return Err(
                    "could not move the new virtual environment into target/oauth1-venv".into(),
                );
            }
        }
        Ok(python)
    })
    .clone()
}

fn unavailable(why: String) -> Option<OAuth1Provider> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("the OAuth 1.0a tests need python3 (with venv and pip) under CI=true: {why}");
    }
    super::notice(&format!(
        "OAuth 1.0a tests not run, they pass without testing anything: {why} (install python3 with venv to run them)"
    ));
    None
}

impl OAuth1Provider {
    /// A running provider, or `None` (outside CI only) when Python is not available.
    pub fn start() -> Option<OAuth1Provider> {
        let python = match install() {
            Ok(p) => p,
            Err(why) => return unavailable(why),
        };
        let child = Command::new(python)
            .arg("provider.py")
            .current_dir(dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                return unavailable(format!(
                    "the virtual environment's python does not run ({e})"
                ))
            }
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the OAuth 1.0a provider did not start: {line:?}"));
        let s = |k: &str| v[k].as_str().unwrap().to_owned();
        Some(OAuth1Provider {
            request_token_url: s("requestTokenUrl"),
            authorize_url: s("authorizeUrl"),
            access_token_url: s("accessTokenUrl"),
            counts_url: s("countsUrl"),
            consumer_key: s("consumerKey"),
            consumer_secret: s("consumerSecret"),
            child,
        })
    }

    /// Requests so far per endpoint (`request_token`, `authorize`, `access_token`), `rejected`,
    /// the `rejections` texts, and the `issued` access tokens (`[{token, secret}]`).
    pub async fn counts(&self) -> Value {
        reqwest::get(&self.counts_url)
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The resource owner's consent at the authorization endpoint: returns the redirect location
    /// (the callback URL with `oauth_token` and `oauth_verifier`).
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

impl Drop for OAuth1Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
