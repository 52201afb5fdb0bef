/*
 * engine.c — the engine interface's front: which engine a --db string
 * selects, and the ds_db_* / ds_exec_* / ds_writer_* / ds_cache_* / ds_plan_*
 * functions the compiler, the runtime and the CLI call, each one indirect
 * call through the connection's ds_engine (engine/engine.h). Also the
 * engine-neutral pieces of the interface (ds_db_exec_dir's directory walk,
 * ds_describe_free).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ds_compiler.h"
#include "engine.h"

/* ---------------------------------------------------------------- selection */

/* libpq's conninfo keywords that start a "key=value ..." string. */
static const char *const pg_keywords[] = {
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "service",
    "sslmode", "connect_timeout", "application_name", "options", "target_session_attrs", NULL
};

int ds_engine_is_postgres(const char *t)
{
    if (!t) return 0;
    if (strncmp(t, "postgres://", 11) == 0 || strncmp(t, "postgresql://", 13) == 0) return 1;
    while (isspace((unsigned char)*t)) t++;
    size_t n = 0;
    while (t[n] && (isalnum((unsigned char)t[n]) || t[n] == '_')) n++;
    size_t e = n;
    while (t[e] == ' ' || t[e] == '\t') e++;
    if (n == 0 || t[e] != '=') return 0;
    for (const char *const *k = pg_keywords; *k; k++)
        if (strlen(*k) == n && strncmp(*k, t, n) == 0) return 1;
    return 0;
}

const ds_engine *ds_engine_for(const char *target, ds_diag *d)
{
    (void)d;
    return ds_engine_is_postgres(target) ? &ds_postgres_engine : &ds_sqlite_engine;
}

const char *ds_engine_missing(const ds_engine *e)
{
    if (!e->name) return "name";
    if (!e->accepts) return "accepts";
    if (!e->configure) return "configure";
    if (!e->default_busy_timeout) return "default_busy_timeout";
    if (!e->open) return "open";
    if (!e->close) return "close";
    if (!e->target) return "target";
    if (!e->busy_timeout) return "busy_timeout";
    if (!e->lock) return "lock";
    if (!e->unlock) return "unlock";
    if (!e->migrate) return "migrate";
    if (!e->migrated) return "migrated";
    if (!e->exec_script) return "exec_script";
    if (!e->describe) return "describe";
    if (!e->full_scans) return "full_scans";
    if (!e->table_exists) return "table_exists";
    if (!e->table_rows) return "table_rows";
    if (!e->column_exists) return "column_exists";
    if (!e->plan_store) return "plan_store";
    if (!e->plan_load) return "plan_load";
    if (!e->state_load) return "state_load";
    if (!e->source_open) return "source_open";
    if (!e->source_close) return "source_close";
    if (!e->source_busy_timeout) return "source_busy_timeout";
    if (!e->source_cancel_on) return "source_cancel_on";
    if (!e->exec_item) return "exec_item";
    if (!e->writer_open) return "writer_open";
    if (!e->writer_close) return "writer_close";
    if (!e->writer_concurrent) return "writer_concurrent";
    if (!e->put) return "put";
    if (!e->fail) return "fail";
    if (!e->batch_begin) return "batch_begin";
    if (!e->batch_commit) return "batch_commit";
    if (!e->batch_abort) return "batch_abort";
    if (!e->record_run) return "record_run";
    if (!e->data_version) return "data_version";
    if (!e->claim) return "claim";
    if (!e->plan_fingerprint) return "plan_fingerprint";
    if (!e->snapshot_begin) return "snapshot_begin";
    if (!e->snapshot_end) return "snapshot_end";
    if (!e->cache_get) return "cache_get";
    if (!e->cache_scan) return "cache_scan";
    if (!e->cache_clear) return "cache_clear";
    if (!e->explain) return "explain";
    if (!e->history_load) return "history_load";
    if (!e->history_totals) return "history_totals";
    if (!e->errmsg) return "errmsg";
    return NULL;
}

/* ---------------------------------------------------------------- store connections */

int ds_db_open(const char *target, int mode, ds_db **out, ds_diag *d)
{
    *out = NULL;
    const ds_engine *e = ds_engine_for(target, d);
    if (!e) return -1;
    return e->open(target, mode, out, d);
}

void ds_db_close(ds_db *db)
{
    if (db) db->eng->close(db);
}

const char *ds_db_path(const ds_db *db) { return db->eng->target(db); }

void ds_db_busy_timeout(ds_db *db, int64_t ms) { db->eng->busy_timeout(db, ms); }

