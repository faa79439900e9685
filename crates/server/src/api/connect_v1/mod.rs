//! The part of Connect API v1 (`/api/connect/v1`) that the Embedded API needs: HTTP connectors
//! with their auth scheme configs, and the organisation's own connections to them.
use crate::error::{ApiResult, OrNotFound};
use crate::state::AppState;
use switchyard_domain::model::Connector;
use switchyard_store::OrgId;
use utoipa_axum::router::OpenApiRouter;

mod connections;
mod connectors;
mod tokens;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(connectors::routes())
        .merge(connections::routes())
        .merge(tokens::routes())
}

pub(super) async fn connector_of(s: &AppState, org: &OrgId, id: &str) -> ApiResult<Connector> {
    s.store
        .get_connector(org, id)
        .await?
        .or_not_found("connector")
}
