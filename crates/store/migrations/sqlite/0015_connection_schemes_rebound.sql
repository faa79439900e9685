-- A connection credential's auth scheme config is the organisation's copy, never the one a
-- request sent (a forged tokenUrl could send the organisation's client secret anywhere). Stored
-- configs are rebound to the organisation's config with the same id: the connector's, else the
-- hub's (the end user's hub, for its primary connector), else one of the hub's connection
-- templates for that connector.
UPDATE connection_credentials SET auth_scheme_config = COALESCE(
    (SELECT j.value FROM connections c JOIN connectors k ON k.id = c.connector_id AND k.organisation_id = c.organisation_id, json_each(k.auth_scheme_configs) j
      WHERE c.id = connection_credentials.connection_id AND json_extract(j.value, '$.id') = json_extract(connection_credentials.auth_scheme_config, '$.id')
      LIMIT 1),
    (SELECT h.auth_scheme_config FROM connections c JOIN end_users u ON u.id = c.end_user_id AND u.organisation_id = c.organisation_id
      JOIN hubs h ON h.id = u.hub_id AND h.primary_connector_id = c.connector_id
      WHERE c.id = connection_credentials.connection_id AND json_extract(h.auth_scheme_config, '$.id') = json_extract(connection_credentials.auth_scheme_config, '$.id')
      LIMIT 1),
    (SELECT t.auth_scheme_config FROM connections c JOIN end_users u ON u.id = c.end_user_id AND u.organisation_id = c.organisation_id
      JOIN integrations i ON i.hub_id = u.hub_id AND i.organisation_id = c.organisation_id
      JOIN connection_templates t ON t.integration_id = i.id AND t.connector_id = c.connector_id
      WHERE c.id = connection_credentials.connection_id AND json_extract(t.auth_scheme_config, '$.id') = json_extract(connection_credentials.auth_scheme_config, '$.id')
      ORDER BY t.id LIMIT 1),
    -- No organisation config has this id: it may keep its URLs, but never reach one of the
    -- organisation's secrets.
    json_remove(auth_scheme_config, '$.grant.credentialId', '$.grant.organisationId', '$.credentialId', '$.organisationId')
);
