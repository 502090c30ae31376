/* coordcheck.c — the coordinate check (microsoft/mup; spec mup-and-muonpp.md §5).
 *
 * Why it works: under μP every module output has Θ(1) coordinates at every step, so its
 * l1 = mean |x| is the same at every width; under SP the hidden products sum d_in terms of
 * correlated size and grow (at init ∝ sqrt(width) or more; after one Adam step ∝ width).
 * Protocol per (parametrization, width, seed): fresh weights and optimizer state, then for
 * t = 1 .. n_steps on the same batch: forward, record the module stats (step t's forward,
 * before its update), backward, update (the last t records only). LR factor 1 (no warmup,
 * no schedule) and no gradient clipping: the optimizer as configured, nothing else. */
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "muon/coordcheck.h"

static const int32_t default_widths[] = {64, 128, 256, 512, 1024};

mu_coordcheck_config_t mu_coordcheck_config_default(void) {
    mu_coordcheck_config_t c;
    memset(&c, 0, sizeof c);
    c.widths = default_widths;
    c.n_widths = (int32_t)(sizeof default_widths / sizeof default_widths[0]);
    c.d_head = 32;
    c.n_layer = 2;
    c.seq_len = 128;
    c.batch = 16;
    c.vocab = 256;
    c.bias = 1;
    c.base_width = 128;
    c.zero_readout = 1;
    c.n_seeds = 5;
    c.seed = 1;
    c.n_steps = 3;
    if (mu_optim_config_for_preset("adamw", &c.optim) != MU_OK) c.optim = mu_optim_config_default();
    c.optim.lr = 1e-2f; /* 10x the preset's 1e-3: "a fairly large LR" */
    return c;
}

int mu_coordcheck_config_check(const mu_coordcheck_config_t *c) {
    MU_REQUIRE(c, "coordcheck: config is NULL");
    MU_REQUIRE(c->widths && c->n_widths >= 2 && c->n_widths <= MU_CC_MAX_WIDTHS,
               "coordcheck: need 2 to %d widths (got %d)", MU_CC_MAX_WIDTHS, c->n_widths);
    MU_REQUIRE(c->d_head >= 1, "coordcheck: d_head = %d must be >= 1", c->d_head);
    for (int32_t i = 0; i < c->n_widths; i++) {
        MU_REQUIRE(c->widths[i] >= c->d_head && c->widths[i] % c->d_head == 0,
                   "coordcheck: width %d is not a positive multiple of d_head = %d", c->widths[i], c->d_head);
        MU_REQUIRE(i == 0 || c->widths[i] > c->widths[i - 1], "coordcheck: widths must be ascending and distinct "
                   "(%d after %d)", c->widths[i], i ? c->widths[i - 1] : 0);
    }
    MU_REQUIRE(c->n_layer >= 1 && c->n_layer <= 64, "coordcheck: n_layer = %d must be in [1, 64]", c->n_layer);
    MU_REQUIRE(c->seq_len >= 1 && c->batch >= 1, "coordcheck: seq_len = %d and batch = %d must be >= 1", c->seq_len,
               c->batch);
    MU_REQUIRE(c->vocab >= 2, "coordcheck: vocab = %d must be >= 2", c->vocab);
    MU_REQUIRE(c->n_seeds >= 1 && c->n_seeds <= 1000, "coordcheck: n_seeds = %d must be in [1, 1000]", c->n_seeds);
    MU_REQUIRE(c->n_steps >= 1 && c->n_steps <= 100, "coordcheck: n_steps = %d must be in [1, 100]", c->n_steps);
    MU_REQUIRE(c->base_width >= 1, "coordcheck: base_width = %d must be >= 1", c->base_width);
    MU_REQUIRE(c->optim.preset, "coordcheck: no optimizer preset");
    return MU_OK;
}

size_t mu_coordcheck_at(const mu_coordcheck_result_t *r, int32_t param, int32_t wi, int32_t t, int32_t mod) {
    return (((size_t)param * (size_t)r->n_widths + (size_t)wi) * (size_t)r->n_steps + (size_t)(t - 1)) *
               (size_t)r->n_modules + (size_t)mod;
}

