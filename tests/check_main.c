/*
 * check_main.c — the one test runner: every suite listed in the generated
 * suites.h (one per tests/check_<module>.c).
 *
 *   check_dashspec                  every suite
 *   check_dashspec NAME...          those suites
 *   check_dashspec --skip=NAME...   every suite but those (make test skips the
 *                                   slow ones; make test-slow runs them)
 * An unknown NAME is a usage error (exit 2), so a renamed suite cannot make
 * `make test-slow` silently run nothing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DS_SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef DS_SUITE

static const char *const all_names[] = {
#define DS_SUITE(name) #name,
#include "suites.h"
#undef DS_SUITE
};
#define NSUITES (sizeof all_names / sizeof all_names[0])

/* 1 if NAME is given as an argument (plain, or after --skip= when SKIP). */
static int named(int argc, char **argv, const char *name, int skip)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int is_skip = strncmp(a, "--skip=", 7) == 0;
        if (is_skip) a += 7;
        if (is_skip == skip && strcmp(a, name) == 0) return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int any_plain = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = strncmp(argv[i], "--skip=", 7) == 0 ? argv[i] + 7 : argv[i];
        int known = 0;
        for (size_t k = 0; k < NSUITES; k++) known |= strcmp(all_names[k], a) == 0;
        if (!known) {
            fprintf(stderr, "check_dashspec: no suite named '%s'\n", a);
            return 2;
        }
        any_plain |= a == argv[i];
    }
    SRunner *sr = NULL;
#define DS_SUITE(name)                                                   \
    if ((!any_plain || named(argc, argv, #name, 0)) && !named(argc, argv, #name, 1)) { \
        if (!sr) sr = srunner_create(name##_suite());                    \
        else srunner_add_suite(sr, name##_suite());                      \
    }
#include "suites.h"
#undef DS_SUITE
    if (!sr) return 2;
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
