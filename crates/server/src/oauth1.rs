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
use crate::egress::{self, Egress, EgressError};
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path};
use crate::oauth::{
    random_token, sha256_hex, CredentialRef, Exchange, FlowPolicy, ProviderRefusal,
};
use crate::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use switchyard_domain::auth_scheme::{
    AuthScheme, AuthSchemeConfig, OAuth1SignatureMethod, ParameterTransmission,
};
use switchyard_domain::credential::{NewCredential, SecretData};
use switchyard_domain::model::OAuthState;
use switchyard_domain::time;
use switchyard_domain::{Error, ErrorKind, FieldError};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
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
    org: &str,
    system_id: &str,
    candidates: &[AuthSchemeConfig],
    body: InitialiseRequest,
    policy: &FlowPolicy,
) -> ApiResult<InitialiseResponse> {
    let bad = |field: &str, message: &str| ApiError(Error::invalid_field(field, message));
    if body.credential.organisation_id != org {
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
            ApiError(Error::new(ErrorKind::Conflict, format!("the OAuth 1.0a provider refused the temporary-credential request: {}", r.public())))
        }
        SendError::Unreachable(m) => ApiError(Error::unavailable(format!("the OAuth 1.0a provider's temporary-credential endpoint failed: {m}"))),
    })?;
    let value = |k: &str| {
        answer
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let unusable = |m: &str| {
        ApiError(Error::unavailable(format!(
            "the OAuth 1.0a provider's temporary-credential answer is unusable: {m}"
        )))
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
        organisation_id: org.to_owned(),
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
    org: &str,
    id: &str,
) -> ApiResult<zeroize::Zeroizing<String>> {
    let data = crate::credentials::open_credential(s, org, id)
        .await?
        .ok_or_else(|| ApiError(Error::invalid_field("credential.id", "no such credential")))?;
    match data.get("value").and_then(Value::as_str) {
        Some(v) => Ok(zeroize::Zeroizing::new(v.to_owned())),
        None => Err(ApiError(Error::new(
            ErrorKind::Conflict,
            format!("credential {id} holds no consumer secret"),
        ))),
    }
}

/// Trades an `oauth1` credential (`{state, oauthToken, oauthVerifier}`) for `oauth1-token` data at
/// the token endpoint of the flow its state started (RFC 5849 §2.3).
pub(crate) async fn exchange(
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
    let opened = s.vault.open(sealed, &flow.state_hash).map_err(|e| {
        ApiError(Error::internal(format!(
            "cannot open an OAuth 1.0a flow: {e}"
        )))
    })?;
    let pending: Pending = serde_json::from_slice(&opened).map_err(|_| {
        ApiError(Error::internal(
            "an OAuth 1.0a flow holds no temporary credentials",
        ))
    })?;
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
            SendError::Unreachable(m) => Exchange::Fatal(ApiError(Error::unavailable(format!(
                "the OAuth 1.0a provider's token endpoint failed: {m}"
            )))),
        })?;
    token_data(answer).ok_or_else(|| {
        Exchange::Fatal(ApiError(Error::unavailable(
            "the OAuth 1.0a provider's token answer has no oauth_token or oauth_token_secret",
        )))
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

// ---------------------------------------------------------------------------------------------
// RFC 5849 §3: signing requests.

/// RFC 5849 §3.6: every byte but ALPHA, DIGIT, `-`, `.`, `_` and `~` is percent-encoded, with
/// upper-case hex digits (of the UTF-8 encoding).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// RFC 5849 §3.4.1: `METHOD&base-URI&normalised-parameters`. `params` are the protocol parameters
/// (without `oauth_signature` or `realm`) and any form-body parameters; the URL's query is added.
pub fn base_string(method: &str, url: &url::Url, params: &[(String, String)]) -> String {
    // §3.4.1.2: scheme and host in lower case (the url crate does that), the port only when it
    // is not the scheme's default (the url crate drops default ports), no query, no fragment.
    let host = url.host_str().unwrap_or_default();
    let base_uri = match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    };
    // §3.4.1.3: every parameter encoded, sorted by name then value, joined.
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (encode(&k), encode(&v)))
        .collect();
    pairs.extend(params.iter().map(|(k, v)| (encode(k), encode(v))));
    pairs.sort();
    let normalised = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(&base_uri),
        encode(&normalised)
    )
}

