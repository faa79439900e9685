//! The end-user ("embed") reads the hub page makes: a hub's integrations as one end user sees
//! them, one integration with what activating it needs, the user's activations. An unknown user is
//! someone with nothing connected.
use crate::api::v1_wire::PageInfo;
use crate::auth::HubAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::extract::State;
use switchyard_store::IntegrationFilter;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::integrations::templates_out;
use super::wire::{
    EmbedActivationParams, EmbedListParams, EmbeddedIntegration, EmbeddedIntegrationPage,
    EmbeddedIntegrationSummary, EndUserActivation, EndUserActivationPage, UserParams,
};
use super::{integration_with_templates, page_params, user_in_hub};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_end_user_integrations))
        .routes(routes!(get_embedded_integration))
        .routes(routes!(list_end_user_activations))
}

// ---------------------------------------------------------------------------------------------
// End-user ("embed") reads. An unknown user is someone with nothing connected.

/// A hub's integrations as one end user sees them. A user who does not exist yet sees everything
/// not activated.
#[utoipa::path(get, path = "/api/embedded/v1/embed/{hub_id}/users/{user_id}/integrations", operation_id = "ListEndUserIntegrations", tag = "embedded",
    params(("hub_id" = String, Path), ("user_id" = String, Path), EmbedListParams),
    responses((status = 200, body = EmbeddedIntegrationPage), (status = "default", body = ErrorBody)))]
async fn list_end_user_integrations(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<EmbedListParams>,
) -> ApiResult<axum::Json<EmbeddedIntegrationPage>> {
    let org = auth.org().clone();
    let page = page_params(q.first, &q.after, &q.before).request()?;
    // A hub session sees what its page shows: deployed integrations only (asking for undeployed
    // ones, it gets none).
    let deployed = match (auth.session(), q.deployed) {
        (None, d) => d,
        (Some(_), Some(false)) => {
            let page = PageInfo {
                total_count: 0,
                next: String::new(),
                prev: String::new(),
            };
            return Ok(axum::Json(EmbeddedIntegrationPage {
                page,
                integrations: Vec::new(),
                total_connected: 0,
            }));
        }
        (Some(_), _) => Some(true),
    };
    let (p, connected) = s
        .store
        .list_end_user_integrations(
            &org,
            &hub_id,
            (&user_id, q.identifier_type.unwrap_or_default()),
            IntegrationFilter {
                deployed,
                only: auth.allowed().map(<[String]>::to_vec),
            },
            &page,
        )
        .await?
        .or_not_found("hub")?;
    let info = PageInfo::of(&p);
    Ok(axum::Json(EmbeddedIntegrationPage {
        page: info,
        integrations: p
            .items
            .into_iter()
            .map(|e| EmbeddedIntegrationSummary::of(e.integration, e.is_activated))
            .collect(),
        total_connected: connected,
    }))
}

/// One integration as an end user sees it, with what activating it needs.
#[utoipa::path(get, path = "/api/embedded/v1/embed/{hub_id}/users/{user_id}/integrations/{integration_id}", operation_id = "GetEmbeddedIntegration", tag = "embedded",
    params(("hub_id" = String, Path), ("user_id" = String, Path), ("integration_id" = String, Path), UserParams),
    responses((status = 200, body = EmbeddedIntegration), (status = "default", body = ErrorBody)))]
async fn get_embedded_integration(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id, integration_id)): Path<(String, String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<axum::Json<EmbeddedIntegration>> {
    let org = auth.org().clone();
    let (i, templates) = integration_with_templates(&s, &org, &integration_id).await?;
    // A hub session sees what its page shows: deployed integrations only.
    if i.hub_id != hub_id || (auth.session().is_some() && !i.is_deployed) {
        return Err(ApiError::not_found("integration"));
    }
    let activated = match user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type).await? {
        Some(u) => s.store.find_activation(&org, &u.id, &i.id).await?.is_some(),
        None => false,
    };
    Ok(axum::Json(EmbeddedIntegration {
        summary: EmbeddedIntegrationSummary::of(i, activated),
        connection_templates: templates_out(&s, &org, templates).await?,
    }))
}

/// An end user's activations in a hub, optionally for one integration.
#[utoipa::path(get, path = "/api/embedded/v1/embed/{hub_id}/users/{user_id}/activations", operation_id = "ListEndUserActivations", tag = "embedded",
    params(("hub_id" = String, Path), ("user_id" = String, Path), EmbedActivationParams),
    responses((status = 200, body = EndUserActivationPage), (status = "default", body = ErrorBody)))]
async fn list_end_user_activations(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<EmbedActivationParams>,
) -> ApiResult<axum::Json<EndUserActivationPage>> {
    let org = auth.org().clone();
    let page = page_params(q.first, &q.after, &q.before).request()?;
    let p = s
        .store
        .list_end_user_activations(
            &org,
            &hub_id,
            (&user_id, q.identifier_type.unwrap_or_default()),
            q.integration_id.as_deref(),
            &page,
        )
        .await?
        .or_not_found("hub")?;
    let info = PageInfo::of(&p);
    let activations = p
        .items
        .into_iter()
        .map(|(a, i)| EndUserActivation {
            id: a.id,
            hub_id: a.hub_id,
            integration: EmbeddedIntegrationSummary::of(i, true),
        })
        .collect();
    Ok(axum::Json(EndUserActivationPage {
        page: info,
        activations,
    }))
}
