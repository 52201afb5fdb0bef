-- generate.sql — fills the example application's tables with realistic,
-- deterministic data: the same scale and reference time always give the
-- same database, byte for byte in every table.
--
-- Run it through examples/make-db.sh, which applies examples/migrations/ first
-- and sets the knobs. By hand (after the migrations):
--
--   sqlite3 app.db < examples/generate.sql
--
-- Knobs, read from the temp table gen_config when the caller created it
-- (make-db.sh does), else the defaults below:
--   scale  1.0 gives about 100k rows (25k sites, 25k outbound messages, 20k
--          LLM calls, 5k errors, ...); rows grow linearly with it (50 gives
--          about 4.5M). Cron logs and host samples follow the clock, not the
--          scale: always 30 days of them (about 19k + 8.6k rows).
--   ref    the reference time: the newest row is at most this old, nothing
--          lies after it. Run dashspec with --now set to it.
--
-- Randomness: no random(). Every row n draws four 32-bit values a, b, c, d
-- from an integer hash of n (the "lowbias" multiply-xorshift finalizer), and
-- uses different bits of them for different fields. SQLite has no XOR
-- operator; (x | y) - (x & y) is one.
--
-- Time: business rows spread over 90 days with density rising towards ref
-- (about three times as many per hour now as 90 days ago: a growing
-- pipeline), in id order, as an application would have inserted them.

CREATE TEMP TABLE IF NOT EXISTS gen_config AS
  SELECT 1.0 AS scale, '2026-02-12 10:00:00' AS ref;

BEGIN;

-- The derived knobs: reference epoch, row counts.
CREATE TEMP TABLE g AS
  SELECT e, n_sites, n_excluded, n_messages, n_llm, n_errors,
         max(n_sites, n_messages, n_llm, n_errors, 60000) AS n_rnd,
         90 * 86400 AS span
  FROM (
    SELECT CAST(strftime('%s', ref) AS INTEGER) AS e,
           max(1, CAST(round(25000 * scale) AS INTEGER)) AS n_sites,
           max(1, CAST(round(1200 * scale) AS INTEGER))  AS n_excluded,
           max(1, CAST(round(25000 * scale) AS INTEGER)) AS n_messages,
           max(1, CAST(round(20000 * scale) AS INTEGER)) AS n_llm,
           max(1, CAST(round(5000 * scale) AS INTEGER))  AS n_errors
    FROM gen_config
  );

-- r(n): four pseudo-random 32-bit values per row number.
CREATE TEMP TABLE r (n INTEGER PRIMARY KEY, a INTEGER, b INTEGER, c INTEGER, d INTEGER);
INSERT INTO r
WITH RECURSIVE
  s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < (SELECT n_rnd FROM g)),
  x0 AS MATERIALIZED (
    SELECT n, (n * 4 + 0 + 2654435769) % 4294967296 AS a, (n * 4 + 1 + 2654435769) % 4294967296 AS b,
              (n * 4 + 2 + 2654435769) % 4294967296 AS c, (n * 4 + 3 + 2654435769) % 4294967296 AS d
    FROM s),
  x1 AS MATERIALIZED (
    SELECT n, (((a | (a >> 16)) - (a & (a >> 16))) * 73244475) % 4294967296 AS a,
              (((b | (b >> 16)) - (b & (b >> 16))) * 73244475) % 4294967296 AS b,
              (((c | (c >> 16)) - (c & (c >> 16))) * 73244475) % 4294967296 AS c,
              (((d | (d >> 16)) - (d & (d >> 16))) * 73244475) % 4294967296 AS d
    FROM x0),
  x2 AS MATERIALIZED (
    SELECT n, (((a | (a >> 16)) - (a & (a >> 16))) * 73244475) % 4294967296 AS a,
              (((b | (b >> 16)) - (b & (b >> 16))) * 73244475) % 4294967296 AS b,
              (((c | (c >> 16)) - (c & (c >> 16))) * 73244475) % 4294967296 AS c,
              (((d | (d >> 16)) - (d & (d >> 16))) * 73244475) % 4294967296 AS d
    FROM x1)
