/*
 * ds_shape.c — result rows -> the JSON value of each shape (docs/values.md).
 *
 * The executor feeds rows one at a time; the value grows in one buffer per
 * part (the value itself, or x and one array per y for series), so a large
 * result costs O(rows) time and one amortised realloc chain per part. The
 * projected size of the finished value is known exactly after every cell,
 * so max_bytes stops a value as soon as it is exceeded instead of after it
 * was built.
 *
 * Pivots (series with series_by) keep three open-addressing hash tables —
 * distinct x values, distinct series names, and (x, series) points — whose
 * entries are offsets into shared buffers, never one allocation per cell.
 * Identity is by JSON text: x values 1 and "1" are different points, and a
 * map key or series name is its CAST AS TEXT after UTF-8 repair, so two keys
 * that would print the same are duplicates.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ds_htab.h"
#include "ds_runtime.h"
#include "ds_shape_int.h"
#include "ds_vec.h"

/* Appends a cell as a JSON value. BLOB appends nothing and returns -1 (the
 * caller names the column); everything else returns 0. */
int ds_json_cell(ds_buf *b, const ds_cell *c)
{
    switch (c->type) {
    case DS_T_INT: ds_json_int(b, c->i); return 0;
    case DS_T_REAL: ds_json_double(b, c->r); return 0;
    case DS_T_TEXT: ds_json_string(b, c->s ? c->s : "", c->s ? c->n : 0); return 0;
    case DS_T_NULL: ds_buf_add(b, "null", 4); return 0;
    case DS_T_RAW: ds_buf_add(b, c->s, c->n); return 0;
    default: return -1;
    }
}

/* ---------------------------------------------------------------- the shaper */

static const char *colname(const ds_shaper *s, int i)
{
    return s->names.p + s->name_off[i];
}

/* Records a run error: the shaper refuses further rows. Always -1; *err is
 * NULL only when even the message could not be allocated. */
int ds_shape_fail(ds_shaper *s, char **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *err = ds_vasprintf(fmt, ap);
    va_end(ap);
    if (s) s->failed = 1;
    return -1;
}

