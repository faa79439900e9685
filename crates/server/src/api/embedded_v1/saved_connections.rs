//! An end user's saved connections as the hub page's manage view shows them (a Switchyard
//! addition): each with the integrations whose activations use it and whether its credentials
//! need attention; removing one that nothing uses. A connection an activation uses, or the user's
//! primary connection, is refused with the reason (409).
use crate::auth::HubAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use std::collections::HashMap;
use switchyard_domain::model::*;
use switchyard_store::OrgId;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::wire::UserParams;
use super::{hub_of, integration_of, page_params, user_in_hub};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_saved_connections))
        .routes(routes!(delete_saved_connection))
}

/// An integration whose activation uses a connection.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionUse {
    pub integration_id: String,
    pub integration_name: String,
    pub activation_id: String,
    /// The connection template of the integration it serves.
    pub template_id: String,
}

/// One of an end user's saved connections (credentials not shown).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedConnection {
    pub id: String,
    pub name: String,
    pub connector_id: String,
    pub connector_name: String,
    pub connector_image_url: String,
    /// The user's primary connection (to the hub's primary connector), which stays while the user
    /// exists.
    pub is_primary: bool,
    /// The integrations whose activations use it: while there is one, it cannot be removed.
    pub used_by: Vec<ConnectionUse>,
    /// A credential of it can no longer be used (its `errors` are set, for example a refresh the
    /// provider refused): the user should reconnect.
    pub needs_attention: bool,
    /// What its credentials' `errors` say, when it needs attention.
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedConnectionsPage {
    pub connections: Vec<SavedConnection>,
}

/// The user's connections and, for each, the activations that use it. Nothing for an unknown user.
async fn saved(s: &AppState, org: &OrgId, user: &EndUser) -> ApiResult<Vec<SavedConnection>> {
    let page = page_params(Some(500), &None, &None).request()?;
    let connections = s
        .store
        .list_end_user_connections(org, &user.id, &[], &page)
        .await?
        .items;
    let activations = s
        .store
        .list_activations(org, &user.id, None, &page)
        .await?
        .items;
    let mut uses: HashMap<String, Vec<ConnectionUse>> = HashMap::new();
    let mut names: HashMap<String, String> = HashMap::new();
    for a in activations {
        let name = match names.get(&a.integration_id) {
            Some(n) => n.clone(),
            None => {
                let n = integration_of(s, org, &a.integration_id).await?.name;
                names.insert(a.integration_id.clone(), n.clone());
                n
            }
        };
        for (template_id, connection_id) in &a.bindings {
            uses.entry(connection_id.clone())
                .or_default()
                .push(ConnectionUse {
                    integration_id: a.integration_id.clone(),
                    integration_name: name.clone(),
                    activation_id: a.id.clone(),
                    template_id: template_id.clone(),
                });
        }
    }
    let mut connectors: HashMap<String, (String, String)> = HashMap::new();
    let mut out = Vec::with_capacity(connections.len());
    for c in connections {
        if !connectors.contains_key(&c.connector_id) {
            let info = s
                .store
                .get_connector(org, &c.connector_id)
                .await?
                .map(|x| (x.name, x.image_url))
                .unwrap_or_default();
            connectors.insert(c.connector_id.clone(), info);
        }
        let (connector_name, connector_image_url) = connectors[&c.connector_id].clone();
        let problems: Vec<String> = c
            .credentials
            .iter()
            .filter_map(|cc| cc.credential.errors.as_ref())
            .flatten()
            .cloned()
            .collect();
        out.push(SavedConnection {
            is_primary: user.primary_connection_id.as_deref() == Some(c.id.as_str()),
            used_by: uses.remove(&c.id).unwrap_or_default(),
            needs_attention: !problems.is_empty(),
            problems,
            id: c.id,
            name: c.name,
            connector_id: c.connector_id,
            connector_name,
            connector_image_url,
        });
    }
    Ok(out)
}

/// The end user's saved connections, with the integrations that use each (a Switchyard addition,
/// for the hub page's manage view). A user who does not exist yet has none.
#[utoipa::path(get, path = "/api/embedded/v1/embed/{hub_id}/users/{user_id}/saved-connections", operation_id = "ListSavedConnections", tag = "embedded",
    params(("hub_id" = String, Path), ("user_id" = String, Path), UserParams),
    responses((status = 200, body = SavedConnectionsPage), (status = "default", body = ErrorBody)))]
async fn list_saved_connections(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id)): Path<(String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<axum::Json<SavedConnectionsPage>> {
    let org = auth.org().clone();
    hub_of(&s, &org, &hub_id).await?;
    let connections = match user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type).await? {
        Some(u) => saved(&s, &org, &u).await?,
        None => Vec::new(),
    };
    Ok(axum::Json(SavedConnectionsPage { connections }))
}

/// Removes one of the end user's saved connections and its credentials (a Switchyard addition).
/// Refused (409, saying why) while an activation uses it or it is the user's primary connection.
#[utoipa::path(delete, path = "/api/embedded/v1/embed/{hub_id}/users/{user_id}/saved-connections/{connection_id}", operation_id = "DeleteSavedConnection", tag = "embedded",
    params(("hub_id" = String, Path), ("user_id" = String, Path), ("connection_id" = String, Path), UserParams),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_saved_connection(
    State(s): State<AppState>,
    auth: HubAuth,
    Path((hub_id, user_id, connection_id)): Path<(String, String, String)>,
    Query(q): Query<UserParams>,
) -> ApiResult<StatusCode> {
    let org = auth.org().clone();
    hub_of(&s, &org, &hub_id).await?;
    let user = user_in_hub(&s, &org, &hub_id, &user_id, q.identifier_type)
        .await?
        .or_not_found("connection")?;
    let all = saved(&s, &org, &user).await?;
    let c = all
        .iter()
        .find(|c| c.id == connection_id)
        .or_not_found("connection")?;
    if c.is_primary {
        return Err(ApiError::conflict(format!(
            "“{}” is your main {} account, which stays while you use these integrations",
            c.name, c.connector_name
        )));
    }
    if !c.used_by.is_empty() {
        let mut list: Vec<&str> = c
            .used_by
            .iter()
            .map(|u| u.integration_name.as_str())
            .collect();
        list.dedup();
        return Err(ApiError::conflict(format!(
            "“{}” is used by {}: deactivate {} first, or replace its connection",
            c.name,
            list.join(", "),
            if list.len() == 1 { "it" } else { "them" }
        )));
    }
    // Checked again in the database (an activation may have been made meanwhile).
    if s.store.connection_in_use(&org, &connection_id).await? {
        return Err(ApiError::conflict(format!(
            "“{}” is in use by an activation",
            c.name
        )));
    }
    s.store
        .delete_connection(&org, &connection_id)
        .await?
        .then_some(())
        .or_not_found("connection")?;
    Ok(StatusCode::NO_CONTENT)
}
