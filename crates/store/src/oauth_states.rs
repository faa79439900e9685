//! The state of OAuth2 and OAuth 1.0a flows between initialise and callback.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::model::OAuthState;
use switchyard_domain::time::Timestamp;

/// OAuth flow states: each works once, until it expires.
#[async_trait]
pub trait OAuthStateStore: Send + Sync + 'static {
    async fn insert_oauth_state(&self, org: &OrgId, state: &OAuthState) -> Result<()>;
    /// Marks the state used and returns it, if it exists, is unused and has not expired at `now`:
    /// a state works once, even when two requests race for it.
    async fn consume_oauth_state(
        &self,
        org: &OrgId,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OAuthState>>;
    /// The opener origin recorded with a state that is unused and unexpired at `now`, whatever its
    /// organisation (the hosted callback page knows only the state), without consuming it. The
    /// outer `None`: no such live state; `Some(None)`: a live state recorded without an origin.
    async fn find_oauth_state_origin(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Option<String>>>;
}
