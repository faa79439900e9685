//! Switchyard's integration tests, in one test binary (one compile and one link of the world
//! instead of one per file). Each module was a test binary of its own; a test's name is
//! `<module>::<test>`, and the tests that run on both databases are `<module>::<test>::sqlite` and
//! `<module>::<test>::postgres`, for example `security::forged_token_url_v1::postgres`.
//!
//! Every test starts the real `switchyard` binary and talks to it over HTTP (`common`, the
//! harness). `cargo test -p switchyard --test it security::` runs one module.

mod common;

mod auth_cache;
mod credential_expiry;
mod embedded_v1;
mod end_user_jwt;
mod events;
mod events_embedded;
mod events_retry;
mod events_scale;
mod events_v1;
mod first_hour;
mod foundation;
mod hub_primary;
mod hub_sessions;
mod idempotency_security;
mod jwt_bearer;
mod key_rotation;
mod oauth_flows;
mod oauth_hygiene;
mod openapi_examples;
mod platform_v2;
mod platform_v2_activations;
mod readme_walkthrough;
mod reliability;
mod schema_budget;
mod secrets;
mod security;
mod server_limits;
mod store_errors;
mod structure;
mod telemetry;
mod tenant_isolation;
