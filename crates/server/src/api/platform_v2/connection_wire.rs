//! Platform API v2's connection encoding: a flat credential list, credential `data` wrapped in a
//! key named by its type (`{string: {value}}`), auth scheme configs in the wrapper form, and a
//! `baseUrl` override; and how a v2 connection request becomes a draft for the connection
//! service.
use super::{flatten_scheme, scheme_to_v2};
use crate::auth::PlatformAuth;
use crate::connections::PendingConnection;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_domain::auth_scheme::{self, AuthSchemeConfig};
use switchyard_domain::connection::{ConnectionDraft, CredentialDraft, Owner, Requester};
use switchyard_domain::credential::{CredentialType, CredentialView};
use switchyard_domain::model::{Connection, ConnectionCredential, Connector, CredentialRole};
use switchyard_domain::platform::PlatformEndUser;
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::FieldError;
use switchyard_store::OrgId;
use utoipa::ToSchema;

// ---------------------------------------------------------------------------------------------
// The v2 credential encoding.

/// Credential types and the key their `data` sits under in v2.
pub(super) const DATA_KEYS: &[(CredentialType, &str)] = &[
    (CredentialType::None, "none"),
    (CredentialType::String, "string"),
    (CredentialType::Binary, "binary"),
    (CredentialType::BasicAuth, "basicAuth"),
    (CredentialType::OAuth2Client, "oauth2Client"),
    (CredentialType::OAuth2Code, "oauth2Code"),
    (CredentialType::OAuth2Password, "oauth2Password"),
    (CredentialType::OAuth2Token, "oauth2Token"),
    (CredentialType::Certificate, "certificate"),
    (CredentialType::JwtBearer, "jwtBearer"),
    (CredentialType::CustomFunction, "customFunction"),
    (CredentialType::OAuth1, "oauth1"),
    (CredentialType::OAuth1Token, "oauth1Token"),
];

pub(super) fn data_key(ty: CredentialType) -> &'static str {
    DATA_KEYS
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, k)| *k)
        .unwrap_or("none")
}

/// What a v2 `Credential` (`{id?, organisationId?, type?, name?, data?: {<key>: {...}}}`) asks
/// for. The type comes from `type`, or else from the data's key; both must agree.
pub(super) struct CredentialRequest {
    name: String,
    credential_type: CredentialType,
    data: Option<Value>,
    expires_at: Option<switchyard_domain::time::Timestamp>,
}

pub(super) fn credential_from_v2(v: &Value, path: &str) -> Result<CredentialRequest, FieldError> {
    let Value::Object(m) = v else {
        return Err(FieldError::new(path, "must be an object"));
    };
    let declared = match m.get("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(CredentialType::parse(s).ok_or_else(|| {
            FieldError::new(
                format!("{path}.type"),
                format!("{s:?} is not a credential type"),
            )
        })?),
        Some(_) => return Err(FieldError::new(format!("{path}.type"), "must be a string")),
    };
    let (from_data, inner) = match m.get("data") {
        None | Some(Value::Null) => (None, None),
        Some(Value::Object(d)) if d.is_empty() => (None, None),
        Some(Value::Object(d)) if d.len() == 1 => {
            let (k, inner) = d.iter().next().expect("one entry");
            let ty = DATA_KEYS
                .iter()
                .find(|(_, key)| key == k)
                .map(|(t, _)| *t)
                .ok_or_else(|| FieldError::new(format!("{path}.data.{k}"), format!("{k:?} is not a credential data key")))?;
            (Some(ty), Some(inner.clone()))
        }
        Some(_) => {
            return Err(FieldError::new(format!("{path}.data"), "must hold exactly one key, named by the credential type (string, basicAuth, oauth2Code...)"))
        }
    };
    let ty = match (declared, from_data) {
        (Some(a), Some(b)) if a != b => {
            return Err(FieldError::new(
                format!("{path}.data"),
                format!("holds {} data but type is {:?}", data_key(b), a.as_str()),
            ));
        }
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => CredentialType::None,
    };
    let name = m
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let expires_at = match m.get("expiresAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    FieldError::new(format!("{path}.expiresAt"), "is not an RFC 3339 date-time")
                })?,
        ),
        Some(_) => {
            return Err(FieldError::new(
                format!("{path}.expiresAt"),
                "must be an RFC 3339 date-time string",
            ))
        }
    };
    Ok(CredentialRequest {
        name,
        credential_type: ty,
        data: inner,
        expires_at,
    })
}

/// A credential as v2 reads show it (secrets were never in the view).
pub fn credential_to_v2(view: &CredentialView) -> Value {
    let mut v = serde_json::to_value(view).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        let data = m.remove("data").unwrap_or(Value::Object(Map::new()));
        let mut wrapped = Map::new();
        wrapped.insert(data_key(view.credential_type).to_owned(), data);
        m.insert("data".into(), Value::Object(wrapped));
    }
    v
}

/// A v2 `ConnectionCredential` as reads show it.
pub(super) fn connection_credential_to_v2(cc: &ConnectionCredential) -> Value {
    serde_json::json!({"id": cc.id, "authSchemeConfig": scheme_to_v2(&cc.auth_scheme_config), "credential": credential_to_v2(&cc.credential)})
}

