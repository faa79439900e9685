//! Organisations, their API keys and their settings.
use crate::error::Result;
use async_trait::async_trait;
use switchyard_domain::model::{ApiKey, Organisation, OrganisationSettings};
use switchyard_domain::time::Timestamp;

/// Organisations, API keys and organisation settings.
#[async_trait]
pub trait OrganisationStore: Send + Sync + 'static {
    /// Creates an organisation and its first API key, in one transaction.
    async fn create_organisation(&self, org: &Organisation, key: &ApiKey) -> Result<()>;
    async fn get_organisation(&self, org: &str) -> Result<Option<Organisation>>;
    async fn insert_api_key(&self, org: &str, key: &ApiKey) -> Result<()>;
    async fn list_api_keys(&self, org: &str) -> Result<Vec<ApiKey>>;
    /// Revokes a key; false when the organisation has no such key.
    async fn revoke_api_key(&self, org: &str, key_id: &str, at: Timestamp) -> Result<bool>;
    /// The key with this hash, whoever owns it: this is how a request finds its organisation.
    async fn find_api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    /// Records a use of a key (at most once a minute is written).
    async fn touch_api_key(&self, key_id: &str, at: Timestamp) -> Result<()>;
    /// The organisation's settings; the defaults (empty lists) when it never set any.
    async fn get_organisation_settings(&self, org: &str) -> Result<OrganisationSettings>;
    /// Replaces the organisation's settings (one row, written in one statement).
    async fn put_organisation_settings(
        &self,
        org: &str,
        settings: &OrganisationSettings,
    ) -> Result<()>;
}
