//! The v1 wire encoding shared by Embedded API v1 and Connect API v1: connections with
//! `{action, trigger}` credential lists, credential `data` chosen by the sibling `type`, page info.
//! Also where a connection request becomes a [`NewConnection`], its secrets sealed by the vault.
use crate::AppState;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_domain::auth_scheme::{self, AuthScheme, AuthSchemeConfig};
use switchyard_domain::credential::{
    self, CredentialType, CredentialView, NewCredential, SecretData,
};
use switchyard_domain::model::{
    Connection, ConnectionCredential, ConnectionVariable, CredentialRole, NewConnection,
};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{new_id, Error, FieldError};
use utoipa::{IntoParams, ToSchema};

/// `first`, `after`, `before`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size: default 20, at most 500.
    pub first: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// The `prev` cursor of the following page.
    pub before: Option<String>,
}

impl PageParams {
    pub fn request(&self) -> Result<PageRequest, Error> {
        if self.first == Some(0) {
            return Err(Error::invalid_field("first", "must be at least 1"));
        }
        let mut p = PageRequest::new(self.first);
        for (name, cursor) in [("after", &self.after), ("before", &self.before)] {
            if let Some(c) = cursor.as_deref().filter(|c| !c.is_empty()) {
                if !switchyard_domain::is_ulid(c) {
                    return Err(Error::invalid_field(
                        name,
                        "is not a cursor this API returned",
                    ));
                }
            }
        }
        p.after = self.after.clone().filter(|c| !c.is_empty());
        p.before = self.before.clone().filter(|c| !c.is_empty());
        Ok(p)
    }
}

/// `{totalCount, next, prev}`; `next` and `prev` are `""` at the ends, as Versori's Go server
/// writes them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub total_count: i64,
    pub next: String,
    pub prev: String,
}

impl PageInfo {
    pub fn of<T>(p: &Page<T>) -> Self {
        Self {
            total_count: p.total_count,
            next: p.next.clone().unwrap_or_default(),
            prev: p.prev.clone().unwrap_or_default(),
        }
    }
}

