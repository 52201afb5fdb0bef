/*
 * ds_hash.c — the spec hash: what makes a cached value stale when its spec
 * changes (docs/spec-reference.md, "The spec hash"; docs/run.md, step 5).
 *
 * Only what changes the value goes in: the query, the parameters, the shape
 * and the series options. ttl, refresh, limits, description, group and tags
 * stay out, so tuning them never recomputes anything. The serialization is
 * unambiguous (every field tagged, every string length-prefixed, absent and
 * empty told apart), and parameters are combined order-independently because
 * their order in the YAML means nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "ds_compiler.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static void put(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= s[i];
        *h *= FNV_PRIME;
    }
}

static void put_u64(uint64_t *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    put(h, b, 8);
}

/* tag, then 0 for absent or 1 + length + bytes. */
static void put_str(uint64_t *h, char tag, const char *s)
{
    put(h, &tag, 1);
    if (!s) { put_u64(h, 0); return; }
    size_t n = strlen(s);
    put_u64(h, (uint64_t)n + 1);
    put(h, s, n);
}

static uint64_t param_hash(const ds_param *pr)
{
    uint64_t h = FNV_OFFSET;
    char num[40];
    put_str(&h, 'n', pr->name);
    switch (pr->type) {
    case DS_PARAM_INT:
        snprintf(num, sizeof num, "%" PRId64, pr->i);
        put_str(&h, 'i', num);
        break;
    case DS_PARAM_BOOL:
        put_str(&h, 'b', pr->i ? "1" : "0");
        break;
    case DS_PARAM_REAL:
        snprintf(num, sizeof num, "%.17g", pr->r);
        put_str(&h, 'r', num);
        break;
    case DS_PARAM_TEXT:
        put_str(&h, 't', pr->s ? pr->s : "");
        break;
    }
    return h;
}

/* Fills it->hash (16 lowercase hex digits) from query, shape, params, x, y,
 * series_by and fill. Cannot fail; reads only, allocates nothing. */
void ds_item_hash(ds_item *it)
{
    uint64_t h = FNV_OFFSET, ph = 0;
    put_str(&h, 'q', it->query);
    put_str(&h, 's', ds_shape_name(it->shape));
    /* A sum of per-parameter hashes does not depend on their order; names
     * are unique, so no two terms cancel out as equal pairs would. */
    for (size_t i = 0; i < it->nparams; i++) ph += param_hash(&it->params[i]);
    put(&h, "p", 1);
    put_u64(&h, it->nparams);
    put_u64(&h, ph);
    put_str(&h, 'x', it->x);
    put(&h, "y", 1);
    put_u64(&h, it->ny);
    for (size_t i = 0; i < it->ny; i++) put_str(&h, 'c', it->y[i]);
    put_str(&h, 'b', it->series_by);
    put_str(&h, 'f', it->fill);
    if (it->refresh_key) put_str(&h, 'k', it->refresh_key);   /* absent: hashes as before */
    if (it->inc_window) {
        put(&h, "i", 1);
        put_u64(&h, (uint64_t)it->inc_window);
        put_u64(&h, (uint64_t)it->inc_range);
        put_u64(&h, (uint64_t)it->inc_full_every);
    }
    snprintf(it->hash, sizeof it->hash, "%016" PRIx64, h);
}
