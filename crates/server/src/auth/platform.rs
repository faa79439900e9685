//! Who calls Platform API v2: the organisation itself (an API key), or one of its end users (an
//! end-user JWT). [`PlatformAdmin`] is the organisation only.
use super::api_keys::OrgAuth;
use super::token::{check_path_org, path_param};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use switchyard_domain::ErrorKind;
use switchyard_store::OrgId;

/// 403 for an end-user token reaching beyond its own end user.
pub fn end_user_forbidden() -> ApiError {
    ApiError::new(
        ErrorKind::Forbidden,
        "an end-user token may only act on its own end user, connections and activations",
    )
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
    /// The caller's organisation, checked against the path's by the extractor.
    pub org: OrgId,
    pub caller: Caller,
}

impl PlatformAuth {
    /// The externalId of the end user the caller acts for, when it is an end user.
    pub fn end_user(&self) -> Option<&str> {
        match &self.caller {
            Caller::EndUser { external_id, .. } => Some(external_id),
            Caller::Organisation { .. } => None,
        }
    }

    /// The organisation, or the end user whose externalId is `external_id` (one a body names):
    /// anyone else gets 403.
    pub fn check_user(&self, external_id: &str) -> Result<(), ApiError> {
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
            let t = crate::auth::verify_end_user_jwt(state, token).await?;
            check_path_org(parts, state, &t.org).await?;
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
            return Ok(PlatformAuth { org: t.org, caller });
        }
        let org = OrgAuth::from_request_parts(parts, state).await?;
        Ok(PlatformAuth {
            org: org.org,
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
