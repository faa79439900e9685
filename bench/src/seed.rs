//! The dataset, built through the HTTP API: connectors, a hub of integrations (each with two
//! API-key connection templates and a five-property variables schema, half deployed), end users
//! and activations; and a small hub of 10 integrations for the list-vs-hub-size check.
use crate::load::par;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Seeding requests retried (503 or transport failure).
pub static RETRIES: AtomicU64 = AtomicU64::new(0);

/// An HTTP client acting with the organisation's API key.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub org: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, org: &str, key: &str) -> Result<Api> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {key}").parse()?,
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .pool_max_idle_per_host(512)
            .tcp_nodelay(true)
            .build()?;
        Ok(Api {
            base: base.to_owned(),
            org: org.to_owned(),
            http,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request and returns the JSON body of a 2xx answer; anything else is an error.
    /// While seeding, a 503 (the server's "database unavailable", e.g. its pool timing out) or a
    /// transport failure is retried with back-off, up to 10 times, and counted in [`RETRIES`].
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut attempt = 0;
        loop {
            let mut req = self.http.request(method.clone(), self.url(path));
            if let Some(b) = body {
                req = req.json(b);
            }
            let (status, text) = match req.send().await {
                Ok(res) => {
                    let status = res.status();
                    (Some(status), res.text().await.unwrap_or_default())
                }
                Err(e) => (None, e.to_string()),
            };
            match status {
                Some(s) if s.is_success() => {
                    return Ok(if text.is_empty() {
                        Value::Null
                    } else {
                        serde_json::from_str(&text)
                            .with_context(|| format!("{method} {path}: not JSON: {text}"))?
                    })
                }
                Some(s) if s != reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                    bail!("{method} {path}: {s}: {text}")
                }
                _ if attempt < 10 => {
                    attempt += 1;
                    RETRIES.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(std::time::Duration::from_millis(
                        (100u64 << attempt.min(5)).min(3000),
                    ))
                    .await;
                }
                _ => bail!(
                    "{method} {path}: {}: {text} (after {attempt} retries)",
                    status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "transport error".into())
                ),
            }
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.call(reqwest::Method::POST, path, Some(&body)).await
    }
}

pub fn api_key_scheme(header: &str) -> Value {
    json!({"id": "apikey", "description": "API key", "schemeType": "api-key", "name": header, "in": "header"})
}

pub const APP_HEADER: &str = "X-Api-Key";
pub const CRM_HEADER: &str = "X-Crm-Key";
pub const ERP_HEADER: &str = "X-Erp-Key";

/// The five-property variables schema every integration has.
pub fn variables_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["region"],
        "properties": {
            "region": {"type": "string", "enum": ["eu", "us", "apac"]},
            "batchSize": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
            "notifyEmail": {"type": "string", "maxLength": 200},
            "dryRun": {"type": "boolean", "default": false},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10}
        }
    })
}

/// The dynamic variables every activation sends.
pub fn dynamic_variables() -> Value {
    json!({"region": "eu", "batchSize": 25, "notifyEmail": "ops@example.com", "tags": ["bench"]})
}

fn new_connection(template_id: &str, name: String, header: &str, secret: String) -> Value {
    json!({"templateId": template_id, "name": name, "variables": [],
           "credentials": {"action": [{"authSchemeConfig": api_key_scheme(header), "credential": {"name": format!("{header} key"), "type": "string", "data": {"value": secret}}}]}})
}

/// An ActivateIntegration body: user `external` activates `i` with two new API-key connections,
/// named after the integration so that a user can activate several.
pub fn activation_body(external: &str, i: &Integ) -> Value {
    json!({
        "userId": external,
        "integrationId": i.id,
        "connections": [
            new_connection(&i.t_crm, format!("crm {}", i.index), CRM_HEADER, format!("crm-secret-{external}-{}", i.index)),
            new_connection(&i.t_erp, format!("erp {}", i.index), ERP_HEADER, format!("erp-secret-{external}-{}", i.index)),
        ],
        "dynamicVariables": dynamic_variables(),
    })
}

#[derive(Debug, Clone)]
pub struct Integ {
    pub index: usize,
    pub id: String,
    pub t_crm: String,
    pub t_erp: String,
    pub deployed: bool,
}

/// One seeded hub.
pub struct HubData {
    pub id: String,
    /// `{prefix}-{n}`: the external id of user n.
    pub user_prefix: String,
    /// Internal ids, by user number.
    pub users: Vec<String>,
    pub integrations: Vec<Integ>,
    /// The deployed integrations, in order.
    pub deployed: Vec<Integ>,
    /// Users `0..activated_users` have one activation each (of `deployed[u % deployed.len()]`);
    /// the others have none.
    pub activated_users: usize,
    pub activations: Vec<String>,
}

impl HubData {
    pub fn external(&self, user: usize) -> String {
        format!("{}-{user}", self.user_prefix)
    }
}

