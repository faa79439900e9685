-- Authentication changes, counted for every process's authentication cache: an API key revoked
-- or removed, a live hub session removed or changed, a signing key removed or changed. A server
-- polls the counter (the CLI is another process writing the same file) and forgets what it had
-- cached when it moves. Inserts need no count: a cache only holds what it has read.
CREATE TABLE auth_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    counter INTEGER NOT NULL
);
INSERT INTO auth_changes (id, counter) VALUES (1, 0);

CREATE TRIGGER api_keys_auth_changed AFTER UPDATE OF revoked_at, key_hash, organisation_id
    ON api_keys BEGIN UPDATE auth_changes SET counter = counter + 1; END;
CREATE TRIGGER api_keys_auth_removed AFTER DELETE ON api_keys
    BEGIN UPDATE auth_changes SET counter = counter + 1; END;
CREATE TRIGGER hub_sessions_auth_changed AFTER UPDATE ON hub_sessions
    BEGIN UPDATE auth_changes SET counter = counter + 1; END;
-- Purging sessions that expired long ago removes nothing a cache may still use. (Timestamps are
-- stored as RFC 3339 text, which sorts as time does against this prefix.)
CREATE TRIGGER hub_sessions_auth_removed AFTER DELETE ON hub_sessions
    WHEN OLD.expires_at > strftime('%Y-%m-%dT%H:%M:%S', 'now')
    BEGIN UPDATE auth_changes SET counter = counter + 1; END;
CREATE TRIGGER signing_keys_auth_changed AFTER UPDATE ON signing_keys
    BEGIN UPDATE auth_changes SET counter = counter + 1; END;
CREATE TRIGGER signing_keys_auth_removed AFTER DELETE ON signing_keys
    BEGIN UPDATE auth_changes SET counter = counter + 1; END;
