//! The connection service: one way for every API face (Embedded v1, Connect v1, Platform v2) to
//! turn a [`ConnectionDraft`] into a connection ready to store. The domain checks the draft
//! against the auth scheme configs the organisation defined ([`connection::check`]); this seals
//! each credential with the vault. OAuth codes are exchanged afterwards, by
//! [`crate::oauth::complete`], once everything else about the request is known to be sound.
use crate::credentials::seal_data;
use crate::error::{ApiResult, OrNotFound};
use crate::state::AppState;
use switchyard_domain::auth_scheme::AuthSchemeConfig;
pub use switchyard_domain::connection::PendingConnection;
use switchyard_domain::connection::{self, ConnectionDraft, Owner, Requester};
use switchyard_domain::model::{Connection, ConnectionCredential, NewConnection};
use switchyard_domain::{new_id, time, FieldError};
use switchyard_store::OrgId;

/// Checks `draft` for a connection of `owner` to `connector_id`, each credential on one of
/// `schemes` (the organisation's copy is what the connection keeps), and seals its credentials.
pub fn build(
    s: &AppState,
    org: &OrgId,
    connector_id: &str,
    owner: Owner,
    draft: ConnectionDraft,
    schemes: &[AuthSchemeConfig],
    requester: Requester,
) -> Result<PendingConnection, Vec<FieldError>> {
    let now = time::now();
    let checked = connection::check(draft, schemes, requester, now)?;
    let mut credentials = Vec::with_capacity(checked.credentials.len());
    let mut sealed = Vec::with_capacity(checked.credentials.len());
    let mut paths = Vec::with_capacity(checked.credentials.len());
    for c in checked.credentials {
        let mut nc = seal_data(s, org, &new_id(), &c.name, c.credential_type, &c.data);
        nc.view.expires_at = c.expires_at;
        credentials.push(ConnectionCredential {
            id: new_id(),
            role: c.role,
            auth_scheme_config: c.scheme,
            credential: nc.view.clone(),
        });
        sealed.push(nc);
        paths.push(c.field);
    }
    let (end_user_id, platform_end_user_id) = match owner {
        Owner::Organisation => (None, None),
        Owner::EndUser(id) => (Some(id), None),
        Owner::PlatformEndUser(id) => (None, Some(id)),
    };
    let connection = NewConnection {
        connection: Connection {
            id: new_id(),
            organisation_id: org.to_string(),
            connector_id: connector_id.to_owned(),
            end_user_id,
            platform_end_user_id,
            base_url: checked.base_url,
            name: checked.name,
            credentials,
            variables: checked.variables,
            created_at: now,
            updated_at: now,
        },
        credentials: sealed,
    };
    Ok(PendingConnection { connection, paths })
}

/// Stores a new connection built by [`build`]: its OAuth codes exchanged first
/// ([`crate::oauth::complete`]), then the connection with its credentials in one transaction (and,
/// for a v2 connection, its links to `templates`), then its client-credentials and password
/// credentials checked against their providers. Answers the connection as stored.
pub async fn create(
    s: &AppState,
    org: &OrgId,
    pending: PendingConnection,
    templates: &[String],
) -> ApiResult<Connection> {
    let nc = crate::oauth::complete(s, org, vec![pending])
        .await?
        .pop()
        .expect("one connection in, one out");
    if templates.is_empty() {
        s.store.insert_connection(org, &nc).await?;
    } else {
        s.store
            .insert_platform_connection(org, &nc, templates)
            .await?;
    }
    crate::tokens::check_new_credentials(s, org, [&nc.connection]).await;
    s.store
        .get_connection(org, &nc.connection.id)
        .await?
        .or_not_found("connection")
}