pub struct Connectors {
    pub app: String,
    pub crm: String,
    pub erp: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub phase: String,
    pub items: usize,
    pub requests: usize,
    pub seconds: f64,
    pub requests_per_second: f64,
    /// Requests retried after a 503 or a transport failure.
    pub retries: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub hubs: usize,
    pub integrations: usize,
    pub deployed: usize,
    pub templates: usize,
    pub end_users: usize,
    pub activations: usize,
    pub small_hub_integrations: usize,
    pub small_hub_end_users: usize,
    pub small_hub_activations: usize,
}

pub struct Dataset {
    pub connectors: Connectors,
    pub big: HubData,
    pub small: HubData,
    pub phases: Vec<Phase>,
    pub seconds: f64,
    pub counts: Counts,
}

pub struct Sizes {
    pub integrations: usize,
    pub users: usize,
    pub activations: usize,
}

impl Sizes {
    pub fn at_scale(scale: f64) -> Sizes {
        let n = |full: f64, min: usize| ((full * scale).round() as usize).max(min);
        let users = n(100_000.0, 4);
        Sizes {
            integrations: n(1_000.0, 2),
            users,
            activations: n(50_000.0, 1).min(users / 2),
        }
    }
}

fn phase(name: &str, items: usize, requests: usize, t: Instant) -> Phase {
    let seconds = t.elapsed().as_secs_f64();
    let retries = RETRIES.swap(0, Ordering::Relaxed);
    let p = Phase {
        phase: name.to_owned(),
        items,
        requests,
        seconds,
        requests_per_second: requests as f64 / seconds.max(1e-9),
        retries,
    };
    eprintln!(
        "  seeded {:<28} {:>7} items, {:>7} requests in {:>7.1} s ({:.0} req/s, {} retried)",
        name, items, requests, seconds, p.requests_per_second, retries
    );
    p
}

async fn create_hub(api: &Api, name: &str, app: &str) -> Result<String> {
    let h = api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": api.org, "name": name, "primaryConnectorId": app, "authSchemeConfig": api_key_scheme(APP_HEADER)}),
        )
        .await?;
    Ok(h["id"].as_str().context("hub id")?.to_owned())
}

async fn seed_integrations(
    api: &Api,
    hub: &str,
    n: usize,
    conc: usize,
    c: &Connectors,
    label: &str,
) -> Result<Vec<Integ>> {
    let (api2, hub, crm, erp, label) = (
        api.clone(),
        hub.to_owned(),
        c.crm.clone(),
        c.erp.clone(),
        label.to_owned(),
    );
    par(n, conc, move |i| {
        let (api, hub, crm, erp, label) = (api2.clone(), hub.clone(), crm.clone(), erp.clone(), label.clone());
        async move {
            let it = api
                .post(
                    &format!("/api/embedded/v1/hubs/{hub}/integrations"),
                    json!({"organisationId": api.org, "name": format!("{label} integration {i:04}"), "description": "Syncs records between the app and two back-office systems",
                           "variablesSchema": variables_schema()}),
                )
                .await?;
            let id = it["id"].as_str().context("integration id")?.to_owned();
            let mut tids = Vec::new();
            for (connector, header) in [(&crm, CRM_HEADER), (&erp, ERP_HEADER)] {
                let t = api
                    .post(&format!("/api/embedded/v1/integrations/{id}/connection-templates"), json!({"connectorId": connector, "authSchemeConfig": api_key_scheme(header)}))
                    .await?;
                tids.push(t["id"].as_str().context("template id")?.to_owned());
            }
            let deployed = i % 2 == 0;
            if deployed {
                api.post(&format!("/api/embedded/v1/integrations/{id}/deploy"), json!({})).await?;
            }
            Ok(Integ { index: i, id, t_crm: tids[0].clone(), t_erp: tids[1].clone(), deployed })
        }
    })
    .await
}

async fn seed_users(
    api: &Api,
    hub: &str,
    prefix: &str,
    n: usize,
    conc: usize,
) -> Result<Vec<String>> {
    let (api, hub, prefix) = (api.clone(), hub.to_owned(), prefix.to_owned());
    par(n, conc, move |i| {
        let (api, hub, prefix) = (api.clone(), hub.clone(), prefix.clone());
        async move {
            let u = api
                .post(
                    &format!("/api/embedded/v1/hubs/{hub}/users"),
                    json!({"externalId": format!("{prefix}-{i}"), "displayName": format!("Customer {i}"),
                           "primaryConnection": {"name": "primary", "variables": [], "credentials": {"action": [{"authSchemeConfig": api_key_scheme(APP_HEADER),
                               "credential": {"name": "(API Key)", "type": "string", "data": {"value": format!("app-secret-{i}")}}}]}}}),
                )
                .await?;
            Ok(u["id"].as_str().context("user id")?.to_owned())
        }
    })
    .await
}

async fn seed_activations(
    api: &Api,
    prefix: &str,
    deployed: &[Integ],
    n: usize,
    conc: usize,
) -> Result<Vec<String>> {
    let (api, prefix, deployed) = (
        api.clone(),
        prefix.to_owned(),
        std::sync::Arc::new(deployed.to_vec()),
    );
    par(n, conc, move |u| {
        let (api, prefix, deployed) = (api.clone(), prefix.clone(), deployed.clone());
        async move {
            let i = &deployed[u % deployed.len()];
            let a = api
                .post(
                    "/api/embedded/v1/activations",
                    activation_body(&format!("{prefix}-{u}"), i),
                )
                .await?;
            Ok(a["id"].as_str().context("activation id")?.to_owned())
        }
    })
    .await
}

