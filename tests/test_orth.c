/* test_orth.c — orthogonalization kernels: coefficient tables, the spec's singular
 * value figures for ns5 / pe / cubic on spec(m,n,κ) matrices, exact polar factor vs
 * the known P·Qᵀ, syrk vs gemm paths, transposition symmetry, defined results
 * (zero, non-finite, tiny, huge, rank-deficient), bf16 refusal, power iteration, Lanczos,
 * the thin QR of subspace bases (CholeskyQR2 and its fallback).
 *
 * spec(m,n,κ) = P diag(σ) Qᵀ, σ_i = κ^(−i/(r−1)), P (m,r), Q (n,r) orthonormal from
 * LAPACK QR of Gaussian matrices (double), rounded to fp32. Its exact polar factor
 * is P·Qᵀ. Output singular values are computed with dgesdd in double.
 * Tolerances: the spec's figures are fp64 values; our fp32 kernels match them to
 * 1e-4 absolute (spec §0 fp32 target) unless a test says otherwise. */
#include <cblas.h>
#include <lapacke.h>

#include "muon/orth.h"
#include "orth/qr.h"
#include "testutil.h"

/* ---- helpers ---- */

/* Q (rows, k) row-major with orthonormal columns: QR of a Gaussian matrix. */
static void rand_orthonormal(int64_t rows, int64_t k, uint64_t seed, double *Q) {
    mu_rng_t r;
    mu_rng_seed(&r, seed);
    for (int64_t i = 0; i < rows * k; i++) Q[i] = mu_rng_normal(&r);
    double *tau = malloc((size_t)k * sizeof *tau);
    assert_int_equal(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)k, Q, (lapack_int)k, tau), 0);
    assert_int_equal(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)k, (lapack_int)k, Q,
                                    (lapack_int)k, tau), 0);
    free(tau);
}

typedef struct {
    int64_t m, n, r;
    float *X;      /* (m, n) = P diag(σ) Qᵀ */
    double *polar; /* (m, n) = P Qᵀ over the kept rank */
} specmat_t;

/* spec(m,n,κ); rank < r zeroes σ_i for i >= rank (rank-deficient inputs). */
static specmat_t spec_matrix(int64_t m, int64_t n, double kappa, int64_t rank, uint64_t seed) {
    specmat_t s = {m, n, m < n ? m : n, NULL, NULL};
    int64_t r = s.r;
    double *P = malloc((size_t)(m * r) * sizeof *P), *Q = malloc((size_t)(n * r) * sizeof *Q);
    rand_orthonormal(m, r, seed, P);
    rand_orthonormal(n, r, seed + 1000, Q);
    s.X = malloc((size_t)(m * n) * sizeof *s.X);
    s.polar = calloc((size_t)(m * n), sizeof *s.polar);
    /* X = (P diag σ) Qᵀ and P Qᵀ over the first `rank` columns, in double */
    double *PS = calloc((size_t)(m * r), sizeof *PS), *X = malloc((size_t)(m * n) * sizeof *X);
    for (int64_t k = 0; k < rank; k++) {
        double sk = pow(kappa, -(double)k / (double)(r > 1 ? r - 1 : 1));
        for (int64_t i = 0; i < m; i++) PS[i * r + k] = P[i * r + k] * sk;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, rank, 1.0, PS, r, Q, r, 0.0, X, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, rank, 1.0, P, r, Q, r, 0.0, s.polar, n);
    for (int64_t i = 0; i < m * n; i++) s.X[i] = (float)X[i];
    free(PS);
    free(X);
    free(P);
    free(Q);
    return s;
}

static void spec_free(specmat_t *s) {
    free(s->X);
    free(s->polar);
}

/* singular values (descending) of a float (m, n) matrix, in double */
static double *singvals(const float *O, int64_t m, int64_t n) {
    int64_t r = m < n ? m : n;
    double *a = malloc((size_t)(m * n) * sizeof *a), *s = malloc((size_t)r * sizeof *s);
    for (int64_t i = 0; i < m * n; i++) a[i] = O[i];
    /* the row-major (m, n) array is the column-major (n, m) Xᵀ: same singular values */
    assert_int_equal(LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', (lapack_int)n, (lapack_int)m, a, (lapack_int)n, s, NULL,
                                    1, NULL, 1), 0);
    free(a);
    return s;
}

typedef struct {
    double lo, hi, mean, frob; /* min σ, max σ, mean σ, ‖O‖_F/sqrt(r) */
} sv_stats_t;

static sv_stats_t sv_stats(const float *O, int64_t m, int64_t n) {
    int64_t r = m < n ? m : n;
    double *s = singvals(O, m, n);
    sv_stats_t st = {s[r - 1], s[0], 0, 0};
    for (int64_t i = 0; i < r; i++) st.mean += s[i], st.frob += s[i] * s[i];
    st.mean /= (double)r;
    st.frob = sqrt(st.frob / (double)r);
    free(s);
    return st;
}

static mu_gemm_ctx_t *ctx(void) {
    static mu_gemm_ctx_t *g;
    if (!g) assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_AUTO), 0);
    return g;
}

/* orth of X (m, n) with config kind/steps into a new buffer; asserts success. */
static float *run_orth(const mu_orth_config_t *c, const float *X, int64_t m, int64_t n) {
    size_t ws = mu_orth_workspace_floats(m, n, c);
    assert_true(ws > 0);
    float *work = malloc(ws * sizeof *work), *out = malloc((size_t)(m * n) * sizeof *out);
    int rc = mu_orth(ctx(), c, X, m, n, out, work);
    if (rc) print_error("mu_orth: %s\n", mu_last_error());
    assert_int_equal(rc, 0);
    free(work);
    return out;
}

static int g_path = MU_ORTH_PATH_AUTO; /* tests that cover both paths set it */

static mu_orth_config_t cfg(mu_orth_kind_t kind, int steps) {
    mu_orth_config_t c = mu_orth_config_default();
    c.kind = kind;
    c.steps = steps;
    c.path = g_path;
    return c;
}

static const char *path_name(int p) { return p == MU_ORTH_PATH_GRAM ? "gram" : p == MU_ORTH_PATH_ITERATE ? "iterate" : "auto"; }

