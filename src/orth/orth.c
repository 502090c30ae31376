/* orth.c — mu_orth dispatch: argument checks, the finiteness/Frobenius pass,
 * normalization, the short-side transposition, workspace sizes, names and FLOPs.
 *
 * Shapes: X (m, n) row-major; r = min(m, n), cc = max(m, n). Polynomial kinds iterate
 * on the short-side matrix Y (r, cc): Y = s·X when m <= n, Y = s·Xᵀ when m > n, with
 * s = 1/(‖X‖_F + eps) (ns5, cubic, quintic) or 1/(1.01·‖X‖_F + eps) (pe), and write
 * out = Y_T (or Y_Tᵀ). Workspace (floats): 2 (one double per item: ‖X‖²_F), rounded up
 * to 16, then per item 2·r·cc (two iterates) + 2·r² (iterate path: XXᵀ and the polynomial
 * in it) or 6·r² (Gram path, poly.c), plus the bf16 copies (bf16 only); for one matrix
 * with m <= n the caller's out serves as one of the iterates.
 * mu_orth_batch stacks nb same-shape items in that workspace and runs every product of
 * the iteration once for all of them (poly.c: batched descriptors). */
#include <math.h>

#include "base/util.h"
#include "orth/orth_impl.h"

mu_orth_config_t mu_orth_config_default(void) {
    mu_orth_config_t c;
    memset(&c, 0, sizeof c);
    c.kind = MU_ORTH_NS5;
    c.steps = 5;
    c.prec = MU_PREC_F32;
    c.use_syrk = 1;
    c.exact_double = 0;
    c.eps = 1e-7f;
    c.path = MU_ORTH_PATH_AUTO;
    return c;
}

static const char *const kind_names[] = {"ns5", "pe", "cubic", "quintic", "exact"};

const char *mu_orth_kind_name(mu_orth_kind_t k) {
    return (k >= MU_ORTH_NS5 && k <= MU_ORTH_EXACT) ? kind_names[k] : "unknown";
}

int mu_orth_kind_parse(const char *s, mu_orth_kind_t *out) {
    MU_REQUIRE(s && out, "mu_orth_kind_parse: NULL argument");
    for (int k = 0; k <= MU_ORTH_EXACT; k++)
        if (!strcmp(s, kind_names[k])) {
            *out = (mu_orth_kind_t)k;
            return MU_OK;
        }
    if (!strcmp(s, "polar-express")) {
        *out = MU_ORTH_PE;
        return MU_OK;
    }
    return mu_set_error(MU_EINVAL, "orth kind '%s' unknown: expected ns5, pe, cubic, quintic or exact", s);
}

/* floats ahead of the iterates: one double per item (+ 2 floats to align them to 8 bytes
 * in any float workspace), rounded up to 16 so the iterates keep the workspace's alignment */
static size_t norms_floats(int64_t nb) { return ((size_t)nb * 2 + 2 + 15) & ~(size_t)15; }

size_t mu_orth_batch_workspace_floats(int64_t nb, int64_t m, int64_t n, const mu_orth_config_t *c) {
    if (nb <= 0 || m <= 0 || n <= 0 || !c) return 0;
    if (c->kind == MU_ORTH_EXACT) /* one item at a time */
        return norms_floats(nb) + mu_orth_exact_workspace_floats(m, n, c->exact_double);
    size_t r = (size_t)(m < n ? m : n), cc = (size_t)(m < n ? n : m);
    /* two (r, cc) iterates + r×r matrices: 2 (iterate path) or 6 (Gram path) per item; bf16
     * (always the iterate path) adds the rounded operands */
    size_t per = 2 * r * cc + (mu_orth_use_gram((int64_t)r, (int64_t)cc, c) ? 6 : 2) * r * r;
    return norms_floats(nb) + (size_t)nb * per +
           (c->prec == MU_PREC_BF16 ? mu_orth_bf16_floats(nb, (int64_t)r, (int64_t)cc) : 0);
}

size_t mu_orth_workspace_floats(int64_t m, int64_t n, const mu_orth_config_t *c) {
    return mu_orth_batch_workspace_floats(1, m, n, c);
}

