//! Organisations API v1 (`/api/organisations/v1`): the organisation's API keys and settings, and
//! its signing keys for end-user JWTs, its event endpoints and their delivery log.
mod event_endpoints;
mod event_log;
mod organisations;
mod signing_keys;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(organisations::routes())
        .merge(signing_keys::routes())
        .merge(event_endpoints::routes())
        .merge(event_log::routes())
}
