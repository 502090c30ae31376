/* test_schedule.c — LR schedule factors at the key points, against hand-computed numbers. */
#include "testutil.h"

#include "muon/train.h"

static mu_schedule_t sched(mu_sched_kind_t k, int64_t warmup, int64_t total, float mn, float frac) {
    mu_schedule_t s = {.kind = k, .warmup = warmup, .total = total, .min_factor = mn, .decay_frac = frac};
    return s;
}

static void test_constant(void **st) {
    mu_schedule_t s = sched(MU_SCHED_CONSTANT, 10, 100, 0.1f, 0.2f);
    assert_close(mu_schedule_factor(&s, 0), 0.1, 1e-7, 0);   // (0+1)/10
    assert_close(mu_schedule_factor(&s, 4), 0.5, 1e-7, 0);
    assert_close(mu_schedule_factor(&s, 9), 1.0, 1e-7, 0);   // warmup-1 reaches 1
    assert_close(mu_schedule_factor(&s, 10), 1.0, 0, 0);
    assert_close(mu_schedule_factor(&s, 50), 1.0, 0, 0);
    assert_close(mu_schedule_factor(&s, 99), 1.0, 0, 0);
    assert_close(mu_schedule_factor(&s, 500), 1.0, 0, 0);    // constant keeps going
    mu_schedule_t s0 = sched(MU_SCHED_CONSTANT, 0, 100, 0.0f, 0.2f);
    assert_close(mu_schedule_factor(&s0, 0), 1.0, 0, 0);     // no warmup: 1 from the start
}

static void test_cosine(void **st) {
    mu_schedule_t s = sched(MU_SCHED_COSINE, 10, 110, 0.1f, 0.2f);
    assert_close(mu_schedule_factor(&s, 0), 0.1, 1e-7, 0);
    assert_close(mu_schedule_factor(&s, 9), 1.0, 1e-7, 0);
    assert_close(mu_schedule_factor(&s, 10), 1.0, 1e-7, 0);          // p = 0
    assert_close(mu_schedule_factor(&s, 35), 0.86819805, 1e-6, 0);    // p = 1/4: 0.1 + 0.45(1 + cos(pi/4))
    assert_close(mu_schedule_factor(&s, 60), 0.55, 1e-6, 0);          // middle p = 1/2
    assert_close(mu_schedule_factor(&s, 109), 0.100222048, 1e-7, 0);  // p = 0.99: 0.1 + 0.45(1 - cos(0.01 pi))
    assert_close(mu_schedule_factor(&s, 110), 0.1, 1e-7, 0);          // total: min_factor
    assert_close(mu_schedule_factor(&s, 10000), 0.1, 1e-7, 0);
    // monotone non-increasing after warmup
    for (int64_t t = 10; t < 120; t++) assert_true(mu_schedule_factor(&s, t + 1) <= mu_schedule_factor(&s, t));
    // no warmup, min 0: t=0 is 1
    mu_schedule_t s0 = sched(MU_SCHED_COSINE, 0, 100, 0.0f, 0.2f);
    assert_close(mu_schedule_factor(&s0, 0), 1.0, 1e-7, 0);
    assert_close(mu_schedule_factor(&s0, 50), 0.5, 1e-6, 0);
}

static void test_wsd(void **st) {
    mu_schedule_t s = sched(MU_SCHED_WSD, 10, 100, 0.0f, 0.2f);  // decay over steps 80..99
    assert_close(mu_schedule_factor(&s, 0), 0.1, 1e-7, 0);
    assert_close(mu_schedule_factor(&s, 9), 1.0, 1e-7, 0);
    assert_close(mu_schedule_factor(&s, 10), 1.0, 0, 0);
    assert_close(mu_schedule_factor(&s, 50), 1.0, 0, 0);
    assert_close(mu_schedule_factor(&s, 79), 1.0, 0, 0);
    assert_close(mu_schedule_factor(&s, 80), 1.0, 1e-7, 0);    // decay starts here
    assert_close(mu_schedule_factor(&s, 90), 0.5, 1e-7, 0);    // 1 - 10/20
    assert_close(mu_schedule_factor(&s, 99), 0.05, 1e-7, 0);   // 1 - 19/20
    assert_close(mu_schedule_factor(&s, 100), 0.0, 0, 0);
    assert_close(mu_schedule_factor(&s, 1000), 0.0, 0, 0);
    mu_schedule_t m = sched(MU_SCHED_WSD, 10, 100, 0.1f, 0.2f);
    assert_close(mu_schedule_factor(&m, 90), 0.55, 1e-6, 0);   // 1 - 0.9 * 0.5
    assert_close(mu_schedule_factor(&m, 99), 0.145, 1e-6, 0);  // 1 - 0.9 * 0.95
    assert_close(mu_schedule_factor(&m, 100), 0.1, 1e-7, 0);
}

static void test_parse_name(void **st) {
    mu_sched_kind_t k = MU_SCHED_CONSTANT;
    assert_int_equal(mu_schedule_parse("cosine", &k), 0);
    assert_int_equal(k, MU_SCHED_COSINE);
    assert_int_equal(mu_schedule_parse("wsd", &k), 0);
    assert_int_equal(k, MU_SCHED_WSD);
    assert_int_equal(mu_schedule_parse("constant", &k), 0);
    assert_int_equal(k, MU_SCHED_CONSTANT);
    assert_int_equal(mu_schedule_parse("linear", &k), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "linear"));
    assert_non_null(strstr(mu_last_error(), "wsd"));
    assert_string_equal(mu_schedule_name(MU_SCHED_COSINE), "cosine");
    assert_string_equal(mu_schedule_name(MU_SCHED_WSD), "wsd");
    assert_string_equal(mu_schedule_name(MU_SCHED_CONSTANT), "constant");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_constant),
    cmocka_unit_test(test_cosine),
    cmocka_unit_test(test_wsd),
    cmocka_unit_test(test_parse_name),
};

MU_TEST_MAIN(tests)
