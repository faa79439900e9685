//! Organisation signing keys (Organisations API v1): RSA key pairs whose private half the
//! organisation keeps, to sign end users' RS256 JWTs. Only the public half is stored.
use crate::time::Timestamp;

/// What Switchyard keeps of a signing key: never the private key.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKey {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: String,
    pub created_at: Timestamp,
}