SELECT n, (a | (a >> 16)) - (a & (a >> 16)), (b | (b >> 16)) - (b & (b >> 16)),
          (c | (c >> 16)) - (c & (c >> 16)), (d | (d >> 16)) - (d & (d >> 16))
FROM x2;

-- ------------------------------------------------------------------ sites
-- age: seconds before ref, from row n's place in the 90 days (q = 1 at the
-- oldest); d1..d3: how long each stage took; an/co/cv: whether the site
-- goes on to the next stage at all. status is the last stage reached by ref.
INSERT INTO sites (id, domain, status, score, created_at, updated_at)
SELECT n,
       printf('%s-%d.%s',
              CASE (d >> 4) % 6 WHEN 0 THEN 'shop' WHEN 1 THEN 'studio' WHEN 2 THEN 'clinic'
                                WHEN 3 THEN 'bakery' WHEN 4 THEN 'garage' ELSE 'agency' END,
              n,
              CASE d % 5 WHEN 0 THEN 'com' WHEN 1 THEN 'net' WHEN 2 THEN 'org'
                         WHEN 3 THEN 'io' ELSE 'co.uk' END),
       status,
       CASE WHEN status = 'discovered' THEN NULL ELSE 20 + (d >> 8) % 81 END,
       datetime(e - age, 'unixepoch'),
       datetime(e - age + CASE status WHEN 'discovered' THEN 0
                                      WHEN 'analyzed' THEN d1
                                      WHEN 'contacted' THEN d1 + d2
                                      ELSE d1 + d2 + d3 END, 'unixepoch')
FROM (
  SELECT *, CASE WHEN an AND co AND cv AND d1 + d2 + d3 <= age THEN 'converted'
                 WHEN an AND co AND d1 + d2 <= age THEN 'contacted'
                 WHEN an AND d1 <= age THEN 'analyzed'
                 ELSE 'discovered' END AS status
  FROM (
    SELECT r.n, a, b, c, d, g.e,
           CAST(g.span * (0.5 * q + 0.5 * q * q) AS INTEGER) + (d >> 12) % 300 AS age,
           300 + a % 21300 AS d1,              -- analysis: 5 minutes to 6 hours
           3600 + b % 169200 AS d2,            -- first contact: 1 to 48 hours
           86400 + c % 777600 AS d3,           -- conversion: 1 to 10 days
           (a >> 20) % 100 < 82 AS an,
           (b >> 20) % 100 < 45 AS co,
           (c >> 20) % 100 < 9 AS cv
    FROM (SELECT r.*, 1.0 - (r.n - 0.5) / g.n_sites AS q FROM r, g WHERE r.n <= g.n_sites) AS r, g
  )
)
ORDER BY n;

-- ------------------------------------------------------------------ excluded sites
INSERT INTO excluded_sites (id, domain, reason, created_at)
SELECT r.n,
       printf('blocked-%d.%s', r.n, CASE d % 3 WHEN 0 THEN 'com' WHEN 1 THEN 'xyz' ELSE 'info' END),
       CASE WHEN a % 100 < 40 THEN 'opt_out' WHEN a % 100 < 60 THEN 'competitor'
            WHEN a % 100 < 75 THEN 'blocked_tld' WHEN a % 100 < 90 THEN 'invalid_domain'
            ELSE 'manual' END,
       datetime(g.e - CAST(g.span * (1.0 - (r.n - 0.5) / g.n_excluded) AS INTEGER), 'unixepoch')
FROM r, g WHERE r.n <= g.n_excluded
ORDER BY r.n;

