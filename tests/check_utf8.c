/* check_utf8.c — the one UTF-8 decoder (common/ds_utf8.c): repair matches
 * Python's bytes.decode('utf-8', 'replace'), validation, skipping, encoding. */
#include <stdlib.h>
#include <string.h>
#include "ds_utf8.h"
#include "ds_test.h"

static char *repaired(const char *s, size_t n)
{
    ds_buf b;
    ds_buf_init(&b);
    ds_utf8_repair(&b, s, n);
    ds_buf_adds(&b, "");
    return ds_buf_steal(&b);
}

#define FFFD DS_UTF8_REPLACEMENT

START_TEST(repair_like_python)
{
    /* Expected strings are b.decode('utf-8', 'replace') of the inputs. */
    static const struct { const char *in, *out; } cases[] = {
        {"plain", "plain"},
        {"\xC3\xA9t\xC3\xA9", "\xC3\xA9t\xC3\xA9"},
        {"\xFF", FFFD},
        {"\xE2\x82" "A", FFFD "A"},                  /* truncated: one U+FFFD */
        {"\xE0\x80\x80", FFFD FFFD FFFD},            /* overlong: one per byte */
        {"\xED\xA0\x80", FFFD FFFD FFFD},            /* surrogate */
        {"\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD},   /* above U+10FFFF */
        {"\xF0\x9F\x98", FFFD},                      /* truncated 4-byte */
        {"a\xC0\xAFz", "a" FFFD FFFD "z"},
        {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = repaired(cases[i].in, strlen(cases[i].in));
        ck_assert_str_eq(r, cases[i].out);
        ck_assert_int_eq(ds_utf8_valid(cases[i].in, strlen(cases[i].in)),
                         strcmp(cases[i].in, cases[i].out) == 0);
        free(r);
    }
}
END_TEST

START_TEST(next_skip_put)
{
    uint32_t cp = 0;
    ck_assert_int_eq(ds_utf8_next((const unsigned char *)"\xE2\x82\xAC", 3, &cp), 3);
    ck_assert_uint_eq(cp, 0x20AC);
    ck_assert_int_eq(ds_utf8_next((const unsigned char *)"\xE2\x82\xAC", 2, &cp), -2);
    ck_assert_uint_eq(ds_utf8_skip("a\xC3\xA9" "b", 4, 2), 3);
    ck_assert_uint_eq(ds_utf8_skip("ab", 2, 5), 2);
    ds_buf b;
    ds_buf_init(&b);
    const uint32_t cps[] = {0x41, 0xE9, 0x20AC, 0x1F600};
    for (size_t i = 0; i < 4; i++) ds_utf8_put(&b, cps[i]);
    ck_assert_str_eq(b.p, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    ck_assert_uint_eq(ds_utf8_chars(b.p, b.len), 4);
    ds_buf_free(&b);
}
END_TEST

Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, repair_like_python);
    tcase_add_test(tc, next_skip_put);
    suite_add_tcase(s, tc);
    return s;
}
