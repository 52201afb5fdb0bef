-- schema.sql — the example application's tables on PostgreSQL: the five
-- migrations of examples/migrations/ (SQLite) in one file, column for column
-- in the same order (load.sh copies the SQLite rows over by position).
-- Timestamps are timestamptz (the SQLite text is UTC), REAL is double
-- precision, INTEGER ids are bigint. Idempotent:
--   psql -v ON_ERROR_STOP=1 -f examples/postgres/schema.sql "$DB"

CREATE TABLE IF NOT EXISTS sites (
  id         bigint PRIMARY KEY,
  domain     text NOT NULL UNIQUE,
  status     text NOT NULL DEFAULT 'discovered'
             CHECK (status IN ('discovered', 'analyzed', 'contacted', 'converted')),
  score      integer CHECK (score BETWEEN 0 AND 100),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sites_status ON sites (status);
CREATE INDEX IF NOT EXISTS sites_created_at ON sites (created_at);
CREATE INDEX IF NOT EXISTS sites_updated_at ON sites (updated_at, status);

CREATE TABLE IF NOT EXISTS excluded_sites (
  id         bigint PRIMARY KEY,
  domain     text NOT NULL UNIQUE,
  reason     text NOT NULL
             CHECK (reason IN ('opt_out', 'competitor', 'blocked_tld', 'invalid_domain', 'manual')),
  created_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS conversations (
  id                     bigint PRIMARY KEY,
  site_id                bigint NOT NULL REFERENCES sites (id),
  channel                text NOT NULL,
  status                 text NOT NULL CHECK (status IN ('open', 'waiting', 'won', 'lost')),
  started_at             timestamptz NOT NULL,
  last_message_at        timestamptz NOT NULL,
  message_count          integer NOT NULL DEFAULT 1,
  first_response_minutes integer
);
CREATE INDEX IF NOT EXISTS conversations_started_at ON conversations (started_at);

CREATE TABLE IF NOT EXISTS messages (
  id              bigint PRIMARY KEY,
  site_id         bigint NOT NULL REFERENCES sites (id),
  conversation_id bigint REFERENCES conversations (id),
  channel         text NOT NULL CHECK (channel IN ('email', 'form', 'sms', 'linkedin')),
  direction       text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  status          text NOT NULL
                  CHECK (status IN ('queued', 'sent', 'delivered', 'opened', 'replied',
                                    'bounced', 'failed', 'received')),
  created_at      timestamptz NOT NULL,
  replied_at      timestamptz
);
CREATE INDEX IF NOT EXISTS messages_created_at ON messages (created_at, direction);
CREATE INDEX IF NOT EXISTS messages_replied_at ON messages (replied_at) WHERE replied_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS llm_usage (
  id                bigint PRIMARY KEY,
  site_id           bigint REFERENCES sites (id),
  stage             text NOT NULL CHECK (stage IN ('analyze', 'score', 'draft', 'reply')),
  model             text NOT NULL,
  prompt_tokens     integer NOT NULL,
  completion_tokens integer NOT NULL,
  tokens            integer NOT NULL,
  cost_usd          double precision NOT NULL,
  created_at        timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_usage_created_at ON llm_usage (created_at, stage, cost_usd, tokens);

CREATE TABLE IF NOT EXISTS errors (
  id         bigint PRIMARY KEY,
  site_id    bigint REFERENCES sites (id),
  stage      text NOT NULL CHECK (stage IN ('discover', 'analyze', 'outreach', 'reply')),
  kind       text NOT NULL CHECK (kind IN ('http', 'timeout', 'dns', 'ssl', 'parse', 'llm')),
  http_code  integer,
  message    text NOT NULL,
  resolved   integer NOT NULL DEFAULT 0 CHECK (resolved IN (0, 1)),
  created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS errors_created_at ON errors (created_at);
CREATE INDEX IF NOT EXISTS errors_unresolved ON errors (created_at) WHERE resolved = 0;

CREATE TABLE IF NOT EXISTS cron_job_logs (
  id              bigint PRIMARY KEY,
  job_name        text NOT NULL,
  started_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  status          text NOT NULL CHECK (status IN ('running', 'success', 'failed')),
  items_processed integer NOT NULL DEFAULT 0,
  error_message   text
);
CREATE INDEX IF NOT EXISTS cron_job_logs_started_at ON cron_job_logs (started_at);
CREATE INDEX IF NOT EXISTS cron_job_logs_job ON cron_job_logs (job_name, started_at);

CREATE TABLE IF NOT EXISTS system_metrics (
  id          bigint PRIMARY KEY,
  sampled_at  timestamptz NOT NULL,
  cpu_pct     double precision NOT NULL,
  memory_pct  double precision NOT NULL,
  disk_pct    double precision NOT NULL,
  load_1m     double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS system_metrics_sampled_at ON system_metrics (sampled_at);
