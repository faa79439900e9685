//! Organisations API v1 (`/api/organisations/v1`): the organisation's API keys and settings, and
//! its signing keys for end-user JWTs.
mod organisations;
mod signing_keys;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(organisations::routes())
        .merge(signing_keys::routes())
}
