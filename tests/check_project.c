/*
 * check_project.c — the project file and the commands around it, through the
 * built binary: `dashspec init` then `check` in an empty directory, init
 * refusing to overwrite, dashspec.yaml found from a subdirectory, flags over
 * $DASHSPEC_DB over the file, file:line:col errors with "did you mean", the
 * completion scripts, `make install` with DESTDIR and pkg-config, and plain
 * `make` stopping at once, with a hint, when a library is missing.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ds_test.h"

/* Runs the binary with the working directory dir (restored afterwards: under
 * valgrind the tests share one process). */
static void run_in(const char *dir, ds_proc *p, const char *const *argv, const char *const *env)
{
    char here[PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(here, sizeof here));
    ck_assert_int_eq(chdir(dir), 0);
    ds_proc_run(p, argv, NULL, env);
    ck_assert_int_eq(chdir(here), 0);
}
#define RUN_IN(dir, p, ...) run_in((dir), (p), (const char *const[]){__VA_ARGS__, NULL}, no_env)

static const char *const no_env[] = {"DASHSPEC_DB=", NULL};

static char *cat2(const char *a, const char *b)
{
    char *s = malloc(strlen(a) + strlen(b) + 2);
    ck_assert_ptr_nonnull(s);
    sprintf(s, "%s/%s", a, b);
    return s;
}

START_TEST(init_then_check_passes)
{
    char *t = ds_tmpdir();
    ds_proc p;
    RUN_IN(t, &p, "init");
    ck_assert_msg(p.status == 0, "init: %d %s", p.status, p.err);
    ck_assert_ptr_nonnull(strstr(p.out, "dashspec.yaml"));
    ck_assert_ptr_nonnull(strstr(p.out, "specs/example.yaml"));
    /* The crontab line: cron's PATH, quiet, absolute paths. */
    ck_assert_ptr_nonnull(strstr(p.out, "PATH=/usr/bin:/bin '/"));
    ck_assert_ptr_nonnull(strstr(p.out, "' run --quiet\n"));
    ck_assert_ptr_nonnull(strstr(p.out, "cd '/"));
    ds_proc_free(&p);
    RUN_IN(t, &p, "check");
    ck_assert_msg(p.status == 0, "check after init: %d\n%s%s", p.status, p.out, p.err);
    ds_proc_free(&p);
    /* Prepared against a real database too, named in the project file. */
    char *db = cat2(t, "app.db");
    ds_sql(db, "CREATE TABLE app(x)");
    char *ypath = cat2(t, "dashspec.yaml");
    char *yaml = ds_slurp(ypath);
    free(ypath);
    ck_assert_ptr_nonnull(yaml);
    char *y2 = malloc(strlen(yaml) + 32);
    sprintf(y2, "%sdatabase: app.db\n", yaml);
    free(ds_write(t, "dashspec.yaml", y2));
    RUN_IN(t, &p, "check", "--strict");
    ck_assert_msg(p.status == 0, "check against app.db: %d\n%s%s", p.status, p.out, p.err);
    ds_proc_free(&p);
    RUN_IN(t, &p, "compile");
    ck_assert_msg(p.status == 0, "compile: %s", p.err);
    ds_proc_free(&p);
    RUN_IN(t, &p, "run", "--now", "2026-12-02T08:26:00Z");
    ck_assert_msg(p.status == 0, "run: %s", p.err);
    ck_assert_ptr_nonnull(strstr(p.out, "\"items_run\":2"));
    ds_proc_free(&p);
    free(yaml);
    free(y2);
    free(db);
    ds_tmp_cleanup(t);
}
END_TEST

