//! Credentials at rest: a credential's data checked and sealed by the vault (bound to its id),
//! and opened again; and the secrets an auth scheme config is given (an OAuth2 grant's client
//! secret, an OAuth 1.0a consumer secret), moved into credentials of their own.
use crate::state::AppState;
use serde_json::Value;
use switchyard_domain::auth_scheme::{AuthScheme, AuthSchemeConfig};
use switchyard_domain::credential::{
    self, CredentialType, CredentialView, NewCredential, SecretData,
};
use switchyard_domain::{new_id, Error, FieldError};
use switchyard_store::OrgId;

/// Checks a credential's data, seals it, and returns what the store keeps. `path` names the
/// credential in errors.
pub fn seal_credential(
    state: &AppState,
    org: &OrgId,
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
    org: &OrgId,
    id: &str,
    name: &str,
    ty: CredentialType,
    secret: &SecretData,
) -> NewCredential {
    let id = id.to_owned();
    let view = CredentialView {
        id: id.clone(),
        organisation_id: org.to_string(),
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

/// A stored credential's data, opened by the vault; `None` when the organisation has no such
/// credential. The counterpart of [`seal_data`].
pub async fn open_credential(
    state: &AppState,
    org: &OrgId,
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

/// An auth scheme config's OAuth2 grant secret (§6.3 of the API notes): `clientId` and
/// `clientSecret` without `credentialId` create a credential holding the secret and fill in
/// `credentialId` and `organisationId`; both present replace the stored secret with a new
/// credential; any other combination is a 400. Returns the credential to store, if any.
pub fn absorb_grant_secret(
    state: &AppState,
    org: &OrgId,
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
    grant.organisation_id = Some(org.to_string());
    Ok(Some(cred))
}

/// The same for an OAuth 1.0a scheme's `consumerSecret`, which becomes a `string` credential the
/// scheme references by `credentialId` (and `organisationId`). A scheme needs its secret (given or
/// referenced), and, unless `tokenAuth`, absolute http(s) URLs for its three endpoints.
fn absorb_consumer_secret(
    state: &AppState,
    org: &OrgId,
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
    if o.organisation_id
        .as_deref()
        .is_some_and(|id| id != org.as_str())
    {
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
    o.organisation_id = Some(org.to_string());
    Ok(Some(cred))
}
