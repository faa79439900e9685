//! Hosted OAuth2 authorization-code flows (versori-api.md §6.5).
//!
//! 1. `oauth2/initialise` (Embedded v1 and Connect v1) builds the provider's authorize URL with a
//!    single-use `state` bound to the organisation, the grant credential (client id and secret) and
//!    the redirect URI, and PKCE S256 when the scheme asks for it. Only the state's SHA-256 is kept.
//!    The `redirectUrl` a caller may give must be one the hub (Embedded v1) or the organisation
//!    (Connect v1, Platform v2) allows, or the hosted callback; the state records the origin of the
//!    page that started the flow (its `Origin` header, or Switchyard's own origin).
//! 2. The provider sends the browser to `/oauth2/callback`, a page that hands `location.search` to
//!    the window that opened it through the `hello`/`response` postMessage protocol of Versori's
//!    embed SDK, and only to a window of the recorded origin.
//! 3. The page submits an `oauth2-code` credential `{code, state}` in a connection or activation;
//!    [`complete`] consumes the state, exchanges the code at the token URL with the stored client
//!    secret and stores an `oauth2-token` credential in its place, in the same transaction as the
//!    connection.
use crate::auth::OrgAuth;
use crate::connections::PendingConnection;
use crate::egress::{self, Egress, EgressError};
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, JsonBody, Path};
use crate::oauth_policy;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use switchyard_domain::auth_scheme::{AuthScheme, AuthSchemeConfig, OAuth2Grant};
use switchyard_domain::credential::{CredentialType, NewCredential, SecretData};
use switchyard_domain::model::{NewConnection, OAuthState};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{Error, ErrorKind, FieldError};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(initialise_embedded))
        .routes(routes!(initialise_connect))
        .routes(routes!(initialise_platform))
        .route("/oauth2/callback", axum::routing::get(callback_page))
        .route("/oauth2/callback.js", axum::routing::get(callback_script))
}

/// The path of the hosted callback page, under the public URL.
pub const CALLBACK_PATH: &str = "/oauth2/callback";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRef {
    pub id: String,
    pub organisation_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InitialiseOAuth2ConnectionRequest)]
pub struct InitialiseRequest {
    /// The credential holding the client id and secret: the scheme's `grant.credentialId`.
    pub credential: CredentialRef,
    pub authorize_url: String,
    /// Must equal the client id stored in `credential`.
    pub client_id: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Leaves out the `offline_access` scope otherwise always requested.
    #[serde(default)]
    pub disable_offline_access: bool,
    /// `login` when omitted, unless `additionalParams` carries `approval_prompt`.
    #[serde(default)]
    pub prompt: Option<String>,
    /// More authorize-URL parameters, URL-encoded (`a=1&b=2`); none may be one the server sets
    /// or one that could redirect the code (names compared case-insensitively, `-` as `_`):
    /// `client_id`, `redirect_uri`, `redirect_url`, `response_type`, `response_mode`, `scope`,
    /// `state`, `code_challenge`, `code_challenge_method`, `request`, `request_uri`, and `prompt`
    /// when `prompt` is given.
    #[serde(default)]
    pub additional_params: Option<String>,
    /// Where the provider sends the user back; Switchyard's hosted callback when omitted. Must be
    /// the hosted callback or one of the hub's `oauthRedirectUrls` (Embedded v1) or the
    /// organisation's (Connect v1, Platform v2), compared after normalisation.
    #[serde(default)]
    pub redirect_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InitialiseOAuth2ConnectionResponse)]
pub struct InitialiseResponse {
    pub url: String,
}

/// Builds the authorize URL for an end user to connect to one of a hub's connectors.
#[utoipa::path(post, path = "/api/embedded/v1/embed/{hub_id}/connector/{connector_id}/oauth2/initialise", operation_id = "InitialiseOAuth2EmbeddedConnection",
    tag = "embedded", params(("hub_id" = String, Path), ("connector_id" = String, Path)), request_body = InitialiseRequest,
    responses((status = 200, body = InitialiseResponse), (status = "default", body = ErrorBody)))]
