/* qr.h — orthonormal basis of a tall matrix's columns (thin QR's Q), for the optimizers
 * that track a subspace (COSMOS). CholeskyQR2 with a Householder fallback; see qr.c. */
#ifndef MU_ORTH_QR_H
#define MU_ORTH_QR_H

#include <stddef.h>
#include <stdint.h>

/* Workspace of mu_qr_thin in floats (n·k + 3k² + 2k + 1; any 4-byte alignment). */
size_t mu_qr_workspace_floats(int64_t n, int64_t k);

/* X (n, k), n >= k, row-major, is replaced by an orthonormal basis Q of its columns, with
 * span(q_1..q_j) = span(x_1..x_j) for every j. fell_back (may be NULL) is set to 1 when
 * CholeskyQR2 was unsafe and Householder QR produced Q. MU_ENONFINITE when even that fails. */
int mu_qr_thin(float *X, int64_t n, int64_t k, float *ws, int32_t *fell_back);

#endif
