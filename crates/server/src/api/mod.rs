//! The HTTP faces, one folder per API: each decodes its wire encoding into the domain's terms,
//! calls the services (the activation engine, the connection service, the store), and encodes the
//! answer. No face goes through another face's wire types; what the two v1 faces share is
//! [`v1_wire`].
pub mod connect_v1;
pub mod embedded_v1;
pub mod organisations_v1;
pub mod platform_v2;
pub mod v1_wire;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Every face's routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(organisations_v1::routes())
        .merge(embedded_v1::routes())
        .merge(connect_v1::routes())
        .merge(platform_v2::routes())
}
