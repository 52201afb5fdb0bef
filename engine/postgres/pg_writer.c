/*
 * pg_writer.c — the PostgreSQL engine's writer (engine/engine.h: writer_*,
 * put, confirm, fail, batches, record_run, data_version, plan_fingerprint). Each put
 * or fail is one statement (data-modifying CTEs: dashboard_cache,
 * dashspec_state and dashspec_history together), so it is atomic without a
 * transaction of its own and costs one round trip. A value never replaces a
 * newer one: the cache upsert only updates a row whose created_at is not
 * later than the new value's, and the state row likewise; several runners
 * may therefore write the same key in any order. Writing releases the item's
 * lease (runner_id, lease_until) and records last_runner; an older value,
 * which leaves the state row alone, still releases this runner's lease (a
 * second statement, in that case only). A put stores the refresh_key's
 * result with the value and last_full (incremental); a confirm (refresh_key
 * unchanged) moves only the expiry, under guards that make it a no-op when
 * another runner's newer write got there first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ds_runtime.h"
#include "pg_int.h"

typedef struct pg_writer {
    ds_writer base;             /* base.eng == &ds_postgres_engine */
    pg_db *db;                  /* not owned */
    int in_batch;
    int64_t version;            /* data_version: advances on every call */
    char runner[128];           /* host:pid:random */
} pg_writer;

static const char sql_put[] =
    "WITH c AS (INSERT INTO dashboard_cache (cache_key, cache_value, created_at, expires_at)"
    " VALUES ($1, $2, to_timestamp($3::bigint), to_timestamp($4::bigint))"
    " ON CONFLICT (cache_key) DO UPDATE SET cache_value = excluded.cache_value,"
    " created_at = excluded.created_at, expires_at = excluded.expires_at"
    " WHERE dashboard_cache.created_at <= excluded.created_at RETURNING 1),"
    " s AS (INSERT INTO dashspec_state (cache_key, last_attempt, last_success, last_duration_ms, entries,"
    " last_error, failures, next_attempt, spec_hash, value_bytes, runner_id, lease_until, last_runner,"
    " refresh_key_value, confirmed_at, last_full)"
    " VALUES ($1, to_timestamp($3::bigint), to_timestamp($3::bigint), $5::bigint, $6::bigint, NULL, 0,"
    " to_timestamp($7::bigint), $8, $9::bigint, NULL, NULL, $10, $11, NULL, to_timestamp($12::bigint))"
    " ON CONFLICT (cache_key) DO UPDATE SET last_attempt = excluded.last_attempt,"
    " last_success = excluded.last_success, last_duration_ms = excluded.last_duration_ms,"
    " entries = excluded.entries, last_error = NULL, failures = 0, next_attempt = excluded.next_attempt,"
    " spec_hash = excluded.spec_hash, value_bytes = excluded.value_bytes, runner_id = NULL,"
    " lease_until = NULL, last_runner = excluded.last_runner,"
    " refresh_key_value = excluded.refresh_key_value, confirmed_at = NULL,"
    " last_full = coalesce(excluded.last_full, dashspec_state.last_full)"
    " WHERE dashspec_state.last_success IS NULL OR dashspec_state.last_success <= excluded.last_success"
    " RETURNING 1)"
    " INSERT INTO dashspec_history (at, cache_key, ok, duration_ms, entries, bytes, expires_at, error, runner_id)"
    " VALUES ($3::bigint, $1, 1, $5::bigint, $6::bigint, $9::bigint, $4::bigint, NULL, $10)"
    " RETURNING (SELECT count(*) FROM s)";

/* After a put whose value was older than the stored one (the state row was
 * left as it was): this runner's lease on the key still goes. */
static const char sql_release[] =
    "UPDATE dashspec_state SET runner_id = NULL, lease_until = NULL WHERE cache_key = $1 AND runner_id = $2";

/* refresh_key: the state first, under the guards (ds_pg_confirm's
 * contract, pg_int.h), then the cache row's expiry only when the state
 * took it. The state's row lock orders a confirm against a put of another
 * runner; READ COMMITTED rechecks the guards on the row a put just wrote. */
static const char sql_confirm[] =
    "WITH s AS (UPDATE dashspec_state SET last_attempt = to_timestamp($2::bigint),"
    " last_success = to_timestamp($2::bigint), confirmed_at = to_timestamp($2::bigint),"
    " last_duration_ms = $3::bigint, failures = 0, last_error = NULL, next_attempt = to_timestamp($4::bigint),"
    " runner_id = NULL, lease_until = NULL"
    " WHERE cache_key = $1 AND refresh_key_value = $6"
    " AND (runner_id IS NULL OR runner_id = $7 OR lease_until IS NULL OR lease_until <= to_timestamp($2::bigint))"
    " AND (last_success IS NULL OR last_success <= to_timestamp($2::bigint)) RETURNING 1)"
    " UPDATE dashboard_cache SET expires_at = to_timestamp($5::bigint)"
    " WHERE cache_key = $1 AND created_at <= to_timestamp($2::bigint) AND EXISTS (SELECT 1 FROM s)";

