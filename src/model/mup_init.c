/* mup_init.c — μP initialisation of a GPT registry (spec mup-and-muonpp.md §1-§2).
 *
 * Per role (fan_in/fan_out from the registry, never from the stored shape):
 *   embeddings   N(0, 0.02^2), width-independent
 *   lm_head      N(0, 0.02^2), or 0 with zero_readout
 *   gains 1, biases 0
 *   hidden       per logical matrix (qkv = three (C,C) row blocks), s = sqrt(d_out/d_in):
 *     gauss      N(0, std^2), std = min(1, s)/sqrt(d_in)  -> ‖W‖₂ ≈ s(1+s) (s ≤ 1), 1+s (s > 1)
 *     orthogonal s * Q, Q with orthonormal columns (or rows) from the QR of a Gaussian
 *                (signs fixed by diag(R), so Q is Haar distributed): all singular values = s
 *     table      0.02/sqrt(m), both c_proj also /sqrt(2L) (microsoft/mup's sigma/sqrt(m))
 *   zero_query zeroes the first C rows (q) of c_attn after the init. */
#include <lapacke.h>
#include <math.h>

#include "base/util.h"
#include "model/mup.h"

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static void fill_normal(float *w, int64_t n, float std, mu_rng_t *r) {
    for (int64_t j = 0; j < n; j++) w[j] = std * mu_rng_normal(r);
}

/* w (d_out, d_in) = s * orthogonal; scratch a (r*c) and tau (c), r = max, c = min of the sides. */
static int fill_orthogonal(float *w, int64_t d_out, int64_t d_in, mu_rng_t *r, const char *name) {
    int64_t R = d_out > d_in ? d_out : d_in, Cc = d_out > d_in ? d_in : d_out;
    float s = sqrtf((float)d_out / (float)d_in);
    float *a = mu_alloc((size_t)(R * Cc) * sizeof(float)), *tau = mu_alloc((size_t)Cc * sizeof(float));
    float *sg = mu_alloc((size_t)Cc * sizeof(float));
    int rc = MU_OK;
    if (!a || !tau || !sg) {
        rc = mu_set_error(MU_ENOMEM, "μP init '%s': out of memory for the orthogonal init", name);
        goto done;
    }
    fill_normal(a, R * Cc, 1.0f, r);
    /* A (R,Cc) = Q R_: geqrf leaves R_ on and above the diagonal */
    lapack_int info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, (lapack_int)R, (lapack_int)Cc, a, (lapack_int)Cc, tau);
    for (int64_t j = 0; j < Cc && !info; j++) sg[j] = a[j * Cc + j] < 0.0f ? -s : s;
    if (!info) info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, (lapack_int)R, (lapack_int)Cc, (lapack_int)Cc, a,
                                     (lapack_int)Cc, tau);
    if (info) {
        rc = mu_set_error(MU_EINVAL, "μP init '%s': LAPACK QR failed (info %d)", name, (int)info);
        goto done;
    }
    /* Q (R,Cc) column j times s sign(R_jj); W = that (tall) or its transpose (wide) */
    for (int64_t i = 0; i < R; i++)
        for (int64_t j = 0; j < Cc; j++) {
            float v = a[i * Cc + j] * sg[j];
            if (d_out >= d_in) w[i * d_in + j] = v;
            else w[j * d_in + i] = v;
        }
done:
    free(a);
    free(tau);
    free(sg);
    return rc;
}

int mu_gpt_mup_init_params(mu_param_t *params, int32_t n, const mu_gpt_config_t *c, uint64_t seed) {
    float m = mu_gpt_width_mult(c);
    for (int32_t i = 0; i < n; i++) {
        mu_param_t *p = &params[i];
        mu_rng_t r;
        mu_rng_at(&r, seed, (uint64_t)i, 0, 0);
        switch (p->role) {
        case MU_ROLE_GAIN:
            for (int64_t j = 0; j < p->numel; j++) p->data[j] = 1.0f;
            break;
        case MU_ROLE_BIAS: memset(p->data, 0, (size_t)p->numel * sizeof(float)); break;
        case MU_ROLE_EMBED: fill_normal(p->data, p->numel, 0.02f, &r); break;
        case MU_ROLE_HEAD:
            if (c->zero_readout) memset(p->data, 0, (size_t)p->numel * sizeof(float));
            else fill_normal(p->data, p->numel, 0.02f, &r);
            break;
        case MU_ROLE_HIDDEN: {
            int64_t split = p->n_split > 0 ? p->n_split : 1;
            int64_t d_in = p->fan_in, d_out = p->fan_out / split;
            MU_REQUIRE(d_in * d_out * split == p->numel, "μP init '%s': fan_in %lld x fan_out %lld != numel %lld",
                       p->name, (long long)p->fan_in, (long long)p->fan_out, (long long)p->numel);
            float s = sqrtf((float)d_out / (float)d_in);
            for (int64_t k = 0; k < split; k++) {
                float *w = p->data + k * d_out * d_in;
                if (c->mup_init == MU_MUP_INIT_ORTHOGONAL) {
                    MU_TRY(fill_orthogonal(w, d_out, d_in, &r, p->name));
                } else if (c->mup_init == MU_MUP_INIT_TABLE) {
                    float std = 0.02f / sqrtf(m);
                    if (ends_with(p->name, ".c_proj.weight")) std /= sqrtf(2.0f * (float)c->n_layer);
                    fill_normal(w, d_out * d_in, std, &r);
                } else {
                    fill_normal(w, d_out * d_in, fminf(1.0f, s) / sqrtf((float)d_in), &r);
                }
            }
            /* zero_query: q = rows [0, C) of the fused c_attn */
            if (c->zero_query && ends_with(p->name, ".attn.c_attn.weight"))
                memset(p->data, 0, (size_t)(d_out * d_in) * sizeof(float));
            break;
        }
        default: return mu_set_error(MU_EINVAL, "μP init '%s': invalid role %d", p->name, (int)p->role);
        }
    }
    return MU_OK;
}