async fn initialise_embedded(
    State(s): State<AppState>,
    auth: crate::session::HubAuth,
    Path((hub_id, connector_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: JsonBody<InitialiseRequest>,
) -> ApiResult<axum::Json<InitialiseResponse>> {
    let org = auth.organisation_id().to_owned();
    auth.check_hub(&hub_id)?;
    let hub = s
        .store
        .get_hub(&org, &hub_id)
        .await?
        .filter(|h| h.deleted_at.is_none())
        .or_not_found("hub")?;
    let body = body.get()?;
    // The scheme may be the connector's own, the hub's (for its primary connector) or a template's.
    let candidates = crate::connections::hub_schemes(&s, &org, &hub, &connector_id).await?;
    let policy = FlowPolicy::new(&s, "the hub's", hub.oauth_redirect_urls, &headers);
    Ok(axum::Json(
        initialise(&s, &org, &connector_id, &candidates, body, &policy).await?,
    ))
}

/// Builds the authorize URL for a connection of the organisation to one of its connectors.
#[utoipa::path(post, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/oauth2/initialise", operation_id = "InitialiseOAuth2Connection",
    tag = "connections", params(("organisation_id" = String, Path), ("connector_id" = String, Path)), request_body = InitialiseRequest,
    responses((status = 200, body = InitialiseResponse), (status = "default", body = ErrorBody)))]
async fn initialise_connect(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((org, connector_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<InitialiseRequest>,
) -> ApiResult<axum::Json<InitialiseResponse>> {
    auth.check_org(&org)?;
    let connector = s
        .store
        .get_connector(&org, &connector_id)
        .await?
        .or_not_found("connector")?;
    let policy = FlowPolicy::for_organisation(&s, &org, &headers).await?;
    Ok(axum::Json(
        initialise(
            &s,
            &org,
            &connector.id,
            &connector.auth_scheme_configs,
            body,
            &policy,
        )
        .await?,
    ))
}

/// Platform API v2: builds the authorize URL for a connection to one of the organisation's systems
/// (`system_id` is a connection template's `id`). End-user tokens may call it: the embed SDK does,
/// to connect the user's dynamic connections.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/systems/{system_id}/oauth2/initialise", operation_id = "v2InitialiseOAuth2Connection",
    tag = "v2-connections", params(("organisation_id" = String, Path), ("system_id" = String, Path)), request_body = InitialiseRequest,
    responses((status = 200, body = InitialiseResponse), (status = "default", body = ErrorBody)))]