static double max_abs_diff_d(const float *a, const double *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

static double frob_diff_d(const float *a, const double *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(d);
}

/* the scalar map of T iterations of a kind on a normalized singular value x */
static double scalar_map(mu_orth_kind_t kind, int T, double x) {
    for (int k = 0; k < T; k++) {
        double a, b, c;
        assert_int_equal(mu_orth_coeffs(kind, k, &a, &b, &c), 0);
        x = x * (a + b * x * x + c * x * x * x * x);
    }
    return x;
}

/* ---- coefficient tables ---- */

static void test_coeffs_pe_table(void **st) {
    (void)st;
    static const double raw[8][3] = {
        {8.28721201814563, -23.595886519098837, 17.300387312530933},
        {4.107059111542203, -2.9478499167379106, 0.5448431082926601},
        {3.9486908534822946, -2.908902115962949, 0.5518191394370137},
        {3.3184196573706015, -2.488488024314874, 0.51004894012372},
        {2.300652019954817, -1.6689039845747493, 0.4188073119525673},
        {1.891301407787398, -1.2679958271945868, 0.37680408948524835},
        {1.8750014808534479, -1.2500016453999487, 0.3750001645474248},
        {1.875, -1.25, 0.375}};
    static const double p1[8] = {1.7640, 1.7236, 1.6113, 1.3556, 1.0565, 1.0004, 1.0000, 1.0000};
    for (int k = 0; k < 12; k++) {
        int row = k < 8 ? k : 7;
        double f = row < 7 ? 1.01 : 1.0;
        double a, b, c;
        assert_int_equal(mu_orth_coeffs(MU_ORTH_PE, k, &a, &b, &c), 0);
        assert_close(a, raw[row][0] / f, 1e-9, 0);
        assert_close(b, raw[row][1] / (f * f * f), 1e-9, 0);
        assert_close(c, raw[row][2] / (f * f * f * f * f), 1e-9, 0);
        assert_close(a + b + c, p1[row], 1e-4, 0); /* p_k(1) */
    }
    /* the spec's printed adjusted table (10 decimals) */
    double a, b, c;
    mu_orth_coeffs(MU_ORTH_PE, 0, &a, &b, &c);
    assert_close(a, 8.2051604140, 1e-9, 0);
    assert_close(b, -22.9019349871, 1e-9, 0);
    assert_close(c, 16.4607249102, 1e-9, 0);
    mu_orth_coeffs(MU_ORTH_PE, 6, &a, &b, &c);
    assert_close(a, 1.8564371098, 1e-9, 0);
    assert_close(b, -1.2132392819, 1e-9, 0);
    assert_close(c, 0.3567997894, 1e-9, 0);
}

static void test_coeffs_other_kinds(void **st) {
    (void)st;
    double a, b, c;
    for (int k = 0; k < 20; k += 7) {
        assert_int_equal(mu_orth_coeffs(MU_ORTH_NS5, k, &a, &b, &c), 0);
        assert_true(a == 3.4445 && b == -4.7750 && c == 2.0315);
        assert_int_equal(mu_orth_coeffs(MU_ORTH_CUBIC, k, &a, &b, &c), 0);
        assert_true(a == 1.5 && b == -0.5 && c == 0);
        assert_int_equal(mu_orth_coeffs(MU_ORTH_QUINTIC, k, &a, &b, &c), 0);
        assert_true(a == 1.875 && b == -1.25 && c == 0.375);
    }
    assert_int_equal(mu_orth_coeffs(MU_ORTH_EXACT, 0, &a, &b, &c), MU_EINVAL);
    assert_int_equal(mu_orth_coeffs(MU_ORTH_NS5, -1, &a, &b, &c), MU_EINVAL);
    /* ns5 scalar sup on (0, 1] is <= 1.2024 */
    double sup = 0;
    for (int i = 1; i <= 20000; i++) sup = fmax(sup, scalar_map(MU_ORTH_NS5, 5, i / 20000.0));
    assert_true(sup <= 1.2024 && sup > 1.2);
    /* pe scalar map: T=5 sup <= 1.1236; T=8 maps [1e-3, 1] to 1 ± 1e-6 */
    double sup5 = 0, dev8 = 0;
    for (int i = 0; i <= 20000; i++) {
        double x = pow(10.0, -3.0 * i / 20000.0);
        sup5 = fmax(sup5, scalar_map(MU_ORTH_PE, 5, x));
        dev8 = fmax(dev8, fabs(scalar_map(MU_ORTH_PE, 8, x) - 1));
    }
    assert_true(sup5 <= 1.1236);
    assert_true(dev8 <= 1e-6);
}

static void test_names_and_flops(void **st) {
    (void)st;
    mu_orth_kind_t k;
    const char *names[] = {"ns5", "pe", "cubic", "quintic", "exact"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(mu_orth_kind_name((mu_orth_kind_t)i), names[i]);
        assert_int_equal(mu_orth_kind_parse(names[i], &k), 0);
        assert_int_equal((int)k, i);
    }
    assert_int_equal(mu_orth_kind_parse("newton", &k), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "newton"));
    mu_orth_config_t c = cfg(MU_ORTH_NS5, 5);
    c.path = MU_ORTH_PATH_ITERATE;
    double r = 256, cc = 1024;
    assert_close(mu_orth_flops(256, 1024, &c), 5 * (3 * r * r * cc + 2 * r * r * r), 0, 1e-12);
    assert_close(mu_orth_flops(1024, 256, &c), 5 * (3 * r * r * cc + 2 * r * r * r), 0, 1e-12);
    c.use_syrk = 0; /* spec §1.1 convention: 4r²c + 2r³ */
    assert_close(mu_orth_flops(256, 1024, &c), 5 * (4 * r * r * cc + 2 * r * r * r), 0, 1e-12);
    c = cfg(MU_ORTH_CUBIC, 10); /* no A·A term */
    c.path = MU_ORTH_PATH_ITERATE;
    assert_close(mu_orth_flops(256, 1024, &c), 10 * (3 * r * r * cc), 0, 1e-12);
    /* Gram path: 3r²c + (6T − 5)r³; AUTO takes it for c = 4r, not for a square matrix */
    c = cfg(MU_ORTH_NS5, 5);
    double gram = 3 * r * r * cc + 25 * r * r * r;
    assert_close(mu_orth_flops(256, 1024, &c), gram, 0, 1e-12);
    c.path = MU_ORTH_PATH_GRAM;
    assert_close(mu_orth_flops(1024, 256, &c), gram, 0, 1e-12);
    c.path = MU_ORTH_PATH_AUTO;
    assert_close(mu_orth_flops(256, 256, &c), 5 * (5 * r * r * r), 0, 1e-12);
    /* 16 floats for the item norms (2 per item + 2, rounded up to 16), then per item two iterates + 6 (Gram) or 2 r×r matrices */
    assert_true(mu_orth_workspace_floats(256, 1024, &c) == 16 + 2 * 256 * 1024 + 6 * 256 * 256);
    assert_true(mu_orth_workspace_floats(256, 256, &c) == 16 + 2 * 256 * 256 + 2 * 256 * 256);
    assert_true(mu_orth_batch_workspace_floats(9, 256, 1024, &c) == 32 + 9 * (2 * 256 * 1024 + 6 * 256 * 256));
    assert_true(mu_orth_batch_workspace_floats(7, 256, 1024, &c) == 16 + 7 * (2 * 256 * 1024 + 6 * 256 * 256));
    assert_true(mu_orth_batch_workspace_floats(0, 256, 1024, &c) == 0);
}

/* ---- spec figures ---- */

static void check_stats(const char *what, sv_stats_t s, double lo, double hi, double mean, double frob, double tol) {
    print_message("%-34s σ ∈ [%.5f, %.5f] mean %.5f frob %.5f\n", what, s.lo, s.hi, s.mean, s.frob);
    assert_close(s.lo, lo, tol, 0);
    assert_close(s.hi, hi, tol, 0);
    if (mean >= 0) assert_close(s.mean, mean, tol, 0);
    if (frob >= 0) assert_close(s.frob, frob, tol, 0);
}

static void test_ns5_spec_figures_path(void);
static void test_ns5_spec_figures(void **st) {
    (void)st;
    for (g_path = MU_ORTH_PATH_ITERATE; g_path <= MU_ORTH_PATH_GRAM; g_path++) {
        print_message("-- path %s\n", path_name(g_path));
        test_ns5_spec_figures_path();
    }
    g_path = MU_ORTH_PATH_AUTO;
}
static void test_ns5_spec_figures_path(void) {
    const int64_t shapes[3][2] = {{256, 256}, {1024, 256}, {256, 1024}};
    mu_orth_config_t c = cfg(MU_ORTH_NS5, 5);
    for (int i = 0; i < 3; i++) {
        int64_t m = shapes[i][0], n = shapes[i][1];
        specmat_t s = spec_matrix(m, n, 1e3, m < n ? m : n, 11 + i);
        float *O = run_orth(&c, s.X, m, n);
        char what[64];
        snprintf(what, sizeof what, "ns5 T=5 spec(%lld,%lld,1e3)", (long long)m, (long long)n);
        check_stats(what, sv_stats(O, m, n), 0.1112, 1.2022, 0.7484, 0.8102, 1e-4);
        free(O);
        spec_free(&s);
    }
    specmat_t s = spec_matrix(256, 256, 1e4, 256, 21);
    float *O = run_orth(&c, s.X, 256, 256);
    check_stats("ns5 T=5 spec(256,256,1e4)", sv_stats(O, 256, 256), 0.0128, 1.2023, 0.5829, -1, 1e-4);
    free(O);
    spec_free(&s);
}

static void test_cubic_spec_and_convergence_path(void);
static void test_cubic_spec_and_convergence(void **st) {
    (void)st;
    for (g_path = MU_ORTH_PATH_ITERATE; g_path <= MU_ORTH_PATH_GRAM; g_path++) {
        print_message("-- path %s\n", path_name(g_path));
        test_cubic_spec_and_convergence_path();
    }
    g_path = MU_ORTH_PATH_AUTO;
}
static void test_cubic_spec_and_convergence_path(void) {
    specmat_t s = spec_matrix(256, 256, 1e3, 256, 31);
    mu_orth_config_t c = cfg(MU_ORTH_CUBIC, 10);
    float *O = run_orth(&c, s.X, 256, 256);
    check_stats("cubic T=10 spec(256,256,1e3)", sv_stats(O, 256, 256), 0.0132, 1.0000, -1, -1, 1e-4);
    free(O);
    spec_free(&s);
    /* well conditioned: cubic converges to the exact polar factor P·Qᵀ */
    s = spec_matrix(128, 192, 10, 128, 32);
    c.steps = 30;
    O = run_orth(&c, s.X, 128, 192);
    double d = max_abs_diff_d(O, s.polar, 128 * 192);
    print_message("cubic T=30 spec(128,192,10): max |O - PQᵀ| = %.3g\n", d);
    assert_true(d < 1e-3);
    free(O);
    spec_free(&s);
}

