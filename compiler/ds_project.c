/*
 * ds_project.c — dashspec.yaml, the project file (docs/project.md): found by
 * walking up from the working directory as git finds .git, parsed with the
 * compiler's YAML layer (compiler/ds_yaml.c) so its errors point at
 * FILE:LINE:COL like the specs' do, unknown keys suggesting the nearest one.
 *
 *   version: 1               # optional; 1 when given
 *   database: app.db         # --db
 *   source: replica.db       # --source
 *   specs: specs             # --specs
 *   migrations: migrations   # check --migrations
 *   jobs: 4                  # run --jobs (1..64)
 *   busy_timeout: 5s         # run --busy-timeout (a duration, or 500ms)
 *
 * Precedence (applied by cli/): flags, then the environment ($DASHSPEC_DB),
 * then this file.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ds_common.h"
#include "ds_project.h"
#include "ds_yaml.h"

static const char *const project_keys[] = {
    "version", "database", "source", "specs", "migrations", "jobs", "busy_timeout", NULL
};

const char ds_project_template[] =
    "# dashspec.yaml - the project file, found by walking up from the working\n"
    "# directory. Paths are relative to this file's directory. Command-line flags\n"
    "# override $DASHSPEC_DB, which overrides this file. See docs/project.md.\n"
    "version: 1\n"
    "specs: specs\n"
    "# database: app.db           # the SQLite file (--db); never created\n"
    "# migrations: db/migrations  # check prepares the SQL against these\n"
    "# jobs: 4                    # run --jobs\n"
    "# busy_timeout: 5s           # run --busy-timeout\n";

const char ds_project_example_spec[] =
    "# specs/example.yaml - one metric and one chart to start from (dashspec init).\n"
    "# Replace the queries with your own tables; `dashspec check` validates them.\n"
    "version: 1\n"
    "defaults:\n"
    "  ttl: 15m\n"
    "  group: example\n"
    "metrics:\n"
    "  - key: example_now\n"
    "    description: The run's time (replace with a query of yours)\n"
    "    shape: scalar\n"
    "    query: SELECT :now\n"
    "charts:\n"
    "  - key: example_last_hours\n"
    "    description: The last six hours, one point each\n"
    "    shape: series\n"
    "    x: hour\n"
    "    params: { hours: 6 }\n"
    "    query: |\n"
    "      WITH RECURSIVE h(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM h WHERE i + 1 < :hours)\n"
    "      SELECT strftime('%Y-%m-%d %H:00', datetime(:now, '-' || i || ' hours')) AS hour, i AS n\n"
    "      FROM h ORDER BY hour\n";

char *ds_project_find(const char *dir)
{
    char cwd[PATH_MAX];
    if (!dir) {
        if (!getcwd(cwd, sizeof cwd)) return NULL;
        dir = cwd;
    }
    char *cur = ds_strdup(dir);
    while (cur) {
        char *cand = ds_asprintf("%s%s" DS_PROJECT_FILE, cur, cur[strlen(cur) - 1] == '/' ? "" : "/");
        struct stat st;
        if (cand && stat(cand, &st) == 0 && S_ISREG(st.st_mode)) { free(cur); return cand; }
        free(cand);
        char *slash = strrchr(cur, '/');
        if (!slash || strcmp(cur, "/") == 0) break;       /* the root was the last */
        if (slash == cur) slash[1] = '\0';                 /* "/a" -> "/" */
        else *slash = '\0';
    }
    free(cur);
    return NULL;
}

/* A path from the file resolved against its directory; URIs, conninfo
 * strings and absolute paths as written. */
static char *resolve(const ds_project *p, const char *v)
{
    if (v[0] == '/' || strstr(v, "://") || strchr(v, '=')) return ds_strdup(v);
    return ds_asprintf("%s/%s", p->dir, v);
}

#define BAD(v, ...) ds_error(d, p->path, (v)->mark.line, (v)->mark.col, NULL, __VA_ARGS__)

