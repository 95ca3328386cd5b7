/* Runs every CUnit suite listed in tests/suites.h. `run SUITE [TEST]` runs a subset.
 * Exits 1 if any assertion failed. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "tests/suites.h"

/* Weak while suites are being written in parallel: a missing one is reported and fails the run. */
#define X(name, desc) extern CU_TestInfo kwt_##name##_tests[] __attribute__((weak));
KWT_SUITES(X)
#undef X

static const struct {
    const char *name, *desc;
    CU_TestInfo *tests;
} suites[] = {
#define X(name, desc) { #name, desc, kwt_##name##_tests },
    KWT_SUITES(X)
#undef X
};

int main(int argc, char **argv)
{
    unsigned missing = 0;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        if (argc > 1 && strcmp(argv[1], suites[i].name) != 0)
            continue;
        if (suites[i].tests == NULL) {
            fprintf(stderr, "suite %s is listed but not linked\n", suites[i].name);
            missing++;
            continue;
        }
        CU_pSuite s = CU_add_suite(suites[i].name, NULL, NULL);
        for (CU_TestInfo *t = suites[i].tests; s && t->pName; t++)
            if (argc <= 2 || strstr(t->pName, argv[2]))
                CU_add_test(s, t->pName, t->pTestFunc);
    }
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failed || missing ? 1 : 0;
}