async fn initialise_platform(
    State(s): State<AppState>,
    auth: crate::auth::PlatformAuth,
    Path((org, system_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<InitialiseRequest>,
) -> ApiResult<axum::Json<InitialiseResponse>> {
    auth.check_org(&org)?;
    let system = s
        .store
        .get_connector(&org, &system_id)
        .await?
        .or_not_found("system")?;
    let policy = FlowPolicy::for_organisation(&s, &org, &headers).await?;
    Ok(axum::Json(
        initialise(
            &s,
            &org,
            &system.id,
            &system.auth_scheme_configs,
            body,
            &policy,
        )
        .await?,
    ))
}

/// What a flow about to start may do: the redirect URLs it may name besides the hosted callback,
/// and the origin its callback page will answer.
pub(crate) struct FlowPolicy {
    /// Whose list `allowed_redirects` is, for error messages: "the hub's", "the organisation's".
    whose: &'static str,
    allowed_redirects: Vec<String>,
    /// The `Origin` of the initialise request when it is a proper origin; Switchyard's own otherwise.
    pub opener_origin: String,
}

impl FlowPolicy {
    pub(crate) fn new(
        s: &AppState,
        whose: &'static str,
        allowed_redirects: Vec<String>,
        headers: &HeaderMap,
    ) -> Self {
        let origin =
            oauth_policy::request_origin(headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()));
        Self {
            whose,
            allowed_redirects,
            opener_origin: origin.unwrap_or_else(|| oauth_policy::public_origin(&s.public_url)),
        }
    }

    /// The organisation's `oauthRedirectUrls` (Connect v1, Platform v2, OAuth 1.0a).
    pub(crate) async fn for_organisation(
        s: &AppState,
        org: &str,
        headers: &HeaderMap,
    ) -> ApiResult<Self> {
        let settings = s.store.get_organisation_settings(org).await?;
        Ok(Self::new(
            s,
            "the organisation's",
            settings.oauth_redirect_urls,
            headers,
        ))
    }

    /// The redirect URI of the flow: `given` when allowed (a 400 naming `redirectUrl` otherwise),
    /// the hosted callback when omitted.
    pub(crate) fn redirect_uri(&self, s: &AppState, given: Option<&str>) -> ApiResult<String> {
        let hosted = hosted_callback(s);
        let Some(given) = given.filter(|r| !r.is_empty()) else {
            return Ok(hosted);
        };
        if let Err(m) = oauth_policy::normalise_redirect_url(given) {
            return Err(ApiError(Error::invalid_field("redirectUrl", m)));
        }
        if !oauth_policy::redirect_allowed(given, &self.allowed_redirects, &hosted) {
            return Err(ApiError(Error::invalid_field(
                "redirectUrl",
                format!(
                    "is neither Switchyard's hosted callback nor one of {} oauthRedirectUrls",
                    self.whose
                ),
            )));
        }
        Ok(given.to_owned())
    }
}

/// Switchyard's hosted callback page: `<public-url>/oauth2/callback`.
pub(crate) fn hosted_callback(s: &AppState) -> String {
    format!("{}{CALLBACK_PATH}", s.public_url.trim_end_matches('/'))
}

async fn initialise(
    s: &AppState,
    org: &str,
    connector_id: &str,
    candidates: &[AuthSchemeConfig],
    body: InitialiseRequest,
    policy: &FlowPolicy,
) -> ApiResult<InitialiseResponse> {
    if body.credential.organisation_id != org {
        return Err(ApiError(Error::invalid_field(
            "credential.organisationId",
            "is not this organisation",
        )));
    }
    let scheme = candidates
        .iter()
        .find_map(|c| match &c.scheme {
            AuthScheme::OAuth2(o) if matches!(o.grant, OAuth2Grant::AuthorizationCode(_)) && c.grant_credential_id() == Some(body.credential.id.as_str()) => {
                Some(o.as_ref())
            }
            _ => None,
        })
        .ok_or_else(|| {
            ApiError(Error::invalid_field("credential.id", "is not the grant credential of an OAuth2 authorization-code scheme of this connector"))
        })?;
    let grant = open_grant_credential(s, org, &body.credential.id).await?;
    if grant.get("clientId").and_then(Value::as_str) != Some(body.client_id.as_str()) {
        return Err(ApiError(Error::invalid_field(
            "clientId",
            "does not match the client id stored in the credential",
        )));
    }
    let mut url = url::Url::parse(&body.authorize_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            ApiError(Error::invalid_field(
                "authorizeUrl",
                "must be an absolute http(s) URL",
            ))
        })?;
    if body.authorize_url != scheme.authorize_url {
        return Err(ApiError(Error::invalid_field(
            "authorizeUrl",
            "is not the authorizeUrl of the connector's auth scheme config",
        )));
    }
    let redirect_uri = policy.redirect_uri(s, body.redirect_url.as_deref())?;
    let additional: Vec<(String, String)> = match body.additional_params.as_deref() {
        Some(p) => form_urlencoded::parse(p.trim_start_matches('?').as_bytes())
            .into_owned()
            .collect(),
        None => Vec::new(),
    };
    for (k, _) in &additional {
        // `prompt` may come from here when the request has no `prompt` of its own.
        if let Some(reserved) =
            oauth_policy::reserved_param(k).filter(|r| !(*r == "prompt" && body.prompt.is_none()))
        {
            return Err(ApiError(Error::invalid_field(
                "additionalParams",
                format!("must not set {k:?} ({reserved}): the server sets it, or it could send the code elsewhere"),
            )));
        }
    }

    let mut scopes: Vec<String> = body
        .scopes
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    if !body.disable_offline_access && !scopes.iter().any(|s| s == "offline_access") {
        scopes.push("offline_access".to_owned());
    }
    let state = random_token();
    let state_hash = sha256_hex(&state);
    let verifier = scheme.pkce.unwrap_or(false).then(random_token);
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("client_id", &body.client_id);
        q.append_pair("redirect_uri", &redirect_uri);
        q.append_pair("response_type", "code");
        if !scopes.is_empty() {
            q.append_pair("scope", &scopes.join(" "));
        }
        q.append_pair("state", &state);
        let approval = additional
            .iter()
            .any(|(k, _)| matches!(oauth_policy::fold(k).as_str(), "approval_prompt" | "prompt"));
        match body.prompt.as_deref() {
            Some("") => {}
            Some(p) => {
                q.append_pair("prompt", p);
            }
            None if !approval => {
                q.append_pair("prompt", "login");
            }
            None => {}
        }
        if let Some(v) = &verifier {
            q.append_pair("code_challenge", &b64url(&Sha256::digest(v.as_bytes())));
            q.append_pair("code_challenge_method", "S256");
        }
        for (k, v) in &additional {
            q.append_pair(k, v);
        }
    }
    let now = time::now();
    let record = OAuthState {
        code_verifier: verifier.map(|v| s.vault.seal(v.as_bytes(), &state_hash)),
        oauth1: None,
        opener_origin: Some(policy.opener_origin.clone()),
        state_hash,
        organisation_id: org.to_owned(),
        grant_credential_id: body.credential.id,
        connector_id: connector_id.to_owned(),
        client_id: body.client_id,
        redirect_uri,
        token_url: scheme.token_url.clone(),
        additional_token_params: scheme.additional_token_params.clone(),
        scopes,
        created_at: now,
        expires_at: now
            + chrono::Duration::from_std(s.oauth_state_ttl)
                .unwrap_or(chrono::Duration::minutes(10)),
    };
    s.store.insert_oauth_state(org, &record).await?;
    Ok(InitialiseResponse { url: url.into() })
}

