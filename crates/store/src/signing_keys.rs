//! The store of organisation signing keys (Organisations API v1).
//!
//! Only public keys are stored. [`SigningKeyStore::get_signing_key`] is the one lookup without an
//! organisation: a key id is what a JWT's `iss` names, and the key row tells whose it is.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::signing_key::SigningKey;

#[async_trait]
pub trait SigningKeyStore: Send + Sync + 'static {
    async fn insert_signing_key(&self, org: &OrgId, key: &SigningKey) -> Result<()>;
    /// The organisation's signing keys, oldest first.
    async fn list_signing_keys(&self, org: &OrgId) -> Result<Vec<SigningKey>>;
    /// A key by id, whoever owns it: for the public `GET /keys/{id}` and for verifying a JWT.
    async fn get_signing_key(&self, id: &str) -> Result<Option<(OrgId, SigningKey)>>;
    /// Deletes a key; false when the organisation has no such key. Every JWT it signed stops
    /// working at once.
    async fn delete_signing_key(&self, org: &OrgId, id: &str) -> Result<bool>;
}
