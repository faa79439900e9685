-- Platform API v2 connections are rows of `connections` (one credential model, one token and
-- refresh path): a dynamic one belongs to a v2 end user, a static one to nobody. v2 adds a
-- base URL override.
ALTER TABLE connections ADD COLUMN platform_end_user_id TEXT REFERENCES platform_end_users(id);
ALTER TABLE connections ADD COLUMN base_url TEXT NOT NULL DEFAULT '';
CREATE INDEX connections_platform_user ON connections(organisation_id, platform_end_user_id);
-- Connection names are unique per connector and owner, v1 or v2 end user (or none).
DROP INDEX connections_name;
CREATE UNIQUE INDEX connections_name ON connections(connector_id, COALESCE(end_user_id, platform_end_user_id, ''), name);

-- Each environment's static user, hidden from end-user lists.
ALTER TABLE platform_end_users ADD COLUMN static_environment_id TEXT REFERENCES platform_environments(id) ON DELETE CASCADE;

-- The connection templates a v2 connection serves (created with one; link and unlink change it).
CREATE TABLE platform_connection_links (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    template_id TEXT NOT NULL REFERENCES platform_connection_templates(id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (connection_id, template_id)
);
CREATE INDEX platform_connection_links_template ON platform_connection_links(template_id);

-- An end user's activation of an environment: at most one per user and environment.
CREATE TABLE platform_activations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL REFERENCES platform_environments(id) ON DELETE CASCADE,
    end_user_id TEXT NOT NULL REFERENCES platform_end_users(id) ON DELETE CASCADE,
    dynamic_variables TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (environment_id, end_user_id)
);
CREATE INDEX platform_activations_user ON platform_activations(organisation_id, end_user_id);
CREATE INDEX platform_activations_env ON platform_activations(organisation_id, environment_id, id);

-- Which connection serves which template for an activation. Deleting a static connection drops
-- its rows (the environment's static connection is then used); a dynamic one in use is refused.
CREATE TABLE platform_activation_connections (
    activation_id TEXT NOT NULL REFERENCES platform_activations(id) ON DELETE CASCADE,
    template_id TEXT NOT NULL REFERENCES platform_connection_templates(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    PRIMARY KEY (activation_id, template_id)
);
CREATE INDEX platform_activation_connections_conn ON platform_activation_connections(connection_id);
