-- 002-history: one row per item attempt, for `dashspec stats`, `report` and
-- `status --format prometheus`. Idempotent, like 001-init:
--   sqlite3 DB < migrations/002-history.sql
--
-- Compact on purpose (cron every minute writes one row per computed item):
-- times are integer Unix seconds, not text; a success stores no error, a
-- failure no expiry. The rows older than the oldest kept dashspec_runs row
-- are deleted when a run is recorded, so the history lasts as long as the
-- run log (keep_runs below) and never grows without bound.

CREATE TABLE IF NOT EXISTS dashspec_history (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,       -- attempt time = created_at of a success (Unix s)
  cache_key   TEXT NOT NULL,
  ok          INTEGER NOT NULL,       -- 1 computed and cached, 0 failed
  duration_ms INTEGER,                -- NULL: unknown (a failure before the query ran)
  entries     INTEGER,                -- success: result rows
  bytes       INTEGER,                -- success: bytes of the JSON value
  expires_at  INTEGER,                -- success: Unix s the value expires
  error       TEXT                    -- failure: the first 200 bytes of the message
);
CREATE INDEX IF NOT EXISTS dashspec_history_at ON dashspec_history (at);

-- dashspec's settings, one row per name. keep_runs: how many dashspec_runs
-- rows are kept (default 10000); the history is kept for the same span.
--   sqlite3 DB "INSERT OR REPLACE INTO dashspec_settings VALUES ('keep_runs', 1440)"
CREATE TABLE IF NOT EXISTS dashspec_settings (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);

INSERT OR IGNORE INTO dashspec_migrations (name, applied_at)
VALUES ('002-history', strftime('%Y-%m-%d %H:%M:%S', 'now'));