static void test_pe_spec_figures_path(void);
static void test_pe_spec_figures(void **st) {
    (void)st;
    for (g_path = MU_ORTH_PATH_ITERATE; g_path <= MU_ORTH_PATH_GRAM; g_path++) {
        print_message("-- path %s\n", path_name(g_path));
        test_pe_spec_figures_path();
    }
    g_path = MU_ORTH_PATH_AUTO;
}
static void test_pe_spec_figures_path(void) {
    const int64_t shapes[2][2] = {{256, 256}, {1024, 256}};
    for (int i = 0; i < 2; i++) {
        int64_t m = shapes[i][0], n = shapes[i][1];
        specmat_t s = spec_matrix(m, n, 1e3, 256, 41 + i);
        mu_orth_config_t c = cfg(MU_ORTH_PE, 5);
        float *O = run_orth(&c, s.X, m, n);
        const double tol = 1e-4; /* pe iterates whatever the path asks */
        check_stats("pe T=5", sv_stats(O, m, n), 0.2203, 1.1235, 0.8841, 0.9167, tol);
        free(O);
        c.steps = 6;
        O = run_orth(&c, s.X, m, n);
        check_stats("pe T=6", sv_stats(O, m, n), 0.3996, 1.0012, -1, -1, tol);
        free(O);
        c.steps = 8;
        O = run_orth(&c, s.X, m, n);
        check_stats("pe T=8", sv_stats(O, m, n), 0.9298, 1.0000, 0.9980, -1, tol);
        free(O);
        spec_free(&s);
    }
}

static void test_pe_tighter_than_ns5(void **st) {
    (void)st;
    specmat_t s = spec_matrix(256, 512, 1e3, 256, 51);
    size_t len = 256 * 512;
    for (int T = 5; T <= 6; T++) {
        mu_orth_config_t cn = cfg(MU_ORTH_NS5, T), cp = cfg(MU_ORTH_PE, T);
        float *On = run_orth(&cn, s.X, 256, 512), *Op = run_orth(&cp, s.X, 256, 512);
        double dn = frob_diff_d(On, s.polar, len), dp = frob_diff_d(Op, s.polar, len);
        print_message("T=%d ‖O - PQᵀ‖_F: ns5 %.4f pe %.4f\n", T, dn, dp);
        assert_true(dp < 0.8 * dn);
        free(On);
        free(Op);
    }
    spec_free(&s);
}

/* ---- structure ---- */

static void test_transpose_symmetry_path(void);
static void test_transpose_symmetry(void **st) {
    (void)st;
    for (g_path = MU_ORTH_PATH_ITERATE; g_path <= MU_ORTH_PATH_GRAM; g_path++) {
        print_message("-- path %s\n", path_name(g_path));
        test_transpose_symmetry_path();
    }
    g_path = MU_ORTH_PATH_AUTO;
}
static void test_transpose_symmetry_path(void) {
    const int64_t m = 96, n = 160;
    specmat_t s = spec_matrix(m, n, 100, m, 61);
    float *Xt = malloc(m * n * sizeof *Xt);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) Xt[j * m + i] = s.X[i * n + j];
    for (int kind = MU_ORTH_NS5; kind <= MU_ORTH_EXACT; kind++) {
        mu_orth_config_t c = cfg((mu_orth_kind_t)kind, 5);
        float *O = run_orth(&c, s.X, m, n), *Ot = run_orth(&c, Xt, n, m);
        double d = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) d = fmax(d, fabs(O[i * n + j] - Ot[j * m + i]));
        print_message("%-8s max |orth(X) - orth(Xᵀ)ᵀ| = %.3g\n", mu_orth_kind_name((mu_orth_kind_t)kind), d);
        assert_true(d <= 1e-6);
        free(O);
        free(Ot);
    }
    free(Xt);
    spec_free(&s);
}

static void test_syrk_matches_gemm(void **st) {
    (void)st;
    /* the compute-layer entry itself, both orientations, beta != 0 on a symmetric C */
    const int64_t n = 70, k = 130;
    float *A = malloc(n * k * sizeof *A), *C = malloc(n * n * sizeof *C), *C0 = malloc(n * n * sizeof *C0);
    mu_rng_t r;
    mu_rng_seed(&r, 71);
    for (int64_t i = 0; i < n * k; i++) A[i] = mu_rng_normal(&r);
    for (int trans = 0; trans <= 1; trans++) {
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j <= i; j++) C0[i * n + j] = C0[j * n + i] = (float)(i + j) * 0.01f;
        memcpy(C, C0, n * n * sizeof *C);
        /* trans 0: A stored (n, k); trans 1: the same buffer read as stored (k, n) */
        assert_int_equal(mu_gemm_syrk(ctx(), trans, n, k, 0.5f, A, trans ? n : k, 2.0f, C, n, MU_PREC_F32), 0);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++) {
                double ref = 2.0 * C0[i * n + j];
                for (int64_t p = 0; p < k; p++)
                    ref += 0.5 * (trans ? (double)A[p * n + i] * A[p * n + j] : (double)A[i * k + p] * A[j * k + p]);
                assert_close(C[i * n + j], ref, 1e-3, 1e-5);
            }
    }
    assert_int_equal(mu_gemm_syrk(ctx(), 0, n, k, 1, A, k - 1, 0, C, n, MU_PREC_F32), MU_EINVAL);
    free(A);
    free(C);
    free(C0);
    /* whole ns5 / pe runs: syrk and gemm paths agree */
    specmat_t s = spec_matrix(200, 300, 1e3, 200, 72);
    for (int kind = MU_ORTH_NS5; kind <= MU_ORTH_PE; kind++) {
        mu_orth_config_t c0 = cfg((mu_orth_kind_t)kind, 5);
        c0.use_syrk = 0;
        c0.path = MU_ORTH_PATH_ITERATE; /* reference: gemm X·Xᵀ, iterate path */
        float *O0 = run_orth(&c0, s.X, 200, 300);
        for (int path = MU_ORTH_PATH_ITERATE; path <= MU_ORTH_PATH_GRAM; path++)
            for (int syrk = 0; syrk <= 1; syrk++) {
                mu_orth_config_t c1 = c0;
                c1.use_syrk = syrk;
                c1.path = path;
                float *O1 = run_orth(&c1, s.X, 200, 300);
                double d = max_abs_diff(O1, O0, 200 * 300);
                print_message("%s %s %s vs iterate gemm: max diff %.3g\n", mu_orth_kind_name((mu_orth_kind_t)kind),
                              path_name(path), syrk ? "syrk" : "gemm", d);
                /* same path: only syrk vs gemm rounding; Gram vs iterate: A's round-off
                 * compounds (measured 7e-5 on elements ~0.06: 0.1% relative) */
                assert_true(d < (path == MU_ORTH_PATH_GRAM && kind != MU_ORTH_PE ? 2e-4 : 1e-5));
                free(O1);
            }
        free(O0);
    }
    spec_free(&s);
}

