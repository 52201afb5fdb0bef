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

typedef enum ds_type { DS_T_NULL, DS_T_INT, DS_T_REAL, DS_T_TEXT, DS_T_BLOB } ds_type;

/* One result value, borrowed from the statement until the next row. */
typedef struct ds_cell {
    ds_type type;
    int64_t i;              /* INT */
    double r;               /* REAL */
    const char *s;          /* TEXT/BLOB bytes; for INT/REAL the value's text */
    size_t n;               /*   (CAST AS TEXT) when the shaper asked for it, else NULL */
} ds_cell;

#endif
