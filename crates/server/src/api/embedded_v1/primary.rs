//! A new end user's primary connection. Versori's `EndUser` requires `primaryConnection`, so a user
//! is never created without one: `CreateEndUser` takes it, a hub session request may carry it
//! (the user is created with the session), and a hub session's first activation takes it from its
//! `primaryConnection` or from the connection it binds to a primary template (the hub's primary
//! connector); an activation that would create a user with neither is refused.
use crate::api::v1_wire::ConnectionCreate;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use switchyard_domain::connection::{Owner, PendingConnection, Requester};
use switchyard_domain::model::*;
use switchyard_domain::new_id;
use switchyard_domain::time;
use switchyard_store::OrgId;

use super::fields_error;
use super::integrations::templates_out;
use super::wire::TemplateOut;

/// The id the hub page's primary-connection step carries (no template of any integration).
pub(super) const PRIMARY_TEMPLATE_ID: &str = "primary";

/// The field that carries a new user's primary connection in a session or activation request.
pub(super) const FIELD: &str = "primaryConnection";

/// Builds `user_id`'s primary connection to `hub`'s primary connector (checked against the hub's
/// schemes for it, sealed; OAuth codes not exchanged yet). Field errors name `primaryConnection.`.
pub(super) async fn build(
    s: &AppState,
    org: &OrgId,
    hub: &Hub,
    user_id: &str,
    create: ConnectionCreate,
    requester: Requester,
) -> ApiResult<PendingConnection> {
    let schemes = crate::schemes::hub_schemes(s, org, hub, &hub.primary_connector_id).await?;
    crate::connections::build(
        s,
        org,
        &hub.primary_connector_id,
        Owner::EndUser(user_id.to_owned()),
        create.into_draft(&format!("{FIELD}.")),
        &schemes,
        requester,
    )
    .map_err(|f| fields_error("invalid primary connection", f))
}

/// Creates the end user `external_id` of `hub` with its primary connection, in one transaction.
pub(super) async fn create_user(
    s: &AppState,
    org: &OrgId,
    hub: &Hub,
    external_id: String,
    display_name: String,
    create: ConnectionCreate,
    requester: Requester,
) -> ApiResult<EndUser> {
    let user_id = new_id();
    let primary = build(s, org, hub, &user_id, create, requester).await?;
    let primary = crate::oauth::complete(s, org, vec![primary])
        .await?
        .remove(0);
    let now = time::now();
    let user = EndUser {
        id: user_id,
        organisation_id: org.to_string(),
        hub_id: hub.id.clone(),
        external_id,
        display_name,
        primary_connection_id: Some(primary.connection.id.clone()),
        created_at: now,
        updated_at: now,
    };
    s.store.insert_end_user(org, &user, Some(&primary)).await?;
    crate::tokens::check_new_credentials(s, org, [&primary.connection]).await;
    Ok(user)
}

/// The refusal of an activation that would create a user without a primary connection.
pub(super) fn missing(connector_name: &str) -> ApiError {
    ApiError::invalid_field(
        FIELD,
        format!(
            "the end user does not exist yet and this integration has no {connector_name} connection \
             to be their primary connection: give primaryConnection (a connection to the hub's primary \
             connector, {connector_name})"
        ),
    )
}

/// The hub's primary connector as a connection template: the step the hub page asks a user who
/// does not exist yet to fill in first, when an integration has no primary template.
pub(super) async fn template(s: &AppState, org: &OrgId, hub: &Hub) -> ApiResult<TemplateOut> {
    let connector = s
        .store
        .get_connector(org, &hub.primary_connector_id)
        .await?;
    let (name, image_url) = connector
        .map(|c| (c.name, c.image_url))
        .unwrap_or_else(|| (hub.name.clone(), String::new()));
    let t = ConnectionTemplate {
        id: PRIMARY_TEMPLATE_ID.to_owned(),
        organisation_id: org.to_string(),
        integration_id: String::new(),
        connector_id: hub.primary_connector_id.clone(),
        name,
        image_url,
        auth_scheme_config: hub.auth_scheme_config.clone(),
        is_primary: true,
        is_used: true,
        created_at: hub.created_at,
    };
    Ok(templates_out(s, org, vec![t]).await?.remove(0))
}
