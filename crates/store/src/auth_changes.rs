//! How a node learns that authentication data changed in the database: an API key revoked, a
//! live hub session removed, a signing key deleted, by this process, another node or the CLI.
//! The server's authentication cache trusts what it holds only while its feed is alive, and
//! forgets everything at each change.
//!
//! - PostgreSQL: triggers `NOTIFY switchyard_auth` (migration 0017); the feed `LISTEN`s on its own
//!   connection and, to prove that connection is still alive, has a heartbeat notified through the
//!   pool every [`HEARTBEAT`]. A lost connection ends the feed with an error.
//! - SQLite: triggers bump a counter; the feed reads it every [`POLL`] (the CLI is another
//!   process writing the same file, so there is nothing to listen to).
use crate::error::Result;
use async_trait::async_trait;
use std::time::Duration;

/// What a feed says next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthSignal {
    /// Something a cache may hold changed (or may have): forget everything.
    Changed,
    /// Nothing changed, and the feed is alive: what was cached is still good.
    Alive,
}

/// A live feed of authentication changes. [`AuthFeed::next`] answers at least every second
/// while the feed is healthy, and with an error once it is not (the caller opens a new one).
#[async_trait]
pub trait AuthFeed: Send {
    async fn next(&mut self) -> Result<AuthSignal>;
}

/// How often a PostgreSQL feed proves its connection alive.
pub const HEARTBEAT: Duration = Duration::from_millis(250);
/// How often a SQLite feed reads the change counter.
pub const POLL: Duration = Duration::from_millis(100);
/// The notification channel and the heartbeat's payload (PostgreSQL).
pub(crate) const CHANNEL: &str = "switchyard_auth";
pub(crate) const ALIVE: &str = "alive";
