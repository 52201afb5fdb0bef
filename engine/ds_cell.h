/*
 * ds_cell.h — the engine-neutral value of one result column, part of the
 * engine interface (engine/engine.h): an engine hands each row to the shaper
 * (runtime/ds_shape.c) as an array of these, borrowed from its statement
 * until the next row, with no copies.
 */
#ifndef DS_CELL_H
#define DS_CELL_H

#include <stddef.h>
#include <stdint.h>

/* RAW: a value the engine rendered as JSON text already (PostgreSQL's
 * numeric exactly as printed, json/jsonb, booleans): s/n hold the JSON text,
 * embedded as is; k/kn the text a map key or series name uses (NULL only
 * for a NULL value, which an engine hands over as DS_T_NULL instead). */
typedef enum ds_type { DS_T_NULL, DS_T_INT, DS_T_REAL, DS_T_TEXT, DS_T_BLOB, DS_T_RAW } ds_type;

/* One result value, borrowed from the statement until the next row. */
typedef struct ds_cell {
    ds_type type;
    int64_t i;              /* INT */
    double r;               /* REAL */
    const char *s;          /* TEXT/BLOB bytes; for INT/REAL the value's text */
    size_t n;               /*   (CAST AS TEXT) when the shaper asked for it, else NULL;
                               RAW: the JSON text */
    const char *k;          /* RAW only: key text (map keys, series names) */
    size_t kn;
} ds_cell;

#endif
