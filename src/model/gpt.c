/* gpt.c — the GPT-2 model: config, parameter registry, the three arenas, init, and the
 * forward/backward orchestration over the kernels in ops.c (llm.c's layout, nanoGPT's names).
 *
 * Block (pre-LayerNorm):  x = x + drop(c_proj(attn(ln_1(x))));  x = x + drop(c_proj(gelu(c_fc(ln_2(x)))))
 * Model: x0 = drop(wte[idx] + wpe[pos]); blocks; logits = ln_f(x) @ W_head^T (W_head = wte if tied).
 * Parameters and gradients live in two arenas with the same layout (registry order);
 * activations in one arena sized for (max_batch, seq_len); nothing is allocated after init. */
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "model/gpt_impl.h"
#include "model/mup.h"
#include "model/ops.h"
#include "muon/model.h"

/* ---- config ------------------------------------------------------------------------- */

mu_gpt_config_t mu_gpt_config_default(void) {
    mu_gpt_config_t c = {.n_layer = 6, .n_head = 8, .d_model = 256, .seq_len = 256, .vocab = 256,
                         .bias = 1, .tie = 0, .dropout = 0.0f, .param = MU_PARAM_SP, .base_width = 128,
                         .mup_init = MU_MUP_INIT_GAUSS, .alpha_in = 1.0f, .alpha_out = 1.0f, .alpha_attn = 0.0f,
                         .zero_query = 0, .zero_readout = 0};
    return c;
}

/* ---- parametrization (sp | mup) ------------------------------------------------------- */

static const char *const param_names[] = {"sp", "mup", NULL};
static const char *const init_names[] = {"gauss", "orthogonal", "table", NULL};

static int parse_enum(const char *s, const char *const *names, const char *what, int32_t *out) {
    MU_REQUIRE(out, "%s: out is NULL", what);
    for (int32_t i = 0; names[i]; i++)
        if (s && strcmp(s, names[i]) == 0) return *out = i, MU_OK;
    return mu_set_error(MU_EINVAL, "%s '%s': unknown (valid: %s, %s%s%s)", what, s ? s : "(null)", names[0],
                        names[1], names[2] ? ", " : "", names[2] ? names[2] : "");
}

int mu_gpt_param_parse(const char *s, int32_t *out) { return parse_enum(s, param_names, "model.param", out); }
int mu_gpt_mup_init_parse(const char *s, int32_t *out) { return parse_enum(s, init_names, "model.mup_init", out); }
const char *mu_gpt_param_name(int32_t p) { return p >= 0 && p <= 1 ? param_names[p] : "invalid"; }
const char *mu_gpt_mup_init_name(int32_t i) { return i >= 0 && i <= 2 ? init_names[i] : "invalid"; }

float mu_gpt_width_mult(const mu_gpt_config_t *c) {
    if (c->param != MU_PARAM_MUP) return 1.0f;
    return (float)c->d_model / (float)(c->base_width > 0 ? c->base_width : 128);
}

float mu_gpt_attn_scale(const mu_gpt_config_t *c) {
    float hs = (float)(c->d_model / c->n_head);
    if (c->param != MU_PARAM_MUP) return 1.0f / sqrtf(hs);
    /* μP: alpha_attn / d_head; the default alpha_attn = sqrt(d_head_base) = sqrt(d_head) */
    float a = c->alpha_attn > 0.0f ? c->alpha_attn : sqrtf(hs);
    return a / hs;
}

float mu_gpt_out_mult(const mu_gpt_config_t *c) {
    if (c->param != MU_PARAM_MUP) return 1.0f;
    return (c->alpha_out > 0.0f ? c->alpha_out : 1.0f) / mu_gpt_width_mult(c);
}

/* parameter count in double (no overflow for any int32 config) */
static double n_params_d(const mu_gpt_config_t *c, int exclude_wpe) {
    double L = c->n_layer, C = c->d_model, V = c->vocab, T = c->seq_len, bi = c->bias ? 1 : 0;
    double per_layer = 12.0 * C * C + bi * (3 * C + C + 4 * C + C) /* linear biases */ + (2 + 2 * bi) * C /* lns */;
    double n = V * C + (exclude_wpe ? 0 : T * C) + L * per_layer + (1 + bi) * C + (c->tie ? 0 : V * C);
    return n;
}