static const char sql_fail[] =
    "WITH s AS (INSERT INTO dashspec_state (cache_key, last_attempt, last_error, failures, next_attempt,"
    " last_duration_ms, runner_id, lease_until) VALUES ($1, to_timestamp($2::bigint), $3, $4::integer,"
    " to_timestamp($5::bigint), $6::bigint, NULL, NULL) ON CONFLICT (cache_key) DO UPDATE SET"
    " last_attempt = excluded.last_attempt, last_error = excluded.last_error, failures = excluded.failures,"
    " next_attempt = excluded.next_attempt,"
    " last_duration_ms = coalesce(excluded.last_duration_ms, dashspec_state.last_duration_ms),"
    " runner_id = NULL, lease_until = NULL RETURNING 1)"
    " INSERT INTO dashspec_history (at, cache_key, ok, duration_ms, error, runner_id)"
    " VALUES ($2::bigint, $1, 0, $6::bigint, substr($3, 1, 200), $7)";

static const char sql_run[] =
    "WITH ins AS (INSERT INTO dashspec_runs (started_at, finished_at, status, items_run, items_ok,"
    " items_failed, skipped, entries, duration_ms, summary, runner_id) VALUES (to_timestamp($1::bigint),"
    " to_timestamp($2::bigint), $3, $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8::bigint, $9::bigint,"
    " $10, $11) RETURNING id)"
    " DELETE FROM dashspec_runs WHERE id <= (SELECT id FROM ins) - coalesce((SELECT value FROM"
    " dashspec_settings WHERE name = 'keep_runs' AND value > 0), $12::bigint)";

ds_writer *ds_pg_writer_open(ds_db *db, ds_diag *d)
{
    pg_writer *w = calloc(1, sizeof *w);
    if (!w) {
        ds_fail(d, DS_DBERROR, "out of memory");
        return NULL;
    }
    w->base.eng = &ds_postgres_engine;
    w->db = (pg_db *)db;
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned rnd = (unsigned)(ts.tv_nsec ^ ((unsigned)getpid() << 16)) * 2654435761u;
    snprintf(w->runner, sizeof w->runner, "%s:%ld:%08x", host, (long)getpid(), rnd);
    return &w->base;
}

void ds_pg_writer_close(ds_writer *b)
{
    pg_writer *w = (pg_writer *)b;
    if (!w) return;
    if (w->in_batch) ds_pg_rollback(w->db->c);
    free(w);
}

int ds_pg_writer_concurrent(const ds_writer *w)
{
    (void)w;
    return 1;           /* MVCC: readers never block a commit */
}

/* The result kind of a failed write: the database's trouble stops the run,
 * a lock wait or a value the row refuses fails the item. */
static int classify(pg_writer *w, const PGresult *r, char **err, ds_diag *d)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char *m = ds_pg_result_error(w->db->c, r);
    int kind = DS_W_DB;
    if (PQstatus(w->db->c) == CONNECTION_OK && st) {
        if (strcmp(st, "55P03") == 0 || strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) kind = DS_W_BUSY;
        else if (strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0 || strcmp(st, "54000") == 0) kind = DS_W_ITEM;
    }
    if (kind == DS_W_DB) {
        ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", w->db->target, m ? m : "out of memory");
        free(m);
    } else {
        *err = m ? m : ds_strdup("out of memory");
    }
    return kind;
}

