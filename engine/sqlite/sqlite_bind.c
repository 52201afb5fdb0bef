/*
 * sqlite_bind.c — the SQLite engine's one parameter binder, for running an
 * item (sqlite_exec.c) and explaining it (sqlite_read.c) alike.
 *
 * It walks the statement's parameters once: each named one (:x, @x, $x) gets
 * params entry x, or :now's text. Positional ones (?, ?NNN) are never bound
 * (the compiler refuses them), so a param entry that happens to be named "1"
 * does not bind ?1. A value SQLite refuses (too big, out of memory) is an
 * error naming the parameter, never a silent NULL.
 */
#include <string.h>
#include "sqlite_int.h"

/* params entry `name`, or NULL. Items have few params: a linear search. */
static const ds_param *find_param(const ds_item *it, const char *name)
{
    for (size_t k = 0; k < it->nparams; k++)
        if (strcmp(it->params[k].name, name) == 0) return &it->params[k];
    return NULL;
}

int ds_sqlite_bind(sqlite3_stmt *st, const ds_item *it, const char *now, char **err)
{
    int n = sqlite3_bind_parameter_count(st);
    for (int i = 1; i <= n; i++) {
        const char *pn = sqlite3_bind_parameter_name(st, i);
        if (!pn || pn[0] == '?' || !pn[1]) continue;
        const char *name = pn + 1;
        int rc = SQLITE_OK;
        const ds_param *p;
        if (strcmp(name, "now") == 0) {
            rc = sqlite3_bind_text(st, i, now, -1, SQLITE_TRANSIENT);
        } else if (strcmp(name, "since") == 0) {
            /* incremental (runtime/ds_incr.c): NULL on a full compute */
            char ts[20];
            if (it->since > 0) ds_time_format(it->since, ts);
            rc = it->since > 0 ? sqlite3_bind_text(st, i, ts, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
        } else if ((p = find_param(it, name))) {
            switch (p->type) {
            case DS_PARAM_INT:
            case DS_PARAM_BOOL: rc = sqlite3_bind_int64(st, i, p->i); break;
            case DS_PARAM_REAL: rc = sqlite3_bind_double(st, i, p->r); break;
            case DS_PARAM_TEXT: rc = sqlite3_bind_text(st, i, p->s ? p->s : "", -1, SQLITE_TRANSIENT); break;
            }
        }
        if (rc != SQLITE_OK) {
            *err = ds_asprintf("cannot bind %s: %s", pn, sqlite3_errstr(rc));
            return -1;
        }
    }
    return 0;
}
