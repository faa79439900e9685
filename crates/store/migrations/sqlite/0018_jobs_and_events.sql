-- A durable job queue shared by every node (an outbox: jobs are inserted in the transaction of
-- the write that causes them), and the organisations' event endpoints, events and deliveries.
--
-- Queue times are Unix milliseconds (BIGINT) on both databases, so that due and lease comparisons
-- are plain integer comparisons. A job is ready, running (leased until lease_until, by the claim
-- holding lease_token) or failed (terminal, kept for inspection); a finished job is deleted.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    dedup_key TEXT,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at BIGINT NOT NULL,
    lease_token TEXT,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One job per (kind, deduplication key) while it exists (ready, running or failed).
CREATE UNIQUE INDEX jobs_dedup ON jobs(kind, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX jobs_due ON jobs(state, run_at);

-- Where an organisation wants its events: a URL, the types it wants (a JSON array; empty: all),
-- its signing secret sealed by the vault, and the previous secret during a rotation (until
-- previous_until). An endpoint is disabled by its owner, by a 410 answer, or after failing for
-- five days (disabled_reason says which; failing_since is the first failure since a success).
CREATE TABLE event_endpoints (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    event_types TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    sealed_secret TEXT NOT NULL,
    key_id TEXT NOT NULL,
    previous_sealed_secret TEXT,
    previous_key_id TEXT,
    previous_until TEXT,
    failing_since TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX event_endpoints_org ON event_endpoints(organisation_id, id);

-- An event as it is sent (payload: the JSON body), kept for the delivery log and replay. Stored
-- only when an endpoint wanted it.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX events_org ON events(organisation_id, id);

-- Every delivery attempt: when, the answer's status (none when there was no answer), latency,
-- the first bytes of the answer, and the outcome (succeeded, retrying, failed).
CREATE TABLE event_deliveries (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES event_endpoints(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    status_code INTEGER,
    latency_ms BIGINT NOT NULL,
    response_head TEXT NOT NULL,
    error TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX event_deliveries_endpoint ON event_deliveries(endpoint_id, id);
CREATE INDEX event_deliveries_event ON event_deliveries(event_id, id);
