/*
 * pg_dl.c — loads libpq at first use (engine/postgres/pg_dl.h says why):
 * dlopen of the library's soname, one dlsym per function of DS_PQ_FUNCS.
 */
#define DS_PQ_DEFINE_TABLE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "pg_dl.h"

static ds_pq_table table;
static const char *load_error = "libpq could not be loaded"; /* NULL once loaded */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    /* RTLD_GLOBAL is not needed: nothing else resolves against libpq. */
    void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        load_error = "libpq is not installed (Debian: libpq5)";
        return;
    }
#define DS_PQ_LOAD(f)                                                           \
    if (!(*(void **)&table.f = dlsym(h, #f))) {                                 \
        load_error = "libpq is too old: it lacks " #f " (PostgreSQL 14 or newer)"; \
        return;                                                                 \
    }
    DS_PQ_FUNCS(DS_PQ_LOAD)
#undef DS_PQ_LOAD
    load_error = NULL;
}

int ds_pq_available(const char **why)
{
    pthread_once(&once, load);
    if (why) *why = load_error;
    return load_error == NULL;
}

const ds_pq_table *ds_pq_api(void)
{
    if (!ds_pq_available(NULL)) abort();
    return &table;
}
