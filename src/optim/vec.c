/* vec.c — the elementwise helpers shared by the transforms (one place for each loop):
 * a deterministic double dot product, scaling, rescaling to a norm, sign, and the state
 * size of a one-float-per-element link. x (n floats); loops go parallel from
 * MU_OPTIM_PAR_MIN elements, and each element's result is independent of the thread count.
 */
#include <math.h>

#include "base/util.h"
#include "optim/transform.h"

/* Four fixed lanes, then a fixed combination: same result on every run. */
double mu_dot_f64(const float *a, const float *b, int64_t n) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += (double)a[i] * (double)b[i];
        s1 += (double)a[i + 1] * (double)b[i + 1];
        s2 += (double)a[i + 2] * (double)b[i + 2];
        s3 += (double)a[i + 3] * (double)b[i + 3];
    }
    for (; i < n; i++) s0 += (double)a[i] * (double)b[i];
    return (s0 + s1) + (s2 + s3);
}

void mu_vec_scale(float *x, int64_t n, float a) {
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) x[i] *= a;
}

// a = target/(‖x‖ + eps) in double, applied as one float factor
void mu_vec_set_norm(float *x, int64_t n, double target, double eps) {
    const double fro = sqrt(mu_dot_f64(x, x, n));
    if (!(fro > 0.0)) return;
    mu_vec_scale(x, n, (float)(target / (fro + eps)));
}

void mu_vec_sign(float *x, int64_t n, float a) {
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) x[i] = (float)((x[i] > 0.0f) - (x[i] < 0.0f)) * a;  // NaN -> 0
}

size_t mu_state_numel(const mu_tstep_t *s, const mu_param_t *p) {
    (void)s;
    return (size_t)p->numel;
}
