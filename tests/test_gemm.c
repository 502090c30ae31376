/* test_gemm.c — the compute layer against a naive double-precision reference:
 * both engines, all transposes, loose leading dimensions, alpha/beta, strided
 * batches, odd sizes; auto planning and the plan string; bf16; bad inputs. */
#include "testutil.h"

#include "muon/gemm.h"

/* Deterministic values in [-1, 1). */
static void fill(float *x, int64_t n, uint64_t seed) {
    mu_rng_t r;
    mu_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) x[i] = 2.0f * mu_rng_uniform(&r) - 1.0f;
}

static int64_t span(int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
    return (batch - 1) * stride + (rows - 1) * ld + cols;
}

/* C = alpha op(A) op(B) + beta C in double; bound[i] = the fp32 error allowance
 * 2 (k+2) eps (|alpha| sum|a||b| + |beta||c|) + tiny, from the standard dot-product bound. */
static void reference(const mu_gemm_desc_t *d, const float *A, const float *B, const float *C0, double *ref,
                      double *bound) {
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t j = 0; j < d->n; j++) {
                double s = 0, sa = 0;
                for (int64_t p = 0; p < d->k; p++) {
                    double a = d->trans_a ? A[b * d->stride_a + p * d->lda + i] : A[b * d->stride_a + i * d->lda + p];
                    double bb = d->trans_b ? B[b * d->stride_b + j * d->ldb + p] : B[b * d->stride_b + p * d->ldb + j];
                    s += a * bb;
                    sa += fabs(a * bb);
                }
                int64_t ci = b * d->stride_c + i * d->ldc + j;
                double c0 = d->beta != 0.0f ? C0[ci] : 0.0;
                ref[ci] = d->alpha * s + d->beta * c0;
                bound[ci] = 2.0 * (double)(d->k + 2) * 1.2e-7 * (fabs(d->alpha) * sa + fabs(d->beta * c0)) + 1e-30;
            }
}

/* Run d on engine e and compare every element with the reference; padding
 * (between n and ldc, between batch items) must be left untouched. */
static void check_case(mu_engine_t e, const mu_gemm_desc_t *d, uint64_t seed) {
    int64_t ra = d->trans_a ? d->k : d->m, ca = d->trans_a ? d->m : d->k;
    int64_t rb = d->trans_b ? d->n : d->k, cb = d->trans_b ? d->k : d->n;
    int64_t na = span(ra, ca, d->lda, d->batch, d->stride_a);
    int64_t nb = span(rb, cb, d->ldb, d->batch, d->stride_b);
    int64_t nc = span(d->m, d->n, d->ldc, d->batch, d->stride_c);
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C = malloc(nc * sizeof *C);
    float *C0 = malloc(nc * sizeof *C0);
    double *ref = calloc(nc, sizeof *ref), *bound = calloc(nc, sizeof *bound);
    char *written = calloc(nc, 1);
    fill(A, na, seed);
    fill(B, nb, seed + 1);
    fill(C0, nc, seed + 2);
    memcpy(C, C0, nc * sizeof *C);
    reference(d, A, B, C0, ref, bound);
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t i = 0; i < d->m; i++)
            for (int64_t j = 0; j < d->n; j++) written[b * d->stride_c + i * d->ldc + j] = 1;

    mu_gemm_ctx_t *g;
    assert_int_equal(mu_gemm_ctx_init(&g, e), MU_OK);
    int rc = mu_gemm(g, d, A, B, C);
    if (rc) print_error("%s\n", mu_last_error());
    assert_int_equal(rc, MU_OK);
    for (int64_t i = 0; i < nc; i++) {
        if (written[i]) {
            if (!(fabs(C[i] - ref[i]) <= bound[i])) {
                print_error("%s m=%lld n=%lld k=%lld ta=%d tb=%d batch=%lld alpha=%g beta=%g: C[%lld]=%.9g ref %.9g\n",
                            mu_engine_name(e), (long long)d->m, (long long)d->n, (long long)d->k, d->trans_a,
                            d->trans_b, (long long)d->batch, d->alpha, d->beta, (long long)i, C[i], ref[i]);
                fail();
            }
        } else {
            assert_true(C[i] == C0[i]); /* padding untouched */
        }
    }
    /* a second call reuses the cached primitive and gives the same bits */
    float *C2 = malloc(nc * sizeof *C2);
    memcpy(C2, C0, nc * sizeof *C2);
    assert_int_equal(mu_gemm(g, d, A, B, C2), MU_OK);
    assert_memory_equal(C, C2, nc * sizeof *C);
    mu_gemm_ctx_free(g);
    free(A), free(B), free(C), free(C0), free(C2), free(ref), free(bound), free(written);
}

