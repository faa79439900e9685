//! Platform API v2 (`/api/v2/o/{organisation_id}/...`): Versori's current model, one module per
//! resource. What they share lives here: the v2 auth scheme encoding and the field-error answer.
use crate::error::ApiError;
use crate::state::AppState;
use serde_json::{Map, Value};
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::FieldError;
use utoipa_axum::router::OpenApiRouter;

mod activate;
mod activations;
mod connection_links;
mod connection_wire;
mod connections;
mod end_users;
mod environments;
mod project_variables;
mod projects;
mod systems;
mod templates;

pub use end_users::{find_user, find_user_as};
pub use projects::FIRST_ENVIRONMENT;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(end_users::routes())
        .merge(connections::routes())
        .merge(connection_links::routes())
        .merge(activate::routes())
        .merge(activations::routes())
        .merge(systems::routes())
        .merge(projects::routes())
        .merge(project_variables::routes())
        .merge(templates::routes())
        .merge(environments::routes())
}

// The v2 auth scheme encoding (versori-api.md §6.2): `{type, <camelCaseType>: {id, description, ...}}`,
// and OAuth2 grants as `{type: "authorizationCode", authorizationCode: {...}}`. Converted to and
// from v1's flat encoding, which the domain type reads and writes.

const SCHEME_KEYS: &[(&str, &str)] = &[
    ("none", "none"),
    ("api-key", "apiKey"),
    ("basic-auth", "basicAuth"),
    ("oauth2", "oauth2"),
    ("hmac", "hmac"),
    ("certificate", "certificate"),
    ("oauth1", "oauth1"),
];
const GRANT_KEYS: &[(&str, &str)] = &[
    ("authorizationCode", "authorization_code"),
    ("clientCredentials", "client_credentials"),
    ("password", "password"),
];

/// A v2 `AuthSchemeConfig` → the domain config; problems are reported at `path`.
pub fn scheme_from_v2(v: &Value, path: &str) -> Result<AuthSchemeConfig, FieldError> {
    let (flat, key) = flatten_scheme(v, path)?;
    serde_json::from_value(Value::Object(flat))
        .map_err(|e| FieldError::new(format!("{path}.{key}"), e.to_string()))
}

/// A v2 `AuthSchemeConfig` in v1's flat encoding, as given (nothing filled in), and the wrapper
/// key its fields sat under (`oauth2`, `apiKey`...).
pub fn flatten_scheme(
    v: &Value,
    path: &str,
) -> Result<(Map<String, Value>, &'static str), FieldError> {
    let ty = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| FieldError::new(format!("{path}.type"), "is required"))?;
    let key = SCHEME_KEYS
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            FieldError::new(
                format!("{path}.type"),
                format!("{ty:?} is not a supported auth scheme type"),
            )
        })?;
    let mut flat = match v.get(key) {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) if ty == "none" || ty == "basic-auth" || ty == "certificate" => {
            Map::new()
        }
        _ => {
            return Err(FieldError::new(
                format!("{path}.{key}"),
                format!("is required when type is {ty:?}"),
            ))
        }
    };
    flat.insert("schemeType".into(), Value::String(ty.into()));
    if ty == "oauth2" {
        let grant = flat.get("grant").cloned().unwrap_or(Value::Null);
        let gty = grant
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| FieldError::new(format!("{path}.oauth2.grant.type"), "is required"))?;
        let v1_name = GRANT_KEYS
            .iter()
            .find(|(t, _)| *t == gty)
            .map(|(_, n)| *n)
            .ok_or_else(|| {
                FieldError::new(
                    format!("{path}.oauth2.grant.type"),
                    format!("{gty:?} is not a supported grant type"),
                )
            })?;
        let mut g = match grant.get(gty) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        g.insert("grantType".into(), Value::String(v1_name.into()));
        flat.insert("grant".into(), Value::Object(g));
    }
    Ok((flat, key))
}

/// The domain config → v2's wrapper encoding (secrets are never serialised by the domain type).
pub fn scheme_to_v2(c: &AuthSchemeConfig) -> Value {
    let mut flat = match serde_json::to_value(c) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let ty = flat
        .remove("schemeType")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| c.scheme.type_name().to_owned());
    let key = SCHEME_KEYS
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, k)| *k)
        .unwrap_or("none");
    if let Some(Value::Object(g)) = flat.remove("grant") {
        // The spec's grant objects still require v1's `grantType`, so it stays in the inner object.
        let v1_name = g
            .get("grantType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let gty = GRANT_KEYS
            .iter()
            .find(|(_, n)| *n == v1_name)
            .map(|(t, _)| *t)
            .unwrap_or("authorizationCode");
        let mut wrapper = Map::new();
        wrapper.insert("type".into(), Value::String(gty.into()));
        wrapper.insert(gty.into(), Value::Object(g));
        flat.insert("grant".into(), Value::Object(wrapper));
    }
    let mut out = Map::new();
    out.insert("type".into(), Value::String(ty));
    out.insert(key.into(), Value::Object(flat));
    Value::Object(out)
}

pub(crate) fn fields_error(message: &str, fields: Vec<FieldError>) -> ApiError {
    ApiError::invalid_fields(
        if fields.len() == 1 {
            format!("{message}: {}: {}", fields[0].field, fields[0].message)
        } else {
            format!("{message}: {} problems", fields.len())
        },
        fields,
    )
}