/// The client id and secret (and URLs) a grant credential holds.
pub(crate) async fn open_grant_credential(
    s: &AppState,
    org: &str,
    id: &str,
) -> ApiResult<Map<String, Value>> {
    crate::credentials::open_credential(s, org, id)
        .await?
        .ok_or_else(|| ApiError(Error::invalid_field("credential.id", "no such credential")))
}

/// 32 random bytes, base64url: states and PKCE verifiers (43 characters, as RFC 7636 allows).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    b64url(&bytes)
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Completing connections: `oauth2-code` credentials become `oauth2-token` ones.

/// Exchanges every `oauth2-code` credential of the connections for tokens (and every `oauth1`
/// callback result for an `oauth1-token`, see [`crate::oauth1`]), after everything else about the
/// request has been checked. A state works once: unknown, expired or replayed states, a redirect
/// URL other than the one the flow started with, and codes or verifiers the provider refuses are
/// 400s naming the credential's field; nothing is stored then.
pub async fn complete(
    s: &AppState,
    org: &str,
    pending: Vec<PendingConnection>,
) -> ApiResult<Vec<NewConnection>> {
    let mut out = Vec::with_capacity(pending.len());
    let mut fields = Vec::new();
    for p in pending {
        let PendingConnection {
            mut connection,
            paths,
        } = p;
        for (i, cred) in connection.credentials.iter_mut().enumerate() {
            let (result, stored_type) = match cred.view.credential_type {
                CredentialType::OAuth2Code => (
                    exchange(s, org, &connection.connection.connector_id, cred, &paths[i]).await,
                    CredentialType::OAuth2Token,
                ),
                CredentialType::OAuth1 => (
                    crate::oauth1::exchange(
                        s,
                        org,
                        &connection.connection.connector_id,
                        cred,
                        &paths[i],
                    )
                    .await,
                    CredentialType::OAuth1Token,
                ),
                _ => continue,
            };
            match result {
                Ok(token) => {
                    let (id, expires_at) = (cred.view.id.clone(), cred.view.expires_at);
                    *cred = crate::credentials::seal_data(
                        s,
                        org,
                        &id,
                        &cred.view.name,
                        stored_type,
                        &token,
                    );
                    cred.view.expires_at = expires_at;
                    if let Some(c) = connection
                        .connection
                        .credentials
                        .iter_mut()
                        .find(|c| c.credential.id == id)
                    {
                        c.credential = cred.view.clone();
                    }
                }
                Err(Exchange::Field(f)) => fields.push(f),
                Err(Exchange::Fatal(e)) => return Err(e),
            }
        }
        out.push(connection);
    }
    if !fields.is_empty() {
        let message = if fields.len() == 1 {
            format!("{}: {}", fields[0].field, fields[0].message)
        } else {
            format!(
                "{} OAuth codes or verifiers could not be used",
                fields.len()
            )
        };
        return Err(ApiError(Error::invalid_fields(message, fields)));
    }
    Ok(out)
}