static void test_exact_vs_reference(void **st) {
    (void)st;
    const int64_t shapes[3][2] = {{64, 64}, {150, 90}, {90, 150}};
    for (int i = 0; i < 3; i++) {
        int64_t m = shapes[i][0], n = shapes[i][1];
        specmat_t s = spec_matrix(m, n, 10, m < n ? m : n, 81 + i);
        mu_orth_config_t c = cfg(MU_ORTH_EXACT, 0);
        float *Os = run_orth(&c, s.X, m, n);
        c.exact_double = 1;
        float *Od = run_orth(&c, s.X, m, n);
        double ds = max_abs_diff_d(Os, s.polar, m * n), dd = max_abs_diff_d(Od, s.polar, m * n);
        print_message("exact (%lld,%lld): sgesdd %.3g dgesdd %.3g vs PQᵀ\n", (long long)m, (long long)n, ds, dd);
        assert_true(dd < 1e-6);
        assert_true(ds < 1e-5);
        free(Os);
        free(Od);
        spec_free(&s);
    }
    /* rank-deficient (rank 20 of 64). fp32 rounding of X leaves ~1e-8·σ_max singular
     * values: sgesdd drops them (cut max(m,n)·FLT_EPSILON·σ_max), so the null space is
     * exactly 0; dgesdd keeps them (spec cut 1e-12·σ_max) and maps them to 1, so only its
     * range part is checked. */
    specmat_t s = spec_matrix(64, 96, 10, 20, 85);
    for (int dbl = 0; dbl <= 1; dbl++) {
        mu_orth_config_t c = cfg(MU_ORTH_EXACT, 0);
        c.exact_double = dbl;
        float *O = run_orth(&c, s.X, 64, 96);
        double *sg = singvals(O, 64, 96);
        print_message("exact %s rank 20: σ_20 = %.6f σ_21 = %.3g\n", dbl ? "dgesdd" : "sgesdd", sg[19], sg[20]);
        for (int k = 0; k < 20; k++) assert_close(sg[k], 1.0, 1e-5, 0);
        if (!dbl) {
            assert_true(sg[20] < 1e-6);
            assert_true(max_abs_diff_d(O, s.polar, 64 * 96) < 1e-5);
        }
        free(sg);
        free(O);
    }
    spec_free(&s);
}

/* ---- defined results ---- */

static void test_zero_and_nonfinite(void **st) {
    (void)st;
    const int64_t m = 40, n = 24;
    float *X = calloc(m * n, sizeof *X), *out = malloc(m * n * sizeof *out);
    for (int kind = MU_ORTH_NS5; kind <= MU_ORTH_EXACT; kind++) {
        for (int dbl = 0; dbl <= 1; dbl++) {
            mu_orth_config_t c = cfg((mu_orth_kind_t)kind, 5);
            c.exact_double = dbl;
            float *work = malloc(mu_orth_workspace_floats(m, n, &c) * sizeof *work);
            for (int64_t i = 0; i < m * n; i++) out[i] = 7, X[i] = 0;
            assert_int_equal(mu_orth(ctx(), &c, X, m, n, out, work), 0);
            for (int64_t i = 0; i < m * n; i++) assert_true(out[i] == 0.0f);
            /* non-finite: error, output untouched */
            float bad[2] = {NAN, INFINITY};
            for (int b = 0; b < 2; b++) {
                for (int64_t i = 0; i < m * n; i++) out[i] = 7, X[i] = (float)i;
                X[m * n / 2] = bad[b];
                assert_int_equal(mu_orth(ctx(), &c, X, m, n, out, work), MU_ENONFINITE);
                assert_non_null(strstr(mu_last_error(), "NaN or Inf"));
                for (int64_t i = 0; i < m * n; i++) assert_true(out[i] == 7.0f);
            }
            free(work);
        }
    }
    free(X);
    free(out);
}

static void test_tiny_shapes_path(void);
static void test_tiny_shapes(void **st) {
    (void)st;
    for (g_path = MU_ORTH_PATH_ITERATE; g_path <= MU_ORTH_PATH_GRAM; g_path++) {
        print_message("-- path %s\n", path_name(g_path));
        test_tiny_shapes_path();
    }
    g_path = MU_ORTH_PATH_AUTO;
}
static void test_tiny_shapes_path(void) {
    /* rank one: orth(X) = φ_T(‖X‖/(k‖X‖ + eps))·X/‖X‖ for polynomials, X/‖X‖ for exact */
    const int64_t shapes[4][2] = {{1, 1}, {1, 37}, {37, 1}, {1, 2}};
    for (int i = 0; i < 4; i++) {
        int64_t m = shapes[i][0], n = shapes[i][1];
        float X[37];
        double nrm = 0;
        for (int64_t j = 0; j < m * n; j++) X[j] = (float)(0.3 * (j + 1) * (j % 2 ? -1 : 1)), nrm += X[j] * X[j];
        nrm = sqrt(nrm);
        for (int kind = MU_ORTH_NS5; kind <= MU_ORTH_EXACT; kind++) {
            mu_orth_config_t c = cfg((mu_orth_kind_t)kind, 5);
            double f = 1;
            if (kind != MU_ORTH_EXACT)
                f = scalar_map((mu_orth_kind_t)kind, 5, nrm / ((kind == MU_ORTH_PE ? 1.01 : 1.0) * nrm + 1e-7));
            float *O = run_orth(&c, X, m, n);
            for (int64_t j = 0; j < m * n; j++) assert_close(O[j], f * X[j] / nrm, 1e-6, 1e-5);
            free(O);
        }
    }
}

static void test_huge_and_small_norms(void **st) {
    (void)st;
    const int64_t m = 64, n = 48;
    specmat_t s = spec_matrix(m, n, 100, n, 91);
    /* scale so the largest entry is 1e37: ‖X‖_F then exceeds FLT_MAX */
    float mx = 0;
    for (int64_t i = 0; i < m * n; i++) mx = fmaxf(mx, fabsf(s.X[i]));
    const double scales[3] = {1e37 / mx, 1e-30, 1};
    float *ref = NULL, *Xs = malloc(m * n * sizeof *Xs);
    for (int kind = MU_ORTH_NS5; kind <= MU_ORTH_EXACT; kind += 4) { /* ns5 and exact */
        mu_orth_config_t c = cfg((mu_orth_kind_t)kind, 5);
        c.eps = 0; /* eps would otherwise dominate at 1e-30 */
        ref = run_orth(&c, s.X, m, n);
        for (int k = 0; k < 2; k++) {
            for (int64_t i = 0; i < m * n; i++) Xs[i] = (float)(s.X[i] * scales[k]);
            float *O = run_orth(&c, Xs, m, n);
            for (int64_t i = 0; i < m * n; i++) assert_true(isfinite(O[i]));
            assert_true(max_abs_diff(O, ref, m * n) < 1e-5);
            free(O);
        }
        free(ref);
    }
    free(Xs);
    spec_free(&s);
}

static void test_rank_deficient_null_space_path(void);
static void test_rank_deficient_null_space(void **st) {
    (void)st;
    for (g_path = MU_ORTH_PATH_ITERATE; g_path <= MU_ORTH_PATH_GRAM; g_path++) {
        print_message("-- path %s\n", path_name(g_path));
        test_rank_deficient_null_space_path();
    }
    g_path = MU_ORTH_PATH_AUTO;
}
static void test_rank_deficient_null_space_path(void) {
    const int64_t m = 120, n = 80, rank = 30;
    specmat_t s = spec_matrix(m, n, 10, rank, 101);
    for (int kind = MU_ORTH_NS5; kind <= MU_ORTH_QUINTIC; kind++) {
        mu_orth_config_t c = cfg((mu_orth_kind_t)kind, kind == MU_ORTH_CUBIC ? 10 : 5);
        float *O = run_orth(&c, s.X, m, n);
        double *sg = singvals(O, m, n);
        print_message("%-8s rank %lld: σ_%lld = %.3g, σ_%lld = %.3g\n", mu_orth_kind_name((mu_orth_kind_t)kind),
                      (long long)rank, (long long)rank, sg[rank - 1], (long long)rank + 1, sg[rank]);
        assert_true(sg[rank - 1] > 0.1);
        assert_true(sg[rank] < 1e-4); /* null space stays (numerically) zero */
        free(sg);
        free(O);
    }
    spec_free(&s);
}

