/* adam.c — Adam's normalized update (Kingma & Ba 2015, Alg. 1; AdamW: Loshchilov & Hutter 2019).
 *
 *   m <- b1*m + (1-b1)*U
 *   v <- b2*v + (1-b2)*U*U
 *   U' = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)       t = 1-based step
 *
 * U, m, v (numel); state = [m | v]. Weight decay and the step are separate links.
 */
#include <math.h>
#ifdef __AVX__
#include <immintrin.h>
#endif

#include "base/util.h"
#include "optim/transform.h"

enum { K_B1 = 0, K_B2 = 1, K_EPS = 2 };

static const mu_hp_desc_t keys[] = {
    MU_HP_BETA_KEY("b1", 0.9f),
    MU_HP_BETA_KEY("b2", 0.95f),
    MU_HP_EPS_KEY(1e-8f),
};

static size_t adam_state(const mu_tstep_t *s, const mu_param_t *p) {
    (void)s;
    return 2 * (size_t)p->numel;
}

/* Elements [lo, hi). GCC will not vectorize sqrtf while -fmath-errno is on (the
 * default), so the AVX path spells the same operations out; mul, add, sqrt and
 * div are each correctly rounded in both paths (ISO C: no FMA contraction), so
 * the vector and scalar paths give bit-identical results. */
static void adam_span(float *restrict U, float *restrict m, float *restrict v, int64_t lo, int64_t hi,
                      float b1, float b2, float eps, float c1, float c2) {
    int64_t i = lo;
#ifdef __AVX__
    const __m256 vb1 = _mm256_set1_ps(b1), va1 = _mm256_set1_ps(1.0f - b1);
    const __m256 vb2 = _mm256_set1_ps(b2), va2 = _mm256_set1_ps(1.0f - b2);
    const __m256 vc1 = _mm256_set1_ps(c1), vc2 = _mm256_set1_ps(c2), veps = _mm256_set1_ps(eps);
    for (; i + 8 <= hi; i += 8) {
        __m256 g = _mm256_loadu_ps(U + i);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(va1, g));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(v + i)),
                                  _mm256_mul_ps(_mm256_mul_ps(va2, g), g));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vi, vc2)), veps);
        _mm256_storeu_ps(U + i, _mm256_div_ps(_mm256_mul_ps(mi, vc1), den));
    }
#endif
    for (; i < hi; i++) {
        float g = U[i];
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        U[i] = (mi * c1) / (sqrtf(vi * c2) + eps);
    }
}

#define SPAN 8192

static int adam_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    const float b1 = s->hp[K_B1], b2 = s->hp[K_B2], eps = s->hp[K_EPS];
    const int64_t n = p->numel;
    float *m = state, *v = state + n;
    // bias corrections in double, once per tensor: 1/(1-b1^t), 1/(1-b2^t)
    const float c1 = (float)(1.0 / (1.0 - pow((double)b1, (double)ctx->t)));
    const float c2 = (float)(1.0 / (1.0 - pow((double)b2, (double)ctx->t)));
    const int64_t n_span = (n + SPAN - 1) / SPAN;
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
    for (int64_t k = 0; k < n_span; k++) {
        const int64_t lo = k * SPAN, hi = lo + SPAN < n ? lo + SPAN : n;
        adam_span(U, m, v, lo, hi, b1, b2, eps, c1, c2);
    }
    return MU_OK;
}

const mu_transform_t mu_tr_adam = {
    .name = "adam", .keys = keys, .n_keys = 3, .state_size = adam_state, .update = adam_update,
};