pub(crate) enum Exchange {
    Field(FieldError),
    Fatal(ApiError),
}

impl From<ApiError> for Exchange {
    fn from(e: ApiError) -> Self {
        Exchange::Fatal(e)
    }
}

async fn exchange(
    s: &AppState,
    org: &str,
    connector_id: &str,
    cred: &NewCredential,
    path: &str,
) -> Result<SecretData, Exchange> {
    let field = |name: &str, message: &str| {
        Exchange::Field(FieldError::new(format!("{path}.data.{name}"), message))
    };
    let plain = s.vault.open(&cred.sealed, &cred.view.id).map_err(|e| {
        ApiError(Error::internal(format!(
            "cannot open a new credential: {e}"
        )))
    })?;
    let data: Map<String, Value> = serde_json::from_slice(&plain)
        .map_err(|_| ApiError(Error::internal("a new credential holds no JSON object")))?;
    let text = |k: &str| {
        data.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (code, state) = (text("code"), text("state"));
    let Some(flow) = s
        .store
        .consume_oauth_state(org, &sha256_hex(&state), time::now())
        .await
        .map_err(ApiError::from)?
    else {
        return Err(field(
            "state",
            "unknown, expired or already used OAuth2 state: start again with oauth2/initialise",
        ));
    };
    if flow.connector_id != connector_id {
        return Err(field(
            "state",
            "this OAuth2 flow was started for another connector",
        ));
    }
    if flow.oauth1.is_some() {
        return Err(field(
            "state",
            "this state belongs to an OAuth 1.0a flow: submit an oauth1 credential",
        ));
    }
    let redirect = text("redirectUrl");
    if !redirect.is_empty() && redirect != flow.redirect_uri {
        return Err(field(
            "redirectUrl",
            "is not the redirect URL this OAuth2 flow started with",
        ));
    }
    let grant = open_grant_credential(s, org, &flow.grant_credential_id).await?;
    let secret = grant
        .get("clientSecret")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut form: Vec<(String, String)> = vec![
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), code),
        ("redirect_uri".into(), flow.redirect_uri.clone()),
        ("client_id".into(), flow.client_id.clone()),
        ("client_secret".into(), secret.to_owned()),
    ];
    if let Some(v) = &flow.code_verifier {
        let v = s
            .vault
            .open(v, &flow.state_hash)
            .map_err(|e| ApiError(Error::internal(format!("cannot open a PKCE verifier: {e}"))))?;
        form.push((
            "code_verifier".into(),
            String::from_utf8_lossy(&v).into_owned(),
        ));
    }
    for extra in [
        flow.additional_token_params.clone().unwrap_or_default(),
        text("additionalParams"),
    ] {
        for (k, v) in form_urlencoded::parse(extra.as_bytes()).into_owned() {
            if !form.iter().any(|(f, _)| *f == k) {
                form.push((k, v));
            }
        }
    }
    let http = provider_for(s, org, mtls_of(&grant)?.as_deref()).await?;
    s.rate_limits.provider_call(org).map_err(ApiError)?;
    let token = request_token(&http, &flow.token_url, &form).await.map_err(|e| match e {
        TokenError::Refused(r) => {
            tracing::info!(connector = connector_id, refusal = %r.for_events(), "an OAuth2 provider refused an authorization code");
            field("code", &format!("the provider refused the code: {}", r.public()))
        }
        TokenError::Unreachable(m) => Exchange::Fatal(ApiError(Error::unavailable(format!("the OAuth2 provider's token endpoint failed: {m}")))),
    })?;
    Ok(token.into_credential_data(&flow.scopes, None))
}

