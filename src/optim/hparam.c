/* hparam.c — the generic hyperparameter syntax and the optimizer's self-description.
 *
 *   GROUP.TRANSFORM.KEY=VALUE    one key of every TRANSFORM link in the matching groups
 *   GROUP.lr=VALUE               a group's base LR (the schedule multiplies it)
 *
 * GROUP is a group name or a glob ("*" = every group, "aux*"); VALUE a number, or a name
 * for enum keys ("orth.kind=exact"), or true/false for 0/1 keys. Every matching link is
 * validated (range, whole numbers, structural keys) before any is changed.
 * Overrides listed in the config (mu_optim_config_t.hparams) are applied inside
 * mu_optim_init before the state arena is laid out, so they may also set structural
 * keys (momentum convention, rank); mu_optim_set_hparam after init only numeric ones.
 * mu_optim_explain prints every group, link and key with where its value came from.
 */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>

#include "base/util.h"
#include "optim/optim_impl.h"

/* "name" or NULL: the config flag a source binds to, for messages and `optim show`. */
static const char *src_name(mu_src_t s) {
    switch (s) {
    case MU_SRC_LR: return "--lr";
    case MU_SRC_AUX_LR: return "--aux-lr";
    case MU_SRC_WD: return "--weight-decay";
    case MU_SRC_BETA1: return "--beta1";
    case MU_SRC_BETA2: return "--beta2";
    case MU_SRC_EPS: return "--eps";
    case MU_SRC_MOMENTUM: return "--momentum";
    case MU_SRC_NESTEROV: return "--nesterov";
    case MU_SRC_QKV_SPLIT: return "--qkv-split";
    case MU_SRC_ORTH_KIND: return "--orth";
    case MU_SRC_ORTH_STEPS: return "--orth-steps";
    case MU_SRC_ORTH_PREC: return "--orth-precision";
    case MU_SRC_SCALE: return "--scale";
    case MU_SRC_POWER_ITERS: return "--power-iters";
    case MU_SRC_ADAPTIVE: return "--adaptive";
    case MU_SRC_KAPPA: return "kappa";
    case MU_SRC_WD_MODE: return "--wd-mode";
    default: return "config";
    }
}

/* Parse VALUE for key d: number, enum name, or true/false. */
static int parse_value(const mu_hp_desc_t *d, const char *s, float *out, const char *path) {
    char *end = NULL;
    float v = strtof(s, &end);
    if (end != s && *end == 0) {
        *out = v;
        return MU_OK;
    }
    if (d && d->type == MU_HP_ENUM && d->names) {
        for (int i = 0; d->names[i]; i++)
            if (strcmp(d->names[i], s) == 0) {
                *out = (float)i;
                return MU_OK;
            }
    }
    if (d && d->type == MU_HP_INT && d->lo == 0.0f && d->hi == 1.0f) {
        if (!strcmp(s, "true") || !strcmp(s, "on") || !strcmp(s, "yes")) return *out = 1.0f, MU_OK;
        if (!strcmp(s, "false") || !strcmp(s, "off") || !strcmp(s, "no")) return *out = 0.0f, MU_OK;
    }
    char names[160] = "";
    size_t len = 0;
    if (d && d->type == MU_HP_ENUM && d->names)
        for (int i = 0; d->names[i]; i++) len = mu_str_append(names, sizeof names, len, "%s%s", i ? ", " : "", d->names[i]);
    return mu_set_error(MU_EINVAL, "optim hyperparameter '%s': '%s' is not a number%s%s", path, s,
                        len ? " or one of: " : "", names);
}

static int group_hit(const char *pattern, const char *name) { return fnmatch(pattern, name, 0) == 0; }

/* Group names and, for the matching groups, their chains ("matrix: ema, orth, ..."). */
static void list_groups(const mu_optim_t *o, const char *pattern, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        if (pattern && !group_hit(pattern, G->name)) continue;
        len = mu_str_append(buf, cap, len, "%s%s", len ? (pattern ? "; " : ", ") : "", G->name);
        if (!pattern) continue;
        for (int32_t i = 0; i < G->n_links; i++)
            len = mu_str_append(buf, cap, len, "%s%s", i ? ", " : ": ", G->links[i].tr->name);
    }
}

/* Set (or, with apply = 0, only validate) one assignment. sval: the value as text, or
 * NULL to use fval. structural: structural keys allowed (before the arena exists). */
