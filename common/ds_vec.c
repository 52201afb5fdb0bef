/*
 * ds_vec.c — geometric growth for plain arrays (see ds_vec.h).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include "ds_vec.h"

static atomic_ulong growths;

void *ds_vec_grow(void *p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return p;
    size_t base = *cap > n ? *cap : n;
    size_t nc = base < DS_VEC_MIN_CAP / 2 ? DS_VEC_MIN_CAP : base * 2;
    if (elem == 0 || base > SIZE_MAX / 2 || nc > SIZE_MAX / elem) return NULL;
    void *np = realloc(p, nc * elem);
    if (!np) return NULL;
    atomic_fetch_add_explicit(&growths, 1, memory_order_relaxed);
    *cap = nc;
    return np;
}

unsigned long ds_vec_growths(void)
{
    return atomic_load_explicit(&growths, memory_order_relaxed);
}