/// What a token endpoint answered.
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub scopes: Option<Vec<String>>,
}

impl TokenResponse {
    /// `oauth2-token` data; `previous_refresh` is kept when the provider did not rotate it.
    pub fn into_credential_data(
        self,
        requested_scopes: &[String],
        previous_refresh: Option<&str>,
    ) -> SecretData {
        let scopes = self.scopes.unwrap_or_else(|| requested_scopes.to_vec());
        let mut m = Map::new();
        m.insert("accessToken".into(), json!(self.access_token));
        m.insert("tokenType".into(), json!(self.token_type));
        m.insert(
            "refreshToken".into(),
            json!(self
                .refresh_token
                .as_deref()
                .or(previous_refresh)
                .unwrap_or_default()),
        );
        if let Some(e) = self.expires_at {
            m.insert(
                "expiresAt".into(),
                json!(e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            );
        }
        m.insert("scopes".into(), json!(scopes));
        SecretData::from_map(m)
    }
}

pub enum TokenError {
    /// The provider answered with an OAuth2 error (`invalid_grant`...).
    Refused(ProviderRefusal),
    /// No usable answer: unreachable, refused by the egress guard, 5xx, not JSON, too large. In
    /// Switchyard's own words, safe to show to whoever caused the request.
    Unreachable(String),
}

/// A provider's refusal. Only its error code (one the OAuth2 RFCs define, else
/// `unrecognised_error`) and HTTP status may reach an end user: a provider's own words could be
/// anything, an internal service's banner included. Its words, truncated, go into the events the
/// organisation reads.
#[derive(Debug, Clone)]
pub struct ProviderRefusal {
    pub code: &'static str,
    pub status: u16,
    pub detail: String,
}

/// Error codes of RFC 6749, 6750, 8628, 8693 and OpenID Connect: what a refusal may be called.
const OAUTH_ERROR_CODES: [&str; 21] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "invalid_token",
    "insufficient_scope",
    "authorization_pending",
    "slow_down",
    "expired_token",
    "invalid_target",
    "interaction_required",
    "login_required",
    "consent_required",
    "invalid_dpop_proof",
    "use_dpop_nonce",
];

/// How much of a provider's own words the organisation's events keep.
const DETAIL_CHARS: usize = 300;

impl ProviderRefusal {
    /// From what the provider said: its `error` and `error_description` (or other words).
    pub fn new(status: u16, error: Option<&str>, description: Option<&str>) -> Self {
        let code = error
            .and_then(|e| OAUTH_ERROR_CODES.iter().find(|c| **c == e).copied())
            .unwrap_or("unrecognised_error");
        let said: String = [error.filter(|_| code == "unrecognised_error"), description]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ")
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(DETAIL_CHARS)
            .collect();
        Self {
            code,
            status,
            detail: said,
        }
    }

    /// What anyone may be told: the code and the status.
    pub fn public(&self) -> String {
        format!("{} (HTTP {})", self.code, self.status)
    }

    /// What the organisation's events record: also the provider's words, truncated.
    pub fn for_events(&self) -> String {
        if self.detail.is_empty() {
            self.public()
        } else {
            format!("{}: {}", self.public(), self.detail)
        }
    }
}