void mu_coordcheck_result_free(mu_coordcheck_result_t *r) {
    if (!r) return;
    free(r->module);
    free(r->l1);
    free(r->l1_sd);
    free(r->rms);
    free(r->max);
    free(r->loss);
    memset(r, 0, sizeof *r);
}

static mu_gpt_config_t model_config(const mu_coordcheck_config_t *c, int32_t param, int32_t width) {
    mu_gpt_config_t g = mu_gpt_config_default();
    g.n_layer = c->n_layer;
    g.n_head = width / c->d_head; /* the head size stays fixed; heads grow with width */
    g.d_model = width;
    g.seq_len = c->seq_len;
    g.vocab = c->vocab;
    g.bias = c->bias;
    g.tie = 0; /* untied under both, so a zero readout does not zero the embedding */
    g.dropout = 0.0f;
    g.param = param;
    g.base_width = c->base_width;
    g.zero_readout = c->zero_readout;
    return g;
}

/* One (param, width, seed) run: record l1/rms/max of every module at t = 1..n_steps into
 * the per-seed slice acc[(t-1) * n_mod + k] (4 arrays), the loss into loss[t-1]. */
static int one_run(const mu_coordcheck_config_t *c, mu_gpt_t *m, mu_gemm_ctx_t *gemm, int32_t param,
                   uint64_t seed, const int32_t *x, const int32_t *y, mu_gpt_module_stat_t *st, int32_t n_mod,
                   double *l1, double *rms, double *mx, double *loss) {
    const mu_gpt_config_t *g = mu_gpt_config(m);
    MU_TRY(mu_gpt_init_weights(m, seed));
    if (c->zero_readout && param == MU_PARAM_SP) { /* μP zeroes it in its init; SP does here */
        mu_param_t *h = mu_gpt_param_by_name(m, "lm_head.weight");
        MU_REQUIRE(h, "coordcheck: the model has no lm_head.weight");
        memset(h->data, 0, (size_t)h->numel * sizeof(float));
    }
    MU_TRY(mu_gpt_record_module_stats(m, 1)); /* the forward records the attention-logit rows */
    mu_optim_config_t oc = c->optim;
    oc.param = param;
    oc.width_mult = mu_gpt_width_mult(g);
    mu_optim_t *o = NULL;
    MU_TRY(mu_optim_init(&o, &oc, mu_gpt_params(m), mu_gpt_n_params(m), gemm));
    int rc = MU_OK;
    for (int32_t t = 1; t <= c->n_steps && rc == MU_OK; t++) {
        float lo = NAN;
        int32_t n = 0;
        mu_gpt_zero_grad(m);
        if ((rc = mu_gpt_forward(m, x, y, c->batch, c->seq_len, &lo)) != MU_OK) break;
        if ((rc = mu_gpt_module_stats(m, st, n_mod, &n)) != MU_OK) break;
        for (int32_t k = 0; k < n_mod; k++) {
            size_t i = (size_t)(t - 1) * (size_t)n_mod + (size_t)k;
            l1[i] = st[k].l1;
            rms[i] = st[k].rms;
            mx[i] = st[k].max;
        }
        loss[t - 1] = lo;
        if (t == c->n_steps) break; /* the last step is only recorded */
        if ((rc = mu_gpt_backward(m, 1.0f)) != MU_OK) break;
        rc = mu_optim_step(o, 1.0f);
    }
    mu_optim_free(o);
    return rc;
}

