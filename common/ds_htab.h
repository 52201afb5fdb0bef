/*
 * ds_htab.h — the one hash table: an open-addressing index (linear probing,
 * load factor at most 3/4) whose slots hold a key's full 64-bit hash and the
 * index of an entry the caller stores elsewhere. The table never owns or
 * copies keys, so the same table serves the spec loader's key index and the
 * shaper's pivot tables, each keeping its entries in its own arrays or
 * buffers and deciding equality with a callback.
 *
 *     if (ds_htab_room(&t)) return -1;                 // before an insert
 *     ds_htab_slot *e = ds_htab_find(&t, h, eq, ctx, key);
 *     if (!e->idx1) ds_htab_put(&t, e, h, new_index);  // absent: add it
 *     else existing = e->idx1 - 1;
 */
#ifndef DS_HTAB_H
#define DS_HTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct ds_htab_slot {
    uint64_t h;                 /* full hash of the key */
    size_t idx1;                /* caller's entry index + 1; 0 = empty */
} ds_htab_slot;

typedef struct ds_htab {
    ds_htab_slot *s;
    size_t cap, n;              /* cap is 0 or a power of two; n slots used */
} ds_htab;

/* 1 when entry idx (the caller's) holds key; ctx is the caller's context. */
typedef int (*ds_htab_eq)(const void *ctx, size_t idx, const void *key);

/* FNV-1a over p[0..n), then mixed: linear probing uses the low bits. */
uint64_t ds_hash_bytes(const void *p, size_t n);
/* A 64-bit finalizer (MurmurHash3's), for keys that are already numbers. */
uint64_t ds_hash_mix(uint64_t h);

/* Makes room for one more entry (rehashing into twice the slots when the
 * load would pass 3/4). 0 ok, -1 OOM (table unchanged). */
int ds_htab_room(ds_htab *t);

/* The slot holding the key (eq decides among slots with hash h), or the
 * empty slot where it would go; NULL only when the table has no slots yet.
 * Never loops: the load factor keeps an empty slot. An insert must call
 * ds_htab_room before this, so the slot stays valid. Inline: the shaper
 * probes once per pivot cell. */
static inline ds_htab_slot *ds_htab_find(const ds_htab *t, uint64_t h, ds_htab_eq eq,
                                         const void *ctx, const void *key)
{
    if (!t->cap) return NULL;
    size_t m = t->cap - 1;
    for (size_t j = h & m;; j = (j + 1) & m) {
        ds_htab_slot *e = &t->s[j];
        if (!e->idx1 || (e->h == h && eq(ctx, e->idx1 - 1, key))) return e;
    }
}

/* Fills the empty slot e (from ds_htab_find) with entry idx of hash h. */
static inline void ds_htab_put(ds_htab *t, ds_htab_slot *e, uint64_t h, size_t idx)
{
    e->h = h;
    e->idx1 = idx + 1;
    t->n++;
}

void ds_htab_free(ds_htab *t);      /* frees the slots; the table is empty again */

#endif