void ds_db_default_busy_timeout(const char *target, int64_t ms)
{
    const ds_engine *e = ds_engine_is_postgres(target) ? NULL : &ds_sqlite_engine;
    if (e && e->default_busy_timeout) e->default_busy_timeout(ms);
}

int ds_db_lock(const char *target, ds_lock **out, ds_diag *d)
{
    *out = NULL;
    const ds_engine *e = ds_engine_for(target, d);
    if (!e) return -2;
    return e->lock(target, out, d);
}

void ds_db_unlock(ds_lock *l)
{
    if (l) l->eng->unlock(l);
}

int ds_db_migrate(ds_db *db, ds_diag *d) { return db->eng->migrate(db, d); }

int ds_db_migrated(ds_db *db) { return db->eng->migrated(db); }

int ds_db_exec_script(ds_db *db, const char *name, const char *sql, ds_diag *d)
{
    return db->eng->exec_script(db, name, sql, d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ds_db_exec_dir(ds_db *db, const char *dir, ds_diag *d)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        ds_fail(d, DS_USAGE, "cannot read migrations directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = realloc(names, cap * sizeof *v);
            if (!v) { rc = ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
            names = v;
        }
        if (!(names[n] = ds_asprintf("%s/%s", dir, e->d_name))) { rc = ds_fail(d, DS_DBERROR, "out of memory"); goto out; }
        n++;
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len;
        char *sql = ds_read_file(names[i], &len);
        if (!sql) {
            rc = ds_fail(d, DS_USAGE, "cannot read '%s': %s", names[i], strerror(errno));
            break;
        }
        rc = ds_db_exec_script(db, names[i], sql, d);
        free(sql);
    }
out:
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    closedir(dp);
    return rc;
}

/* ---------------------------------------------------------------- plan and state */

int ds_plan_store(ds_db *db, const ds_plan *p, int *changed, ds_diag *d)
{
    return db->eng->plan_store(db, p, changed, d);
}

int ds_plan_load(ds_db *db, ds_plan *out, ds_diag *d)
{
    return db->eng->plan_load(db, out, d);
}


int ds_state_load(ds_db *db, const ds_plan *p, ds_item_state *st, ds_diag *d)
{
    return db->eng->state_load(db, p, st, d);
}

/* ---------------------------------------------------------------- sources */

void ds_exec_configure(const char *target)
{
    const ds_engine *e = ds_engine_is_postgres(target) ? NULL : &ds_sqlite_engine;
    if (e && e->configure) e->configure();
}

ds_exec *ds_exec_new(const char *target, ds_diag *d)
{
    const ds_engine *e = ds_engine_for(target, d);
    return e ? e->source_open(target, d) : NULL;
}

ds_exec *ds_exec_new_isolated(const char *target, ds_diag *d)
{
    const ds_engine *e = ds_engine_for(target, d);
    if (!e) return NULL;
    return e->source_open_isolated ? e->source_open_isolated(target, d) : e->source_open(target, d);
}

void ds_exec_free(ds_exec *x)
{
    if (x) x->eng->source_close(x);
}

void ds_exec_busy_timeout(ds_exec *x, int64_t ms) { x->eng->source_busy_timeout(x, ms); }

void ds_exec_cancel_on(ds_exec *x, const volatile sig_atomic_t *sig, const atomic_int *flag)
{
    x->eng->source_cancel_on(x, sig, flag);
}

int ds_exec_item(ds_exec *x, const ds_item *it, int64_t now, ds_result *out, char **err)
{
    return x->eng->exec_item(x, it, now, out, err);
}

int ds_cache_can_confirm(const ds_writer *w) { return w->eng->confirm != NULL; }

int ds_cache_confirm(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
                     int64_t wait_ms, char **err, ds_diag *d)
{
    if (!w->eng->confirm) {
        *err = ds_strdup("this engine cannot confirm values");
        return DS_W_ITEM;
    }
    return w->eng->confirm(w, it, r, now, wait_ms, err, d);
}

void ds_result_free(ds_result *r)
{
    if (!r) return;
    free(r->json);
    free(r->key_value);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- the writer */

ds_writer *ds_writer_new(ds_db *db, ds_diag *d) { return db->eng->writer_open(db, d); }

void ds_writer_free(ds_writer *w)
{
    if (w) w->eng->writer_close(w);
}

int ds_writer_wal(const ds_writer *w) { return w->eng->writer_concurrent(w); }

int ds_cache_put(ds_writer *w, const ds_item *it, const ds_result *r, int64_t now,
                 int64_t wait_ms, char **err, ds_diag *d)
{
    return w->eng->put(w, it, r, now, wait_ms, err, d);
}

int ds_cache_fail(ds_writer *w, const ds_item *it, int64_t prev_failures, const char *error,
                  int64_t now, int64_t wait_ms, char **err, ds_diag *d)
{
    return ds_cache_fail_timed(w, it, prev_failures, error, -1, now, wait_ms, err, d);
}

int ds_cache_fail_timed(ds_writer *w, const ds_item *it, int64_t prev_failures, const char *error,
                        int64_t duration_ms, int64_t now, int64_t wait_ms, char **err, ds_diag *d)
{
    int64_t failures = prev_failures < 0 ? 1 : prev_failures + 1;
    /* The same backoff ds_due applies: 1, 2, 4 ... minutes, capped at refresh. */
    int64_t delay = failures - 1 >= 40 ? it->refresh : (int64_t)60 << (failures - 1);
    if (delay > it->refresh) delay = it->refresh;
    if (delay < 0) delay = 0;
    int64_t next = now > INT64_MAX - delay ? INT64_MAX : now + delay;
    return w->eng->fail(w, it, failures, error, duration_ms, now, next, wait_ms, err, d);
}

int ds_cache_batch_begin(ds_writer *w, int64_t wait_ms) { return w->eng->batch_begin(w, wait_ms); }

int ds_cache_batch_commit(ds_writer *w) { return w->eng->batch_commit(w); }

void ds_cache_batch_abort(ds_writer *w) { w->eng->batch_abort(w); }

int ds_cache_record_run(ds_writer *w, const ds_run_record *rec, int64_t wait_ms, char **err, ds_diag *d)
{
    return w->eng->record_run(w, rec, wait_ms, err, d);
}

int ds_cache_data_version(ds_writer *w, int64_t *v) { return w->eng->data_version(w, v); }

int ds_cache_claim(ds_writer *w, const ds_item *it, const ds_item_state *st, int64_t now, ds_diag *d)
{
    int64_t t = it->timeout > 0 && it->timeout < 100LL * 366 * 86400 ? it->timeout : 0;
    return w->eng->claim(w, it, st, now, now + t + DS_LEASE_MARGIN_S, d);
}

int ds_cache_release(ds_writer *w, const ds_item *it, ds_diag *d)
{
    return w->eng->release ? w->eng->release(w, it, d) : 0;
}

int ds_cache_claims_each(const ds_writer *w) { return w->eng->claims_each; }

int ds_cache_plan_fingerprint(ds_writer *w, uint64_t *fp) { return w->eng->plan_fingerprint(w, fp); }

/* ---------------------------------------------------------------- describe and lint */

int ds_sql_describe(ds_db *db, const char *query, ds_describe *out)
{
    return db->eng->describe(db, query, out);
}

int ds_db_full_scans(ds_db *db, const char *query, char ***names, size_t *n)
{
    return db->eng->full_scans(db, query, names, n);
}

int ds_db_table_exists(ds_db *db, const char *name) { return db->eng->table_exists(db, name); }

int64_t ds_db_table_rows(ds_db *db, const char *table) { return db->eng->table_rows(db, table); }

int ds_db_column_exists(ds_db *db, const char *table, const char *column)
{
    return db->eng->column_exists(db, table, column);
}

/* Optional (not in ds_engine_missing): only a hint depends on it. */
int ds_db_schema_names(ds_db *db, const char *table, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    return db->eng->schema_names ? db->eng->schema_names(db, table, names, n) : 0;
}

void ds_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
}


void ds_describe_free(ds_describe *x)
{
    if (!x) return;
    free(x->error);
    for (int i = 0; x->params && i < x->nparams; i++) free(x->params[i]);
    free(x->params);
    for (int i = 0; x->cols && i < x->ncols; i++) free(x->cols[i]);
    free(x->cols);
    memset(x, 0, sizeof *x);
}

/* ---------------------------------------------------------------- history */

int ds_history_load(ds_db *db, int64_t from, int64_t to, ds_history *h, ds_diag *d)
{
    memset(h, 0, sizeof *h);
    int rc = db->eng->history_load(db, from, to, h, d);
    if (rc) ds_history_free(h);
    return rc;
}

int ds_history_totals(ds_db *db, ds_hist_totals *out, ds_diag *d)
{
    memset(out, 0, sizeof *out);
    int rc = db->eng->history_totals(db, out, d);
    if (rc) ds_hist_totals_free(out);
    return rc;
}