async fn seed_hub(
    api: &Api,
    hub: String,
    prefix: &str,
    sizes: &Sizes,
    conc: usize,
    c: &Connectors,
    phases: &mut Vec<Phase>,
) -> Result<HubData> {
    let t = Instant::now();
    let integrations = seed_integrations(api, &hub, sizes.integrations, conc, c, prefix).await?;
    let deployed: Vec<Integ> = integrations
        .iter()
        .filter(|i| i.deployed)
        .cloned()
        .collect();
    phases.push(phase(
        &format!("{prefix}: integrations"),
        sizes.integrations,
        sizes.integrations * 3 + deployed.len(),
        t,
    ));
    let t = Instant::now();
    let users = seed_users(api, &hub, prefix, sizes.users, conc).await?;
    phases.push(phase(
        &format!("{prefix}: end users"),
        sizes.users,
        sizes.users,
        t,
    ));
    let t = Instant::now();
    let activations = seed_activations(api, prefix, &deployed, sizes.activations, conc).await?;
    phases.push(phase(
        &format!("{prefix}: activations"),
        sizes.activations,
        sizes.activations,
        t,
    ));
    Ok(HubData {
        id: hub,
        user_prefix: prefix.to_owned(),
        users,
        integrations,
        deployed,
        activated_users: sizes.activations,
        activations,
    })
}

pub async fn seed(api: &Api, sizes: &Sizes, conc: usize) -> Result<Dataset> {
    let t0 = Instant::now();
    RETRIES.store(0, Ordering::Relaxed);
    let mut phases = Vec::new();
    let t = Instant::now();
    let mut ids = Vec::new();
    for (name, header) in [
        ("App", APP_HEADER),
        ("CRM", CRM_HEADER),
        ("ERP", ERP_HEADER),
    ] {
        let c = api
            .post(
                &format!("/api/connect/v1/o/{}/protocols/http/connectors", api.org),
                json!({"name": name, "baseUrl": format!("https://api.{}.example", name.to_lowercase()), "authSchemeConfigs": [api_key_scheme(header)]}),
            )
            .await?;
        ids.push(c["id"].as_str().context("connector id")?.to_owned());
    }
    let connectors = Connectors {
        app: ids[0].clone(),
        crm: ids[1].clone(),
        erp: ids[2].clone(),
    };
    let big_hub = create_hub(api, "Main hub", &connectors.app).await?;
    let small_hub = create_hub(api, "Small hub", &connectors.app).await?;
    phases.push(phase("connectors and hubs", 5, 5, t));
    let big = seed_hub(api, big_hub, "user", sizes, conc, &connectors, &mut phases).await?;
    let small_sizes = Sizes {
        integrations: 10,
        users: 100,
        activations: 50,
    };
    let small = seed_hub(
        api,
        small_hub,
        "small",
        &small_sizes,
        conc,
        &connectors,
        &mut phases,
    )
    .await?;
    let counts = Counts {
        hubs: 2,
        integrations: big.integrations.len(),
        deployed: big.deployed.len(),
        templates: big.integrations.len() * 2,
        end_users: big.users.len(),
        activations: big.activations.len(),
        small_hub_integrations: small.integrations.len(),
        small_hub_end_users: small.users.len(),
        small_hub_activations: small.activations.len(),
    };
    Ok(Dataset {
        connectors,
        big,
        small,
        phases,
        seconds: t0.elapsed().as_secs_f64(),
        counts,
    })
}

/// The (user, integration) pairs that activation runs use, each once: first every user of a
/// share of the users without an activation (users `activated_users..`), each with one deployed
/// integration; then the same users again with the next deployed integration, and so on. The HTTP
/// activation cells and the raw-database ceiling each get their own share, so that no pair is
/// used twice and neither can starve the other.
pub struct Pairs {
    first: usize,
    fresh: usize,
    deployed: usize,
    next: AtomicU64,
}

impl Pairs {
    /// Share `part` of `parts` of the users without an activation.
    pub fn new(hub: &HubData, part: usize, parts: usize) -> Pairs {
        let pool = hub.users.len() - hub.activated_users;
        let (lo, hi) = (pool * part / parts, pool * (part + 1) / parts);
        Pairs {
            first: hub.activated_users + lo,
            fresh: hi - lo,
            deployed: hub.deployed.len(),
            next: AtomicU64::new(0),
        }
    }

    /// (user number, index into `deployed`), or `None` when every pair is used.
    pub fn next(&self) -> Option<(usize, usize)> {
        if self.fresh == 0 {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed) as usize;
        let (round, i) = (n / self.fresh, n % self.fresh);
        if round >= self.deployed {
            return None;
        }
        Some((self.first + i, (i + round) % self.deployed))
    }

    /// How many pairs were handed out (or asked for past the end).
    pub fn used(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }
}
