/*
 * ds_vec.h — the one growable array: a plain C array with a count and a
 * capacity beside it, grown geometrically (doubling), so appending n
 * elements costs O(n) copies and O(log n) reallocations, never one
 * reallocation per element.
 *
 *     size_t cap = 0;               // beside the array and its count
 *     T *v = ds_vec_grow(arr, &cap, n, sizeof *arr);
 *     if (!v) return -1;            // arr is untouched
 *     arr = v;
 *     arr[n++] = x;
 */
#ifndef DS_VEC_H
#define DS_VEC_H

#include <stddef.h>

#define DS_VEC_MIN_CAP 16       /* elements of a first allocation */

/* Makes room in array p (*cap elements allocated, n in use) for one more
 * element of elem bytes. Returns p itself when there is room, else the
 * reallocated array (twice max(*cap, n) elements, at least DS_VEC_MIN_CAP)
 * with *cap updated. On OOM or overflow returns NULL; p and *cap are then
 * untouched and still owned by the caller. */
void *ds_vec_grow(void *p, size_t *cap, size_t n, size_t elem);

/* How many reallocations ds_vec_grow has made in this process (all threads):
 * lets tests assert that growth is geometric without timing anything. */
unsigned long ds_vec_growths(void);

#endif
