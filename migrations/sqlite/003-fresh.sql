-- 003-fresh: what refresh_key and incremental need in dashspec_state
-- (docs/spec-reference.md). Applied once (dashspec_migrations records it);
-- by hand: sqlite3 DB < migrations/sqlite/003-fresh.sql on a database
-- that has 001-init and not yet 003-fresh.
--
--   refresh_key_value  the refresh_key's one-row result (JSON text) taken
--                      just before the value in dashboard_cache was computed
--   confirmed_at       when that value was last confirmed (key unchanged)
--                      instead of recomputed; NULL after a recompute
--   last_full          when the value was last computed in full (incremental)

ALTER TABLE dashspec_state ADD COLUMN refresh_key_value TEXT;
ALTER TABLE dashspec_state ADD COLUMN confirmed_at TEXT;
ALTER TABLE dashspec_state ADD COLUMN last_full TEXT;

INSERT OR IGNORE INTO dashspec_migrations (name, applied_at)
VALUES ('003-fresh', strftime('%Y-%m-%d %H:%M:%S', 'now'));
