/* exact.c — the exact polar factor orth(X) = P·Qᵀ from the thin SVD X = P Σ Qᵀ.
 *
 * Shapes: X (m, n) row-major, r = min(m, n). A row-major (m, n) array is the
 * column-major (n, m) matrix Xᵀ = Q Σ Pᵀ, so LAPACK runs column-major on it with no
 * transposition: gesdd(jobz 'S', M = n, N = m) gives U = Q (n, r, ld n) and
 * VT = Pᵀ (r, m, ld r). Read back as row-major arrays they are Qᵀ (r, n) and P (m, r),
 * so out (m, n) = P[:, :k] · Qᵀ[:k, :] is one plain row-major product, where k counts
 * the singular values above a cut (the rest are dropped: their directions are noise):
 *   dgesdd: 1e-12·σ_max (spec §1.1);
 *   sgesdd: max(m, n)·FLT_EPSILON·σ_max — sgesdd's singular values carry absolute
 *           errors ~FLT_EPSILON·σ_max, so a 1e-12 cut would keep pure round-off and
 *           turn an exact null space into arbitrary unit directions (numpy's
 *           matrix_rank default tolerance; documented deviation, docs/orth.md).
 * LAPACK always runs on the short-side view (Xᵀ when m > n, transposed back), so
 * orth(Xᵀ) = orth(X)ᵀ holds bit for bit, as for the polynomial kinds.
 * sgesdd (fp32) by default; exact_double runs dgesdd and dgemm on a double copy
 * (reference use). LAPACKE's *_work column-major entry points call LAPACK directly,
 * so with the caller's workspace (sized by a workspace query) nothing is allocated. */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <stdint.h>

#include "base/util.h"
#include "orth/orth_impl.h"

#define DROP_REL 1e-12 /* dgesdd: singular values <= DROP_REL·σ_max are dropped */

/* LAPACK's optimal lwork (elements) for gesdd 'S' on (M, N) = (n, m). */
static size_t gesdd_lwork(int64_t m, int64_t n, int dbl) {
    lapack_int M = (lapack_int)n, N = (lapack_int)m, r = (lapack_int)(m < n ? m : n), info;
    lapack_int iw[8];
    size_t fallback = 5 * (size_t)r * (size_t)r + 7 * (size_t)r + (size_t)(m > n ? m : n); /* LAPACK's bound */
    if (dbl) {
        double a = 0, s = 0, u = 0, vt = 0, q = 0;
        info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', M, N, &a, M, &s, &u, M, &vt, r, &q, -1, iw);
        return (info == 0 && q > 0) ? (size_t)q + 1 : fallback;
    }
    float a = 0, s = 0, u = 0, vt = 0, q = 0;
    info = LAPACKE_sgesdd_work(LAPACK_COL_MAJOR, 'S', M, N, &a, M, &s, &u, M, &vt, r, &q, -1, iw);
    /* a float holds lwork to 24 bits: round up generously */
    return (info == 0 && q > 0) ? (size_t)((double)q * (1 + 1e-6)) + 64 : fallback;
}

typedef struct {
    void *a, *s, *u, *vt, *work;
    lapack_int *iwork;
    size_t lwork;
} layout_t;

static size_t up16(size_t x) { return (x + 15) & ~(size_t)15; }

/* Sections in floats, each 64-byte aligned relative to a 64-byte aligned base. */
static size_t layout(int64_t m, int64_t n, int dbl, float *base, layout_t *L) {
    if (m > n) { /* LAPACK sees the short-side view (r, cc) */
        int64_t t = m;
        m = n, n = t;
    }
    size_t t = dbl ? 2 : 1, r = (size_t)(m < n ? m : n), mn = (size_t)m * (size_t)n;
    size_t lwork = gesdd_lwork(m, n, dbl);
    size_t sz[6] = {mn * t, r * t, (size_t)n * r * t, r * (size_t)m * t, lwork * t,
                    (8 * r * sizeof(lapack_int) + 3) / 4};
    size_t off[6], total = 0;
    for (int i = 0; i < 6; i++) off[i] = total, total += up16(sz[i]);
    if (base && L) {
        L->a = base + off[0], L->s = base + off[1], L->u = base + off[2], L->vt = base + off[3];
        L->work = base + off[4], L->iwork = (lapack_int *)(void *)(base + off[5]);
        L->lwork = lwork;
    }
    return total + 16; /* slack to align the caller's base */
}