/* At most ~64 bytes of a JSON text for a message, cut on a UTF-8 boundary. */
static char *snip(const char *p, size_t n, char out[80])
{
    if (n <= 64) {
        memcpy(out, p, n);
        out[n] = '\0';
        return out;
    }
    size_t k = 60;
    while (k > 56 && ((unsigned char)p[k] & 0xC0) == 0x80) k--;
    memcpy(out, p, k);
    memcpy(out + k, "...", 4);
    return out;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b) { return b && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

/* The exact size the value would have if the result ended here. For a
 * pivot that size can shrink (a later row replaces a fill by a shorter
 * value), so with exact == 0 it gives a lower bound of every later size
 * instead: each missing point will take at least one byte. */
uint64_t ds_shape_projected(const ds_shaper *s, int exact)
{
    switch (s->shape) {
    case DS_SHAPE_SCALAR:
    case DS_SHAPE_ROW:
        return s->out.len;
    case DS_SHAPE_ROWS:
    case DS_SHAPE_MAP:
        return (uint64_t)s->out.len + 1;            /* the closing bracket */
    default:
        break;
    }
    if (s->sbcol < 0) return (uint64_t)s->fixed + s->xbuf.len + s->ybytes;
    /* {"x":[X],"series":{"name":[cells and fills],...}} */
    uint64_t v = (uint64_t)s->fixed + s->xbuf.len + s->sbuf.len + s->cbuf.len;
    v = sat_add(v, sat_mul(s->ns, 3));               /* :[ ] per series */
    if (s->ns) v = sat_add(v, s->ns - 1);            /* commas between series */
    if (s->nx) v = sat_add(v, sat_mul(s->ns, s->nx - 1));   /* commas inside arrays */
    uint64_t all = sat_mul(s->nx, s->ns);
    size_t fill = exact || s->fill_len < 1 ? s->fill_len : 1;
    return sat_add(v, sat_mul(all - s->npt, fill));
}

int ds_shape_too_big(ds_shaper *s, char **err)
{
    return ds_shape_fail(s, err, "value is larger than max_bytes (%" PRId64 " bytes)", s->max_bytes);
}

/* While rows come: fails once no later row can bring the value back
 * under max_bytes. */
static int check_size(ds_shaper *s, char **err)
{
    if (s->max_bytes > 0 && ds_shape_projected(s, 0) > (uint64_t)s->max_bytes) return ds_shape_too_big(s, err);
    return 0;
}

/* Appends one cell's JSON to b. A text that alone could not fit is refused
 * before it is escaped, so memory stays a small multiple of max_bytes. */
static int put(ds_shaper *s, ds_buf *b, const ds_cell *c, char **err)
{
    if ((c->type == DS_T_TEXT || c->type == DS_T_RAW) && s->max_bytes > 0 &&
        (uint64_t)c->n + (c->type == DS_T_TEXT ? 2 : 0) > (uint64_t)s->max_bytes)
        return ds_shape_too_big(s, err);
    ds_json_cell(b, c);
    return 0;
}

/* SQLite's CAST(x AS TEXT) for a REAL, used only when the executor did not
 * supply the text: "%!.15g", which always shows a decimal point ("1.0",
 * "1.0e+20"). */
static void real_text(double r, char out[48])
{
    if (r != r) { out[0] = '\0'; return; }
    if (r > 1.7976931348623157e308) { strcpy(out, "Inf"); return; }
    if (r < -1.7976931348623157e308) { strcpy(out, "-Inf"); return; }
    char t[32];
    snprintf(t, sizeof t, "%.15g", r);
    const char *e = strchr(t, 'e');
    size_t k = e ? (size_t)(e - t) : strlen(t);
    memcpy(out, t, k);
    out[k] = '\0';
    if (!strchr(t, '.')) strcpy(out + k, ".0");
    if (e) strcat(out, e);
}

/* The CAST AS TEXT of a key cell (TEXT, INT or REAL) as JSON into b. */
static void key_json(ds_buf *b, const ds_cell *c)
{
    char t[48];
    if (c->type == DS_T_RAW) {
        ds_json_string(b, c->k ? c->k : "", c->k ? c->kn : 0);
    } else if (c->type == DS_T_TEXT || c->s) {
        ds_json_string(b, c->s, c->s ? c->n : 0);
    } else if (c->type == DS_T_INT) {
        snprintf(t, sizeof t, "%" PRId64, c->i);
        ds_json_string(b, t, strlen(t));
    } else {
        real_text(c->r, t);
        ds_json_string(b, t, strlen(t));
    }
}

static int any_oom(const ds_shaper *s)
{
    if (s->out.oom || s->tmp.oom || s->tmp2.oom || s->xbuf.oom || s->sbuf.oom || s->cbuf.oom)
        return 1;
    for (int j = 0; s->ybuf && j < s->ny; j++)
        if (s->ybuf[j].oom) return 1;
    return 0;
}

int ds_shape_oom(ds_shaper *s, char **err)
{
    return ds_shape_fail(s, err, "out of memory");
}

/* ---------------------------------------------------------------- key equality */

static int eq_name(const void *ctx, size_t idx, const void *key)
{
    const ds_shaper *s = ctx;
    return strcmp(colname(s, (int)idx), key) == 0;
}

static int eq_span(const ds_buf *b, span sp, const bytes *k)
{
    return sp.len == k->n && memcmp(b->p + sp.off, k->p, k->n) == 0;
}

static int eq_map(const void *ctx, size_t idx, const void *key)
{
    const ds_shaper *s = ctx;
    return eq_span(&s->out, s->mk[idx], key);
}

static int eq_x(const void *ctx, size_t idx, const void *key)
{
    const ds_shaper *s = ctx;
    return eq_span(&s->xbuf, s->xv[idx], key);
}

static int eq_series(const void *ctx, size_t idx, const void *key)
{
    const ds_shaper *s = ctx;
    return eq_span(&s->sbuf, s->sv[idx], key);
}

static int eq_point(const void *ctx, size_t idx, const void *key)
{
    const ds_shaper *s = ctx;
    const size_t *k = key;
    return s->pt[idx].xi == k[0] && s->pt[idx].si == k[1];
}

static uint64_t hash_point(size_t xi, size_t si)
{
    return ds_hash_mix((uint64_t)xi * 0x9E3779B97F4A7C15ULL ^ (uint64_t)si);
}

/* ---------------------------------------------------------------- setup */

/* The column named name: an exact match, else the only one equal ignoring
 * ASCII case (SQLite's own rule for identifiers). -1 when none or ambiguous. */
static int find_col(const ds_shaper *s, const char *name)
{
    int found = -1;
    for (int i = 0; i < s->ncols; i++)
        if (strcmp(colname(s, i), name) == 0) return i;
    for (int i = 0; i < s->ncols; i++) {
        if (strcasecmp(colname(s, i), name) != 0) continue;
        if (found >= 0) return -1;
        found = i;
    }
    return found;
}

static int setup_series(ds_shaper *s, const ds_item *it, char **err)
{
    if (!it->x) return ds_shape_fail(s, err, "shape series needs x");
    s->xcol = find_col(s, it->x);
    if (s->xcol < 0) return ds_shape_fail(s, err, "x column '%s' is not in the result", it->x);
    s->sbcol = -1;
    if (it->series_by) {
        s->sbcol = find_col(s, it->series_by);
        if (s->sbcol < 0) return ds_shape_fail(s, err, "series_by column '%s' is not in the result", it->series_by);
    }
    size_t ny = it->ny ? it->ny : (size_t)s->ncols;
    s->ycol = malloc(ny * sizeof *s->ycol);
    if (!s->ycol) return ds_shape_oom(s, err);
    s->ny = 0;
    if (it->ny) {
        for (size_t j = 0; j < it->ny; j++) {
            int c = find_col(s, it->y[j]);
            if (c < 0) return ds_shape_fail(s, err, "y column '%s' is not in the result", it->y[j]);
            for (int k = 0; k < s->ny; k++)
                if (s->ycol[k] == c) return ds_shape_fail(s, err, "y names column '%s' twice", it->y[j]);
            s->ycol[s->ny++] = c;
        }
    } else {
        for (int c = 0; c < s->ncols; c++)
            if (c != s->xcol && c != s->sbcol) s->ycol[s->ny++] = c;
        if (s->ny == 0) return ds_shape_fail(s, err, "shape series: no y column left besides x and series_by");
    }
    if (s->sbcol >= 0) {
        if (s->ny != 1)
            return ds_shape_fail(s, err, "series_by needs exactly one y column, not %d", s->ny);
        s->textcols[s->sbcol] = 1;
        const char *f = it->fill ? it->fill : "null";
        s->fill = ds_strdup(f);
        if (!s->fill) return ds_shape_oom(s, err);
        s->fill_len = strlen(f);
        s->fixed = 6 + 12 + 2;       /* {"x":[  ],"series":{  }} */
        return 0;
    }
    s->yname = malloc((size_t)s->ny * sizeof *s->yname);
    s->ybuf = calloc((size_t)s->ny, sizeof *s->ybuf);
    if (!s->yname || !s->ybuf) return ds_shape_oom(s, err);
    for (int j = 0; j < s->ny; j++) {
        const char *n = colname(s, s->ycol[j]);
        s->yname[j].off = s->ynames.len;
        ds_json_string(&s->ynames, n, strlen(n));
        s->yname[j].len = s->ynames.len - s->yname[j].off;
    }
    if (s->ynames.oom) return ds_shape_oom(s, err);
    /* {"x":[ ],"series":{ "name":[ ] per y, commas between, }} */
    s->fixed = 6 + 12 + 2 + s->ynames.len + 3 * (size_t)s->ny + (size_t)s->ny - 1;
    return 0;
}

/* Prepares shaping of one result (see ds_runtime.h). Returns NULL with *err
 * (malloc'd; NULL only on OOM while formatting it) when the columns do not
 * fit the shape or on OOM; nothing is leaked either way. */
ds_shaper *ds_shaper_new(const ds_item *it, const char *const *cols, int ncols, char **err)
{
    *err = NULL;
    ds_shaper *s = calloc(1, sizeof *s);
    if (!s) { *err = ds_strdup("out of memory"); return NULL; }
    s->shape = it->shape;
    s->ncols = ncols;
    s->max_rows = it->max_rows;
    s->max_bytes = it->max_bytes;
    s->sbcol = -1;
    if (ncols < 1) { ds_shape_fail(s, err, "the query returns no columns"); goto bad; }
    s->name_off = malloc((size_t)ncols * sizeof *s->name_off);
    s->textcols = calloc((size_t)ncols, 1);
    if (!s->name_off || !s->textcols) { ds_shape_oom(s, err); goto bad; }
    for (int i = 0; i < ncols; i++) {
        const char *n = cols[i] ? cols[i] : "";
        s->name_off[i] = s->names.len;
        ds_buf_add(&s->names, n, strlen(n) + 1);
    }
    if (s->names.oom) { ds_shape_oom(s, err); goto bad; }

    /* Column names become object keys in row, rows and series: refuse two
     * equal ones rather than print an object with a repeated key. */
    if (s->shape == DS_SHAPE_ROW || s->shape == DS_SHAPE_ROWS || s->shape == DS_SHAPE_SERIES) {
        ds_htab t = {0};
        int dup = -1;
        for (int i = 0; i < ncols && dup < 0; i++) {
            if (ds_htab_room(&t)) { free(t.s); ds_shape_oom(s, err); goto bad; }
            const char *n = colname(s, i);
            uint64_t h = ds_hash_bytes(n, strlen(n));
            ds_htab_slot *e = ds_htab_find(&t, h, eq_name, s, n);
            if (e->idx1) dup = i;
            else ds_htab_put(&t, e, h, (size_t)i);
        }
        free(t.s);
        if (dup >= 0) {
            ds_shape_fail(s, err, "the result has two columns named '%s'", colname(s, dup));
            goto bad;
        }
    }

    switch (s->shape) {
    case DS_SHAPE_SCALAR:
        if (ncols != 1) {
            ds_shape_fail(s, err, "shape scalar needs exactly 1 column, the query returns %d", ncols);
            goto bad;
        }
        break;
    case DS_SHAPE_MAP:
        if (ncols != 2) {
            ds_shape_fail(s, err, "shape map needs exactly 2 columns, the query returns %d", ncols);
            goto bad;
        }
        s->textcols[0] = 1;
        ds_buf_addc(&s->out, '{');
        break;
    case DS_SHAPE_ROW:
    case DS_SHAPE_ROWS:
        s->key = malloc((size_t)ncols * sizeof *s->key);
        if (!s->key) { ds_shape_oom(s, err); goto bad; }
        for (int i = 0; i < ncols; i++) {
            const char *n = colname(s, i);
            s->key[i].off = s->keys.len;
            ds_json_string(&s->keys, n, strlen(n));
            ds_buf_addc(&s->keys, ':');
            s->key[i].len = s->keys.len - s->key[i].off;
        }
        if (s->shape == DS_SHAPE_ROWS) ds_buf_addc(&s->out, '[');
        break;
    case DS_SHAPE_SERIES:
        if (setup_series(s, it, err)) goto bad;
        break;
    default:
        ds_shape_fail(s, err, "unknown shape %d", (int)s->shape);
        goto bad;
    }
    if (s->keys.oom || any_oom(s)) { ds_shape_oom(s, err); goto bad; }
    return s;
bad:
    if (!*err && s->failed == 0) *err = ds_strdup("out of memory");
    ds_shaper_free(s);
    return NULL;
}

/* The executor's per-column flags (see ds_runtime.h); owned by the shaper. */
const unsigned char *ds_shaper_textcols(const ds_shaper *s)
{
    return s->textcols;
}

/* ---------------------------------------------------------------- rows */

static int row_object(ds_shaper *s, const ds_cell *cells, char **err)
{
    ds_buf_addc(&s->out, '{');
    for (int i = 0; i < s->ncols; i++) {
        if (i) ds_buf_addc(&s->out, ',');
        ds_buf_add(&s->out, s->keys.p + s->key[i].off, s->key[i].len);
        if (put(s, &s->out, &cells[i], err) || check_size(s, err)) return -1;
    }
    ds_buf_addc(&s->out, '}');
    return 0;
}

static int map_row(ds_shaper *s, const ds_cell *cells, char **err)
{
    const ds_cell *k = &cells[0];
    if (k->type == DS_T_NULL)
        return ds_shape_fail(s, err, "shape map: NULL key in column '%s'", colname(s, 0));
    if (k->type == DS_T_TEXT && s->max_bytes > 0 && k->n + 2 > (uint64_t)s->max_bytes)
        return ds_shape_too_big(s, err);
    if (k->type == DS_T_RAW && s->max_bytes > 0 && k->kn + 2 > (uint64_t)s->max_bytes)
        return ds_shape_too_big(s, err);
    if (s->rows > 1) ds_buf_addc(&s->out, ',');
    span sp = {s->out.len, 0};
    key_json(&s->out, k);
    if (s->out.oom || ds_htab_room(&s->mtab)) return ds_shape_oom(s, err);
    span *nm = ds_vec_grow(s->mk, &s->mkcap, s->nmk, sizeof *s->mk);
    if (!nm) return ds_shape_oom(s, err);
    s->mk = nm;
    sp.len = s->out.len - sp.off;
    bytes kb = {s->out.p + sp.off, sp.len};
    uint64_t h = ds_hash_bytes(kb.p, kb.n);
    ds_htab_slot *e = ds_htab_find(&s->mtab, h, eq_map, s, &kb);
    if (e->idx1) {
        char t[80];
        return ds_shape_fail(s, err, "shape map: duplicate key %s in column '%s'",
                    snip(kb.p, kb.n, t), colname(s, 0));
    }
    s->mk[s->nmk] = sp;
    ds_htab_put(&s->mtab, e, h, s->nmk++);
    ds_buf_addc(&s->out, ':');
    if (put(s, &s->out, &cells[1], err)) return -1;
    return check_size(s, err);
}

static int series_row(ds_shaper *s, const ds_cell *cells, char **err)
{
    if (s->rows > 1) ds_buf_addc(&s->xbuf, ',');
    if (put(s, &s->xbuf, &cells[s->xcol], err) || check_size(s, err)) return -1;
    for (int j = 0; j < s->ny; j++) {
        ds_buf *b = &s->ybuf[j];
        size_t before = b->len;
        if (s->rows > 1) ds_buf_addc(b, ',');
        int r = put(s, b, &cells[s->ycol[j]], err);
        s->ybytes += b->len - before;
        if (r || check_size(s, err)) return -1;
    }
    return 0;
}

/* Finds or adds bytes k (JSON text) among the distinct values of a pivot
 * axis; *idx receives its index. 0 ok, -1 OOM. */
static int axis_add(ds_shaper *s, ds_htab *t, ds_htab_eq eq, ds_buf *store, span **v, size_t *n,
                    size_t *cap, int commas, const ds_buf *k, size_t *idx)
{
    if (ds_htab_room(t)) return -1;
    span *nv = ds_vec_grow(*v, cap, *n, sizeof **v);
    if (!nv) return -1;
    *v = nv;
    bytes kb = {k->p, k->len};
    uint64_t h = ds_hash_bytes(kb.p, kb.n);
    ds_htab_slot *e = ds_htab_find(t, h, eq, s, &kb);
    if (!e->idx1) {
        if (commas && *n) ds_buf_addc(store, ',');
        (*v)[*n].off = store->len;
        (*v)[*n].len = k->len;
        ds_buf_add(store, k->p, k->len);
        if (store->oom) return -1;
        ds_htab_put(t, e, h, (*n)++);
    }
    *idx = e->idx1 - 1;
    return 0;
}

static int pivot_row(ds_shaper *s, const ds_cell *cells, char **err)
{
    const ds_cell *xc = &cells[s->xcol], *sc = &cells[s->sbcol], *yc = &cells[s->ycol[0]];
    if (sc->type == DS_T_NULL)
        return ds_shape_fail(s, err, "shape series: NULL in series_by column '%s'", colname(s, s->sbcol));
    if (sc->type == DS_T_TEXT && s->max_bytes > 0 && sc->n + 2 > (uint64_t)s->max_bytes)
        return ds_shape_too_big(s, err);
    if (sc->type == DS_T_RAW && s->max_bytes > 0 && sc->kn + 2 > (uint64_t)s->max_bytes)
        return ds_shape_too_big(s, err);
    ds_buf_reset(&s->tmp);
    ds_buf_reset(&s->tmp2);
    if (put(s, &s->tmp, xc, err)) return -1;
    key_json(&s->tmp2, sc);
    if (s->tmp.oom || s->tmp2.oom) return ds_shape_oom(s, err);

    size_t xi, si;
    if (axis_add(s, &s->xtab, eq_x, &s->xbuf, &s->xv, &s->nx, &s->xcap, 1, &s->tmp, &xi) ||
        axis_add(s, &s->stab, eq_series, &s->sbuf, &s->sv, &s->ns, &s->scap, 0, &s->tmp2, &si) ||
        ds_htab_room(&s->ptab))
        return ds_shape_oom(s, err);
    point *np = ds_vec_grow(s->pt, &s->ptcap, s->npt, sizeof *s->pt);
    if (!np) return ds_shape_oom(s, err);
    s->pt = np;
    size_t k[2] = {xi, si};
    uint64_t h = hash_point(xi, si);
    ds_htab_slot *e = ds_htab_find(&s->ptab, h, eq_point, s, k);
    if (e->idx1) {
        char t1[80], t2[80];
        return ds_shape_fail(s, err, "shape series: two rows for x %s and series %s",
                    snip(s->tmp.p, s->tmp.len, t1), snip(s->tmp2.p, s->tmp2.len, t2));
    }
    size_t off = s->cbuf.len;
    if (put(s, &s->cbuf, yc, err)) return -1;
    if (s->cbuf.oom) return ds_shape_oom(s, err);
    s->pt[s->npt] = (point){xi, si, off, s->cbuf.len - off};
    ds_htab_put(&s->ptab, e, h, s->npt++);
    return check_size(s, err);
}

/* Consumes one row of ncols cells (see ds_runtime.h). -1 with *err on a run
 * error; the shaper then refuses further rows and must only be freed. */
int ds_shaper_row(ds_shaper *s, const ds_cell *cells, char **err)
{
    *err = NULL;
    if (s->failed || s->finished) return ds_shape_fail(s, err, "internal error: shaper used after it ended");
    for (int i = 0; i < s->ncols; i++)
        if (cells[i].type == DS_T_BLOB) {
            const char *n = colname(s, i);
            return ds_shape_fail(s, err, "column '%s' is a BLOB; use hex(%s) in the query", n, n);
        }
    s->rows++;
    if ((s->shape == DS_SHAPE_SCALAR || s->shape == DS_SHAPE_ROW) && s->rows > 1)
        return ds_shape_fail(s, err, "shape %s: the query returned more than one row", ds_shape_name(s->shape));
    if (s->max_rows > 0 && s->rows > s->max_rows)
        return ds_shape_fail(s, err, "more than max_rows (%" PRId64 ") rows", s->max_rows);
    int r;
    switch (s->shape) {
    case DS_SHAPE_SCALAR:
        r = put(s, &s->out, &cells[0], err);
        break;
    case DS_SHAPE_ROW:
        r = row_object(s, cells, err);
        break;
    case DS_SHAPE_ROWS:
        if (s->rows > 1) ds_buf_addc(&s->out, ',');
        r = row_object(s, cells, err);
        break;
    case DS_SHAPE_MAP:
        r = map_row(s, cells, err);
        break;
    default:
        r = s->sbcol < 0 ? series_row(s, cells, err) : pivot_row(s, cells, err);
        break;
    }
    if (r) return r;
    if (any_oom(s)) return ds_shape_oom(s, err);
    return check_size(s, err);
}

