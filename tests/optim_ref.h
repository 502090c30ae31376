/* optim_ref.h — helpers shared by the optimizer tests (test_optim, test_presets,
 * test_family_*): hand-built parameter registries, seeded fills, and the double-precision
 * references the optimizers are checked against (dense products, Newton–Schulz / Polar
 * Express iterations, the exact polar factor and σ_max through LAPACKE_dgesdd).
 * Include after testutil.h. Everything is static inline, so a test that uses a part pays
 * nothing for the rest. */
#ifndef MU_TESTS_OPTIM_REF_H
#define MU_TESTS_OPTIM_REF_H

#include <lapacke.h>

#include "muon/optim.h"

/* ---- hand-built registry ---- */
typedef struct {
    mu_param_t p[8];
    int32_t n;
} reg_t;

/* A zeroed parameter record with its own data and grad (ndim 1: shape (rows, 1)). */
static inline mu_param_t *reg_add(reg_t *r, const char *name, mu_role_t role, int32_t ndim, int64_t rows,
                                  int64_t cols) {
    mu_param_t *p = &r->p[r->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->shape[0] = rows;
    p->shape[1] = ndim == 2 ? cols : 1;
    p->numel = rows * p->shape[1];
    p->role = role;
    p->fan_in = p->shape[1];
    p->fan_out = rows;
    p->layer = -1;
    p->n_split = 1;
    p->data = calloc((size_t)p->numel, sizeof(float));
    p->grad = calloc((size_t)p->numel, sizeof(float));
    return p;
}

static inline void reg_free(reg_t *r) {
    for (int32_t i = 0; i < r->n; i++) {
        free(r->p[i].data);
        free(r->p[i].grad);
    }
    r->n = 0;
}

/* uniform(-scale, scale) from a 64-bit LCG started at seed·φ64 + salt. */
static inline void fill_lcg(float *x, int64_t n, uint64_t seed, uint64_t salt, float scale) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + salt;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = scale * (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
}

static inline mu_gemm_ctx_t *gemm_ctx(void) {
    mu_gemm_ctx_t *g = NULL;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_OPENBLAS), 0);
    return g;
}

/* The preset's recommended config (fails the test for an unknown name). */
static inline mu_optim_config_t cfg_of(const char *name) {
    mu_optim_config_t c;
    assert_int_equal(mu_optim_config_for_preset(name, &c), 0);
    return c;
}

/* The small GPT-like registry of the state round-trip tests: embedding, fused qkv (3 views,
 * 2 heads), MLP matrix, head, ln_f gain and bias; weights uniform(±0.2) under salt. */
static inline void reg_small_gpt(reg_t *r, uint64_t salt) {
    reg_add(r, "wte", MU_ROLE_EMBED, 2, 10, 8);
    mu_param_t *q = reg_add(r, "h.0.attn.c_attn.weight", MU_ROLE_HIDDEN, 2, 24, 8);
    q->n_split = 3, q->n_head = 2, q->layer = 0;
    reg_add(r, "h.0.mlp.c_fc.weight", MU_ROLE_HIDDEN, 2, 16, 8)->layer = 0;
    reg_add(r, "lm_head.weight", MU_ROLE_HEAD, 2, 10, 8);
    reg_add(r, "ln_f.weight", MU_ROLE_GAIN, 1, 8, 1);
    reg_add(r, "ln_f.bias", MU_ROLE_BIAS, 1, 8, 1);
    for (int32_t i = 0; i < r->n; i++) fill_lcg(r->p[i].data, r->p[i].numel, 50 + (uint64_t)i, salt, 0.2f);
}

/* Step t's gradients: uniform(±0.4), a different stream per (t, parameter). */
static inline void reg_grads(reg_t *r, int t, uint64_t salt) {
    for (int32_t i = 0; i < r->n; i++)
        fill_lcg(r->p[i].grad, r->p[i].numel, 1000 * (uint64_t)t + (uint64_t)i, salt, 0.4f);
}

/* The optimizer state of oa (over a) handed to ob (over b, fresh): b's weights are copied
 * from a's and ob loads oa's saved state. Returns the saved bytes (caller frees), *nb its size. */
static inline void *state_handoff(mu_optim_t *oa, const reg_t *a, mu_optim_t *ob, reg_t *b, size_t *nb) {
    *nb = mu_optim_state_bytes(oa);
    void *buf = malloc(*nb);
    assert_int_equal(mu_optim_state_save(oa, buf, *nb), 0);
    for (int32_t i = 0; i < a->n; i++) memcpy(b->p[i].data, a->p[i].data, sizeof(float) * (size_t)a->p[i].numel);
    assert_int_equal(mu_optim_state_load(ob, buf, *nb), 0);
    return buf;
}

