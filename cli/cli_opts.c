/*
 * cli_opts.c — the one option parser every command uses, and the shared
 * helpers for --db, --now and printing diagnostics.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "ds_common.h"
#include "ds_project.h"
#include "ds_select.h"
#include "render.h"

/* At most three lines on stderr, so cron mails and terminals stay short:
 * the error, the hint (when there is one), where the help is. The message
 * quotes arguments, which may hold anything: it goes through the sanitizer. */
static int usage_v(const char *cmd, const char *hint, const char *fmt, va_list ap)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_buf_printf(&b, "dashspec %s: ", cmd);
    ds_buf_vprintf(&b, fmt, ap);
    ds_buf_addc(&b, '\n');
    if (hint) ds_buf_printf(&b, "%s\n", hint);
    ds_buf_printf(&b, "see 'dashspec %s --help'\n", cmd);
    if (b.oom || cli_print(stderr, b.p)) fputs("dashspec: out of memory\n", stderr);
    ds_buf_free(&b);
    return DS_USAGE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_v(cmd, NULL, fmt, ap);
    va_end(ap);
    return DS_USAGE;
}

int cli_usage_hint(const char *cmd, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_v(cmd, hint, fmt, ap);
    va_end(ap);
    return DS_USAGE;
}

/* "unknown option '--onyl'", with "did you mean '--only'?" when one is close. */
static void unknown_option(const char *cmd, const cli_opt *opts, const char *a, size_t nlen)
{
    const char *names[64];
    size_t n = 0;
    for (const cli_opt *p = opts; p && p->name && n < 62; p++) names[n++] = p->name;
    names[n++] = "--help";
    names[n] = NULL;
    const char *near = ds_suggest(a, nlen, names);
    char hint[128];
    if (near) snprintf(hint, sizeof hint, "did you mean '%s'?", near);
    cli_usage_hint(cmd, near ? hint : NULL, "unknown option '%.*s'", (int)nlen, a);
}

static int push(const char ***list, size_t *n, const char *v)
{
    const char **nv = realloc(*list, (*n + 1) * sizeof *nv);
    if (!nv) return -1;
    nv[(*n)++] = v;
    *list = nv;
    return 0;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts,
              const char ***pos, size_t *npos)
{
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) { only_pos = 1; continue; }
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (!pos) { cli_usage_error(cmd, "unexpected argument '%s'", a); return -1; }
            if (push(pos, npos, a)) { fprintf(stderr, "dashspec: out of memory\n"); return -1; }
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = NULL;
        for (const cli_opt *p = opts; p && p->name; p++)
            if (strlen(p->name) == nlen && strncmp(p->name, a, nlen) == 0) { o = p; break; }
        if (!o) { unknown_option(cmd, opts, a, nlen); return -1; }
        if (o->flag) {
            if (eq) { cli_usage_error(cmd, "option '%s' takes no value", o->name); return -1; }
            *o->flag = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) { cli_usage_error(cmd, "option '%s' needs a value", o->name); return -1; }
            v = argv[++i];
        }
        if (o->str) *o->str = v;
        else if (push(o->list, o->nlist, v)) { fprintf(stderr, "dashspec: out of memory\n"); return -1; }
    }
    return 0;
}

/* The project file of this invocation (loaded once by cli_project_init). */
static ds_project project;
static int have_project;

int cli_project_init(void)
{
    char *path = ds_project_find(NULL);
    if (!path) return 0;
    ds_diag d;
    ds_diag_init(&d);
    int rc = ds_project_load(path, &project, &d);
    free(path);
    if (rc) {
        cli_report(&d, DS_USAGE);
        ds_diag_free(&d);
        ds_project_free(&project);
        return DS_USAGE;
    }
    ds_diag_free(&d);
    have_project = 1;
    return 0;
}

const ds_project *cli_project(void)
{
    return have_project ? &project : NULL;
}

const char *cli_db(const char *opt)
{
    if (opt && *opt) return opt;
    const char *e = getenv("DASHSPEC_DB");
    if (e && *e) return e;
    return have_project ? project.database : NULL;
}

