/* chain.c — runs a chain of transforms on one tensor; the transform registry;
 * hyperparameter validation and printing shared by every transform. */
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

size_t mu_chain_state_size(const mu_tstep_t *links, int32_t n, const mu_param_t *p) {
    size_t total = 0;
    for (int32_t i = 0; i < n; i++)
        if (links[i].tr->state_size) total += links[i].tr->state_size(&links[i], p);
    return total;
}

size_t mu_chain_scratch_size(const mu_tstep_t *links, int32_t n, const mu_param_t *p) {
    size_t mx = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!links[i].tr->scratch_size) continue;
        size_t s = links[i].tr->scratch_size(&links[i], p);
        if (s > mx) mx = s;
    }
    return mx;
}

void mu_chain_init(const mu_tstep_t *links, int32_t n, float *state, const mu_param_t *p) {
    for (int32_t i = 0; i < n; i++) {
        const mu_tstep_t *s = &links[i];
        if (s->tr->init) s->tr->init(s, state, p);
        if (s->tr->state_size) state += s->tr->state_size(s, p);
    }
}

/* Run the links in order; link i's state follows link i-1's in the arena. */
int mu_chain_run(const mu_tstep_t *links, int32_t n, const mu_tctx_t *ctx, float *U, float *state,
                 mu_param_t *p) {
    for (int32_t i = 0; i < n; i++) {
        const mu_tstep_t *s = &links[i];
        MU_TRY(s->tr->update(s, ctx, U, state, p));
        if (s->tr->state_size) state += s->tr->state_size(s, p);
    }
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
        if (i) len = mu_str_append(buf, cap, len, " -> ");
        len = describe_link(buf, cap, len, &links[i], lr);
    }
    return MU_OK;
}

int mu_chain_signature(const mu_tstep_t *links, int32_t n, char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = 0;
    for (int32_t i = 0; i < n; i++) {
        const mu_tstep_t *s = &links[i];
        len = mu_str_append(buf, cap, len, "%s%s", i ? ">" : "", s->tr->name);
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
