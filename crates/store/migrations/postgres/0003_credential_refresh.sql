-- Token refresh, exactly once per credential across nodes: a short lease taken with a
-- conditional UPDATE, held by one node while it talks to the provider.
ALTER TABLE credentials ADD COLUMN refresh_lease_owner TEXT;
ALTER TABLE credentials ADD COLUMN refresh_lease_until TIMESTAMPTZ;

-- What happened to credentials: refreshes that failed, credentials that expired.
CREATE TABLE credential_events (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX credential_events_org ON credential_events(organisation_id, id);