static int assign(mu_optim_t *o, const char *path, const char *sval, float fval, int structural, int apply) {
    char tmp[160];
    if (strlen(path) >= sizeof tmp)
        return mu_set_error(MU_EINVAL, "optim hyperparameter '%.40s...': path longer than %zu characters", path,
                            sizeof tmp - 1);
    snprintf(tmp, sizeof tmp, "%s", path);
    char *group = tmp, *tr = strchr(tmp, '.'), *key = NULL;
    if (!tr || tr == tmp)
        return mu_set_error(MU_EINVAL, "optim hyperparameter '%s': expected GROUP.TRANSFORM.KEY or GROUP.lr", path);
    *tr++ = 0;
    key = strchr(tr, '.');
    if (key) *key++ = 0;
    if (!key && strcmp(tr, "lr") != 0)
        return mu_set_error(MU_EINVAL, "optim hyperparameter '%s': expected GROUP.TRANSFORM.KEY or GROUP.lr", path);
    char list[512];
    int groups = 0, hits = 0;
    for (int32_t g = 0; g < o->n_groups; g++) {
        mu_group_t *G = &o->groups[g];
        if (!group_hit(group, G->name)) continue;
        groups++;
        if (!key) {  // GROUP.lr
            float v = fval;
            if (sval) MU_TRY(parse_value(NULL, sval, &v, path));
            if (!isfinite(v) || v < 0)
                return mu_set_error(MU_EINVAL, "optim hyperparameter '%s' = %g: must be finite and >= 0", path,
                                    (double)v);
            if (apply) G->lr = v;
            hits++;
            continue;
        }
        for (int32_t i = 0; i < G->n_links; i++) {
            mu_tstep_t *s = &G->links[i];
            if (strcmp(s->tr->name, tr) != 0) continue;
            const int k = mu_tstep_key(s, key);
            float v = fval;
            if (sval) MU_TRY(parse_value(k >= 0 ? &s->tr->keys[k] : NULL, sval, &v, path));
            if (k >= 0 && s->tr->keys[k].structural && !structural)
                return mu_set_error(MU_EINVAL,
                                    "optim hyperparameter '%s': structural key (it fixes the state layout or "
                                    "convention): set it before init, e.g. `--opt %s=...` or the config's hparams",
                                    path, path);
            char ctx[96];
            snprintf(ctx, sizeof ctx, "optim hyperparameter %s.%s", G->name, tr);
            mu_tstep_t copy = *s;  // validate on a copy; write only when applying
            MU_TRY(mu_tstep_set(&copy, key, v, ctx));
            if (apply) *s = copy;
            hits++;
        }
    }
    if (!groups) {
        list_groups(o, NULL, list, sizeof list);
        return mu_set_error(MU_EINVAL, "optim hyperparameter '%s': no group '%s' in preset '%s' (groups: %s)", path,
                            group, o->preset_name, list);
    }
    if (!hits) {
        list_groups(o, group, list, sizeof list);
        return mu_set_error(MU_EINVAL, "optim hyperparameter '%s': no transform '%s' in group '%s' of preset '%s' (%s)",
                            path, tr, group, o->preset_name, list);
    }
    return MU_OK;
}

static int set_checked(mu_optim_t *o, const char *path, const char *sval, float fval, int structural) {
    MU_TRY(assign(o, path, sval, fval, structural, 0));
    return assign(o, path, sval, fval, structural, 1);
}

int mu_optim_set_hparam(mu_optim_t *o, const char *path, float value) {
    MU_REQUIRE(o && path, "mu_optim_set_hparam: NULL argument");
    return set_checked(o, path, NULL, value, 0);
}

/* "PATH=VALUE" split at the last '=' (paths hold no '='). */
static int set_assignment(mu_optim_t *o, const char *a, int structural) {
    MU_REQUIRE(o && a, "mu_optim_set_hparam_str: NULL argument");
    const char *eq = strrchr(a, '=');
    char path[160];
    if (!eq || eq == a || !eq[1] || (size_t)(eq - a) >= sizeof path)
        return mu_set_error(MU_EINVAL, "optim hyperparameter '%s': expected GROUP.TRANSFORM.KEY=VALUE or GROUP.lr=VALUE",
                            a);
    memcpy(path, a, (size_t)(eq - a));
    path[eq - a] = 0;
    return set_checked(o, path, eq + 1, 0.0f, structural);
}

int mu_optim_set_hparam_str(mu_optim_t *o, const char *assignment) { return set_assignment(o, assignment, 0); }

int mu_optim_apply_config_hparams(mu_optim_t *o, const mu_optim_config_t *cfg) {
    MU_REQUIRE(cfg->n_hparams >= 0 && (cfg->hparams || cfg->n_hparams == 0),
               "optim.hparams: %d entries but no array", cfg->n_hparams);
    for (int32_t i = 0; i < cfg->n_hparams; i++) MU_TRY(set_assignment(o, cfg->hparams[i], 1));
    return MU_OK;
}

size_t mu_optim_state_floats(const mu_optim_t *o) { return o ? o->state_floats : 0; }

/* ---- self-description ---- */

/* The value the preset row gives link key k (as build_chain computes it) and its source. */
static float row_value(const mu_optim_t *o, const mu_link_spec_t *ls, const mu_hp_desc_t *d, const char **src) {
    for (int b = 0; b < MU_TR_MAX_KEYS && ls->bind[b].key; b++) {
        const mu_bind_t *bd = &ls->bind[b];
        if (strcmp(bd->key, d->key) != 0) continue;
        if (bd->src == MU_SRC_CONST) {
            *src = "preset";
            return bd->value;
        }
        float v = mu_src_value(bd->src, &o->cfg, o->preset);
        if (isnan(v)) {
            *src = "preset";
            return bd->value;
        }
        *src = src_name(bd->src);
        return v;
    }
    *src = "default";
    return d->def;
}

