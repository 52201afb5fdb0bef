/*
 * ds_spec_dir.c — the key index (duplicate keys across files), keeping an
 * item in the plan (phase 7), and the walk of a specs directory: every
 * *.yaml / *.yml below it, in byte order of their relative paths, each
 * loaded with ds_spec_load_one (docs/spec-reference.md, "Files").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ds_spec_int.h"
#include "ds_vec.h"

/* ---------------------------------------------------------------- key index */

static int key_eq(const void *ctx, size_t idx, const void *key)
{
    const ds_plan *p = ctx;
    return strcmp(p->items[idx].key, key) == 0;
}

static long idx_find(const keyidx *x, const ds_plan *p, const char *key)
{
    const ds_htab_slot *e = ds_htab_find(x, ds_hash_bytes(key, strlen(key)), key_eq, p, key);
    return e && e->idx1 ? (long)(e->idx1 - 1) : -1;
}

/* Adds item (whose key is not in x yet). 0 ok, -1 OOM. */
static int idx_add(keyidx *x, const ds_plan *p, size_t item)
{
    const char *key = p->items[item].key;
    uint64_t h = ds_hash_bytes(key, strlen(key));
    if (ds_htab_room(x)) return -1;
    ds_htab_put(x, ds_htab_find(x, h, key_eq, p, key), h, item);
    return 0;
}

/* Indexes the items already in p (the first of equal keys wins). */
int ds_spec_idx_build(keyidx *x, const ds_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].key && idx_find(x, p, p->items[i].key) < 0 && idx_add(x, p, i)) return -1;
    return 0;
}

/* Phase 7: keep the item (when its key is valid), flagging a duplicate key
 * at its second definition; the plan and the key index grow together. */
void ds_spec_item_keep(itemld *I)
{
    ld *L = I->L;
    ds_item *it = &I->it;
    if (!it->key) {                       /* unknown key: nothing to keep */
        ds_item_free(it);
        return;
    }
    long first = idx_find(L->idx, L->p, it->key);
    if (first >= 0) {
        const ds_item *o = &L->p->items[first];
        ds_spec_err(L, it->m_key, I->key, "duplicate key '%s'; first defined at %s:%d", it->key,
                    o->file ? o->file : "?", o->m_key.line ? o->m_key.line : o->line);
        I->bad++;
    }
    it->bad = I->bad > 0;
    it->sqlcheck = I->sqlcheck;
    ds_item_hash(it);
    if (!(it->file = ds_strdup(L->file))) { ds_spec_oom(L, I->m->mark); ds_item_free(it); return; }
    ds_item *v = ds_vec_grow(L->p->items, &L->p->cap, L->p->n, sizeof *v);
    if (!v) { ds_spec_oom(L, I->m->mark); ds_item_free(it); return; }
    L->p->items = v;
    L->p->items[L->p->n++] = *it;
    if (first < 0 && idx_add(L->idx, L->p, L->p->n - 1)) ds_spec_oom(L, I->m->mark);
}



/* ---------------------------------------------------------------- directories */

typedef struct walker {
    const char *base;        /* the specs dir, without trailing slashes */
    char **rel;              /* spec files found, relative to base */
    size_t nrel, caprel;
    struct { dev_t dev; ino_t ino; } *seen;   /* directories entered */
    size_t nseen, capseen;
    ds_diag *d;
    int oom;
} walker;

static int spec_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static char *join(const char *a, const char *b)
{
    if (!a) return ds_strdup(b);
    return ds_asprintf("%s%s%s", a, a[0] && a[strlen(a) - 1] == '/' ? "" : "/", b);
}

/* 1 if the directory was entered before (a symlink loop or a second link to
 * it), else records it and returns 0. -1 on OOM. */
static int seen_dir(walker *w, const struct stat *st)
{
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino) return 1;
    void *v = ds_vec_grow(w->seen, &w->capseen, w->nseen, sizeof *w->seen);
    if (!v) return -1;
    w->seen = v;
    w->seen[w->nseen].dev = st->st_dev;
    w->seen[w->nseen].ino = st->st_ino;
    w->nseen++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(walker *w, const char *rel)
{
    char *path = rel ? join(w->base, rel) : ds_strdup(w->base);
    DIR *dp = path ? opendir(path) : NULL;
    if (!path) { w->oom = 1; return; }
    if (!dp) {
        ds_error(w->d, NULL, 0, 0, NULL, "cannot read directory '%s': %s", path, strerror(errno));
        free(path);
        return;
    }
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.') continue;
        char *crel = join(rel, de->d_name), *cpath = crel ? join(w->base, crel) : NULL;
        struct stat st;
        if (!crel || !cpath) { w->oom = 1; free(crel); free(cpath); break; }
        if (stat(cpath, &st) != 0) {
            if (spec_name(de->d_name))
                ds_error(w->d, cpath, 1, 1, NULL, "cannot read file: %s", strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            int s = seen_dir(w, &st);
            if (s < 0) w->oom = 1;
            else if (s == 0) walk(w, crel);
        } else if (spec_name(de->d_name)) {
            if (!S_ISREG(st.st_mode)) {
                ds_error(w->d, cpath, 1, 1, NULL, "cannot read file: not a regular file");
            } else {
                char **v = ds_vec_grow(w->rel, &w->caprel, w->nrel, sizeof *v);
                if (!v) { w->oom = 1; free(crel); free(cpath); break; }
                w->rel = v;
                w->rel[w->nrel++] = crel;
                crel = NULL;
            }
        }
        free(crel);
        free(cpath);
    }
    closedir(dp);
    free(path);
}