static mu_gemm_desc_t loose(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, float beta, int pad) {
    mu_gemm_desc_t d = mu_gemm_desc(ta, tb, m, n, k, alpha, beta);
    d.lda += pad;
    d.ldb += 2 * pad;
    d.ldc += 3 * pad;
    return d;
}

static const int64_t sizes[][3] = {{1, 1, 1}, {7, 33, 100}, {33, 7, 1}, {100, 100, 7}, {1, 100, 33}, {33, 1, 7}};
static const float ab[][2] = {{1.0f, 0.0f}, {1.0f, 1.0f}, {0.5f, -0.75f}, {-2.0f, 0.0f}};

static void all_cases(mu_engine_t e) {
    uint64_t seed = 1;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (size_t a = 0; a < sizeof ab / sizeof ab[0]; a++)
                    for (int pad = 0; pad <= 3; pad += 3) {
                        mu_gemm_desc_t d = loose(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], ab[a][0], ab[a][1], pad);
                        check_case(e, &d, seed++);
                    }
}

static void test_openblas_all_cases(void **st) { all_cases(MU_ENGINE_OPENBLAS); }
static void test_onednn_all_cases(void **st) { all_cases(MU_ENGINE_ONEDNN); }
static void test_auto_all_cases(void **st) { all_cases(MU_ENGINE_AUTO); }

static void test_batched_strides(void **st) {
    mu_engine_t engines[] = {MU_ENGINE_OPENBLAS, MU_ENGINE_ONEDNN, MU_ENGINE_AUTO};
    for (int e = 0; e < 3; e++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                /* 3 items of (33,7)x(7,100), lds padded, items 5/9/11 elements apart beyond their extent */
                mu_gemm_desc_t d = loose(ta, tb, 33, 100, 7, 0.5f, 1.0f, 2);
                d.batch = 3;
                d.stride_a = span(ta ? 7 : 33, ta ? 33 : 7, d.lda, 1, 0) + 5;
                d.stride_b = span(tb ? 100 : 7, tb ? 7 : 100, d.ldb, 1, 0) + 9;
                d.stride_c = span(33, 100, d.ldc, 1, 0) + 11;
                check_case(engines[e], &d, 100 + e * 4 + ta * 2 + tb);
                d.stride_b = 0; /* one B shared by every item (broadcast) */
                d.beta = 0.0f;
                check_case(engines[e], &d, 200 + e * 4 + ta * 2 + tb);
            }
}

/* Attention's layout: per-head blocks side by side inside wider rows.
 * qkv (T, 3C) holds H heads of hs columns: Q_h = columns [h*hs, (h+1)*hs), K_h at C + h*hs.
 * att_h (T,T) = Q_h K_h^T stacked; out (T, C) with out_h = att_h V_h side by side. */
