-- Switchyard schema, PostgreSQL. Every tenant table carries organisation_id; every query filters on it.
CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_keys_org ON api_keys(organisation_id);

CREATE TABLE connectors (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    auth_scheme_configs JSONB NOT NULL,
    connection_variables JSONB NOT NULL,
    image_url TEXT NOT NULL,
    documentation_url TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX connectors_org ON connectors(organisation_id, id);

CREATE TABLE hubs (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    primary_connector_id TEXT NOT NULL REFERENCES connectors(id),
    auth_scheme_config JSONB NOT NULL,
    is_default BOOLEAN NOT NULL,
    deleted_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX hubs_org ON hubs(organisation_id, id);

CREATE TABLE end_users (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    hub_id TEXT NOT NULL REFERENCES hubs(id),
    external_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    primary_connection_id TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (hub_id, external_id)
);
CREATE INDEX end_users_org ON end_users(organisation_id, hub_id, id);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    public_data JSONB NOT NULL,
    sealed_data TEXT NOT NULL,
    key_id TEXT NOT NULL,
    errors JSONB,
    expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX credentials_key ON credentials(key_id);

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    connector_id TEXT NOT NULL REFERENCES connectors(id),
    end_user_id TEXT REFERENCES end_users(id),
    name TEXT NOT NULL,
    variables JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX connections_name ON connections(connector_id, COALESCE(end_user_id, ''), name);
CREATE INDEX connections_user ON connections(organisation_id, end_user_id, id);

CREATE TABLE connection_credentials (
    id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    position INTEGER NOT NULL,
    auth_scheme_config JSONB NOT NULL,
    credential_id TEXT NOT NULL REFERENCES credentials(id)
);
CREATE INDEX connection_credentials_conn ON connection_credentials(connection_id);

ALTER TABLE end_users ADD CONSTRAINT end_users_primary_connection FOREIGN KEY (primary_connection_id) REFERENCES connections(id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE integrations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    hub_id TEXT NOT NULL REFERENCES hubs(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    summary TEXT NOT NULL,
    image_url TEXT NOT NULL,
    screenshot_url TEXT NOT NULL,
    variables_schema JSONB,
    board_id TEXT NOT NULL,
    is_deployed BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX integrations_hub ON integrations(organisation_id, hub_id, id);

CREATE TABLE connection_templates (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    connector_id TEXT NOT NULL REFERENCES connectors(id),
    name TEXT NOT NULL,
    image_url TEXT NOT NULL,
    auth_scheme_config JSONB NOT NULL,
    is_primary BOOLEAN NOT NULL,
    is_used BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX connection_templates_integration ON connection_templates(integration_id, id);

CREATE TABLE activations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    hub_id TEXT NOT NULL REFERENCES hubs(id),
    integration_id TEXT NOT NULL REFERENCES integrations(id),
    end_user_id TEXT NOT NULL REFERENCES end_users(id),
    dynamic_variables JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (end_user_id, integration_id)
);
CREATE INDEX activations_user ON activations(organisation_id, end_user_id, id);
CREATE INDEX activations_integration ON activations(integration_id);

CREATE TABLE activation_connections (
    activation_id TEXT NOT NULL REFERENCES activations(id) ON DELETE CASCADE,
    template_id TEXT NOT NULL REFERENCES connection_templates(id) ON DELETE CASCADE,
    connection_id TEXT NOT NULL REFERENCES connections(id),
    PRIMARY KEY (activation_id, template_id)
);
CREATE INDEX activation_connections_conn ON activation_connections(connection_id);
