/*
 * check_main.c — the one test runner: every suite listed in the generated
 * suites.h (one per tests/check_<module>.c). `check_dashspec NAME` runs one.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#define DS_SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef DS_SUITE

int main(int argc, char **argv)
{
    SRunner *sr = NULL;
#define DS_SUITE(name)                                                   \
    if (argc < 2 || strcmp(argv[1], #name) == 0) {                       \
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
