-- SQLite keeps JSON as text, in the order it was written; nothing to change (kept so both
-- databases have the same migration numbers).
SELECT 1;
