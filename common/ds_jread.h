/*
 * ds_jread.h — the one JSON reader: a cursor over JSON text with the pieces
 * every reader in dashspec builds on (blanks, punctuation, literals, strings
 * decoded to UTF-8, numbers kept as their exact text). The stored plan's
 * codec (compiler/ds_plan.c) and the terminal preview of a cached value
 * (cli/render_value.c) read JSON with it; neither turns a number into a
 * double before it has to, so numbers survive byte for byte.
 */
#ifndef DS_JREAD_H
#define DS_JREAD_H

#include "ds_common.h"

/* The text s[0..n) and the read position i. */
typedef struct ds_jread { const char *s; size_t i, n; } ds_jread;

/* Skips JSON blanks (space, tab, CR, LF). */
void ds_jread_ws(ds_jread *j);
/* Skips blanks; consumes c and returns 0 when it is next, else -1. */
int ds_jread_eat(ds_jread *j, char c);
/* Skips blanks; consumes the literal w and returns 1 when it is next, else 0. */
int ds_jread_word(ds_jread *j, const char *w);
/* At a '"' (after blanks): decodes the string into b (appended, NUL not
 * added), \u escapes and surrogate pairs to UTF-8, a lone surrogate to
 * U+FFFD. -1 when malformed (raw control byte, bad escape, no closing
 * quote); b's OOM flag reports memory. */
int ds_jread_string(ds_jread *j, ds_buf *b);
/* Skips blanks; at a number ('-' or a digit) consumes its text and returns
 * its length (the span is j->s + j->i - length), else 0. The span is the
 * maximal run of "+-.eE0123456789": the caller converts and checks it. */
size_t ds_jread_number(ds_jread *j);

#endif