static size_t put_value(char *buf, size_t cap, size_t len, const mu_hp_desc_t *d, float v) {
    if (d->type == MU_HP_ENUM && d->names) return mu_str_append(buf, cap, len, "%s", d->names[(int)v]);
    if (d->type == MU_HP_INT) return mu_str_append(buf, cap, len, "%d", (int)v);
    return mu_str_append(buf, cap, len, "%g", (double)v);
}

static void roles_str(uint32_t roles, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    for (int32_t r = 0; r <= MU_ROLE_BIAS; r++)
        if (roles & MU_ROLEBIT(r)) len = mu_str_append(buf, cap, len, "%s%s", len ? "," : "", mu_role_str(r));
}

int mu_optim_explain(const mu_optim_t *o, int32_t detail, char *buf, size_t cap) {
    MU_REQUIRE(o && buf && cap > 0, "mu_optim_explain: NULL optimizer or empty buffer");
    size_t len = 0;
    buf[0] = 0;
    for (int32_t g = 0; g < o->n_groups; g++) {
        const mu_group_t *G = &o->groups[g];
        const mu_group_spec_t *gs = &o->preset->groups[g];
        size_t floats = 0;
        int64_t numel = 0;
        for (int32_t j = 0; j < G->n_members; j++) {
            const mu_param_t *p = &o->params[G->members[j]];
            floats += mu_chain_state_size(G->links, G->n_links, p);
            numel += p->numel;
        }
        char roles[64];
        roles_str(gs->roles, roles, sizeof roles);
        const char *dsel = gs->decay == MU_SEL_DECAYED ? ", decayed" : gs->decay == MU_SEL_UNDECAYED ? ", undecayed" : "";
        const double per = numel ? (double)floats / (double)numel : 0.0;
        if (!detail) {
            len = mu_str_append(buf, cap, len, "%s  %-13s %-22s %4.2f floats/elem  ", g ? "\n" : "", G->name, roles, per);
            for (int32_t i = 0, first = 1; i < G->n_links; i++) {
                if (mu_chain_fused(G->links, G->n_links, i)) continue;  // stood in for by a fusing link
                len = mu_str_append(buf, cap, len, "%s%s", first ? "" : " -> ", G->links[i].tr->name);
                first = 0;
            }
            continue;
        }
        // the row's LR, to tell an --opt GROUP.lr override from the config's
        float lr_row = mu_src_value(gs->lr_src, &o->cfg, o->preset) * gs->lr_mult;
        const char *lr_src = G->lr != lr_row ? "--opt" : src_name(gs->lr_src);
        if (G->lr == lr_row && gs->lr_src == MU_SRC_AUX_LR && o->cfg.aux_lr <= 0)
            lr_src = o->preset->aux_lr > 0 ? "preset aux_lr" : "--lr";  // aux LR unset: the row's or the main LR
        len = mu_str_append(buf, cap, len,
                            "%sgroup %s (%s%s): %d tensors, %lld elements, state %.2f floats/element\n"
                            "  lr = %g [%s%s]\n",
                            g ? "\n" : "", G->name, roles, dsel, G->n_members, (long long)numel, per, (double)G->lr,
                            lr_src, gs->lr_mult != 1.0f && G->lr == lr_row ? " x row multiplier" : "");
        for (int32_t i = 0; i < G->n_links; i++) {
            const mu_tstep_t *s = &G->links[i];
            len = mu_str_append(buf, cap, len, "  %d. %s%s", i + 1, s->tr->name,
                                mu_chain_fused(G->links, G->n_links, i) ? " (fused into an earlier link: no state, not run)"
                                                                        : "");
            for (int k = 0; k < s->tr->n_keys; k++) {
                const mu_hp_desc_t *d = &s->tr->keys[k];
                const char *src;
                float rv = row_value(o, &gs->chain[i], d, &src);
                if (rv != s->hp[k]) src = "--opt";
                len = mu_str_append(buf, cap, len, "%s%s=", k ? ", " : ": ", d->key);
                len = put_value(buf, cap, len, d, s->hp[k]);
                len = mu_str_append(buf, cap, len, " [%s%s]", src, d->structural ? ", structural" : "");
            }
            len = mu_str_append(buf, cap, len, "\n");
        }
    }
    return MU_OK;
}

int32_t mu_optim_preset_count(void) { return mu_preset_count(); }

int mu_optim_preset_info(int32_t i, mu_optim_preset_info_t *out) {
    MU_REQUIRE(out, "mu_optim_preset_info: out is NULL");
    const mu_preset_t *pr = mu_preset_at(i);
    MU_REQUIRE(pr, "mu_optim_preset_info: index %d out of range [0, %d)", i, mu_preset_count());
    mu_optim_config_t c;
    MU_TRY(mu_optim_config_for_preset(pr->name, &c));
    out->name = pr->name;
    out->summary = pr->summary ? pr->summary : "";
    out->source = pr->source ? pr->source : "";
    out->confidence = pr->confidence ? pr->confidence : "";
    out->lr = c.lr;
    out->aux_lr = mu_src_value(MU_SRC_AUX_LR, &c, pr);
    return MU_OK;
}
