//! Activations: ActivateIntegration through the activation engine, reads, deactivation, variables
//! and reconnecting one template.
use crate::api::v1_wire::ConnectionCreate;
use crate::auth::HubAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, JsonBody, Path};
use crate::state::AppState;
use crate::variables;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Map;
use std::collections::HashMap;
use switchyard_domain::activation::{self, Binding, Entry, Refusal, Request, Rules, Slot, Words};
use switchyard_domain::connection::{ConnectionDraft, Owner};
use switchyard_domain::credential::CredentialType;
use switchyard_domain::model::*;
use switchyard_domain::time::{self};
use switchyard_domain::{is_ulid, new_id, Error, FieldError};
use switchyard_store::OrgId;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::end_users::end_user_out_with;
use super::wire::{
    ActivationCreate, ActivationOut, DynamicVariablesBody, EmbeddedIntegrationSummary,
};
use super::{integration_of, integration_with_templates};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activate_integration))
        .routes(routes!(get_activation, delete_activation))
        .routes(routes!(update_activation_variables))
}

// ---------------------------------------------------------------------------------------------
// Activations.

pub(super) async fn activation_out(
    s: &AppState,
    org: &OrgId,
    a: Activation,
    integration: Option<Integration>,
    user: Option<EndUser>,
) -> ApiResult<ActivationOut> {
    activation_out_with(s, org, a, integration, user, None).await
}

pub(super) async fn activation_out_with(
    s: &AppState,
    org: &OrgId,
    a: Activation,
    integration: Option<Integration>,
    user: Option<EndUser>,
    primary: Option<Connection>,
) -> ApiResult<ActivationOut> {
    let i = match integration {
        Some(i) => i,
        None => integration_of(s, org, &a.integration_id).await?,
    };
    let u = match user {
        Some(u) => u,
        None => s
            .store
            .get_end_user_by_id(org, &a.end_user_id)
            .await?
            .or_not_found("end user")?,
    };
    Ok(ActivationOut {
        id: a.id,
        user: end_user_out_with(s, org, u, primary).await?,
        hub_id: a.hub_id,
        integration: EmbeddedIntegrationSummary::of(i, true),
        dynamic_variables: a.dynamic_variables,
        created_at: a.created_at,
        updated_at: a.updated_at,
    })
}

/// How Embedded API v1 names what the activation engine reports, and its rules: an end user's
/// own connections only.
pub(super) const RULES: Rules = Rules {
    words: Words {
        list: "connections",
        template_field: "templateId",
        existing_field: "connectionId",
        neither_field: "",
        neither_message:
            "give either connectionId (an existing connection) or name and credentials (a new one)",
        scope: "integration",
        connector: "connector",
    },
    organisation_connections: false,
};

/// A refused activation as Embedded v1 answers it: one field listing every missing template.
pub(super) fn refused(r: Refusal) -> ApiError {
    let mut fields = r.fields;
    if !r.missing.is_empty() {
        let list: Vec<String> = r
            .missing
            .iter()
            .map(|m| format!("{} ({})", m.template_id, m.name))
            .collect();
        fields.push(FieldError::new(
            "connections",
            format!(
                "missing connections for the following templates: {}",
                list.join(", ")
            ),
        ));
    }
    ApiError::invalid_fields(activation::summarise(&fields), fields)
}

/// Activates an integration for an end user: binds each of its connection templates to an
/// existing connection of the user or to a new one made here, validates the dynamic variables,
/// and writes it all in one transaction.
#[utoipa::path(post, path = "/api/embedded/v1/activations", operation_id = "ActivateIntegration", tag = "activations", request_body = ActivationCreate,
    responses((status = 200, body = ActivationOut), (status = "default", body = ErrorBody)))]
