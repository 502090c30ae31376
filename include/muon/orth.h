/* muon/orth.h — polar-factor approximations ("orthogonalization") and spectral norms.
 *
 * Kernels see matrices only (no models, no optimizers). A matrix is fp32, row-major,
 * (m, n) with row stride n. orth(X) ≈ polar factor P·Qᵀ of the thin SVD X = P Σ Qᵀ.
 *
 * Intended usage:
 *   1. mu_orth_config_t oc = mu_orth_config_default(); oc.kind = MU_ORTH_NS5; oc.steps = 5;
 *   2. size_t ws = mu_orth_workspace_floats(m, n, &oc); allocate ws floats once
 *      (caller-provided workspace: no allocation per call).
 *   3. mu_orth(gemm, &oc, X, m, n, out, work) writes orth(X) (m, n) into out
 *      (out may equal X). Polynomial kinds work on the short side: when m > n they
 *      orthogonalize Xᵀ and transpose back, so orth(Xᵀ) = orth(X)ᵀ.
 *   4. Every product goes through the compute layer (gemm); X·Xᵀ uses a symmetric
 *      rank-k product. oc.prec = MU_PREC_BF16 runs the products with bf16 inputs and
 *      fp32 accumulation through oneDNN; MU_EUNSUPPORTED on a CPU without bf16.
 *   5. mu_spectral_norm estimates σ_max by power iteration, warm-started from a
 *      caller-kept vector (n floats) — it always undershoots; use >= 8 iterations.
 *      mu_spectral_norm_lanczos does the same by Lanczos (same vector slot), far more
 *      accurate per step on clustered top spectra.
 * Defined results: a zero matrix maps to zero; non-finite input returns MU_ENONFINITE
 * (output untouched); rank-deficient input keeps its null space at zero (polynomials).
 * Thread-safety: calls with distinct workspaces and gemm contexts may run concurrently.
 */
#ifndef MUON_ORTH_H
#define MUON_ORTH_H

#include "muon/gemm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    MU_ORTH_NS5 = 0,     /* Keller Jordan's quintic Newton–Schulz (3.4445, −4.7750, 2.0315) */
    MU_ORTH_PE = 1,      /* Polar Express (Amsel et al. 2025, arXiv 2505.16932) */
    MU_ORTH_CUBIC = 2,   /* (1.5, −0.5): converges to the exact polar factor */
    MU_ORTH_QUINTIC = 3, /* (1.875, −1.25, 0.375) */
    MU_ORTH_EXACT = 4    /* P·Qᵀ from LAPACKE sgesdd (dgesdd with exact_double) */
} mu_orth_kind_t;

typedef struct {
    mu_orth_kind_t kind;
    int32_t steps;       /* iterations for polynomial kinds (default 5) */
    mu_prec_t prec;      /* MU_PREC_F32 (default) or MU_PREC_BF16 for the products */
    int32_t use_syrk;    /* 1 (default): X·Xᵀ as a symmetric rank-k product; 0: plain gemm */
    int32_t exact_double;/* exact kind: 1 = dgesdd on a double copy (reference use) */
    float eps;           /* Frobenius normalization epsilon (default 1e-7) */
    int32_t path;        /* polynomial kinds: how the iteration is organised (docs/orth.md) */
} mu_orth_config_t;

/* mu_orth_config_t.path. ITERATE: X ← p(XXᵀ)·X every step (T·(3r²c + 2r³) flops with syrk).
 * GRAM: iterate on the Gram matrix A = XXᵀ (A ← A·p(A)², Q ← p(A)·Q) and apply Q·X once
 * (3r²c + (6T−5)r³ flops): fewer flops when c > 1.25r. AUTO (default) picks the cheaper.
 * pe and bf16 products always iterate (the Gram recursion amplifies round-off there, see
 * docs/orth.md); GRAM with prec bf16 is refused (MU_EUNSUPPORTED). */