static int run(pg_writer *w, const char *sql, int n, const char *const *v, char **err, ds_diag *d)
{
    w->version++;
    PGresult *r = ds_pgq(w->db->c, sql, n, v);
    int rc = ds_pgq_ok(r) ? DS_W_OK : classify(w, r, err, d);
    PQclear(r);
    return rc;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int ds_pg_put(ds_writer *b, const ds_item *it, const ds_result *r, int64_t now,
              int64_t wait_ms, char **err, ds_diag *d)
{
    pg_writer *w = (pg_writer *)b;
    (void)wait_ms;
    char n[6][24];
    snprintf(n[0], 24, "%lld", (long long)now);
    snprintf(n[1], 24, "%lld", (long long)add_sat(now, it->ttl));
    snprintf(n[2], 24, "%lld", (long long)r->duration_ms);
    snprintf(n[3], 24, "%lld", (long long)r->entries);
    snprintf(n[4], 24, "%lld", (long long)add_sat(now, it->refresh));
    snprintf(n[5], 24, "%lld", (long long)r->len);
    /* last_full: now for a full compute, else NULL (the stored one stays) */
    const char *v[12] = {it->key, r->json, n[0], n[1], n[2], n[3], n[4], it->hash, n[5], w->runner,
                         r->key_value, r->full ? n[0] : NULL};
    w->version++;
    PGresult *q = ds_pgq(w->db->c, sql_put, 12, v);
    if (!ds_pgq_ok(q)) {
        int rc = classify(w, q, err, d);
        PQclear(q);
        return rc;
    }
    int newer = PQntuples(q) == 1 && strcmp(PQgetvalue(q, 0, 0), "0") != 0;
    PQclear(q);
    if (newer) return DS_W_OK;
    const char *rv[2] = {it->key, w->runner};
    return run(w, sql_release, 2, rv, err, d);
}

int ds_pg_confirm(ds_writer *b, const ds_item *it, const ds_result *r, int64_t now,
                  int64_t wait_ms, char **err, ds_diag *d)
{
    pg_writer *w = (pg_writer *)b;
    (void)wait_ms;
    if (!r->key_value) {        /* nothing to compare with: never confirm blindly */
        *err = ds_strdup("a confirmation needs the refresh_key's result");
        return DS_W_ITEM;
    }
    char n[4][24];
    snprintf(n[0], 24, "%lld", (long long)now);
    snprintf(n[1], 24, "%lld", (long long)r->duration_ms);
    snprintf(n[2], 24, "%lld", (long long)add_sat(now, it->refresh));
    snprintf(n[3], 24, "%lld", (long long)add_sat(now, it->ttl));
    const char *v[7] = {it->key, n[0], n[1], n[2], n[3], r->key_value, w->runner};
    int rc = run(w, sql_confirm, 7, v, err, d);
    if (rc != DS_W_OK) return rc;
    /* A refused confirmation (a newer write got there first) still ends this
     * runner's lease, as a put would: others need not wait for its expiry. */
    const char *lv[2] = {it->key, w->runner};
    return run(w, sql_release, 2, lv, err, d);
}

int ds_pg_fail_item(ds_writer *b, const ds_item *it, int64_t failures, const char *error,
                    int64_t duration_ms, int64_t now, int64_t next_attempt, int64_t wait_ms,
                    char **err, ds_diag *d)
{
    pg_writer *w = (pg_writer *)b;
    (void)wait_ms;
    char n[4][24];
    snprintf(n[0], 24, "%lld", (long long)now);
    snprintf(n[1], 24, "%lld", (long long)failures);
    snprintf(n[2], 24, "%lld", (long long)next_attempt);
    snprintf(n[3], 24, "%lld", (long long)duration_ms);
    const char *v[7] = {it->key, n[0], error ? error : "unknown error", n[1], n[2],
                        duration_ms >= 0 ? n[3] : NULL, w->runner};
    return run(w, sql_fail, 7, v, err, d);
}

int ds_pg_batch_begin(ds_writer *b, int64_t wait_ms)
{
    pg_writer *w = (pg_writer *)b;
    (void)wait_ms;
    PGresult *r = PQexec(w->db->c, "BEGIN");
    int ok = ds_pgq_ok(r);
    PQclear(r);
    w->in_batch = ok;
    return ok ? DS_W_OK : DS_W_BUSY;
}

int ds_pg_batch_commit(ds_writer *b)
{
    pg_writer *w = (pg_writer *)b;
    PGresult *r = PQexec(w->db->c, "COMMIT");
    int ok = ds_pgq_ok(r) && PQtransactionStatus(w->db->c) == PQTRANS_IDLE;
    PQclear(r);
    w->in_batch = 0;
    ds_pg_rollback(w->db->c);
    return ok ? DS_W_OK : DS_W_BUSY;
}

void ds_pg_batch_abort(ds_writer *b)
{
    pg_writer *w = (pg_writer *)b;
    ds_pg_rollback(w->db->c);
    w->in_batch = 0;
}

int ds_pg_record_run(ds_writer *b, const ds_run_record *rec, int64_t wait_ms, char **err, ds_diag *d)
{
    pg_writer *w = (pg_writer *)b;
    (void)wait_ms;
    char n[10][24];
    int64_t nums[] = {rec->started_at, rec->finished_at, rec->items_run, rec->items_ok, rec->items_failed,
                      rec->skipped, rec->entries, rec->duration_ms, DS_RUNS_KEEP};
    for (int i = 0; i < 9; i++) snprintf(n[i], 24, "%lld", (long long)nums[i]);
    const char *v[12] = {n[0], n[1], rec->status, n[2], n[3], n[4], n[5], n[6], n[7],
                         rec->summary ? rec->summary : "{}", w->runner, n[8]};
    return run(w, sql_run, 12, v, err, d);
}

int ds_pg_data_version(ds_writer *b, int64_t *v)
{
    /* PostgreSQL has no counter of other connections' commits: report a
     * change every time, so --watch always rereads state (a few rows). */
    pg_writer *w = (pg_writer *)b;
    *v = ++w->version;
    return 0;
}

int ds_pg_plan_fingerprint(ds_writer *b, uint64_t *fp)
{
    pg_writer *w = (pg_writer *)b;
    PGresult *r = PQexec(w->db->c, "SELECT coalesce(left(md5(string_agg(p::text, '|' ORDER BY p.key"
                                   " COLLATE \"C\")), 16), '0') FROM dashspec_plan p");
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *fp = strtoull(PQgetvalue(r, 0, 0), NULL, 16);
        rc = 0;
    } else if (ds_pgq_no_table(r)) {
        *fp = 0;
        rc = 0;
    }
    PQclear(r);
    return rc;
}

