//! Hosted OAuth 1.0a connections (RFC 5849; versori-api.md §6.6).
//!
//! 1. `oauth1/initialise` (Platform API v2) asks the scheme's temporary-credential endpoint for a
//!    request token, signed with the consumer key and the consumer secret the scheme's credential
//!    holds, with `oauth_callback` = the hosted callback page (or a `redirectUrl` the organisation's
//!    `oauthRedirectUrls` allow) plus a single-use `state`. The state
//!    (only its SHA-256 kept) is bound to the organisation, the system and the credential; the
//!    temporary token and its secret are sealed with it. The answer is the resource-owner
//!    authorization endpoint with `oauth_token`.
//! 2. The provider sends the browser to `/oauth2/callback?state=…&oauth_token=…&oauth_verifier=…`,
//!    the page OAuth2 flows use, which hands `location.search` to the opener.
//! 3. The page submits an `oauth1` credential `{state, oauthToken, oauthVerifier}` in a connection
//!    or activation; [`crate::oauth::complete`] calls [`exchange`], which consumes the state and
//!    trades the verifier at the token endpoint for an `oauth1-token` credential.
//!
//! Requests are signed with HMAC-SHA1 or HMAC-SHA256 (RFC 5849 §3.4), the protocol parameters sent
//! in the `Authorization` header, the form body or the query, as the endpoint's
//! `parameterTransmission` says.
use super::common::{random_token, sha256_hex, CredentialRef, Exchange};
use super::oauth1_signing::{SendError, Signer};
use super::policy::FlowPolicy;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use switchyard_domain::auth_scheme::{
    AuthScheme, AuthSchemeConfig, OAuth1SignatureMethod, ParameterTransmission,
};
use switchyard_domain::credential::{NewCredential, SecretData};
use switchyard_domain::model::OAuthState;
use switchyard_domain::time;
use switchyard_domain::{ErrorKind, FieldError};
use switchyard_store::OrgId;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(initialise_platform))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InitialiseOAuth1ConnectionRequest)]
pub struct InitialiseRequest {
    /// The credential holding the consumer secret: the scheme's `credentialId`.
    pub credential: CredentialRef,
    /// Where the provider sends the user back (a Switchyard addition), with `state` added to its
    /// query: Switchyard's hosted callback when omitted, else one of the organisation's
    /// `oauthRedirectUrls`, compared after normalisation.
    #[serde(default)]
    pub redirect_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InitialiseOAuth1ConnectionResponse)]
pub struct InitialiseResponse {
    /// The provider's resource-owner authorization endpoint with `oauth_token`: where to send the user.
    pub url: String,
}

/// Platform API v2: obtains temporary credentials from the provider and answers the URL to send
/// the user to. End-user tokens may call it, as they may call `oauth2/initialise`.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/systems/{system_id}/oauth1/initialise", operation_id = "v2InitialiseOAuth1Connection",
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

/// What a flow keeps between initialise and exchange, sealed in its `oauth_states` row.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pending {
    token: String,
    token_secret: String,
    signature_method: OAuth1SignatureMethod,
    #[serde(default)]
    transmission: Option<ParameterTransmission>,
}

