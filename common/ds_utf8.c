/*
 * ds_utf8.c — validation, repair, counting and encoding over the one UTF-8
 * decoder, ds_utf8_next in ds_utf8.h (see there for the rules).
 */
#include "ds_utf8.h"

int ds_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; ) {
        uint32_t cp = 0;
        int k = ds_utf8_next(p + i, n - i, &cp);
        if (k < 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

void ds_utf8_repair(ds_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;      /* p[run..i) is well-formed, copied in one go */
    while (i < n) {
        uint32_t cp = 0;
        int k = p[i] < 0x80 ? 1 : ds_utf8_next(p + i, n - i, &cp);
        if (k > 0) { i += (size_t)k; continue; }
        ds_buf_add(b, p + run, i - run);
        ds_buf_add(b, DS_UTF8_REPLACEMENT, DS_UTF8_REPLACEMENT_LEN);
        i += (size_t)-k;
        run = i;
    }
    ds_buf_add(b, p + run, i - run);
}

void ds_utf8_put(ds_buf *b, uint32_t cp)
{
    unsigned char u[DS_UTF8_MAX_LEN];
    size_t n;
    if (cp < 0x80) { u[0] = (unsigned char)cp; n = 1; }
    else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | cp >> 18);
        n = 4;
    }
    for (size_t i = 1; i < n; i++)
        u[i] = (unsigned char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3F));
    ds_buf_add(b, u, n);
}

/* Number of UTF-8 characters in s[0..n) (bytes 0x80..0xBF not counted). */
size_t ds_utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

size_t ds_utf8_skip(const char *s, size_t n, size_t k)
{
    size_t i = 0;
    while (k > 0 && i < n) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        k--;
    }
    return i;
}
