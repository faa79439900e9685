//! What the OAuth flows share: the hosted callback's path, the credential reference of an
//! initialise request, random states and verifiers, and how an exchange fails.
use crate::error::ApiError;
use crate::state::AppState;
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use switchyard_domain::FieldError;
use utoipa::ToSchema;

/// The path of the hosted callback page, under the public URL.
pub const CALLBACK_PATH: &str = "/oauth2/callback";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRef {
    pub id: String,
    pub organisation_id: String,
}

/// Switchyard's hosted callback page: `<public-url>/oauth2/callback`.
pub(crate) fn hosted_callback(s: &AppState) -> String {
    format!("{}{CALLBACK_PATH}", s.public_url.trim_end_matches('/'))
}

/// 32 random bytes, base64url: states and PKCE verifiers (43 characters, as RFC 7636 allows).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    b64url(&bytes)
}

pub(super) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
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
