/*
 * check_fixtures.c — the golden corpus, end to end through the built binary.
 *
 * tests/fixtures/invalid/<case>/ holds specs/ (one or more spec files) and
 * expected.err: the exact stdout of
 *
 *   dashspec check --schema tests/fixtures/schema.sql --specs tests/fixtures/invalid/<case>/specs
 *
 * run from the repository root, which must exit 1. tests/fixtures/valid/<case>/specs
 * must check clean (exit 0, no error line). Every case runs even after one
 * fails, and the failure names each case that did not match, with a diff-like
 * excerpt, so one run shows the whole damage. DS_FIXTURE=<case> narrows the
 * run to one case.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ds_common.h"
#include "ds_test.h"

#define SCHEMA "tests/fixtures/schema.sql"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case directories of tests/fixtures/<kind>, sorted; NULL-terminated. */
static char **cases(const char *kind, size_t *n)
{
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fixtures/%s", kind);
    DIR *dp = opendir(dir);
    ck_assert_msg(dp != NULL, "cannot open %s (tests run from the repository root)", dir);
    size_t cap = 64;
    char **v = malloc(cap * sizeof *v);
    ck_assert_ptr_nonnull(v);
    *n = 0;
    const char *only = getenv("DS_FIXTURE");
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.') continue;
        if (only && *only && strcmp(only, de->d_name) != 0) continue;
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (*n + 1 >= cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            ck_assert_ptr_nonnull(v);
        }
        v[(*n)++] = strdup(de->d_name);
    }
    closedir(dp);
    qsort(v, *n, sizeof *v, cmp_str);
    v[*n] = NULL;
    return v;
}

static void free_cases(char **v)
{
    for (size_t i = 0; v[i]; i++) free(v[i]);
    free(v);
}

/* The first line where a and b differ, for the failure message. */
static void first_difference(ds_buf *b, const char *want, const char *got)
{
    int line = 1;
    const char *w = want, *g = got;
    while (*w && *g) {
        const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
        size_t wl = we ? (size_t)(we - w) : strlen(w), gl = ge ? (size_t)(ge - g) : strlen(g);
        if (wl != gl || memcmp(w, g, wl) != 0) break;
        w += wl + (we ? 1 : 0);
        g += gl + (ge ? 1 : 0);
        line++;
    }
    const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
    ds_buf_printf(b, "    line %d\n    want: %.*s\n    got:  %.*s\n", line,
                  (int)(we ? (size_t)(we - w) : strlen(w)), *w ? w : "(end)",
                  (int)(ge ? (size_t)(ge - g) : strlen(g)), *g ? g : "(end)");
}

START_TEST(invalid_cases)
{
    const char *root = getenv("DS_ROOT");
    if (root) ck_assert_int_eq(chdir(root), 0);
    size_t n;
    char **v = cases("invalid", &n);
    const char *only = getenv("DS_FIXTURE");
    if (!only || !*only) ck_assert_msg(n >= 30, "only %zu invalid fixture cases", n);
    ds_buf fails;
    ds_buf_init(&fails);
    size_t nfail = 0;
    for (size_t i = 0; i < n; i++) {
        char specs[512], exp[512];
        snprintf(specs, sizeof specs, "tests/fixtures/invalid/%s/specs", v[i]);
        snprintf(exp, sizeof exp, "tests/fixtures/invalid/%s/expected.err", v[i]);
        char *want = ds_slurp(exp);
        if (!want) {
            ds_buf_printf(&fails, "  %s: no expected.err\n", v[i]);
            nfail++;
            continue;
        }
        ds_proc pr;
        DS_RUN(&pr, "check", "--schema", SCHEMA, "--specs", specs);
        /* The summary line ends the same stream ("dashspec: N errors in M
         * files"); expected.err holds the diagnostics before it. */
        char *last = strrchr(pr.out, '\n');
        while (last && last > pr.out && last[-1] != '\n') last--;
        if (last && strncmp(last, "dashspec: ", 10) == 0 && strstr(last, " error")) *last = '\0';
        else ds_buf_printf(&fails, "  %s: no summary line at the end of stdout\n", v[i]), nfail++;
        if (pr.status != 1 || strcmp(pr.out, want) != 0) {
            ds_buf_printf(&fails, "  %s: exit %d (want 1)%s\n", v[i], pr.status,
                          strcmp(pr.out, want) ? ", stdout differs from expected.err" : "");
            if (strcmp(pr.out, want)) first_difference(&fails, want, pr.out);
            if (pr.status != 1 && *pr.err) ds_buf_printf(&fails, "    stderr: %.300s\n", pr.err);
            nfail++;
        }
        ds_proc_free(&pr);
        free(want);
    }
    ck_assert_msg(nfail == 0, "%zu of %zu invalid fixture cases failed:\n%s", nfail, n,
                  fails.p ? fails.p : "");
    ds_buf_free(&fails);
    free_cases(v);
}
END_TEST

START_TEST(valid_cases)
{
    const char *root = getenv("DS_ROOT");
    if (root) ck_assert_int_eq(chdir(root), 0);
    size_t n;
    char **v = cases("valid", &n);
    const char *only = getenv("DS_FIXTURE");
    if (!only || !*only) ck_assert_msg(n >= 1, "no valid fixture cases");
    ds_buf fails;
    ds_buf_init(&fails);
    size_t nfail = 0;
    for (size_t i = 0; i < n; i++) {
        char specs[512];
        snprintf(specs, sizeof specs, "tests/fixtures/valid/%s/specs", v[i]);
        ds_proc pr;
        DS_RUN(&pr, "check", "--schema", SCHEMA, "--specs", specs);
        if (pr.status != 0 || strstr(pr.out, ": error: ") || strstr(pr.err, ": error: ")) {
            ds_buf_printf(&fails, "  %s: exit %d\n%.2000s%.500s", v[i], pr.status, pr.out, pr.err);
            nfail++;
        }
        ds_proc_free(&pr);
    }
    ck_assert_msg(nfail == 0, "%zu of %zu valid fixture cases failed:\n%s", nfail, n,
                  fails.p ? fails.p : "");
    ds_buf_free(&fails);
    free_cases(v);
}
END_TEST

Suite *fixtures_suite(void)
{
    Suite *s = suite_create("fixtures");
    TCase *t = tcase_create("golden");
    /* Every golden fixture through check: about 0.7 s; 300 s for valgrind. */
    tcase_set_timeout(t, 300);
    tcase_add_test(t, invalid_cases);
    tcase_add_test(t, valid_cases);
    suite_add_tcase(s, t);
    return s;
}
