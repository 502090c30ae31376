/* momentum.c — the two momentum conventions, each with an optional Nesterov look-ahead.
 *
 *   ema(beta):  M <- beta*M + (1-beta)*U     U' = M   (nesterov: U' = (1-beta)*U + beta*M)
 *   sum(beta):  M <- beta*M + U              U' = M   (nesterov: U' = U + beta*M)
 *
 * U, M (numel). From zero state the ema buffer is exactly (1-beta) x the sum
 * buffer, so both give the same direction (optimizers-lmo.md §1). sum is
 * PyTorch SGD's buffer (dampening 0); ema is Keller's Muon momentum.
 */
#include "base/util.h"
#include "optim/transform.h"

enum { K_BETA = 0, K_NESTEROV = 1 };

static const mu_hp_desc_t keys[] = {
    MU_HP_BETA_KEY("beta", 0.9f),
    {.key = "nesterov", .type = MU_HP_INT, .def = 0.0f, .lo = 0.0f, .hi = 1.0f, .structural = 1},
};

static int ema_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *M, mu_param_t *p) {
    (void)ctx;
    const float b = s->hp[K_BETA], a = 1.0f - b;
    const int64_t n = p->numel;
    if (s->hp[K_NESTEROV] != 0.0f) {
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) {
            float m = b * M[i] + a * U[i];
            M[i] = m;
            U[i] = a * U[i] + b * m;
        }
    } else {
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) {
            float m = b * M[i] + a * U[i];
            M[i] = m;
            U[i] = m;
        }
    }
    return MU_OK;
}

static int sum_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *M, mu_param_t *p) {
    (void)ctx;
    const float b = s->hp[K_BETA];
    const int64_t n = p->numel;
    if (s->hp[K_NESTEROV] != 0.0f) {
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) {
            float m = b * M[i] + U[i];
            M[i] = m;
            U[i] = U[i] + b * m;
        }
    } else {
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) {
            float m = b * M[i] + U[i];
            M[i] = m;
            U[i] = m;
        }
    }
    return MU_OK;
}

const mu_transform_t mu_tr_ema = {
    .name = "ema", .keys = keys, .n_keys = 2, .state_size = mu_state_numel, .update = ema_update,
};

const mu_transform_t mu_tr_sum = {
    .name = "sum", .keys = keys, .n_keys = 2, .state_size = mu_state_numel, .update = sum_update,
};