/// POSTs a token request (`application/x-www-form-urlencoded`) through the egress guard and
/// reads at most [`egress::MAX_PROVIDER_BODY`] of the answer.
pub async fn request_token(
    http: &Egress,
    token_url: &str,
    form: &[(String, String)],
) -> Result<TokenResponse, TokenError> {
    let unreachable = |e: EgressError| TokenError::Unreachable(e.to_string());
    let request = http
        .post(token_url)
        .map_err(unreachable)?
        .header(header::ACCEPT, "application/json")
        .form(form);
    let res = egress::send(request).await.map_err(unreachable)?;
    let status = res.status();
    let bytes = egress::read_body(res, egress::MAX_PROVIDER_BODY)
        .await
        .map_err(unreachable)?;
    if status.is_server_error() {
        return Err(TokenError::Unreachable(format!(
            "the token endpoint answered HTTP {}",
            status.as_u16()
        )));
    }
    let Ok(body) = serde_json::from_slice::<Value>(&bytes) else {
        if status.is_success() {
            return Err(TokenError::Unreachable(format!(
                "the token endpoint answered HTTP {} with a body that is not JSON",
                status.as_u16()
            )));
        }
        return Err(TokenError::Refused(ProviderRefusal::new(
            status.as_u16(),
            None,
            None,
        )));
    };
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    if !status.is_success() || body.get("error").is_some() {
        let (error, description) = (text("error"), text("error_description"));
        return Err(TokenError::Refused(ProviderRefusal::new(
            status.as_u16(),
            error.as_deref(),
            description.as_deref(),
        )));
    }
    let access_token = text("access_token").ok_or_else(|| {
        TokenError::Unreachable("the token endpoint's answer has no access_token".into())
    })?;
    let expires_at = body
        .get("expires_in")
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .map(|secs| time::now() + chrono::Duration::seconds(secs.clamp(0, 10 * 365 * 86_400)));
    Ok(TokenResponse {
        access_token,
        token_type: text("token_type").unwrap_or_else(|| "Bearer".into()),
        refresh_token: text("refresh_token").filter(|r| !r.is_empty()),
        expires_at,
        scopes: text("scope").map(|s| s.split_whitespace().map(str::to_owned).collect()),
    })
}