/// `CredentialCreate`: a new credential; `data` is read according to `type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialCreate {
    pub name: String,
    #[serde(rename = "type")]
    pub credential_type: CredentialType,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Option<Value>,
    /// When the credential is deleted by the sweeper (an `expired` event is recorded). Must be
    /// in the future.
    #[serde(default, with = "time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCredentialCreate {
    /// One of the auth scheme configs the organisation defined for the connector (or the hub or
    /// template), named by `id`; the organisation's copy is what is stored. Fields left out come
    /// from it; a field that differs from it (other than `description`) is a 400.
    #[schema(value_type = AuthSchemeConfig)]
    pub auth_scheme_config: Value,
    pub credential: CredentialCreate,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConnectionCredentialsCreate {
    #[serde(default)]
    pub action: Vec<ConnectionCredentialCreate>,
    #[serde(default)]
    pub trigger: Vec<ConnectionCredentialCreate>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConnectionCreate {
    pub name: String,
    #[serde(default)]
    pub credentials: ConnectionCredentialsCreate,
    #[serde(default)]
    pub variables: Vec<ConnectionVariable>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCredentialOut {
    pub id: String,
    pub auth_scheme_config: AuthSchemeConfig,
    pub credential: CredentialView,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ConnectionCredentialsOut {
    pub action: Vec<ConnectionCredentialOut>,
    pub trigger: Vec<ConnectionCredentialOut>,
}

/// A connection, its credentials redacted.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Connection)]
pub struct ConnectionOut {
    pub id: String,
    pub name: String,
    pub credentials: ConnectionCredentialsOut,
    pub variables: Vec<ConnectionVariable>,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Connection> for ConnectionOut {
    fn from(c: Connection) -> Self {
        let mut credentials = ConnectionCredentialsOut::default();
        for cc in c.credentials {
            let out = ConnectionCredentialOut {
                id: cc.id,
                auth_scheme_config: cc.auth_scheme_config,
                credential: cc.credential,
            };
            match cc.role {
                CredentialRole::Action => credentials.action.push(out),
                CredentialRole::Trigger => credentials.trigger.push(out),
            }
        }
        Self {
            id: c.id,
            name: c.name,
            credentials,
            variables: c.variables,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSummary {
    pub id: String,
    pub name: String,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Connection> for ConnectionSummary {
    fn from(c: Connection) -> Self {
        Self {
            id: c.id,
            name: c.name,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Whether a credential of type `ty` can serve `scheme`.
fn fits(scheme: &AuthScheme, ty: CredentialType) -> bool {
    use CredentialType as T;
    match scheme {
        AuthScheme::None => ty == T::None,
        AuthScheme::ApiKey { .. } => ty == T::String,
        AuthScheme::BasicAuth => ty == T::BasicAuth,
        AuthScheme::OAuth2(_) => matches!(
            ty,
            T::OAuth2Client
                | T::OAuth2Code
                | T::OAuth2Password
                | T::OAuth2Token
                | T::JwtBearer
                | T::CustomFunction
        ),
        AuthScheme::Hmac { .. } => matches!(ty, T::String | T::Binary),
        AuthScheme::Certificate => ty == T::Certificate,
        // tokenAuth schemes take tokens obtained elsewhere only; the others the browser flow's
        // callback result, or imported tokens.
        AuthScheme::OAuth1(o) => ty == T::OAuth1Token || (ty == T::OAuth1 && !o.token_auth),
    }
}

/// Checks a credential's data, seals it, and returns what the store keeps. `path` names the
/// credential in errors.
pub fn seal_credential(
    state: &AppState,
    org: &str,
    name: &str,
    ty: CredentialType,
    data: Option<&Value>,
    path: &str,
) -> Result<NewCredential, Vec<FieldError>> {
    let secret: SecretData = credential::validate_data(ty, data, &format!("{path}.data"))?;
    Ok(seal_data(state, org, &new_id(), name, ty, &secret))
}

/// Seals data already checked (or produced by this server) as credential `id`.
pub fn seal_data(
    state: &AppState,
    org: &str,
    id: &str,
    name: &str,
    ty: CredentialType,
    secret: &SecretData,
) -> NewCredential {
    let id = id.to_owned();
    let view = CredentialView {
        id: id.clone(),
        organisation_id: org.to_owned(),
        credential_type: ty,
        name: name.to_owned(),
        data: credential::redact(ty, secret),
        errors: None,
        expires_at: None,
    };
    let plaintext =
        zeroize::Zeroizing::new(serde_json::to_vec(secret.expose()).expect("JSON maps serialise"));
    let sealed = state.vault.seal(&plaintext, &id);
    let key_id = switchyard_vault::KeyRing::key_id_of(&sealed)
        .expect("the vault names the sealing key")
        .to_owned();
    NewCredential {
        view,
        sealed,
        key_id,
    }
}

/// A new connection checked and sealed, whose `oauth2-code` credentials still have to be
/// exchanged for tokens by [`crate::oauth::complete`] before it can be stored.
#[derive(Debug)]
pub struct PendingConnection {
    pub connection: NewConnection,
    /// The request path of each of `connection.credentials`, for errors.
    pub paths: Vec<String>,
}

/// A stored credential's data, opened by the vault; `None` when the organisation has no such
/// credential. The counterpart of [`seal_data`].
pub async fn open_credential(
    state: &AppState,
    org: &str,
    id: &str,
) -> Result<Option<serde_json::Map<String, Value>>, Error> {
    let Some(stored) = state
        .store
        .get_credential(org, id)
        .await
        .map_err(crate::error::store_error)?
    else {
        return Ok(None);
    };
    let plain = state
        .vault
        .open(&stored.sealed, id)
        .map_err(|e| Error::internal(format!("cannot open credential {id}: {e}")))?;
    serde_json::from_slice(&plain)
        .map(Some)
        .map_err(|_| Error::internal(format!("credential {id} holds no JSON object")))
}

/// Who asks for a connection: the organisation (an API key) may point a credential at its own
/// provider URLs; an end user (a hub session, an end-user JWT) only uses what the organisation
/// defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    Organisation,
    EndUser,
}

/// An end user's credential may not carry its own provider URLs or mutual-TLS certificate: those
/// decide where a secret is sent, and belong to the organisation.
fn check_end_user_overrides(
    scheme: &AuthSchemeConfig,
    cc: &CredentialCreate,
    cpath: &str,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let data = cc.data.as_ref().and_then(Value::as_object);
    let text = |k: &str| {
        data.and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if cc.credential_type == CredentialType::OAuth2Client {
        if let AuthScheme::OAuth2(o) = &scheme.scheme {
            for (field, ours) in [
                ("tokenUrl", &o.token_url),
                ("authorizeUrl", &o.authorize_url),
            ] {
                if text(field).is_some_and(|v| v != ours) {
                    errors.push(FieldError::new(
                        format!("{cpath}.data.{field}"),
                        format!("must be the auth scheme's {field}: only the organisation can point a credential at another provider"),
                    ));
                }
            }
        }
        let mtls = data
            .and_then(|d| d.get("mTLSEnabled"))
            .and_then(Value::as_bool)
            == Some(true)
            || text("mTLSCredentialId").is_some();
        if mtls {
            errors.push(FieldError::new(
                format!("{cpath}.data.mTLSCredentialId"),
                "mutual TLS is set up by the organisation, not by an end user's credential",
            ));
        }
    }
    errors
}

/// Builds a new connection to `connector_id` (an end user's when `end_user_id` is set) from a v1
/// `ConnectionCreate`, sealing every credential. Each credential's auth scheme config must be one
/// of `schemes` (what the organisation defined for this connection: the connector's configs, or
/// the template's), and the organisation's copy is what the connection keeps. `path` prefixes
/// error fields.
#[allow(clippy::too_many_arguments)]
pub fn build_connection(
    state: &AppState,
    org: &str,
    connector_id: &str,
    end_user_id: Option<&str>,
    create: ConnectionCreate,
    schemes: &[AuthSchemeConfig],
    requester: Requester,
    path: &str,
) -> Result<PendingConnection, Vec<FieldError>> {
    let now = time::now();
    let mut errors = Vec::new();
    let mut paths = Vec::new();
    if create.name.trim().is_empty() {
        errors.push(FieldError::new(format!("{path}name"), "must not be empty"));
    }
    let mut credentials = Vec::new();
    let mut sealed = Vec::new();
    let lists = [
        (CredentialRole::Action, create.credentials.action),
        (CredentialRole::Trigger, create.credentials.trigger),
    ];
    for (role, list) in lists {
        for (i, cc) in list.into_iter().enumerate() {
            let base = format!("{path}credentials.{}[{i}]", role.as_str());
            let cpath = format!("{base}.credential");
            let scheme = match auth_scheme::resolve(
                &cc.auth_scheme_config,
                schemes,
                &format!("{base}.authSchemeConfig"),
            ) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            if !fits(&scheme.scheme, cc.credential.credential_type) {
                errors.push(FieldError::new(
                    format!("{cpath}.type"),
                    format!(
                        "a {} credential cannot serve a {} auth scheme",
                        cc.credential.credential_type.as_str(),
                        scheme.scheme.type_name()
                    ),
                ));
                continue;
            }
            if requester == Requester::EndUser {
                let overrides = check_end_user_overrides(&scheme, &cc.credential, &cpath);
                if !overrides.is_empty() {
                    errors.extend(overrides);
                    continue;
                }
            }
            if cc.credential.expires_at.is_some_and(|e| e <= now) {
                errors.push(FieldError::new(
                    format!("{cpath}.expiresAt"),
                    "must be in the future",
                ));
                continue;
            }
            match seal_credential(
                state,
                org,
                &cc.credential.name,
                cc.credential.credential_type,
                cc.credential.data.as_ref(),
                &cpath,
            ) {
                Ok(mut nc) => {
                    nc.view.expires_at = cc.credential.expires_at;
                    credentials.push(ConnectionCredential {
                        id: new_id(),
                        role,
                        auth_scheme_config: scheme,
                        credential: nc.view.clone(),
                    });
                    sealed.push(nc);
                    paths.push(cpath);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, v) in create.variables.iter().enumerate() {
        if v.name.is_empty() || !seen.insert(v.name.as_str()) {
            errors.push(FieldError::new(
                format!("{path}variables[{i}].name"),
                "must be a non-empty name, unique in the list",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let connection = NewConnection {
        connection: Connection {
            id: new_id(),
            organisation_id: org.to_owned(),
            connector_id: connector_id.to_owned(),
            end_user_id: end_user_id.map(str::to_owned),
            platform_end_user_id: None,
            base_url: String::new(),
            name: create.name,
            credentials,
            variables: create.variables,
            created_at: now,
            updated_at: now,
        },
        credentials: sealed,
    };
    Ok(PendingConnection { connection, paths })
}

/// An auth scheme config's OAuth2 grant secret (§6.3 of the API notes): `clientId` and
/// `clientSecret` without `credentialId` create a credential holding the secret and fill in
/// `credentialId` and `organisationId`; both present replace the stored secret with a new
/// credential; any other combination is a 400. Returns the credential to store, if any.
pub fn absorb_grant_secret(
    state: &AppState,
    org: &str,
    config: &mut AuthSchemeConfig,
    path: &str,
) -> Result<Option<NewCredential>, Error> {
    let urls = match &config.scheme {
        AuthScheme::OAuth2(o) => (o.authorize_url.clone(), o.token_url.clone()),
        AuthScheme::OAuth1(_) => return absorb_consumer_secret(state, org, config, path),
        _ => return Ok(None),
    };
    let Some(grant) = config.grant_secret_mut() else {
        return Ok(None);
    };
    let has_ref = grant.credential_id.is_some() || grant.organisation_id.is_some();
    if grant.credential_id.is_some() != grant.organisation_id.is_some() {
        return Err(Error::invalid_field(
            format!("{path}.grant.credentialId"),
            "credentialId and organisationId must be given together",
        ));
    }
    let Some(secret) = grant.client_secret.take() else {
        return Ok(None);
    };
    let Some(client_id) = grant.client_id.clone() else {
        return Err(Error::invalid_field(
            format!("{path}.grant.clientId"),
            "is required with clientSecret",
        ));
    };
    if has_ref && grant.organisation_id.as_deref() != Some(org) {
        return Err(Error::invalid_field(
            format!("{path}.grant.organisationId"),
            "a grant secret can only be replaced in its own organisation",
        ));
    }
    let data = serde_json::json!({"clientId": client_id, "clientSecret": secret.expose(), "authorizeUrl": urls.0, "tokenUrl": urls.1});
    let cred = seal_credential(
        state,
        org,
        &format!("{} client secret", config.id),
        CredentialType::OAuth2Client,
        Some(&data),
        &format!("{path}.grant"),
    )
    .map_err(|f| Error::invalid_fields("invalid OAuth2 grant", f))?;
    let grant = config.grant_secret_mut().expect("checked above");
    grant.credential_id = Some(cred.view.id.clone());
    grant.organisation_id = Some(org.to_owned());
    Ok(Some(cred))
}

/// The same for an OAuth 1.0a scheme's `consumerSecret`, which becomes a `string` credential the
/// scheme references by `credentialId` (and `organisationId`). A scheme needs its secret (given or
/// referenced), and, unless `tokenAuth`, absolute http(s) URLs for its three endpoints.
fn absorb_consumer_secret(
    state: &AppState,
    org: &str,
    config: &mut AuthSchemeConfig,
    path: &str,
) -> Result<Option<NewCredential>, Error> {
    let name = format!("{} consumer secret", config.id);
    let AuthScheme::OAuth1(o) = &mut config.scheme else {
        return Ok(None);
    };
    let field = |f: &str| {
        if path.is_empty() {
            f.to_owned()
        } else {
            format!("{path}.{f}")
        }
    };
    if o.consumer_key.trim().is_empty() {
        return Err(Error::invalid_field(
            field("consumerKey"),
            "must not be empty",
        ));
    }
    let endpoints = [
        ("tempCredentialEndpoint", &o.temp_credential_endpoint),
        (
            "resourceOwnerAuthorizationEndpoint",
            &o.resource_owner_authorization_endpoint,
        ),
        ("tokenEndpoint", &o.token_endpoint),
    ];
    for (name, endpoint) in endpoints {
        match endpoint {
            None if o.token_auth => {}
            None => {
                return Err(Error::invalid_field(
                    field(name),
                    "is required unless tokenAuth is true",
                ))
            }
            Some(e) => {
                if !url::Url::parse(&e.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                    return Err(Error::invalid_field(
                        field(&format!("{name}.url")),
                        "must be an absolute http(s) URL",
                    ));
                }
            }
        }
    }
    if o.organisation_id.is_some() && o.credential_id.is_none() {
        return Err(Error::invalid_field(
            field("credentialId"),
            "is required with organisationId",
        ));
    }
    let Some(secret) = o.consumer_secret.take().filter(|s| !s.expose().is_empty()) else {
        if o.credential_id.is_none() {
            return Err(Error::invalid_field(
                field("consumerSecret"),
                "is required (or the credentialId of a stored one)",
            ));
        }
        return Ok(None);
    };
    if o.organisation_id.as_deref().is_some_and(|id| id != org) {
        return Err(Error::invalid_field(
            field("organisationId"),
            "a consumer secret can only be replaced in its own organisation",
        ));
    }
    let data = serde_json::json!({"value": secret.expose()});
    let cred = seal_credential(
        state,
        org,
        &name,
        CredentialType::String,
        Some(&data),
        &field("consumerSecret"),
    )
    .map_err(|f| Error::invalid_fields("invalid OAuth 1.0a consumer secret", f))?;
    o.credential_id = Some(cred.view.id.clone());
    o.organisation_id = Some(org.to_owned());
    Ok(Some(cred))
}