START_TEST(init_refuses_to_overwrite)
{
    char *t = ds_tmpdir();
    char *dir = cat2(t, "new");
    ds_proc p;
    DS_RUN(&p, "init", dir);              /* DIR is created */
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    char *spec = cat2(dir, "specs/example.yaml");
    free(ds_write(dir, "specs/example.yaml", "version: 1\n# mine\n"));
    char *proj = cat2(dir, "dashspec.yaml");
    ck_assert_int_eq(remove(proj), 0);
    DS_RUN(&p, "init", dir);
    ck_assert_int_eq(p.status, 1);
    ck_assert_ptr_nonnull(strstr(p.err, "exists; not overwriting"));
    ds_proc_free(&p);
    char *kept = ds_slurp(spec);
    ck_assert_str_eq(kept, "version: 1\n# mine\n");
    ck_assert_int_ne(access(proj, F_OK), 0);   /* all or nothing */
    free(proj);
    DS_RUN(&p, "init", dir, "other");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    free(kept);
    free(spec);
    free(dir);
    ds_tmp_cleanup(t);
}
END_TEST

/* Found from a subdirectory; flags override $DASHSPEC_DB, which overrides the
 * file (each names a different missing database, and the error says which). */
START_TEST(found_upwards_and_precedence)
{
    char *t = ds_tmpdir();
    free(ds_write(t, "dashspec.yaml", "database: from-file.db\njobs: 2\nbusy_timeout: 500ms\n"));
    free(ds_write(t, "a/b/c/.keep", ""));
    char *deep = cat2(t, "a/b/c");
    ds_proc p;
    RUN_IN(deep, &p, "status");
    ck_assert_int_eq(p.status, 5);
    ck_assert_msg(strstr(p.err, "from-file.db") && strstr(p.err, t), "%s", p.err);
    ds_proc_free(&p);
    run_in(deep, &p, (const char *const[]){"status", NULL}, (const char *const[]){"DASHSPEC_DB=from-env.db", NULL});
    ck_assert_ptr_nonnull(strstr(p.err, "from-env.db"));
    ds_proc_free(&p);
    run_in(deep, &p, (const char *const[]){"status", "--db", "from-flag.db", NULL},
           (const char *const[]){"DASHSPEC_DB=from-env.db", NULL});
    ck_assert_ptr_nonnull(strstr(p.err, "from-flag.db"));
    ds_proc_free(&p);
    free(deep);
    ds_tmp_cleanup(t);
}
END_TEST

START_TEST(project_file_errors_point_at_the_key)
{
    char *t = ds_tmpdir();
    free(ds_write(t, "dashspec.yaml", "version: 1\nspecs: specs\n  databse: x.db\n"));
    ds_proc p;
    RUN_IN(t, &p, "status");
    ck_assert_int_eq(p.status, 2);
    ck_assert_ptr_nonnull(strstr(p.err, "dashspec.yaml:"));
    ds_proc_free(&p);
    free(ds_write(t, "dashspec.yaml", "version: 1\ndatabse: x.db\njobs: many\n"));
    RUN_IN(t, &p, "list");
    ck_assert_int_eq(p.status, 2);
    char *want = malloc(strlen(t) + 200);
    sprintf(want, "%s/dashspec.yaml:2:1: error: unknown key 'databse'; did you mean 'database'?\n", t);
    ck_assert_msg(strstr(p.err, want) != NULL, "%s", p.err);
    sprintf(want, "%s/dashspec.yaml:3:7: error: jobs must be a number, found a string\n", t);
    ck_assert_msg(strstr(p.err, want) != NULL, "%s", p.err);
    ds_proc_free(&p);
    /* help still works in a broken project */
    RUN_IN(t, &p, "run", "--help");
    ck_assert_int_eq(p.status, 0);
    ds_proc_free(&p);
    free(want);
    ds_tmp_cleanup(t);
}
END_TEST

START_TEST(completion_scripts)
{
    ds_proc p;
    DS_RUN(&p, "completion", "bash");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "complete -F _dashspec dashspec\n"));
    ck_assert_ptr_nonnull(strstr(p.out, "--busy-timeout"));
    ck_assert_ptr_nonnull(strstr(p.out, "dashspec list"));
    char *t = ds_tmpdir();
    char *f = ds_write(t, "c.bash", p.out);
    ds_proc_free(&p);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "bash -n '%s'", f);
    ck_assert_int_eq(system(cmd), 0);
    DS_RUN(&p, "completion", "zsh");
    ck_assert_int_eq(p.status, 0);
    ck_assert_ptr_nonnull(strstr(p.out, "#compdef dashspec\n"));
    ds_proc_free(&p);
    DS_RUN(&p, "completion", "fish");
    ck_assert_int_eq(p.status, 2);
    ds_proc_free(&p);
    free(f);
    ds_tmp_cleanup(t);
}
END_TEST