static void test_in_place_and_errors_path(void);
static void test_in_place_and_errors(void **st) {
    (void)st;
    for (g_path = MU_ORTH_PATH_ITERATE; g_path <= MU_ORTH_PATH_GRAM; g_path++) {
        print_message("-- path %s\n", path_name(g_path));
        test_in_place_and_errors_path();
    }
    g_path = MU_ORTH_PATH_AUTO;
}
static void test_in_place_and_errors_path(void) {
    const int64_t m = 50, n = 30;
    specmat_t s = spec_matrix(m, n, 100, n, 111);
    for (int kind = MU_ORTH_NS5; kind <= MU_ORTH_EXACT; kind++) {
        mu_orth_config_t c = cfg((mu_orth_kind_t)kind, kind == MU_ORTH_PE ? 4 : 5); /* odd and even steps */
        float *ref = run_orth(&c, s.X, m, n);
        float *X = malloc(m * n * sizeof *X), *work = malloc(mu_orth_workspace_floats(m, n, &c) * sizeof *work);
        memcpy(X, s.X, m * n * sizeof *X);
        assert_int_equal(mu_orth(ctx(), &c, X, m, n, X, work), 0);
        assert_true(max_abs_diff(X, ref, m * n) == 0);
        free(X);
        free(work);
        free(ref);
    }
    mu_orth_config_t c = cfg(MU_ORTH_NS5, 5);
    float out[4], work[64];
    assert_int_equal(mu_orth(ctx(), &c, s.X, 0, 4, out, work), MU_EINVAL);
    assert_int_equal(mu_orth(NULL, &c, s.X, 2, 2, out, work), MU_EINVAL);
    c.kind = (mu_orth_kind_t)9;
    assert_int_equal(mu_orth(ctx(), &c, s.X, 2, 2, out, work), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "kind"));
    c = cfg(MU_ORTH_NS5, -1);
    assert_int_equal(mu_orth(ctx(), &c, s.X, 2, 2, out, work), MU_EINVAL);
    spec_free(&s);
}

/* ---- batches ---- */

/* mu_orth_batch on nb items against nb mu_orth calls: every kind and path, wide, tall and
 * square items (tall ones are transposed to the short side), one zero item, in place and
 * out of place, on oneDNN (one batched primitive per product) and OpenBLAS (a loop). */
static void test_batch_matches_single(void **st) {
    (void)st;
    const int64_t shapes[][2] = {{24, 72}, {72, 24}, {40, 40}};
    const mu_orth_kind_t kinds[] = {MU_ORTH_NS5, MU_ORTH_PE, MU_ORTH_CUBIC, MU_ORTH_EXACT, MU_ORTH_NS5};
    const int paths[] = {MU_ORTH_PATH_ITERATE, MU_ORTH_PATH_GRAM};
    const int n_kinds = mu_gemm_bf16_available() ? 5 : 4; /* the fifth: ns5 with bf16 products */
    const mu_engine_t engines[] = {MU_ENGINE_ONEDNN, MU_ENGINE_OPENBLAS};
    enum { NB = 5 };
    for (int e = 0; e < 2; e++) {
        mu_gemm_ctx_t *g;
        assert_int_equal(mu_gemm_ctx_init(&g, engines[e]), MU_OK);
        for (int sh = 0; sh < 3; sh++)
            for (int k = 0; k < n_kinds; k++)
                for (int pa = 0; pa < 2; pa++) {
                    if (kinds[k] == MU_ORTH_PE && paths[pa] == MU_ORTH_PATH_GRAM) continue; /* pe always iterates */
                    if (kinds[k] == MU_ORTH_EXACT && pa) continue;
                    if (k == 4 && (pa || engines[e] != MU_ENGINE_ONEDNN)) continue; /* bf16: iterate, oneDNN */
                    const int64_t m = shapes[sh][0], n = shapes[sh][1], len = m * n;
                    mu_orth_config_t c = mu_orth_config_default();
                    c.kind = kinds[k], c.steps = kinds[k] == MU_ORTH_CUBIC ? 12 : 5, c.path = paths[pa];
                    if (k == 4) c.prec = MU_PREC_BF16;
                    float *X = malloc(NB * len * sizeof *X), *Y = malloc(NB * len * sizeof *Y);
                    float *ref = malloc(NB * len * sizeof *ref);
                    float *work = malloc(mu_orth_batch_workspace_floats(NB, m, n, &c) * sizeof *work);
                    mu_rng_t rng;
                    mu_rng_seed(&rng, 100 + (uint64_t)(sh * 8 + k * 2 + pa));
                    for (int64_t i = 0; i < NB * len; i++) X[i] = mu_rng_normal(&rng) * (float)(1 + i / len);
                    memset(X + 2 * len, 0, len * sizeof *X); /* item 2 is zero */
                    for (int i = 0; i < NB; i++)
                        assert_int_equal(mu_orth(g, &c, X + i * len, m, n, ref + i * len, work), MU_OK);
                    const float *in[NB];
                    float *out[NB];
                    memcpy(Y, X, NB * len * sizeof *Y);
                    for (int i = 0; i < NB; i++) in[i] = Y + i * len, out[i] = (i % 2) ? Y + i * len : X + i * len;
                    int rc = mu_orth_batch(g, &c, NB, in, m, n, out, work);
                    if (rc) print_error("mu_orth_batch: %s\n", mu_last_error());
                    assert_int_equal(rc, MU_OK);
                    double worst = 0;
                    for (int i = 0; i < NB; i++)
                        for (int64_t j = 0; j < len; j++) {
                            double d = fabs((double)out[i][j] - ref[i * len + j]);
                            if (d > worst) worst = d;
                        }
                    for (int64_t j = 0; j < len; j++) assert_true(out[2][j] == 0.0f); /* zero stays exactly zero */
                    if (worst > 2e-5)
                        print_error("%s %s %lldx%lld engine %d: batch vs single max diff %g\n",
                                    mu_orth_kind_name(c.kind),
                                    path_name(c.path), (long long)m, (long long)n, e, worst);
                    /* bf16: the same rounded inputs, fp32 sums in another order, amplified by 5 steps */
                    assert_true(worst <= (k == 4 ? 2e-3 : 2e-5));
                    /* one item: the very products mu_orth runs, so the same bits */
                    memcpy(Y, X + len, len * sizeof *Y);
                    in[0] = X + len, out[0] = Y + len;
                    assert_int_equal(mu_orth_batch(g, &c, 1, in, m, n, out, work), MU_OK);
                    assert_int_equal(mu_orth(g, &c, X + len, m, n, Y, work), MU_OK);
                    assert_memory_equal(Y, Y + len, len * sizeof *Y);
                    free(X), free(Y), free(ref), free(work);
                }
        mu_gemm_ctx_free(g);
    }
}

static void test_batch_errors(void **st) {
    (void)st;
    enum { NB = 4 };
    const int64_t m = 16, n = 32, len = m * n;
    mu_orth_config_t c = cfg(MU_ORTH_NS5, 5);
    float *X = calloc(NB * len, sizeof *X), *out = malloc(NB * len * sizeof *out);
    float *work = malloc((mu_orth_batch_workspace_floats(NB, m, n, &c) + 1) * sizeof *work);
    const float *in[NB];
    float *o[NB];
    for (int i = 0; i < NB; i++) in[i] = X + i * len, o[i] = out + i * len;
    for (int64_t j = 0; j < NB * len; j++) X[j] = (float)((j * 7) % 11) - 5.0f, out[j] = 42.0f;
    X[3 * len + 17] = NAN;
    assert_int_equal(mu_orth_batch(ctx(), &c, NB, in, m, n, o, work), MU_ENONFINITE);
    assert_non_null(strstr(mu_last_error(), "item 3 of 4"));
    for (int64_t j = 0; j < NB * len; j++) assert_true(out[j] == 42.0f); /* nothing written */
    X[3 * len + 17] = 1.0f;
    assert_int_equal(mu_orth_batch(ctx(), &c, 0, in, m, n, o, work), MU_EINVAL);
    assert_int_equal(mu_orth_batch(ctx(), &c, NB, in, 0, n, o, work), MU_EINVAL);
    assert_int_equal(mu_orth_batch(ctx(), &c, NB, NULL, m, n, o, work), MU_EINVAL);
    o[1] = NULL;
    assert_int_equal(mu_orth_batch(ctx(), &c, NB, in, m, n, o, work), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "item 1"));
    o[1] = out + len;
    c.steps = -1;
    assert_int_equal(mu_orth_batch(ctx(), &c, NB, in, m, n, o, work), MU_EINVAL);
    c.steps = 5;
    assert_int_equal(mu_orth_batch(ctx(), &c, NB, in, m, n, o, work), MU_OK);
    /* any float-aligned workspace will do (the item norms are doubles: aligned inside) */
    assert_int_equal(mu_orth_batch(ctx(), &c, NB, in, m, n, o, work + 1), MU_OK);
    free(X), free(out), free(work);
}

/* ---- bf16 ---- */

