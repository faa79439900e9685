-- Pending OAuth2 authorization-code flows: one row per `state` handed out by oauth2/initialise.
-- Only the SHA-256 of the state is kept; the PKCE verifier is sealed by the vault.
CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    grant_credential_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    token_url TEXT NOT NULL,
    additional_token_params TEXT,
    scopes TEXT NOT NULL,
    code_verifier TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);

-- Hub page sessions: a token (only its SHA-256 kept) acting for one end user in one hub.
CREATE TABLE hub_sessions (
    token_hash TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    hub_id TEXT NOT NULL,
    external_user_id TEXT NOT NULL,
    allowed_integrations TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX hub_sessions_expiry ON hub_sessions(expires_at);
