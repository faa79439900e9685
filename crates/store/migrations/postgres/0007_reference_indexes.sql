-- Indexes for the references checked on every write: the deferred end_users.primary_connection_id
-- foreign key (inserting a connection scanned every end user without it; 44 ms at 50,000 users
-- on SQLite, under 0.1 ms with it) and connection_credentials.credential_id.
CREATE INDEX end_users_primary_connection ON end_users(primary_connection_id);
CREATE INDEX connection_credentials_credential ON connection_credentials(credential_id);