/// RFC 5849 §3.4.2: the HMAC of the base string keyed by `consumer-secret&token-secret`, base64.
pub fn signature(
    method: OAuth1SignatureMethod,
    consumer_secret: &str,
    token_secret: &str,
    base_string: &str,
) -> String {
    let key = zeroize::Zeroizing::new(format!(
        "{}&{}",
        encode(consumer_secret),
        encode(token_secret)
    ));
    let digest = match method {
        OAuth1SignatureMethod::Sha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes())
                .expect("HMAC takes keys of any length");
            mac.update(base_string.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        OAuth1SignatureMethod::Sha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
                .expect("HMAC takes keys of any length");
            mac.update(base_string.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// RFC 5849 §3.5.1: `OAuth name="value", ...`, names and values encoded.
fn authorization_header(params: &[(String, String)]) -> String {
    let fields: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}=\"{}\"", encode(k), encode(v)))
        .collect();
    format!("OAuth {}", fields.join(", "))
}

/// Who signs: the consumer, and the token when there is one.
struct Signer<'a> {
    method: OAuth1SignatureMethod,
    consumer_key: &'a str,
    consumer_secret: &'a str,
    token: Option<&'a str>,
    token_secret: &'a str,
}

enum SendError {
    /// The provider answered 4xx: only its error code and status reach the caller.
    Refused(ProviderRefusal),
    /// No usable answer (unreachable, refused by the egress guard, 5xx, too large), in
    /// Switchyard's own words.
    Unreachable(String),
}