/* One key: value pair. 0 ok, -1 after an error. */
static int load_pair(ds_project *p, const ynode *k, const ynode *v, ds_diag *d)
{
    const char *name = k->s;
    int is_int = strcmp(name, "jobs") == 0 || strcmp(name, "version") == 0;
    if (v->kind != YN_SCALAR || v->alias || v->tagged)
        return BAD(v, "%s must be %s, found %s", name, is_int ? "a number" : "a string", ds_yaml_type_name(v));
    yval y = ds_yaml_resolve(v);
    if (is_int) {
        if (y.type != YT_INT) return BAD(v, "%s must be a number, found %s", name, ds_yaml_type_name(v));
        if (name[0] == 'v' && y.i != 1) return BAD(v, "version must be 1");
        if (name[0] == 'j' && (y.i < 1 || y.i > 64)) return BAD(v, "jobs must be from 1 to 64");
        if (name[0] == 'j') p->jobs = (int)y.i;
        return 0;
    }
    if (y.type != YT_STR || v->len == 0 || v->has_nul)
        return BAD(v, "%s must be a non-empty string, found %s", name, ds_yaml_type_name(v));
    if (strcmp(name, "busy_timeout") == 0) {
        size_t n = v->len;
        int64_t secs;
        const char *why;
        if (n > 2 && strcmp(v->s + n - 2, "ms") == 0) {
            char *end;
            errno = 0;
            long long ms = strtoll(v->s, &end, 10);
            if (errno || end != v->s + n - 2 || ms < 0 || v->s[0] == '-' || v->s[0] == '+')
                return BAD(v, "%s: '%s' is not a duration like 5s, 1m or 500ms", name, v->s);
            p->busy_ms = ms;
        } else if (ds_duration_parse(v->s, &secs, &why) == 0) {
            p->busy_ms = secs * 1000;
        } else {
            return BAD(v, "%s: '%s' is not a duration like 5s, 1m or 500ms", name, v->s);
        }
        return 0;
    }
    char **slot = strcmp(name, "database") == 0 ? &p->database : strcmp(name, "source") == 0 ? &p->source
                : strcmp(name, "specs") == 0 ? &p->specs : &p->migrations;
    free(*slot);
    *slot = resolve(p, v->s);
    return *slot ? 0 : ds_fail(d, DS_DBERROR, "out of memory");
}

int ds_project_load(const char *path, ds_project *p, ds_diag *d)
{
    memset(p, 0, sizeof *p);
    p->busy_ms = -1;
    p->path = ds_strdup(path);
    const char *slash = strrchr(path, '/');
    p->dir = slash ? (slash == path ? ds_strdup("/") : ds_strndup(path, (size_t)(slash - path))) : ds_strdup(".");
    if (!p->path || !p->dir) return ds_fail(d, DS_DBERROR, "out of memory");
    size_t len;
    char *buf = ds_read_file(path, &len);
    if (!buf) return ds_error(d, path, 0, 0, NULL, "cannot read the project file: %s", strerror(errno));
    ynode *root = NULL;
    ds_yerr ye;
    ds_ydoc *doc = ds_yaml_parse(buf, len, 16, &root, &ye);
    int rc = 0;
    if (!doc) {
        rc = ds_error(d, path, ye.mark.line, ye.mark.col, NULL, "%s", ye.msg);
    } else if (root->kind != YN_MAP) {
        rc = ds_error(d, path, root->mark.line, root->mark.col, NULL,
                      "the project file must be a mapping of settings, found %s", ds_yaml_type_name(root));
    } else {
        for (size_t i = 0; i + 1 < root->n; i += 2) {
            const ynode *k = root->v[i], *v = root->v[i + 1];
            int known = 0;
            for (const char *const *c = project_keys; *c && k->kind == YN_SCALAR; c++)
                known |= strcmp(*c, k->s) == 0 && strlen(*c) == k->len;
            if (!known) {
                const char *near = k->kind == YN_SCALAR ? ds_suggest(k->s, k->len, project_keys) : NULL;
                if (near)
                    ds_error(d, path, k->mark.line, k->mark.col, NULL, "unknown key '%s'; did you mean '%s'?", k->s, near);
                else
                    ds_error(d, path, k->mark.line, k->mark.col, NULL, "unknown key '%s'",
                             k->kind == YN_SCALAR ? k->s : "(not a scalar)");
                rc = -1;
                continue;
            }
            for (size_t j = 0; j < i; j += 2)
                if (root->v[j]->kind == YN_SCALAR && strcmp(root->v[j]->s, k->s) == 0) {
                    ds_error(d, path, k->mark.line, k->mark.col, NULL, "duplicate key '%s' (first at line %d)",
                             k->s, root->v[j]->mark.line);
                    rc = -1;
                }
            if (load_pair(p, k, v, d)) rc = -1;
        }
    }
    ds_yaml_free(doc);
    free(buf);
    return rc;
}

void ds_project_free(ds_project *p)
{
    if (!p) return;
    free(p->path);
    free(p->dir);
    free(p->database);
    free(p->source);
    free(p->specs);
    free(p->migrations);
    memset(p, 0, sizeof *p);
    p->busy_ms = -1;
}