int mu_coordcheck_run(const mu_coordcheck_config_t *c, const int32_t *x, const int32_t *y, mu_gemm_ctx_t *gemm,
                      mu_coordcheck_progress_fn cb, void *user, mu_coordcheck_result_t *out) {
    MU_REQUIRE(out, "mu_coordcheck_run: out is NULL");
    memset(out, 0, sizeof *out);
    MU_TRY(mu_coordcheck_config_check(c));
    MU_REQUIRE(x && y && gemm, "mu_coordcheck_run: x, y or gemm is NULL");
    int32_t n_mod = 3 + 4 * c->n_layer, S = c->n_steps, W = c->n_widths, P = 2;
    size_t n_all = (size_t)P * (size_t)W * (size_t)S * (size_t)n_mod, per_seed = (size_t)S * (size_t)n_mod;
    out->n_widths = W;
    out->n_steps = S;
    out->n_modules = n_mod;
    out->n_seeds = c->n_seeds;
    memcpy(out->widths, c->widths, (size_t)W * sizeof(int32_t));
    out->module = calloc((size_t)n_mod, sizeof *out->module);
    out->l1 = calloc(n_all, sizeof(double));
    out->l1_sd = calloc(n_all, sizeof(double));
    out->rms = calloc(n_all, sizeof(double));
    out->max = calloc(n_all, sizeof(double));
    out->loss = calloc((size_t)P * (size_t)W * (size_t)S, sizeof(double));
    /* per-seed records: l1, rms, max, loss for every seed of one (param, width) */
    size_t ns = (size_t)c->n_seeds;
    double *sl1 = calloc(ns * per_seed, sizeof(double)), *srms = calloc(ns * per_seed, sizeof(double));
    double *smax = calloc(ns * per_seed, sizeof(double)), *sloss = calloc(ns * (size_t)S, sizeof(double));
    mu_gpt_module_stat_t *st = calloc((size_t)n_mod, sizeof *st);
    int rc = MU_OK;
    if (!out->module || !out->l1 || !out->l1_sd || !out->rms || !out->max || !out->loss || !sl1 || !srms || !smax ||
        !sloss || !st) {
        rc = mu_set_error(MU_ENOMEM, "mu_coordcheck_run: out of memory for the result tables");
        goto done;
    }
    double t0 = mu_time_s();
    for (int32_t p = 0; p < P && rc == MU_OK; p++)
        for (int32_t wi = 0; wi < W && rc == MU_OK; wi++) {
            mu_gpt_config_t g = model_config(c, p, c->widths[wi]);
            mu_gpt_t *m = NULL;
            if ((rc = mu_gpt_init(&m, &g, c->batch, gemm)) != MU_OK) break;
            if (mu_gpt_n_module_stats(m) != n_mod) {
                mu_gpt_free(m);
                rc = mu_set_error(MU_EINVAL, "coordcheck: model reports %d modules, expected %d",
                                  mu_gpt_n_module_stats(m), n_mod);
                break;
            }
            for (int32_t s = 0; s < c->n_seeds && rc == MU_OK; s++) {
                double ts = mu_time_s();
                rc = one_run(c, m, gemm, p, c->seed + (uint64_t)s, x, y, st, n_mod, sl1 + s * per_seed,
                             srms + s * per_seed, smax + s * per_seed, sloss + (size_t)s * (size_t)S);
                if (rc != MU_OK) {
                    char msg[512];
                    snprintf(msg, sizeof msg, "%s", mu_last_error());
                    rc = mu_set_error(rc, "coordcheck %s width %d seed %llu: %s", mu_gpt_param_name(p),
                                      c->widths[wi], (unsigned long long)(c->seed + (uint64_t)s), msg);
                    break;
                }
                if (wi == 0 && p == 0 && s == 0)
                    for (int32_t k = 0; k < n_mod; k++)
                        snprintf(out->module[k], sizeof out->module[k], "%s", st[k].name);
                if (cb) {
                    char line[256];
                    int len = snprintf(line, sizeof line, "%-3s width %5d seed %llu/%d  loss", mu_gpt_param_name(p),
                                       c->widths[wi], (unsigned long long)(s + 1), c->n_seeds);
                    for (int32_t t = 0; t < S && len > 0 && len < (int)sizeof line; t++)
                        len += snprintf(line + len, sizeof line - (size_t)len, " %.4f", sloss[(size_t)s * S + t]);
                    if (len > 0 && len < (int)sizeof line)
                        snprintf(line + len, sizeof line - (size_t)len, "  (%.1f s)", mu_time_s() - ts);
                    cb(line, user);
                }
            }
            mu_gpt_free(m);
            if (rc != MU_OK) break;
            /* seed means (and the sample sd of l1) */
            for (size_t i = 0; i < per_seed; i++) {
                double a = 0.0, r = 0.0, mxs = 0.0, sd = 0.0;
                for (size_t s = 0; s < ns; s++) {
                    a += sl1[s * per_seed + i];
                    r += srms[s * per_seed + i];
                    mxs += smax[s * per_seed + i];
                }
                a /= (double)ns;
                for (size_t s = 0; s < ns; s++) sd += (sl1[s * per_seed + i] - a) * (sl1[s * per_seed + i] - a);
                size_t o = mu_coordcheck_at(out, p, wi, (int32_t)(i / (size_t)n_mod) + 1, (int32_t)(i % (size_t)n_mod));
                out->l1[o] = a;
                out->l1_sd[o] = ns > 1 ? sqrt(sd / (double)(ns - 1)) : 0.0;
                out->rms[o] = r / (double)ns;
                out->max[o] = mxs / (double)ns;
            }
            for (int32_t t = 0; t < S; t++) {
                double a = 0.0;
                for (size_t s = 0; s < ns; s++) a += sloss[s * (size_t)S + (size_t)t];
                out->loss[((size_t)p * (size_t)W + (size_t)wi) * (size_t)S + (size_t)t] = a / (double)ns;
            }
        }
    out->elapsed_s = mu_time_s() - t0;
done:
    free(sl1);
    free(srms);
    free(smax);
    free(sloss);
    free(st);
    if (rc != MU_OK) mu_coordcheck_result_free(out);
    return rc;
}