impl Signer<'_> {
    /// The protocol parameters for one request, `extra` (`oauth_callback`, `oauth_verifier`)
    /// included, signed.
    fn sign(
        &self,
        method: &str,
        url: &url::Url,
        extra: &[(&str, &str)],
        nonce: &str,
        timestamp: &str,
    ) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = vec![
            ("oauth_consumer_key".into(), self.consumer_key.into()),
            ("oauth_nonce".into(), nonce.into()),
            (
                "oauth_signature_method".into(),
                self.method.oauth_name().into(),
            ),
            ("oauth_timestamp".into(), timestamp.into()),
            ("oauth_version".into(), "1.0".into()),
        ];
        if let Some(t) = self.token {
            params.push(("oauth_token".into(), t.into()));
        }
        params.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let signature = signature(
            self.method,
            self.consumer_secret,
            self.token_secret,
            &base_string(method, url, &params),
        );
        params.push(("oauth_signature".into(), signature));
        params
    }

    /// POSTs a signed request to `endpoint` and reads the form-encoded answer (§2.1, §2.3).
    async fn send(
        &self,
        http: &Egress,
        endpoint: &str,
        transmission: Option<ParameterTransmission>,
        extra: &[(&str, &str)],
    ) -> Result<Vec<(String, String)>, SendError> {
        let mut url = url::Url::parse(endpoint)
            .map_err(|_| SendError::Unreachable("the endpoint is not a URL".into()))?;
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let params = self.sign(
            "POST",
            &url,
            extra,
            &hex::encode(nonce),
            &time::now().timestamp().to_string(),
        );
        let unreachable = |e: EgressError| SendError::Unreachable(e.to_string());
        let request = match transmission.unwrap_or(ParameterTransmission::AuthorizationHeader) {
            ParameterTransmission::AuthorizationHeader => http
                .post(url.as_str())
                .map_err(unreachable)?
                .header(
                    axum::http::header::AUTHORIZATION,
                    authorization_header(&params),
                )
                .header(axum::http::header::CONTENT_LENGTH, "0"),
            ParameterTransmission::Form => {
                http.post(url.as_str()).map_err(unreachable)?.form(&params)
            }
            ParameterTransmission::Query => {
                url.query_pairs_mut().extend_pairs(params.iter());
                http.post(url.as_str())
                    .map_err(unreachable)?
                    .header(axum::http::header::CONTENT_LENGTH, "0")
            }
        };
        // Errors are reported without the URL, whose query may carry the parameters.
        let res = egress::send(request).await.map_err(unreachable)?;
        let status = res.status();
        let body = egress::read_body(res, egress::MAX_PROVIDER_BODY)
            .await
            .map_err(unreachable)?;
        let body = String::from_utf8_lossy(&body);
        if status.is_server_error() {
            return Err(SendError::Unreachable(format!(
                "the endpoint answered HTTP {}",
                status.as_u16()
            )));
        }
        let answer: Vec<(String, String)> = form_urlencoded::parse(body.trim().as_bytes())
            .into_owned()
            .collect();
        if !status.is_success() {
            let said = |k: &str| answer.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let description = said("error_description").or_else(|| said("description"));
            return Err(SendError::Refused(ProviderRefusal::new(
                status.as_u16(),
                said("error").as_deref(),
                description.as_deref(),
            )));
        }
        Ok(answer)
    }
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
    fn percent_encoding_is_rfc_5849s() {
        assert_eq!(encode("abcABC123-._~"), "abcABC123-._~");
        assert_eq!(encode("a b+c*%/=&"), "a%20b%2Bc%2A%25%2F%3D%26");
        assert_eq!(encode("é☃"), "%C3%A9%E2%98%83");
    }

    /// RFC 5849 §3.4.1.1's example: query, form body and protocol parameters, with repeated names
    /// and encoded characters, normalised into the signature base string.
    #[test]
    fn base_string_of_rfc_5849_section_3_4_1() {
        let url = url::Url::parse("http://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b")
            .unwrap();
        let params = owned(&[
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
        ]);
        assert_eq!(
            base_string("post", &url, &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
        let non_default_port = url::Url::parse("https://www.example.net:8080/?q=1").unwrap();
        assert!(base_string("GET", &non_default_port, &[])
            .starts_with("GET&https%3A%2F%2Fwww.example.net%3A8080%2F&"));
    }

    /// RFC 5849 §1.2's three signed requests (HMAC-SHA1): temporary credentials, token
    /// credentials, and a protected resource.
    #[test]
    fn signatures_of_rfc_5849_section_1_2() {
        let initiate = owned(&[
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131200"),
            ("oauth_nonce", "wIjqoS"),
            ("oauth_callback", "http://printer.example.com/ready"),
        ]);
        let url = url::Url::parse("https://photos.example.net/initiate").unwrap();
        assert_eq!(
            signature(
                OAuth1SignatureMethod::Sha1,
                "kd94hf93k423kf44",
                "",
                &base_string("POST", &url, &initiate)
            ),
            "74KNZJeDHnMBp0EMJ9ZHt/XKycU="
        );
        let token = owned(&[
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "hh5s93j4hdidpola"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "walatlh"),
            ("oauth_verifier", "hfdp7dh39dks9884"),
        ]);
        let url = url::Url::parse("https://photos.example.net/token").unwrap();
        assert_eq!(
            signature(
                OAuth1SignatureMethod::Sha1,
                "kd94hf93k423kf44",
                "hdhd0244k9j7ao03",
                &base_string("POST", &url, &token)
            ),
            "gKgrFCywp7rO0OXSjdot/IHF7IU="
        );
        let photos = owned(&[
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131202"),
            ("oauth_nonce", "chapoH"),
        ]);
        let url =
            url::Url::parse("http://photos.example.net/photos?file=vacation.jpg&size=original")
                .unwrap();
        assert_eq!(
            signature(
                OAuth1SignatureMethod::Sha1,
                "kd94hf93k423kf44",
                "pfkkdhi9sl3r4s00",
                &base_string("GET", &url, &photos)
            ),
            "MdpQcU8iPSUjWoN/UDMsK2sui9I="
        );
    }

    #[test]
    fn signed_parameters_and_header() {
        let signer = Signer {
            method: OAuth1SignatureMethod::Sha256,
            consumer_key: "ck",
            consumer_secret: "c s",
            token: Some("t"),
            token_secret: "ts",
        };
        let url = url::Url::parse("https://p.example/access").unwrap();
        let params = signer.sign(
            "POST",
            &url,
            &[("oauth_verifier", "v")],
            "n0nce",
            "1700000000",
        );
        let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "oauth_consumer_key",
                "oauth_nonce",
                "oauth_signature_method",
                "oauth_timestamp",
                "oauth_version",
                "oauth_token",
                "oauth_verifier",
                "oauth_signature"
            ]
        );
        let unsigned = &params[..params.len() - 1];
        let expected = signature(
            OAuth1SignatureMethod::Sha256,
            "c s",
            "ts",
            &base_string("POST", &url, unsigned),
        );
        assert_eq!(params.last().unwrap().1, expected);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(&expected)
                .unwrap()
                .len(),
            32,
            "HMAC-SHA256"
        );
        let header = authorization_header(&owned(&[
            ("oauth_callback", "http://x/cb?state=a b"),
            ("oauth_signature", "a+b/c="),
        ]));
        assert_eq!(header, "OAuth oauth_callback=\"http%3A%2F%2Fx%2Fcb%3Fstate%3Da%20b\", oauth_signature=\"a%2Bb%2Fc%3D\"");
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