static void test_interleaved_heads(void **st) {
    const int64_t T = 17, H = 3, hs = 8, C = H * hs;
    mu_engine_t engines[] = {MU_ENGINE_OPENBLAS, MU_ENGINE_ONEDNN, MU_ENGINE_AUTO};
    for (int e = 0; e < 3; e++) {
        mu_gemm_desc_t d = mu_gemm_desc(0, 1, T, T, hs, 0.35f, 0.0f); /* Q K^T / sqrt(hs) */
        d.lda = 3 * C, d.ldb = 3 * C, d.ldc = T;
        d.batch = H, d.stride_a = hs, d.stride_b = hs, d.stride_c = T * T;
        check_case(engines[e], &d, 300 + e);
        mu_gemm_desc_t v = mu_gemm_desc(0, 0, T, hs, T, 1.0f, 0.0f); /* att V, written side by side */
        v.lda = T, v.ldb = 3 * C, v.ldc = C;
        v.batch = H, v.stride_a = T * T, v.stride_b = hs, v.stride_c = hs;
        check_case(engines[e], &v, 310 + e);
        v.beta = 1.0f; /* and accumulating (backward) */
        check_case(engines[e], &v, 320 + e);
    }
}

/* beta == 0 must not read C: NaN there must not leak into the result. */
static void test_beta0_ignores_c(void **st) {
    mu_engine_t engines[] = {MU_ENGINE_OPENBLAS, MU_ENGINE_ONEDNN};
    for (int e = 0; e < 2; e++) {
        mu_gemm_ctx_t *g;
        assert_int_equal(mu_gemm_ctx_init(&g, engines[e]), MU_OK);
        float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1}, C[4] = {NAN, NAN, NAN, NAN};
        mu_gemm_desc_t d = mu_gemm_desc(0, 0, 2, 2, 3, 1.0f, 0.0f); /* (2,3) x (3,2) */
        assert_int_equal(mu_gemm(g, &d, A, B, C), MU_OK);
        /* [1 2 3; 4 5 6] [1 0; 0 1; 1 1] = [4 5; 10 11] */
        assert_true(C[0] == 4 && C[1] == 5 && C[2] == 10 && C[3] == 11);
        mu_gemm_ctx_free(g);
    }
}

/* The two engines agree on a mid-size product within fp32 round-off. */
static void test_engines_agree(void **st) {
    int64_t m = 96, n = 80, k = 200;
    float *A = malloc(m * k * 4), *B = malloc(k * n * 4), *C1 = calloc(m * n, 4), *C2 = calloc(m * n, 4);
    fill(A, m * k, 7);
    fill(B, k * n, 8);
    mu_gemm_ctx_t *g1, *g2;
    assert_int_equal(mu_gemm_ctx_init(&g1, MU_ENGINE_OPENBLAS), MU_OK);
    assert_int_equal(mu_gemm_ctx_init(&g2, MU_ENGINE_ONEDNN), MU_OK);
    mu_gemm_desc_t d = mu_gemm_desc(0, 1, m, n, k, 1.0f, 0.0f);
    d.ldb = k; /* B stored (n,k) */
    assert_int_equal(mu_gemm(g1, &d, A, B, C1), MU_OK);
    assert_int_equal(mu_gemm(g2, &d, A, B, C2), MU_OK);
    double num = 0, den = 0;
    for (int64_t i = 0; i < m * n; i++) {
        num += (double)(C1[i] - C2[i]) * (C1[i] - C2[i]);
        den += (double)C1[i] * C1[i];
    }
    assert_true(sqrt(num / den) < 1e-6);
    mu_gemm_ctx_free(g1);
    mu_gemm_ctx_free(g2);
    free(A), free(B), free(C1), free(C2);
}

