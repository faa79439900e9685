-- Platform API v2 administration: when an environment was last deployed, the auth scheme
-- configs a connection template uses (a JSON array of ids; NULL: all of its system's), and a
-- project's settings and metadata (JSON objects, kept as text so their keys keep their order).
ALTER TABLE platform_environments ADD COLUMN last_deployed_at TIMESTAMPTZ;
ALTER TABLE platform_connection_templates ADD COLUMN auth_scheme_config_ids TEXT;
ALTER TABLE platform_projects ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE platform_projects ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