/* ---- the pass rule ---- */

int32_t mu_coordcheck_module_rule(const char *module) {
    size_t n = module ? strlen(module) : 0, k = strlen("attn_logits");
    return n >= k && strcmp(module + n - k, "attn_logits") == 0 ? MU_CC_RULE_SLOPE : MU_CC_RULE_RATIO;
}

int mu_coordcheck_judge(const int32_t *widths, const double *l1, int32_t n, int32_t min_width, int32_t rule,
                        mu_cc_verdict_t *out) {
    MU_REQUIRE(out, "mu_coordcheck_judge: out is NULL");
    memset(out, 0, sizeof *out);
    MU_REQUIRE(widths && l1 && n >= 1 && n <= MU_CC_MAX_WIDTHS, "mu_coordcheck_judge: need 1 to %d widths (got %d)",
               MU_CC_MAX_WIDTHS, n);
    MU_REQUIRE(rule == MU_CC_RULE_RATIO || rule == MU_CC_RULE_SLOPE, "mu_coordcheck_judge: rule = %d is not "
               "ratio (0) or slope (1)", rule);
    out->pass = 1;
    out->worst = 1.0;
    double worst_dist = -1.0;
    for (int32_t i = 0; i < n; i++) {
        if (widths[i] < min_width) continue;
        int32_t j = -1;
        for (int32_t k = 0; k < n; k++)
            if ((int64_t)widths[k] == 4 * (int64_t)widths[i]) j = k;
        if (j < 0) continue;
        double a = l1[i], b = l1[j], r;
        int32_t ok;
        if (a == 0.0 && b == 0.0) { /* identically zero at both widths (a zero readout at t = 1) */
            r = 1.0;
            ok = 1;
        } else {
            r = b / a; /* 0, inf or NaN when one side is zero or non-finite: fails below */
            double lr = log2(r);
            ok = isfinite(r) && r > 0.0 &&
                 (rule == MU_CC_RULE_SLOPE ? fabs(lr) <= 0.5 : (r > 1.0 / 1.2 && r < 1.2));
        }
        int32_t q = out->n_pairs++;
        out->w[q] = widths[i];
        out->ratio[q] = r;
        out->ok[q] = ok;
        if (!ok) out->pass = 0;
        double dist = isfinite(r) && r > 0.0 ? fabs(log(r)) : INFINITY;
        if (dist > worst_dist) worst_dist = dist, out->worst = r;
    }
    if (out->n_pairs == 0) {
        out->pass = 0;
        return mu_set_error(MU_EINVAL, "mu_coordcheck_judge: no width pair (w, 4w) with w >= %d among the %d widths",
                            min_width, n);
    }
    return MU_OK;
}