static void test_auto_plan_roundtrip(void **st) {
    mu_gemm_ctx_t *g;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_AUTO), MU_OK);
    assert_int_equal(mu_gemm_ctx_engine(g), MU_ENGINE_AUTO);
    mu_gemm_desc_t tiny = mu_gemm_desc(0, 0, 8, 8, 8, 1.0f, 0.0f);
    mu_gemm_desc_t big = mu_gemm_desc(0, 1, 128, 96, 64, 1.0f, 1.0f);
    mu_gemm_desc_t bat = mu_gemm_desc(1, 0, 64, 64, 32, 1.0f, 0.0f);
    bat.batch = 4;
    bat.stride_a = 64 * 32, bat.stride_b = 32 * 64, bat.stride_c = 64 * 64;
    assert_int_equal(mu_gemm_plan(g, &tiny), MU_OK);
    assert_int_equal(mu_gemm_plan(g, &big), MU_OK);
    assert_int_equal(mu_gemm_plan(g, &bat), MU_OK);
    assert_int_equal(mu_gemm_engine_for(g, &tiny), MU_ENGINE_OPENBLAS); /* tiny products are not timed */
    mu_engine_t eb = mu_gemm_engine_for(g, &big);
    assert_true(eb == MU_ENGINE_OPENBLAS || eb == MU_ENGINE_ONEDNN);
    /* alpha/beta/ld do not make a new plan entry: 3 entries */
    mu_gemm_desc_t big2 = big;
    big2.beta = 0.0f;
    big2.ldc = 100;
    assert_int_equal(mu_gemm_engine_for(g, &big2), eb);
    char buf[512], buf2[512];
    assert_int_equal(mu_gemm_plan_string(g, buf, sizeof buf), MU_OK);
    assert_int_equal(strlen(buf) + 1, mu_gemm_plan_size(g));
    assert_non_null(strstr(buf, "8,8,8,0,0,1,f32=openblas"));
    assert_non_null(strstr(buf, "64,64,32,1,0,4,f32="));
    int semis = 0;
    for (char *p = buf; *p; p++) semis += *p == ';';
    assert_int_equal(semis, 2);
    /* too small a buffer is an error naming the size */
    assert_int_equal(mu_gemm_plan_string(g, buf2, 10), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "too small"));

    /* restore into a fresh context: same text, no timing needed */
    mu_gemm_ctx_t *h;
    assert_int_equal(mu_gemm_ctx_init(&h, MU_ENGINE_AUTO), MU_OK);
    assert_int_equal(mu_gemm_plan_load(h, buf), MU_OK);
    assert_int_equal(mu_gemm_plan_string(h, buf2, sizeof buf2), MU_OK);
    assert_string_equal(buf, buf2);
    assert_int_equal(mu_gemm_engine_for(h, &big), eb);

    /* a loaded entry decides the engine, and overrides an earlier one */
    assert_int_equal(mu_gemm_plan_load(h, " 128,96,64,0,1,1,f32=onednn ; 8,8,8,0,0,1,f32=onednn;"), MU_OK);
    assert_int_equal(mu_gemm_engine_for(h, &big), MU_ENGINE_ONEDNN);
    assert_int_equal(mu_gemm_engine_for(h, &tiny), MU_ENGINE_ONEDNN);
    assert_int_equal(mu_gemm_plan_load(h, "128,96,64,0,1,1,f32=openblas"), MU_OK);
    assert_int_equal(mu_gemm_engine_for(h, &big), MU_ENGINE_OPENBLAS);
    assert_int_equal(mu_gemm_plan_load(h, ""), MU_OK);
    mu_gemm_ctx_free(g);
    mu_gemm_ctx_free(h);
}

static void test_plan_load_rejects(void **st) {
    mu_gemm_ctx_t *g;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_AUTO), MU_OK);
    const char *bad[] = {"1,2,3", "1,2,3,0,0,1,f32=fast", "1,2,3,0,0,1,f64=openblas", "0,2,3,0,0,1,f32=openblas",
                         "1,2,3,2,0,1,f32=openblas", "1,2,3,0,0,1,bf16=openblas", "1,2,3,0,0,1,f32=openblas junk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mu_gemm_plan_load(g, bad[i]), MU_EINVAL);
        assert_non_null(strstr(mu_last_error(), "gemm plan entry"));
    }
    /* a bad entry after a good one leaves the plan unchanged */
    assert_int_equal(mu_gemm_plan_load(g, "5,5,5,0,0,1,f32=onednn;5,5,5,0,0,1,f32=gpu"), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "entry 2"));
    assert_int_equal(mu_gemm_plan_size(g), 1);
    mu_gemm_ctx_free(g);
}