/// `ConnectionCreate` (v2): name, a flat credential list, and an optional base URL override.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::ConnectionCreate)]
pub struct ConnectionCreate {
    pub name: String,
    /// `ConnectionCredential`s: `{id?, authSchemeConfig (v2 wrapper form), credential: {type, name, data: {<key>: {...}}}}`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub credentials: Vec<Value>,
    /// Only scheme and host are kept; `https://` when the scheme is missing; empty: the system's.
    #[serde(default)]
    pub base_url: String,
}

/// Only the scheme and host (and port) of a base URL override; `https://` when no scheme is
/// given; empty stays empty.
pub fn normalise_base_url(raw: &str, field: &str) -> Result<String, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = url::Url::parse(&with_scheme)
        .map_err(|e| FieldError::new(field, format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FieldError::new(field, "must be an http or https URL"));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| FieldError::new(field, "has no host"))?;
    Ok(match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// A v2 `ConnectionCreate` as the draft the connection service checks, with the problems found
/// in its v2 encoding (reported beside the service's own, all at once). `path` prefixes every
/// field (`connection.`).
pub(super) fn draft(create: ConnectionCreate, path: &str) -> (ConnectionDraft, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut credentials = Vec::new();
    for (i, cc) in create.credentials.iter().enumerate() {
        let p = format!("{path}credentials[{i}]");
        let scheme = match cc.get("authSchemeConfig") {
            Some(v) if !v.is_null() => flatten_scheme(v, &format!("{p}.authSchemeConfig"))
                .map(|(flat, key)| (Value::Object(flat), format!("{p}.authSchemeConfig.{key}"))),
            _ => Err(FieldError::new(
                format!("{p}.authSchemeConfig"),
                "is required",
            )),
        };
        let field = format!("{p}.credential");
        let cred = credential_from_v2(cc.get("credential").unwrap_or(&Value::Null), &field);
        match (scheme, cred) {
            (Ok((scheme, scheme_field)), Ok(c)) => credentials.push(CredentialDraft {
                role: CredentialRole::Action,
                scheme,
                scheme_field,
                name: c.name,
                credential_type: c.credential_type,
                data: c.data,
                expires_at: c.expires_at,
                field,
            }),
            (a, b) => errors.extend(a.err().into_iter().chain(b.err())),
        }
    }
    let base_url = match normalise_base_url(&create.base_url, &format!("{path}baseUrl")) {
        Ok(u) => u,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let draft = ConnectionDraft {
        name: create.name,
        name_field: format!("{path}name"),
        credentials,
        variables: Vec::new(),
        variables_field: format!("{path}variables"),
        base_url,
    };
    (draft, errors)
}

/// The organisation's copy, among `schemes`, of the v2 auth scheme config a request names.
pub(super) fn resolve_scheme(
    v: &Value,
    schemes: &[AuthSchemeConfig],
    path: &str,
) -> Result<AuthSchemeConfig, FieldError> {
    let (flat, key) = flatten_scheme(v, path)?;
    auth_scheme::resolve(&Value::Object(flat), schemes, &format!("{path}.{key}"))
}

/// Builds a new v2 connection to `system` (a dynamic one when `owner` is set) through the
/// connection service, each credential on one of the system's auth scheme configs; `oauth2-code`
/// credentials still need [`crate::oauth::complete`]. `path` prefixes error fields, for example
/// `connection.`.
pub fn build(
    s: &AppState,
    org: &OrgId,
    system: &Connector,
    owner: Option<&PlatformEndUser>,
    create: ConnectionCreate,
    requester: Requester,
    path: &str,
) -> Result<PendingConnection, Vec<FieldError>> {
    let (draft, mut errors) = draft(create, path);
    let owner = owner.map_or(Owner::Organisation, |u| {
        Owner::PlatformEndUser(u.id.clone())
    });
    let built = crate::connections::build(
        s,
        org,
        &system.id,
        owner,
        draft,
        &system.auth_scheme_configs,
        requester,
    );
    match built {
        Ok(p) if errors.is_empty() => Ok(p),
        Ok(_) => Err(errors),
        Err(f) => {
            errors.extend(f);
            Err(errors)
        }
    }
}

/// Who a v2 caller is, for what a credential may carry.
pub fn requester(auth: &PlatformAuth) -> Requester {
    if auth.end_user().is_some() {
        Requester::EndUser
    } else {
        Requester::Organisation
    }
}

/// `Connection` (v2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = v2::Connection)]
pub struct ConnectionOut {
    pub id: String,
    pub name: String,
    #[schema(value_type = Vec<Object>)]
    pub credentials: Vec<Value>,
    /// `""`: the system's `templateBaseUrl` (always present, as Versori's server writes it).
    pub base_url: String,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub system_id: String,
    /// The template the connection serves (the first it was linked to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_template_id: Option<String>,
}

pub fn connection_out(c: &Connection, template_id: Option<String>) -> ConnectionOut {
    ConnectionOut {
        id: c.id.clone(),
        name: c.name.clone(),
        credentials: c
            .credentials
            .iter()
            .map(connection_credential_to_v2)
            .collect(),
        base_url: c.base_url.clone(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        system_id: c.connector_id.clone(),
        connection_template_id: template_id,
    }
}
