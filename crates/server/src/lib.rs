//! Switchyard's HTTP server, in three trees and a few services:
//!
//! - [`api`]: the faces, one folder per API (Embedded v1, Connect v1, Platform v2,
//!   Organisations v1), thin mappings of each wire encoding onto the domain.
//! - [`auth`]: who is calling (API keys, hub sessions, end-user JWTs); extractors, no handlers.
//! - [`oauth`]: the hosted OAuth2 and OAuth 1.0a flows, the callback page, provider token calls.
//! - Services the faces share: [`connections`] (drafts checked by the domain, sealed),
//!   [`credentials`] (sealing and opening), [`tokens`] (fresh access tokens, refreshed once
//!   across nodes), [`variables`] (budgeted schema validation).
//! - The HTTP plumbing: [`extract`], [`hygiene`], [`error`], [`idempotency`], [`rate_limit`],
//!   [`ops`] (health, metrics, the layers), [`listener`] (connection limits), [`egress`] (every
//!   outbound request), [`hub_page`].
//!
//! The OpenAPI document is generated from the same handlers.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod connections;
pub mod credentials;
pub mod egress;
pub mod error;
pub mod extract;
pub mod hub_page;
pub mod hygiene;
pub mod idempotency;
pub mod jobs;
pub mod listener;
mod missing_fields;
pub mod oauth;
mod openapi_examples;
pub mod ops;
pub mod rate_limit;
pub mod refresh_locks;
pub mod schemes;
pub mod state;
pub mod tokens;
pub mod variables;
pub mod webhooks;

use axum::Router;
pub use state::AppState;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard API",
        description = "Switchyard: a self-hostable embedded integration platform, wire-compatible with Versori's Embedded API v1 and Connect API v1.",
        license(name = "Apache-2.0")
    ),
    components(schemas(error::ErrorBody, switchyard_domain::model::IdentifierType)),
    modifiers(&SecurityAddon),
    security(("bearerToken" = [])),
    tags(
        (name = "hubs"), (name = "end-users"), (name = "integrations"), (name = "embedded"), (name = "activations"),
        (name = "connectors"), (name = "connections"), (name = "sessions"), (name = "api-keys"), (name = "operations")
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An organisation API key (sy_...)"))
                    .build(),
            ),
        );
    }
}

/// Every route with its OpenAPI description.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::routes())
        .merge(api::routes())
        .merge(oauth::routes())
}

/// The OpenAPI document, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = routes().split_for_parts();
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    webhooks::document(&mut doc);
    openapi_examples::add(&mut doc);
    doc
}

/// The whole HTTP application, with the default [`ops::RequestLimits`].
pub fn app(state: AppState) -> Router {
    app_with(state, &ops::RequestLimits::default())
}

/// The whole HTTP application.
pub fn app_with(state: AppState, limits: &ops::RequestLimits) -> Router {
    let (router, _) = routes().split_for_parts();
    let doc = Arc::new(openapi());
    let router = hub_page::routes(router).route(
        "/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    );
    ops::layers(router.with_state(state.clone()), state, limits)
}
