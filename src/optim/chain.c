/* chain.c — runs a chain of transforms on one tensor; the transform registry;
 * hyperparameter validation and printing shared by every transform; the chain-level
 * behaviours of transform.h (fusion, group links, replay, LR scaling) and their checks. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "base/util.h"
#include "optim/transform.h"

size_t mu_str_append(char *buf, size_t cap, size_t len, const char *fmt, ...) {
    if (len >= cap) return len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    if (n < 0) return len;
    len += (size_t)n;
    return len < cap ? len : cap - 1;
}

int mu_tstep_key(const mu_tstep_t *s, const char *key) {
    for (int i = 0; i < s->tr->n_keys; i++)
        if (strcmp(s->tr->keys[i].key, key) == 0) return i;
    return -1;
}

void mu_tstep_defaults(mu_tstep_t *s, const mu_transform_t *tr) {
    memset(s, 0, sizeof *s);
    s->tr = tr;
    for (int i = 0; i < tr->n_keys; i++) s->hp[i] = tr->keys[i].def;
}

int mu_tstep_set(mu_tstep_t *s, const char *key, float v, const char *ctx) {
    int k = mu_tstep_key(s, key);
    if (k < 0) {
        char keys[256] = "";
        size_t len = 0;
        for (int i = 0; i < s->tr->n_keys; i++)
            len = mu_str_append(keys, sizeof keys, len, "%s%s", i ? ", " : "", s->tr->keys[i].key);
        return mu_set_error(MU_EINVAL, "%s.%s: unknown key of transform '%s' (keys: %s)", ctx, key,
                            s->tr->name, s->tr->n_keys ? keys : "none");
    }
    const mu_hp_desc_t *d = &s->tr->keys[k];
    if (!isfinite(v)) return mu_set_error(MU_EINVAL, "%s.%s = %g: must be finite", ctx, key, (double)v);
    if (d->type != MU_HP_FLOAT && v != floorf(v))
        return mu_set_error(MU_EINVAL, "%s.%s = %g: must be a whole number", ctx, key, (double)v);
    int bad = v < d->lo || (d->hi_open ? v >= d->hi : v > d->hi);
    if (bad)
        return mu_set_error(MU_EINVAL, "%s.%s = %g: must be in [%g, %g%s", ctx, key, (double)v,
                            (double)d->lo, (double)d->hi, d->hi_open ? ")" : "]");
    s->hp[k] = v;
    return MU_OK;
}

/* ---- fusion: a link may stand in for the links right after it (transform `fuses`) ---- */

int mu_chain_fused(const mu_tstep_t *links, int32_t n, int32_t i) {
    for (int32_t j = 0; j < i && j < n; j++)
        if (links[j].tr->fuses && !mu_chain_fused(links, n, j) && j + links[j].tr->fuses(&links[j]) >= i) return 1;
    return 0;
}

size_t mu_chain_link_state_size(const mu_tstep_t *links, int32_t n, int32_t i, const mu_param_t *p) {
    const mu_tstep_t *s = &links[i];
    if (!s->tr->state_size || mu_chain_fused(links, n, i)) return 0;
    return s->tr->state_size(s, p);
}

float *mu_chain_link_state(const mu_tstep_t *links, int32_t n, int32_t i, float *state, const mu_param_t *p) {
    for (int32_t k = 0; k < i; k++) state += mu_chain_link_state_size(links, n, k, p);
    return state;
}

size_t mu_chain_state_size(const mu_tstep_t *links, int32_t n, const mu_param_t *p) {
    size_t total = 0;
    for (int32_t i = 0; i < n; i++) total += mu_chain_link_state_size(links, n, i, p);
    return total;
}

size_t mu_chain_scratch_size(const mu_tstep_t *links, int32_t n, const mu_param_t *p) {
    size_t mx = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!links[i].tr->scratch_size || mu_chain_fused(links, n, i)) continue;
        size_t s = links[i].tr->scratch_size(&links[i], p);
        if (s > mx) mx = s;
    }
    return mx;
}

void mu_chain_init(const mu_tstep_t *links, int32_t n, float *state, const mu_param_t *p) {
    for (int32_t i = 0; i < n; i++) {
        const mu_tstep_t *s = &links[i];
        if (mu_chain_fused(links, n, i)) continue;
        if (s->tr->init) s->tr->init(s, state, p);
        state += mu_chain_link_state_size(links, n, i, p);
    }
}

/* Links [from, to) in order; link i's state follows link i-1's in the member's block. */
int mu_chain_run_links(const mu_tstep_t *links, int32_t n, int32_t from, int32_t to, mu_tctx_t *ctx, float *U,
                       float *state, mu_param_t *p, int replay) {
    ctx->links = links, ctx->n_links = n, ctx->member_state = state;
    state = mu_chain_link_state(links, n, from, state, p);
    for (int32_t i = from; i < to; i++) {
        const mu_tstep_t *s = &links[i];
        if (mu_chain_fused(links, n, i)) continue;
        ctx->link = i;
        if (replay) {
            if (!s->tr->replay)
                return mu_set_error(MU_EINVAL, "optim: link '%s' cannot replay (it may not precede a group link)",
                                    s->tr->name);
            MU_TRY(s->tr->replay(s, ctx, U, state, p));
        } else {
            MU_TRY(s->tr->update(s, ctx, U, state, p));
        }
        if (s->tr->lr_scale) ctx->lr *= s->tr->lr_scale(s, state, p);  // η_l = η · factor (layer_lr)
        state += mu_chain_link_state_size(links, n, i, p);
    }
    return MU_OK;
}