enum { MU_ORTH_PATH_AUTO = 0, MU_ORTH_PATH_ITERATE = 1, MU_ORTH_PATH_GRAM = 2 };

MU_API mu_orth_config_t mu_orth_config_default(void);
MU_API const char *mu_orth_kind_name(mu_orth_kind_t k);
MU_API int mu_orth_kind_parse(const char *s, mu_orth_kind_t *out);

/* Workspace size in floats for an (m, n) input. */
MU_API size_t mu_orth_workspace_floats(int64_t m, int64_t n, const mu_orth_config_t *c);

MU_API int mu_orth(mu_gemm_ctx_t *g,             /* compute context (borrowed) */
                   const mu_orth_config_t *c,
                   const float *X,               /* (m, n) */
                   int64_t m, int64_t n,
                   float *out,                   /* (m, n); may alias X */
                   float *work);                 /* mu_orth_workspace_floats(m, n, c) floats */

/* out[i] = orth(X[i]) for nb >= 1 items of one shape (m, n): every product of the iteration
 * runs once for all items (batched gemm descriptors), which is what makes many small
 * matrices fast (a Muon step on a small GPT orthogonalizes dozens of 256×256 matrices, where
 * one call is bound by per-product overhead). Same result as nb mu_orth calls up to the
 * summation order of batched products (bit-identical for nb = 1). out[i] may alias X[i];
 * items must not otherwise overlap. exact: one item after the other. A NaN/Inf anywhere:
 * MU_ENONFINITE naming the item, before any output is written.
 * work: mu_orth_batch_workspace_floats(nb, m, n, c) floats (≈ nb × one item's). */
MU_API int mu_orth_batch(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, const float *const *X, int64_t m,
                         int64_t n, float *const *out, float *work);
MU_API size_t mu_orth_batch_workspace_floats(int64_t nb, int64_t m, int64_t n, const mu_orth_config_t *c);

/* σ_max(X) by power iteration on XᵀX: v (n floats) is the warm start and is updated;
 * a zero v is initialised deterministically. tmp: m floats. */
MU_API int mu_spectral_norm(const float *X, int64_t m, int64_t n, int32_t iters, float *v, float *tmp,
                            float *sigma);

/* σ_max(X) by k-step Lanczos with full reorthogonalization on the short-side Gram
 * matrix (XᵀX when n <= m, else XXᵀ): top eigenvalue of the k×k tridiagonal via
 * LAPACKE_dstev. v (n floats): warm start, same slot and meaning as mu_spectral_norm's
 * (updated to the Ritz right singular vector; a zero v starts deterministically).
 * steps in [1, MU_LANCZOS_MAX_STEPS]; stops early on breakdown (invariant subspace:
 * exact). work: mu_lanczos_workspace_floats(m, n, steps) = (k+1)·min(m,n) + max(m,n)
 * floats, k = min(steps, 64). Undershoots σ_max like power iteration, but converges
 * much faster on clustered top spectra (NS5 outputs). X = 0 gives 0 (and v = 0);
 * NaN/Inf in X or v: MU_ENONFINITE. */
#define MU_LANCZOS_MAX_STEPS 64
MU_API size_t mu_lanczos_workspace_floats(int64_t m, int64_t n, int32_t steps);
MU_API int mu_spectral_norm_lanczos(const float *X, int64_t m, int64_t n, int32_t steps, float *v, float *work,
                                    float *sigma);

/* Coefficients (a, b, c) of iteration k (0-based) of a polynomial kind. */
MU_API int mu_orth_coeffs(mu_orth_kind_t kind, int32_t k, double *a, double *b, double *c);

/* FLOPs of one mu_orth call (X·Xᵀ counted as syrk: r²c). */
MU_API double mu_orth_flops(int64_t m, int64_t n, const mu_orth_config_t *c);

#ifdef __cplusplus
}
#endif
#endif
