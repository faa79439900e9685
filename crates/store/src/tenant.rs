//! The tenant. Every store method that touches an organisation's data takes an [`OrgId`], and an
//! `OrgId` can only come out of the store itself: from the reads that authenticate a caller (an
//! API key, a hub session, an end-user JWT's signing key), from creating an organisation, or from
//! the operator's own lookup ([`crate::OrganisationStore::operator_organisation`]). A handler that
//! has not authenticated its caller has no `OrgId`, so it cannot query tenant data at all; one
//! that has can only query its caller's organisation.
//!
//! A handler that forgets the tenant does not compile. Nothing outside the store can make an
//! `OrgId` from a string (E0423: the field is private)...
//!
//! ```compile_fail,E0423
//! let org = switchyard_store::OrgId("01ANY".to_owned());
//! ```
//!
//! ...and a store method does not take a string where the tenant belongs (E0308):
//!
//! ```compile_fail,E0308
//! async fn forgot_the_tenant(store: switchyard_store::DynStore) {
//!     let _ = store.get_hub("01SOMEORGANISATION", "01SOMEHUB").await;
//! }
//! ```
//!
//! What compiles is a query for the organisation an authentication proved:
//!
//! ```
//! async fn hub_of_the_caller(store: switchyard_store::DynStore, api_key_hash: &str) {
//!     if let Ok(Some((org, _key))) = store.find_api_key_by_hash(api_key_hash).await {
//!         let _ = store.get_hub(&org, "01SOMEHUB").await;
//!     }
//! }
//! ```
use std::fmt;

/// An organisation's id, as proven by an authentication read of the store (see the module).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgId(String);

impl OrgId {
    /// Only the store makes these: from rows it read, or an organisation it created.
    pub(crate) fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for OrgId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for OrgId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for OrgId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for OrgId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<OrgId> for String {
    fn eq(&self, other: &OrgId) -> bool {
        *self == other.0
    }
}

impl PartialEq<&str> for OrgId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

// Bound as the text it is, on both databases.
impl sqlx::Type<sqlx::Sqlite> for OrgId {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for OrgId {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Sqlite as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, sqlx::Sqlite>>::encode_by_ref(&self.0, buf)
    }
}

impl sqlx::Type<sqlx::Postgres> for OrgId {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <String as sqlx::Type<sqlx::Postgres>>::type_info()
    }
    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <String as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for OrgId {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'_, sqlx::Postgres>>::encode_by_ref(&self.0, buf)
    }
}
