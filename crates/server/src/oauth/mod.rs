//! OAuth: the hosted flows (OAuth2 authorization code, OAuth 1.0a), the callback page, talking to
//! providers' token endpoints, and the organisation's policy around them (redirect allowlists,
//! reserved parameters, the callback's origin).
mod callback;
mod common;
mod complete;
mod oauth1;
mod oauth1_signing;
mod oauth2;
pub mod policy;
mod provider;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub use common::{CredentialRef, CALLBACK_PATH};
pub use complete::complete;
pub use oauth2::{InitialiseRequest, InitialiseResponse};
pub(crate) use provider::open_grant_credential;
pub use provider::{
    mtls_of, provider_for, request_token, ProviderRefusal, TokenError, TokenResponse,
};

/// The OAuth routes: initialise (OAuth2 on every face, OAuth 1.0a on v2) and the callback page.
pub fn routes() -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::new()
        .merge(oauth2::routes())
        .merge(oauth1::routes());
    callback::routes(router)
}