/* Reads at most DS_SPEC_MAX_FILE_BYTES + 1 bytes of a regular file, without
 * blocking on a FIFO that replaced it since the walk. NULL with errno set. */
static char *read_spec(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) { int e = errno; close(fd); errno = e; return NULL; }
    if (!S_ISREG(st.st_mode)) { close(fd); errno = EINVAL; return NULL; }
    size_t cap = (size_t)DS_SPEC_MAX_FILE_BYTES + 1, n = 0;
    if (st.st_size >= 0 && (uint64_t)st.st_size < cap) cap = (size_t)st.st_size + 1;
    char *b = malloc(cap + 1);
    if (!b) { close(fd); errno = ENOMEM; return NULL; }
    for (;;) {
        if (n == cap) {
            if (cap > (size_t)DS_SPEC_MAX_FILE_BYTES) break;   /* one byte past the limit is enough */
            size_t nc = cap * 2 > (size_t)DS_SPEC_MAX_FILE_BYTES + 1 ? (size_t)DS_SPEC_MAX_FILE_BYTES + 1 : cap * 2;
            char *nb = realloc(b, nc + 1);
            if (!nb) { free(b); close(fd); errno = ENOMEM; return NULL; }
            b = nb;
            cap = nc;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(b);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    *len = n;
    return b;
}

/* Loads every spec file under dir (see dashspec.h). A missing or unreadable
 * dir is ds_fail(DS_USAGE); problems with single files are errors on that file
 * and the others still load. Returns -1 when this call reported an error. */
int ds_spec_load_dir(const char *dir, ds_plan *p, ds_diag *d)
{
    walker w;
    keyidx idx = {0};
    size_t before = d->nerrors;
    int rc = -1;
    memset(&w, 0, sizeof w);
    w.d = d;
    char *base = ds_strdup(dir ? dir : "");
    if (!base) return ds_fail(d, DS_FAILED, "out of memory");
    for (size_t n = strlen(base); n > 1 && base[n - 1] == '/'; n--) base[n - 1] = '\0';
    w.base = base;
    struct stat st;
    if (!*base || stat(base, &st) != 0) {
        ds_fail(d, DS_USAGE, "cannot open specs directory '%s': %s", dir ? dir : "", *base ? strerror(errno) : "empty path");
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        ds_fail(d, DS_USAGE, "specs directory '%s' is not a directory", dir);
        goto out;
    }
    DIR *probe = opendir(base);
    if (!probe) {
        ds_fail(d, DS_USAGE, "cannot open specs directory '%s': %s", dir, strerror(errno));
        goto out;
    }
    closedir(probe);
    if (seen_dir(&w, &st) < 0) { ds_fail(d, DS_FAILED, "out of memory"); goto out; }
    walk(&w, NULL);
    if (w.oom || ds_spec_idx_build(&idx, p)) { ds_fail(d, DS_FAILED, "out of memory"); goto out; }
    if (w.nrel) qsort(w.rel, w.nrel, sizeof *w.rel, cmp_str);
    for (size_t i = 0; i < w.nrel; i++) {
        char *path = join(base, w.rel[i]);
        size_t len = 0;
        char *buf = path ? read_spec(path, &len) : NULL;
        if (!path) { ds_fail(d, DS_FAILED, "out of memory"); goto out; }
        if (!buf) ds_error(d, path, 1, 1, NULL, "cannot read file: %s", strerror(errno));
        else ds_spec_load_one(path, buf, len, p, &idx, d);
        free(buf);
        free(path);
    }
    rc = d->nerrors > before ? -1 : 0;
out:
    for (size_t i = 0; i < w.nrel; i++) free(w.rel[i]);
    free(w.rel);
    free(w.seen);
    ds_htab_free(&idx);
    free(base);
    return rc;
}
