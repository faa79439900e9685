//! Completing connections: the `oauth2-code` credentials of new connections become `oauth2-token`
//! ones, and `oauth1` callback results `oauth1-token` ones, once everything else about the
//! request is known to be sound.
use super::common::Exchange;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use switchyard_domain::connection::PendingConnection;
use switchyard_domain::credential::CredentialType;
use switchyard_domain::model::NewConnection;
use switchyard_store::OrgId;

// ---------------------------------------------------------------------------------------------
// Completing connections: `oauth2-code` credentials become `oauth2-token` ones.

/// Exchanges every `oauth2-code` credential of the connections for tokens (and every `oauth1`
/// callback result for an `oauth1-token`, see [`crate::oauth1`]), after everything else about the
/// request has been checked. A state works once: unknown, expired or replayed states, a redirect
/// URL other than the one the flow started with, and codes or verifiers the provider refuses are
/// 400s naming the credential's field; nothing is stored then.
pub async fn complete(
    s: &AppState,
    org: &OrgId,
    pending: Vec<PendingConnection>,
) -> ApiResult<Vec<NewConnection>> {
    let mut out = Vec::with_capacity(pending.len());
    let mut fields = Vec::new();
    for p in pending {
        let PendingConnection {
            mut connection,
            paths,
        } = p;
        for (i, cred) in connection.credentials.iter_mut().enumerate() {
            let (result, stored_type) = match cred.view.credential_type {
                CredentialType::OAuth2Code => (
                    super::oauth2::exchange(
                        s,
                        org,
                        &connection.connection.connector_id,
                        cred,
                        &paths[i],
                    )
                    .await,
                    CredentialType::OAuth2Token,
                ),
                CredentialType::OAuth1 => (
                    super::oauth1::exchange(
                        s,
                        org,
                        &connection.connection.connector_id,
                        cred,
                        &paths[i],
                    )
                    .await,
                    CredentialType::OAuth1Token,
                ),
                _ => continue,
            };
            match result {
                Ok(token) => {
                    let (id, expires_at) = (cred.view.id.clone(), cred.view.expires_at);
                    *cred = crate::credentials::seal_data(
                        s,
                        org,
                        &id,
                        &cred.view.name,
                        stored_type,
                        &token,
                    );
                    cred.view.expires_at = expires_at;
                    if let Some(c) = connection
                        .connection
                        .credentials
                        .iter_mut()
                        .find(|c| c.credential.id == id)
                    {
                        c.credential = cred.view.clone();
                    }
                }
                Err(Exchange::Field(f)) => fields.push(f),
                Err(Exchange::Fatal(e)) => return Err(e),
            }
        }
        out.push(connection);
    }
    if !fields.is_empty() {
        let message = if fields.len() == 1 {
            format!("{}: {}", fields[0].field, fields[0].message)
        } else {
            format!(
                "{} OAuth codes or verifiers could not be used",
                fields.len()
            )
        };
        return Err(ApiError::invalid_fields(message, fields));
    }
    Ok(out)
}