async fn activate_integration(
    State(s): State<AppState>,
    auth: HubAuth,
    Json(body): Json<ActivationCreate>,
) -> ApiResult<axum::Json<ActivationOut>> {
    let org = auth.org().clone();
    // The integration and its templates in one read (the templates are dropped if the caller may
    // not see the integration).
    let (integration, templates) =
        integration_with_templates(&s, &org, &body.integration_id).await?;
    auth.check_hub(&integration.hub_id)
        .and_then(|()| auth.check_integration(&integration.id))
        .map_err(|_| ApiError::not_found("integration"))?;
    let user = if is_ulid(&body.user_id) {
        s.store
            .get_end_user_by_id(&org, &body.user_id)
            .await?
            .filter(|u| u.hub_id == integration.hub_id)
    } else {
        None
    };
    let user = match user {
        Some(u) => Some(u),
        None => {
            s.store
                .get_end_user(
                    &org,
                    &integration.hub_id,
                    &body.user_id,
                    IdentifierType::External,
                )
                .await?
        }
    };
    // A hub session acts for its own end user, whom its first activation creates (with a primary
    // connection: see `primary`).
    let (mut user, mut new_user) = match (user, auth.session()) {
        (Some(u), Some(session)) if u.external_id != session.external_user_id => {
            return Err(ApiError::not_found("end user"))
        }
        (Some(u), _) => (u, None),
        (None, Some(session)) if body.user_id == session.external_user_id => {
            let now = time::now();
            let u = EndUser {
                id: new_id(),
                organisation_id: org.to_string(),
                hub_id: integration.hub_id.clone(),
                external_id: session.external_user_id.clone(),
                display_name: String::new(),
                primary_connection_id: None,
                created_at: now,
                updated_at: now,
            };
            (u.clone(), Some(u))
        }
        (None, Some(_)) => return Err(ApiError::not_found("end user")),
        // An API key names a user who must exist already: say how to make one.
        (None, None) => {
            let mut e = Error::not_found("end user");
            e.message = format!(
                "end user not found: hub {} has no user with the id or externalId {:?}; create it first (POST /api/embedded/v1/hubs/{}/users, with its primary connection), or activate through a hub session, whose first activation creates its user",
                integration.hub_id, body.user_id, integration.hub_id
            );
            e.fields.push(FieldError::new(
                "userId",
                "no such end user in the integration's hub",
            ));
            return Err(ApiError(e));
        }
    };
    activation::check_deployed(&integration)?;
    // A second activation is refused by the database's unique constraint when it is written; look
    // first only when the request carries OAuth2 codes, which must not be spent for nothing.
    let spends_codes = body
        .connections
        .iter()
        .filter_map(|c| c.credentials.as_ref())
        .flat_map(|cc| cc.action.iter().chain(cc.trigger.iter()))
        .any(|c| {
            matches!(
                c.credential.credential_type,
                CredentialType::OAuth2Code | CredentialType::OAuth1
            )
        });
    if spends_codes {
        already_activated(&s, &org, &user.id, &integration.id).await?;
    }

    // The request's entries; each new connection's draft.
    let keys: Vec<(String, Option<String>, bool)> = body
        .connections
        .iter()
        .map(|c| {
            (
                c.template_id.clone(),
                c.connection_id.clone(),
                c.name.is_some(),
            )
        })
        .collect();
    let entries: Vec<Entry<'_>> = keys
        .iter()
        .map(|(template_id, connection_id, named)| Entry {
            template_id,
            request: match (connection_id, named) {
                (Some(id), _) => Request::Existing(id),
                (None, true) => Request::New,
                (None, false) => Request::Neither,
            },
        })
        .collect();
    let mut drafts: Vec<Option<ConnectionDraft>> = body
        .connections
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let credentials = c.credentials.unwrap_or_default();
            c.name.map(|name| {
                let create = ConnectionCreate {
                    name,
                    credentials,
                    variables: c.variables,
                };
                create.into_draft(&format!("connections[{i}]."))
            })
        })
        .collect();
    // The existing connections the entries name and the user's primary connection (which
    // serves a primary template left out), in one read.
    let mut ids: Vec<String> = entries
        .iter()
        .filter_map(|e| match e.request {
            Request::Existing(id) => Some(id.to_owned()),
            _ => None,
        })
        .collect();
    if let Some(p) = user
        .primary_connection_id
        .as_ref()
        .filter(|p| !ids.contains(p))
    {
        ids.push(p.clone());
    }
    let known: HashMap<String, Connection> = s
        .store
        .get_connections(&org, &ids)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let primary = user
        .primary_connection_id
        .as_ref()
        .and_then(|id| known.get(id))
        .cloned();
    let slots: Vec<Slot<'_>> = templates
        .iter()
        .map(|t| Slot {
            id: &t.id,
            name: &t.name,
            connector_id: &t.connector_id,
            fallback: primary
                .as_ref()
                .filter(|p| t.is_primary && p.connector_id == t.connector_id)
                .map(|p| p.id.as_str()),
        })
        .collect();

    // Dynamic variables: the current form, or the older `[{name, value}]` one.
    let vars = match (body.dynamic_variables, body.variables) {
        (Some(v), _) => v,
        (None, Some(list)) => list.into_iter().map(|v| (v.name, v.value)).collect(),
        (None, None) => Map::new(),
    };
    let vars = match variables::validate(
        variables::INTEGRATION,
        integration.variables_schema.as_ref(),
        vars,
        "dynamicVariables",
    )
    .await
    {
        Ok(v) => Ok(v),
        Err(e) => Err(variables::violations(e)?),
    };

    // The plan: each template served, new connections built (their credentials sealed) on their
    // template's auth scheme config.
    let requester = auth.requester();
    let owner = Owner::EndUser(user.id.clone());
    let template_by_id: HashMap<&str, &ConnectionTemplate> =
        templates.iter().map(|t| (t.id.as_str(), t)).collect();
    let build = |i: usize, slot: &Slot<'_>| {
        let draft = drafts[i]
            .take()
            .expect("a new connection's entry has a draft");
        let scheme = &template_by_id[slot.id].auth_scheme_config;
        let schemes = std::slice::from_ref(scheme);
        crate::connections::build(
            &s,
            &org,
            slot.connector_id,
            owner.clone(),
            draft,
            schemes,
            requester,
        )
    };
    let mut plan =
        activation::plan(&slots, &entries, &known, &owner, &RULES, vars, build).map_err(refused)?;
    let mut bound = Vec::with_capacity(plan.bindings.len());
    let mut new_connections = Vec::new();
    for (template_id, binding) in std::mem::take(&mut plan.bindings) {
        match binding {
            Binding::Existing(c) | Binding::Fallback(c) => bound.push((template_id, c)),
            Binding::New(i) => {
                let nc = plan.take_new(i).expect("the plan built it");
                bound.push((template_id, nc.connection.connection.id.clone()));
                new_connections.push(nc);
            }
        }
    }
    let vars = plan.variables;
    if let Some(u) = new_user.as_mut() {
        let primary_id = match body.primary_connection {
            Some(create) => {
                let hub = super::hub_of(&s, &org, &integration.hub_id).await?;
                let p = super::primary::build(&s, &org, &hub, &u.id, create, requester).await?;
                let id = p.connection.connection.id.clone();
                new_connections.push(p);
                id
            }
            None => match bound
                .iter()
                .find(|(t, _)| template_by_id.get(t.as_str()).is_some_and(|t| t.is_primary))
            {
                Some((_, c)) => c.clone(),
                None => {
                    let hub = super::hub_of(&s, &org, &integration.hub_id).await?;
                    let name = s
                        .store
                        .get_connector(&org, &hub.primary_connector_id)
                        .await?
                        .map_or(hub.name, |c| c.name);
                    return Err(super::primary::missing(&name));
                }
            },
        };
        u.primary_connection_id = Some(primary_id.clone());
        user.primary_connection_id = Some(primary_id);
    }
    // Only now that the request is otherwise sound are OAuth2 codes spent.
    let new_connections = crate::oauth::complete(&s, &org, new_connections).await?;

    let now = time::now();
    let a = Activation {
        id: new_id(),
        organisation_id: org.to_string(),
        hub_id: integration.hub_id.clone(),
        integration_id: integration.id.clone(),
        end_user_id: user.id.clone(),
        dynamic_variables: vars,
        bindings: bound,
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = s
        .store
        .insert_activation(&org, &a, new_user.as_ref(), &new_connections)
        .await
    {
        if e.is_conflict() {
            already_activated(&s, &org, &user.id, &integration.id).await?;
        }
        return Err(e.into());
    }
    let made: Vec<_> = new_connections.iter().map(|n| &n.connection).collect();
    crate::tokens::check_new_credentials(&s, &org, made).await;
    Ok(axum::Json(
        activation_out_with(&s, &org, a, Some(integration), Some(user), primary).await?,
    ))
}

