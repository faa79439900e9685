//! Organisations API v1 signing keys: an organisation creates an RSA key pair (`POST .../keys`);
//! Switchyard keeps the public key and hands the private key out once. The organisation's backend
//! signs end-user JWTs with it (see [`crate::auth::PlatformAuth`]). Deleting a key ends every
//! token it signed. `GET /keys/{id}` serves the public key to anyone.
use crate::auth::OrgAuth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::extract::{Json, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize, Serializer};
use switchyard_domain::signing_key::SigningKey;
use switchyard_domain::time::{self, Timestamp};
use switchyard_domain::{is_ulid, new_id, Error};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use zeroize::Zeroizing;

const KEY_BITS: usize = 2048;

const MAX_NAME_LEN: usize = 255;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_signing_key, list_signing_keys))
        .routes(routes!(delete_signing_key))
        .routes(routes!(get_public_key))
}

#[derive(Deserialize, ToSchema)]
pub struct CreatePublicKey {
    /// A name to recognise the key by.
    pub name: String,
}

/// A signing key as anyone may see it: never the private key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: String,
    pub name: String,
    /// The public key, SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key: String,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<SigningKey> for PublicKey {
    fn from(k: SigningKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            public_key: k.public_key_pem,
            created_at: k.created_at,
        }
    }
}

/// A new signing key with its private key, which is in this answer and nowhere else.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningKeySet {
    pub id: String,
    pub name: String,
    /// The public key, SPKI PEM.
    pub public_key: String,
    /// The private key, PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`): shown this once, never stored.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub private_key: Zeroizing<String>,
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

fn expose<S: Serializer>(secret: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret)
}

#[derive(Serialize, ToSchema)]
pub struct SigningKeysListResponse {
    pub keys: Vec<PublicKey>,
}

/// A fresh RSA key pair: (public key as SPKI PEM, private key as PKCS #8 PEM).
fn generate_key_pair() -> Result<(String, Zeroizing<String>), Error> {
    let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS)
        .map_err(|_| Error::internal("could not generate an RSA key pair"))?;
    let private_pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| Error::internal("could not encode the private key"))?;
    let public_pem = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|_| Error::internal("could not encode the public key"))?;
    Ok((public_pem, private_pem))
}

/// Creates an RS256 signing key (RSA 2048) for the organisation. The answer carries the private
/// key, once: Switchyard stores only the public key. Versori's spec declares this answer as a 204
/// with a body, which HTTP cannot carry; Switchyard answers 201 Created with the SigningKeySet.
#[utoipa::path(post, path = "/api/organisations/v1/organisations/{organisation_id}/keys", operation_id = "CreateSigningKey", tag = "signing-keys",
    params(("organisation_id" = String, Path)), request_body = CreatePublicKey,
    responses((status = 201, body = SigningKeySet), (status = "default", body = ErrorBody)))]
async fn create_signing_key(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
    Json(body): Json<CreatePublicKey>,
) -> ApiResult<(StatusCode, axum::Json<SigningKeySet>)> {
    let org = auth.org.clone();
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    if body.name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::invalid_field(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    let (public_pem, private_pem) = tokio::task::spawn_blocking(generate_key_pair)
        .await
        .map_err(|_| ApiError::internal("key generation was interrupted"))??;
    let key = SigningKey {
        id: new_id(),
        organisation_id: org.to_string(),
        name: body.name,
        public_key_pem: public_pem,
        created_at: time::now(),
    };
    s.store.insert_signing_key(&org, &key).await?;
    let set = SigningKeySet {
        id: key.id,
        name: key.name,
        public_key: key.public_key_pem,
        private_key: private_pem,
        created_at: key.created_at,
    };
    Ok((StatusCode::CREATED, axum::Json(set)))
}

/// Lists the organisation's signing keys, oldest first (public keys only). Versori's spec
/// declares a 204 with a body; Switchyard answers 200.
#[utoipa::path(get, path = "/api/organisations/v1/organisations/{organisation_id}/keys", operation_id = "ListSigningKeys", tag = "signing-keys",
    params(("organisation_id" = String, Path)),
    responses((status = 200, body = SigningKeysListResponse), (status = "default", body = ErrorBody)))]
async fn list_signing_keys(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path(_org): Path<String>,
) -> ApiResult<axum::Json<SigningKeysListResponse>> {
    let org = auth.org.clone();
    let keys = s
        .store
        .list_signing_keys(&org)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(axum::Json(SigningKeysListResponse { keys }))
}

/// Deletes a signing key: every JWT it signed is refused from now on.
#[utoipa::path(delete, path = "/api/organisations/v1/organisations/{organisation_id}/keys/{key_id}", operation_id = "DeleteSigningKey", tag = "signing-keys",
    params(("organisation_id" = String, Path), ("key_id" = String, Path)),
    responses((status = 204), (status = "default", body = ErrorBody)))]
async fn delete_signing_key(
    State(s): State<AppState>,
    auth: OrgAuth,
    Path((_org, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let org = auth.org.clone();
    s.store
        .delete_signing_key(&org, &key_id)
        .await?
        .then_some(())
        .or_not_found("signing key")?;
    // This node forgets at once; the others hear of it through the store's change feed.
    s.auth_cache.invalidate();
    Ok(StatusCode::NO_CONTENT)
}

/// The public key of a signing key, for anyone verifying the JWTs it signs. No authentication.
#[utoipa::path(get, path = "/api/organisations/v1/keys/{id}", operation_id = "GetPublicKey", tag = "signing-keys", security(()),
    params(("id" = String, Path)),
    responses((status = 200, body = PublicKey), (status = "default", body = ErrorBody)))]
async fn get_public_key(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PublicKey>> {
    let key = if is_ulid(&id) {
        s.store.get_signing_key(&id).await?
    } else {
        None
    };
    Ok(axum::Json(key.or_not_found("signing key")?.1.into()))
}
