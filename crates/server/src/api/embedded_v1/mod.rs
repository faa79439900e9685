//! Embedded API v1 (`/api/embedded/v1`): hubs, end users and their connections, integrations and
//! their connection templates, the end-user ("embed") reads, and activations. Wire-compatible with
//! Versori's published spec; the two deploy calls are Switchyard's own addition.
use crate::api::v1_wire::PageParams;
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::state::AppState;
use switchyard_domain::model::*;
use switchyard_domain::FieldError;
use switchyard_store::OrgId;
use utoipa_axum::router::OpenApiRouter;

mod activations;
mod embed;
mod end_users;
mod hubs;
mod integrations;
mod primary;
mod reconnect;
mod saved_connections;
mod sessions;
pub mod wire;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(hubs::routes())
        .merge(end_users::routes())
        .merge(integrations::routes())
        .merge(embed::routes())
        .merge(activations::routes())
        .merge(reconnect::routes())
        .merge(saved_connections::routes())
        .merge(sessions::routes())
}

pub(super) fn page_params(
    first: Option<u32>,
    after: &Option<String>,
    before: &Option<String>,
) -> PageParams {
    PageParams {
        first,
        after: after.clone(),
        before: before.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Lookups shared by the handlers.

pub(super) async fn hub_of(s: &AppState, org: &OrgId, hub_id: &str) -> ApiResult<Hub> {
    s.store.get_hub(org, hub_id).await?.or_not_found("hub")
}

/// A hub that still accepts new users and integrations.
pub(super) async fn live_hub(s: &AppState, org: &OrgId, hub_id: &str) -> ApiResult<Hub> {
    hub_of(s, org, hub_id).await.and_then(|h| {
        if h.deleted_at.is_some() {
            Err(ApiError::not_found("hub"))
        } else {
            Ok(h)
        }
    })
}

pub(super) async fn user_in_hub(
    s: &AppState,
    org: &OrgId,
    hub_id: &str,
    user_id: &str,
    kind: Option<IdentifierType>,
) -> ApiResult<Option<EndUser>> {
    Ok(s.store
        .get_end_user(org, hub_id, user_id, kind.unwrap_or_default())
        .await?)
}

pub(super) async fn integration_of(s: &AppState, org: &OrgId, id: &str) -> ApiResult<Integration> {
    s.store
        .get_integration(org, id)
        .await?
        .or_not_found("integration")
}

/// An integration with its connection templates, in one read.
pub(super) async fn integration_with_templates(
    s: &AppState,
    org: &OrgId,
    id: &str,
) -> ApiResult<(Integration, Vec<ConnectionTemplate>)> {
    s.store
        .get_integration_with_templates(org, id)
        .await?
        .or_not_found("integration")
}

pub(super) fn check_body_org(auth: &OrgAuth, body_org: &str) -> ApiResult<()> {
    if auth.org.as_str() == body_org {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "organisationId",
            "is not the organisation of the API key",
        ))
    }
}

pub(super) fn fields_error(message: &str, fields: Vec<FieldError>) -> ApiError {
    ApiError::invalid_fields(
        if fields.len() == 1 {
            format!("{message}: {}: {}", fields[0].field, fields[0].message)
        } else {
            format!("{message}: {} problems", fields.len())
        },
        fields,
    )
}