-- ------------------------------------------------------------------ outbound messages
-- Per channel: bounce, open and reply odds (per mille). A reply arrives 10
-- minutes to 3 days after the message; one due after ref has not happened.
INSERT INTO messages (id, site_id, conversation_id, channel, direction, status, created_at, replied_at)
SELECT n, site_id, NULL, channel, 'outbound',
       CASE WHEN age < 600 AND c % 10 < 4 THEN 'queued'
            WHEN b % 1000 < 20 THEN 'failed'
            WHEN b % 1000 < 20 + CASE channel WHEN 'email' THEN 60 ELSE 15 END THEN 'bounced'
            WHEN replies AND delay <= age THEN 'replied'
            WHEN (c >> 20) % 1000 < CASE channel WHEN 'email' THEN 450 WHEN 'form' THEN 0
                                                 WHEN 'sms' THEN 800 ELSE 600 END THEN 'opened'
            WHEN (d >> 24) % 100 < 93 THEN 'delivered'
            ELSE 'sent' END,
       datetime(e - age, 'unixepoch'),
       CASE WHEN NOT (age < 600 AND c % 10 < 4)
                 AND b % 1000 >= 20 + CASE channel WHEN 'email' THEN 60 ELSE 15 END
                 AND replies AND delay <= age
            THEN datetime(e - age + delay, 'unixepoch') END
FROM (
  SELECT *, (c >> 8) % 1000 < CASE channel WHEN 'email' THEN 70 WHEN 'form' THEN 35
                                           WHEN 'sms' THEN 120 ELSE 90 END AS replies
  FROM (
    SELECT r.n, a, b, c, d, g.e,
           1 + (d % g.n_sites) AS site_id,
           CASE WHEN a % 100 < 55 THEN 'email' WHEN a % 100 < 75 THEN 'form'
                WHEN a % 100 < 90 THEN 'sms' ELSE 'linkedin' END AS channel,
           CAST(g.span * (0.5 * q + 0.5 * q * q) AS INTEGER) + (a >> 12) % 300 AS age,
           600 + (d >> 8) % 258600 AS delay
    FROM (SELECT r.*, 1.0 - (r.n - 0.5) / g.n_messages AS q FROM r, g WHERE r.n <= g.n_messages) AS r, g
  )
)
ORDER BY n;

-- ------------------------------------------------------------------ conversations
-- One per reply, in the order the replies came in. Older than two weeks a
-- conversation is decided (won or lost); newer ones are open or waiting.
INSERT INTO conversations (site_id, channel, status, started_at, last_message_at,
                           message_count, first_response_minutes)
SELECT site_id, channel,
       CASE WHEN last_t < e - 14 * 86400 THEN CASE WHEN r.c % 100 < 22 THEN 'won' ELSE 'lost' END
            WHEN r.c % 2 = 0 THEN 'open' ELSE 'waiting' END,
       replied_at,
       datetime(last_t, 'unixepoch'),
       count_,
       5 + r.d % 600
FROM (
  SELECT m.*, g.e, 2 + r.a % 6 AS count_,
         min(g.e, CAST(strftime('%s', m.replied_at) AS INTEGER) + (2 + r.a % 6) * (600 + r.b % 7200)) AS last_t
  FROM messages m JOIN r ON r.n = m.id, g
  WHERE m.status = 'replied'
) AS m JOIN r ON r.n = m.id
ORDER BY m.replied_at, m.id;

-- Each reply is an inbound message of its conversation.
INSERT INTO messages (site_id, conversation_id, channel, direction, status, created_at, replied_at)
SELECT site_id, id, channel, 'inbound', 'received', started_at, NULL
FROM conversations ORDER BY id;

-- ------------------------------------------------------------------ LLM usage
-- Prices per million tokens (prompt / completion): gpt-4o-mini 0.15 / 0.60,
-- gpt-4o 2.50 / 10.00, claude-3-5-sonnet 3.00 / 15.00.
INSERT INTO llm_usage (id, site_id, stage, model, prompt_tokens, completion_tokens, tokens,
                       cost_usd, created_at)
SELECT n, site_id, stage, model, pt, ct, pt + ct,
       round(CASE model WHEN 'gpt-4o-mini' THEN pt * 0.15 + ct * 0.60
                        WHEN 'gpt-4o' THEN pt * 2.50 + ct * 10.0
                        ELSE pt * 3.00 + ct * 15.0 END / 1000000.0, 6),
       datetime(e - age, 'unixepoch')
