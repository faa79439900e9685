//! [`crate::OAuthStateStore`]: OAuth flow states.
use super::query::{get, j, json};
use super::Backend;
use crate::error::{db_err, Result};
use crate::OAuthStateStore;
use crate::OrgId;
use async_trait::async_trait;
use switchyard_domain::model::OAuthState;
use switchyard_domain::time::Timestamp;

#[async_trait]
impl OAuthStateStore for Backend {
    async fn insert_oauth_state(&self, org: &OrgId, st: &OAuthState) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, organisation_id, grant_credential_id, \
             connector_id, client_id, redirect_uri, token_url, additional_token_params, scopes, \
             code_verifier, created_at, expires_at, oauth1, opener_origin) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&st.state_hash)
        .bind(org)
        .bind(&st.grant_credential_id)
        .bind(&st.connector_id)
        .bind(&st.client_id)
        .bind(&st.redirect_uri)
        .bind(&st.token_url)
        .bind(&st.additional_token_params)
        .bind(j(&st.scopes))
        .bind(&st.code_verifier)
        .bind(st.created_at)
        .bind(st.expires_at)
        .bind(&st.oauth1)
        .bind(&st.opener_origin)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        // Expired flows are of no use to anyone: sweep them as new ones arrive.
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
            .bind(st.created_at - chrono::Duration::hours(1))
            .execute(self.writes())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn find_oauth_state_origin(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Option<String>>> {
        let row = sqlx::query(
            "SELECT opener_origin FROM oauth_states WHERE state_hash = $1 AND used_at IS NULL \
             AND expires_at > $2",
        )
        .bind(state_hash)
        .bind(now)
        .fetch_optional(self.reads())
        .await
        .map_err(db_err)?;
        row.as_ref().map(|r| get(r, "opener_origin")).transpose()
    }

    async fn consume_oauth_state(
        &self,
        org: &OrgId,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OAuthState>> {
        let r = sqlx::query(
            "UPDATE oauth_states SET used_at = $3 WHERE organisation_id = $1 AND state_hash = $2 \
             AND used_at IS NULL AND expires_at > $3",
        )
        .bind(org)
        .bind(state_hash)
        .bind(now)
        .execute(self.writes())
        .await
        .map_err(db_err)?;
        if r.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT * FROM oauth_states WHERE organisation_id = $1 AND state_hash = $2",
        )
        .bind(org)
        .bind(state_hash)
        .fetch_one(self.reads())
        .await
        .map_err(db_err)?;
        Ok(Some(OAuthState {
            state_hash: get(&row, "state_hash")?,
            organisation_id: get(&row, "organisation_id")?,
            grant_credential_id: get(&row, "grant_credential_id")?,
            connector_id: get(&row, "connector_id")?,
            client_id: get(&row, "client_id")?,
            redirect_uri: get(&row, "redirect_uri")?,
            token_url: get(&row, "token_url")?,
            additional_token_params: get(&row, "additional_token_params")?,
            scopes: json(&row, "scopes")?,
            code_verifier: get(&row, "code_verifier")?,
            oauth1: get(&row, "oauth1")?,
            opener_origin: get(&row, "opener_origin")?,
            created_at: get(&row, "created_at")?,
            expires_at: get(&row, "expires_at")?,
        }))
    }
}
