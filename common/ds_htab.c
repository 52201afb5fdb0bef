/*
 * ds_htab.c — hashing and growth of the one hash table (see ds_htab.h).
 */
#include <stdlib.h>
#include "ds_htab.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define HTAB_MIN_CAP 64             /* slots of a first allocation */

uint64_t ds_hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t ds_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= FNV_PRIME;
    }
    return ds_hash_mix(h ^ n);
}

int ds_htab_room(ds_htab *t)
{
    if ((t->n + 1) * 4 <= t->cap * 3) return 0;
    size_t cap = t->cap ? t->cap * 2 : HTAB_MIN_CAP;
    if (cap > SIZE_MAX / sizeof(ds_htab_slot)) return -1;
    ds_htab_slot *ns = calloc(cap, sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->s[i].idx1) continue;
        size_t j = t->s[i].h & (cap - 1);
        while (ns[j].idx1) j = (j + 1) & (cap - 1);
        ns[j] = t->s[i];
    }
    free(t->s);
    t->s = ns;
    t->cap = cap;
    return 0;
}

void ds_htab_free(ds_htab *t)
{
    free(t->s);
    t->s = NULL;
    t->cap = t->n = 0;
}