async fn initialise(
    s: &AppState,
    org: &OrgId,
    system_id: &str,
    candidates: &[AuthSchemeConfig],
    body: InitialiseRequest,
    policy: &FlowPolicy,
) -> ApiResult<InitialiseResponse> {
    let bad = |field: &str, message: &str| ApiError::invalid_field(field, message);
    if body.credential.organisation_id != org.as_str() {
        return Err(bad("credential.organisationId", "is not this organisation"));
    }
    let scheme = candidates
        .iter()
        .find_map(|c| match &c.scheme {
            AuthScheme::OAuth1(o)
                if o.credential_id.as_deref() == Some(body.credential.id.as_str()) =>
            {
                Some(o.as_ref())
            }
            _ => None,
        })
        .ok_or_else(|| {
            bad(
                "credential.id",
                "is not the consumer-secret credential of an OAuth 1.0a scheme of this system",
            )
        })?;
    let (Some(temp), Some(authorize), Some(token)) = (
        &scheme.temp_credential_endpoint,
        &scheme.resource_owner_authorization_endpoint,
        &scheme.token_endpoint,
    ) else {
        return Err(bad("credential.id", "its OAuth 1.0a scheme has no endpoints for the browser flow (tokenAuth): connect with an oauth1-token credential"));
    };
    let mut url = url::Url::parse(&authorize.url).map_err(|_| {
        bad(
            "credential.id",
            "its scheme's resourceOwnerAuthorizationEndpoint is not a URL",
        )
    })?;
    let redirect = policy.redirect_uri(s, body.redirect_url.as_deref())?;
    let consumer_secret = consumer_secret(s, org, &body.credential.id).await?;

    let state = random_token();
    let state_hash = sha256_hex(&state);
    let mut callback = url::Url::parse(&redirect)
        .map_err(|_| bad("redirectUrl", "must be an absolute http(s) URL"))?;
    callback.query_pairs_mut().append_pair("state", &state);
    let callback = String::from(callback);
    let signer = Signer {
        method: scheme.signature_method,
        consumer_key: &scheme.consumer_key,
        consumer_secret: &consumer_secret,
        token: None,
        token_secret: "",
    };
    s.rate_limits.provider_call(org)?;
    let answer = signer.send(&s.egress, &temp.url, temp.parameter_transmission, &[("oauth_callback", &callback)]).await.map_err(|e| match e {
        SendError::Refused(r) => {
            tracing::info!(system = system_id, refusal = %r.for_events(), "an OAuth 1.0a provider refused a temporary-credential request");
            ApiError::new(ErrorKind::Conflict, format!("the OAuth 1.0a provider refused the temporary-credential request: {}", r.public()))
        }
        SendError::Unreachable(m) => ApiError::unavailable(format!("the OAuth 1.0a provider's temporary-credential endpoint failed: {m}")),
    })?;
    let value = |k: &str| {
        answer
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let unusable = |m: &str| {
        ApiError::unavailable(format!(
            "the OAuth 1.0a provider's temporary-credential answer is unusable: {m}"
        ))
    };
    if value("oauth_callback_confirmed").as_deref() != Some("true") {
        return Err(unusable("oauth_callback_confirmed is not true"));
    }
    let (Some(temp_token), Some(temp_secret)) = (value("oauth_token"), value("oauth_token_secret"))
    else {
        return Err(unusable("no oauth_token or oauth_token_secret"));
    };
    url.query_pairs_mut()
        .append_pair("oauth_token", &temp_token);
    let pending = Pending {
        token: temp_token,
        token_secret: temp_secret,
        signature_method: scheme.signature_method,
        transmission: token.parameter_transmission,
    };
    let sealed = zeroize::Zeroizing::new(serde_json::to_vec(&pending).expect("serialises"));
    let now = time::now();
    let record = OAuthState {
        oauth1: Some(s.vault.seal(&sealed, &state_hash)),
        state_hash,
        organisation_id: org.to_string(),
        grant_credential_id: body.credential.id,
        connector_id: system_id.to_owned(),
        client_id: scheme.consumer_key.clone(),
        redirect_uri: callback,
        token_url: token.url.clone(),
        additional_token_params: None,
        scopes: Vec::new(),
        code_verifier: None,
        opener_origin: Some(policy.opener_origin.clone()),
        created_at: now,
        expires_at: now
            + chrono::Duration::from_std(s.oauth_state_ttl)
                .unwrap_or(chrono::Duration::minutes(10)),
    };
    s.store.insert_oauth_state(org, &record).await?;
    Ok(InitialiseResponse { url: url.into() })
}

/// The consumer secret a scheme's credential holds.
async fn consumer_secret(
    s: &AppState,
    org: &OrgId,
    id: &str,
) -> ApiResult<zeroize::Zeroizing<String>> {
    let data = crate::credentials::open_credential(s, org, id)
        .await?
        .ok_or_else(|| ApiError::invalid_field("credential.id", "no such credential"))?;
    match data.get("value").and_then(Value::as_str) {
        Some(v) => Ok(zeroize::Zeroizing::new(v.to_owned())),
        None => Err(ApiError::new(
            ErrorKind::Conflict,
            format!("credential {id} holds no consumer secret"),
        )),
    }
}

/// Trades an `oauth1` credential (`{state, oauthToken, oauthVerifier}`) for `oauth1-token` data at
/// the token endpoint of the flow its state started (RFC 5849 §2.3).
pub(crate) async fn exchange(
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
    let Some(flow) = s
        .store
        .consume_oauth_state(org, &sha256_hex(&text("state")), time::now())
        .await
        .map_err(ApiError::from)?
    else {
        return Err(field(
            "state",
            "unknown, expired or already used OAuth 1.0a state: start again with oauth1/initialise",
        ));
    };
    if flow.connector_id != connector_id {
        return Err(field(
            "state",
            "this OAuth 1.0a flow was started for another system",
        ));
    }
    let Some(sealed) = &flow.oauth1 else {
        return Err(field(
            "state",
            "this state belongs to an OAuth2 flow: submit an oauth2-code credential",
        ));
    };
    let opened = s
        .vault
        .open(sealed, &flow.state_hash)
        .map_err(|e| ApiError::internal(format!("cannot open an OAuth 1.0a flow: {e}")))?;
    let pending: Pending = serde_json::from_slice(&opened)
        .map_err(|_| ApiError::internal("an OAuth 1.0a flow holds no temporary credentials"))?;
    if text("oauthToken") != pending.token {
        return Err(field(
            "oauthToken",
            "is not the temporary token this OAuth 1.0a flow was given",
        ));
    }
    let consumer_secret = consumer_secret(s, org, &flow.grant_credential_id).await?;
    let signer = Signer {
        method: pending.signature_method,
        consumer_key: &flow.client_id,
        consumer_secret: &consumer_secret,
        token: Some(&pending.token),
        token_secret: &pending.token_secret,
    };
    let verifier = text("oauthVerifier");
    s.rate_limits.provider_call(org).map_err(ApiError)?;
    let answer = signer
        .send(
            &s.egress,
            &flow.token_url,
            pending.transmission,
            &[("oauth_verifier", &verifier)],
        )
        .await
        .map_err(|e| match e {
            SendError::Refused(r) => field(
                "oauthVerifier",
                &format!("the provider refused the verifier: {}", r.public()),
            ),
            SendError::Unreachable(m) => Exchange::Fatal(ApiError::unavailable(format!(
                "the OAuth 1.0a provider's token endpoint failed: {m}"
            ))),
        })?;
    token_data(answer).ok_or_else(|| {
        Exchange::Fatal(ApiError::unavailable(
            "the OAuth 1.0a provider's token answer has no oauth_token or oauth_token_secret",
        ))
    })
}

/// `oauth1-token` data from a token endpoint's answer: the token, its secret, and every other
/// parameter as `additionalParams`.
fn token_data(answer: Vec<(String, String)>) -> Option<SecretData> {
    let mut m = Map::new();
    let mut extra = Vec::new();
    for (k, v) in answer {
        match k.as_str() {
            "oauth_token" => m.insert("token".into(), json!(v)),
            "oauth_token_secret" => m.insert("tokenSecret".into(), json!(v)),
            _ if k.is_empty() => None,
            _ => {
                extra.push(json!({"name": k, "value": v}));
                None
            }
        };
    }
    let filled = |k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    if !filled("token") || !filled("tokenSecret") {
        return None;
    }
    if !extra.is_empty() {
        m.insert("additionalParams".into(), Value::Array(extra));
    }
    Some(SecretData::from_map(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn token_answers() {
        let d = token_data(owned(&[
            ("oauth_token", "t"),
            ("oauth_token_secret", "s"),
            ("user_id", "7"),
        ]))
        .unwrap();
        assert_eq!(
            Value::Object(d.into_inner()),
            json!({"token": "t", "tokenSecret": "s", "additionalParams": [{"name": "user_id", "value": "7"}]})
        );
        assert!(token_data(owned(&[("oauth_token", "t")])).is_none());
    }
}