static void test_bf16(void **st) {
    int64_t m = 64, n = 48, k = 256;
    float *A = malloc(m * k * 4), *B = malloc(k * n * 4), *C = calloc(m * n, 4);
    double *ref = calloc(m * n, 8), *bound = calloc(m * n, 8);
    fill(A, m * k, 11);
    fill(B, k * n, 12);
    mu_gemm_desc_t d = mu_gemm_desc(1, 0, m, n, k, 1.0f, 0.0f); /* A stored (k,m) */
    d.prec = MU_PREC_BF16;
    mu_gemm_ctx_t *gb;
    assert_int_equal(mu_gemm_ctx_init(&gb, MU_ENGINE_OPENBLAS), MU_OK);
    assert_int_equal(mu_gemm(gb, &d, A, B, C), MU_EUNSUPPORTED); /* never on OpenBLAS */
    assert_non_null(strstr(mu_last_error(), "oneDNN"));
    mu_gemm_ctx_free(gb);
    mu_engine_t engines[] = {MU_ENGINE_ONEDNN, MU_ENGINE_AUTO};
    for (int e = 0; e < 2; e++) {
        mu_gemm_ctx_t *g;
        assert_int_equal(mu_gemm_ctx_init(&g, engines[e]), MU_OK);
        int rc = mu_gemm(g, &d, A, B, C);
        if (!mu_gemm_bf16_available()) {
            assert_int_equal(rc, MU_EUNSUPPORTED);
            assert_non_null(strstr(mu_last_error(), "AVX512-BF16"));
        } else {
            assert_int_equal(rc, MU_OK);
            assert_int_equal(mu_gemm_engine_for(g, &d), MU_ENGINE_ONEDNN);
            reference(&d, A, B, C, ref, bound);
            double num = 0, den = 0;
            for (int64_t i = 0; i < m * n; i++) {
                num += (C[i] - ref[i]) * (C[i] - ref[i]);
                den += ref[i] * ref[i];
            }
            /* bf16 keeps 8 significant bits: per-input error 2^-9, random signs average out */
            double rel = sqrt(num / den);
            assert_true(rel < 1e-2);
            assert_true(rel > 1e-5); /* the inputs really were rounded */
        }
        mu_gemm_ctx_free(g);
    }
    free(A), free(B), free(C), free(ref), free(bound);
}

static uint16_t bits_of_bf16(float f) {
    uint16_t h;
    assert_int_equal(mu_gemm_to_bf16(&h, &f, 1), MU_OK);
    return h;
}

static float float_of_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Round to nearest even on the 7 stored mantissa bits: ties go to the even neighbour,
 * anything above a tie rounds up, overflow rounds to Inf, NaN stays NaN. */
