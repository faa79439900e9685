//! A project's dynamic-variables schema: read, replaced, and patched one variable at a time
//! (key order kept), each checked before it is stored.
use crate::auth::PlatformAdmin;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value};
use switchyard_domain::platform::PlatformProject;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::projects::{change_project, check_variables_schema, project_of, stored_json};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(
        get_variables_schema,
        set_variables_schema,
        patch_variables_schema
    ))
}

/// What GetProjectVariablesSchema answers for a project without a schema: what is enforced then
/// (no dynamic variables at all).
pub(super) fn no_variables_schema() -> Value {
    serde_json::json!({"type": "object", "properties": {}, "additionalProperties": false})
}

/// The project's dynamic-variables JSON Schema, keys in the order written; without one, the
/// schema that is enforced then: `{"type":"object","properties":{},"additionalProperties":false}`.
#[utoipa::path(get, path = "/api/v2/o/{organisation_id}/projects/{project_id}/variables", operation_id = "v2GetProjectVariablesSchema", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)),
    responses((status = 200, body = Object, description = "DynamicVariablesSchema"), (status = "default", body = ErrorBody)))]
async fn get_variables_schema(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let org = auth.org.clone();
    let p = project_of(&s, &org, &id).await?;
    Ok(axum::Json(match p.variables_schema {
        Some(t) => stored_json(&t, "variables schema")?,
        None => no_variables_schema(),
    }))
}

/// Replaces the dynamic-variables schema (400 unless it is a JSON Schema of an object). Stored
/// variables are not re-checked: the schema applies to what is set from now on.
#[utoipa::path(put, path = "/api/v2/o/{organisation_id}/projects/{project_id}/variables", operation_id = "v2SetProjectVariablesSchema", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)),
    request_body(content = Object, description = "DynamicVariablesSchema"),
    responses((status = 200, body = Object, description = "DynamicVariablesSchema"), (status = "default", body = ErrorBody)))]
async fn set_variables_schema(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
    Json(schema): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    let org = auth.org.clone();
    check_variables_schema(&schema, "body").await?;
    let text = schema.to_string();
    change_project(&s, &org, &id, |p| {
        p.variables_schema = Some(text.clone());
        Ok(())
    })
    .await?;
    Ok(axum::Json(schema))
}

/// The project's schema with one `add`/`replace`/`remove` of variable `name` applied.
pub(super) fn patched_schema(
    p: &PlatformProject,
    op: &str,
    name: &str,
    value: Option<Value>,
) -> ApiResult<Value> {
    let mut schema = match &p.variables_schema {
        Some(t) => stored_json(t, "variables schema")?,
        None => no_variables_schema(),
    };
    let obj = schema
        .as_object_mut()
        .ok_or_else(|| ApiError::internal("a stored variables schema is not an object"))?;
    let props = obj
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(props) = props.as_object_mut() else {
        return Err(ApiError::invalid_field(
            "path",
            "the schema's properties is not an object",
        ));
    };
    let exists = props.contains_key(name);
    match (op, value) {
        ("remove", _) | ("replace", _) if !exists => {
            return Err(ApiError::invalid_field(
                "path",
                format!("the schema has no variable {name:?}"),
            ));
        }
        ("remove", _) => {
            props.shift_remove(name);
            if let Some(Value::Array(req)) = obj.get_mut("required") {
                req.retain(|r| r.as_str() != Some(name));
            }
        }
        (_, Some(v)) => {
            props.insert(name.to_owned(), v);
        }
        (_, None) => unreachable!("add and replace have a value"),
    }
    Ok(schema)
}

/// `DynamicVariablesSchemaPatch`: one operation on one variable.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = v2::DynamicVariablesSchemaPatch)]
pub struct VariablesSchemaPatch {
    /// `add` (creates or replaces), `replace` (the variable must exist) or `remove` (likewise).
    pub op: String,
    /// `/properties/<name>` (a JSON pointer: `~1` is `/`, `~0` is `~`).
    pub path: String,
    /// The variable's schema, or `{"<name>": <schema>}`; required by `add` and `replace`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub value: Option<Value>,
}

/// Applies one `add`/`replace`/`remove` to a variable (`/properties/<name>`) of the schema (a
/// project without one starts from `{"type":"object","properties":{},"additionalProperties":false}`).
/// Removing a variable also drops it from `required`. The result must still be a valid schema.
#[utoipa::path(patch, path = "/api/v2/o/{organisation_id}/projects/{project_id}/variables", operation_id = "v2PatchProjectVariablesSchema", tag = "v2-projects",
    params(("organisation_id" = String, Path), ("project_id" = String, Path)), request_body = VariablesSchemaPatch,
    responses((status = 200, body = Object, description = "DynamicVariablesSchema"), (status = "default", body = ErrorBody)))]
async fn patch_variables_schema(
    State(s): State<AppState>,
    auth: PlatformAdmin,
    Path((_org, id)): Path<(String, String)>,
    Json(patch): Json<VariablesSchemaPatch>,
) -> ApiResult<axum::Json<Value>> {
    let org = auth.org.clone();
    if !["add", "replace", "remove"].contains(&patch.op.as_str()) {
        return Err(ApiError::invalid_field(
            "op",
            format!("{:?} is not one of add, replace, remove", patch.op),
        ));
    }
    let name = match patch.path.strip_prefix("/properties/") {
        Some(n) if !n.is_empty() && !n.contains('/') => n.replace("~1", "/").replace("~0", "~"),
        _ => {
            return Err(ApiError::invalid_field(
                "path",
                "must be /properties/<variable name>",
            ))
        }
    };
    let value = match (&patch.op[..], patch.value) {
        ("remove", _) => None,
        (_, Some(Value::Object(mut m))) => {
            // `{"<name>": <schema>}`, as Versori's spec describes the value, or the schema itself.
            let wrapped = m.len() == 1 && m.get(&name).is_some_and(Value::is_object);
            Some(if wrapped {
                m.remove(&name).expect("checked")
            } else {
                Value::Object(m)
            })
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid_field(
                "value",
                "must be a JSON Schema object",
            ))
        }
        (op, None) => {
            return Err(ApiError::invalid_field(
                "value",
                format!("is required by {op:?}"),
            ))
        }
    };
    // The patched schema is checked (off the async workers) before the compare-and-swap write,
    // which accepts it only if the project's schema still patches to the same one.
    let checked = patched_schema(
        &project_of(&s, &org, &id).await?,
        &patch.op,
        &name,
        value.clone(),
    )?;
    check_variables_schema(&checked, "value").await?;
    let mut written = Value::Null;
    change_project(&s, &org, &id, |p| {
        let schema = patched_schema(p, &patch.op, &name, value.clone())?;
        if schema != checked {
            return Err(ApiError::conflict(
                "the variables schema changed while this patch was applied; retry",
            ));
        }
        p.variables_schema = Some(schema.to_string());
        written = schema;
        Ok(())
    })
    .await?;
    Ok(axum::Json(written))
}
