-- OAuth redirect hygiene and hub framing (organisation settings, per-hub redirect URLs, and the
-- origin each OAuth flow's callback page may answer).
-- An organisation's settings: the redirect URLs its OAuth initialise calls may name (JSON array of
-- strings) and the host origins that may frame its hub page (JSON array; empty: any).
CREATE TABLE organisation_settings (
    organisation_id TEXT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    oauth_redirect_urls TEXT NOT NULL,
    hub_frame_ancestors TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- The redirect URLs Embedded v1 initialise may name for this hub (JSON array of strings).
ALTER TABLE hubs ADD COLUMN oauth_redirect_urls TEXT NOT NULL DEFAULT '[]';
-- The origin of the page that started the flow: the only one the hosted callback page answers.
ALTER TABLE oauth_states ADD COLUMN opener_origin TEXT;
