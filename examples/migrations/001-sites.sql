-- 001-sites: the sites the pipeline works on, and the domains kept out of it.
-- Part of the example application dashspec ships with (see README.md and
-- docs/architecture.md). Idempotent: sqlite3 app.db < 001-sites.sql.
-- Timestamps are UTC text 'YYYY-MM-DD HH:MM:SS' throughout, so they compare
-- as text and work with datetime(:now, '-48 hours').

-- One row per site. status is the furthest pipeline stage reached:
--   discovered -> analyzed -> contacted -> converted
-- updated_at is when the site entered that stage.
CREATE TABLE IF NOT EXISTS sites (
  id         INTEGER PRIMARY KEY,
  domain     TEXT NOT NULL UNIQUE,
  status     TEXT NOT NULL DEFAULT 'discovered'
             CHECK (status IN ('discovered', 'analyzed', 'contacted', 'converted')),
  score      INTEGER CHECK (score BETWEEN 0 AND 100),   -- set by the analyzer
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- The funnel groups by status; the 48-hour charts range over the timestamps.
CREATE INDEX IF NOT EXISTS sites_status ON sites (status);
CREATE INDEX IF NOT EXISTS sites_created_at ON sites (created_at);
CREATE INDEX IF NOT EXISTS sites_updated_at ON sites (updated_at, status);

-- Domains that must never be contacted (opt-outs, competitors, bad TLDs).
CREATE TABLE IF NOT EXISTS excluded_sites (
  id         INTEGER PRIMARY KEY,
  domain     TEXT NOT NULL UNIQUE,
  reason     TEXT NOT NULL
             CHECK (reason IN ('opt_out', 'competitor', 'blocked_tld', 'invalid_domain', 'manual')),
  created_at TEXT NOT NULL
);
