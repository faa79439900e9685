-- The expiry sweeper finds due credentials without scanning the table.
CREATE INDEX credentials_expires ON credentials(expires_at) WHERE expires_at IS NOT NULL;
