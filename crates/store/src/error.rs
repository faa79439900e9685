//! The store's error: what went wrong, typed, without words for the API's clients. The server
//! words it (`crates/server/src/error.rs`): a conflict's [`Constraint`] becomes the message a
//! client reads, [`StoreError::Unavailable`] a 503 and [`StoreError::Other`] a logged 500.
use std::fmt;

/// The source of an [`StoreError::Unavailable`] or [`StoreError::Other`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum StoreError {
    /// A row the operation needs is missing: `what` names it (`"project"`).
    NotFound { what: &'static str },
    /// A write broke a uniqueness or foreign-key rule of the schema, or a rule the store checks in
    /// the write's transaction; nothing was written.
    Conflict { constraint: Constraint },
    /// The database cannot be reached or is busy: a closed or exhausted pool, a timeout, a broken
    /// connection, a server shutting down, SQLite's busy and locked codes. Worth retrying.
    Unavailable(BoxError),
    /// The database URL cannot be used (before any connection is made).
    InvalidUrl(String),
    /// Anything else (a failed query, a migration, a stored value that cannot be read), with its
    /// source.
    Other(BoxError),
}

/// Which rule a conflicting write broke, with the values a message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// A unique index or primary key the store does not name more precisely.
    Unique,
    /// A foreign key: the row references a missing row, or is referenced by another.
    ForeignKey,
    /// `end_users (hub_id, external_id)`: an external id is unique in its hub.
    HubEndUserExternalId { external_id: String },
    /// `platform_end_users (organisation_id, external_id)`: unique in the organisation.
    OrganisationEndUserExternalId { external_id: String },
    /// `connections_name`: a connection's name is unique per connector and owner. The names of
    /// the connections the write inserted.
    ConnectionName { names: Vec<String> },
    /// `activations (end_user_id, integration_id)`: one activation per end user and
    /// integration; the existing one.
    IntegrationActivated { activation_id: String },
    /// `platform_activations (environment_id, end_user_id)`: one activation per end user and
    /// environment.
    EnvironmentActivated { external_id: String },
    /// `platform_environments (project_id, name)`.
    EnvironmentName { name: String },
    /// `platform_connection_templates (environment_id, name)`.
    PlatformTemplateName { name: String },
    /// Checked by the store: a connector used by a hub, a connection template or end-user
    /// connections is not deleted.
    ConnectorInUse,
    /// Checked by the store: an integration with activations is not deleted.
    IntegrationHasActivations { count: i64 },
    /// Checked by the store: a project has at most `max` environments.
    EnvironmentLimit { max: usize, count: i64 },
    /// Checked by the store: a project keeps at least one environment.
    LastEnvironment,
}

impl StoreError {
    pub fn conflict(constraint: Constraint) -> Self {
        StoreError::Conflict { constraint }
    }

    /// A stored value that cannot be read back (an [`StoreError::Other`]).
    pub fn unreadable(what: impl Into<String>) -> Self {
        StoreError::Other(what.into().into())
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// The constraint of a conflict.
    pub fn constraint(&self) -> Option<&Constraint> {
        match self {
            StoreError::Conflict { constraint } => Some(constraint),
            _ => None,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound { what } => write!(f, "{what} not found"),
            StoreError::Conflict { constraint } => write!(f, "conflict: {constraint:?}"),
            StoreError::Unavailable(e) => write!(f, "database unavailable: {e}"),
            StoreError::InvalidUrl(why) => write!(f, "{why}"),
            StoreError::Other(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Unavailable(e) | StoreError::Other(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        db_err(e)
    }
}

/// Classifies a database error: unreachable or busy is [`StoreError::Unavailable`], a unique or
/// foreign-key violation a conflict, anything else [`StoreError::Other`] (with the error, which
/// names no bound value).
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::conflict(Constraint::Unique)
        }
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
            StoreError::conflict(Constraint::ForeignKey)
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(Box::new(e)),
        sqlx::Error::Database(d) if is_unavailable_code(d.code().as_deref()) => {
            StoreError::Unavailable(Box::new(e))
        }
        _ => StoreError::Other(Box::new(e)),
    }
}

/// [`db_err`], except that a unique violation is the conflict `constraint` (the one rule the
/// statement can break that way).
pub(crate) fn unique_as(
    constraint: impl FnOnce() -> Constraint,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::conflict(constraint()),
        _ => db_err(e),
    }
}

/// Whether `e` is a unique violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// PostgreSQL's "shutting down / cannot connect now" codes, and SQLite's busy and locked codes.
fn is_unavailable_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "57P01"
                | "57P02"
                | "57P03"
                | "53300"
                | "08006"
                | "08003"
                | "08001"
                | "5"
                | "6"
                | "261"
                | "517"
        )
    )
}
