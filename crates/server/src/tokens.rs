//! Access tokens for whoever runs the integration: a connection's OAuth2 access token, obtained
//! (client credentials, password) or refreshed (authorization code) when it is missing or expires
//! within [`REFRESH_MARGIN`], and cached in the credential's sealed data.
//!
//! A refresh happens exactly once per credential at a time, across every node: one flight per
//! credential inside a process ([`RefreshLocks`]), and a lease in the database between processes
//! (a conditional UPDATE; see `Store::take_refresh_lease`). Whoever does not hold the lease waits
//! for the holder's result. A rotated refresh token is written in the same UPDATE as the access
//! token it came with. After `invalid_grant` the credential is read again: if another node rotated
//! the refresh token meanwhile it was a lost race and its token is used; otherwise the grant was
//! revoked, `errors` is set and a `refresh_failed` event recorded.
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::oauth::{self, TokenError};
use crate::state::AppState;
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;
use switchyard_domain::auth_scheme::{AuthScheme, OAuth2Scheme};
use switchyard_domain::credential::{self, CredentialType, SecretData};
use switchyard_domain::model::{ConnectionCredential, CredentialEvent};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{new_id, ErrorKind};
use switchyard_store::OrgId;
use utoipa::ToSchema;

/// A token expiring sooner than this is refreshed before it is handed out.
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// How long a node may hold a refresh lease; a crashed holder blocks others no longer than this.
const LEASE: chrono::Duration = chrono::Duration::seconds(30);

/// How long a request waits for another node's refresh before giving up with a 503.
const WAIT: Duration = Duration::from_secs(45);

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: String,
    /// When the provider said it expires; absent when it did not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// Checks new client-credentials and password credentials by fetching a token (which is then
/// cached): a working one gets `errors: []`, a refused one the provider's reason (and an event).
/// When the provider cannot be reached, `errors` stays absent: not validated.
pub async fn check_new_credentials<'a>(
    s: &AppState,
    org: &OrgId,
    connections: impl IntoIterator<Item = &'a switchyard_domain::model::Connection>,
) {
    for c in connections {
        for cc in &c.credentials {
            let checkable = matches!(
                cc.credential.credential_type,
                CredentialType::OAuth2Client | CredentialType::OAuth2Password
            ) && matches!(cc.auth_scheme_config.scheme, AuthScheme::OAuth2(_));
            if !checkable {
                continue;
            }
            match fresh_token(s, org, cc).await {
                Ok(_) => {
                    if let Err(e) = s.store.mark_credential_valid(org, &cc.credential.id).await {
                        tracing::warn!(error = %e, "could not record a credential as valid");
                    }
                }
                Err(e) => {
                    tracing::info!(credential = %cc.credential.id, status = e.0.kind.status(), "a new credential did not yield a token")
                }
            }
        }
    }
}

/// The credential's current data, opened.
async fn read(s: &AppState, org: &OrgId, id: &str) -> ApiResult<Map<String, Value>> {
    crate::credentials::open_credential(s, org, id)
        .await?
        .or_not_found("credential")
}

fn text<'a>(data: &'a Map<String, Value>, key: &str) -> &'a str {
    data.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The cached token, if it is good for at least [`REFRESH_MARGIN`] more.
fn usable(data: &Map<String, Value>, now: Timestamp) -> Option<AccessToken> {
    let token = token_of(data)?;
    if let Some(expires) = &token.expires_at {
        let at = chrono::DateTime::parse_from_rfc3339(expires)
            .ok()?
            .with_timezone(&chrono::Utc);
        if at - now < REFRESH_MARGIN {
            return None;
        }
    }
    Some(token)
}

/// The token the data holds, however soon it expires.
fn token_of(data: &Map<String, Value>) -> Option<AccessToken> {
    let token = text(data, "accessToken");
    (!token.is_empty()).then(|| AccessToken {
        access_token: token.to_owned(),
        token_type: Some(text(data, "tokenType"))
            .filter(|t| !t.is_empty())
            .unwrap_or("Bearer")
            .to_owned(),
        expires_at: Some(text(data, "expiresAt").to_owned()).filter(|e| !e.is_empty()),
    })
}

