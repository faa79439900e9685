//! Who may call the hub page's endpoints: the organisation (an API key), or a hub session, which
//! acts for one end user in one hub, on what the page needs and nothing more. Its scope (its hub,
//! its end user, their activations, its allowed integrations) is checked by the extractor, before
//! the request is looked at further.
use super::api_keys::OrgAuth;
use super::session_tokens::{self, TOKEN_PREFIX};
use super::token::{bearer, path_param};
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use switchyard_domain::model::{Activation, HubSession, IdentifierType};
use switchyard_store::OrgId;

/// Who may call the hub page's endpoints: the organisation (API key), or a hub session.
#[derive(Debug, Clone)]
pub enum HubAuth {
    Org(OrgAuth),
    Session(OrgId, HubSession),
}

impl FromRequestParts<AppState> for HubAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(HubAuth::Org(
                OrgAuth::from_request_parts(parts, state).await?,
            ));
        }
        let (org, session) = session_tokens::find(state, token).await?;
        let auth = HubAuth::Session(org, session);
        // A session's scope (its hub, its end user, their activations) is checked before the
        // request is looked at further.
        let hub = path_param(parts, state, "hub_id").await;
        if let Some(hub) = &hub {
            auth.check_hub(hub)?;
        }
        if let (Some(hub), Some(user)) = (&hub, path_param(parts, state, "user_id").await) {
            let kind = Query::<Identifier>::from_request_parts(parts, state)
                .await
                .ok()
                .and_then(|q| q.0.identifier_type);
            auth.check_user(state, hub, &user, kind).await?;
        }
        if let Some(id) = path_param(parts, state, "activation_id").await {
            let a = state
                .store
                .get_activation(auth.org(), &id)
                .await?
                .ok_or_else(|| ApiError::not_found("activation"))?;
            auth.check_activation(state, &a).await?;
        }
        if let Some(id) = path_param(parts, state, "integration_id").await {
            auth.check_integration(&id)?;
        }
        Ok(auth)
    }
}

impl HubAuth {
    /// The caller's organisation.
    pub fn org(&self) -> &OrgId {
        match self {
            HubAuth::Org(o) => &o.org,
            HubAuth::Session(org, _) => org,
        }
    }

    /// What a connection this caller makes may carry: an API key is the organisation, a session
    /// an end user.
    pub fn requester(&self) -> switchyard_domain::connection::Requester {
        match self {
            HubAuth::Org(_) => switchyard_domain::connection::Requester::Organisation,
            HubAuth::Session(..) => switchyard_domain::connection::Requester::EndUser,
        }
    }

    pub fn session(&self) -> Option<&HubSession> {
        match self {
            HubAuth::Org(_) => None,
            HubAuth::Session(_, s) => Some(s),
        }
    }

    /// A session sees its own hub only; others are answered as if they did not exist.
    pub fn check_hub(&self, hub_id: &str) -> ApiResult<()> {
        match self.session() {
            Some(s) if s.hub_id != hub_id => Err(ApiError::not_found("hub")),
            _ => Ok(()),
        }
    }

    /// A session acts for its own end user only.
    pub async fn check_user(
        &self,
        st: &AppState,
        hub_id: &str,
        user_id: &str,
        kind: Option<IdentifierType>,
    ) -> ApiResult<()> {
        let Some(s) = self.session() else {
            return Ok(());
        };
        self.check_hub(hub_id)?;
        let same = match kind.unwrap_or_default() {
            IdentifierType::External => user_id == s.external_user_id,
            IdentifierType::Internal => st
                .store
                .get_end_user(self.org(), hub_id, user_id, IdentifierType::Internal)
                .await?
                .is_some_and(|u| u.external_id == s.external_user_id),
        };
        if same {
            Ok(())
        } else {
            Err(ApiError::not_found("end user"))
        }
    }

    /// A session sees only its allowed integrations.
    pub fn check_integration(&self, integration_id: &str) -> ApiResult<()> {
        match self.allowed() {
            Some(ids) if !ids.iter().any(|i| i == integration_id) => {
                Err(ApiError::not_found("integration"))
            }
            _ => Ok(()),
        }
    }

    /// The integrations a session is limited to, if any.
    pub fn allowed(&self) -> Option<&[String]> {
        self.session()
            .and_then(|s| s.allowed_integrations.as_deref())
    }

    /// A session may touch only its own user's activations, in its hub, of allowed integrations.
    pub async fn check_activation(&self, st: &AppState, a: &Activation) -> ApiResult<()> {
        let Some(s) = self.session() else {
            return Ok(());
        };
        let user = st
            .store
            .get_end_user_by_id(self.org(), &a.end_user_id)
            .await?;
        let mine = a.hub_id == s.hub_id
            && user.is_some_and(|u| u.external_id == s.external_user_id)
            && self.check_integration(&a.integration_id).is_ok();
        if mine {
            Ok(())
        } else {
            Err(ApiError::not_found("activation"))
        }
    }
}

/// How a path names the end user (`?identifier_type=`).
#[derive(Debug, Deserialize)]
struct Identifier {
    identifier_type: Option<IdentifierType>,
}