static void test_to_bf16(void **st) {
    (void)st;
    assert_int_equal(bits_of_bf16(1.0f), 0x3F80);
    assert_int_equal(bits_of_bf16(-2.0f), 0xC000);
    assert_int_equal(bits_of_bf16(0.0f), 0x0000);
    assert_int_equal(bits_of_bf16(-0.0f), 0x8000);
    assert_int_equal(bits_of_bf16(float_of_bits(0x3F808000u)), 0x3F80); /* 1 + 2^-8: tie, down to even */
    assert_int_equal(bits_of_bf16(float_of_bits(0x3F818000u)), 0x3F82); /* 1 + 3·2^-8: tie, up to even */
    assert_int_equal(bits_of_bf16(float_of_bits(0x3F808001u)), 0x3F81); /* just above the tie */
    assert_int_equal(bits_of_bf16(float_of_bits(0x3F807FFFu)), 0x3F80); /* just below it */
    assert_int_equal(bits_of_bf16(float_of_bits(0x7F7FFFFFu)), 0x7F80); /* FLT_MAX rounds to +Inf */
    assert_int_equal(bits_of_bf16(float_of_bits(0x7F800000u)), 0x7F80); /* +Inf */
    assert_int_equal(bits_of_bf16(float_of_bits(0xFF800000u)), 0xFF80); /* -Inf */
    uint16_t nan = bits_of_bf16(float_of_bits(0x7F800001u));          /* a NaN whose payload would round away */
    assert_int_equal(nan & 0x7F80, 0x7F80);
    assert_true((nan & 0x007F) != 0);
    /* the threaded path (n > 65536) gives the same bits as one element at a time */
    const int64_t n = 100003;
    float *x = malloc(n * sizeof *x);
    uint16_t *h = malloc(n * sizeof *h);
    fill(x, n, 21);
    assert_int_equal(mu_gemm_to_bf16(h, x, n), MU_OK);
    for (int64_t i = 0; i < n; i += 997) assert_int_equal(h[i], bits_of_bf16(x[i]));
    /* bf16 is the top half of the fp32 pattern; 8 significant bits: within 2^-8 relative */
    for (int64_t i = 0; i < n; i += 991) {
        float back = float_of_bits((uint32_t)h[i] << 16);
        assert_true(fabsf(back - x[i]) <= fabsf(x[i]) * 0.00390625f);
    }
    assert_int_equal(mu_gemm_to_bf16(h, x, 0), MU_OK);
    assert_int_equal(mu_gemm_to_bf16(h, x, -1), MU_EINVAL);
    assert_int_equal(mu_gemm_to_bf16(NULL, x, 1), MU_EINVAL);
    free(x), free(h);
}

/* Pre-rounded operands: refused unless tight and bf16; where the CPU has bf16, the same
 * bits as mu_gemm rounding the fp32 operands itself (transposes and a batch included). */
static void test_bf16_operands(void **st) {
    (void)st;
    int64_t m = 24, n = 40, k = 72, batch = 3;
    float *A = malloc(batch * m * k * 4), *B = malloc(batch * k * n * 4);
    float *C1 = calloc(batch * m * n, 4), *C2 = calloc(batch * m * n, 4);
    uint16_t *Ah = malloc(batch * m * k * 2), *Bh = malloc(batch * k * n * 2);
    fill(A, batch * m * k, 31);
    fill(B, batch * k * n, 32);
    assert_int_equal(mu_gemm_to_bf16(Ah, A, batch * m * k), MU_OK);
    assert_int_equal(mu_gemm_to_bf16(Bh, B, batch * k * n), MU_OK);
    mu_gemm_ctx_t *g;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_AUTO), MU_OK);
    mu_gemm_desc_t d = mu_gemm_desc(1, 1, m, n, k, 0.5f, 0.0f); /* A stored (k,m), B stored (n,k) */
    assert_int_equal(mu_gemm_bf16_operands(g, &d, Ah, Bh, C1), MU_EINVAL); /* prec f32 */
    assert_non_null(strstr(mu_last_error(), "MU_PREC_BF16"));
    d.prec = MU_PREC_BF16;
    d.lda = m + 1;
    assert_int_equal(mu_gemm_bf16_operands(g, &d, Ah, Bh, C1), MU_EINVAL); /* A not tight */
    assert_non_null(strstr(mu_last_error(), "tight"));
    d.lda = m;
    d.batch = batch, d.stride_a = k * m, d.stride_b = n * k + 1, d.stride_c = m * n;
    assert_int_equal(mu_gemm_bf16_operands(g, &d, Ah, Bh, C1), MU_EINVAL); /* B items not back to back */
    assert_non_null(strstr(mu_last_error(), "back to back"));
    d.stride_b = n * k;
    assert_int_equal(mu_gemm_bf16_operands(NULL, &d, Ah, Bh, C1), MU_EINVAL);
    int rc = mu_gemm_bf16_operands(g, &d, Ah, Bh, C1);
    if (!mu_gemm_bf16_available()) {
        assert_int_equal(rc, MU_EUNSUPPORTED);
        assert_non_null(strstr(mu_last_error(), "AVX512-BF16"));
    } else {
        assert_int_equal(rc, MU_OK);
        assert_int_equal(mu_gemm(g, &d, A, B, C2), MU_OK);
        assert_memory_equal(C1, C2, batch * m * n * 4);
        d.stride_b = 0; /* one B for every item */
        assert_int_equal(mu_gemm_bf16_operands(g, &d, Ah, Bh, C1), MU_OK);
        assert_int_equal(mu_gemm(g, &d, A, B, C2), MU_OK);
        assert_memory_equal(C1, C2, batch * m * n * 4);
    }
    mu_gemm_ctx_free(g);
    free(A), free(B), free(C1), free(C2), free(Ah), free(Bh);
}