pub async fn fresh_token(
    s: &AppState,
    org: &OrgId,
    cc: &ConnectionCredential,
) -> ApiResult<AccessToken> {
    let AuthScheme::OAuth2(scheme) = &cc.auth_scheme_config.scheme else {
        return Err(ApiError::bad_request("not an OAuth2 credential"));
    };
    let id = cc.credential.id.as_str();
    if cc.credential.credential_type == CredentialType::JwtBearer {
        return signed_assertion(&read(s, org, id).await?);
    }
    if let Some(t) = usable(&read(s, org, id).await?, time::now()) {
        return Ok(t);
    }
    // One flight per credential in this process...
    let lock = s.refresh_locks.lock_for(id);
    let _flight = lock.lock().await;
    if let Some(t) = usable(&read(s, org, id).await?, time::now()) {
        return Ok(t);
    }
    // ...and one lease per credential across processes.
    let owner = format!("{}:{}", s.refresh_locks.node, new_id());
    let started = std::time::Instant::now();
    loop {
        let now = time::now();
        if s.store
            .take_refresh_lease(org, id, &owner, now + LEASE, now)
            .await?
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Some(t) = usable(&read(s, org, id).await?, time::now()) {
            return Ok(t);
        }
        if started.elapsed() > WAIT {
            return Err(ApiError::unavailable(
                "another node is still refreshing this credential's token; try again",
            ));
        }
    }
    let result = refresh_leased(s, org, cc, scheme, &owner).await;
    if result.is_err() {
        // Whatever happened, the lease must not outlive this attempt.
        if let Err(e) = s.store.release_refresh_lease(org, id, &owner).await {
            tracing::warn!(error = %e, "could not release a refresh lease");
        }
    }
    result
}

/// A `jwt-bearer` credential's token: a new JWT (an RFC 7523 assertion) signed with the stored
/// secret, carrying the stored payload's claims plus `iat`, `exp` (`expiresIn` ahead, one hour by
/// default) and a unique `jti`. Nothing is cached: signing is cheap and every token is fresh.
fn signed_assertion(data: &Map<String, Value>) -> ApiResult<AccessToken> {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let broken = |m: &str| {
        ApiError::new(
            ErrorKind::Conflict,
            format!("the jwt-bearer credential cannot sign: {m}"),
        )
    };
    let alg = Some(text(data, "algorithm"))
        .filter(|a| !a.is_empty())
        .unwrap_or("HS256");
    let algorithm: Algorithm = alg.parse().map_err(|_| broken("unknown algorithm"))?;
    let secret = credential::decode_base64(text(data, "secret"))
        .ok_or_else(|| broken("the secret is not base64"))?;
    let key = match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => EncodingKey::from_secret(&secret),
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            EncodingKey::from_rsa_pem(&secret)
                .map_err(|_| broken("the secret is not an RSA private key"))?
        }
        _ => return Err(broken("unsupported algorithm")),
    };
    let mut claims = match text(data, "payload") {
        "" => Map::new(),
        p => match serde_json::from_str::<Value>(p) {
            Ok(Value::Object(m)) => m,
            _ => return Err(broken("the payload is not a JSON object")),
        },
    };
    let lifetime = Some(text(data, "expiresIn"))
        .filter(|e| !e.is_empty())
        .and_then(credential::parse_go_duration)
        .unwrap_or(3600.0);
    let now = time::now();
    let expires = now + chrono::Duration::milliseconds((lifetime * 1000.0) as i64);
    claims.insert("iat".into(), Value::from(now.timestamp()));
    claims.insert("exp".into(), Value::from(expires.timestamp()));
    claims.insert("jti".into(), Value::from(new_id()));
    let token = jsonwebtoken::encode(&Header::new(algorithm), &claims, &key)
        .map_err(|_| broken("signing failed"))?;
    Ok(AccessToken {
        access_token: token,
        token_type: Some(text(data, "authorizationHeaderPrefix"))
            .filter(|p| !p.is_empty())
            .unwrap_or("Bearer")
            .to_owned(),
        expires_at: Some(time::format(&expires)),
    })
}

