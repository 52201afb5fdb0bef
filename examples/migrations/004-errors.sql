-- 004-errors: failures of the pipeline (fetching sites, parsing, LLM calls).
-- Idempotent: sqlite3 app.db < 004-errors.sql.
CREATE TABLE IF NOT EXISTS errors (
  id         INTEGER PRIMARY KEY,
  site_id    INTEGER REFERENCES sites (id),
  stage      TEXT NOT NULL CHECK (stage IN ('discover', 'analyze', 'outreach', 'reply')),
  kind       TEXT NOT NULL CHECK (kind IN ('http', 'timeout', 'dns', 'ssl', 'parse', 'llm')),
  http_code  INTEGER,                      -- kind 'http' (and some 'llm')
  message    TEXT NOT NULL,
  resolved   INTEGER NOT NULL DEFAULT 0 CHECK (resolved IN (0, 1)),
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS errors_created_at ON errors (created_at);
-- "Active errors" counts the unresolved ones: a partial index keeps it tiny.
CREATE INDEX IF NOT EXISTS errors_unresolved ON errors (created_at) WHERE resolved = 0;
