/*
 * check_all.c - the one Check runner: every suite defined in a
 * tests/<part>/check_*.c file (the list is generated into suites.h), one summary
 * line at the end.  CK_RUN_SUITE / CK_RUN_CASE select a subset.
 */
#include <check.h>
#include <stdlib.h>

#define CKPT_SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef CKPT_SUITE

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define CKPT_SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.h"
#undef CKPT_SUITE
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