static void expect_einval(mu_gemm_ctx_t *g, const mu_gemm_desc_t *d, const char *needle) {
    float buf[4096] = {0};
    int rc = mu_gemm(g, d, buf, buf + 1024, buf + 2048);
    assert_int_equal(rc, MU_EINVAL);
    if (!strstr(mu_last_error(), needle)) {
        print_error("message '%s' lacks '%s'\n", mu_last_error(), needle);
        fail();
    }
}

static void test_bad_inputs(void **st) {
    mu_gemm_ctx_t *g;
    assert_int_equal(mu_gemm_ctx_init(NULL, MU_ENGINE_AUTO), MU_EINVAL);
    assert_int_equal(mu_gemm_ctx_init(&g, (mu_engine_t)7), MU_EINVAL);
    assert_null(g);
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_AUTO), MU_OK);
    float x[16] = {0};
    mu_gemm_desc_t ok = mu_gemm_desc(0, 0, 2, 2, 2, 1.0f, 0.0f);
    assert_int_equal(mu_gemm(g, &ok, NULL, x, x + 8), MU_EINVAL);
    assert_int_equal(mu_gemm(g, NULL, x, x, x + 8), MU_EINVAL);
    assert_int_equal(mu_gemm(NULL, &ok, x, x, x + 8), MU_EINVAL);
    assert_int_equal(mu_gemm_plan(g, NULL), MU_EINVAL);
    mu_gemm_desc_t d;
    d = ok, d.m = 0;
    expect_einval(g, &d, "positive");
    d = ok, d.k = -3;
    expect_einval(g, &d, "positive");
    d = ok, d.batch = 0;
    expect_einval(g, &d, "batch");
    d = ok, d.trans_a = 2;
    expect_einval(g, &d, "trans_a");
    d = mu_gemm_desc(0, 0, 4, 5, 6, 1, 0), d.lda = 5; /* A (4,6) needs lda >= 6 */
    expect_einval(g, &d, "lda 5");
    d = mu_gemm_desc(1, 0, 4, 5, 6, 1, 0), d.lda = 3; /* A^T stored (6,4) needs lda >= 4 */
    expect_einval(g, &d, "lda 3");
    d = mu_gemm_desc(0, 1, 4, 5, 6, 1, 0), d.ldb = 5; /* B^T stored (5,6) needs ldb >= 6 */
    expect_einval(g, &d, "ldb 5");
    d = mu_gemm_desc(0, 0, 4, 5, 6, 1, 0), d.ldc = 4;
    expect_einval(g, &d, "ldc 4");
    d = mu_gemm_desc(0, 0, 4, 5, 6, 1, 0), d.batch = 2, d.stride_a = 24, d.stride_b = 30, d.stride_c = 10;
    expect_einval(g, &d, "stride_c");
    d = mu_gemm_desc(0, 0, 4, 5, 6, 1, 0), d.batch = 2, d.stride_a = -1, d.stride_c = 20;
    expect_einval(g, &d, "stride_a");
    d = ok, d.alpha = NAN;
    expect_einval(g, &d, "finite");
    d = ok, d.prec = (mu_prec_t)5;
    expect_einval(g, &d, "prec");
    assert_int_equal(mu_gemm_engine_for(g, &d), MU_ENGINE_AUTO); /* invalid: no engine */
    assert_int_equal(mu_gemm_plan_size(g), 1);                    /* and nothing planned */
    mu_gemm_ctx_free(g);
    mu_gemm_ctx_free(NULL);
}

