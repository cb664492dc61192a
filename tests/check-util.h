/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs a suite; the exit status says whether every test in it passed. */
static inline int check_run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        /* A CK_RUN_CASE naming no case runs nothing: that is no pass. */
        if (srunner_ntests_run(sr) == 0) {
                fprintf(stderr, "No test ran (CK_RUN_CASE=%s).\n", getenv("CK_RUN_CASE") ?: "");
                failed = 1;
        }
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
