//! ActivateUser: an end user activated on an environment through the activation engine, every
//! problem reported at once, OAuth codes spent last, everything written in one transaction.
use super::connection_wire::{self, ConnectionCreate};
use super::find_user_as;
use crate::auth::PlatformAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path};
use crate::state::AppState;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use switchyard_domain::activation::{self, Binding, Entry, Refusal, Request, Rules, Slot, Words};
use switchyard_domain::connection::Owner;
use switchyard_domain::model::{Connection, Connector};
use switchyard_domain::platform::{PlatformActivation, PlatformTemplate};
use switchyard_domain::{new_id, time, ErrorKind, FieldError};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::activations::{
    activation_out, check_variables, env_view, not_found_field, variables_schema, ActivationOut,
};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(activate_user))
}

/// One entry of `ActivationCreate.connections`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ActivationConnectionCreate)]
pub struct ActivationConnection {
    pub connection_template_id: String,
    /// A new connection for the template; wins over `existingConnectionId`.
    #[serde(default)]
    pub connection: Option<ConnectionCreate>,
    #[serde(default)]
    pub existing_connection_id: Option<String>,
}

/// `ActivationCreate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ActivationCreate)]
pub struct ActivationCreate {
    /// The end user's externalId, or its internal id.
    pub user_id: String,
    pub environment_id: String,
    /// One entry per template, or entries for the dynamic templates only (static templates are
    /// then served by the environment's static connection).
    pub connections: Vec<ActivationConnection>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub dynamic_variables: Option<Map<String, Value>>,
}

// ---------------------------------------------------------------------------------------------
// ActivateUser.

/// How Platform API v2 names what the activation engine reports, and its rules: the end user's
/// own connections and the organisation's (static) ones.
pub(super) const RULES: Rules = Rules {
    words: Words {
        list: "connections",
        template_field: "connectionTemplateId",
        existing_field: "existingConnectionId",
        neither_field: ".connection",
        neither_message: "give a new connection or an existingConnectionId",
        scope: "environment",
        connector: "system",
    },
    organisation_connections: true,
};

/// A refused activation as Platform v2 answers it: a field per missing template, and Versori's
/// message when any is missing.
pub(super) fn refused(r: Refusal, templates: &[PlatformTemplate]) -> ApiError {
    let mut fields = r.fields;
    for m in &r.missing {
        let dynamic = templates.iter().any(|t| t.id == m.template_id && t.dynamic);
        let why = if dynamic {
            "the end user's connection is missing"
        } else {
            "the environment has no static connection for it and none was given"
        };
        fields.push(FieldError::new(
            format!("connections[{}]", m.name),
            format!(
                "connection template {:?} ({}): {why}",
                m.name, m.template_id
            ),
        ));
    }
    let message = if r.missing.is_empty() {
        activation::summarise(&fields)
    } else {
        let names: Vec<&str> = r.missing.iter().map(|m| m.name.as_str()).collect();
        format!(
            "connections must be made for all environment systems: missing {}",
            names.join(", ")
        )
    };
    ApiError::invalid_fields(message, fields)
}

/// Activates an end user on an environment: a connection for every template ("connections must
/// be made for all environment systems"), each an existing connection or a new one, and the
/// dynamic variables, validated against the project's schema. Everything is checked (and every
/// problem reported) before OAuth2 codes are spent and before anything is written; the
/// activation, its new connections and their credentials are written in one transaction.
#[utoipa::path(post, path = "/api/v2/o/{organisation_id}/activations", operation_id = "v2ActivateUser", tag = "v2-activations",
    params(("organisation_id" = String, Path)), request_body = ActivationCreate,
    responses((status = 200, body = ActivationOut), (status = "default", body = ErrorBody)))]
