//! Reconnecting one of an activation's templates (Switchyard's addition, which the hub page uses
//! to replace an account): an existing connection the activation engine accepts, or a new one.
use super::activations::{activation_out, RULES};
use crate::api::v1_wire::ConnectionCreate;
use crate::auth::HubAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{JsonBody, Path};
use crate::state::AppState;
use axum::extract::State;
use switchyard_domain::activation::{self, Slot};
use switchyard_domain::connection::Owner;
use switchyard_domain::time::{self};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::fields_error;
use super::wire::{ActivationConnectionReplace, ActivationOut};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(replace_activation_connection))
}

/// Replaces the connection that serves one of an activation's connection templates (Switchyard's
/// addition, used by the hub page to reconnect an account).
#[utoipa::path(put, path = "/api/embedded/v1/activations/{activation_id}/connections/{template_id}", operation_id = "ReplaceActivationConnection", tag = "activations",
    params(("activation_id" = String, Path), ("template_id" = String, Path)), request_body = ActivationConnectionReplace,
    responses((status = 200, body = ActivationOut), (status = "default", body = ErrorBody)))]
async fn replace_activation_connection(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((id, template_id)): Path<(String, String)>,
    body: JsonBody<ActivationConnectionReplace>,
) -> ApiResult<axum::Json<ActivationOut>> {
    let org = auth.org().clone();
    let a = s
        .store
        .get_activation(&org, &id)
        .await?
        .or_not_found("activation")?;
    let body = body.get()?;
    let template = s
        .store
        .get_template(&org, &template_id)
        .await?
        .filter(|t| t.integration_id == a.integration_id)
        .or_not_found("connection template")?;
    let user = s
        .store
        .get_end_user_by_id(&org, &a.end_user_id)
        .await?
        .or_not_found("end user")?;
    let (connection_id, new_connection) = match (body.connection_id, body.name) {
        (Some(cid), _) => {
            // The activation engine's own rule for an existing connection.
            let c = s.store.get_connection(&org, &cid).await?;
            let slot = Slot {
                id: &template.id,
                name: &template.name,
                connector_id: &template.connector_id,
                fallback: None,
            };
            let user_owner = Owner::EndUser(user.id.clone());
            activation::check_existing(
                &slot,
                &cid,
                c.as_ref(),
                &user_owner,
                &RULES,
                "connectionId",
            )
            .map_err(|f| ApiError::invalid_fields(f.message.clone(), vec![f]))?;
            (cid, None)
        }
        (None, Some(name)) => {
            let create = ConnectionCreate {
                name,
                credentials: body.credentials.unwrap_or_default(),
                variables: body.variables,
            };
            let schemes = std::slice::from_ref(&template.auth_scheme_config);
            let pending = crate::connections::build(
                &s,
                &org,
                &template.connector_id,
                Owner::EndUser(user.id.clone()),
                create.into_draft(""),
                schemes,
                auth.requester(),
            )
            .map_err(|f| fields_error("invalid connection", f))?;
            let nc = crate::oauth::complete(&s, &org, vec![pending])
                .await?
                .remove(0);
            (nc.connection.id.clone(), Some(nc))
        }
        (None, None) => {
            return Err(ApiError::invalid_field(
                "connectionId",
                "give either connectionId (an existing connection) or name and credentials (a new one)",
            ));
        }
    };
    s.store
        .rebind_activation(
            &org,
            &a.id,
            &template.id,
            &connection_id,
            new_connection.as_ref(),
            time::now(),
        )
        .await?
        .then_some(())
        .or_not_found("activation")?;
    let made: Vec<_> = new_connection.iter().map(|n| &n.connection).collect();
    crate::tokens::check_new_credentials(&s, &org, made).await;
    let a = s
        .store
        .get_activation(&org, &a.id)
        .await?
        .or_not_found("activation")?;
    Ok(axum::Json(
        activation_out(&s, &org, a, None, Some(user)).await?,
    ))
}
