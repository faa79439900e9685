//! Talking to a provider's token endpoint: the request (through the egress guard, mutual TLS when
//! the credential says so), its answer read up to a bound, and a refusal reduced to what may be
//! shown (the RFC 6749 code and the status) and what the organisation's events keep.
use crate::egress::{self, Egress, EgressError};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::header;
use serde_json::{json, Map, Value};
use switchyard_domain::credential::{CredentialType, SecretData};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::ErrorKind;
use switchyard_store::OrgId;

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
        None => Err(ApiError::new(
            ErrorKind::Conflict,
            "mTLSEnabled is set but mTLSCredentialId names no certificate credential",
        )),
    }
}

/// The egress client for a token request: the shared one, or (mTLS) one presenting the client
/// certificate and key of the certificate credential `mtls`, trusting its CA besides the usual roots.
pub async fn provider_for(s: &AppState, org: &OrgId, mtls: Option<&str>) -> ApiResult<Egress> {
    let Some(id) = mtls else {
        return Ok(s.egress.clone());
    };
    let broken = |m: &str| {
        ApiError::new(
            ErrorKind::Conflict,
            format!("the mTLS credential {id} cannot be used: {m}"),
        )
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

/// The client id and secret (and URLs) a grant credential holds.
pub(crate) async fn open_grant_credential(
    s: &AppState,
    org: &OrgId,
    id: &str,
) -> ApiResult<Map<String, Value>> {
    crate::credentials::open_credential(s, org, id)
        .await?
        .ok_or_else(|| ApiError::invalid_field("credential.id", "no such credential"))
}
