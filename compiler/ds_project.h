/*
 * ds_project.h — the project file, dashspec.yaml: where the database, the
 * source, the specs and the migrations are, and the default jobs and busy
 * timeout, for every command run at or below its directory (docs/project.md).
 */
#ifndef DS_PROJECT_H
#define DS_PROJECT_H

#include <stdint.h>
#include "dashspec.h"

#define DS_PROJECT_FILE "dashspec.yaml"

/* A loaded project file. Paths are resolved against the file's directory
 * (absolute ones and URIs/conninfo as written); NULL / 0 / -1 = not set. */
typedef struct ds_project {
    char *path;              /* the file, as found */
    char *dir;               /* its directory */
    char *database;          /* --db */
    char *source;            /* --source (a URI or path) */
    char *specs;             /* --specs */
    char *migrations;        /* check --migrations */
    int jobs;                /* run --jobs; 0 = not set */
    int64_t busy_ms;         /* run --busy-timeout; -1 = not set */
} ds_project;

/* Walks up from dir (NULL: the working directory) to the filesystem root,
 * looking for dashspec.yaml in each directory. Returns the malloc'd path of
 * the first one found, or NULL (none, or out of memory). */
char *ds_project_find(const char *dir);

/* Loads the project file at path into *p (zeroed first; ds_project_free it
 * whatever the result). Errors go to d as FILE:LINE:COL diagnostics: YAML
 * syntax, a non-mapping, unknown keys (with the nearest known one), values
 * of the wrong type. Returns 0, or -1 with d holding the errors. */
int ds_project_load(const char *path, ds_project *p, ds_diag *d);
void ds_project_free(ds_project *p);

/* The text `dashspec init` writes as dashspec.yaml, and its example spec
 * (both pass `dashspec check` as written). Static strings. */
extern const char ds_project_template[];
extern const char ds_project_example_spec[];

#endif
