/* orth_impl.h — internal interface between the orth dispatcher (orth.c) and its
 * kernels: polynomial iterations (poly.c) and the exact polar factor (exact.c). */
#ifndef MU_ORTH_IMPL_H
#define MU_ORTH_IMPL_H

#include "muon/orth.h"

/* Run c->steps polynomial iterations on nb normalized short-side matrices X (r, cc),
 * r <= cc, row-major, stored back to back. The iterates ping-pong between X0 and X1; the
 * first must be in X0 when steps is even and in X1 when odd, so the results end in X0.
 * A, B: nb·r·r floats each. H: with bf16 products, mu_orth_bf16_floats(nb, r, cc) floats
 * for the rounded operands (unused, may be NULL, in fp32). */
int mu_orth_poly_run(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, int64_t r, int64_t cc, float *X0,
                     float *X1, float *A, float *B, float *H);
size_t mu_orth_bf16_floats(int64_t nb, int64_t r, int64_t cc);

/* Gram path: nb normalized inputs X (r, cc) back to back (kept), results B_{T−1}···B_0·X
 * into Xout (must not alias X). R: 6·nb·r*r floats. */
int mu_orth_gram_run(mu_gemm_ctx_t *g, const mu_orth_config_t *c, int64_t nb, int64_t r, int64_t cc, const float *X,
                     float *Xout, float *R);
/* Whether a polynomial config runs the Gram path on the short-side shape (r, cc). */
int mu_orth_use_gram(int64_t r, int64_t cc, const mu_orth_config_t *c);
/* FLOPs of the polynomial iteration on (r, cc) along the path it takes. */
double mu_orth_poly_flops(int64_t r, int64_t cc, const mu_orth_config_t *c);

/* Exact polar factor P·Qᵀ of X (m, n) into out (may alias X); work from
 * mu_orth_exact_workspace_floats. X is known finite and non-zero. */
int mu_orth_exact_run(mu_gemm_ctx_t *g, const mu_orth_config_t *c, const float *X, int64_t m, int64_t n, float *out,
                      float *work);
size_t mu_orth_exact_workspace_floats(int64_t m, int64_t n, int exact_double);

/* Matrix-vector products of X (m, n), row-major, double accumulation (power.c; shared by the
 * power iteration and Lanczos): u (m) = X·v and w (n) = Xᵀ·u. */
void mu_orth_matvec(const float *X, int64_t m, int64_t n, const float *v, float *u);
void mu_orth_matvec_t(const float *X, int64_t m, int64_t n, const float *u, float *w);

#endif
