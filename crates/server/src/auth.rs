//! Organisation API keys: `Authorization: Bearer sy_<43 characters>`. A key is 256 random bits;
//! only its SHA-256 hash is stored.
use crate::error::ApiError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use switchyard_domain::model::ApiKey;
use switchyard_domain::{new_id, time, Error, ErrorKind};

pub const KEY_PREFIX: &str = "sy_";
const KEY_BODY_LEN: usize = 43;

/// A new API key for `org`: the key text (shown once) and what is stored of it.
pub fn new_api_key(org: &str, name: &str) -> (String, ApiKey) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let text = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let key = ApiKey {
        id: new_id(),
        organisation_id: org.to_owned(),
        name: name.to_owned(),
        prefix: text[..KEY_PREFIX.len() + 6].to_owned(),
        key_hash: hash_key(&text),
        created_at: time::now(),
        last_used_at: None,
        revoked_at: None,
    };
    (text, key)
}

pub fn hash_key(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn well_formed(text: &str) -> bool {
    text.strip_prefix(KEY_PREFIX).is_some_and(|b| {
        b.len() == KEY_BODY_LEN
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    })
}

/// The bearer token of a request: 401 when there is none.
pub fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError(Error::unauthorized(
                "missing Authorization header: send Authorization: Bearer <api key>",
            ))
        })?;
    let header = header
        .to_str()
        .map_err(|_| ApiError(Error::unauthorized("malformed Authorization header")))?;
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError(Error::unauthorized(
                "malformed Authorization header: expected Bearer <api key>",
            ))
        })
}

/// The value of the matched route's path parameter `name`, if it has one.
pub(crate) async fn path_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Option<String> {
    let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
        .await
        .ok()?;
    raw.iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A path naming another organisation than the caller's is answered as if it did not exist,
/// before anything else about the request (its body included) is looked at.
async fn check_path_org(parts: &mut Parts, state: &AppState, org: &str) -> Result<(), ApiError> {
    match path_param(parts, state, "organisation_id").await {
        Some(path_org) if path_org != org => Err(ApiError(Error::not_found("organisation"))),
        _ => Ok(()),
    }
}

/// The organisation a request acts for, proven by its API key.
#[derive(Debug, Clone)]
pub struct OrgAuth {
    pub organisation_id: String,
    pub key_id: String,
}

impl OrgAuth {
    /// A path naming another organisation is answered as if it did not exist.
    pub fn check_org(&self, path_org: &str) -> Result<(), ApiError> {
        if self.organisation_id == path_org {
            Ok(())
        } else {
            Err(ApiError(Error::not_found("organisation")))
        }
    }
}

impl FromRequestParts<AppState> for OrgAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        if token.starts_with(crate::session::TOKEN_PREFIX) {
            crate::session::find(state, token).await?;
            return Err(ApiError(Error::new(ErrorKind::Forbidden, "a hub session token can only call what the hub page needs; use an organisation API key")));
        }
        if !well_formed(token) {
            return Err(ApiError(Error::unauthorized("malformed API key")));
        }
        let key = state
            .store
            .find_api_key_by_hash(&hash_key(token))
            .await?
            .ok_or_else(|| ApiError(Error::unauthorized("unknown API key")))?;
        if key.revoked_at.is_some() {
            return Err(ApiError(Error::unauthorized(
                "the API key has been revoked",
            )));
        }
        if key
            .last_used_at
            .is_none_or(|t| time::now() - t > chrono::Duration::seconds(60))
        {
            let store = state.store.clone();
            let id = key.id.clone();
            tokio::spawn(async move {
                if let Err(e) = store.touch_api_key(&id, time::now()).await {
                    tracing::debug!(error = %e, "could not record API key use");
                }
            });
        }
        check_path_org(parts, state, &key.organisation_id).await?;
        Ok(OrgAuth {
            organisation_id: key.organisation_id,
            key_id: key.id,
        })
    }
}

