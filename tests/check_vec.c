/* check_vec.c — the one growable array (common/ds_vec.c) and the one hash
 * table (common/ds_htab.c). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "ds_htab.h"
#include "ds_vec.h"
#include "ds_test.h"

START_TEST(vec_grows_geometrically)
{
    enum { N = 100000 };
    int *v = NULL;
    size_t n = 0, cap = 0;
    unsigned long before = ds_vec_growths();
    /* One assertion per loop, not per element: each Check assertion that
     * passes still writes a mark to the test's pipe, and 200,000 of them
     * made this test time out on a loaded machine. */
    int failed = 0;
    for (int i = 0; i < N && !failed; i++) {
        int *nv = ds_vec_grow(v, &cap, n, sizeof *v);
        if (!nv) { failed = 1; break; }
        v = nv;
        v[n++] = i;
    }
    ck_assert_int_eq(failed, 0);
    /* 16 doubled 13 times is 131072 >= N: 14 reallocations, not N. */
    ck_assert_uint_eq(ds_vec_growths() - before, 14);
    ck_assert_uint_ge(cap, N);
    int wrong = 0;
    for (int i = 0; i < N; i++) wrong += v[i] != i;
    ck_assert_int_eq(wrong, 0);
    free(v);
}
END_TEST

static int str_eq(const void *ctx, size_t idx, const void *key)
{
    char *const *names = ctx;
    return strcmp(names[idx], key) == 0;
}

START_TEST(htab_finds_and_adds)
{
    enum { N = 5000 };
    char **names = calloc(N, sizeof *names);
    ck_assert_ptr_nonnull(names);
    ds_htab t = {0};
    ck_assert_ptr_null(ds_htab_find(&t, 1, str_eq, names, "x"));
    for (size_t i = 0; i < N; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "k%zu", i % (N / 2));   /* every name twice */
        uint64_t h = ds_hash_bytes(buf, strlen(buf));
        ck_assert_int_eq(ds_htab_room(&t), 0);
        ds_htab_slot *e = ds_htab_find(&t, h, str_eq, names, buf);
        if (i < N / 2) {
            ck_assert_uint_eq(e->idx1, 0);
            names[i] = strdup(buf);
            ds_htab_put(&t, e, h, i);
        } else {
            ck_assert_uint_eq(e->idx1 - 1, i - N / 2);
        }
    }
    ck_assert_uint_eq(t.n, N / 2);
    ck_assert_uint_le(t.n * 4, t.cap * 3);
    ds_htab_free(&t);
    for (size_t i = 0; i < N / 2; i++) free(names[i]);
    free(names);
}
END_TEST

Suite *vec_suite(void)
{
    Suite *s = suite_create("vec");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, vec_grows_geometrically);
    tcase_add_test(tc, htab_finds_and_adds);
    suite_add_tcase(s, tc);
    return s;
}
