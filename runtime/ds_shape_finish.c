/*
 * ds_shape_finish.c — the finished value of a shaper: series assembled from
 * their parts (a pivot's missing points filled), the max_bytes check on the
 * exact size, and freeing (docs/values.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_shape_int.h"

static int finish_series(ds_shaper *s, ds_buf *r)
{
    ds_buf_adds(r, "{\"x\":[");
    ds_buf_add(r, s->xbuf.p, s->xbuf.len);
    ds_buf_adds(r, "],\"series\":{");
    if (s->sbcol < 0) {
        for (int j = 0; j < s->ny; j++) {
            if (j) ds_buf_addc(r, ',');
            ds_buf_add(r, s->ynames.p + s->yname[j].off, s->yname[j].len);
            ds_buf_add(r, ":[", 2);
            ds_buf_add(r, s->ybuf[j].p, s->ybuf[j].len);
            ds_buf_addc(r, ']');
        }
        ds_buf_adds(r, "}}");
        return 0;
    }
    /* Pivot: group the points by series (counting sort keeps row order),
     * then lay each series out along x through one reusable slot array. */
    int rc = -1;
    size_t *slot = malloc((s->nx ? s->nx : 1) * sizeof *slot);
    size_t *start = calloc(s->ns + 1, sizeof *start);
    size_t *order = malloc((s->npt ? s->npt : 1) * sizeof *order);
    if (!slot || !start || !order) goto out;
    for (size_t i = 0; i < s->npt; i++) start[s->pt[i].si + 1]++;
    for (size_t i = 0; i < s->ns; i++) start[i + 1] += start[i];
    for (size_t i = 0; i < s->npt; i++) order[start[s->pt[i].si]++] = i;
    for (size_t i = s->ns; i > 0; i--) start[i] = start[i - 1];   /* back to starts */
    start[0] = 0;
    for (size_t i = 0; i < s->nx; i++) slot[i] = SIZE_MAX;
    for (size_t si = 0; si < s->ns; si++) {
        if (si) ds_buf_addc(r, ',');
        ds_buf_add(r, s->sbuf.p + s->sv[si].off, s->sv[si].len);
        ds_buf_add(r, ":[", 2);
        size_t end = si + 1 < s->ns ? start[si + 1] : s->npt;
        for (size_t k = start[si]; k < end; k++) slot[s->pt[order[k]].xi] = order[k];
        for (size_t xi = 0; xi < s->nx; xi++) {
            if (xi) ds_buf_addc(r, ',');
            if (slot[xi] == SIZE_MAX) {
                ds_buf_add(r, s->fill, s->fill_len);
            } else {
                const point *p = &s->pt[slot[xi]];
                ds_buf_add(r, s->cbuf.p + p->off, p->len);
            }
        }
        for (size_t k = start[si]; k < end; k++) slot[s->pt[order[k]].xi] = SIZE_MAX;
        ds_buf_addc(r, ']');
        if (r->oom) goto out;
    }
    ds_buf_adds(r, "}}");
    rc = 0;
out:
    free(slot);
    free(start);
    free(order);
    return rc;
}

/* Hands over the finished value (see ds_runtime.h): *json malloc'd, *len its
 * length, *entries the rows seen. -1 with *err when the value exceeds
 * max_bytes, on OOM, or when the shaper already failed; the outputs are then
 * untouched. */
int ds_shaper_finish(ds_shaper *s, char **json, size_t *len, int64_t *entries, char **err)
{
    *err = NULL;
    if (s->failed || s->finished) return ds_shape_fail(s, err, "internal error: shaper used after it ended");
    ds_buf r;
    ds_buf_init(&r);
    int rc = -1;
    switch (s->shape) {
    case DS_SHAPE_SCALAR:
    case DS_SHAPE_ROW:
        if (s->rows == 0) ds_buf_add(&r, "null", 4);
        else { r = s->out; ds_buf_init(&s->out); }
        break;
    case DS_SHAPE_ROWS:
    case DS_SHAPE_MAP:
        ds_buf_addc(&s->out, s->shape == DS_SHAPE_ROWS ? ']' : '}');
        r = s->out;
        ds_buf_init(&s->out);
        break;
    default:
        /* the exact size is known before anything is built */
        if (s->max_bytes > 0 && ds_shape_projected(s, 1) > (uint64_t)s->max_bytes) { ds_shape_too_big(s, err); goto out; }
        if (ds_buf_reserve(&r, ds_shape_projected(s, 1)) || finish_series(s, &r)) { ds_shape_oom(s, err); goto out; }
        break;
    }
    if (r.oom || (!r.p && ds_buf_reserve(&r, 0))) { ds_shape_oom(s, err); goto out; }
    if (s->max_bytes > 0 && r.len > (uint64_t)s->max_bytes) { ds_shape_too_big(s, err); goto out; }
    s->finished = 1;
    *len = r.len;
    *entries = s->rows;
    *json = ds_buf_steal(&r);
    rc = 0;
out:
    ds_buf_free(&r);
    return rc;
}

/* Frees the shaper and everything it holds; NULL-safe. */
void ds_shaper_free(ds_shaper *s)
{
    if (!s) return;
    ds_buf_free(&s->names);
    free(s->name_off);
    ds_buf_free(&s->keys);
    free(s->key);
    free(s->textcols);
    ds_buf_free(&s->out);
    ds_buf_free(&s->tmp);
    ds_buf_free(&s->tmp2);
    free(s->mtab.s);
    free(s->mk);
    free(s->ycol);
    ds_buf_free(&s->ynames);
    free(s->yname);
    ds_buf_free(&s->xbuf);
    for (int j = 0; s->ybuf && j < s->ny; j++) ds_buf_free(&s->ybuf[j]);
    free(s->ybuf);
    free(s->fill);
    free(s->xtab.s);
    free(s->stab.s);
    free(s->ptab.s);
    free(s->xv);
    free(s->sv);
    ds_buf_free(&s->sbuf);
    free(s->pt);
    ds_buf_free(&s->cbuf);
    free(s);
}
