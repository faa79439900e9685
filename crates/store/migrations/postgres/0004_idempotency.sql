-- Idempotency-Key: the first answer to a (caller, key) pair, replayed for 24 hours. The caller
-- is the SHA-256 of the Authorization header, so a key never spans API keys or organisations.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT,
    body TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
