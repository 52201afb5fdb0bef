/*
 * pg_lint.c — check --explain on PostgreSQL: which tables a query's plan
 * reads in full. The query is prepared (named, typed by the server) inside a
 * READ ONLY transaction, its generic plan read with EXPLAIN (FORMAT JSON)
 * under plan_cache_mode = force_generic_plan (so the NULL arguments given to
 * EXECUTE do not shape it), and every "Seq Scan" node's relation collected.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "pg_int.h"

static int add_name(char ***names, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*names)[i], s) == 0) return 0;
    char **v = realloc(*names, (*n + 1) * sizeof *v);
    if (!v) return -1;
    *names = v;
    if (!(v[*n] = ds_strdup(s))) return -1;
    (*n)++;
    return 0;
}

/* Walks one plan node and its children, in plan order. */
static int walk(const cJSON *node, char ***names, size_t *n)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "Node Type");
    const cJSON *rel = cJSON_GetObjectItemCaseSensitive(node, "Relation Name");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "Seq Scan") == 0 && cJSON_IsString(rel) &&
        add_name(names, n, rel->valuestring))
        return -1;
    const cJSON *kids = cJSON_GetObjectItemCaseSensitive(node, "Plans");
    const cJSON *k;
    cJSON_ArrayForEach(k, kids)
        if (walk(k, names, n)) return -1;
    return 0;
}

int ds_pg_full_scans(PGconn *c, const char *query, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    ds_pg_sql q = {0};
    char *err = NULL;
    size_t pos;
    if (ds_pg_sql_rewrite(query, strlen(query), &q, &err, &pos)) {
        free(err);
        return err ? 0 : -1;
    }
    int rc = 0;
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_add(&b, "EXPLAIN (FORMAT JSON) EXECUTE ds_lint", 37);
    for (int i = 0; i < q.nparams; i++) ds_buf_add(&b, i ? ", NULL" : "(NULL", i ? 6 : 5);
    if (q.nparams) ds_buf_addc(&b, ')');
    ds_buf_addc(&b, '\0');
    PGresult *r = PQexec(c, "BEGIN READ ONLY");
    PQclear(r);
    r = PQexec(c, "SET LOCAL plan_cache_mode = force_generic_plan");
    PQclear(r);
    r = PQprepare(c, "ds_lint", q.text, q.nparams, NULL);
    int prepared = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (prepared && !b.oom) {
        r = PQexec(c, b.p);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
            cJSON *j = cJSON_Parse(PQgetvalue(r, 0, 0));
            const cJSON *top = cJSON_GetArrayItem(j, 0);
            const cJSON *plan = cJSON_GetObjectItemCaseSensitive(top, "Plan");
            if (plan && walk(plan, names, n)) rc = -1;
            cJSON_Delete(j);
        }
        PQclear(r);
    }
    if (b.oom) rc = -1;
    ds_pg_rollback(c);
    if (prepared) PQclear(PQexec(c, "DEALLOCATE ds_lint"));
    ds_buf_free(&b);
    ds_pg_sql_free(&q);
    return rc;
}
