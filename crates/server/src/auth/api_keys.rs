//! Organisation API keys: `Authorization: Bearer sy_<43 characters>`. A key is 256 random bits;
//! only its SHA-256 hash is stored. [`OrgAuth`] proves the organisation a request acts for.
use super::session_tokens;
use super::token::{bearer, check_path_org, hash_key};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use switchyard_domain::model::ApiKey;
use switchyard_domain::{new_id, time, ErrorKind};
use switchyard_store::OrgId;

pub const KEY_PREFIX: &str = "sy_";

const KEY_BODY_LEN: usize = 43;

/// A new API key for `org`: the key text (shown once) and what is stored of it.
pub fn new_api_key(org: &str, name: &str) -> (String, ApiKey) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let text = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let key = ApiKey {
        id: new_id(),
        organisation_id: org.to_string(),
        name: name.to_owned(),
        prefix: text[..KEY_PREFIX.len() + 6].to_owned(),
        key_hash: hash_key(&text),
        created_at: time::now(),
        last_used_at: None,
        revoked_at: None,
    };
    (text, key)
}

fn well_formed(text: &str) -> bool {
    text.strip_prefix(KEY_PREFIX).is_some_and(|b| {
        b.len() == KEY_BODY_LEN
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    })
}

/// The organisation a request acts for, proven by its API key (and, when the path names one,
/// checked against it by the extractor).
#[derive(Debug, Clone)]
pub struct OrgAuth {
    pub org: OrgId,
    pub key_id: String,
}

impl FromRequestParts<AppState> for OrgAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        if token.starts_with(crate::auth::SESSION_TOKEN_PREFIX) {
            session_tokens::find(state, token).await?;
            return Err(ApiError::new(ErrorKind::Forbidden, "a hub session token can only call what the hub page needs; use an organisation API key"));
        }
        if !well_formed(token) {
            return Err(ApiError::unauthorized("malformed API key"));
        }
        let found = state
            .auth_cache
            .api_key(&state.store, &hash_key(token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown API key"))?;
        let (org, key) = &*found;
        if key.revoked_at.is_some() {
            return Err(ApiError::unauthorized("the API key has been revoked"));
        }
        state.key_uses.record(key);
        check_path_org(parts, state, org).await?;
        Ok(OrgAuth {
            org: org.clone(),
            key_id: key.id.clone(),
        })
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