/* The claim: the state row is taken when no live lease of another runner
 * holds it and nobody has written it since this runner read it: its xmin
 * (the row version, new with every update: another runner's claim, value
 * or failure) is still the one read. A timestamp would not do: two runners
 * with the same --now (--force, a stepped clock) see the same last_attempt
 * before and after the other's write. A key with no row when the state was
 * read gets one first (inserted when missing) and is taken only while
 * never attempted. SKIP LOCKED passes over a row another runner is claiming
 * at this instant. Each statement commits on its own. run claims each item
 * right before computing it, so a known key costs one round trip. */
static const char sql_claim_seen[] =
    "UPDATE dashspec_state SET runner_id = $2, lease_until = to_timestamp($3::bigint)"
    " WHERE cache_key = (SELECT cache_key FROM dashspec_state WHERE cache_key = $1"
    " AND (runner_id IS NULL OR lease_until IS NULL OR runner_id = $2"
    " OR lease_until <= to_timestamp($4::bigint)) AND xmin = $5::text::xid"
    " FOR UPDATE SKIP LOCKED) RETURNING 1";
static const char sql_claim_new[] =
    "UPDATE dashspec_state SET runner_id = $2, lease_until = to_timestamp($3::bigint)"
    " WHERE cache_key = (SELECT cache_key FROM dashspec_state WHERE cache_key = $1"
    " AND (runner_id IS NULL OR lease_until IS NULL OR runner_id = $2"
    " OR lease_until <= to_timestamp($4::bigint)) AND last_attempt IS NULL"
    " FOR UPDATE SKIP LOCKED) RETURNING 1";

int ds_pg_claim(ds_writer *b, const ds_item *it, const ds_item_state *st, int64_t now,
                int64_t lease_until, ds_diag *d)
{
    pg_writer *w = (pg_writer *)b;
    char n[3][24];
    snprintf(n[0], 24, "%lld", (long long)lease_until);
    snprintf(n[1], 24, "%lld", (long long)now);
    snprintf(n[2], 24, "%lld", (long long)st->row_version);
    const char *v[5] = {it->key, w->runner, n[0], n[1], n[2]};
    int seen = st->has_state && st->row_version > 0;
    PGresult *r;
    if (!seen) {
        r = ds_pgq(w->db->c, "INSERT INTO dashspec_state (cache_key, failures) VALUES ($1, 0)"
                             " ON CONFLICT (cache_key) DO NOTHING", 1, v);
        if (!ds_pgq_ok(r)) goto fail;
        PQclear(r);
    }
    r = ds_pgq(w->db->c, seen ? sql_claim_seen : sql_claim_new, seen ? 5 : 4, v);
    if (!ds_pgq_ok(r)) goto fail;
    int mine = PQntuples(r) == 1;
    PQclear(r);
    return mine;
fail:;
    char *m = ds_pg_result_error(w->db->c, r);      /* passwords removed */
    ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", w->db->target, m ? m : "out of memory");
    free(m);
    PQclear(r);
    return -1;
}

/* A signal interrupted the item's query: nothing is written, but the lease
 * goes at once (the same statement a put of an older value ends with). */
int ds_pg_release(ds_writer *b, const ds_item *it, ds_diag *d)
{
    pg_writer *w = (pg_writer *)b;
    const char *v[2] = {it->key, w->runner};
    w->version++;
    PGresult *r = ds_pgq(w->db->c, sql_release, 2, v);
    int ok = ds_pgq_ok(r);
    if (!ok) {
        char *m = ds_pg_result_error(w->db->c, r);
        ds_fail(d, DS_DBERROR, "cannot write database '%s': %s", w->db->target, m ? m : "out of memory");
        free(m);
    }
    PQclear(r);
    return ok ? 0 : -1;
}
