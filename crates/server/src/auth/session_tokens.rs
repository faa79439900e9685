//! Hub page session tokens: `sys_` and 43 characters (256 random bits), stored as their SHA-256,
//! each acting for one end user in one hub until it expires.
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use switchyard_domain::model::HubSession;
use switchyard_domain::time;
use switchyard_store::OrgId;

/// Session tokens: `sys_` and 43 characters (256 random bits). API keys start `sy_`.
pub const TOKEN_PREFIX: &str = "sys_";

/// The live session a token proves; 401 otherwise.
pub async fn find(s: &AppState, token: &str) -> ApiResult<(OrgId, HubSession)> {
    let found = s
        .auth_cache
        .hub_session(&s.store, &crate::auth::hash_key(token), time::now())
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown or expired session token"))?;
    Ok((*found).clone())
}