static void test_bf16(void **st) {
    (void)st;
    specmat_t s = spec_matrix(256, 512, 1e3, 256, 121);
    mu_orth_config_t c = cfg(MU_ORTH_NS5, 5);
    c.prec = MU_PREC_BF16;
    float *work = malloc(mu_orth_workspace_floats(256, 512, &c) * sizeof *work);
    float *out = malloc(256 * 512 * sizeof *out);
    int rc = mu_orth(ctx(), &c, s.X, 256, 512, out, work);
    if (!mu_gemm_bf16_available()) {
        assert_int_equal(rc, MU_EUNSUPPORTED);
        assert_non_null(strstr(mu_last_error(), "bf16"));
        print_message("bf16 refused as expected: %s\n", mu_last_error());
    } else {
        /* bf16 inputs (8-bit mantissa, rel. error 2^-9), fp32 accumulation, iterate path:
         * the ns5 band [0.1112, 1.2022] holds to 0.02. Distance to fp32: rounding errors
         * are relative to the largest entries, and the polynomial amplifies them ~a = 3.44×
         * per step on the small singular directions; an exact-arithmetic emulation of this
         * path with bf16-rounded product inputs gives 5.0% (Frobenius), σ ∈ [0.119, 1.2024] */
        assert_int_equal(rc, 0);
        sv_stats_t sv = sv_stats(out, 256, 512);
        print_message("ns5 bf16: σ ∈ [%.4f, %.4f] mean %.4f\n", sv.lo, sv.hi, sv.mean);
        assert_close(sv.lo, 0.1112, 0.02, 0);
        assert_close(sv.hi, 1.2022, 0.02, 0);
        assert_close(sv.mean, 0.7484, 0.01, 0);
        mu_orth_config_t c32 = cfg(MU_ORTH_NS5, 5);
        float *ref = run_orth(&c32, s.X, 256, 512);
        double num = 0, den = 0;
        for (int64_t i = 0; i < 256 * 512; i++) num += (out[i] - ref[i]) * (double)(out[i] - ref[i]), den += ref[i] * (double)ref[i];
        print_message("ns5 bf16 vs fp32: rel Frobenius diff %.4f\n", sqrt(num / den));
        assert_true(sqrt(num / den) < 0.08);
        assert_true(sqrt(num / den) > 1e-4); /* the products really ran in bf16 */
        free(ref);
    }
    c = cfg(MU_ORTH_EXACT, 0);
    c.prec = MU_PREC_BF16;
    assert_int_equal(mu_orth(ctx(), &c, s.X, 256, 512, out, work), MU_EUNSUPPORTED);
    /* bf16 never takes the Gram path (unstable: its accumulated Q is rounded to 8 bits
     * before Q·X; on an AMX CPU it gave σ_max 216): AUTO iterates, GRAM is refused */
    c = cfg(MU_ORTH_NS5, 5);
    mu_orth_config_t it = c;
    it.path = MU_ORTH_PATH_ITERATE;
    assert_true(mu_orth_flops(256, 1024, &c) < 0.9 * mu_orth_flops(256, 1024, &it)); /* fp32 AUTO: Gram */
    c.prec = it.prec = MU_PREC_BF16;
    assert_true(mu_orth_flops(256, 1024, &c) == mu_orth_flops(256, 1024, &it)); /* bf16 AUTO: iterate */
    c.path = MU_ORTH_PATH_GRAM;
    assert_int_equal(mu_orth(ctx(), &c, s.X, 256, 512, out, work), MU_EUNSUPPORTED);
    assert_non_null(strstr(mu_last_error(), "Gram path is unstable with bf16"));
    free(work);
    free(out);
    spec_free(&s);
}

/* ---- power iteration ---- */

static void test_spectral_norm(void **st) {
    (void)st;
    const int64_t m = 300, n = 200;
    mu_rng_t r;
    mu_rng_seed(&r, 131);
    float *X = malloc(m * n * sizeof *X), *v = calloc(n, sizeof *v), *tmp = malloc(m * sizeof *tmp);
    /* Gaussian bulk (σ up to ~1 + sqrt(n/m) = 1.82) plus a rank-one spike of 2.5 */
    float *a = malloc(m * sizeof *a), *b = malloc(n * sizeof *b);
    for (int64_t i = 0; i < m; i++) a[i] = mu_rng_normal(&r) / sqrtf((float)m);
    for (int64_t j = 0; j < n; j++) b[j] = mu_rng_normal(&r) / sqrtf((float)n);
    for (int64_t i = 0; i < m * n; i++) X[i] = mu_rng_normal(&r) / sqrtf((float)m) + 2.5f * a[i / n] * b[i % n];
    free(a);
    free(b);
    double *sg = singvals(X, m, n), smax = sg[0];
    free(sg);
    float sigma = 0, first = 0;
    for (int it = 1; it <= 40; it++) {
        memset(v, 0, n * sizeof *v); /* cold, deterministic */
        assert_int_equal(mu_spectral_norm(X, m, n, it, v, tmp, &sigma), 0);
        assert_true(sigma <= smax * (1 + 1e-5));
        if (it == 1) first = sigma;
    }
    print_message("power: σ_max %.5f, 1 iter %.5f, 40 iters %.5f\n", smax, first, sigma);
    /* gap σ₂/σ₁ ≈ 1.82/2.83: the Rayleigh quotient's error falls as 0.41^k, so 40 iterations
     * are at fp32 round-off */
    assert_close(sigma, smax, 0, 1e-5);
    /* warm start: 8 more iterations from the kept v stay there */
    float s2;
    assert_int_equal(mu_spectral_norm(X, m, n, 8, v, tmp, &s2), 0);
    assert_close(s2, smax, 0, 1e-5);
    /* spec matrix (close top singular values) */
    specmat_t s = spec_matrix(256, 128, 1e3, 128, 132);
    float *v2 = calloc(128, sizeof *v2);
    assert_int_equal(mu_spectral_norm(s.X, 256, 128, 30, v2, tmp, &sigma), 0);
    assert_true(sigma >= 0.99 && sigma <= 1 + 1e-5);
    /* zero matrix, non-finite matrix, bad iters */
    memset(X, 0, m * n * sizeof *X);
    memset(v, 0, n * sizeof *v);
    assert_int_equal(mu_spectral_norm(X, m, n, 8, v, tmp, &sigma), 0);
    assert_true(sigma == 0);
    X[5] = NAN;
    memset(v, 0, n * sizeof *v);
    assert_int_equal(mu_spectral_norm(X, m, n, 8, v, tmp, &sigma), MU_ENONFINITE);
    assert_int_equal(mu_spectral_norm(X, m, n, 0, v, tmp, &sigma), MU_EINVAL);
    free(v2);
    spec_free(&s);
    free(X);
    free(v);
    free(tmp);
}

/* ---- Lanczos (mu_spectral_norm_lanczos) ---- */

/* X (m, n) = P diag(σ) Qᵀ with σ_i = 1 - step·i (clustered top for a small step) */
static float *clustered_matrix(int64_t m, int64_t n, double step, uint64_t seed) {
    const int64_t r = m < n ? m : n;
    double *P = malloc((size_t)(m * r) * sizeof *P), *Q = malloc((size_t)(n * r) * sizeof *Q);
    double *X = malloc((size_t)(m * n) * sizeof *X);
    rand_orthonormal(m, r, seed, P);
    rand_orthonormal(n, r, seed + 1000, Q);
    for (int64_t i = 0; i < m; i++)
        for (int64_t k = 0; k < r; k++) P[i * r + k] *= 1.0 - step * (double)k;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, r, 1.0, P, r, Q, r, 0.0, X, n);
    float *Xf = malloc((size_t)(m * n) * sizeof *Xf);
    for (int64_t i = 0; i < m * n; i++) Xf[i] = (float)X[i];
    free(P);
    free(Q);
    free(X);
    return Xf;
}

static double smax_of(const float *X, int64_t m, int64_t n) {
    double *sg = singvals(X, m, n), s = sg[0];
    free(sg);
    return s;
}