const char *cli_specs(const char *opt)
{
    if (opt) return opt;
    return have_project ? project.specs : NULL;
}

int cli_now(const char *cmd, const char *opt, int64_t *now)
{
    if (!opt) { *now = ds_time_now(); return 0; }
    if (ds_time_parse(opt, now) != 0) {
        cli_usage_hint(cmd, "--now takes 'YYYY-MM-DD HH:MM:SS' (UTC), the T form, and Z or +HH:MM / -HH:MM offsets",
                       "bad --now time '%s'", opt);
        return -1;
    }
    if (*now < DS_TIME_MIN || *now > DS_TIME_MAX) {
        cli_usage_error(cmd, "--now '%s' is outside the times dashspec can store (" DS_TIME_MIN_TEXT " to "
                        DS_TIME_MAX_TEXT " UTC)", opt);
        return -1;
    }
    return 0;
}

int cli_report(const ds_diag *d, int otherwise)
{
    char *s = cli_diag_render(d, DS_FMT_TEXT);
    if (s) { fputs(s, stderr); free(s); }
    return d->status != DS_OK ? (int)d->status : otherwise;
}

/* ---------------------------------------------------------------- selection */

/* Replaces every selector S of out by "S,group:G" for each --group G. */
static int and_groups(ds_select *out, const cli_sel *cs, ds_diag *d)
{
    ds_select res;
    ds_select_init(&res);
    for (size_t i = 0; i < out->n; i++) {
        for (size_t j = 0; j < cs->ngrp; j++) {
            ds_buf b;
            ds_buf_init(&b);
            for (size_t k = 0; k < out->v[i].natoms; k++) {
                const ds_sel_atom *a = &out->v[i].atoms[k];
                static const char *const prefix[] = {[DS_SEL_KEY] = "", [DS_SEL_TAG] = "tag:",
                                                     [DS_SEL_GROUP] = "group:", [DS_SEL_FILE] = "file:"};
                ds_buf_printf(&b, "%s%s,", prefix[a->kind], a->pat);
            }
            ds_buf_printf(&b, "group:%s", cs->grp[j]);
            int bad = b.oom ? ds_fail(d, DS_USAGE, "out of memory") : ds_select_add(&res, b.p, 0, d);
            ds_buf_free(&b);
            if (bad) { ds_select_free(&res); return -1; }
        }
    }
    ds_select_free(out);
    *out = res;
    return 0;
}

int cli_sel_build(const char *cmd, const cli_sel *cs, const char *const *extra, size_t nextra,
                  ds_select *out)
{
    ds_diag d;
    ds_diag_init(&d);
    ds_select_init(out);
    int bad = 0;
    for (size_t i = 0; i < cs->nsel && !bad; i++) bad = ds_select_add(out, cs->sel[i], 0, &d);
    for (size_t i = 0; i < nextra && !bad; i++) bad = ds_select_add(out, extra[i], 0, &d);
    /* --group G with key selectors keeps its old meaning: a filter on them
     * (docs/run.md), so each selector gains the atom group:G; alone, it
     * selects the group. */
    size_t nkeysel = out->n;
    if (!bad && cs->ngrp && nkeysel) bad = and_groups(out, cs, &d);
    for (size_t i = 0; i < cs->ngrp && !bad && !nkeysel; i++) {
        char *g = ds_asprintf("group:%s", cs->grp[i]);
        bad = !g ? ds_fail(&d, DS_USAGE, "out of memory") : ds_select_add(out, g, 0, &d);
        free(g);
    }
    for (size_t i = 0; i < cs->nexcl && !bad; i++) bad = ds_select_add(out, cs->excl[i], 1, &d);
    if (bad) {
        cli_usage_hint(cmd, "a selector is a key glob, tag:NAME, group:NAME or file:PATH; "
                       "a,b means both", "%s", d.n ? d.v[d.n - 1].msg : "bad selector");
        ds_select_free(out);
    }
    ds_diag_free(&d);
    return bad ? DS_USAGE : 0;
}

void cli_sel_free(cli_sel *cs)
{
    free(cs->sel);
    free(cs->grp);
    free(cs->excl);
    memset(cs, 0, sizeof *cs);
}
