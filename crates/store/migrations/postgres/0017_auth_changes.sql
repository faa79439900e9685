-- Authentication changes, announced to every node's authentication cache: an API key revoked or
-- removed, a live hub session removed or changed, a signing key removed or changed. Each node
-- LISTENs on `switchyard_auth` and forgets what it had cached (see the server's auth cache).
-- Inserts need no announcement: a cache only holds what it has read.
CREATE FUNCTION switchyard_auth_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('switchyard_auth', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER api_keys_auth_changed AFTER UPDATE OF revoked_at, key_hash, organisation_id
    ON api_keys FOR EACH ROW EXECUTE FUNCTION switchyard_auth_changed();
CREATE TRIGGER api_keys_auth_removed AFTER DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION switchyard_auth_changed();
-- Purging sessions that expired long ago removes nothing a cache may still use.
CREATE TRIGGER hub_sessions_auth_changed AFTER UPDATE ON hub_sessions
    FOR EACH ROW EXECUTE FUNCTION switchyard_auth_changed();
CREATE TRIGGER hub_sessions_auth_removed AFTER DELETE ON hub_sessions
    FOR EACH ROW WHEN (OLD.expires_at > now()) EXECUTE FUNCTION switchyard_auth_changed();
CREATE TRIGGER signing_keys_auth_changed AFTER UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION switchyard_auth_changed();
