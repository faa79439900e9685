//! Platform API v2 activations: an end user × an environment, with a connection for every
//! connection template of the environment and dynamic variables checked against the project's
//! schema. Each environment also has a static activation (of a hidden static user), whose
//! variables `SetStaticUserVariables` sets.
use super::connections::{self, connection_out, ConnectionCreate, ConnectionOut};
use super::end_users::EndUserOut;
use super::projects::EnvironmentOut;
use super::{fields_error, find_user_as};
use crate::auth::{end_user_forbidden, PlatformAdmin, PlatformAuth};
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, JsonBody, Path, Query};
use crate::variables;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use switchyard_domain::activation::{
    self, Binding, Entry, ExistingConnection, Refusal, Request, Rules, Slot, Words,
};
use switchyard_domain::connection::Owner;
use switchyard_domain::model::{Connection, Connector};
use switchyard_domain::platform::{PlatformActivation, PlatformEnvironment, PlatformTemplate};
use switchyard_domain::{new_id, time, Error, ErrorKind, FieldError};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activate_user))
        .routes(routes!(list_activations))
        .routes(routes!(get_activation, delete_activation))
        .routes(routes!(list_user_activations))
        .routes(routes!(set_dynamic_variables))
        .routes(routes!(set_dynamic_variable))
        .routes(routes!(set_static_user_variables))
        .routes(routes!(get_activation_connection))
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

/// `Activation`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::Activation)]
pub struct ActivationOut {
    pub id: String,
    pub user: EndUserOut,
    pub environment: EnvironmentOut,
    /// The connection serving each of the environment's templates, credentials redacted.
    pub connections: Vec<ConnectionOut>,
    #[schema(value_type = Object)]
    pub dynamic_variables: Map<String, Value>,
}

fn not_found_field(field: &str, message: &str) -> ApiError {
    let mut e = Error::invalid_field(field, message);
    e.kind = ErrorKind::NotFound;
    e.message = format!("{field}: {message}");
    ApiError(e)
}

/// What the activations of one environment share when they are shown: the environment as
/// project reads show it, its templates, and the static connection serving each template.
struct EnvView {
    out: EnvironmentOut,
    templates: Vec<PlatformTemplate>,
    statics: Vec<(String, String)>,
}

/// The view of `env`; `templates` when the caller has already read them.
async fn env_view(
    s: &AppState,
    org: &str,
    env: &PlatformEnvironment,
    templates: Option<Vec<PlatformTemplate>>,
) -> ApiResult<EnvView> {
    let templates = match templates {
        Some(t) => t,
        None => {
            s.store
                .list_platform_templates(org, &env.project_id, Some(&env.id))
                .await?
        }
    };
    let statics = s
        .store
        .static_connections(
            org,
            &templates.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        )
        .await?;
    let out = super::projects::environments_out(s, org, &env.project_id)
        .await?
        .into_iter()
        .find(|e| e.id == env.id)
        .or_not_found("environment")?;
    Ok(EnvView {
        out,
        templates,
        statics,
    })
}

/// For each template (in order), the connection serving it: the activation's binding, or else
/// the environment's static connection.
fn served(view: &EnvView, bindings: &[(String, String)]) -> Vec<(String, Option<String>)> {
    view.templates
        .iter()
        .map(|t| {
            let bound = bindings
                .iter()
                .find(|(tid, _)| *tid == t.id)
                .or_else(|| view.statics.iter().find(|(tid, _)| *tid == t.id));
            (t.id.clone(), bound.map(|(_, c)| c.clone()))
        })
        .collect()
}

