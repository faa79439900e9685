-- A variables schema keeps the key order it was written in (the hub page shows its fields in
-- that order). JSONB sorts keys, so the schema is kept as text, as on SQLite.
ALTER TABLE integrations ALTER COLUMN variables_schema TYPE TEXT USING variables_schema::text;
