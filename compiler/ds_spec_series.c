/*
 * ds_spec_series.c — the series options: y and fill parsed, the options
 * allowed only on shape series (phase 3), and what a series needs once all
 * is known (phase 6). x and series_by are plain columns (ds_spec_fields.c).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ds_spec_int.h"

static int json_number(const char *s)
{
    size_t i = 0;
    if (s[i] == '-') i++;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (s[i] >= '0' && s[i] <= '9') i++;
    else return 0;
    if (s[i] == '.') {
        i++;
        if (!(s[i] >= '0' && s[i] <= '9')) return 0;
        while (s[i] >= '0' && s[i] <= '9') i++;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '+' || s[i] == '-') i++;
        if (!(s[i] >= '0' && s[i] <= '9')) return 0;
        while (s[i] >= '0' && s[i] <= '9') i++;
    }
    return s[i] == '\0';
}

/* The shortest text that reads back as r, in the style of Python's repr
 * (a real always shows a '.' or an exponent). */
static void real_text(double r, char *out, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, r);
        if (strtod(out, NULL) == r) break;
    }
    if (!strpbrk(out, ".eEn")) {
        size_t l = strlen(out);
        if (l + 2 < n) memcpy(out + l, ".0", 3);
    }
}

int ds_spec_parse_y(ld *L, const ynode *v, ds_item *it, const char *key)
{
    int rc = 0;
    size_t cap = it->ny;
    if (ds_spec_poisoned(v)) return -1;
    it->m_y = v->mark;
    if (v->kind == YN_SCALAR) {
        const char *s = ds_spec_want_column(L, v, "'y'", key);
        if (!s) return -1;
        if (ds_spec_add_str(&it->y, &it->ny, &cap, s)) return ds_spec_oom(L, v->mark);
        return 0;
    }
    if (v->kind != YN_SEQ)
        return ds_spec_err(L, v->mark, key, "'y' must be a column name or a list of them, found %s", ds_yaml_type_name(v));
    if (v->n == 0) return ds_spec_err(L, v->mark, key, "'y' must name at least one column");
    it->m_ys = calloc(v->n, sizeof *it->m_ys);
    if (!it->m_ys) return ds_spec_oom(L, v->mark);
    for (size_t i = 0; i < v->n; i++) {
        const ynode *e = v->v[i];
        const char *s = ds_spec_want_column(L, e, "each column in 'y'", key);
        if (!s) { rc = -1; continue; }
        size_t j;
        for (j = 0; j < it->ny; j++)
            if (strcmp(it->y[j], s) == 0) break;
        if (j < it->ny) {
            rc = ds_spec_err(L, e->mark, key, "duplicate column '%s' in 'y'; first at line %d",
                     ds_spec_shown(L, e), it->m_ys[j].line);
            continue;
        }
        if (ds_spec_add_str(&it->y, &it->ny, &cap, s)) { rc = ds_spec_oom(L, e->mark); continue; }
        it->m_ys[it->ny - 1] = e->mark;
    }
    return rc;
}

int ds_spec_parse_fill(ld *L, const ynode *v, ds_item *it, const char *key)
{
    char num[64];
    if (ds_spec_poisoned(v)) return -1;
    it->m_fill = v->mark;
    yval y = v->kind == YN_SCALAR ? ds_yaml_resolve(v) : (yval){YT_STR, 0, 0, 0};
    if (v->kind != YN_SCALAR || (y.type != YT_NULL && y.type != YT_INT && y.type != YT_REAL))
        return ds_spec_err(L, v->mark, key, "'fill' must be a number or null, found %s", ds_yaml_type_name(v));
    if (y.type == YT_NULL) strcpy(num, "null");
    else if (y.type == YT_INT) {
        if (y.overflow)
            return ds_spec_err(L, v->mark, key, "'fill' is out of range (integers are 64-bit)");
        snprintf(num, sizeof num, "%" PRId64, y.i);
    } else {
        if (!isfinite(y.r)) return ds_spec_err(L, v->mark, key, "'fill' must be a finite number or null");
        if (json_number(v->s) && v->len < sizeof num) memcpy(num, v->s, v->len + 1);
        else real_text(y.r, num, sizeof num);
    }
    free(it->fill);
    if (!(it->fill = ds_strdup(num))) return ds_spec_oom(L, v->mark);
    return 0;
}

/* Phase 3: series options. The item's own only on series items; the
 * defaults' only reach series items. On other shapes values parsed only to
 * report their errors are dropped: they have no meaning there. */
void ds_spec_item_series(itemld *I)
{
    ds_item *it = &I->it;
    const defaults *D = I->D;
    for (int f = F_X; f <= F_FILL; f++) {
        if (I->F.v[f]) {
            if (I->shape_known && !I->series) {
                if (!ds_spec_poisoned(I->F.v[f]))
                    ds_spec_err(I->L, I->F.v[f]->mark, I->key, "'%s' is only allowed for shape series, not %s",
                                ds_item_fields[f], ds_shape_name(it->shape));
                I->bad++;
                continue;
            }
            I->F.ok[f] = ds_spec_parse_field(I->L, f, I->F.v[f], it, I->key) == 0;
            if (!I->F.ok[f]) { I->bad++; I->sqlcheck = 0; }
            I->have[f] = I->F.ok[f];
        } else if (I->series && D->f.v[f]) {
            if (!D->f.ok[f]) { I->bad++; I->sqlcheck = 0; continue; }
            if (ds_spec_copy_field(f, &D->it, it)) { ds_spec_oom(I->L, I->m->mark); I->bad++; continue; }
            I->have[f] = 2;
        }
    }
    if (I->series) return;
    free(it->x); it->x = NULL;
    for (size_t i = 0; i < it->ny; i++) free(it->y[i]);
    free(it->y); it->y = NULL; it->ny = 0;
    free(it->m_ys); it->m_ys = NULL;
    free(it->series_by); it->series_by = NULL;
    free(it->fill); it->fill = NULL;
    it->m_x = it->m_y = it->m_series_by = it->m_fill = (ds_mark){0, 0};
}

/* Phase 6: what a series needs once everything is known: an x, one y with
 * series_by, and fill defaulting to null. */
void ds_spec_item_series_rules(itemld *I)
{
    ds_item *it = &I->it;
    if (!I->series) return;
    if (!I->F.v[F_X] && !I->D->f.v[F_X]) {
        ds_spec_err(I->L, I->m->mark, I->key, "missing required field 'x' (shape series needs it)");
        I->bad++;
        I->sqlcheck = 0;
    }
    if (it->series_by && it->ny > 1) {
        ds_spec_err(I->L, it->m_y, I->key,
                    "'y' must name exactly one column when 'series_by' is set (found %zu)", it->ny);
        I->bad++;
        I->sqlcheck = 0;
    }
    if (!it->fill && !(it->fill = ds_strdup("null"))) { ds_spec_oom(I->L, I->m->mark); I->bad++; }
}
