-- 003-llm: one row per LLM call, with its pipeline stage, tokens and cost.
-- Idempotent: sqlite3 app.db < 003-llm.sql.
CREATE TABLE IF NOT EXISTS llm_usage (
  id                INTEGER PRIMARY KEY,
  site_id           INTEGER REFERENCES sites (id),
  stage             TEXT NOT NULL CHECK (stage IN ('analyze', 'score', 'draft', 'reply')),
  model             TEXT NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  tokens            INTEGER NOT NULL,      -- prompt + completion
  cost_usd          REAL NOT NULL,
  created_at        TEXT NOT NULL
);
-- The 30-day cost charts range over created_at and sum by stage: covering,
-- so a month of calls is read from the index alone.
CREATE INDEX IF NOT EXISTS llm_usage_created_at ON llm_usage (created_at, stage, cost_usd, tokens);
