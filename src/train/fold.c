/* fold.c — a μP model as an equivalent plain GPT-2 (SP) model: the multipliers folded into the
 * weights, so that nanoGPT's forward (no α_in, unscaled logits, scores 1/sqrt(d_head)) gives
 * the same logits (docs/model.md "μP"; docs/checkpoints.md §3.4).
 *
 *   x0     = α_in (wte[x] + wpe[t])          → wte' = α_in wte,  wpe' = α_in wpe
 *   logits = (α_out/m) ln_f(x) W_headᵀ        → W_head' = (α_out/m) W_head
 *   scores = a q·k,  a = α_attn/d_head       → q' = a sqrt(d_head) q: the query rows of c_attn
 *            (SP: 1/sqrt(d_head))               (rows [0, C) of the weight, entries [0, C) of the bias)
 * Everything else is copied. A tied model shares one matrix between the embedding (×α_in) and
 * the head (×α_out/m): it stays tied only when the two factors are equal, otherwise the folded
 * model is untied (lm_head = (α_out/m) wte, wte' = α_in wte). The config's mup_init,
 * zero_query and zero_readout only shape the init and are dropped with the other μP fields. */
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "muon/train.h"

#define HEAD_NAME "lm_head.weight"
#define WTE_NAME "transformer.wte.weight"
#define WPE_NAME "transformer.wpe.weight"

/* α_in as the forward applies it (0 means 1); 1 under SP. */
static float in_mult(const mu_gpt_config_t *c) {
    if (c->param != MU_PARAM_MUP) return 1.0f;
    return c->alpha_in > 0.0f ? c->alpha_in : 1.0f;
}

/* Factor on the query rows: a·sqrt(d_head) (1 under SP and at the default α_attn). */
static float query_mult(const mu_gpt_config_t *c) {
    const float hs = (float)(c->d_model / c->n_head);
    return mu_gpt_attn_scale(c) * sqrtf(hs);
}

int mu_gpt_fold_config(const mu_gpt_config_t *src, mu_gpt_config_t *out) {
    MU_REQUIRE(src && out, "mu_gpt_fold_config: NULL argument");
    MU_TRY(mu_gpt_config_check(src));
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = src->n_layer, c.n_head = src->n_head, c.d_model = src->d_model, c.seq_len = src->seq_len;
    c.vocab = src->vocab, c.bias = src->bias, c.dropout = src->dropout;
    c.param = MU_PARAM_SP;
    // one shared matrix carries both factors only when they are equal
    c.tie = src->tie && in_mult(src) == mu_gpt_out_mult(src);
    *out = c;
    return MU_OK;
}

/* dst = f · src (n floats). */
static void scaled_copy(float *dst, const float *src, int64_t n, float f) {
    if (f == 1.0f) memcpy(dst, src, sizeof(float) * (size_t)n);
    else
        for (int64_t i = 0; i < n; i++) dst[i] = f * src[i];
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int mu_gpt_fold_mup(mu_gpt_t *src, mu_gpt_t *dst) {
    MU_REQUIRE(src && dst && src != dst, "mu_gpt_fold_mup: NULL argument or src == dst");
    const mu_gpt_config_t *sc = mu_gpt_config(src), *dc = mu_gpt_config(dst);
    mu_gpt_config_t want;
    MU_TRY(mu_gpt_fold_config(sc, &want));
    if (dc->n_layer != want.n_layer || dc->n_head != want.n_head || dc->d_model != want.d_model ||
        dc->seq_len != want.seq_len || dc->vocab != want.vocab || dc->bias != want.bias || dc->tie != want.tie ||
        dc->param != MU_PARAM_SP)
        return mu_set_error(MU_EMISMATCH,
                            "mu_gpt_fold_mup: the destination model must be built from mu_gpt_fold_config of the "
                            "source (param sp, tie %d, same shape); it has param %s, tie %d",
                            (int)want.tie, mu_gpt_param_name(dc->param), (int)dc->tie);
    const float a_in = in_mult(sc), k_out = mu_gpt_out_mult(sc), q = query_mult(sc);
    const int64_t C = sc->d_model;
    mu_param_t *dp = mu_gpt_params(dst);
    for (int32_t i = 0; i < mu_gpt_n_params(dst); i++) {
        mu_param_t *d = &dp[i];
        const int is_head = strcmp(d->name, HEAD_NAME) == 0;
        // an untied head folded from a tied source reads wte
        const mu_param_t *s = mu_gpt_param_by_name(src, is_head && sc->tie ? WTE_NAME : d->name);
        if (!s || s->numel != d->numel)
            return mu_set_error(MU_EMISMATCH, "mu_gpt_fold_mup: tensor '%s' %s in the source model", d->name,
                                s ? "has another size" : "is missing");
        float f = 1.0f;
        if (is_head) f = k_out;                                                   // (α_out/m) W_head
        else if (!strcmp(d->name, WTE_NAME)) f = a_in;                            // α_in wte (tied: = α_out/m)
        else if (!strcmp(d->name, WPE_NAME)) f = a_in;                            // α_in wpe
        scaled_copy(d->data, s->data, d->numel, f);
        if (q != 1.0f && (ends_with(d->name, ".attn.c_attn.weight") || ends_with(d->name, ".attn.c_attn.bias"))) {
            // query = rows [0, C) of the (3C, C) weight, entries [0, C) of the (3C) bias
            const int64_t nq = d->ndim == 2 ? C * d->shape[1] : C;
            for (int64_t j = 0; j < nq; j++) d->data[j] *= q;
        }
    }
    return MU_OK;
}
