//! Switchyard's HTTP faces. Each API version is a thin module mapping its wire encoding to the
//! domain model: [`embedded_v1`], [`connect_v1`], [`organisations`] (API keys), and [`ops`]
//! (health, readiness, metrics). The OpenAPI document is generated from the same handlers.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod connect_v1;
pub mod connections;
pub mod credentials;
pub mod egress;
pub mod embedded_v1;
pub mod error;
pub mod extract;
pub mod hub_page;
pub mod hygiene;
pub mod idempotency;
pub mod listener;
pub mod oauth;
pub mod oauth1;
pub mod oauth_policy;
pub mod ops;
pub mod organisations;
pub mod platform_v2;
pub mod rate_limit;
pub mod session;
pub mod signing_keys;
pub mod tokens;
pub mod variables;

use axum::Router;
use std::sync::Arc;
use switchyard_store::DynStore;
use switchyard_vault::KeyRing;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub vault: Arc<KeyRing>,
    /// Where Switchyard is reached from outside, for URLs it hands out.
    pub public_url: String,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Every outbound request (OAuth2 and OAuth 1.0a providers) goes through it.
    pub egress: egress::Egress,
    /// Failed authentications per client, provider calls per organisation and client.
    pub rate_limits: Arc<rate_limit::RateLimits>,
    /// How long an OAuth2 `state` stays usable.
    pub oauth_state_ttl: std::time::Duration,
    /// One token refresh per credential at a time in this process.
    pub refresh_locks: Arc<tokens::RefreshLocks>,
    /// The longest lifetime an end-user JWT may have (`exp - iat`, and `exp - now`).
    pub end_user_jwt_max_lifetime: std::time::Duration,
}

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
        .merge(organisations::routes())
        .merge(signing_keys::routes())
        .merge(embedded_v1::routes())
        .merge(connect_v1::routes())
        .merge(oauth::routes())
        .merge(oauth1::routes())
        .merge(session::routes())
        .merge(tokens::routes())
        .merge(platform_v2::routes())
}

/// The OpenAPI document, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = routes().split_for_parts();
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    doc
}

/// The whole HTTP application, with the default [`ops::RequestLimits`].
pub fn app(state: AppState) -> Router {
    app_with(state, &ops::RequestLimits::default())
}

/// The whole HTTP application.
pub fn app_with(state: AppState, limits: &ops::RequestLimits) -> Router {
    let (router, doc) = routes().split_for_parts();
    let doc = Arc::new({
        let mut d = doc;
        d.openapi = utoipa::openapi::OpenApiVersion::Version31;
        d
    });
    let router = hub_page::routes(router).route(
        "/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    );
    ops::layers(router.with_state(state.clone()), state, limits)
}
