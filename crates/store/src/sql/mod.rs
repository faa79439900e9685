//! The SQL of every store trait, one file per aggregate, written once for both databases.
//!
//! This directory is compiled twice: `sqlite.rs` and `postgres.rs` each include it as their own
//! `sql` module (`#[path = "sql/mod.rs"]`), after naming their sqlx database `Db` and their
//! store `Backend`. So `Db` here is `sqlx::Sqlite` in one copy and `sqlx::Postgres` in the other,
//! and each `impl ... for Backend` implements a trait for one backend's store. Everything else is
//! ordinary Rust: helpers are imported by name from the module that owns them (`query` for
//! binding, reading and paging, `crate::sql_text` for SQL text, `crate::error` for errors).
//!
//! What differs between the databases stays in the backend modules: the pool, the migrations,
//! `begin_write` (SQLite's `BEGIN IMMEDIATE`) and how durability is read.
use super::{Backend, Db};

mod activations;
mod connections;
mod connectors;
mod credentials;
mod events;
mod hubs;
mod idempotency;
mod integrations;
mod jobs;
mod oauth_states;
mod ops;
mod organisations;
mod platform_activations;
mod platform_connections;
mod platform_end_users;
mod platform_projects;
mod platform_systems;
mod query;
mod signing_keys;