/// 409 naming the activation when the end user has already activated the integration.
pub(super) async fn already_activated(
    s: &AppState,
    org: &OrgId,
    user_id: &str,
    integration_id: &str,
) -> ApiResult<()> {
    match s
        .store
        .find_activation(org, user_id, integration_id)
        .await?
    {
        Some(existing) => Err(ApiError(
            Error::conflict(format!(
                "the end user has already activated this integration: activation {}",
                existing.id
            ))
            .with_details(existing.id),
        )),
        None => Ok(()),
    }
}

#[utoipa::path(get, path = "/api/embedded/v1/activations/{activation_id}", operation_id = "GetActivation", tag = "activations",
    params(("activation_id" = String, Path)), responses((status = 200, body = ActivationOut), (status = "default", body = ErrorBody)))]
async fn get_activation(
    State(s): State<AppState>,
    auth: HubAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ActivationOut>> {
    let org = auth.org().clone();
    let (a, i, u) = s
        .store
        .get_activation_view(&org, &id)
        .await?
        .or_not_found("activation")?;
    Ok(axum::Json(
        activation_out(&s, &org, a, Some(i), Some(u)).await?,
    ))
}

/// Deactivates: removes the activation; the end user and their connections stay.
#[utoipa::path(delete, path = "/api/embedded/v1/activations/{activation_id}", operation_id = "DeleteActivation", tag = "activations",
    params(("activation_id" = String, Path)), responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_activation(
    State(s): State<AppState>,
    auth: HubAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let org = auth.org().clone();
    let a = s
        .store
        .get_activation(&org, &id)
        .await?
        .or_not_found("activation")?;
    s.store
        .delete_activation(&org, &a.id)
        .await?
        .then_some(())
        .or_not_found("activation")?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces an activation's dynamic variables, validated against the integration's schema
/// (defaults applied); returns what is stored.
#[utoipa::path(put, path = "/api/embedded/v1/activations/{activation_id}/variables", operation_id = "UpdateDynamicVariables", tag = "activations",
    params(("activation_id" = String, Path)), request_body = DynamicVariablesBody, responses((status = 200, body = DynamicVariablesBody), (status = "default", body = ErrorBody)))]
async fn update_activation_variables(
    State(s): State<AppState>,
    auth: HubAuth,
    Path(id): Path<String>,
    body: JsonBody<DynamicVariablesBody>,
) -> ApiResult<axum::Json<DynamicVariablesBody>> {
    let org = auth.org().clone();
    let a = s
        .store
        .get_activation(&org, &id)
        .await?
        .or_not_found("activation")?;
    let body = body.get()?;
    let i = integration_of(&s, &org, &a.integration_id).await?;
    let vars = variables::validate(
        variables::INTEGRATION,
        i.variables_schema.as_ref(),
        body.dynamic_variables,
        "dynamicVariables",
    )
    .await?;
    s.store
        .update_activation_variables(&org, &a.id, &vars, time::now())
        .await?;
    Ok(axum::Json(DynamicVariablesBody {
        dynamic_variables: vars,
    }))
}