/// The certificate credential a client credential's token requests must present (mTLS): its
/// `mTLSCredentialId`, when `mTLSEnabled` is set.
pub fn mtls_of(client: &Map<String, Value>) -> ApiResult<Option<String>> {
    if client.get("mTLSEnabled").and_then(Value::as_bool) != Some(true) {
        return Ok(None);
    }
    match client
        .get("mTLSCredentialId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
    {
        Some(id) => Ok(Some(id.to_owned())),
        None => Err(ApiError(Error::new(
            ErrorKind::Conflict,
            "mTLSEnabled is set but mTLSCredentialId names no certificate credential",
        ))),
    }
}

/// The egress client for a token request: the shared one, or (mTLS) one presenting the client
/// certificate and key of the certificate credential `mtls`, trusting its CA besides the usual roots.
pub async fn provider_for(s: &AppState, org: &str, mtls: Option<&str>) -> ApiResult<Egress> {
    let Some(id) = mtls else {
        return Ok(s.egress.clone());
    };
    let broken = |m: &str| {
        ApiError(Error::new(
            ErrorKind::Conflict,
            format!("the mTLS credential {id} cannot be used: {m}"),
        ))
    };
    let stored = s
        .store
        .get_credential(org, id)
        .await?
        .ok_or_else(|| broken("no credential of this organisation has this id"))?;
    if stored.view.credential_type != CredentialType::Certificate {
        return Err(broken("it is not a certificate credential"));
    }
    let data = crate::credentials::open_credential(s, org, id)
        .await?
        .ok_or_else(|| broken("it is gone"))?;
    let text = |k: &str| {
        data.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let identity = zeroize::Zeroizing::new(format!(
        "{}\n{}\n",
        text("certificate").trim_end(),
        text("key").trim_end()
    ));
    let identity = reqwest::Identity::from_pem(identity.as_bytes())
        .map_err(|_| broken("its certificate and key are not a usable identity"))?;
    let ca = text("ca");
    let roots = if ca.trim().is_empty() {
        Vec::new()
    } else {
        reqwest::Certificate::from_pem_bundle(ca.as_bytes())
            .map_err(|_| broken("its CA is not PEM"))?
    };
    s.egress
        .with_identity(identity, roots)
        .map_err(|_| broken("no TLS client could be built from it"))
}

// ---------------------------------------------------------------------------------------------
// The hosted callback page.

/// The page, with `{meta}` (the opener origin's `<meta>`, or nothing), `{title}` and `{status}`.
const CALLBACK_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{meta}<title>{title}</title>
<style>body{font-family:system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;color:#1f2933;background:#f7f9fb}main{max-width:28rem;padding:2rem;text-align:center}</style>
<script src="/oauth2/callback.js" defer></script>
</head>
<body>
<main><h1>{title}</h1><p id="status" role="status">{status}</p></main>
</body>
</html>
"#;

/// The `<meta>` that carries the origin of the page that started the flow to the script.
const OPENER_META: &str = "switchyard-opener-origin";

/// Answers the opener's `{type:"hello", payload:{state}}` with `{type:"response",
/// payload:{search}}`: only to the opener, only when the hello comes from the origin recorded when
/// the flow started (the page's `<meta name="switchyard-opener-origin">`), posted with exactly that
/// target origin, once, and only when the state is the one in this page's URL. Without the
/// `<meta>` (an unknown, used or expired state) it posts nothing. OAuth 1.0a callbacks bring
/// `state` (Switchyard's, in the callback URL) besides `oauth_token` and `oauth_verifier`; a hello
/// may name either the state or the `oauth_token` of the authorize URL the opener was given.
const CALLBACK_JS: &str = r#"(function () {
  'use strict';
  var search = window.location.search;
  var params = new URLSearchParams(search);
  var state = params.get('state');
  var token = params.get('oauth_token');
  var status = document.getElementById('status');
  var meta = document.querySelector('meta[name="switchyard-opener-origin"]');
  var origin = meta ? meta.getAttribute('content') : '';
  var done = false;
  function say(text) { if (status) status.textContent = text; }
  if (!origin) {
    say('This sign-in attempt has expired or was already used. Close this window and start again.');
    return;
  }
  if (!window.opener) {
    say('This page finishes a connection started in another window. You can close it.');
    return;
  }
  window.addEventListener('message', function (event) {
    if (done || event.source !== window.opener || event.origin !== origin) return;
    var data = event.data;
    if (!data || data.type !== 'hello' || !data.payload) return;
    var said = data.payload.state;
    if (!said || (said !== state && said !== token)) return;
    done = true;
    window.opener.postMessage({ type: 'response', payload: { search: search } }, origin);
    say('Connected. You can close this window.');
    setTimeout(function () { window.close(); }, 300);
  });
})();
"#;

/// The callback page for one flow: with the opener origin its state recorded (a live state), or
/// saying the attempt expired (an unknown, used or expired one).
pub(crate) fn callback_html(opener_origin: Option<&str>) -> String {
    let (meta, title, status) = match opener_origin {
        Some(o) => (
            format!("<meta name=\"{OPENER_META}\" content=\"{}\">\n", oauth_policy::html_escape(o)),
            "Connecting…",
            "Finishing the connection. This window closes by itself.",
        ),
        None => (String::new(), "Sign-in expired", "This sign-in attempt has expired or was already used. Close this window and start again."),
    };
    CALLBACK_HTML
        .replace("{meta}", &meta)
        .replace("{title}", title)
        .replace("{status}", status)
}

/// No referrer (the URL carries the code), no caching, scripts from this origin only.
fn page_headers(content_type: &'static str) -> [(header::HeaderName, &'static str); 5] {
    [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ]
}

/// The hosted callback page. It looks the flow up by its `state` (the OAuth2 provider's echo, or
/// Switchyard's own in an OAuth 1.0a callback URL), by the state's SHA-256 and without spending it,
/// and tells the page's script the origin recorded when the flow started.
async fn callback_page(
    State(s): State<AppState>,
    RawQuery(query): RawQuery,
) -> ApiResult<impl IntoResponse> {
    let state = query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    });
    let origin = match state.filter(|st| !st.is_empty()) {
        // A flow recorded before origins were (no `opener_origin`): the hub page's, Switchyard's own.
        Some(st) => s
            .store
            .find_oauth_state_origin(&sha256_hex(&st), time::now())
            .await?
            .map(|o| o.unwrap_or_else(|| oauth_policy::public_origin(&s.public_url))),
        None => None,
    };
    Ok((
        page_headers("text/html; charset=utf-8"),
        callback_html(origin.as_deref()),
    ))
}

async fn callback_script() -> impl IntoResponse {
    (page_headers("text/javascript; charset=utf-8"), CALLBACK_JS)
}