size_t mu_orth_exact_workspace_floats(int64_t m, int64_t n, int exact_double) {
    return layout(m, n, exact_double != 0, NULL, NULL);
}

/* element (i, j) of the short-side view Y (r, cc) of X (m, n): Y = X, or Xᵀ when m > n */
static inline size_t yidx(int tr, int64_t i, int64_t j, int64_t n0) {
    return tr ? (size_t)j * (size_t)n0 + (size_t)i : (size_t)i * (size_t)n0 + (size_t)j;
}

int mu_orth_exact_run(mu_gemm_ctx_t *g, const mu_orth_config_t *c, const float *X, int64_t m, int64_t n, float *out,
                      float *work) {
    const int64_t imax = 2147483647;
    MU_REQUIRE(m <= imax && n <= imax && (double)m * (double)n <= (double)imax,
               "mu_orth exact: matrix (%lld, %lld) too large for 32-bit LAPACK", (long long)m, (long long)n);
    MU_REQUIRE(((uintptr_t)work & 3) == 0, "mu_orth exact: workspace %p is not float-aligned", (void *)work);
    float *base = (float *)(((uintptr_t)work + 63) & ~(uintptr_t)63);
    layout_t L;
    int dbl = c->exact_double != 0;
    layout(m, n, dbl, base, &L);
    /* LAPACK always sees the short-side view Y (r, cc) (so orth(Xᵀ) = orth(X)ᵀ exactly):
     * here (m, n) below mean Y's shape */
    const int tr = m > n;
    const int64_t m0 = m, n0 = n;
    if (tr) m = n0, n = m0;
    int64_t r = m;
    size_t mn = (size_t)m * (size_t)n;
    lapack_int M = (lapack_int)n, N = (lapack_int)m, R = (lapack_int)r, info;
    int64_t k = 0;
    if (dbl) {
        double *a = L.a, *s = L.s, *u = L.u, *vt = L.vt;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) a[i * n + j] = X[yidx(tr, i, j, n0)];
        info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, 'S', M, N, a, M, s, u, M, vt, R, L.work, (lapack_int)L.lwork,
                                   L.iwork);
        if (info != 0)
            return mu_set_error(MU_EINVAL, "mu_orth exact: dgesdd on (%lld, %lld) failed (info %d: %s)",
                                (long long)m0, (long long)n0, (int)info,
                                info < 0 ? "bad argument" : "SVD did not converge");
        while (k < r && s[k] > DROP_REL * s[0]) k++;
        if (k == 0) {
            memset(out, 0, mn * sizeof *out);
            return MU_OK;
        }
        /* a (r, cc) = P[:, :k] (r, k; ld r) · Qᵀ[:k, :] (k, cc; ld cc), then round to fp32 */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, 1.0, vt,
                    (blasint)r, u, (blasint)n, 0.0, a, (blasint)n);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) out[yidx(tr, i, j, n0)] = (float)a[i * n + j];
        return MU_OK;
    }
    float *a = L.a, *s = L.s, *u = L.u, *vt = L.vt;
    if (tr) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) a[i * n + j] = X[yidx(tr, i, j, n0)];
    } else {
        memcpy(a, X, mn * sizeof *a);
    }
    info = LAPACKE_sgesdd_work(LAPACK_COL_MAJOR, 'S', M, N, a, M, s, u, M, vt, R, L.work, (lapack_int)L.lwork,
                               L.iwork);
    if (info != 0)
        return mu_set_error(MU_EINVAL, "mu_orth exact: sgesdd on (%lld, %lld) failed (info %d: %s)", (long long)m0,
                            (long long)n0, (int)info, info < 0 ? "bad argument" : "SVD did not converge");
    const double cut = (double)n * FLT_EPSILON * (double)s[0]; /* n = max side */
    while (k < r && (double)s[k] > cut) k++;
    if (k == 0) {
        memset(out, 0, mn * sizeof *out);
        return MU_OK;
    }
    mu_gemm_desc_t d = mu_gemm_desc(0, 0, m, n, k, 1.0f, 0.0f);
    d.lda = r; /* P stored (r, r) */
    d.ldb = n; /* Qᵀ stored (r, cc) */
    if (!tr) return mu_gemm(g, &d, vt, u, out);
    MU_TRY(mu_gemm(g, &d, vt, u, a)); /* a is free after gesdd */
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) out[yidx(tr, i, j, n0)] = a[i * n + j];
    return MU_OK;
}
