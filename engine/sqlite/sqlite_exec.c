/*
 * sqlite_exec.c — the SQLite engine's sources (engine/engine.h: source_open,
 * source_close, source_busy_timeout, source_cancel_on, exec_item): one
 * read-only connection that runs spec queries.
 *
 * Spec SQL cannot write: the connection is opened read-only (SQLite refuses
 * any write at the pager), and the read-only authorizer (ds_sqlite_authorizer)
 * refuses at prepare time anything but reads, functions and recursive CTEs.
 * Each query is prepared once per process (cached by key and SQL text),
 * bound by name (:name, @name, $name, and :now), limited in time by a
 * progress handler that checks a monotonic deadline, and limited in memory by
 * SQLITE_LIMIT_LENGTH, so `hex(zeroblob(400000000))` fails at once instead of
 * allocating. Rows go straight into the shaper; the statement is reset
 * whatever happens, so no read lock outlives an item.
 *
 * `run` does not call this executor in its own process: each of its sources
 * is a worker process (sqlite_pool.c, sqlite_worker.c) that runs this code
 * for one item at a time, with its heap cap and RLIMIT_AS sized per item
 * (ds_sqlite_exec_private). preview, the tests and the fuzz harness call it
 * in-process. The public source operations below pass a worker's handle on
 * to sqlite_pool.c.
 */
#include <limits.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ds_htab.h"
#include "ds_vec.h"
#include "sqlite_pool.h"

/* One prepared statement, found by the item's key. */
typedef struct slot {
    char *key;
    char *sql;
    sqlite3_stmt *st;
} slot;

typedef struct sq_exec {
    ds_exec base;                       /* base.eng == &ds_sqlite_engine */
    int isolated;                       /* 0 (sqlite_int.h sq_source) */
    ds_db *db;
    sqlite3 *h;
    ds_sqlite_auth auth;                   /* the authorizer's first refusal */
    slot *slots;                        /* prepared statements, by first use */
    size_t nslots, slots_cap;           /* ds_vec */
    ds_htab index;                      /* item key -> slots[] (common/ds_htab.h) */
    int64_t deadline_ns;                /* of the running query; 0 = none */
    int timed_out;
    const volatile sig_atomic_t *cancel_sig;    /* set by a signal handler of this thread */
    const atomic_int *cancel_flag;              /* set by another thread */
    int cancelled;
    int64_t lenlim;                     /* SQLITE_LIMIT_LENGTH of the running query */
    ds_cell *cells;                     /* one row's values */
    const char **cols;                  /* its column names */
    int cap;
} sq_exec;

/* Keeps the whole process's SQLite heap bounded when the length limit is
 * evaded (many large columns in one row, json_group_array over millions of
 * rows): allocations past it fail with "out of memory" instead of growing
 * the process by gigabytes. The cap is a base (the writer, schemas,
 * statements), a share per open executor (its page caches), and room for two
 * values at the largest length limit in use. See docs/security.md. */
#define DS_HEAP_BASE ((sqlite3_int64)64 << 20)
#define DS_HEAP_PER_CONN ((sqlite3_int64)8 << 20)
/* The smallest per-value length limit (strings and blobs inside a query may
 * be larger than the value they end up in). */
#define DS_MIN_LENGTH_LIMIT (16 * 1024 * 1024)

static pthread_mutex_t heap_mu = PTHREAD_MUTEX_INITIALIZER;
static sqlite3_int64 heap_conns, heap_len, heap_set;
/* In a query worker (ds_sqlite_exec_private): the process runs one item at a
 * time, so its caps follow each item's own limits; as_base is the address
 * space it had before its first query (0: leave RLIMIT_AS alone). */
static int heap_private;
static int64_t as_base;
/* RLIMIT_AS beyond the SQLite heap cap: the shaper's buffers (a value of up
 * to max_bytes, and its growth), the worker's stack and libc's own. */
#define DS_AS_SLACK ((int64_t)64 << 20)