/* Every weight of a and b bit-identical and finite (what names the case on failure). */
static inline void assert_same_weights(const reg_t *a, const reg_t *b, const char *what) {
    for (int32_t i = 0; i < a->n; i++) {
        if (memcmp(a->p[i].data, b->p[i].data, sizeof(float) * (size_t)a->p[i].numel) != 0) {
            print_error("%s: '%s' differs after the round trip\n", what, a->p[i].name);
            fail();
        }
        for (int64_t j = 0; j < a->p[i].numel; j++) assert_true(isfinite(a->p[i].data[j]));
    }
}

static inline double sgn(double x) { return (double)((x > 0) - (x < 0)); }

/* ---- double references ---- */

/* C (m, n) = A (m, k) · B (k, n), or with trans_b: A · Bᵀ, B (n, k). */
static inline void dmm(const double *A, const double *B, double *C, int64_t m, int64_t k, int64_t n, int trans_b) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t l = 0; l < k; l++) s += A[i * k + l] * (trans_b ? B[j * k + l] : B[l * n + j]);
            C[i * n + j] = s;
        }
}

/* Polar Express coefficients as stored by the library (spec §15, safety factor applied). */
static const double ref_pe_tab[8][3] = {
    {8.2051604140, -22.9019349871, 16.4607249102}, {4.0663951599, -2.8611540868, 0.5183995227},
    {3.9095949044, -2.8233517350, 0.5250369769},   {3.2855640172, -2.4153019596, 0.4852940655},
    {2.2778732871, -1.6198217653, 0.3984807870},   {1.8725756513, -1.2307042575, 0.3585161621},
    {1.8564371098, -1.2132392819, 0.3567997894},   {1.875, -1.25, 0.375},
};

/* Polynomial orth in double (kind 0 ns5 (Keller), 1 pe): X/(‖X‖_F + 1e-7) (pe: 1.01‖X‖_F),
 * on the short side, `steps` × X <- aX + (bA + cA²)X with A = XXᵀ. X (m, n) in, out (m, n). */
static inline void ref_poly(const double *X, int64_t m, int64_t n, int kind, int steps, double *out) {
    const int tr = m > n;
    const int64_t r = tr ? n : m, c = tr ? m : n;
    double *Y = malloc(sizeof(double) * (size_t)(r * c)), *Z = malloc(sizeof(double) * (size_t)(r * c));
    double *A = malloc(sizeof(double) * (size_t)(r * r)), *B = malloc(sizeof(double) * (size_t)(r * r));
    double fro = 0;
    for (int64_t i = 0; i < m * n; i++) fro += X[i] * X[i];
    fro = sqrt(fro);
    const double s = 1.0 / ((kind == 1 ? 1.01 * fro : fro) + 1e-7);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            if (tr) Y[j * c + i] = s * X[i * n + j];
            else Y[i * c + j] = s * X[i * n + j];
        }
    for (int k = 0; k < steps; k++) {
        double a = 3.4445, b = -4.7750, cc = 2.0315;
        if (kind == 1) {
            const double *row = ref_pe_tab[k < 8 ? k : 7];
            a = row[0], b = row[1], cc = row[2];
        }
        dmm(Y, Y, A, r, c, r, 1);  // A = Y Yᵀ
        dmm(A, A, B, r, r, r, 0);  // B = A²
        for (int64_t i = 0; i < r * r; i++) B[i] = b * A[i] + cc * B[i];
        dmm(B, Y, Z, r, r, c, 0);
        for (int64_t i = 0; i < r * c; i++) Y[i] = a * Y[i] + Z[i];
    }
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) out[i * n + j] = tr ? Y[j * c + i] : Y[i * c + j];
    free(Y), free(Z), free(A), free(B);
}

/* Exact polar factor P·Qᵀ of the thin SVD X = P Σ Qᵀ (X (m, n) in double, dgesdd) into out
 * (may be NULL); returns σ_max. */
static inline double ref_polar(const double *X, int64_t m, int64_t n, double *out) {
    const int64_t r = m < n ? m : n;
    double *A = malloc(sizeof(double) * (size_t)(m * n)), *S = malloc(sizeof(double) * (size_t)r);
    double *P = malloc(sizeof(double) * (size_t)(m * r)), *Qt = malloc(sizeof(double) * (size_t)(r * n));
    memcpy(A, X, sizeof(double) * (size_t)(m * n));
    assert_int_equal(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, A, (lapack_int)n, S, P,
                                    (lapack_int)r, Qt, (lapack_int)n),
                     0);
    if (out) dmm(P, Qt, out, m, r, n, 0);
    const double smax = S[0];
    free(A), free(S), free(P), free(Qt);
    return smax;
}

/* σ_max of a float matrix X (m, n), in double. */
static inline double sigma_max_f(const float *X, int64_t m, int64_t n) {
    double *D = malloc(sizeof(double) * (size_t)(m * n));
    for (int64_t i = 0; i < m * n; i++) D[i] = X[i];
    const double s = ref_polar(D, m, n, NULL);
    free(D);
    return s;
}

#endif
