/*
 * ds_utf8.h — the one UTF-8 decoder of dashspec, and what is built on it:
 * validation, repair, character counts and the encoder.
 *
 * Well-formed means Unicode's definition (3.9, table 3-7): no overlong forms,
 * no UTF-16 surrogates, nothing above U+10FFFF. Repair replaces each maximal
 * ill-formed subpart by one U+FFFD, exactly as Python's
 * bytes.decode('utf-8', 'replace') does (docs/values.md); the spec
 * loader, the JSON writer, the summary and the terminal sanitizer all decide
 * well-formedness here, so they cannot disagree.
 */
#ifndef DS_UTF8_H
#define DS_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include "ds_common.h"

#define DS_UTF8_MAX_LEN 4                      /* bytes of the longest sequence */
#define DS_UTF8_REPLACEMENT "\xEF\xBF\xBD"     /* U+FFFD, encoded */
#define DS_UTF8_REPLACEMENT_LEN 3

/* Decodes the sequence at s[0..n) (n >= 1). Returns its length (1 to 4) and
 * sets *cp when it is well-formed; otherwise returns the negated length of
 * its maximal ill-formed subpart (at least 1: the longest prefix that could
 * still begin a well-formed sequence) and leaves *cp alone. Inline because
 * the JSON writer calls it for every non-ASCII character of every value. */
static inline int ds_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    int need;
    uint32_t v;
    unsigned lo = 0x80, hi = 0xBF;     /* allowed range of the second byte */
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) { need = 1; v = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2; v = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;                     /* no overlongs */
        else if (c == 0xED) hi = 0x9F;                /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3; v = c & 0x07;
        if (c == 0xF0) lo = 0x90;                     /* no overlongs */
        else if (c == 0xF4) hi = 0x8F;                /* nothing above U+10FFFF */
    } else return -1;                                 /* 80..C1, F5..FF */
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= n) return -i;
        unsigned d = s[i];
        if (i == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) return -i;
        v = v << 6 | (d & 0x3F);
    }
    *cp = v;
    return need + 1;
}

/* 1 when s[0..n) is well-formed UTF-8, 0 otherwise. */
int ds_utf8_valid(const char *s, size_t n);

/* Appends s[0..n) to b with every maximal ill-formed subpart replaced by
 * U+FFFD (NUL bytes are kept). Cannot fail (ds_buf records OOM). */
void ds_utf8_repair(ds_buf *b, const char *s, size_t n);

/* Appends code point cp (<= U+10FFFF) encoded as UTF-8. Cannot fail. */
void ds_utf8_put(ds_buf *b, uint32_t cp);

/* Bytes of s[0..n) taken by its first k characters, a character being a
 * byte that is not a continuation byte (0x80..0xBF) with the continuation
 * bytes after it; n when s has fewer. Cannot fail. */
size_t ds_utf8_skip(const char *s, size_t n, size_t k);

#endif