/// Activations of one environment as the API shows them; their connections read in one query.
async fn outs(
    s: &AppState,
    org: &str,
    list: Vec<PlatformActivation>,
    view: &EnvView,
) -> ApiResult<Vec<ActivationOut>> {
    let pairs: Vec<_> = list.iter().map(|a| served(view, &a.bindings)).collect();
    let ids: Vec<String> = pairs
        .iter()
        .flatten()
        .filter_map(|(_, c)| c.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let found: HashMap<String, _> = s
        .store
        .get_connections(org, &ids)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    Ok(list
        .into_iter()
        .zip(pairs)
        .map(|(a, pairs)| ActivationOut {
            id: a.id,
            user: a.end_user.into(),
            environment: view.out.clone(),
            connections: pairs
                .into_iter()
                .filter_map(|(t, c)| {
                    c.and_then(|c| found.get(&c))
                        .map(|c| connection_out(c, Some(t)))
                })
                .collect(),
            dynamic_variables: a.dynamic_variables,
        })
        .collect())
}

async fn activation_out(
    s: &AppState,
    org: &str,
    a: PlatformActivation,
    view: &EnvView,
) -> ApiResult<ActivationOut> {
    Ok(outs(s, org, vec![a], view)
        .await?
        .pop()
        .expect("one in, one out"))
}

async fn environment(s: &AppState, org: &str, id: &str) -> ApiResult<PlatformEnvironment> {
    s.store
        .find_platform_environment(org, id)
        .await?
        .or_not_found("environment")
}

/// An activation (of the environment `env_id`, when given) that the caller may act on: the
/// organisation any, an end user only its own (403 otherwise).
async fn activation_of(
    s: &AppState,
    auth: &PlatformAuth,
    org: &str,
    env_id: Option<&str>,
    id: &str,
) -> ApiResult<PlatformActivation> {
    auth.check_org(org)?;
    let a = s
        .store
        .get_platform_activation(org, id)
        .await?
        .filter(|a| env_id.is_none_or(|e| a.environment_id == e));
    if let Some(own) = auth.end_user() {
        if !a
            .as_ref()
            .is_some_and(|a| !a.is_static && a.end_user.external_id == own)
        {
            return Err(end_user_forbidden());
        }
    }
    a.or_not_found("activation")
}

/// The project's dynamic-variables schema, parsed.
async fn variables_schema(
    s: &AppState,
    org: &str,
    env: &PlatformEnvironment,
) -> ApiResult<Option<Value>> {
    let project = s
        .store
        .get_platform_project(org, &env.project_id)
        .await?
        .or_not_found("project")?;
    project
        .variables_schema
        .as_deref()
        .map(serde_json::from_str::<Value>)
        .transpose()
        .map_err(|_| ApiError(Error::internal("a stored variables schema is not JSON")))
}

/// Checks `vars` against the project's schema: every key must be one the schema declares (even
/// when it allows others), and the schema must hold. Returns the variables with defaults applied.
/// `stale` keys (stored earlier, since removed from the schema) are kept but not checked.
/// Violations are the inner `Err`; an unusable schema (or a busy server) the outer one.
async fn check_variables(
    schema: Option<&Value>,
    vars: Map<String, Value>,
    root: &str,
    stale: &HashSet<String>,
) -> ApiResult<Result<Map<String, Value>, Vec<FieldError>>> {
    let (checked, kept, mut fields) =
        switchyard_domain::variables::split_declared(schema, vars, root, stale);
    let mut out = match variables::validate(variables::PROJECT, schema, checked, root).await {
        Ok(v) => v,
        Err(e) => {
            for f in variables::violations(e)? {
                if !fields.contains(&f) && !fields.iter().any(|x| x.field == f.field) {
                    fields.push(f);
                }
            }
            Map::new()
        }
    };
    if !fields.is_empty() {
        return Ok(Err(fields));
    }
    out.extend(kept);
    Ok(Ok(out))
}

// ---------------------------------------------------------------------------------------------
// ActivateUser.

/// How Platform API v2 names what the activation engine reports, and its rules: the end user's
/// own connections and the organisation's (static) ones.
const RULES: Rules = Rules {
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
fn refused(r: Refusal, templates: &[PlatformTemplate]) -> ApiError {
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
    ApiError(Error::invalid_fields(message, fields))
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
    Path(org): Path<String>,
    Json(body): Json<ActivationCreate>,
) -> ApiResult<axum::Json<ActivationOut>> {
    auth.check_org(&org)?;
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
    let owners: HashMap<&str, Owner> = known
        .iter()
        .map(|(id, c)| (id.as_str(), Owner::of(c)))
        .collect();
    let existing: HashMap<&str, ExistingConnection<'_>> = known
        .iter()
        .map(|(id, c)| {
            let owner = &owners[id.as_str()];
            (
                id.as_str(),
                ExistingConnection {
                    connector_id: &c.connector_id,
                    owner,
                },
            )
        })
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
    let requester = connections::requester(&auth);
    let mut creates: Vec<Option<ConnectionCreate>> = body
        .connections
        .iter()
        .map(|e| e.connection.clone())
        .collect();
    let build = |i: usize, slot: &Slot<'_>| {
        let create = creates[i].take().expect("a new connection's entry has one");
        let path = format!("connections[{i}].connection.");
        connections::build(
            &s,
            &org,
            &systems[slot.connector_id],
            Some(&user),
            create,
            requester,
            &path,
        )
    };
    let mut plan = activation::plan(&slots, &entries, &existing, &owner, &RULES, vars, build)
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
        return Err(ApiError(Error::conflict(format!(
            "end user {:?} is already activated in this environment",
            user.external_id
        ))));
    }
    // Only now that the request is otherwise sound are OAuth2 codes spent.
    let template_of: Vec<String> = pending.iter().map(|(_, t)| t.clone()).collect();
    let done =
        crate::oauth::complete(&s, &org, pending.into_iter().map(|(p, _)| p).collect()).await?;
    let new_connections: Vec<_> = done.into_iter().zip(template_of).collect();
    let now = time::now();
    let a = PlatformActivation {
        id: new_id(),
        organisation_id: org.clone(),
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
    crate::tokens::check_new_credentials(
        &s,
        &org,
        &new_connections
            .iter()
            .map(|(n, _)| &n.connection)
            .collect::<Vec<_>>(),
    )
    .await;
    let view = env_view(&s, &org, &env, Some(templates)).await?;
    Ok(axum::Json(activation_out(&s, &org, a, &view).await?))
}

// ---------------------------------------------------------------------------------------------
// Reading and deleting.

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListActivationsParams {
    /// `true`: only the environment's static activation (created on first use).
    #[serde(default, rename = "static")]
    pub is_static: bool,
}

/// The environment's activations, oldest first; with `static=true`, its static activation.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/environments/{environment_id}/activations", operation_id = "v2ListActivations", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("environment_id" = String, Path), ListActivationsParams),
    responses((status = 200, body = Vec<ActivationOut>), (status = "default", body = ErrorBody)))]