FROM (
  SELECT *, CASE stage WHEN 'analyze' THEN 'gpt-4o-mini' WHEN 'score' THEN 'gpt-4o-mini'
                       WHEN 'draft' THEN 'gpt-4o' ELSE 'claude-3-5-sonnet' END AS model,
            CASE stage WHEN 'analyze' THEN 1500 + b % 3000 WHEN 'score' THEN 400 + b % 800
                       WHEN 'draft' THEN 900 + b % 1500 ELSE 1200 + b % 2000 END AS pt,
            CASE stage WHEN 'analyze' THEN 150 + c % 400 WHEN 'score' THEN 20 + c % 60
                       WHEN 'draft' THEN 300 + c % 500 ELSE 200 + c % 400 END AS ct
  FROM (
    SELECT r.n, a, b, c, d, g.e,
           1 + (d % g.n_sites) AS site_id,
           CASE WHEN a % 100 < 45 THEN 'analyze' WHEN a % 100 < 70 THEN 'score'
                WHEN a % 100 < 90 THEN 'draft' ELSE 'reply' END AS stage,
           CAST(g.span * (0.5 * q + 0.5 * q * q) AS INTEGER) + (d >> 12) % 300 AS age
    FROM (SELECT r.*, 1.0 - (r.n - 0.5) / g.n_llm AS q FROM r, g WHERE r.n <= g.n_llm) AS r, g
  )
)
ORDER BY n;

-- ------------------------------------------------------------------ errors
-- Errors older than two days are mostly resolved; recent ones mostly not.
INSERT INTO errors (id, site_id, stage, kind, http_code, message, resolved, created_at)
SELECT n, site_id,
       CASE kind WHEN 'llm' THEN CASE WHEN c % 3 < 2 THEN 'analyze' ELSE 'reply' END
                 WHEN 'parse' THEN 'analyze'
                 ELSE CASE WHEN c % 10 < 7 THEN 'discover' ELSE 'outreach' END END,
       kind, code,
       CASE kind WHEN 'http' THEN printf('HTTP %d fetching https://site-%d/', code, site_id)
                 WHEN 'timeout' THEN printf('timed out after %d s', 10 + b % 50)
                 WHEN 'dns' THEN printf('no address for site-%d', site_id)
                 WHEN 'ssl' THEN 'certificate verify failed'
                 WHEN 'parse' THEN 'could not find contact details'
                 ELSE printf('LLM API error %s', coalesce(code, 'overloaded')) END,
       CASE WHEN age > 2 * 86400 THEN d % 100 < 94 ELSE d % 100 < 35 END,
       datetime(e - age, 'unixepoch')
FROM (
  SELECT *, CASE kind WHEN 'http' THEN CASE WHEN b % 100 < 25 THEN 403 WHEN b % 100 < 55 THEN 404
                                            WHEN b % 100 < 70 THEN 429 WHEN b % 100 < 85 THEN 500
                                            WHEN b % 100 < 93 THEN 502 ELSE 503 END
                      WHEN 'llm' THEN CASE b % 3 WHEN 0 THEN 429 WHEN 1 THEN 500 END END AS code
  FROM (
    SELECT r.n, a, b, c, d, g.e,
           1 + (c % g.n_sites) AS site_id,
           CASE WHEN a % 100 < 55 THEN 'http' WHEN a % 100 < 70 THEN 'timeout'
                WHEN a % 100 < 78 THEN 'dns' WHEN a % 100 < 85 THEN 'ssl'
                WHEN a % 100 < 95 THEN 'parse' ELSE 'llm' END AS kind,
           CAST(g.span * (0.5 * q + 0.5 * q * q) AS INTEGER) + (d >> 12) % 300 AS age
    FROM (SELECT r.*, 1.0 - (r.n - 0.5) / g.n_errors AS q FROM r, g WHERE r.n <= g.n_errors) AS r, g
  )
)
ORDER BY n;