double mu_orth_flops(int64_t m, int64_t n, const mu_orth_config_t *c) {
    if (m <= 0 || n <= 0 || !c) return 0;
    double r = (double)(m < n ? m : n), cc = (double)(m < n ? n : m);
    if (c->kind == MU_ORTH_EXACT) /* nominal: R-SVD with U and V (Golub–Van Loan 6cr² + 20r³) + P·Qᵀ (2r²c) */
        return 6 * cc * r * r + 20 * r * r * r + 2 * r * r * cc;
    /* the work done: X·Xᵀ and symmetric squares as syrk (r²c, r³) when use_syrk, else
     * gemm (2r²c, 2r³); see poly.c. Spec §1.1 counts 4r²c + 2r³ per iteration
     * (gemm X·Xᵀ, iterate path): use_syrk = 0, path = ITERATE gives exactly that. */
    return mu_orth_poly_flops(m < n ? m : n, m < n ? n : m, c);
}

static int check_config(const mu_orth_config_t *c) {
    MU_REQUIRE(c->kind >= MU_ORTH_NS5 && c->kind <= MU_ORTH_EXACT,
               "mu_orth: config kind %d unknown: expected ns5 (0), pe (1), cubic (2), quintic (3) or exact (4)",
               (int)c->kind);
    MU_REQUIRE(c->steps >= 0 && c->steps <= 1000, "mu_orth: config steps %d out of range: expected 0..1000",
               (int)c->steps);
    MU_REQUIRE(c->prec == MU_PREC_F32 || c->prec == MU_PREC_BF16,
               "mu_orth: config prec %d unknown: expected f32 (0) or bf16 (1)", (int)c->prec);
    MU_REQUIRE(isfinite(c->eps) && c->eps >= 0, "mu_orth: config eps %g must be finite and >= 0", (double)c->eps);
    MU_REQUIRE(c->path >= MU_ORTH_PATH_AUTO && c->path <= MU_ORTH_PATH_GRAM,
               "mu_orth: config path %d unknown: expected auto (0), iterate (1) or gram (2)", (int)c->path);
    if (c->prec == MU_PREC_BF16) {
        if (c->kind == MU_ORTH_EXACT)
            return mu_set_error(MU_EUNSUPPORTED, "mu_orth: kind exact has no bf16 path (LAPACK works in fp32/fp64); "
                                "use prec f32");
        if (c->path == MU_ORTH_PATH_GRAM) /* see mu_orth_use_gram */
            return mu_set_error(MU_EUNSUPPORTED, "mu_orth: the Gram path is unstable with bf16 products (its "
                                "accumulated Q reaches ~a^T = 490 and bf16 rounding of Q·X swamps the result); "
                                "use path iterate or auto with bf16, or prec f32");
        if (!mu_gemm_bf16_available())
            return mu_set_error(MU_EUNSUPPORTED, "mu_orth: prec bf16 needs a CPU with AVX512-BF16 or AMX (oneDNN ISA "
                                "here: %s); use prec f32", mu_onednn_isa());
    }
    return MU_OK;
}

/* Σ x² in double over X (m·n): overflow-free for any finite float input, and
 * non-finite exactly when X holds a NaN or an Inf. */
static double sum_squares(const float *X, size_t len) {
    double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (len >= 65536)
    for (size_t i = 0; i < len; i++) s += (double)X[i] * (double)X[i];
    return s;
}

/* dst (cols, rows) = scale · srcᵀ, src (rows, cols) row-major; 32×32 tiles. */
static void transpose_scaled(const float *src, int64_t rows, int64_t cols, double scale, float *dst) {
    const int64_t bs = 32;
#pragma omp parallel for collapse(2) schedule(static) if (rows * cols >= 65536)
    for (int64_t ib = 0; ib < rows; ib += bs)
        for (int64_t jb = 0; jb < cols; jb += bs) {
            int64_t ie = ib + bs < rows ? ib + bs : rows, je = jb + bs < cols ? jb + bs : cols;
            for (int64_t j = jb; j < je; j++)
                for (int64_t i = ib; i < ie; i++) dst[j * rows + i] = (float)(scale * (double)src[i * cols + j]);
        }
}

static void copy_scaled(const float *src, size_t len, double scale, float *dst) {
#pragma omp parallel for schedule(static) if (len >= 65536)
    for (size_t i = 0; i < len; i++) dst[i] = (float)(scale * (double)src[i]);
}