/* relative undershoot (smax - σ̂)/smax of a cold (v = 0) estimate; method 0 power, 1 Lanczos */
static double cold_err(int method, const float *X, int64_t m, int64_t n, int steps, double smax) {
    float *v = calloc((size_t)n, sizeof *v);
    float *work = malloc(mu_lanczos_workspace_floats(m, n, MU_LANCZOS_MAX_STEPS) * sizeof *work);
    float sigma = -1;
    if (method) assert_int_equal(mu_spectral_norm_lanczos(X, m, n, steps, v, work, &sigma), 0);
    else assert_int_equal(mu_spectral_norm(X, m, n, steps, v, work, &sigma), 0);
    assert_true(sigma <= smax * (1 + 1e-5));  // both undershoot (up to rounding)
    free(v);
    free(work);
    return (smax - sigma) / smax;
}

static void test_lanczos_gaussian(void **st) {
    (void)st;
    const int64_t shapes[][2] = {{300, 200}, {200, 300}, {64, 64}, {7, 3}};
    for (int c = 0; c < 4; c++) {
        const int64_t m = shapes[c][0], n = shapes[c][1];
        mu_rng_t r;
        mu_rng_seed(&r, 300 + (uint64_t)c);
        float *X = malloc((size_t)(m * n) * sizeof *X);
        for (int64_t i = 0; i < m * n; i++) X[i] = mu_rng_normal(&r);
        const double smax = smax_of(X, m, n);
        const double el = cold_err(1, X, m, n, 16, smax), ep = cold_err(0, X, m, n, 16, smax);
        const double el32 = cold_err(1, X, m, n, 32, smax);
        print_message("lanczos gaussian (%lld,%lld): σ_max %.5f, 16 steps: lanczos %.2e power %.2e; 32: %.2e\n",
                      (long long)m, (long long)n, smax, el, ep, el32);
        assert_true(el32 < 1e-5);
        assert_true(el < 1e-3);
        assert_true(el <= ep + 1e-6);
        free(X);
    }
}

/* The matvecs split columns by thread count; each output still sums over rows in
 * order, so σ̂ and the warm vector are bit-identical at 1, 2 and 5 threads. */
static void test_lanczos_thread_independent(void **st) {
    (void)st;
    const int64_t m = 256, n = 1000; /* m·n above the threading threshold, n not a block multiple */
    mu_rng_t r;
    mu_rng_seed(&r, 41);
    float *X = malloc((size_t)(m * n) * sizeof *X), *work = malloc(mu_lanczos_workspace_floats(m, n, 16) * sizeof *work);
    float v[3][1000], sig[3];
    for (int64_t i = 0; i < m * n; i++) X[i] = mu_rng_normal(&r);
    const int32_t thr[3] = {1, 2, 5}, saved = mu_threads_get();
    for (int k = 0; k < 3; k++) {
        assert_int_equal(mu_threads_set(thr[k]), MU_OK);
        memset(v[k], 0, sizeof v[k]);
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 16, v[k], work, &sig[k]), MU_OK);
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 16, v[k], work, &sig[k]), MU_OK); /* warm */
    }
    mu_threads_set(saved);
    assert_true(sig[0] > 0);
    for (int k = 1; k < 3; k++) {
        assert_memory_equal(&sig[0], &sig[k], sizeof sig[0]);
        assert_memory_equal(v[0], v[k], sizeof v[0]);
    }
    free(X);
    free(work);
}

static void test_lanczos_clustered(void **st) {
    (void)st;
    /* σ = 1, 0.999, 0.998, …: gap 1e-3, power iteration crawls, Lanczos does not */
    const int64_t shapes[][2] = {{256, 128}, {128, 256}};
    for (int c = 0; c < 2; c++) {
        const int64_t m = shapes[c][0], n = shapes[c][1];
        float *X = clustered_matrix(m, n, 1e-3, 900 + (uint64_t)c);
        const double smax = smax_of(X, m, n);
        assert_true(fabs(smax - 1.0) < 1e-5);
        /* 128 values evenly in [0.873, 1]: relative gap 1e-3/0.126, the Chebyshev bound
         * ~exp(-4k·sqrt(0.008)) needs k ≈ 24 for 1e-3 from a cold start */
        for (int k = 8; k <= 32; k += 8) {
            const double el = cold_err(1, X, m, n, k, smax), ep = cold_err(0, X, m, n, k, smax);
            print_message("lanczos clustered (%lld,%lld) %2d steps: lanczos %.2e, power %.2e\n", (long long)m,
                          (long long)n, k, el, ep);
            assert_true(ep > 3 * el);                    // power is measurably worse at equal steps
            if (k >= 24) assert_true(el < 1e-3 && ep > 1e-3);
        }
        free(X);
    }
}

static void test_lanczos_ns5_output(void **st) {
    (void)st;
    /* the Muon++ case: σ_max of NS5(G), G Gaussian; NS5 piles singular values near 0.7–1.2 */
    const int64_t shapes[][2] = {{256, 128}, {128, 384}};
    mu_orth_config_t c = cfg(MU_ORTH_NS5, 5);
    for (int s = 0; s < 2; s++) {
        const int64_t m = shapes[s][0], n = shapes[s][1];
        mu_rng_t r;
        mu_rng_seed(&r, 500 + (uint64_t)s);
        float *G = malloc((size_t)(m * n) * sizeof *G);
        for (int64_t i = 0; i < m * n; i++) G[i] = mu_rng_normal(&r);
        float *O = run_orth(&c, G, m, n);
        const double smax = smax_of(O, m, n);
        for (int k = 8; k <= 32; k += 8) {
            const double el = cold_err(1, O, m, n, k, smax), ep = cold_err(0, O, m, n, k, smax);
            print_message("lanczos ns5 (%lld,%lld) σ_max %.5f, %2d steps: lanczos %.2e, power %.2e\n", (long long)m,
                          (long long)n, smax, k, el, ep);
            if (k == 16) assert_true(el < 1e-3);  // Muon++ default: <= 1% (here 0.1%) undershoot
        }
        free(G);
        free(O);
    }
}

static void test_lanczos_edge_cases(void **st) {
    (void)st;
    const int64_t shapes[][2] = {{40, 30}, {30, 40}, {1, 5}, {5, 1}};
    for (int c = 0; c < 4; c++) {
        const int64_t m = shapes[c][0], n = shapes[c][1];
        float *X = calloc((size_t)(m * n), sizeof *X), *v = malloc((size_t)n * sizeof *v);
        float *work = malloc(mu_lanczos_workspace_floats(m, n, 16) * sizeof *work), sigma = -1;
        /* zero matrix: 0, and v zeroed (cold start next call) */
        for (int64_t j = 0; j < n; j++) v[j] = 1.0f;
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 16, v, work, &sigma), 0);
        assert_true(sigma == 0);
        for (int64_t j = 0; j < n; j++) assert_true(v[j] == 0);
        /* rank 1: a bᵀ, σ = ‖a‖‖b‖ exactly after breakdown at step 2 */
        mu_rng_t r;
        mu_rng_seed(&r, 77 + (uint64_t)c);
        double na = 0, nb = 0;
        float a[64], b[64];
        for (int64_t i = 0; i < m; i++) a[i] = mu_rng_normal(&r), na += (double)a[i] * a[i];
        for (int64_t j = 0; j < n; j++) b[j] = mu_rng_normal(&r), nb += (double)b[j] * b[j];
        for (int64_t i = 0; i < m * n; i++) X[i] = a[i / n] * b[i % n];
        memset(v, 0, (size_t)n * sizeof *v);
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 16, v, work, &sigma), 0);
        assert_close(sigma, sqrt(na * nb), 0, 1e-5);
        /* v is the right singular vector ±b/‖b‖ */
        double cosv = 0;
        for (int64_t j = 0; j < n; j++) cosv += (double)v[j] * b[j] / sqrt(nb);
        assert_close(fabs(cosv), 1.0, 0, 1e-5);
        /* errors: NaN in X or in v, bad steps */
        float v0 = v[0];
        v[0] = NAN;
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 16, v, work, &sigma), MU_ENONFINITE);
        v[0] = v0;
        X[m * n - 1] = INFINITY;
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 16, v, work, &sigma), MU_ENONFINITE);
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 0, v, work, &sigma), MU_EINVAL);
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, MU_LANCZOS_MAX_STEPS + 1, v, work, &sigma), MU_EINVAL);
        assert_int_equal(mu_spectral_norm_lanczos(X, 0, n, 16, v, work, &sigma), MU_EINVAL);
        assert_int_equal(mu_spectral_norm_lanczos(NULL, m, n, 16, v, work, &sigma), MU_EINVAL);
        free(X);
        free(v);
        free(work);
    }
    assert_int_equal(mu_lanczos_workspace_floats(30, 40, 16), (size_t)(17 * 30 + 40));
    assert_int_equal(mu_lanczos_workspace_floats(40, 30, 100), (size_t)(65 * 30 + 40));
}