int mu_chain_run(const mu_tstep_t *links, int32_t n, const mu_tctx_t *ctx, float *U, float *state,
                 mu_param_t *p) {
    mu_tctx_t c = *ctx;
    return mu_chain_run_links(links, n, 0, n, &c, U, state, p, 0);
}

int32_t mu_chain_group_link(const mu_tstep_t *links, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        if (links[i].tr->reduce && !mu_chain_fused(links, n, i)) return i;
    return -1;
}

int32_t mu_chain_batch_link(const mu_tstep_t *links, int32_t n) {
    if (mu_chain_group_link(links, n) >= 0) return -1; /* two-pass chains run member by member */
    for (int32_t i = 0; i < n; i++)
        if (links[i].tr->update_batch && !mu_chain_fused(links, n, i) &&
            (!links[i].tr->batchable || links[i].tr->batchable(&links[i])))
            return i;
    return -1;
}

int mu_chain_check(const mu_tstep_t *links, int32_t n, const char *who) {
    int32_t group = -1;
    for (int32_t i = 0; i < n; i++) {
        const mu_tstep_t *s = &links[i];
        if (s->tr->check_chain) {
            char w[160];
            snprintf(w, sizeof w, "%s.%s", who, s->tr->name);
            MU_TRY(s->tr->check_chain(links, n, i, w));
        }
        if (!s->tr->reduce || mu_chain_fused(links, n, i)) continue;
        if (group >= 0)
            return mu_set_error(MU_EINVAL, "%s: two group links (%s, %s): a chain runs in at most two passes", who,
                                links[group].tr->name, s->tr->name);
        group = i;
    }
    for (int32_t i = 0; i < group; i++)
        if (!links[i].tr->replay && !mu_chain_fused(links, n, i))
            return mu_set_error(MU_EINVAL,
                                "%s: link '%s' precedes the group link '%s' but cannot replay its output (pass 2 "
                                "recomputes it from the state): move it after the group link",
                                who, links[i].tr->name, links[group].tr->name);
    return MU_OK;
}

/* Whether key k is printed: quiet keys only away from their default. */
static int key_shown(const mu_tstep_t *s, int k) {
    return !s->tr->keys[k].quiet_default || s->hp[k] != s->tr->keys[k].def;
}

/* One key as "key=value" (enums by name, floats with %g). */
static size_t put_key(char *buf, size_t cap, size_t len, const mu_tstep_t *s, int k) {
    const mu_hp_desc_t *d = &s->tr->keys[k];
    if (d->type == MU_HP_ENUM && d->names) return mu_str_append(buf, cap, len, "%s=%s", d->key, d->names[(int)s->hp[k]]);
    if (d->type == MU_HP_INT) return mu_str_append(buf, cap, len, "%s=%d", d->key, (int)s->hp[k]);
    return mu_str_append(buf, cap, len, "%s=%g", d->key, (double)s->hp[k]);
}

static size_t describe_link(char *buf, size_t cap, size_t len, const mu_tstep_t *s, float lr) {
    if (s->tr->describe) {
        char tmp[256];
        s->tr->describe(s, lr, tmp, sizeof tmp);
        return mu_str_append(buf, cap, len, "%s", tmp);
    }
    len = mu_str_append(buf, cap, len, "%s", s->tr->name);
    if (s->tr->n_keys == 0) return len;
    len = mu_str_append(buf, cap, len, "(");
    for (int k = 0, first = 1; k < s->tr->n_keys; k++) {
        if (!key_shown(s, k)) continue;
        if (!first) len = mu_str_append(buf, cap, len, ",");
        len = put_key(buf, cap, len, s, k);
        first = 0;
    }
    return mu_str_append(buf, cap, len, ")");
}

int mu_chain_describe(const mu_tstep_t *links, int32_t n, float lr, char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = 0;
    for (int32_t i = 0; i < n; i++) {
        if (mu_chain_fused(links, n, i)) continue;
        if (len) len = mu_str_append(buf, cap, len, " -> ");
        len = describe_link(buf, cap, len, &links[i], lr);
    }
    return MU_OK;
}

int mu_chain_signature(const mu_tstep_t *links, int32_t n, char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = 0;
    for (int32_t i = 0; i < n; i++) {
        const mu_tstep_t *s = &links[i];
        if (mu_chain_fused(links, n, i)) continue;
        len = mu_str_append(buf, cap, len, "%s%s", len ? ">" : "", s->tr->name);
        int first = 1;
        for (int k = 0; k < s->tr->n_keys; k++) {
            if (!s->tr->keys[k].structural || !key_shown(s, k)) continue;
            len = mu_str_append(buf, cap, len, first ? "(" : ",");
            len = put_key(buf, cap, len, s, k);
            first = 0;
        }
        if (!first) len = mu_str_append(buf, cap, len, ")");
    }
    return MU_OK;
}
