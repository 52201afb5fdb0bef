/*
 * sqlite_wire.c — what crosses the socket between the writer and a query
 * worker (sqlite_pool.h): the item to run, and the reply's head.
 *
 * Both ends are the same binary on the same machine (the worker is a fork),
 * so numbers travel in native byte order. A request carries only what
 * executing and shaping read (key, query, params, :since, timeout, limits,
 * shape and its options) — never the plan row. Strings are a 4-byte length
 * (UINT32_MAX for NULL), the bytes and a NUL, so the worker points into the
 * request instead of copying. The value itself travels as the shaper wrote
 * it: it is already the most compact form (the rows it came from are
 * larger), and the writer stores those bytes as they are.
 */
#include <stdlib.h>
#include <string.h>
#include "sqlite_pool.h"

#define NO_STR UINT32_MAX

static void put_i64(ds_buf *b, int64_t v) { ds_buf_add(b, &v, sizeof v); }
static void put_i32(ds_buf *b, int32_t v) { ds_buf_add(b, &v, sizeof v); }

static void put_str(ds_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= NO_STR) { b->oom = 1; return; }    /* no such string: queries are far smaller */
    uint32_t len = s ? (uint32_t)n : NO_STR;
    ds_buf_add(b, &len, sizeof len);
    if (s) ds_buf_add(b, s, n + 1);
}

int ds_wire_request(ds_buf *b, const ds_item *it, int64_t now, int64_t busy_ms)
{
    ds_buf_reset(b);
    b->oom = 0;
    uint32_t len = 0;
    ds_buf_add(b, &len, sizeof len);            /* patched below */
    put_i64(b, now);
    put_i64(b, busy_ms);
    put_i64(b, it->since);
    put_i64(b, it->timeout);
    put_i64(b, it->max_rows);
    put_i64(b, it->max_bytes);
    put_i32(b, (int32_t)it->shape);
    put_i32(b, (int32_t)it->kind);
    put_str(b, it->key);
    put_str(b, it->query);
    put_str(b, it->x);
    put_str(b, it->series_by);
    put_str(b, it->fill);
    put_i32(b, (int32_t)it->ny);
    for (size_t i = 0; i < it->ny; i++) put_str(b, it->y[i]);
    put_i32(b, (int32_t)it->nparams);
    for (size_t i = 0; i < it->nparams; i++) {
        const ds_param *p = &it->params[i];
        put_str(b, p->name);
        put_i32(b, (int32_t)p->type);
        put_i64(b, p->i);
        ds_buf_add(b, &p->r, sizeof p->r);
        put_str(b, p->s);
    }
    if (b->oom || !b->p || b->len - sizeof len > UINT32_MAX) return -1;
    len = (uint32_t)(b->len - sizeof len);
    memcpy(b->p, &len, sizeof len);
    return 0;
}

/* ---------------------------------------------------------------- decoding */

typedef struct rd {
    char *p;
    size_t n, at;
    int bad;
} rd;

static void get(rd *r, void *out, size_t k)
{
    if (r->bad || r->n - r->at < k) { r->bad = 1; memset(out, 0, k); return; }
    memcpy(out, r->p + r->at, k);
    r->at += k;
}

static int64_t get_i64(rd *r) { int64_t v; get(r, &v, sizeof v); return v; }
static int32_t get_i32(rd *r) { int32_t v; get(r, &v, sizeof v); return v; }

static char *get_str(rd *r)
{
    uint32_t len;
    get(r, &len, sizeof len);
    if (r->bad || len == NO_STR) return NULL;
    if (r->n - r->at < (size_t)len + 1 || r->p[r->at + len] != '\0') { r->bad = 1; return NULL; }
    char *s = r->p + r->at;
    r->at += (size_t)len + 1;
    return s;
}

/* A count of entries that each take at least `least` bytes of what is left. */
static size_t get_count(rd *r, size_t least)
{
    int32_t k = get_i32(r);
    if (r->bad || k < 0 || (size_t)k > (r->n - r->at) / least) { r->bad = 1; return 0; }
    return (size_t)k;
}

int ds_wire_request_decode(char *p, size_t n, ds_wire_req *q)
{
    rd r = {p, n, 0, 0};
    memset(q, 0, sizeof *q);
    ds_item *it = &q->item;
    q->now = get_i64(&r);
    q->busy_ms = get_i64(&r);
    it->since = get_i64(&r);
    it->timeout = get_i64(&r);
    it->max_rows = get_i64(&r);
    it->max_bytes = get_i64(&r);
    it->shape = (ds_shape)get_i32(&r);
    it->kind = (ds_kind)get_i32(&r);
    it->key = get_str(&r);
    it->query = get_str(&r);
    it->x = get_str(&r);
    it->series_by = get_str(&r);
    it->fill = get_str(&r);
    size_t ny = get_count(&r, 4);
    if (ny && !(it->y = calloc(ny, sizeof *it->y))) return -1;
    for (size_t i = 0; i < ny; i++) it->y[i] = get_str(&r);
    it->ny = ny;
    size_t np = get_count(&r, 4 + 4 + 8 + 8 + 4);
    if (np && !(it->params = calloc(np, sizeof *it->params))) { ds_wire_request_free(q); return -1; }
    it->nparams = np;
    for (size_t i = 0; i < np && !r.bad; i++) {
        ds_param *pa = &it->params[i];
        pa->name = get_str(&r);
        pa->type = (ds_param_type)get_i32(&r);
        pa->i = get_i64(&r);
        get(&r, &pa->r, sizeof pa->r);
        pa->s = get_str(&r);
        if (!pa->name) r.bad = 1;
    }
    if (r.bad || r.at != n || !it->key || !it->query || (unsigned)it->shape >= DS_SHAPE_N) {
        ds_wire_request_free(q);
        return -1;
    }
    return 0;
}

void ds_wire_request_free(ds_wire_req *q)
{
    free(q->item.y);
    free(q->item.params);
    q->item.y = NULL;
    q->item.params = NULL;
    q->item.ny = q->item.nparams = 0;
}

/* ---------------------------------------------------------------- reply heads */

void ds_wire_head_encode(unsigned char out[DS_WIRE_HEAD], const ds_wire_head *h)
{
    out[0] = (unsigned char)h->status;
    memcpy(out + 1, &h->entries, 8);
    memcpy(out + 9, &h->duration_ms, 8);
    memcpy(out + 17, &h->len, 8);
}

void ds_wire_head_decode(const unsigned char in[DS_WIRE_HEAD], ds_wire_head *h)
{
    h->status = in[0];
    memcpy(&h->entries, in + 1, 8);
    memcpy(&h->duration_ms, in + 9, 8);
    memcpy(&h->len, in + 17, 8);
}