void ds_sqlite_exec_private(int64_t base)
{
    heap_private = 1;
    as_base = base;
    heap_conns = 0;         /* the writer's count, inherited with its memory */
    heap_len = 0;
}

/* Adjusts the process's SQLite heap cap by dconn executors and a length
 * limit now in use. A cap someone else set (an embedding program) is kept. */
static sqlite3_int64 heap_update(int dconn, int64_t len)
{
    pthread_mutex_lock(&heap_mu);
    heap_conns += dconn;
    if (len > heap_len || (heap_private && len > 0)) heap_len = len;
    sqlite3_int64 want = DS_HEAP_BASE + heap_conns * DS_HEAP_PER_CONN + 2 * heap_len;
    sqlite3_int64 cur = sqlite3_hard_heap_limit64(-1);
    if ((cur == 0 || cur == heap_set) && cur != want) heap_set = sqlite3_hard_heap_limit64(want) >= 0 ? want : heap_set;
    sqlite3_int64 r = sqlite3_hard_heap_limit64(-1);
    pthread_mutex_unlock(&heap_mu);
    return r;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Called every 1000 VM steps: nonzero interrupts the statement. */
static int progress(void *arg)
{
    sq_exec *x = arg;
    if ((x->cancel_sig && *x->cancel_sig) ||
        (x->cancel_flag && atomic_load_explicit(x->cancel_flag, memory_order_relaxed))) {
        x->cancelled = 1;
        return 1;
    }
    if (x->deadline_ns && mono_ns() >= x->deadline_ns) { x->timed_out = 1; return 1; }
    return 0;
}

void ds_sqlite_configure(void)
{
    /* A sorter (GROUP BY, ORDER BY, DISTINCT) keeps up to max(PMASZ pages,
     * the connection's cache) in memory before it spills a sorted run to a
     * temp file, and one statement may hold several (a query with three
     * grouped CTEs holds three): SQLite's 250 pages made them 3 MiB of a
     * 9 MiB run. 64 pages let the 512 KiB cache set the size. Refused with
     * SQLITE_MISUSE (harmlessly) once SQLite is initialized. */
    sqlite3_config(SQLITE_CONFIG_PMASZ, 64);
}

/* Is b a handle on a worker process (sqlite_pool.c)? */
static int isolated(const ds_exec *b)
{
    return ((const sq_source *)b)->isolated;
}

ds_exec *ds_sqlite_source_open(const char *db_path, ds_diag *d)
{
    ds_db *db = NULL;
    if (ds_db_open(db_path, DS_DB_READONLY, &db, d)) return NULL;
    sq_exec *x = calloc(1, sizeof *x);
    if (!x) {
        ds_db_close(db);
        ds_fail(d, DS_DBERROR, "out of memory");
        return NULL;
    }
    x->base.eng = &ds_sqlite_engine;
    x->db = db;
    x->h = ds_sqlite_handle(db);
    /* 512 KiB of page cache instead of SQLite's 2 MiB (it also sizes each
     * sorter's memory before it spills, see ds_sqlite_configure): queries read
     * each page about once and the OS caches the file, so this costs no
     * measurable time (bench/results.md) and keeps a run's peak memory near
     * its values' size rather than SQLite's caches. */
    sqlite3_exec(x->h, "PRAGMA cache_size = -512", NULL, NULL, NULL);
    sqlite3_set_authorizer(x->h, ds_sqlite_authorizer, &x->auth);
    sqlite3_progress_handler(x->h, 1000, progress, x);
    heap_update(1, DS_MIN_LENGTH_LIMIT);
    return &x->base;
}

void ds_sqlite_source_close(ds_exec *b)
{
    sq_exec *x = (sq_exec *)b;
    if (!x) return;
    if (isolated(b)) { ds_sqlite_pool_close(b); return; }
    for (size_t i = 0; i < x->nslots; i++) {
        sqlite3_finalize(x->slots[i].st);
        free(x->slots[i].key);
        free(x->slots[i].sql);
    }
    free(x->slots);
    ds_htab_free(&x->index);
    free(x->cells);
    free(x->cols);
    ds_db_close(x->db);
    free(x);
    heap_update(-1, 0);
}

void ds_sqlite_source_busy_timeout(ds_exec *b, int64_t ms)
{
    sq_exec *x = (sq_exec *)b;
    if (isolated(b)) { ds_sqlite_pool_busy_timeout(b, ms); return; }
    ds_db_busy_timeout(x->db, ms < 0 ? 0 : ms);
}

void ds_sqlite_source_cancel_on(ds_exec *b, const volatile sig_atomic_t *sig, const atomic_int *flag)
{
    sq_exec *x = (sq_exec *)b;
    if (isolated(b)) { ds_sqlite_pool_cancel_on(b, sig, flag); return; }
    x->cancel_sig = sig;
    x->cancel_flag = flag;
}

/* ---------------------------------------------------------------- statement cache */

static int slot_eq(const void *ctx, size_t idx, const void *key)
{
    return strcmp(((const sq_exec *)ctx)->slots[idx].key, key) == 0;
}

/* The slot of key, added (key copied, no statement) on first use. NULL on OOM. */
static slot *slot_for(sq_exec *x, const char *key)
{
    uint64_t h = ds_hash_bytes(key, strlen(key));
    if (ds_htab_room(&x->index)) return NULL;
    ds_htab_slot *e = ds_htab_find(&x->index, h, slot_eq, x, key);
    if (e->idx1) return &x->slots[e->idx1 - 1];
    slot *v = ds_vec_grow(x->slots, &x->slots_cap, x->nslots, sizeof *v);
    if (!v) return NULL;
    x->slots = v;
    slot *s = &v[x->nslots];
    memset(s, 0, sizeof *s);
    if (!(s->key = ds_strdup(key))) return NULL;
    ds_htab_put(&x->index, e, h, x->nslots++);
    return s;
}

/* Is the rest of a query after its first statement empty (blanks, comments)? */
static int only_blank(sqlite3 *h, const char *tail)
{
    sqlite3_stmt *st = NULL;
    if (!tail || !*tail) return 1;
    /* Preparing the tail is the one parser that agrees with SQLite's; it runs
     * once per item and process. */
    int rc = sqlite3_prepare_v2(h, tail, -1, &st, NULL);
    sqlite3_finalize(st);
    return rc == SQLITE_OK && !st;
}

/* The prepared statement for it, preparing it on first use. NULL with *err. */
static sqlite3_stmt *statement(sq_exec *x, const ds_item *it, char **err)
{
    slot *s = slot_for(x, it->key);
    if (!s) { *err = ds_strdup("out of memory"); return NULL; }
    if (s->st && s->sql && strcmp(s->sql, it->query) == 0) return s->st;
    /* A new key, or a plan replaced under --watch with new SQL for the key. */
    sqlite3_finalize(s->st);
    free(s->sql);
    s->st = NULL;
    s->sql = NULL;
    if (!(s->sql = ds_strdup(it->query))) { *err = ds_strdup("out of memory"); return NULL; }
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    x->auth.why[0] = '\0';
    int rc = sqlite3_prepare_v3(x->h, it->query, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK) {
        *err = ds_strdup(x->auth.why[0] ? x->auth.why : sqlite3_errmsg(x->h));
    } else if (!st) {
        *err = ds_strdup("the query is empty");
    } else if (!only_blank(x->h, tail)) {
        *err = ds_strdup("the query must be exactly one statement");
    } else if (sqlite3_stmt_isexplain(st)) {
        *err = ds_strdup("EXPLAIN is not allowed: a query is one SELECT, WITH ... SELECT or VALUES statement");
    } else if (!sqlite3_stmt_readonly(st)) {
        *err = ds_strdup("the query is not read-only");
    } else if (sqlite3_column_count(st) == 0) {
        *err = ds_strdup("the query returns no columns");
    } else {
        s->st = st;
        return st;
    }
    sqlite3_finalize(st);
    /* Keep the slot with no statement: the next call prepares again (the
     * schema may have changed meanwhile). */
    free(s->sql);
    s->sql = ds_strdup("");
    if (!*err) *err = ds_strdup("out of memory");
    return NULL;
}

/* ---------------------------------------------------------------- running */

static int ensure_cells(sq_exec *x, int n)
{
    if (n <= x->cap) return 0;
    ds_cell *c = realloc(x->cells, (size_t)n * sizeof *c);
    if (!c) return -1;
    x->cells = c;
    const char **v = realloc(x->cols, (size_t)n * sizeof *v);
    if (!v) return -1;
    x->cols = v;
    x->cap = n;
    return 0;
}

/* The error of a failed step, copied at once (the next call overwrites it). */
static char *step_error(sq_exec *x, const ds_item *it, int rc)
{
    if ((rc & 0xff) == SQLITE_INTERRUPT) {
        char b[32];
        if (x->timed_out)
            return ds_asprintf("query timed out after %s", ds_duration_format(it->timeout, b, sizeof b));
        if (x->cancelled) return ds_strdup("interrupted");
    }
    /* Say which limit a memory bomb ran into, and why it is there. */
    if ((rc & 0xff) == SQLITE_TOOBIG)
        return ds_asprintf("string or blob too big: a value inside the query exceeded %lld bytes "
                           "(the limit is 4 x max_bytes, at least 16 MiB)", (long long)x->lenlim);
    if ((rc & 0xff) == SQLITE_NOMEM)
        return ds_asprintf("out of memory: the query needed more than the %lld MiB dashspec lets "
                           "SQLite use (it grows with max_bytes)", (long long)(heap_update(0, 0) >> 20));
    /* A refusal while the statement ran (a function that prepares SQL of its
     * own): say what was refused, not only "authorization denied". */
    if ((rc & 0xff) == SQLITE_AUTH && x->auth.why[0])
        return ds_asprintf("authorization denied: %s", x->auth.why);
    return ds_strdup(sqlite3_errmsg(x->h));
}

/* The current row of st as typed cells in x->cells (borrowed from st until
 * the next step: no copies). For INT/REAL cells in textcols the value's text
 * too (map keys, series names). 0, or -1 with *e on OOM. */
static inline int fill_row(sq_exec *x, sqlite3_stmt *st, int ncols, const unsigned char *textcols, char **e)
{
    for (int i = 0; i < ncols; i++) {
        ds_cell *c = &x->cells[i];
        c->s = NULL;
        c->n = 0;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            c->type = DS_T_INT;
            c->i = sqlite3_column_int64(st, i);
            break;
        case SQLITE_FLOAT:
            c->type = DS_T_REAL;
            c->r = sqlite3_column_double(st, i);
            break;
        case SQLITE_TEXT:
            c->type = DS_T_TEXT;
            c->s = (const char *)sqlite3_column_text(st, i);
            c->n = (size_t)sqlite3_column_bytes(st, i);
            if (!c->s) { *e = ds_strdup("out of memory"); return -1; }
            continue;
        case SQLITE_BLOB:
            c->type = DS_T_BLOB;
            c->s = sqlite3_column_blob(st, i);
            c->n = (size_t)sqlite3_column_bytes(st, i);
            continue;
        default:
            c->type = DS_T_NULL;
            continue;
        }
        /* The number was read above; its text (CAST AS TEXT) only when a
         * map key or series name needs it. */
        if (textcols && textcols[i]) {
            c->s = (const char *)sqlite3_column_text(st, i);
            c->n = (size_t)sqlite3_column_bytes(st, i);
            if (!c->s) { *e = ds_strdup("out of memory"); return -1; }
        }
    }
    return 0;
}

