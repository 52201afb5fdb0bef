-- 001-init: dashspec's tables. Idempotent: runnable by hand with
--   sqlite3 DB < migrations/sqlite/001-init.sql
-- and never drops or rewrites existing data. An application that already has
-- a dashboard_cache table (the origin's migration 049) keeps it as it is:
-- dashspec writes only the four columns the contract names.

CREATE TABLE IF NOT EXISTS dashspec_migrations (
  name       TEXT PRIMARY KEY,
  applied_at TEXT NOT NULL
);

-- The cache the dashboard reads: one JSON value per key.
-- Fresh means expires_at > datetime('now'); created_at is when it was computed.
CREATE TABLE IF NOT EXISTS dashboard_cache (
  cache_key   TEXT PRIMARY KEY,
  cache_value TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL
);

-- The compiled plan: one row per item, replaced whole by `dashspec compile`.
CREATE TABLE IF NOT EXISTS dashspec_plan (
  key            TEXT PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('metric', 'chart')),
  shape          TEXT NOT NULL CHECK (shape IN ('scalar', 'row', 'rows', 'map', 'series')),
  sql            TEXT NOT NULL,
  params         TEXT NOT NULL DEFAULT '{}',   -- JSON object name -> value
  ttl            INTEGER NOT NULL,             -- seconds
  refresh        INTEGER NOT NULL,             -- seconds
  timeout        INTEGER NOT NULL,             -- seconds
  max_rows       INTEGER NOT NULL,
  max_bytes      INTEGER NOT NULL,
  group_name     TEXT,
  tags           TEXT NOT NULL DEFAULT '[]',   -- JSON array
  options        TEXT NOT NULL DEFAULT '{}',   -- JSON: x, y, series_by, fill
  description    TEXT,
  source         TEXT NOT NULL,                -- file:line
  spec_hash      TEXT NOT NULL,
  sqlite_version TEXT NOT NULL,
  compiled_at    TEXT NOT NULL
);

-- Per key: what happened last, and when to try again.
CREATE TABLE IF NOT EXISTS dashspec_state (
  cache_key        TEXT PRIMARY KEY,
  last_attempt     TEXT,
  last_success     TEXT,
  last_duration_ms INTEGER,
  entries          INTEGER,
  last_error       TEXT,
  failures         INTEGER NOT NULL DEFAULT 0,  -- consecutive
  next_attempt     TEXT,
  spec_hash        TEXT,                        -- of the value now in dashboard_cache
  value_bytes      INTEGER
);

-- One row per `dashspec run`, written when the run finishes.
CREATE TABLE IF NOT EXISTS dashspec_runs (
  id           INTEGER PRIMARY KEY,
  started_at   TEXT NOT NULL,
  finished_at  TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('ok', 'partial', 'failed')),
  items_run    INTEGER NOT NULL,
  items_ok     INTEGER NOT NULL,
  items_failed INTEGER NOT NULL,
  skipped      INTEGER NOT NULL,
  entries      INTEGER NOT NULL,
  duration_ms  INTEGER NOT NULL,
  summary      TEXT NOT NULL
);

INSERT OR IGNORE INTO dashspec_migrations (name, applied_at)
VALUES ('001-init', strftime('%Y-%m-%d %H:%M:%S', 'now'));
