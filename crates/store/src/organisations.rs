//! Organisations, their API keys and their settings.
use crate::error::Result;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::model::{ApiKey, Organisation, OrganisationSettings};
use switchyard_domain::time::Timestamp;

/// Organisations, API keys and organisation settings.
#[async_trait]
pub trait OrganisationStore: Send + Sync + 'static {
    /// Creates an organisation and its first API key, in one transaction.
    async fn create_organisation(&self, org: &Organisation, key: &ApiKey) -> Result<OrgId>;
    /// The organisation with this id, for the operator (the CLI), who is trusted with every
    /// organisation: the one way to an [`OrgId`] that is not an authentication.
    async fn operator_organisation(&self, id: &str) -> Result<Option<OrgId>>;
    async fn get_organisation(&self, org: &OrgId) -> Result<Option<Organisation>>;
    async fn insert_api_key(&self, org: &OrgId, key: &ApiKey) -> Result<()>;
    async fn list_api_keys(&self, org: &OrgId) -> Result<Vec<ApiKey>>;
    /// Revokes a key; false when the organisation has no such key.
    async fn revoke_api_key(&self, org: &OrgId, key_id: &str, at: Timestamp) -> Result<bool>;
    /// The key with this hash, whoever owns it: this is how a request finds its organisation.
    async fn find_api_key_by_hash(&self, key_hash: &str) -> Result<Option<(OrgId, ApiKey)>>;
    /// Records a use of a key (at most once a minute is written).
    async fn touch_api_key(&self, key_id: &str, at: Timestamp) -> Result<()>;
    /// The organisation's settings; the defaults (empty lists) when it never set any.
    async fn get_organisation_settings(&self, org: &OrgId) -> Result<OrganisationSettings>;
    /// The host origins an organisation lets frame its hub page: public, like the page itself
    /// (the hub page's CSP is chosen by the `o` in its URL, before anyone authenticates), and
    /// empty for an unknown organisation.
    async fn public_hub_frame_ancestors(&self, organisation_id: &str) -> Result<Vec<String>>;
    /// Replaces the organisation's settings (one row, written in one statement).
    async fn put_organisation_settings(
        &self,
        org: &OrgId,
        settings: &OrganisationSettings,
    ) -> Result<()>;
}
