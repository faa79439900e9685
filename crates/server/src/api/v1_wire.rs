//! The v1 wire encoding shared by Embedded API v1 and Connect API v1: connections with
//! `{action, trigger}` credential lists, credential `data` chosen by the sibling `type`, page
//! info; and how a v1 connection request becomes a [`ConnectionDraft`] for the connection service.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::connection::{ConnectionDraft, CredentialDraft};
use switchyard_domain::credential::{CredentialType, CredentialView};
use switchyard_domain::model::{Connection, ConnectionVariable, CredentialRole};
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::Error;
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

impl ConnectionCreate {
    /// The draft the connection service checks; `path` prefixes every field (`connections[0].`).
    pub fn into_draft(self, path: &str) -> ConnectionDraft {
        let mut credentials = Vec::new();
        let lists = [
            (CredentialRole::Action, self.credentials.action),
            (CredentialRole::Trigger, self.credentials.trigger),
        ];
        for (role, list) in lists {
            for (i, cc) in list.into_iter().enumerate() {
                let base = format!("{path}credentials.{}[{i}]", role.as_str());
                credentials.push(CredentialDraft {
                    role,
                    scheme: cc.auth_scheme_config,
                    scheme_field: format!("{base}.authSchemeConfig"),
                    name: cc.credential.name,
                    credential_type: cc.credential.credential_type,
                    data: cc.credential.data,
                    expires_at: cc.credential.expires_at,
                    field: format!("{base}.credential"),
                });
            }
        }
        ConnectionDraft {
            name: self.name,
            name_field: format!("{path}name"),
            credentials,
            variables: self.variables,
            variables_field: format!("{path}variables"),
            base_url: String::new(),
        }
    }
}
