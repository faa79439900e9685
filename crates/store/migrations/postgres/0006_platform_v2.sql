-- Platform API v2: organisation-wide end users (v1's end users belong to a hub).
CREATE TABLE platform_end_users (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (organisation_id, external_id)
);
CREATE INDEX platform_end_users_org ON platform_end_users(organisation_id, id);

-- Platform API v2 systems are connectors; this holds what v2 adds to them.
CREATE TABLE platform_systems (
    id TEXT PRIMARY KEY REFERENCES connectors(id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    labels TEXT NOT NULL
);

CREATE TABLE platform_projects (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    execution_pool TEXT NOT NULL,
    variables_schema TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX platform_projects_org ON platform_projects(organisation_id, id);

CREATE TABLE platform_environments (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES platform_projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    execution_pool TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, name)
);

-- A system linked into an environment; the system (a connector) cannot be deleted while linked.
CREATE TABLE platform_connection_templates (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES platform_projects(id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL REFERENCES platform_environments(id) ON DELETE CASCADE,
    system_id TEXT NOT NULL REFERENCES connectors(id),
    name TEXT NOT NULL,
    dynamic BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (environment_id, name)
);
CREATE INDEX platform_connection_templates_env ON platform_connection_templates(organisation_id, project_id, environment_id);