/// 403 for an end-user token reaching beyond its own end user.
pub fn end_user_forbidden() -> ApiError {
    ApiError(Error::new(
        ErrorKind::Forbidden,
        "an end-user token may only act on its own end user, connections and activations",
    ))
}

/// Who calls Platform API v2: the organisation itself (an API key), or one of its end users
/// (`Authorization: JWT <token>` signed by one of the organisation's signing keys).
#[derive(Debug, Clone)]
pub enum Caller {
    Organisation {
        key_id: String,
    },
    /// Acts for the end user whose externalId is `external_id`, and only for that user.
    EndUser {
        external_id: String,
        signing_key_id: String,
    },
}

/// The caller of a Platform API v2 route, and the organisation it belongs to.
#[derive(Debug, Clone)]
pub struct PlatformAuth {
    pub organisation_id: String,
    pub caller: Caller,
}

impl PlatformAuth {
    /// Any caller of the path's organisation: its API key, or any of its end users. A path
    /// naming another organisation is answered as if it did not exist.
    pub fn check_org(&self, path_org: &str) -> Result<(), ApiError> {
        if self.organisation_id == path_org {
            Ok(())
        } else {
            Err(ApiError(Error::not_found("organisation")))
        }
    }

    /// The organisation's API key only: end users get 403.
    pub fn check_admin(&self, path_org: &str) -> Result<(), ApiError> {
        self.check_org(path_org)?;
        match &self.caller {
            Caller::Organisation { .. } => Ok(()),
            Caller::EndUser { .. } => Err(end_user_forbidden()),
        }
    }

    /// The externalId of the end user the caller acts for, when it is an end user.
    pub fn end_user(&self) -> Option<&str> {
        match &self.caller {
            Caller::EndUser { external_id, .. } => Some(external_id),
            Caller::Organisation { .. } => None,
        }
    }

    /// The organisation, or the end user whose externalId is `external_id`: anyone else gets 403.
    pub fn check_user(&self, path_org: &str, external_id: &str) -> Result<(), ApiError> {
        self.check_org(path_org)?;
        match self.end_user() {
            Some(own) if own != external_id => Err(end_user_forbidden()),
            _ => Ok(()),
        }
    }
}

impl FromRequestParts<AppState> for PlatformAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(token) = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("JWT "))
        {
            let t = crate::signing_keys::verify_end_user_jwt(state, token).await?;
            check_path_org(parts, state, &t.organisation_id).await?;
            // A path naming another end user is refused before the request is looked at further.
            if path_param(parts, state, "external_user_id")
                .await
                .is_some_and(|u| u != t.external_id)
            {
                return Err(end_user_forbidden());
            }
            let caller = Caller::EndUser {
                external_id: t.external_id,
                signing_key_id: t.signing_key_id,
            };
            return Ok(PlatformAuth {
                organisation_id: t.organisation_id,
                caller,
            });
        }
        let org = OrgAuth::from_request_parts(parts, state).await?;
        Ok(PlatformAuth {
            organisation_id: org.organisation_id,
            caller: Caller::Organisation { key_id: org.key_id },
        })
    }
}

/// A Platform API v2 caller that must be the organisation itself (an API key): an end-user token
/// gets 403 before the request is looked at further. Routes that administer the organisation
/// (systems, projects, templates, environments, listing and deleting users) take this.
#[derive(Debug, Clone)]
pub struct PlatformAdmin(pub PlatformAuth);

impl std::ops::Deref for PlatformAdmin {
    type Target = PlatformAuth;
    fn deref(&self) -> &PlatformAuth {
        &self.0
    }
}

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = PlatformAuth::from_request_parts(parts, state).await?;
        match auth.caller {
            Caller::Organisation { .. } => Ok(PlatformAdmin(auth)),
            Caller::EndUser { .. } => Err(end_user_forbidden()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn keys_are_prefixed_random_and_hashed() {
        let (a, ka) = new_api_key("o", "n");
        let (b, _) = new_api_key("o", "n");
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert_eq!(ka.key_hash, hash_key(&a));
        assert!(!ka.key_hash.contains(&a[3..]));
        assert!(!well_formed("sy_short"));
    }
}