static void test_engine_names(void **st) {
    mu_engine_t e;
    assert_int_equal(mu_engine_parse("auto", &e), MU_OK);
    assert_int_equal(e, MU_ENGINE_AUTO);
    assert_int_equal(mu_engine_parse("openblas", &e), MU_OK);
    assert_int_equal(e, MU_ENGINE_OPENBLAS);
    assert_int_equal(mu_engine_parse("onednn", &e), MU_OK);
    assert_int_equal(e, MU_ENGINE_ONEDNN);
    assert_int_equal(mu_engine_parse("mkl", &e), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "auto, openblas or onednn"));
    assert_int_equal(mu_engine_parse(NULL, &e), MU_EINVAL);
    assert_string_equal(mu_engine_name(MU_ENGINE_ONEDNN), "onednn");
    assert_string_equal(mu_engine_name(MU_ENGINE_OPENBLAS), "openblas");
    assert_string_equal(mu_engine_name(MU_ENGINE_AUTO), "auto");
}

/* Changing the thread count between calls rebuilds cached oneDNN primitives; results stay right. */
static void test_threads_change(void **st) {
    int32_t old = mu_threads_get();
    mu_gemm_desc_t d = loose(0, 0, 33, 40, 50, 1.0f, 0.0f, 1);
    assert_int_equal(mu_threads_set(1), MU_OK);
    assert_int_equal(mu_threads_get(), 1);
    check_case(MU_ENGINE_ONEDNN, &d, 900);
    assert_int_equal(mu_threads_set(2), MU_OK);
    assert_int_equal(mu_threads_get(), 2);
    check_case(MU_ENGINE_ONEDNN, &d, 901);
    mu_gemm_ctx_t *g;
    float A[33 * 51], B[50 * 42], C1[33 * 43], C2[33 * 43]; /* lda 51, ldb 42, ldc 43 */
    fill(A, 33 * 51, 3), fill(B, 50 * 42, 4);
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_ONEDNN), MU_OK);
    assert_int_equal(mu_threads_set(1), MU_OK);
    assert_int_equal(mu_gemm(g, &d, A, B, C1), MU_OK);
    assert_int_equal(mu_threads_set(2), MU_OK);
    assert_int_equal(mu_gemm(g, &d, A, B, C2), MU_OK);
    for (int i = 0; i < 33; i++)
        for (int j = 0; j < 40; j++) assert_close(C2[i * 43 + j], C1[i * 43 + j], 1e-5, 1e-5);
    mu_gemm_ctx_free(g);
    assert_int_equal(mu_threads_set(old), MU_OK);
    assert_int_equal(mu_threads_set(5000), MU_EINVAL);
}

static const struct CMUnitTest group[] = {
    cmocka_unit_test(test_openblas_all_cases),  cmocka_unit_test(test_onednn_all_cases),
    cmocka_unit_test(test_auto_all_cases),      cmocka_unit_test(test_batched_strides),
    cmocka_unit_test(test_beta0_ignores_c),     cmocka_unit_test(test_engines_agree),
    cmocka_unit_test(test_auto_plan_roundtrip), cmocka_unit_test(test_plan_load_rejects),
    cmocka_unit_test(test_bf16),                cmocka_unit_test(test_bad_inputs),
    cmocka_unit_test(test_engine_names),        cmocka_unit_test(test_threads_change),
    cmocka_unit_test(test_interleaved_heads),   cmocka_unit_test(test_to_bf16),
    cmocka_unit_test(test_bf16_operands),
};
MU_TEST_MAIN(group)
