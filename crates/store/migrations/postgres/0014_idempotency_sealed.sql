-- Remembered answers can hold secrets shown once (a signing key's private key, a new API key, a
-- hub session token, an access token): their bodies are now sealed by the vault, bound to their
-- (scope, key), and `key_id` names the master key that sealed them, so that `keys status` counts
-- them and `keys rotate` re-seals them. The scope of an API key's requests is now the key itself,
-- not its organisation. The rows written before held plaintext under the old scopes: they are
-- deleted (they would have expired within 24 hours; a retry of one of those requests runs again).
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys RENAME COLUMN body TO sealed_body;
ALTER TABLE idempotency_keys ADD COLUMN key_id TEXT;
CREATE INDEX idempotency_keys_key ON idempotency_keys(key_id) WHERE key_id IS NOT NULL;