/* make install DESTDIR=tmp PREFIX=/usr lays out every file, and pkg-config
 * finds the library through the installed dashspec.pc. */
START_TEST(make_install_layout)
{
    const char *bin = getenv("DS_BIN"), *root = getenv("DS_ROOT");
    ck_assert_msg(bin && root, "run through make");
    char *build = strdup(bin);
    *strrchr(build, '/') = '\0';
    char *t = ds_tmpdir();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "make -s -C '%s' install BUILD='%s' DESTDIR='%s/dest' PREFIX=/usr >'%s/log' 2>&1",
             root, build, t, t);
    int rc = system(cmd);
    char *log = cat2(t, "log");
    char *logtext = ds_slurp(log);
    ck_assert_msg(rc == 0, "make install failed: %s", logtext ? logtext : "");
    const char *files[] = {
        "bin/dashspec", "share/man/man1/dashspec.1", "share/dashspec/migrations/sqlite/001-init.sql",
        "share/bash-completion/completions/dashspec", "share/zsh/site-functions/_dashspec",
        "lib/libdashspec.a", "include/dashspec.h", "lib/pkgconfig/dashspec.pc", NULL
    };
    for (const char *const *f = files; *f; f++) {
        snprintf(cmd, sizeof cmd, "%s/dest/usr/%s", t, *f);
        struct stat st;
        ck_assert_msg(stat(cmd, &st) == 0 && st.st_size > 0, "not installed: %s", *f);
    }
    snprintf(cmd, sizeof cmd, "PKG_CONFIG_PATH='%s/dest/usr/lib/pkgconfig' pkg-config --cflags --libs dashspec > '%s/pc'",
             t, t);
    ck_assert_int_eq(system(cmd), 0);
    char *pc = cat2(t, "pc");
    char *flags = ds_slurp(pc);
    ck_assert_ptr_nonnull(strstr(flags, "-ldashspec"));
    free(flags);
    free(pc);
    free(logtext);
    free(log);
    free(build);
    ds_tmp_cleanup(t);
}
END_TEST

/* Plain `make` without the libraries: one line per missing package naming
 * its Debian package and `make deps`, and nothing compiled. */
START_TEST(make_explains_missing_packages)
{
    const char *root = getenv("DS_ROOT");
    ck_assert_ptr_nonnull(root);
    char *t = ds_tmpdir();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "PKG_CONFIG_LIBDIR='%s/none' PKG_CONFIG_PATH= make -C '%s' BUILD='%s/b' >'%s/log' 2>&1",
             t, root, t, t);
    ck_assert_int_ne(system(cmd), 0);
    char *log = cat2(t, "log");
    char *text = ds_slurp(log);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "missing libcjson (Debian: libcjson-dev): run 'make deps'\n") != NULL, "%s", text);
    ck_assert_ptr_nonnull(strstr(text, "missing sqlite3 (Debian: libsqlite3-dev): run 'make deps'\n"));
    ck_assert_ptr_nonnull(strstr(text, "missing yaml-0.1 (Debian: libyaml-dev): run 'make deps'\n"));
    ck_assert_msg(strstr(text, "  CC ") == NULL, "compiled before stopping:\n%s", text);
    free(text);
    free(log);
    ds_tmp_cleanup(t);
}
END_TEST

Suite *project_suite(void)
{
    Suite *s = suite_create("project");
    TCase *tc = tcase_create("project");
    /* A few runs of the binary per test (under 0.3 s) and one make install
     * of up-to-date files (about 1 s); 120 s leaves room for valgrind. */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, init_then_check_passes);
    tcase_add_test(tc, init_refuses_to_overwrite);
    tcase_add_test(tc, found_upwards_and_precedence);
    tcase_add_test(tc, project_file_errors_point_at_the_key);
    tcase_add_test(tc, completion_scripts);
    tcase_add_test(tc, make_install_layout);
    tcase_add_test(tc, make_explains_missing_packages);
    suite_add_tcase(s, tc);
    return s;
}
