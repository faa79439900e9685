//! Hosted OAuth2 authorization-code flows (versori-api.md §6.5).
//!
//! 1. `oauth2/initialise` (Embedded v1, Connect v1 and Platform v2) builds the provider's authorize
//!    URL with a single-use `state` bound to the organisation, the grant credential (client id and
//!    secret) and the redirect URI, and PKCE S256 when the scheme asks for it. Only the state's
//!    SHA-256 is kept. The `redirectUrl` a caller may give must be one the hub (Embedded v1) or the
//!    organisation (Connect v1, Platform v2) allows, or the hosted callback; the state records the
//!    origin of the page that started the flow (its `Origin` header, or Switchyard's own).
//! 2. The provider sends the browser to the hosted callback page ([`super::callback`]).
//! 3. The page submits an `oauth2-code` credential `{code, state}` in a connection or activation;
//!    [`exchange`] consumes the state and trades the code at the token URL with the stored client
//!    secret for an `oauth2-token` credential (see [`super::complete`]).
use super::common::{b64url, random_token, sha256_hex, CredentialRef, Exchange};
use super::policy::FlowPolicy;
use super::provider::{mtls_of, open_grant_credential, provider_for, request_token, TokenError};
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, JsonBody, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use switchyard_domain::auth_scheme::{AuthScheme, AuthSchemeConfig, OAuth2Grant};
use switchyard_domain::credential::{NewCredential, SecretData};
use switchyard_domain::model::OAuthState;
use switchyard_domain::time::{self};
use switchyard_domain::FieldError;
use switchyard_store::OrgId;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(initialise_embedded))
        .routes(routes!(initialise_connect))
        .routes(routes!(initialise_platform))
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
    auth: crate::auth::HubAuth,
    Path((hub_id, connector_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: JsonBody<InitialiseRequest>,
) -> ApiResult<axum::Json<InitialiseResponse>> {
    let org = auth.org().clone();
    let hub = s
        .store
        .get_hub(&org, &hub_id)
        .await?
        .filter(|h| h.deleted_at.is_none())
        .or_not_found("hub")?;
    let body = body.get()?;
    // The scheme may be the connector's own, the hub's (for its primary connector) or a template's.
    let candidates = crate::schemes::hub_schemes(&s, &org, &hub, &connector_id).await?;
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
    Path((_org, connector_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<InitialiseRequest>,
) -> ApiResult<axum::Json<InitialiseResponse>> {
    let org = auth.org.clone();
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
    Path((_org, system_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<InitialiseRequest>,
) -> ApiResult<axum::Json<InitialiseResponse>> {
    let org = auth.org.clone();
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

async fn initialise(
    s: &AppState,
    org: &OrgId,
    connector_id: &str,
    candidates: &[AuthSchemeConfig],
    body: InitialiseRequest,
    policy: &FlowPolicy,
) -> ApiResult<InitialiseResponse> {
    if body.credential.organisation_id != org.as_str() {
        return Err(ApiError::invalid_field(
            "credential.organisationId",
            "is not this organisation",
        ));
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
            ApiError::invalid_field("credential.id", "is not the grant credential of an OAuth2 authorization-code scheme of this connector")
        })?;
    let grant = open_grant_credential(s, org, &body.credential.id).await?;
    if grant.get("clientId").and_then(Value::as_str) != Some(body.client_id.as_str()) {
        return Err(ApiError::invalid_field(
            "clientId",
            "does not match the client id stored in the credential",
        ));
    }
    let mut url = url::Url::parse(&body.authorize_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            ApiError::invalid_field("authorizeUrl", "must be an absolute http(s) URL")
        })?;
    if body.authorize_url != scheme.authorize_url {
        return Err(ApiError::invalid_field(
            "authorizeUrl",
            "is not the authorizeUrl of the connector's auth scheme config",
        ));
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
        if let Some(reserved) = crate::oauth::policy::reserved_param(k)
            .filter(|r| !(*r == "prompt" && body.prompt.is_none()))
        {
            return Err(ApiError::invalid_field(
                "additionalParams",
                format!("must not set {k:?} ({reserved}): the server sets it, or it could send the code elsewhere"),
            ));
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
        let approval = additional.iter().any(|(k, _)| {
            matches!(
                crate::oauth::policy::fold(k).as_str(),
                "approval_prompt" | "prompt"
            )
        });
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
        organisation_id: org.to_string(),
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

pub(super) async fn exchange(
    s: &AppState,
    org: &OrgId,
    connector_id: &str,
    cred: &NewCredential,
    path: &str,
) -> Result<SecretData, Exchange> {
    let field = |name: &str, message: &str| {
        Exchange::Field(FieldError::new(format!("{path}.data.{name}"), message))
    };
    let plain = s
        .vault
        .open(&cred.sealed, &cred.view.id)
        .map_err(|e| ApiError::internal(format!("cannot open a new credential: {e}")))?;
    let data: Map<String, Value> = serde_json::from_slice(&plain)
        .map_err(|_| ApiError::internal("a new credential holds no JSON object"))?;
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
            .map_err(|e| ApiError::internal(format!("cannot open a PKCE verifier: {e}")))?;
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
        TokenError::Unreachable(m) => Exchange::Fatal(ApiError::unavailable(format!("the OAuth2 provider's token endpoint failed: {m}"))),
    })?;
    Ok(token.into_credential_data(&flow.scopes, None))
}
