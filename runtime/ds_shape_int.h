/*
 * ds_shape_int.h — the shaper's state, shared by ds_shape.c (setup and rows)
 * and ds_shape_finish.c (the finished value), and the helpers both use.
 */
#ifndef DS_SHAPE_INT_H
#define DS_SHAPE_INT_H

#include "ds_htab.h"
#include "ds_runtime.h"

typedef struct span { size_t off, len; } span;     /* bytes inside some ds_buf */
typedef struct bytes { const char *p; size_t n; } bytes;
typedef struct point { size_t xi, si, off, len; } point;   /* one pivot cell, JSON in cbuf */

struct ds_shaper {
    ds_shape shape;
    int ncols;
    ds_buf names;               /* raw column names, each NUL-terminated */
    size_t *name_off;           /* per column, into names */
    ds_buf keys;                /* row/rows: `"name":` per column */
    span *key;                  /* per column, into keys */
    unsigned char *textcols;    /* per column: executor fills CAST AS TEXT */
    int64_t max_rows, max_bytes;  /* <= 0: no limit */
    int64_t rows;
    int failed, finished;
    ds_buf out;                 /* scalar, row, rows, map: the value so far */
    ds_buf tmp, tmp2;           /* scratch: one value's JSON */

    /* map: keys already written, as spans of out */
    ds_htab mtab;
    span *mk;
    size_t nmk, mkcap;

    /* series */
    int xcol, sbcol;            /* sbcol < 0 without series_by */
    int *ycol, ny;
    ds_buf ynames;              /* without series_by: JSON name per y, spans yname */
    span *yname;
    ds_buf xbuf;                /* x values, comma-separated */
    ds_buf *ybuf;               /* without series_by: one comma-separated array per y */
    size_t ybytes;              /* sum of ybuf lengths */
    size_t fixed;               /* bytes of the series frame that do not depend on rows */
    char *fill;                 /* pivot: JSON of a missing point */
    size_t fill_len;
    ds_htab xtab, stab, ptab;      /* pivot: distinct x, distinct series, points */
    span *xv, *sv;              /* spans of xbuf / sbuf */
    size_t nx, xcap, ns, scap;
    ds_buf sbuf;                /* series names (JSON), back to back */
    point *pt;
    size_t npt, ptcap;
    ds_buf cbuf;                /* pivot cells (JSON), back to back */
};

/* Records a run error: the shaper refuses further rows. Always -1; *err is
 * NULL only when even the message could not be allocated. */
int ds_shape_fail(ds_shaper *s, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* ds_shape_fail with "out of memory". */
int ds_shape_oom(ds_shaper *s, char **err);
/* ds_shape_fail with the max_bytes message. */
int ds_shape_too_big(ds_shaper *s, char **err);
/* The size the value would have if the result ended here (exact), or a
 * lower bound of every later size (exact == 0). */
uint64_t ds_shape_projected(const ds_shaper *s, int exact);

#endif