async fn refresh_leased(
    s: &AppState,
    org: &OrgId,
    cc: &ConnectionCredential,
    scheme: &OAuth2Scheme,
    owner: &str,
) -> ApiResult<AccessToken> {
    let id = cc.credential.id.as_str();
    // Someone may have finished just before the lease was ours.
    let data = read(s, org, id).await?;
    if let Some(t) = usable(&data, time::now()) {
        s.store.release_refresh_lease(org, id, owner).await?;
        return Ok(t);
    }
    let ty = cc.credential.credential_type;
    let (token_url, form, mtls) = token_request(
        s,
        org,
        ty,
        scheme,
        cc.auth_scheme_config.grant_credential_id(),
        &data,
    )
    .await?;
    let http = oauth::provider_for(s, org, mtls.as_deref()).await?;
    s.rate_limits.provider_call(org)?;
    match oauth::request_token(&http, &token_url, &form).await {
        Ok(answer) => {
            let new_data = match ty {
                CredentialType::OAuth2Token => answer
                    .into_credential_data(&scopes_of(&data), Some(text(&data, "refreshToken"))),
                // Client and password credentials keep what they hold, plus the cached token.
                _ => {
                    let mut merged = data.clone();
                    let fresh = answer.into_credential_data(&[], None).into_inner();
                    for k in ["accessToken", "tokenType", "expiresAt"] {
                        match fresh.get(k) {
                            Some(v) => merged.insert(k.to_owned(), v.clone()),
                            None => merged.remove(k),
                        };
                    }
                    SecretData::from_map(merged)
                }
            };
            // The provider's answer always has an access token (request_token checks it).
            let token = token_of(new_data.expose()).ok_or_else(|| {
                ApiError::internal("a refreshed credential holds no access token")
            })?;
            let sealed =
                crate::credentials::seal_data(s, org, id, &cc.credential.name, ty, &new_data);
            s.store
                .store_refreshed_credential(org, &sealed, owner, time::now())
                .await?;
            Ok(token)
        }
        Err(TokenError::Refused(refusal)) => {
            // A lost race looks like a revoked grant: look again before calling it revoked.
            let now_data = read(s, org, id).await?;
            if text(&now_data, "refreshToken") != text(&data, "refreshToken") {
                if let Some(t) = usable(&now_data, time::now()) {
                    s.store.release_refresh_lease(org, id, owner).await?;
                    return Ok(t);
                }
            }
            // The credential's `errors` (which end users read) get the code and status only; the
            // organisation's event also the provider's words.
            let public = format!(
                "the provider refused the token request: {}",
                refusal.public()
            );
            let event = CredentialEvent {
                id: new_id(),
                organisation_id: org.to_string(),
                credential_id: id.to_owned(),
                kind: "refresh_failed".into(),
                reason: format!(
                    "the provider refused the token request: {}",
                    refusal.for_events()
                ),
                created_at: time::now(),
            };
            s.store
                .fail_credential(org, id, owner, std::slice::from_ref(&public), &event)
                .await?;
            tracing::warn!(
                credential = id,
                code = refusal.code,
                status = refusal.status,
                "token refresh refused by the provider"
            );
            Err(ApiError::new(
                ErrorKind::Conflict,
                format!("{public}; the connection must be made again"),
            ))
        }
        Err(TokenError::Unreachable(m)) => Err(ApiError::unavailable(format!(
            "the OAuth2 provider's token endpoint failed: {m}"
        ))),
    }
}

fn scopes_of(data: &Map<String, Value>) -> Vec<String> {
    data.get("scopes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The token URL and form for the credential's grant.
async fn token_request(
    s: &AppState,
    org: &OrgId,
    ty: CredentialType,
    scheme: &OAuth2Scheme,
    grant_id: Option<&str>,
    data: &Map<String, Value>,
) -> ApiResult<(String, Vec<(String, String)>, Option<String>)> {
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let mut form = Vec::new();
    let mut token_url = scheme.token_url.clone();
    let mut extra = scheme.additional_token_params.clone().unwrap_or_default();
    // The client id and secret (and mTLS certificate): the credential itself, or the scheme's
    // grant credential.
    let (client, mtls) = match (ty, grant_id) {
        (CredentialType::OAuth2Client, _) => (
            (
                text(data, "clientId").to_owned(),
                text(data, "clientSecret").to_owned(),
            ),
            oauth::mtls_of(data)?,
        ),
        (_, Some(grant_id)) => {
            let g = oauth::open_grant_credential(s, org, grant_id).await?;
            (
                (
                    text(&g, "clientId").to_owned(),
                    text(&g, "clientSecret").to_owned(),
                ),
                oauth::mtls_of(&g)?,
            )
        }
        (_, None) => {
            return Err(ApiError::bad_request(
                "the auth scheme config names no credential with a client id and secret",
            ))
        }
    };
    match ty {
        CredentialType::OAuth2Token => {
            let refresh = text(data, "refreshToken");
            if refresh.is_empty() {
                return Err(ApiError::new(
                    ErrorKind::Conflict,
                    "the access token expired and there is no refresh token: the connection must be made again",
                ));
            }
            form.push(pair("grant_type", "refresh_token"));
            form.push(pair("refresh_token", refresh));
        }
        CredentialType::OAuth2Client => {
            form.push(pair("grant_type", "client_credentials"));
            if let Some(u) = Some(text(data, "tokenUrl")).filter(|u| !u.is_empty()) {
                token_url = u.to_owned();
            }
            let scopes = scopes_of(data);
            let scopes = if scopes.is_empty() {
                scheme.default_scopes.clone()
            } else {
                scopes
            };
            if !scopes.is_empty() {
                form.push(pair("scope", &scopes.join(" ")));
            }
            extra = format!("{extra}&{}", text(data, "additionalParams"));
        }
        CredentialType::OAuth2Password => {
            form.push(pair("grant_type", "password"));
            form.push(pair("username", text(data, "username")));
            form.push(pair("password", text(data, "password")));
            if !scheme.default_scopes.is_empty() {
                form.push(pair("scope", &scheme.default_scopes.join(" ")));
            }
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "a {} credential holds no OAuth2 token",
                other.as_str()
            )))
        }
    }
    form.push(pair("client_id", &client.0));
    form.push(pair("client_secret", &client.1));
    for (k, v) in form_urlencoded::parse(extra.as_bytes()).into_owned() {
        if !form.iter().any(|(f, _)| *f == k) {
            form.push((k, v));
        }
    }
    Ok((token_url, form, mtls))
}
