-- Platform API v2: organisation-wide end users (v1's end users belong to a hub).
CREATE TABLE platform_end_users (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (organisation_id, external_id)
);
CREATE INDEX platform_end_users_org ON platform_end_users(organisation_id, id);