-- ------------------------------------------------------------------ cron job logs
-- 30 days of runs of each scheduled job, from midnight 30 days before ref.
-- (name, interval s, mean duration s, failures per mille, offset s from midnight)
INSERT INTO cron_job_logs (job_name, started_at, finished_at, status, items_processed, error_message)
WITH RECURSIVE
  jobs(j, name, every, dur, fail, off) AS (VALUES
    (1,  'discover_sites',       900,   120, 30, 60),
    (2,  'analyze_sites',        600,    90, 20, 120),
    (3,  'score_sites',          1800,   45, 10, 300),
    (4,  'send_outreach',        1800,   60, 40, 420),
    (5,  'sync_inbox',           900,    15, 20, 30),
    (6,  'draft_replies',        1800,   80, 30, 600),
    (7,  'llm_budget_check',     3600,    5,  0, 900),
    (8,  'precompute_dashboard', 600,     3, 10, 0),
    (9,  'refresh_exclusions',   86400,  30,  0, 7200),
    (10, 'backup_database',      86400, 400, 50, 10800),
    (11, 'cleanup_logs',         86400,  60, 10, 14400),
    (12, 'crawl_sitemaps',       3600, 1500, 20, 2400)),
  k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < 31 * 144),
  runs AS (
    SELECT j, name, fail, t, e,
           CAST(dur * (50 + r.b % 100) / 100 AS INTEGER) + 1 AS took, r.a, r.c, r.d
    FROM (SELECT jobs.*, k.k, g.e,
                 day0 + off + k.k * every + (k.k * 7 + j) % 45 AS t
          FROM jobs, k, g,
               (SELECT (e - 30 * 86400) - (e - 30 * 86400) % 86400 AS day0 FROM g)) AS x
    JOIN r ON r.n = x.k * 12 + x.j
    WHERE t <= e)
SELECT name, datetime(t, 'unixepoch'),
       CASE WHEN t + took > e THEN NULL ELSE datetime(t + took, 'unixepoch') END,
       CASE WHEN t + took > e THEN 'running' WHEN c % 1000 < fail THEN 'failed' ELSE 'success' END,
       CASE WHEN t + took > e OR c % 1000 < fail THEN 0 ELSE d % 200 END,
       CASE WHEN t + took <= e AND c % 1000 < fail
            THEN CASE a % 3 WHEN 0 THEN 'database is locked' WHEN 1 THEN 'timeout after 300s'
                            ELSE 'upstream returned HTTP 503' END END
FROM runs
ORDER BY t, j;

-- ------------------------------------------------------------------ system metrics
-- A sample every five minutes for 30 days: CPU follows the working day,
-- memory creeps up between weekly restarts, the disk fills slowly and log
-- rotation takes back a little every midnight.
INSERT INTO system_metrics (sampled_at, cpu_pct, memory_pct, disk_pct, load_1m)
WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < 30 * 288)
SELECT datetime(t, 'unixepoch'), cpu,
       round(42 + 25 * ((t % 604800) / 604800.0) + (c % 500) / 100.0, 1),
       round(58 + 14 * ((t - t0) / (30 * 86400.0)) + 3 * ((t % 86400) / 86400.0) + (d % 30) / 100.0, 2),
       round(cpu / 25 + ((a >> 16) % 50) / 100.0, 2)
FROM (
  SELECT t, t0, a, c, d,
         round(min(100.0, 12 + 38 * max(0.0, 1 - abs((t % 86400) / 3600.0 - 14) / 7)
                           + (a % 1500) / 100.0 + CASE WHEN b % 200 = 0 THEN 45 ELSE 0 END), 1) AS cpu
  FROM (SELECT k.k, g.e - 30 * 86400 AS t0, g.e - 30 * 86400 + 300 * k.k AS t FROM k, g) AS x
  JOIN r ON r.n = x.k + 1
)
ORDER BY t;

DROP TABLE r;
DROP TABLE g;
COMMIT;

-- Statistics for the query planner, as a production database would have.
ANALYZE;
