/* shape_scale.c — `shape_scale(mode)`: U <- a(m, n)·U, a from the logical matrix shape
 * (m, n) = (d_out, d_in) (a fused qkv under split = qkv/head is three (C, C): m = C).
 * optimizers-lmo.md §1, mup-and-muonpp.md §3:
 *
 *   keller     a = sqrt(max(1, m/n))     update RMS = 1/sqrt(n) for an exact polar factor
 *   moonlight  a = 0.2·sqrt(max(m, n))   update RMS = 0.2 (matches AdamW's RMS)
 *   spectral   a = sqrt(m/n)             ‖ΔW‖₂ = η·sqrt(m/n) (μP spectral condition)
 *   none       a = 1
 *   pion       a = 2·sqrt(max(m, n))
 */
#include <math.h>

#include "base/util.h"
#include "optim/transform.h"

enum { K_MODE = 0, K_SPLIT = 1 };
enum { M_KELLER = 0, M_MOONLIGHT = 1, M_SPECTRAL = 2, M_NONE = 3, M_PION = 4 };

static const char *const mode_names[] = {"keller", "moonlight", "spectral", "none", "pion", NULL};

static const mu_hp_desc_t keys[] = {
    {.key = "mode", .type = MU_HP_ENUM, .def = 0.0f, .lo = 0.0f, .hi = 4.0f, .structural = 1, .names = mode_names},
    MU_HP_SPLIT_KEY,
};

/* The factor for an (m, n) matrix, computed in double. */
static float shape_factor(int mode, double m, double n) {
    const double c = m > n ? m : n;
    switch (mode) {
    case M_KELLER: return (float)sqrt(m / n > 1.0 ? m / n : 1.0);
    case M_MOONLIGHT: return (float)(0.2 * sqrt(c));
    case M_SPECTRAL: return (float)sqrt(m / n);
    case M_PION: return (float)(2.0 * sqrt(c));
    default: return 1.0f;
    }
}

static int shape_update(const mu_tstep_t *s, const mu_tctx_t *ctx, float *U, float *state, mu_param_t *p) {
    (void)ctx;
    (void)state;
    int64_t m, n;
    mu_param_views(p, (int32_t)s->hp[K_SPLIT], MU_VIEW_LOGICAL, &m, &n);  // every view has this shape
    const float a = shape_factor((int)s->hp[K_MODE], (double)m, (double)n);
    if (a != 1.0f) mu_vec_scale(U, p->numel, a);
    return MU_OK;
}

const mu_transform_t mu_tr_shape_scale = {
    .name = "shape_scale", .keys = keys, .n_keys = 2, .update = shape_update, .check = mu_views_check_link,
};
