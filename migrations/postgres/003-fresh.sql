-- 003-fresh (PostgreSQL): what refresh_key and incremental need in
-- dashspec_state (docs/spec-reference.md). Mirrors
-- migrations/sqlite/003-fresh.sql, times as timestamptz. Idempotent:
--   psql -v ON_ERROR_STOP=1 -f migrations/postgres/003-fresh.sql "$DATABASE_URL"
--
--   refresh_key_value  the refresh_key's one-row result (JSON text) taken
--                      just before the value in dashboard_cache was computed
--   confirmed_at       when that value was last confirmed (key unchanged)
--                      instead of recomputed; NULL after a recompute
--   last_full          when the value was last computed in full (incremental)

ALTER TABLE dashspec_state ADD COLUMN IF NOT EXISTS refresh_key_value text;
ALTER TABLE dashspec_state ADD COLUMN IF NOT EXISTS confirmed_at timestamptz;
ALTER TABLE dashspec_state ADD COLUMN IF NOT EXISTS last_full timestamptz;

INSERT INTO dashspec_migrations (name, applied_at)
VALUES ('003-fresh', now())
ON CONFLICT (name) DO NOTHING;
