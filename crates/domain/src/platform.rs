//! Platform API v2's own model: organisation-wide end users (v2 has no hubs).
use crate::time::Timestamp;

/// A v2 end user: unique `external_id` within its organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformEndUser {
    pub id: String,
    pub organisation_id: String,
    pub external_id: String,
    pub display_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