static void test_lanczos_warm_start(void **st) {
    (void)st;
    /* repeated short runs from the kept Ritz vector: each restart lowers the error */
    const int64_t shapes[][2] = {{256, 128}, {128, 256}};
    for (int c = 0; c < 2; c++) {
        const int64_t m = shapes[c][0], n = shapes[c][1];
        float *X = clustered_matrix(m, n, 1e-3, 950 + (uint64_t)c);
        const double smax = smax_of(X, m, n);
        float *v = calloc((size_t)n, sizeof *v), *work = malloc(mu_lanczos_workspace_floats(m, n, 8) * sizeof *work);
        float sigma;
        double err[4];
        for (int t = 0; t < 4; t++) {
            assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 4, v, work, &sigma), 0);
            err[t] = (smax - sigma) / smax;
            assert_true(err[t] >= -1e-5);
        }
        print_message("lanczos warm (%lld,%lld) 4 steps x4: %.2e %.2e %.2e %.2e\n", (long long)m, (long long)n, err[0],
                      err[1], err[2], err[3]);
        assert_true(err[1] < err[0] && err[3] < 0.5 * err[0]);
        /* deterministic: the same cold start gives the same bits */
        float sa, sb;
        memset(v, 0, (size_t)n * sizeof *v);
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 8, v, work, &sa), 0);
        memset(v, 0, (size_t)n * sizeof *v);
        assert_int_equal(mu_spectral_norm_lanczos(X, m, n, 8, v, work, &sb), 0);
        assert_true(sa == sb);
        free(v);
        free(work);
        free(X);
    }
}

/* ---- thin QR (orth/qr.c): CholeskyQR2 with a Householder fallback ---- */

/* max over (a, b) of |(QᵀQ)_ab − δ_ab|, and of ||(QᵀH)_ab| − δ_ab| against a reference basis H
 * (equal nested spans up to column signs), both in double. */
static double qr_orth_err(const float *Q, const float *H, int64_t n, int64_t k) {
    double mx = 0.0;
    for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++) {
            double s = 0.0;
            for (int64_t i = 0; i < n; i++) s += (double)Q[i * k + a] * (H ? H[i * k + b] : Q[i * k + b]);
            s = (H ? fabs(s) : s) - (a == b);
            if (fabs(s) > mx) mx = fabs(s);
        }
    return mx;
}

static float *qr_householder(const float *X, int64_t n, int64_t k) {
    float *H = malloc(sizeof(float) * (size_t)(n * k)), *tau = malloc(sizeof(float) * (size_t)k);
    memcpy(H, X, sizeof(float) * (size_t)(n * k));
    assert_int_equal(LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)k, H, (lapack_int)k, tau), 0);
    assert_int_equal(LAPACKE_sorgqr(LAPACK_ROW_MAJOR, (lapack_int)n, (lapack_int)k, (lapack_int)k, H, (lapack_int)k,
                                    tau), 0);
    free(tau);
    return H;
}

/* COSMOS's case: a basis P·S of eigen-directions with graded scales (κ 1e6) and mixed
 * columns. CholeskyQR2 handles it without falling back; Q is orthonormal to 1e-6 and spans
 * what Householder's Q spans, column by column (|QᵀH| = I). */
static void test_qr_graded(void **st) {
    (void)st;
    const int64_t shapes[][2] = {{300, 20}, {1024, 64}, {64, 64}, {7, 1}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        const int64_t n = shapes[c][0], k = shapes[c][1];
        float *X = malloc(sizeof(float) * (size_t)(n * k)), *ws = malloc(sizeof(float) * mu_qr_workspace_floats(n, k));
        mu_rng_t r;
        mu_rng_seed(&r, 11 + c);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < k; j++) X[i * k + j] = mu_rng_normal(&r) * (float)pow(1e6, -(double)j / (double)k);
        for (int64_t j = k - 1; j > 0; j--)  // x_j += 0.5·x_{j-1}: correlated columns
            for (int64_t i = 0; i < n; i++) X[i * k + j] += 0.5f * X[i * k + j - 1];
        float *H = qr_householder(X, n, k);
        int32_t fb = -1;
        assert_int_equal(mu_qr_thin(X, n, k, ws, &fb), 0);
        assert_int_equal(fb, 0);
        const double e = qr_orth_err(X, NULL, n, k), es = qr_orth_err(X, H, n, k);
        if (!(e < 1e-6 && es < 1e-5)) fail_msg("%lldx%lld: ‖QᵀQ − I‖max %.2e, ‖|QᵀH| − I‖max %.2e", (long long)n,
                                                (long long)k, e, es);
        free(H);
        free(ws);
        free(X);
    }
}

/* Nearly dependent columns (x_2 = x_1 + 1e-6·noise: κ ≈ 1e6 after scaling) and a zero column:
 * CholeskyQR2 is unsafe, the Householder fallback runs and Q is still orthonormal. A NaN is
 * an error; bad shapes are refused. */
static void test_qr_fallback_and_errors(void **st) {
    (void)st;
    const int64_t n = 200, k = 8;
    float *X = malloc(sizeof(float) * (size_t)(n * k)), *ws = malloc(sizeof(float) * mu_qr_workspace_floats(n, k));
    for (int variant = 0; variant < 2; variant++) {
        mu_rng_t r;
        mu_rng_seed(&r, 5);
        for (int64_t i = 0; i < n * k; i++) X[i] = mu_rng_normal(&r);
        for (int64_t i = 0; i < n; i++)
            X[i * k + 3] = variant == 0 ? X[i * k + 2] + 1e-6f * mu_rng_normal(&r) : 0.0f;
        float *H = qr_householder(X, n, k);
        int32_t fb = 0;
        assert_int_equal(mu_qr_thin(X, n, k, ws, &fb), 0);
        assert_int_equal(fb, 1);
        assert_true(qr_orth_err(X, NULL, n, k) < 1e-5);
        assert_true(qr_orth_err(X, H, n, k) < 1e-5);  // it is Householder's Q
        free(H);
    }
    X[5] = NAN;
    assert_int_equal(mu_qr_thin(X, n, k, ws, NULL), MU_ENONFINITE);
    assert_non_null(strstr(mu_last_error(), "not finite"));
    assert_int_equal(mu_qr_thin(X, 3, 4, ws, NULL), MU_EINVAL);
    assert_int_equal(mu_qr_thin(NULL, n, k, ws, NULL), MU_EINVAL);
    free(ws);
    free(X);
}

static const struct CMUnitTest group[] = {
    cmocka_unit_test(test_coeffs_pe_table),
    cmocka_unit_test(test_coeffs_other_kinds),
    cmocka_unit_test(test_names_and_flops),
    cmocka_unit_test(test_ns5_spec_figures),
    cmocka_unit_test(test_cubic_spec_and_convergence),
    cmocka_unit_test(test_pe_spec_figures),
    cmocka_unit_test(test_pe_tighter_than_ns5),
    cmocka_unit_test(test_transpose_symmetry),
    cmocka_unit_test(test_syrk_matches_gemm),
    cmocka_unit_test(test_exact_vs_reference),
    cmocka_unit_test(test_zero_and_nonfinite),
    cmocka_unit_test(test_tiny_shapes),
    cmocka_unit_test(test_huge_and_small_norms),
    cmocka_unit_test(test_rank_deficient_null_space),
    cmocka_unit_test(test_in_place_and_errors),
    cmocka_unit_test(test_batch_matches_single),
    cmocka_unit_test(test_batch_errors),
    cmocka_unit_test(test_bf16),
    cmocka_unit_test(test_spectral_norm),
    cmocka_unit_test(test_lanczos_gaussian),
    cmocka_unit_test(test_lanczos_clustered),
    cmocka_unit_test(test_lanczos_thread_independent),
    cmocka_unit_test(test_lanczos_ns5_output),
    cmocka_unit_test(test_lanczos_edge_cases),
    cmocka_unit_test(test_lanczos_warm_start),
    cmocka_unit_test(test_qr_graded),
    cmocka_unit_test(test_qr_fallback_and_errors),
};

MU_TEST_MAIN(group)