int ds_sqlite_exec_item(ds_exec *b, const ds_item *it, int64_t now, ds_result *out, char **err)
{
    if (isolated(b)) return ds_sqlite_pool_exec(b, it, now, out, err);
    sq_exec *x = (sq_exec *)b;
    int64_t t0 = mono_ns();
    ds_shaper *sh = NULL;
    char *e = NULL;
    int rc = -1;
    memset(out, 0, sizeof *out);
    *err = NULL;
    sqlite3_stmt *st = statement(x, it, &e);
    if (!st) goto out;

    char ts[20];
    ds_time_format(now, ts);
    if (ds_sqlite_bind(st, it, ts, &e)) goto out;

    /* Strings and blobs may be a few times the value's size on their way, and
     * never need to be enormous: a memory bomb fails here, at once. */
    int64_t mb = it->max_bytes > 0 && it->max_bytes <= DS_MAX_BYTES_CEILING ? it->max_bytes : DS_MAX_BYTES_CEILING;
    int64_t lim = 4 * mb;
    if (lim < DS_MIN_LENGTH_LIMIT) lim = DS_MIN_LENGTH_LIMIT;
    sqlite3_limit(x->h, SQLITE_LIMIT_LENGTH, (int)lim);
    x->lenlim = lim;
    sqlite3_int64 cap = heap_update(0, lim);
    if (heap_private && as_base > 0) {
        /* The worker's whole address space, not only SQLite's heap: what
         * escapes the heap cap still stops here (malloc fails, the item
         * fails with "out of memory"), never in the writer. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_AS, &rl) == 0) {
            int64_t w = as_base + (cap > 0 ? cap : 0) + 2 * mb + DS_AS_SLACK;
            /* Never below what an earlier, larger item left mapped (freed
             * memory libc keeps): that would fail this item for it. */
            int64_t now_as = ds_sqlite_address_space();
            if (now_as + DS_AS_SLACK > w) w = now_as + DS_AS_SLACK;
            rlim_t want = (rlim_t)w;
            rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max ? rl.rlim_max : want;
            setrlimit(RLIMIT_AS, &rl);
        }
    }

    int ncols = sqlite3_column_count(st);
    if (ensure_cells(x, ncols)) { e = ds_strdup("out of memory"); goto out; }
    for (int i = 0; i < ncols; i++) {
        x->cols[i] = sqlite3_column_name(st, i);
        if (!x->cols[i]) { e = ds_strdup("out of memory"); goto out; }
    }
    if (!(sh = ds_shaper_new(it, x->cols, ncols, &e))) {
        if (!e) e = ds_strdup("out of memory");
        goto out;
    }
    const unsigned char *textcols = ds_shaper_textcols(sh);

    x->timed_out = x->cancelled = 0;
    /* Durations are at most 100 years (ds_duration_parse): no overflow here. */
    x->deadline_ns = it->timeout > 0 && it->timeout <= 100LL * 366 * 86400
        ? t0 + it->timeout * 1000000000LL : 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_data_count(st) != ncols) { e = ds_strdup("the query's columns changed while it ran"); goto out; }
        if (fill_row(x, st, ncols, textcols, &e)) goto out;
        if (ds_shaper_row(sh, x->cells, &e)) goto out;
    }
    if (src != SQLITE_DONE) { e = step_error(x, it, src); goto out; }
    char *json = NULL;
    size_t len = 0;
    int64_t entries = 0;
    if (ds_shaper_finish(sh, &json, &len, &entries, &e)) goto out;
    out->json = json;
    out->len = len;
    out->entries = entries;
    rc = 0;
out:
    x->deadline_ns = 0;
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    if (sh) ds_shaper_free(sh);
    out->duration_ms = (mono_ns() - t0) / 1000000;
    if (rc) {
        ds_result_free(out);
        out->duration_ms = (mono_ns() - t0) / 1000000;
        *err = e ? e : ds_strdup("out of memory");
    } else {
        free(e);
    }
    return rc;
}