int mu_gpt_config_check(const mu_gpt_config_t *c) {
    MU_REQUIRE(c, "model config: NULL");
    MU_REQUIRE(c->n_layer >= 1 && c->n_layer <= 4096, "model config: n_layer = %d must be in [1, 4096]", c->n_layer);
    MU_REQUIRE(c->n_head >= 1, "model config: n_head = %d must be >= 1", c->n_head);
    MU_REQUIRE(c->d_model >= 1 && c->d_model <= 65536, "model config: d_model = %d must be in [1, 65536]",
               c->d_model);
    MU_REQUIRE(c->d_model % c->n_head == 0, "model config: d_model = %d is not divisible by n_head = %d", c->d_model,
               c->n_head);
    MU_REQUIRE(c->seq_len >= 1 && c->seq_len <= (1 << 20), "model config: seq_len = %d must be in [1, 1048576]",
               c->seq_len);
    MU_REQUIRE(c->vocab >= 2, "model config: vocab = %d must be in [2, 2^31)", c->vocab);
    MU_REQUIRE(c->bias == 0 || c->bias == 1, "model config: bias = %d must be 0 or 1", c->bias);
    MU_REQUIRE(c->tie == 0 || c->tie == 1, "model config: tie = %d must be 0 or 1", c->tie);
    MU_REQUIRE(c->dropout >= 0.0f && c->dropout < 1.0f, "model config: dropout = %g must be in [0, 1)",
               (double)c->dropout);
    MU_REQUIRE(c->param == MU_PARAM_SP || c->param == MU_PARAM_MUP, "model config: param = %d must be 0 (sp) or 1 (mup)",
               c->param);
    MU_REQUIRE(c->base_width >= 0 && c->base_width <= 65536, "model config: base_width = %d must be in [1, 65536]",
               c->base_width);
    MU_REQUIRE(c->mup_init >= 0 && c->mup_init <= 2, "model config: mup_init = %d must be 0 (gauss), 1 (orthogonal) "
               "or 2 (table)", c->mup_init);
    MU_REQUIRE(isfinite(c->alpha_in) && c->alpha_in >= 0.0f, "model config: alpha_in = %g must be finite and > 0",
               (double)c->alpha_in);
    MU_REQUIRE(isfinite(c->alpha_out) && c->alpha_out >= 0.0f, "model config: alpha_out = %g must be finite and > 0",
               (double)c->alpha_out);
    MU_REQUIRE(isfinite(c->alpha_attn) && c->alpha_attn >= 0.0f,
               "model config: alpha_attn = %g must be finite and > 0 (0: sqrt(d_head))", (double)c->alpha_attn);
    MU_REQUIRE(c->zero_query == 0 || c->zero_query == 1, "model config: zero_query = %d must be 0 or 1",
               c->zero_query);
    MU_REQUIRE(c->zero_readout == 0 || c->zero_readout == 1, "model config: zero_readout = %d must be 0 or 1",
               c->zero_readout);
    MU_REQUIRE(!(c->param == MU_PARAM_MUP && c->zero_readout && c->tie),
               "model config: zero_readout = 1 needs tie = 0 (a tied head would zero the token embedding)");
    double bytes = n_params_d(c, 0) * 4.0;
    MU_REQUIRE(bytes <= 64.0 * 1024 * 1024 * 1024,
               "model config: model too large (%.3g parameters = %.1f GiB of fp32 weights, limit 64 GiB)",
               bytes / 4.0, bytes / (1024.0 * 1024 * 1024));
    return MU_OK;
}

int64_t mu_gpt_config_n_params(const mu_gpt_config_t *c, int32_t exclude_wpe) {
    return (int64_t)n_params_d(c, exclude_wpe);
}

double mu_gpt_config_flops_per_token(const mu_gpt_config_t *c, int32_t T) {
    /* 6N for the matmuls (2 forward + 4 backward per weight per token) plus attention:
     * q k^T and att v are 2*T*C each forward per layer, doubled twice for backward -> 12 L C T */
    return 6.0 * n_params_d(c, 1) + 12.0 * c->n_layer * (double)c->d_model * T;
}