/* out[i] = orth(X[i]) for i < nb, all (m, n); arguments already checked. */
static int orth_items(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, const float *const *X, int64_t m,
                      int64_t n, float *const *out, float *work) {
    const size_t len = (size_t)m * (size_t)n;
    double *ss = (double *)(((uintptr_t)work + 7) & ~(uintptr_t)7); /* ‖X_i‖²_F, all checked first */
    float *ws = work + norms_floats(nb);
    for (int64_t i = 0; i < nb; i++) {
        ss[i] = sum_squares(X[i], len);
        if (isfinite(ss[i])) continue;
        if (nb == 1)
            return mu_set_error(MU_ENONFINITE, "mu_orth: input (%lld, %lld) holds NaN or Inf; output left untouched",
                                (long long)m, (long long)n);
        return mu_set_error(MU_ENONFINITE, "mu_orth_batch: item %lld of %lld (%lld, %lld) holds NaN or Inf; every "
                            "output left untouched", (long long)i, (long long)nb, (long long)m, (long long)n);
    }
    if (c->kind == MU_ORTH_EXACT) {
        for (int64_t i = 0; i < nb; i++) {
            if (ss[i] == 0) memset(out[i], 0, len * sizeof(float)); /* orth(0) = 0: no direction to keep */
            else MU_TRY(mu_orth_exact_run(g, c, X[i], m, n, out[i], ws));
        }
        return MU_OK;
    }
    if (nb == 1 && ss[0] == 0) {
        memset(out[0], 0, len * sizeof(float));
        return MU_OK;
    }
    const int64_t r = m < n ? m : n, cc = m < n ? n : m, rc = r * cc, rr = r * r;
    const int transposed = m > n, gram = mu_orth_use_gram(r, cc, c);
    float *W0 = ws, *W1 = ws + nb * rc, *R = ws + 2 * nb * rc;
    /* X0 receives the results: a single item's out itself unless it must be transposed back */
    float *X0 = (nb == 1 && !transposed) ? out[0] : W0;
    /* the normalized inputs: Gram reads them from W1; the iterate ping-pongs X0 <-> W1,
     * starting where T steps end in X0 */
    float *Y = (gram || c->steps % 2 == 1) ? W1 : X0;
    for (int64_t i = 0; i < nb; i++) {
        /* a zero item has scale 0 and stays exactly 0 through every product */
        double scale = ss[i] > 0 ? 1.0 / ((c->kind == MU_ORTH_PE ? 1.01 : 1.0) * sqrt(ss[i]) + (double)c->eps) : 0;
        if (transposed) transpose_scaled(X[i], m, n, scale, Y + i * rc);
        else copy_scaled(X[i], len, scale, Y + i * rc); /* in place when Y == out == X */
    }
    if (gram) MU_TRY(mu_orth_gram_run(g, c, nb, r, cc, W1, X0, R));
    else MU_TRY(mu_orth_poly_run(g, c, nb, r, cc, X0, W1, R, R + nb * rr, R + 2 * nb * rr));
    for (int64_t i = 0; i < nb; i++) {
        if (transposed) transpose_scaled(X0 + i * rc, r, cc, 1.0, out[i]);
        else if (X0 != out[i]) memcpy(out[i], X0 + i * rc, len * sizeof(float));
    }
    return MU_OK;
}

int mu_orth(mu_gemm_ctx_t *g, const mu_orth_config_t *c, const float *X, int64_t m, int64_t n, float *out,
            float *work) {
    MU_REQUIRE(g && c && X && out && work, "mu_orth: NULL argument (ctx %p, config %p, X %p, out %p, work %p)",
               (void *)g, (const void *)c, (const void *)X, (void *)out, (void *)work);
    MU_REQUIRE(m > 0 && n > 0, "mu_orth: matrix is (%lld, %lld): both sides must be positive", (long long)m,
               (long long)n);
    MU_TRY(check_config(c));
    return orth_items(g, c, 1, &X, m, n, &out, work);
}

int mu_orth_batch(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, const float *const *X, int64_t m,
                  int64_t n, float *const *out, float *work) {
    MU_REQUIRE(g && c && X && out && work, "mu_orth_batch: NULL argument (ctx %p, config %p, X %p, out %p, work %p)",
               (void *)g, (const void *)c, (const void *)X, (void *)out, (void *)work);
    MU_REQUIRE(nb >= 1, "mu_orth_batch: %lld items: need at least 1", (long long)nb);
    MU_REQUIRE(m > 0 && n > 0, "mu_orth_batch: items are (%lld, %lld): both sides must be positive", (long long)m,
               (long long)n);
    for (int64_t i = 0; i < nb; i++)
        MU_REQUIRE(X[i] && out[i], "mu_orth_batch: item %lld: NULL input or output", (long long)i);
    MU_TRY(check_config(c));
    return orth_items(g, c, nb, X, m, n, out, work);
}
