/* clip.c — global gradient-norm clipping (torch.nn.utils.clip_grad_norm_, nanoGPT).
 *
 *   norm = sqrt(sum over every gradient element of g^2)   (double accumulation)
 *   if max_norm > 0 and norm > max_norm: g <- g * max_norm / (norm + 1e-6)
 *
 * Deterministic whatever the thread count: each tensor is cut into fixed chunks
 * of CHUNK elements, chunk sums are computed in parallel into a fixed slot and
 * added serially in chunk order. The registry has no duplicate (tied) records,
 * so shared storage is counted once. Non-finite norm: grads untouched.
 */
#include <math.h>

#include "base/util.h"
#include "muon/optim.h"
#include "optim/transform.h"

#define CHUNK 4096
#define BLOCK 256  /* chunks summed per parallel region */

static double sumsq(const float *g, int64_t n) {
    double total = 0.0;
    double part[BLOCK];
    const int64_t n_chunks = (n + CHUNK - 1) / CHUNK;
    for (int64_t c0 = 0; c0 < n_chunks; c0 += BLOCK) {
        const int64_t nc = n_chunks - c0 < BLOCK ? n_chunks - c0 : BLOCK;
#pragma omp parallel for schedule(static) if (nc * CHUNK >= 65536)
        for (int64_t c = 0; c < nc; c++) {
            const int64_t lo = (c0 + c) * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;
            part[c] = mu_dot_f64(g + lo, g + lo, hi - lo);  // fixed lanes, same order every run
        }
        for (int64_t c = 0; c < nc; c++) total += part[c];
    }
    return total;
}

int mu_optim_clip_grad(mu_param_t *params, int32_t n, float max_norm, float *norm_out) {
    MU_REQUIRE(n >= 0 && (params || n == 0), "mu_optim_clip_grad: bad parameter array (n = %d)", n);
    MU_REQUIRE(!isnan(max_norm), "mu_optim_clip_grad: max_norm is NaN");
    double ss = 0.0;
    for (int32_t i = 0; i < n; i++) {
        MU_REQUIRE(params[i].grad || params[i].numel == 0, "mu_optim_clip_grad: parameter '%s' has no grad",
                   params[i].name);
        ss += sumsq(params[i].grad, params[i].numel);
    }
    double norm = sqrt(ss);
    if (norm_out) *norm_out = (float)norm;
    if (!isfinite(norm))
        return mu_set_error(MU_ENONFINITE, "gradient norm is %s (a gradient holds NaN or Inf); step skipped",
                            isnan(norm) ? "NaN" : "Inf");
    if (max_norm > 0 && norm > (double)max_norm) {
        const float s = (float)((double)max_norm / (norm + 1e-6));
        for (int32_t i = 0; i < n; i++) mu_vec_scale(params[i].grad, params[i].numel, s);
    }
    return MU_OK;
}
