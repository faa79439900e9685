//! The store of Platform API v2's own resources, kept apart from [`crate::Store`]'s v1 methods.
//! Every [`crate::Store`] is a `PlatformStore` too, so handlers reach these methods through the
//! same `DynStore`. Tenant scoping as in [`crate::Store`]: the organisation id comes first.
use async_trait::async_trait;
use switchyard_domain::page::{Page, PageRequest};
use switchyard_domain::platform::PlatformEndUser;
use switchyard_domain::Result;

#[async_trait]
pub trait PlatformStore: Send + Sync + 'static {
    // End users (organisation-wide).
    /// Inserts an end user; a duplicate external id in the organisation is a conflict.
    async fn insert_platform_end_user(&self, org: &str, user: &PlatformEndUser) -> Result<()>;
    async fn get_platform_end_user(&self, org: &str, id: &str) -> Result<Option<PlatformEndUser>>;
    async fn find_platform_end_user_by_external_id(&self, org: &str, external_id: &str) -> Result<Option<PlatformEndUser>>;
    /// The organisation's end users, oldest first; `search` matches id, external id and display name.
    async fn list_platform_end_users(&self, org: &str, search: Option<&str>, page: &PageRequest) -> Result<Page<PlatformEndUser>>;
    /// Deletes an end user; false when the organisation has no such user.
    async fn delete_platform_end_user(&self, org: &str, id: &str) -> Result<bool>;
}