/* ---- registry ------------------------------------------------------------------------ */

typedef struct {
    mu_gpt_t *m;
    int32_t n;     /* records written (or counted) */
    int64_t off;   /* floats laid out */
} builder_t;

/* Append one record; returns a pointer into the parameter arena (NULL while counting). */
static float *add_param(builder_t *b, const char *name, int64_t rows, int64_t cols, int32_t ndim, mu_role_t role,
                        int64_t fan_in, int64_t fan_out, int32_t layer, int32_t n_split, int32_t n_head) {
    float *ptr = NULL;
    if (b->m->params) {
        mu_param_t *p = &b->m->params[b->n];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", name);
        p->ndim = ndim;
        p->shape[0] = rows;
        p->shape[1] = ndim == 2 ? cols : 1;
        p->numel = rows * p->shape[1];
        p->role = role;
        p->fan_in = fan_in;
        p->fan_out = fan_out;
        p->layer = layer;
        p->n_split = n_split;
        p->n_head = n_head;
        p->data = b->m->pdata + b->off;
        p->grad = b->m->pgrad + b->off;
        ptr = p->data;
    }
    b->n++;
    b->off += rows * (ndim == 2 ? cols : 1);
    return ptr;
}

/* Walks the registry in nanoGPT state-dict order; with m->params == NULL it only counts. */
static void build_registry(mu_gpt_t *m, builder_t *b) {
    const mu_gpt_config_t *c = &m->cfg;
    int64_t C = c->d_model, V = c->vocab, T = c->seq_len, H = c->n_head;
    char nm[MU_PARAM_NAME_MAX];
    memset(b, 0, sizeof *b);
    b->m = m;
    m->wte = add_param(b, "transformer.wte.weight", V, C, 2, MU_ROLE_EMBED, V, C, -1, 1, 0);
    m->wpe = add_param(b, "transformer.wpe.weight", T, C, 2, MU_ROLE_EMBED, T, C, -1, 1, 0);
    for (int32_t i = 0; i < c->n_layer; i++) {
        layer_t *w = m->params ? &m->lw[i] : &(layer_t){0};
        memset(w, 0, sizeof *w);
#define P(field, suffix, rows, cols, ndim, role, fi, fo, split, heads)                          \
    do {                                                                                       \
        snprintf(nm, sizeof nm, "transformer.h.%d.%s", i, suffix);                              \
        w->field = add_param(b, nm, rows, cols, ndim, role, fi, fo, i, split, heads);            \
    } while (0)
        P(ln1w, "ln_1.weight", C, 1, 1, MU_ROLE_GAIN, C, C, 1, 0);
        if (c->bias) P(ln1b, "ln_1.bias", C, 1, 1, MU_ROLE_BIAS, C, C, 1, 0);
        P(qkvw, "attn.c_attn.weight", 3 * C, C, 2, MU_ROLE_HIDDEN, C, 3 * C, 3, (int32_t)H);
        if (c->bias) P(qkvb, "attn.c_attn.bias", 3 * C, 1, 1, MU_ROLE_BIAS, C, 3 * C, 3, (int32_t)H);
        P(attpw, "attn.c_proj.weight", C, C, 2, MU_ROLE_HIDDEN, C, C, 1, (int32_t)H);
        if (c->bias) P(attpb, "attn.c_proj.bias", C, 1, 1, MU_ROLE_BIAS, C, C, 1, 0);
        P(ln2w, "ln_2.weight", C, 1, 1, MU_ROLE_GAIN, C, C, 1, 0);
        if (c->bias) P(ln2b, "ln_2.bias", C, 1, 1, MU_ROLE_BIAS, C, C, 1, 0);
        P(fcw, "mlp.c_fc.weight", 4 * C, C, 2, MU_ROLE_HIDDEN, C, 4 * C, 1, 0);
        if (c->bias) P(fcb, "mlp.c_fc.bias", 4 * C, 1, 1, MU_ROLE_BIAS, C, 4 * C, 1, 0);
        P(fcpw, "mlp.c_proj.weight", C, 4 * C, 2, MU_ROLE_HIDDEN, 4 * C, C, 1, 0);
        if (c->bias) P(fcpb, "mlp.c_proj.bias", C, 1, 1, MU_ROLE_BIAS, 4 * C, C, 1, 0);
#undef P
    }
    m->lnfw = add_param(b, "transformer.ln_f.weight", C, 1, 1, MU_ROLE_GAIN, C, C, -1, 1, 0);
    m->lnfb = c->bias ? add_param(b, "transformer.ln_f.bias", C, 1, 1, MU_ROLE_BIAS, C, C, -1, 1, 0) : NULL;
    if (c->tie) {
        m->head = m->wte;
        if (m->params) m->params[0].tied = 1;
    } else {
        m->head = add_param(b, "lm_head.weight", V, C, 2, MU_ROLE_HEAD, C, V, -1, 1, 0);
    }
}

