//! Which auth scheme configs the organisation defined for a connection: what a connection
//! credential, and an OAuth2 flow, may use (see [`switchyard_domain::auth_scheme::resolve`]).
use crate::error::{ApiResult, OrNotFound};
use crate::state::AppState;
use switchyard_domain::auth_scheme::AuthSchemeConfig;
use switchyard_domain::model::Hub;
use switchyard_store::OrgId;

/// The auth scheme configs the organisation defined for connections to `connector_id` in a v1
/// `hub`: the connector's own, the hub's (for its primary connector), and those of the hub's
/// connection templates for that connector. A connection credential (and an OAuth2 flow) there
/// must use one of them.
pub async fn hub_schemes(
    s: &AppState,
    org: &OrgId,
    hub: &Hub,
    connector_id: &str,
) -> ApiResult<Vec<AuthSchemeConfig>> {
    let connector = s
        .store
        .get_connector(org, connector_id)
        .await?
        .or_not_found("connector")?;
    let mut schemes = connector.auth_scheme_configs;
    if hub.primary_connector_id == connector.id {
        schemes.push(hub.auth_scheme_config.clone());
    }
    schemes.extend(
        s.store
            .list_hub_connector_templates(org, &hub.id, &connector.id)
            .await?
            .into_iter()
            .map(|t| t.auth_scheme_config),
    );
    Ok(schemes)
}