async fn activate_user(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path(_org): Path<String>,
    Json(body): Json<ActivationCreate>,
) -> ApiResult<axum::Json<ActivationOut>> {
    let org = auth.org.clone();
    let user = match find_user_as(&s, &auth, &org, &body.user_id).await {
        Ok(u) => u,
        Err(e) if e.0.kind == ErrorKind::NotFound => {
            return Err(not_found_field(
                "userId",
                "no end user of this organisation has this id or externalId",
            ))
        }
        Err(e) => return Err(e),
    };
    let env = match s
        .store
        .find_platform_environment(&org, &body.environment_id)
        .await?
    {
        Some(e) => e,
        None => {
            return Err(not_found_field(
                "environmentId",
                "no environment of this organisation has this id",
            ))
        }
    };
    let templates = s
        .store
        .list_platform_templates(&org, &env.project_id, Some(&env.id))
        .await?;
    let schema = variables_schema(&s, &org, &env).await?;

    // The request's entries, the existing connections they name, the static connections that
    // serve static templates left out, and the systems new connections are to.
    let entries: Vec<Entry<'_>> = body
        .connections
        .iter()
        .map(|e| Entry {
            template_id: &e.connection_template_id,
            request: match (
                &e.connection,
                e.existing_connection_id
                    .as_deref()
                    .filter(|c| !c.is_empty()),
            ) {
                (Some(_), _) => Request::New,
                (None, Some(id)) => Request::Existing(id),
                (None, None) => Request::Neither,
            },
        })
        .collect();
    let existing_ids: Vec<String> = entries
        .iter()
        .filter_map(|e| match e.request {
            Request::Existing(id) => Some(id.to_owned()),
            _ => None,
        })
        .collect();
    let known: HashMap<String, Connection> = s
        .store
        .get_connections(&org, &existing_ids)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let named: HashSet<&str> = entries.iter().map(|e| e.template_id).collect();
    let unnamed_static: Vec<String> = templates
        .iter()
        .filter(|t| !t.dynamic && !named.contains(t.id.as_str()))
        .map(|t| t.id.clone())
        .collect();
    let statics: HashMap<String, String> = s
        .store
        .static_connections(&org, &unnamed_static)
        .await?
        .into_iter()
        .collect();
    let slots: Vec<Slot<'_>> = templates
        .iter()
        .map(|t| Slot {
            id: &t.id,
            name: &t.name,
            connector_id: &t.system_id,
            fallback: statics
                .get(&t.id)
                .filter(|_| !t.dynamic)
                .map(String::as_str),
        })
        .collect();
    let mut systems: HashMap<String, Connector> = HashMap::new();
    for e in entries.iter().filter(|e| e.request == Request::New) {
        if let Some(t) = templates.iter().find(|t| t.id == e.template_id) {
            if !systems.contains_key(&t.system_id) {
                let system = s
                    .store
                    .get_connector(&org, &t.system_id)
                    .await?
                    .or_not_found("system")?;
                systems.insert(t.system_id.clone(), system);
            }
        }
    }
    let vars = check_variables(
        schema.as_ref(),
        body.dynamic_variables.unwrap_or_default(),
        "dynamicVariables",
        &HashSet::new(),
    )
    .await?;

    // The plan: each template served, new connections built (their credentials sealed, their
    // OAuth2 codes not yet spent) on one of their system's auth scheme configs.
    let owner = Owner::PlatformEndUser(user.id.clone());
    let requester = connection_wire::requester(&auth);
    let mut creates: Vec<Option<ConnectionCreate>> = body
        .connections
        .iter()
        .map(|e| e.connection.clone())
        .collect();
    let build = |i: usize, slot: &Slot<'_>| {
        let create = creates[i].take().expect("a new connection's entry has one");
        let path = format!("connections[{i}].connection.");
        connection_wire::build(
            &s,
            &org,
            &systems[slot.connector_id],
            Some(&user),
            create,
            requester,
            &path,
        )
    };
    let mut plan = activation::plan(&slots, &entries, &known, &owner, &RULES, vars, build)
        .map_err(|r| refused(r, &templates))?;
    let mut bindings = Vec::new();
    let mut pending = Vec::new();
    for (template_id, binding) in std::mem::take(&mut plan.bindings) {
        match binding {
            Binding::Existing(c) => bindings.push((template_id, c)),
            Binding::New(i) => {
                let p = plan.take_new(i).expect("the plan built it");
                bindings.push((template_id.clone(), p.connection.connection.id.clone()));
                pending.push((p, template_id));
            }
            // Served by the environment's static connection, which is not bound.
            Binding::Fallback(_) => {}
        }
    }
    let vars = plan.variables;
    if !s
        .store
        .list_user_platform_activations(&org, &user.id, Some(&env.id))
        .await?
        .is_empty()
    {
        return Err(ApiError::conflict(format!(
            "end user {:?} is already activated in this environment",
            user.external_id
        )));
    }
    // Only now that the request is otherwise sound are OAuth2 codes spent.
    let template_of: Vec<String> = pending.iter().map(|(_, t)| t.clone()).collect();
    let done =
        crate::oauth::complete(&s, &org, pending.into_iter().map(|(p, _)| p).collect()).await?;
    let new_connections: Vec<_> = done.into_iter().zip(template_of).collect();
    let now = time::now();
    let a = PlatformActivation {
        id: new_id(),
        organisation_id: org.to_string(),
        environment_id: env.id.clone(),
        end_user: user,
        is_static: false,
        dynamic_variables: vars,
        bindings,
        created_at: now,
        updated_at: now,
    };
    s.store
        .insert_platform_activation(&org, &a, &new_connections)
        .await?;
    let made: Vec<_> = new_connections.iter().map(|(n, _)| &n.connection).collect();
    crate::tokens::check_new_credentials(&s, &org, made).await;
    let view = env_view(&s, &org, &env, Some(templates)).await?;
    Ok(axum::Json(activation_out(&s, &org, a, &view).await?))
}
