-- Organisations API v1 signing keys: the RSA public keys (SPKI PEM) that verify end users' RS256
-- JWTs. The private key is handed to the organisation once, on creation, and never stored.
CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX signing_keys_org ON signing_keys(organisation_id, id);
