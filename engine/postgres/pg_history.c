/*
 * pg_history.c — the PostgreSQL engine's history_load and history_totals
 * (engine/engine.h, runtime/ds_history.h): dashspec_history and
 * dashspec_runs read back into the plain C structs that stats, report and
 * `status --format prometheus` use. The writes are in pg_writer.c, in the
 * same statement as each value or failure.
 *
 * As on SQLite, a database without the tables (migration 002 not applied)
 * reads as an empty history, never as an error. Each operation is one
 * snapshot: the statements run in one REPEATABLE READ transaction unless the
 * caller's snapshot (snapshot_begin) is already open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_history.h"
#include "pg_int.h"

/* Runs sql; a missing table gives *out = NULL and 0. -1 on any other error
 * (reported in d). */
static int query(pg_db *db, const char *sql, int n, const char *const *vals, PGresult **out, ds_diag *d)
{
    PGresult *r = ds_pgq(db->c, sql, n, vals);
    *out = NULL;
    if (ds_pgq_ok(r)) { *out = r; return 0; }
    if (r && ds_pgq_no_table(r)) { PQclear(r); return 0; }
    ds_pgq_fail(db, r, "cannot read database", d);
    PQclear(r);
    return -1;
}

/* BEGIN ... when the connection is idle; returns whether it began one. */
static int begin_own(pg_db *db)
{
    if (PQtransactionStatus(db->c) != PQTRANS_IDLE) return 0;
    PGresult *r = ds_pgq(db->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
    int ok = ds_pgq_ok(r);
    PQclear(r);
    return ok;
}

static void end_own(pg_db *db, int own)
{
    if (!own) return;
    PGresult *r = ds_pgq(db->c, PQtransactionStatus(db->c) == PQTRANS_INERROR ? "ROLLBACK" : "COMMIT", 0, NULL);
    PQclear(r);
}

static int64_t int_or(const PGresult *r, int row, int col, int64_t null)
{
    return PQgetisnull(r, row, col) ? null : ds_pgq_int(r, row, col);
}

static int load_attempts(pg_db *db, int64_t from, int64_t to, ds_history *h, ds_diag *d)
{
    char f[24], t[24];
    snprintf(f, sizeof f, "%lld", (long long)from);
    snprintf(t, sizeof t, "%lld", (long long)to);
    const char *vals[2] = {f, t};
    PGresult *r;
    if (query(db, "SELECT at, cache_key, ok, duration_ms, entries, bytes, expires_at, error "
                  "FROM dashspec_history WHERE at <= $2::bigint AND "
                  "(at >= $1::bigint OR (ok = 1 AND expires_at > $1::bigint)) ORDER BY at, id",
              2, vals, &r, d))
        return -1;
    if (!r) return 0;
    int n = PQntuples(r), oom = 0;
    if (n > 0 && !(h->a = calloc((size_t)n, sizeof *h->a))) oom = 1;
    for (int i = 0; i < n && !oom; i++) {
        ds_hist_attempt *a = &h->a[h->na];
        memset(a, 0, sizeof *a);
        a->key = ds_pgq_text(r, i, 1, &oom);
        if (!a->key) break;
        h->na++;
        a->at = ds_pgq_int(r, i, 0);
        a->ok = ds_pgq_int(r, i, 2) != 0;
        a->duration_ms = int_or(r, i, 3, -1);
        a->entries = int_or(r, i, 4, -1);
        a->bytes = int_or(r, i, 5, -1);
        a->expires_at = int_or(r, i, 6, 0);
        a->error = ds_pgq_text(r, i, 7, &oom);
    }
    PQclear(r);
    return oom ? ds_fail(d, DS_DBERROR, "out of memory") : 0;
}

static int load_runs(pg_db *db, int64_t from, int64_t to, ds_history *h, ds_diag *d)
{
    char f[24], t[24];
    snprintf(f, sizeof f, "%lld", (long long)from);
    snprintf(t, sizeof t, "%lld", (long long)to);
    const char *vals[2] = {f, t};
    PGresult *r;
    if (query(db, "SELECT extract(epoch FROM started_at)::bigint, extract(epoch FROM finished_at)::bigint, "
                  "duration_ms, items_run, items_ok, items_failed, skipped, status FROM dashspec_runs "
                  "WHERE started_at >= to_timestamp($1::bigint) AND started_at <= to_timestamp($2::bigint) "
                  "ORDER BY started_at, id",
              2, vals, &r, d))
        return -1;
    if (!r) return 0;
    int n = PQntuples(r);
    if (n > 0 && !(h->r = calloc((size_t)n, sizeof *h->r))) {
        PQclear(r);
        return ds_fail(d, DS_DBERROR, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        ds_hist_run *u = &h->r[h->nr++];
        memset(u, 0, sizeof *u);
        u->started_at = ds_pgq_int(r, i, 0);
        u->finished_at = ds_pgq_int(r, i, 1);
        u->duration_ms = ds_pgq_int(r, i, 2);
        u->items_run = ds_pgq_int(r, i, 3);
        u->items_ok = ds_pgq_int(r, i, 4);
        u->items_failed = ds_pgq_int(r, i, 5);
        u->skipped = ds_pgq_int(r, i, 6);
        snprintf(u->status, sizeof u->status, "%s", PQgetvalue(r, i, 7));
    }
    PQclear(r);
    return 0;
}

int ds_pg_history_load(ds_db *base, int64_t from, int64_t to, ds_history *h, ds_diag *d)
{
    pg_db *db = (pg_db *)base;
    int own = begin_own(db);
    int rc = load_attempts(db, from, to, h, d) || load_runs(db, from, to, h, d) ? -1 : 0;
    end_own(db, own);
    return rc;
}

static int load_totals(pg_db *db, ds_hist_totals *o, ds_diag *d)
{
    PGresult *r;
    if (query(db, "SELECT cache_key, count(*), sum(CASE WHEN ok = 0 THEN 1 ELSE 0 END) "
                  "FROM dashspec_history GROUP BY cache_key ORDER BY cache_key", 0, NULL, &r, d))
        return -1;
    int oom = 0;
    if (r) {
        int n = PQntuples(r);
        if (n > 0 && !(o->t = calloc((size_t)n, sizeof *o->t))) oom = 1;
        for (int i = 0; i < n && !oom; i++) {
            ds_hist_total *t = &o->t[o->n];
            if (!(t->key = ds_pgq_text(r, i, 0, &oom))) break;
            o->n++;
            t->attempts = ds_pgq_int(r, i, 1);
            t->failures = ds_pgq_int(r, i, 2);
        }
        PQclear(r);
    }
    if (oom) return ds_fail(d, DS_DBERROR, "out of memory");
    if (query(db, "SELECT extract(epoch FROM started_at)::bigint, extract(epoch FROM finished_at)::bigint, "
                  "(SELECT count(*) FROM dashspec_runs) FROM dashspec_runs ORDER BY id DESC LIMIT 1",
              0, NULL, &r, d))
        return -1;
    if (r && PQntuples(r) == 1) {
        o->last_run_started = ds_pgq_int(r, 0, 0);
        o->last_run_finished = ds_pgq_int(r, 0, 1);
        o->runs = ds_pgq_int(r, 0, 2);
    }
    PQclear(r);
    return 0;
}

int ds_pg_history_totals(ds_db *base, ds_hist_totals *out, ds_diag *d)
{
    pg_db *db = (pg_db *)base;
    int own = begin_own(db);
    int rc = load_totals(db, out, d);
    end_own(db, own);
    return rc;
}
