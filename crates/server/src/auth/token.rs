//! What every credential presented to Switchyard starts from: the `Authorization: Bearer` token,
//! its SHA-256 (what is stored of API keys and session tokens), and the path's organisation,
//! which the extractors check before anything else about a request.
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use switchyard_store::OrgId;

pub fn hash_key(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The bearer token of a request: 401 when there is none.
pub fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "missing Authorization header: send Authorization: Bearer <api key>",
            )
        })?;
    let header = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::unauthorized("malformed Authorization header: expected Bearer <api key>")
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
pub(crate) async fn check_path_org(
    parts: &mut Parts,
    state: &AppState,
    org: &OrgId,
) -> Result<(), ApiError> {
    match path_param(parts, state, "organisation_id").await {
        Some(path_org) if path_org != org.as_str() => Err(ApiError::not_found("organisation")),
        _ => Ok(()),
    }
}
