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

/* replay (pass 2 of a group chain, transform.h): the output again from the updated M, M kept.
 * Bit-identical to the update's output: the same expression on the same stored M. */
static int replay(const mu_tstep_t *s, float *U, const float *M, const mu_param_t *p, float a) {
    const float b = s->hp[K_BETA];
    const int64_t n = p->numel;
    if (s->hp[K_NESTEROV] != 0.0f) {  // ema: U' = (1-b)U + bM ; sum: U' = U + bM
#pragma omp parallel for schedule(static) if (n >= MU_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) U[i] = a * U[i] + b * M[i];
    } else {  // U' = M
        memcpy(U, M, sizeof(float) * (size_t)n);
    }
    return MU_OK;
}

static int ema_replay(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *M, mu_param_t *p) {
    (void)ctx;
    return replay(s, U, M, p, 1.0f - s->hp[K_BETA]);
}

static int sum_replay(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *M, mu_param_t *p) {
    (void)ctx;
    return replay(s, U, M, p, 1.0f);  // 1·U is exact: the same bits as sum_update's U + bM
}

const mu_transform_t mu_tr_ema = {
    .name = "ema", .keys = keys, .n_keys = 2, .state_size = mu_state_numel, .update = ema_update,
    .replay = ema_replay,
};

const mu_transform_t mu_tr_sum = {
    .name = "sum", .keys = keys, .n_keys = 2, .state_size = mu_state_numel, .update = sum_update,
    .replay = sum_replay,
};
