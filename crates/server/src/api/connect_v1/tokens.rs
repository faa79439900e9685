//! The access token of a connection, for whoever runs the integration (the one call that answers
//! a secret), and what happened to a credential.
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::Path;
use crate::state::AppState;
use crate::tokens::{fresh_token, AccessToken};
use axum::extract::State;
use switchyard_domain::auth_scheme::AuthScheme;
use switchyard_domain::model::{CredentialEvent, CredentialRole};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(connection_token))
        .routes(routes!(credential_events))
}

/// The connection's OAuth2 access token, refreshed or obtained first when needed. This is the one
/// call that returns a secret: it is what an integration runtime calls the provider with.
#[utoipa::path(post, path = "/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/connections/{connection_id}/token", operation_id = "GetConnectionAccessToken",
    tag = "connections", params(("organisation_id" = String, Path), ("connector_id" = String, Path), ("connection_id" = String, Path)),
    responses((status = 200, body = AccessToken), (status = "default", body = ErrorBody)))]
async fn connection_token(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, connector_id, id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<AccessToken>> {
    let org = auth.org.clone();
    let c = s
        .store
        .get_connection(&org, &id)
        .await?
        .filter(|c| c.connector_id == connector_id)
        .or_not_found("connection")?;
    let cc = c
        .credentials
        .iter()
        .find(|cc| {
            cc.role == CredentialRole::Action
                && matches!(cc.auth_scheme_config.scheme, AuthScheme::OAuth2(_))
        })
        .ok_or_else(|| ApiError::bad_request("the connection has no OAuth2 credential"))?;
    Ok(axum::Json(fresh_token(&s, &org, cc).await?))
}

/// What happened to a credential (failed refreshes, expiry...), oldest first. The events of a
/// deleted credential (an expired one) stay readable.
#[utoipa::path(get, path = "/api/connect/v1/o/{organisation_id}/credentials/{credential_id}/events", operation_id = "ListCredentialEvents", tag = "connections",
    params(("organisation_id" = String, Path), ("credential_id" = String, Path)), responses((status = 200, body = Vec<CredentialEvent>), (status = "default", body = ErrorBody)))]
async fn credential_events(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Vec<CredentialEvent>>> {
    let org = auth.org.clone();
    let events = s.store.list_credential_events(&org, &id).await?;
    if events.is_empty() {
        s.store
            .get_credential(&org, &id)
            .await?
            .or_not_found("credential")?;
    }
    Ok(axum::Json(events))
}