async fn list_activations(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((org, env_id)): Path<(String, String)>,
    Query(q): Query<ListActivationsParams>,
) -> ApiResult<axum::Json<Vec<ActivationOut>>> {
    auth.check_admin(&org)?;
    let env = environment(&s, &org, &env_id).await?;
    let list = if q.is_static {
        vec![
            s.store
                .static_platform_activation(&org, &env, time::now())
                .await?,
        ]
    } else {
        s.store
            .list_platform_activations(&org, &env.id, false)
            .await?
    };
    Ok(axum::Json(
        outs(&s, &org, list, &env_view(&s, &org, &env, None).await?).await?,
    ))
}

#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/environments/{environment_id}/activations/{activation_id}", operation_id = "v2GetActivation", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("environment_id" = String, Path), ("activation_id" = String, Path)),
    responses((status = 200, body = ActivationOut), (status = "default", body = ErrorBody)))]
async fn get_activation(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, env_id, id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<ActivationOut>> {
    let a = activation_of(&s, &auth, &org, Some(&env_id), &id).await?;
    let env = environment(&s, &org, &env_id).await?;
    Ok(axum::Json(
        activation_out(&s, &org, a, &env_view(&s, &org, &env, None).await?).await?,
    ))
}

/// Deactivates: removes the activation only; the end user and its connections stay.
#[utoipa::path(delete, path = "/api/v2/o/{organisation_id}/environments/{environment_id}/activations/{activation_id}", operation_id = "v2DeleteActivation", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("environment_id" = String, Path), ("activation_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_activation(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, env_id, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let a = activation_of(&s, &auth, &org, Some(&env_id), &id).await?;
    if a.is_static {
        return Err(ApiError(Error::conflict(
            "the environment's static activation cannot be deleted",
        )));
    }
    if !s.store.delete_platform_activation(&org, &a.id).await? {
        return Err(ApiError(Error::not_found("activation")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// One end user's activations of the environment (at most one). Note the singular
/// `/environment/` in the path, as in Versori's API. An end user that does not exist yet has none.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/environment/{environment_id}/users/{external_user_id}/activations", operation_id = "v2ListUserActivations", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("environment_id" = String, Path), ("external_user_id" = String, Path)),
    responses((status = 200, body = Vec<ActivationOut>), (status = "default", body = ErrorBody)))]
async fn list_user_activations(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, env_id, external_id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<Vec<ActivationOut>>> {
    auth.check_user(&org, &external_id)?;
    let env = environment(&s, &org, &env_id).await?;
    let Some(user) = s
        .store
        .find_platform_end_user_by_external_id(&org, &external_id)
        .await?
    else {
        return Ok(axum::Json(Vec::new()));
    };
    let list = s
        .store
        .list_user_platform_activations(&org, &user.id, Some(&env.id))
        .await?;
    Ok(axum::Json(
        outs(&s, &org, list, &env_view(&s, &org, &env, None).await?).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Variables.

/// Merges `patch` into the activation's variables, checked against the project's schema (the
/// keys set must be declared; the merged variables must satisfy it). Concurrent updates do not
/// lose each other's keys: the write is a compare-and-swap, retried.
async fn merge_variables(
    s: &AppState,
    org: &str,
    env: &PlatformEnvironment,
    mut a: PlatformActivation,
    patch: Map<String, Value>,
    root: &str,
) -> ApiResult<Map<String, Value>> {
    let schema = variables_schema(s, org, env).await?;
    for _ in 0..8 {
        let declared: Option<HashSet<String>> = schema
            .as_ref()
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect());
        // Stored keys the schema no longer declares stay, unchecked.
        let stale: HashSet<String> = a
            .dynamic_variables
            .keys()
            .filter(|k| {
                !patch.contains_key(*k) && declared.as_ref().is_some_and(|d| !d.contains(*k))
            })
            .cloned()
            .collect();
        let mut merged = a.dynamic_variables.clone();
        for (k, v) in &patch {
            merged.insert(k.clone(), v.clone());
        }
        let merged = check_variables(schema.as_ref(), merged, root, &stale)
            .await?
            .map_err(|f| fields_error("invalid dynamic variables", f))?;
        if s.store
            .swap_platform_activation_variables(
                org,
                &a.id,
                &a.dynamic_variables,
                &merged,
                time::now(),
            )
            .await?
        {
            return Ok(merged);
        }
        a = s
            .store
            .get_platform_activation(org, &a.id)
            .await?
            .or_not_found("activation")?;
    }
    Err(ApiError(Error::conflict(
        "the variables kept changing while this update was applied; retry",
    )))
}

/// Merges the given variables into the activation's (a JSON merge at the top level).
#[utoipa::path(patch, path = "/api/v2/o/{organisation_id}/environments/{environment_id}/activations/{activation_id}/variables", operation_id = "v2SetDynamicVariables", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("environment_id" = String, Path), ("activation_id" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = "default", body = ErrorBody)))]
async fn set_dynamic_variables(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, env_id, id)): Path<(String, String, String)>,
    patch: JsonBody<Map<String, Value>>,
) -> ApiResult<axum::Json<Map<String, Value>>> {
    let a = activation_of(&s, &auth, &org, Some(&env_id), &id).await?;
    let patch = patch.get()?;
    let env = environment(&s, &org, &env_id).await?;
    Ok(axum::Json(
        merge_variables(&s, &org, &env, a, patch, "dynamicVariables").await?,
    ))
}

/// `{value}` of SetDynamicVariable.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = v2::DynamicVariableValue)]
pub struct VariableValue {
    #[schema(value_type = Object)]
    pub value: Value,
}

/// Sets one variable by name.
#[utoipa::path(put, path = "/api/v2/o/{organisation_id}/environments/{environment_id}/activations/{activation_id}/variables/{variable_name}", operation_id = "v2SetDynamicVariable", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("environment_id" = String, Path), ("activation_id" = String, Path), ("variable_name" = String, Path)), request_body = VariableValue,
    responses((status = 200, body = Object), (status = "default", body = ErrorBody)))]
async fn set_dynamic_variable(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, env_id, id, name)): Path<(String, String, String, String)>,
    body: JsonBody<VariableValue>,
) -> ApiResult<axum::Json<Map<String, Value>>> {
    let a = activation_of(&s, &auth, &org, Some(&env_id), &id).await?;
    let body = body.get()?;
    if body.value.is_null() {
        return Err(ApiError(Error::invalid_field("value", "must not be null")));
    }
    let env = environment(&s, &org, &env_id).await?;
    let mut patch = Map::new();
    patch.insert(name, body.value);
    Ok(axum::Json(
        merge_variables(&s, &org, &env, a, patch, "dynamicVariables").await?,
    ))
}

