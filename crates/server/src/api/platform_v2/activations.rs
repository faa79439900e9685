//! Platform API v2 activations: an end user × an environment, with a connection for every
//! connection template of the environment and dynamic variables checked against the project's
//! schema. Each environment also has a static activation (of a hidden static user), whose
//! variables `SetStaticUserVariables` sets.
use super::connection_wire::{connection_out, ConnectionOut};
use super::end_users::EndUserOut;
use super::fields_error;
use super::projects::EnvironmentOut;
use crate::auth::{end_user_forbidden, PlatformAdmin, PlatformAuth};
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, JsonBody, Path, Query};
use crate::state::AppState;
use crate::variables;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use switchyard_domain::platform::{PlatformActivation, PlatformEnvironment, PlatformTemplate};
use switchyard_domain::{time, Error, ErrorKind, FieldError};
use switchyard_store::OrgId;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_activations))
        .routes(routes!(get_activation, delete_activation))
        .routes(routes!(list_user_activations))
        .routes(routes!(set_dynamic_variables))
        .routes(routes!(set_dynamic_variable))
        .routes(routes!(set_static_user_variables))
        .routes(routes!(get_activation_connection))
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

pub(super) fn not_found_field(field: &str, message: &str) -> ApiError {
    let mut e = Error::invalid_field(field, message);
    e.kind = ErrorKind::NotFound;
    e.message = format!("{field}: {message}");
    ApiError(e)
}

/// What the activations of one environment share when they are shown: the environment as
/// project reads show it, its templates, and the static connection serving each template.
pub(super) struct EnvView {
    out: EnvironmentOut,
    templates: Vec<PlatformTemplate>,
    statics: Vec<(String, String)>,
}

/// The view of `env`; `templates` when the caller has already read them.
pub(super) async fn env_view(
    s: &AppState,
    org: &OrgId,
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
pub(super) fn served(
    view: &EnvView,
    bindings: &[(String, String)],
) -> Vec<(String, Option<String>)> {
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
pub(super) async fn outs(
    s: &AppState,
    org: &OrgId,
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

pub(super) async fn activation_out(
    s: &AppState,
    org: &OrgId,
    a: PlatformActivation,
    view: &EnvView,
) -> ApiResult<ActivationOut> {
    Ok(outs(s, org, vec![a], view)
        .await?
        .pop()
        .expect("one in, one out"))
}

pub(super) async fn environment(
    s: &AppState,
    org: &OrgId,
    id: &str,
) -> ApiResult<PlatformEnvironment> {
    s.store
        .find_platform_environment(org, id)
        .await?
        .or_not_found("environment")
}

/// An activation (of the environment `env_id`, when given) that the caller may act on: the
/// organisation any, an end user only its own (403 otherwise).
pub(super) async fn activation_of(
    s: &AppState,
    auth: &PlatformAuth,
    org: &OrgId,
    env_id: Option<&str>,
    id: &str,
) -> ApiResult<PlatformActivation> {
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
pub(super) async fn variables_schema(
    s: &AppState,
    org: &OrgId,
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
        .map_err(|_| ApiError::internal("a stored variables schema is not JSON"))
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
pub(super) async fn list_activations(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, env_id)): Path<(String, String)>,
    Query(q): Query<ListActivationsParams>,
) -> ApiResult<axum::Json<Vec<ActivationOut>>> {
    let org = auth.org.clone();
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
pub(super) async fn get_activation(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, env_id, id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<ActivationOut>> {
    let org = auth.org.clone();
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
pub(super) async fn delete_activation(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, env_id, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    let a = activation_of(&s, &auth, &org, Some(&env_id), &id).await?;
    if a.is_static {
        return Err(ApiError::conflict(
            "the environment's static activation cannot be deleted",
        ));
    }
    if !s.store.delete_platform_activation(&org, &a.id).await? {
        return Err(ApiError::not_found("activation"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// One end user's activations of the environment (at most one). Note the singular
/// `/environment/` in the path, as in Versori's API. An end user that does not exist yet has none.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/environment/{environment_id}/users/{external_user_id}/activations", operation_id = "v2ListUserActivations", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("environment_id" = String, Path), ("external_user_id" = String, Path)),
    responses((status = 200, body = Vec<ActivationOut>), (status = "default", body = ErrorBody)))]
pub(super) async fn list_user_activations(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, env_id, external_id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<Vec<ActivationOut>>> {
    let org = auth.org.clone();
    auth.check_user(&external_id)?;
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
pub(super) async fn merge_variables(
    s: &AppState,
    org: &OrgId,
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
    Err(ApiError::conflict(
        "the variables kept changing while this update was applied; retry",
    ))
}

/// Merges the given variables into the activation's (a JSON merge at the top level).
#[utoipa::path(patch, path = "/api/v2/o/{organisation_id}/environments/{environment_id}/activations/{activation_id}/variables", operation_id = "v2SetDynamicVariables", tag = "v2-activations",
    params(("organisation_id" = String, Path), ("environment_id" = String, Path), ("activation_id" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = "default", body = ErrorBody)))]
pub(super) async fn set_dynamic_variables(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, env_id, id)): Path<(String, String, String)>,
    patch: JsonBody<Map<String, Value>>,
) -> ApiResult<axum::Json<Map<String, Value>>> {
    let org = auth.org.clone();
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
pub(super) async fn set_dynamic_variable(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, env_id, id, name)): Path<(String, String, String, String)>,
    body: JsonBody<VariableValue>,
) -> ApiResult<axum::Json<Map<String, Value>>> {
    let org = auth.org.clone();
    let a = activation_of(&s, &auth, &org, Some(&env_id), &id).await?;
    let body = body.get()?;
    if body.value.is_null() {
        return Err(ApiError::invalid_field("value", "must not be null"));
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
pub(super) async fn set_static_user_variables(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, env_id)): Path<(String, String)>,
    Json(patch): Json<Map<String, Value>>,
) -> ApiResult<axum::Json<Map<String, Value>>> {
    let org = auth.org.clone();
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
pub(super) async fn get_activation_connection(
    State(s): State<AppState>,
    auth: PlatformAuth,
    Path((_org, template_id, id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<ConnectionOut>> {
    let org = auth.org.clone();
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

/// Checks `vars` against the project's schema: every key must be one the schema declares (even
/// when it allows others), and the schema must hold. Returns the variables with defaults applied.
/// `stale` keys (stored earlier, since removed from the schema) are kept but not checked.
/// Violations are the inner `Err`; an unusable schema (or a busy server) the outer one.
pub(super) async fn check_variables(
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
