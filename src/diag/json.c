/* json.c — the diagnostics of one measured step as one compact JSON object (metrics.jsonl's
 * "diag" key; layout in include/muon/diag.h). Non-finite numbers are written as null; the
 * optional parts (orth_resid, sv_q, groups, modules) appear only when measured. Names are
 * registry, group and module names ([A-Za-z0-9._[]]): no escaping needed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "diag/diag_impl.h"

typedef struct {
    char *buf;
    size_t cap, pos; /* pos > cap − 1: overflow (the size needed is pos + 1) */
} out_t;

static void put_str(out_t *o, const char *s) {
    size_t k = strlen(s);
    if (o->pos + k < o->cap) memcpy(o->buf + o->pos, s, k + 1);
    o->pos += k;
}

static void put_num(out_t *o, double v) {
    char tmp[40];
    if (isfinite(v)) snprintf(tmp, sizeof tmp, "%.6g", v);
    else snprintf(tmp, sizeof tmp, "null");
    put_str(o, tmp);
}

/* ,"key":value  (first: no comma) */
static void put_kv(out_t *o, int first, const char *key, double v) {
    put_str(o, first ? "\"" : ",\"");
    put_str(o, key);
    put_str(o, "\":");
    put_num(o, v);
}

static void put_key_open(out_t *o, int first, const char *key) {
    put_str(o, first ? "\"" : ",\"");
    put_str(o, key);
    put_str(o, "\":{");
}

int mu_diag_json(const mu_diag_t *d, char *buf, size_t cap) {
    MU_REQUIRE(d && buf && cap > 0, "mu_diag_json: NULL argument or zero capacity");
    out_t o = {buf, cap, 0};
    buf[0] = 0;
    char head[64];
    snprintf(head, sizeof head, "{\"iters\":%d,\"mats\":{", (int)d->iters);
    put_str(&o, head);
    static const char *const keys[6] = {"sigma_w", "r_w", "rms_w", "sigma_dw", "r_dw", "rms_dw"};
    for (int32_t i = 0; i < d->n_rec; i++) {
        const mu_diag_record_t *r = &d->rec[i];
        const double v[6] = {r->sigma_w, r->r_w, r->rms_w, r->sigma_dw, r->r_dw, r->rms_dw};
        put_key_open(&o, i == 0, r->name);
        for (int k = 0; k < 6; k++) put_kv(&o, k == 0, keys[k], v[k]);
        if (!isnan(r->orth_resid)) put_kv(&o, 0, "orth_resid", r->orth_resid);
        if (!isnan(r->sv_q[0])) {
            put_str(&o, ",\"sv_q\":[");
            for (int q = 0; q < 5; q++) {
                if (q) put_str(&o, ",");
                put_num(&o, r->sv_q[q]);
            }
            put_str(&o, "]");
        }
        put_str(&o, "}");
    }
    put_str(&o, "}");
    if (d->n_groups > 0) {  // per optimizer group ‖G‖_F before clipping
        put_str(&o, ",\"groups\":{");
        for (int32_t g = 0; g < d->n_groups; g++) {
            put_key_open(&o, g == 0, d->groups[g].name);
            put_kv(&o, 1, "grad_norm", d->groups[g].grad_norm);
            put_str(&o, "}");
        }
        put_str(&o, "}");
    }
    if (d->n_mod > 0) {  // activation RMS per module; the largest attention logit per layer
        put_str(&o, ",\"modules\":{");
        for (int32_t k = 0; k < d->n_mod; k++) {
            const mu_gpt_module_stat_t *s = &d->mod[k];
            put_key_open(&o, k == 0, s->name);
            put_kv(&o, 1, "rms", s->rms);
            if (strstr(s->name, "attn_logits")) put_kv(&o, 0, "max", s->max);
            put_str(&o, "}");
        }
        put_str(&o, "}");
    }
    put_str(&o, "}");
    if (o.pos >= cap) {
        buf[0] = 0;
        return mu_set_error(MU_EINVAL, "mu_diag_json: %zu bytes needed, buffer holds %zu", o.pos + 1, cap);
    }
    return MU_OK;
}