/// Merges variables into the environment's static activation (created on first use).
#[utoipa::path(patch, path = "/api/v2/o/{organisation_id}/environments/{environment_id}/variables", operation_id = "v2SetStaticUserVariables", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("environment_id" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = "default", body = ErrorBody)))]
async fn set_static_user_variables(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((org, env_id)): Path<(String, String)>,
    Json(patch): Json<Map<String, Value>>,
) -> ApiResult<axum::Json<Map<String, Value>>> {
    auth.check_admin(&org)?;
    let env = environment(&s, &org, &env_id).await?;
    let a = s
        .store
        .static_platform_activation(&org, &env, time::now())
        .await?;
    Ok(axum::Json(
        merge_variables(&s, &org, &env, a, patch, "dynamicVariables").await?,
    ))
}

/// The connection, credentials redacted, that serves a template for an activation: its binding,
/// or else the environment's static connection.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/environment-systems/{env_system_id}/activations/{activation_id}", operation_id = "v2GetActivationConnection", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("env_system_id" = String, Path, description = "The connection template's id"), ("activation_id" = String, Path)),
    responses((status = 200, body = ConnectionOut), (status = "default", body = ErrorBody)))]
async fn get_activation_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((org, template_id, id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let a = activation_of(&s, &auth, &org, None, &id).await?;
    let t = s
        .store
        .find_platform_template(&org, &template_id)
        .await?
        .filter(|t| t.environment_id == a.environment_id)
        .or_not_found("connection template")?;
    let cid = match a.bindings.iter().find(|(tid, _)| *tid == t.id) {
        Some((_, c)) => Some(c.clone()),
        None => s
            .store
            .static_connections(&org, std::slice::from_ref(&t.id))
            .await?
            .pop()
            .map(|(_, c)| c),
    };
    let cid = cid.or_not_found("connection for this template")?;
    let c = s
        .store
        .get_connection(&org, &cid)
        .await?
        .or_not_found("connection")?;
    Ok(axum::Json(connection_out(&c, Some(t.id))))
}