/* ---- activation arena ---------------------------------------------------------------- */

/* Lays out (or with base == NULL counts) the activation arena; returns floats used. Each
 * buffer starts on a 64-byte boundary. */
static int64_t layout_acts(mu_gpt_t *m, float *base) {
    const mu_gpt_config_t *c = &m->cfg;
    int64_t N = (int64_t)m->max_batch * c->seq_len, C = c->d_model, V = c->vocab, L = c->n_layer;
    int64_t TT = (int64_t)c->seq_len * c->seq_len, BHTT = (int64_t)m->max_batch * c->n_head * TT;
    int64_t off = 0;
#define TAKE(ptr, count)                                     \
    do {                                                     \
        if (base) ptr = base + off;                          \
        off += ((int64_t)(count) + 15) & ~(int64_t)15;       \
    } while (0)
    float *dummy = NULL;
    for (int64_t l = 0; l < L; l++) {
        acts_t *a = base ? &m->la[l] : &(acts_t){0};
        TAKE(a->ln1, N * C);
        TAKE(a->ln1_mean, N);
        TAKE(a->ln1_rstd, N);
        TAKE(a->qkv, 3 * N * C);
        TAKE(a->att, BHTT);
        TAKE(a->atty, N * C);
        TAKE(a->res_mid, N * C);
        TAKE(a->ln2, N * C);
        TAKE(a->ln2_mean, N);
        TAKE(a->ln2_rstd, N);
        TAKE(a->fch, 4 * N * C);
        TAKE(a->fchg, 4 * N * C);
        TAKE(a->res_out, N * C);
    }
    TAKE(m->enc, N * C);
    TAKE(m->lnf, N * C);
    TAKE(m->lnf_mean, N);
    TAKE(m->lnf_rstd, N);
    TAKE(m->logits, N * V);
    TAKE(m->lse, N);
    TAKE(m->losses, N);
    TAKE(m->tmp_a, N * C);
    TAKE(m->tmp_b, N * C);
    TAKE(m->dres, N * C);
    TAKE(m->dqkv, 3 * N * C);
    TAKE(m->dbig, 4 * N * C);
    TAKE(m->datt, BHTT);
    TAKE(dummy, N); /* targets (int32, same size as float) */
    if (base) m->targets = (int32_t *)dummy;
    TAKE(dummy, N);
    if (base) m->inputs = (int32_t *)dummy;
#undef TAKE
    return off;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

void mu_gpt_free(mu_gpt_t *m) {
    if (!m) return;
    free(m->params);
    free(m->lw);
    free(m->la);
    free(m->pdata);
    free(m->pgrad);
    free(m->adata);
    free(m->att_rows);
    free(m);
}

int mu_gpt_record_module_stats(mu_gpt_t *m, int32_t on) {
    MU_REQUIRE(m, "mu_gpt_record_module_stats: model is NULL");
    MU_REQUIRE(on == 0 || on == 1, "mu_gpt_record_module_stats: on is %d, expected 0 or 1", (int)on);
    if (on && !m->att_rows) {
        const mu_gpt_config_t *c = &m->cfg;
        size_t n = (size_t)c->n_layer * (size_t)m->max_batch * (size_t)c->n_head * (size_t)c->seq_len * 4;
        m->att_rows = malloc(n * sizeof *m->att_rows);
        if (!m->att_rows)
            return mu_set_error(MU_ENOMEM, "mu_gpt_record_module_stats: cannot allocate %zu bytes", n * sizeof(double));
    }
    m->record_att = on;
    m->att_valid = 0;
    return MU_OK;
}

int mu_gpt_init(mu_gpt_t **out, const mu_gpt_config_t *cfg, int32_t max_batch, mu_gemm_ctx_t *gemm) {
    MU_REQUIRE(out, "mu_gpt_init: out is NULL");
    *out = NULL;
    MU_TRY(mu_gpt_config_check(cfg));
    MU_REQUIRE(gemm, "mu_gpt_init: gemm context is NULL");
    MU_REQUIRE(max_batch >= 1, "mu_gpt_init: max_batch = %d must be >= 1", max_batch);
    /* activation size check before any arithmetic can overflow */
    double N = (double)max_batch * cfg->seq_len;
    double act = (double)cfg->n_layer * (N * cfg->d_model * 16.0 + (double)max_batch * cfg->n_head *
                                                                       (double)cfg->seq_len * cfg->seq_len) +
                 N * cfg->vocab;
    MU_REQUIRE(act * 4.0 < 256.0 * 1024 * 1024 * 1024,
               "mu_gpt_init: activations for max_batch = %d, seq_len = %d need %.1f GiB; lower max_batch or seq_len",
               max_batch, cfg->seq_len, act * 4.0 / (1024.0 * 1024 * 1024));

    mu_gpt_t *m = calloc(1, sizeof *m);
    if (!m) return mu_set_error(MU_ENOMEM, "mu_gpt_init: out of memory");
    m->cfg = *cfg;
    m->max_batch = max_batch;
    m->gemm = gemm;
    builder_t b;
    build_registry(m, &b); /* count */
    m->n_params = b.n;
    m->numel = b.off;
    m->params = calloc((size_t)b.n, sizeof *m->params);
    m->lw = calloc((size_t)cfg->n_layer, sizeof *m->lw);
    m->la = calloc((size_t)cfg->n_layer, sizeof *m->la);
    m->pdata = mu_alloc((size_t)m->numel * sizeof(float));
    m->pgrad = mu_alloc((size_t)m->numel * sizeof(float));
    int64_t afloats = layout_acts(m, NULL);
    m->abytes = (size_t)afloats * sizeof(float);
    m->adata = mu_alloc(m->abytes);
    if (!m->params || !m->lw || !m->la || !m->pdata || !m->pgrad || !m->adata) {
        size_t need = (size_t)m->numel * 8 + m->abytes;
        mu_gpt_free(m);
        return mu_set_error(MU_ENOMEM, "mu_gpt_init: cannot allocate %.2f GiB for parameters, gradients and "
                                       "activations (max_batch = %d, seq_len = %d)",
                            (double)need / (1024.0 * 1024 * 1024), max_batch, cfg->seq_len);
    }
    build_registry(m, &b);
    layout_acts(m, m->adata);
    *out = m;
    return MU_OK;
}

const mu_gpt_config_t *mu_gpt_config(const mu_gpt_t *m) { return &m->cfg; }
int32_t mu_gpt_n_params(const mu_gpt_t *m) { return m->n_params; }
mu_param_t *mu_gpt_params(mu_gpt_t *m) { return m->params; }
int64_t mu_gpt_numel(const mu_gpt_t *m) { return m->numel; }
size_t mu_gpt_activation_bytes(const mu_gpt_t *m) { return m->abytes; }
const float *mu_gpt_logits(const mu_gpt_t *m) { return m->logits; }

mu_param_t *mu_gpt_param_by_name(mu_gpt_t *m, const char *name) {
    if (!m || !name) return NULL;
    for (int32_t i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
    return NULL;
}

void mu_gpt_zero_grad(mu_gpt_t *m) { memset(m->pgrad, 0, (size_t)m->numel * sizeof(float)); }

void mu_gpt_set_train(mu_gpt_t *m, int32_t training, uint64_t seed, uint64_t step, uint64_t micro) {
    m->training = training ? 1 : 0;
    m->seed = seed;
    m->step = step;
    m->micro = micro;
}

/* GPT-2 init: every tensor from its own stream mu_rng_at(seed, index, 0, 0), so one tensor's
 * values do not depend on the others. Matrices and embeddings N(0, 0.02); both c_proj
 * weights N(0, 0.02/sqrt(2L)) (the residual-path scaling of GPT-2); gains 1; biases 0. */
int mu_gpt_init_weights(mu_gpt_t *m, uint64_t seed) {
    MU_REQUIRE(m, "mu_gpt_init_weights: model is NULL");
    if (m->cfg.param == MU_PARAM_MUP) return mu_gpt_mup_init_params(m->params, m->n_params, &m->cfg, seed);
    float proj_std = 0.02f / sqrtf(2.0f * (float)m->cfg.n_layer);
    for (int32_t i = 0; i < m->n_params; i++) {
        mu_param_t *p = &m->params[i];
        if (p->role == MU_ROLE_GAIN) {
            for (int64_t j = 0; j < p->numel; j++) p->data[j] = 1.0f;
        } else if (p->role == MU_ROLE_BIAS) {
            memset(p->data, 0, (size_t)p->numel * sizeof(float));
        } else {
            size_t len = strlen(p->name);
            float std = len > 14 && strcmp(p->name + len - 14, ".c_proj.weight") == 0 ? proj_std : 0.02f;
            mu_rng_t r;
            mu_rng_at(&r, seed, (uint64_t)i, 0, 0);
            for (int64_t j = 0; j < p->numel; j++) p->data[j] = std * mu_rng_normal(&r);
        }
    }
    return MU_OK;
}

/* ---- forward ------------------------------------------------------------------------- */

/* μP embedding multiplier alpha_in (1 under SP) */
static float in_mult(const mu_gpt_config_t *c) {
    if (c->param != MU_PARAM_MUP) return 1.0f;
    return c->alpha_in > 0.0f ? c->alpha_in : 1.0f;
}

/* x (n) *= a, threaded for large n */
static void scale_rows(float *x, int64_t n, float a) {
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (int64_t i = 0; i < n; i++) x[i] *= a;
}

static mu_dropout_t dropout_at(const mu_gpt_t *m, uint32_t site) {
    mu_dropout_t d = {.p = m->training ? m->cfg.dropout : 0.0f,
                      .seed = m->seed, .step = m->step, .micro = m->micro, .site = site};
    return d;
}
/* dropout sites: 0 embeddings, 1 + 2l attention output of block l, 2 + 2l MLP output */
#define SITE_ATTN(l) (1u + 2u * (uint32_t)(l))
#define SITE_MLP(l) (2u + 2u * (uint32_t)(l))

int mu_gpt_forward(mu_gpt_t *m, const int32_t *x, const int32_t *y, int32_t B, int32_t T, float *loss) {
    MU_REQUIRE(m && x, "mu_gpt_forward: model or inputs NULL");
    const mu_gpt_config_t *c = &m->cfg;
    MU_REQUIRE(B >= 1 && B <= m->max_batch, "mu_gpt_forward: batch B = %d must be in [1, max_batch = %d]", B,
               m->max_batch);
    MU_REQUIRE(T >= 1 && T <= c->seq_len, "mu_gpt_forward: sequence length T = %d must be in [1, seq_len = %d]", T,
               c->seq_len);
    int64_t N = (int64_t)B * T, C = c->d_model, V = c->vocab, H = c->n_head;
    for (int64_t i = 0; i < N; i++) {
        MU_REQUIRE(x[i] >= 0 && x[i] < c->vocab,
                   "mu_gpt_forward: input token id %d at position %lld (b=%lld, t=%lld) is outside [0, vocab = %d)",
                   x[i], (long long)i, (long long)(i / T), (long long)(i % T), c->vocab);
        if (y)
            MU_REQUIRE(y[i] >= 0 && y[i] < c->vocab,
                       "mu_gpt_forward: target token id %d at position %lld (b=%lld, t=%lld) is outside [0, vocab = "
                       "%d)",
                       y[i], (long long)i, (long long)(i / T), (long long)(i % T), c->vocab);
    }
    m->have_targets = 0;
    m->acts_valid = 0;
    m->att_valid = 0;
    m->B = B;
    m->T = T;
    memcpy(m->inputs, x, (size_t)N * sizeof(int32_t));
    mu_gemm_ctx_t *g = m->gemm;

    mu_dropout_t d0 = dropout_at(m, 0);
    mu_op_encoder_fwd(m->enc, x, m->wte, m->wpe, B, T, C, &d0);
    /* μP: x0 = alpha_in (wte[x] + wpe[t]) (after dropout: the same, dropout is linear) */
    float a_in = in_mult(c);
    if (a_in != 1.0f) scale_rows(m->enc, N * C, a_in);
    const float a_attn = mu_gpt_attn_scale(c);
    const float *res = m->enc;
    for (int32_t l = 0; l < c->n_layer; l++) {
        layer_t *w = &m->lw[l];
        acts_t *a = &m->la[l];
        /* attention half */
        mu_op_layernorm_fwd(a->ln1, a->ln1_mean, a->ln1_rstd, res, w->ln1w, w->ln1b, N, C);
        MU_TRY(mu_op_linear_fwd(g, a->qkv, a->ln1, w->qkvw, N, C, 3 * C));
        if (w->qkvb) mu_op_bias_add(a->qkv, w->qkvb, N, 3 * C);
        double *rows = m->record_att ? mu_gpt_att_rows(m, l) : NULL;
        MU_TRY(mu_op_attention_fwd_s(g, a->atty, a->att, a->qkv, B, T, C, H, 0, a_attn, rows));
        MU_TRY(mu_op_linear_fwd(g, m->tmp_a, a->atty, w->attpw, N, C, C));
        mu_dropout_t da = dropout_at(m, SITE_ATTN(l));
        mu_op_residual_fwd(a->res_mid, res, m->tmp_a, w->attpb, N, C, &da);
        /* MLP half */
        mu_op_layernorm_fwd(a->ln2, a->ln2_mean, a->ln2_rstd, a->res_mid, w->ln2w, w->ln2b, N, C);
        MU_TRY(mu_op_linear_fwd(g, a->fch, a->ln2, w->fcw, N, C, 4 * C));
        mu_op_gelu_fwd(a->fchg, a->fch, w->fcb, N, 4 * C);
        MU_TRY(mu_op_linear_fwd(g, m->tmp_a, a->fchg, w->fcpw, N, 4 * C, C));
        mu_dropout_t dm = dropout_at(m, SITE_MLP(l));
        mu_op_residual_fwd(a->res_out, a->res_mid, m->tmp_a, w->fcpb, N, C, &dm);
        res = a->res_out;
    }
    mu_op_layernorm_fwd(m->lnf, m->lnf_mean, m->lnf_rstd, res, m->lnfw, m->lnfb, N, C);
    MU_TRY(mu_op_linear_fwd(g, m->logits, m->lnf, m->head, N, C, V));
    /* μP: logits = (alpha_out / m) ln_f(x) W_head^T */
    float k_out = mu_gpt_out_mult(c);
    if (k_out != 1.0f) scale_rows(m->logits, N * V, k_out);
    if (y) {
        double mean = mu_op_xent_fwd(m->lse, m->losses, m->logits, y, N, V);
        memcpy(m->targets, y, (size_t)N * sizeof(int32_t));
        m->have_targets = 1;
        if (loss) *loss = (float)mean;
    } else if (loss) {
        *loss = NAN;
    }
    m->acts_valid = 1;
    m->att_valid = m->record_att;
    return MU_OK;
}

/* ---- backward ------------------------------------------------------------------------ */

#define GRAD(m, p) ((p) ? (m)->pgrad + ((p) - (m)->pdata) : NULL)

int mu_gpt_backward(mu_gpt_t *m, float grad_scale) {
    MU_REQUIRE(m, "mu_gpt_backward: model is NULL");
    MU_REQUIRE(m->have_targets,
               "mu_gpt_backward: the last mu_gpt_forward had no targets (y == NULL) or its backward already ran");
    const mu_gpt_config_t *c = &m->cfg;
    int64_t B = m->B, T = m->T, N = B * T, C = c->d_model, V = c->vocab, H = c->n_head;
    mu_gemm_ctx_t *g = m->gemm;
    m->have_targets = 0; /* the logits buffer becomes dlogits below */
    m->acts_valid = 0;

    /* loss = mean over N rows: dlogits = grad_scale / N * (softmax - onehot), in place */
    mu_op_xent_bwd(m->logits, m->logits, m->lse, m->targets, N, V, grad_scale / (float)N);
    /* μP: d(ln_f x W^T) = (alpha_out/m) dlogits, so both dlnf and dW_head carry the factor */
    float k_out = mu_gpt_out_mult(c);
    if (k_out != 1.0f) scale_rows(m->logits, N * V, k_out);
    const float a_attn = mu_gpt_attn_scale(c);
    const float *res_last = c->n_layer ? m->la[c->n_layer - 1].res_out : m->enc;
    /* head: dlnf = dlogits W_head; dW_head += dlogits^T lnf (into wte's gradient when tied) */
    MU_TRY(mu_op_linear_bwd(g, m->tmp_b, GRAD(m, m->head), NULL, m->logits, m->lnf, m->head, N, C, V, 0.0f));
    memset(m->dres, 0, (size_t)(N * C) * sizeof(float));
    mu_op_layernorm_bwd(m->dres, GRAD(m, m->lnfw), GRAD(m, m->lnfb), m->tmp_b, res_last, m->lnfw, m->lnf_mean,
                        m->lnf_rstd, N, C);

    for (int32_t l = c->n_layer - 1; l >= 0; l--) {
        layer_t *w = &m->lw[l];
        acts_t *a = &m->la[l];
        const float *res_in = l ? m->la[l - 1].res_out : m->enc;
        /* MLP half: dres holds d(res_out) */
        mu_dropout_t dm = dropout_at(m, SITE_MLP(l));
        const float *dproj = m->dres;
        if (dm.p > 0.0f) {
            mu_op_dropout_copy(m->tmp_a, m->dres, N, C, &dm);
            dproj = m->tmp_a;
        }
        MU_TRY(mu_op_linear_bwd(g, m->dbig, GRAD(m, w->fcpw), GRAD(m, w->fcpb), dproj, a->fchg, w->fcpw, N, 4 * C,
                                C, 0.0f));
        mu_op_gelu_bwd(m->dbig, m->dbig, a->fch, N * 4 * C);
        MU_TRY(mu_op_linear_bwd(g, m->tmp_b, GRAD(m, w->fcw), GRAD(m, w->fcb), m->dbig, a->ln2, w->fcw, N, C, 4 * C,
                                0.0f));
        mu_op_layernorm_bwd(m->dres, GRAD(m, w->ln2w), GRAD(m, w->ln2b), m->tmp_b, a->res_mid, w->ln2w, a->ln2_mean,
                            a->ln2_rstd, N, C);
        /* attention half: dres holds d(res_mid) */
        mu_dropout_t da = dropout_at(m, SITE_ATTN(l));
        dproj = m->dres;
        if (da.p > 0.0f) {
            mu_op_dropout_copy(m->tmp_a, m->dres, N, C, &da);
            dproj = m->tmp_a;
        }
        MU_TRY(mu_op_linear_bwd(g, m->tmp_b, GRAD(m, w->attpw), GRAD(m, w->attpb), dproj, a->atty, w->attpw, N, C, C,
                                0.0f));
        MU_TRY(mu_op_attention_bwd_s(g, m->dqkv, m->datt, m->tmp_b, a->qkv, a->att, B, T, C, H, 0, a_attn));
        MU_TRY(mu_op_linear_bwd(g, m->tmp_b, GRAD(m, w->qkvw), GRAD(m, w->qkvb), m->dqkv, a->ln1, w->qkvw, N, C,
                                3 * C, 0.0f));
        mu_op_layernorm_bwd(m->dres, GRAD(m, w->ln1w), GRAD(m, w->ln1b), m->tmp_b, res_in, w->ln1w, a->ln1_mean,
                            a->ln1_rstd, N, C);
    }
    /* embeddings: x0 = drop(wte[x] + wpe[t]) */
    mu_dropout_t d0 = dropout_at(m, 0);
    mu_op_dropout(m->dres, N, C, &d0);
    float a_in = in_mult(c);
    if (a_in != 1.0f) scale_rows(m->dres, N * C, a_in);
    mu_op_encoder_bwd(GRAD(m, m->wte), GRAD(m, m->wpe), m->dres, m->inputs, B, T, C);
    return MU_OK;
}
