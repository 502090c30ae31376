/* testutil.h — shared helpers for the cmocka tests.
 * Every test binary runs all its tests, or only those matching argv[1]
 * (cmocka glob, e.g. `build/bin/test_model 'grad_*'`). */
#ifndef MU_TESTUTIL_H
#define MU_TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#define MU_TEST_MAIN(group)                                                          \
    int main(int argc, char **argv) {                                                \
        if (argc > 1) cmocka_set_test_filter(argv[1]);                               \
        return cmocka_run_group_tests_name(__FILE__, group, NULL, NULL);              \
    }

/* |a - b| <= atol + rtol * |b|, with a message naming both values. */
#define assert_close(a, b, atol, rtol)                                                  \
    do {                                                                                \
        double a_ = (double)(a), b_ = (double)(b);                                      \
        if (!(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_))) {                           \
            print_error("%s = %.9g, expected %s = %.9g (atol %g, rtol %g)\n", #a, a_, #b, \
                        b_, (double)(atol), (double)(rtol));                             \
            fail();                                                                     \
        }                                                                               \
    } while (0)

/* A fresh scratch directory under /tmp for file tests; caller may leave it. */
static inline void mu_test_tmpdir(char *buf, size_t cap, const char *tag) {
    snprintf(buf, cap, "/tmp/muon-test-%s-XXXXXX", tag);
    if (!mkdtemp(buf)) buf[0] = 0;
}

/* Run `$MUON_BIN ARGS` in DIR through the shell under `timeout`; stdout+stderr go into out.
 * Returns the exit status; a hang (124) or a signal fails the test with the output. */
static inline int mu_test_run_muon(const char *dir, int timeout_s, const char *args, char *out, size_t cap) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd %s && timeout %d %s %s 2>&1", dir, timeout_s, getenv("MUON_BIN"), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    if (!WIFEXITED(st)) fail_msg("muon %s: did not exit normally", args);
    int code = WEXITSTATUS(st);
    if (code == 124) fail_msg("muon %s: timed out (hang)", args);
    if (code >= 128) fail_msg("muon %s: killed by signal %d:\n%s", args, code - 128, out);
    return code;
}

#endif
