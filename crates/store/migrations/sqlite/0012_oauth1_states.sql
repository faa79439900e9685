-- OAuth 1.0a flows share oauth_states with OAuth2 ones: for them, `oauth1` holds the temporary
-- credentials (token and token secret) and the signature method, sealed by the vault.
ALTER TABLE oauth_states ADD COLUMN oauth1 TEXT;
