-- 005-operations: what the operators watch: cron job runs and host samples.
-- Idempotent: sqlite3 app.db < 005-operations.sql.

-- One row per execution of a scheduled job. A job still running has
-- status 'running' and no finished_at.
CREATE TABLE IF NOT EXISTS cron_job_logs (
  id              INTEGER PRIMARY KEY,
  job_name        TEXT NOT NULL,
  started_at      TEXT NOT NULL,
  finished_at     TEXT,
  status          TEXT NOT NULL CHECK (status IN ('running', 'success', 'failed')),
  items_processed INTEGER NOT NULL DEFAULT 0,
  error_message   TEXT
);
CREATE INDEX IF NOT EXISTS cron_job_logs_started_at ON cron_job_logs (started_at);
CREATE INDEX IF NOT EXISTS cron_job_logs_job ON cron_job_logs (job_name, started_at);

-- Host samples, one every five minutes.
CREATE TABLE IF NOT EXISTS system_metrics (
  id          INTEGER PRIMARY KEY,
  sampled_at  TEXT NOT NULL,
  cpu_pct     REAL NOT NULL,
  memory_pct  REAL NOT NULL,
  disk_pct    REAL NOT NULL,
  load_1m     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS system_metrics_sampled_at ON system_metrics (sampled_at);
