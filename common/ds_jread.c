/*
 * ds_jread.c — the one JSON reader's pieces (see ds_jread.h).
 */
#include <string.h>
#include "ds_jread.h"
#include "ds_utf8.h"

void ds_jread_ws(ds_jread *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r'))
        j->i++;
}

int ds_jread_eat(ds_jread *j, char c)
{
    ds_jread_ws(j);
    if (j->i >= j->n || j->s[j->i] != c) return -1;
    j->i++;
    return 0;
}

int ds_jread_word(ds_jread *j, const char *w)
{
    ds_jread_ws(j);
    size_t n = strlen(w);
    if (j->n - j->i < n || memcmp(j->s + j->i, w, n) != 0) return 0;
    j->i += n;
    return 1;
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* After "\u": the code point of one escape or a surrogate pair. */
static int escape_u(ds_jread *j, uint32_t *out)
{
    uint32_t cp, lo;
    if (j->n - j->i < 4 || hex4(j->s + j->i, &cp)) return -1;
    j->i += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && j->n - j->i >= 6 && j->s[j->i] == '\\' &&
        j->s[j->i + 1] == 'u' && hex4(j->s + j->i + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        j->i += 6;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
        cp = 0xFFFD;   /* a lone surrogate */
    }
    *out = cp;
    return 0;
}

int ds_jread_string(ds_jread *j, ds_buf *b)
{
    if (ds_jread_eat(j, '"')) return -1;
    while (j->i < j->n && j->s[j->i] != '"') {
        unsigned char c = (unsigned char)j->s[j->i];
        if (c < 0x20) return -1;
        if (c != '\\') { ds_buf_addc(b, (char)c); j->i++; continue; }
        if (++j->i >= j->n) return -1;
        char e = j->s[j->i++];
        uint32_t cp = 0;
        switch (e) {
        case '"': case '\\': case '/': ds_buf_addc(b, e); break;
        case 'b': ds_buf_addc(b, '\b'); break;
        case 'f': ds_buf_addc(b, '\f'); break;
        case 'n': ds_buf_addc(b, '\n'); break;
        case 'r': ds_buf_addc(b, '\r'); break;
        case 't': ds_buf_addc(b, '\t'); break;
        case 'u':
            if (escape_u(j, &cp)) return -1;
            ds_utf8_put(b, cp);
            break;
        default: return -1;
        }
    }
    if (j->i >= j->n) return -1;
    j->i++;
    return 0;
}

size_t ds_jread_number(ds_jread *j)
{
    ds_jread_ws(j);
    size_t start = j->i;
    if (j->i < j->n && j->s[j->i] != '-' && (j->s[j->i] < '0' || j->s[j->i] > '9')) return 0;
    while (j->i < j->n && j->s[j->i] && strchr("+-.eE0123456789", j->s[j->i])) j->i++;
    return j->i - start;
}
