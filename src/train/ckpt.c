/* ckpt.c — model weights as safetensors with nanoGPT names (see docs/checkpoints.md).
 *
 * Save: every registry tensor under its nanoGPT name and PyTorch shape, fp32;
 * with a tied head "lm_head.weight" is written as a copy of wte, as nanoGPT's
 * state_dict holds both keys. __metadata__ holds "format" = "muon-gpt2",
 * "config" (JSON), the flat nanoGPT keys and the caller's provenance pairs.
 *
 * Load: every registry tensor must be present with the exact shape; the causal
 * mask buffers of old nanoGPT (".attn.bias", ".attn.masked_bias") are ignored;
 * any other unknown tensor is an error (it means the file holds a different
 * architecture, e.g. biases the model lacks). The prefixes "_orig_mod." (from
 * torch.compile) and "module." (from DDP) are stripped. */
#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/util.h"
#include "train/safetensors_internal.h"

#define HEAD_NAME "lm_head.weight"
#define WTE_NAME "transformer.wte.weight"

/* ---- save ---- */

static char *config_json(const mu_gpt_config_t *c) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    /* muon names and the nanoGPT GPTConfig names side by side */
    cJSON_AddNumberToObject(j, "n_layer", c->n_layer);
    cJSON_AddNumberToObject(j, "n_head", c->n_head);
    cJSON_AddNumberToObject(j, "d_model", c->d_model);
    cJSON_AddNumberToObject(j, "n_embd", c->d_model);
    cJSON_AddNumberToObject(j, "seq_len", c->seq_len);
    cJSON_AddNumberToObject(j, "block_size", c->seq_len);
    cJSON_AddNumberToObject(j, "vocab", c->vocab);
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab);
    cJSON_AddBoolToObject(j, "bias", c->bias != 0);
    cJSON_AddBoolToObject(j, "tie", c->tie != 0);
    cJSON_AddNumberToObject(j, "dropout", (double)c->dropout);
    cJSON_AddStringToObject(j, "activation", "gelu_tanh");
    /* parametrization: the μP multipliers are part of the model (same loss after reload) */
    cJSON_AddStringToObject(j, "param", mu_gpt_param_name(c->param));
    if (c->param == MU_PARAM_MUP) {
        cJSON_AddNumberToObject(j, "base_width", c->base_width);
        cJSON_AddStringToObject(j, "mup_init", mu_gpt_mup_init_name(c->mup_init));
        cJSON_AddNumberToObject(j, "alpha_in", (double)c->alpha_in);
        cJSON_AddNumberToObject(j, "alpha_out", (double)c->alpha_out);
        cJSON_AddNumberToObject(j, "alpha_attn", (double)c->alpha_attn);
        cJSON_AddBoolToObject(j, "zero_query", c->zero_query != 0);
        cJSON_AddBoolToObject(j, "zero_readout", c->zero_readout != 0);
        /* the resolved multipliers, for readers that do not know the defaults */
        cJSON_AddNumberToObject(j, "width_mult", (double)mu_gpt_width_mult(c));
        cJSON_AddNumberToObject(j, "attn_scale", (double)mu_gpt_attn_scale(c));
        cJSON_AddNumberToObject(j, "out_mult", (double)mu_gpt_out_mult(c));
    }
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

int mu_ckpt_save_weights(const char *path, mu_gpt_t *m, const char *const *meta_keys,
                         const char *const *meta_vals, int32_t n_meta) {
    MU_REQUIRE(path && m && n_meta >= 0 && (n_meta == 0 || (meta_keys && meta_vals)),
               "mu_ckpt_save_weights: bad argument");
    const mu_gpt_config_t *c = mu_gpt_config(m);
    int32_t np = mu_gpt_n_params(m);
    const mu_param_t *p = mu_gpt_params(m);
    MU_REQUIRE(c && p && np > 0, "%s: model has no parameters", path);

    mu_st_tensor_t *t = calloc((size_t)np + 1, sizeof *t);
    char *cfg = config_json(c);
    enum { N_OWN = 9 };
    const char **mk = calloc((size_t)n_meta + N_OWN, sizeof *mk);
    const char **mv = calloc((size_t)n_meta + N_OWN, sizeof *mv);
    int rc = MU_OK;
    if (!t || !cfg || !mk || !mv) {
        rc = mu_set_error(MU_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    int32_t nt = 0;
    const mu_param_t *wte = NULL;
    for (int32_t i = 0; i < np; i++) {
        t[nt].name = p[i].name;
        t[nt].ndim = p[i].ndim;
        t[nt].shape[0] = p[i].shape[0];
        t[nt].shape[1] = p[i].shape[1];
        t[nt].data = p[i].data;
        nt++;
        if (p[i].tied) wte = &p[i];
    }
    if (wte) { /* tied head: nanoGPT's state_dict lists lm_head.weight too */
        t[nt] = (mu_st_tensor_t){HEAD_NAME, wte->ndim, {wte->shape[0], wte->shape[1], 0, 0}, wte->data};
        nt++;
    }
    char flat[7][24];
    snprintf(flat[0], 24, "%d", c->n_layer);
    snprintf(flat[1], 24, "%d", c->n_head);
    snprintf(flat[2], 24, "%d", c->d_model);
    snprintf(flat[3], 24, "%d", c->seq_len);
    snprintf(flat[4], 24, "%d", c->vocab);
    snprintf(flat[5], 24, "%s", c->bias ? "true" : "false");
    snprintf(flat[6], 24, "%s", c->tie ? "true" : "false");
    const char *own_k[N_OWN] = {"format", "config", "n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "tie"};
    const char *own_v[N_OWN] = {"muon-gpt2", cfg, flat[0], flat[1], flat[2], flat[3], flat[4], flat[5], flat[6]};
    int32_t nm = 0;
    for (int i = 0; i < N_OWN; i++) mk[nm] = own_k[i], mv[nm++] = own_v[i];
    for (int32_t i = 0; i < n_meta; i++) {
        int own = 0;
        for (int k = 0; k < N_OWN; k++) own |= meta_keys[i] && strcmp(meta_keys[i], own_k[k]) == 0;
        if (own) {
            rc = mu_set_error(MU_EINVAL, "%s: metadata key '%s' is reserved for the model config", path,
                              meta_keys[i]);
            goto done;
        }
        mk[nm] = meta_keys[i], mv[nm++] = meta_vals[i];
    }
    rc = mu_safetensors_write(path, t, nt, mk, mv, nm);
done:
    free(t);
    free(cfg);
    free(mk);
    free(mv);
    return rc;
}

/* ---- config ---- */

/* An integer field from the config object, trying each alias in turn. */
static int cfg_int(const cJSON *j, const char *a, const char *b, int32_t *out, int required, const char *path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, a);
    if (!v && b) v = cJSON_GetObjectItemCaseSensitive(j, b);
    if (!v) {
        if (!required) return MU_OK;
        return mu_set_error(MU_EFORMAT, "%s: __metadata__ config has no '%s'%s%s%s", path, a, b ? " (or '" : "",
                            b ? b : "", b ? "')" : "");
    }
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return MU_OK;
    }
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 2147483647.0 &&
        v->valuedouble == (double)(int64_t)v->valuedouble) {
        *out = (int32_t)v->valuedouble;
        return MU_OK;
    }
    if (cJSON_IsString(v)) { /* flat keys are strings: "12", "true", "false" */
        const char *s = v->valuestring;
        if (!strcmp(s, "true") || !strcmp(s, "True")) return *out = 1, MU_OK;
        if (!strcmp(s, "false") || !strcmp(s, "False")) return *out = 0, MU_OK;
        char *end;
        errno = 0;
        long x = strtol(s, &end, 10);
        if (end != s && !*end && !errno && x >= 0 && x <= 2147483647L) return *out = (int32_t)x, MU_OK;
    }
    return mu_set_error(MU_EFORMAT, "%s: __metadata__ config field '%s' is not a non-negative integer", path,
                        v->string ? v->string : a);
}

/* Optional enum field: a name ("mup") or its index; absent leaves *out. */
static int cfg_enum(const cJSON *j, const char *key, int (*parse)(const char *, int32_t *), int32_t *out,
                    const char *path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v) return MU_OK;
    if (cJSON_IsNumber(v)) return *out = (int32_t)v->valuedouble, MU_OK;
    if (cJSON_IsString(v) && parse(v->valuestring, out) == MU_OK) return MU_OK;
    return mu_set_error(MU_EFORMAT, "%s: __metadata__ config field '%s' has an unknown value", path, key);
}

/* Optional float field (number or string); absent leaves *out. */
static void cfg_float(const cJSON *j, const char *key, float *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (cJSON_IsNumber(v)) *out = (float)v->valuedouble;
    else if (cJSON_IsString(v)) *out = strtof(v->valuestring, NULL);
}

static int config_from_json(const cJSON *j, const char *path, mu_gpt_config_t *cfg) {
    mu_gpt_config_t c = mu_gpt_config_default();
    MU_TRY(cfg_int(j, "n_layer", NULL, &c.n_layer, 1, path));
    MU_TRY(cfg_int(j, "n_head", NULL, &c.n_head, 1, path));
    MU_TRY(cfg_int(j, "d_model", "n_embd", &c.d_model, 1, path));
    MU_TRY(cfg_int(j, "seq_len", "block_size", &c.seq_len, 1, path));
    MU_TRY(cfg_int(j, "vocab", "vocab_size", &c.vocab, 1, path));
    c.bias = 1; /* absent bias/tie: nanoGPT's defaults (biases on, head tied) */
    c.tie = 1;
    MU_TRY(cfg_int(j, "bias", NULL, &c.bias, 0, path));
    MU_TRY(cfg_int(j, "tie", NULL, &c.tie, 0, path));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "dropout");
    if (cJSON_IsNumber(d)) c.dropout = (float)d->valuedouble;
    else if (cJSON_IsString(d)) c.dropout = strtof(d->valuestring, NULL);
    MU_TRY(cfg_enum(j, "param", mu_gpt_param_parse, &c.param, path));
    MU_TRY(cfg_enum(j, "mup_init", mu_gpt_mup_init_parse, &c.mup_init, path));
    MU_TRY(cfg_int(j, "base_width", NULL, &c.base_width, 0, path));
    MU_TRY(cfg_int(j, "zero_query", NULL, &c.zero_query, 0, path));
    MU_TRY(cfg_int(j, "zero_readout", NULL, &c.zero_readout, 0, path));
    cfg_float(j, "alpha_in", &c.alpha_in);
    cfg_float(j, "alpha_out", &c.alpha_out);
    cfg_float(j, "alpha_attn", &c.alpha_attn);
    if (mu_gpt_config_check(&c) < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", mu_last_error());
        return mu_set_error(MU_EFORMAT, "%s: __metadata__ config is invalid: %s", path, msg);
    }
    *cfg = c;
    return MU_OK;
}

static int read_config_st(const mu_safetensors_t *s, const char *path, mu_gpt_config_t *cfg) {
    const char *js = mu_safetensors_meta(s, "config");
    if (js) {
        cJSON *j = cJSON_Parse(js);
        if (!cJSON_IsObject(j)) {
            cJSON_Delete(j);
            return mu_set_error(MU_EFORMAT, "%s: __metadata__ 'config' is not a JSON object", path);
        }
        int rc = config_from_json(j, path, cfg);
        cJSON_Delete(j);
        return rc;
    }
    if (!mu_safetensors_meta(s, "n_layer"))
        return mu_set_error(MU_EFORMAT, "%s: no model config in __metadata__ (neither 'config' nor 'n_layer'); "
                            "give the model shape explicitly (n_layer, n_head, d_model, seq_len, vocab, bias, tie)",
                            path);
    /* flat string keys, as nanoGPT names them */
    static const char *keys[] = {"n_layer", "n_head", "n_embd", "d_model", "block_size", "seq_len",
                                 "vocab_size", "vocab", "bias", "tie", "dropout", "param", "base_width",
                                 "mup_init", "alpha_in", "alpha_out", "alpha_attn", "zero_query", "zero_readout"};
    cJSON *j = cJSON_CreateObject();
    if (!j) return mu_set_error(MU_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = mu_safetensors_meta(s, keys[i]);
        if (v) cJSON_AddStringToObject(j, keys[i], v);
    }
    int rc = config_from_json(j, path, cfg);
    cJSON_Delete(j);
    return rc;
}

int mu_ckpt_read_config(const char *path, mu_gpt_config_t *cfg) {
    MU_REQUIRE(path && cfg, "mu_ckpt_read_config: NULL argument");
    mu_safetensors_t *s;
    MU_TRY(mu_safetensors_open(&s, path));
    int rc = read_config_st(s, path, cfg);
    mu_safetensors_free(s);
    return rc;
}

/* ---- load ---- */

static int is_mask_buffer(const char *name) {
    size_t n = strlen(name);
    static const char *suf[] = {".attn.bias", ".attn.masked_bias"};
    for (int i = 0; i < 2; i++) {
        size_t k = strlen(suf[i]);
        if (n >= k && strcmp(name + n - k, suf[i]) == 0) return 1;
    }
    return 0;
}

static void fmt_shape(char *buf, size_t cap, int32_t ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(buf, cap, "(");
    for (int32_t d = 0; d < ndim && k < cap; d++)
        k += (size_t)snprintf(buf + k, cap - k, d ? ", %" PRId64 : "%" PRId64, shape[d]);
    if (k < cap) snprintf(buf + k, cap - k, ndim == 1 ? ",)" : ")");
}

/* Index of NAME (with the file's key prefix) or -1. */
static int32_t find_pref(const mu_safetensors_t *s, const char *prefix, const char *name) {
    char buf[MU_PARAM_NAME_MAX + 32];
    snprintf(buf, sizeof buf, "%s%s", prefix, name);
    return mu_st_find(s, buf);
}

static int load_st(const mu_safetensors_t *s, const char *path, mu_gpt_t *m) {
    int32_t np = mu_gpt_n_params(m);
    mu_param_t *p = mu_gpt_params(m);
    MU_REQUIRE(p && np > 0, "%s: model has no parameters", path);
    /* state dicts saved from torch.compile or DDP models carry a key prefix */
    const char *prefix = "";
    if (mu_st_find(s, WTE_NAME) < 0) {
        if (find_pref(s, "_orig_mod.", WTE_NAME) >= 0) prefix = "_orig_mod.";
        else if (find_pref(s, "module.", WTE_NAME) >= 0) prefix = "module.";
    }
    size_t plen = strlen(prefix);
    const mu_param_t *wte = NULL;
    char *used = calloc((size_t)s->n + 1, 1);
    if (!used) return mu_set_error(MU_ENOMEM, "%s: out of memory", path);
    int rc = MU_OK;
    /* pass 1: check names, shapes and dtypes, so a failed load changes nothing */
    for (int32_t i = 0; i < np && rc == MU_OK; i++) {
        if (p[i].tied) wte = &p[i];
        int32_t k = find_pref(s, prefix, p[i].name);
        char want[64], got[64];
        int64_t wshape[2] = {p[i].shape[0], p[i].shape[1]};
        fmt_shape(want, sizeof want, p[i].ndim, wshape);
        if (k < 0) {
            const char *hint = "";
            if (!strcmp(p[i].name, HEAD_NAME)) hint = " (the checkpoint's head looks tied: build the model with tie=1)";
            else if (strstr(p[i].name, ".bias")) hint = " (checkpoint without biases? build the model with bias=0)";
            rc = mu_set_error(MU_EMISMATCH, "%s: tensor '%s' %s is missing%s", path, p[i].name, want, hint);
            break;
        }
        const mu_st_entry_t *e = &s->t[k];
        used[k] = 1;
        int same = e->ndim == p[i].ndim;
        for (int32_t d = 0; same && d < e->ndim; d++) same = e->shape[d] == wshape[d];
        if (!same) {
            fmt_shape(got, sizeof got, e->ndim, e->shape);
            int transposed = e->ndim == 2 && p[i].ndim == 2 && e->shape[0] == wshape[1] && e->shape[1] == wshape[0];
            rc = mu_set_error(MU_EMISMATCH, "%s: tensor '%s': expected shape %s, found %s%s", path, p[i].name, want,
                              got, transposed ? " (transposed: a Hugging Face GPT-2 Conv1D layout? nanoGPT "
                                                "transposes c_attn/c_fc/c_proj weights on import)" : "");
            break;
        }
        if (!e->readable)
            rc = mu_set_error(MU_EUNSUPPORTED, "%s: tensor '%s' has dtype %s; only F32, F16 and BF16 can be loaded",
                              path, p[i].name, e->dtype);
    }
    int32_t head = -1;
    if (rc == MU_OK && wte) {
        head = find_pref(s, prefix, HEAD_NAME);
        if (head >= 0) {
            used[head] = 1;
            const mu_st_entry_t *e = &s->t[head];
            if (e->ndim != 2 || e->shape[0] != wte->shape[0] || e->shape[1] != wte->shape[1] || !e->readable)
                rc = mu_set_error(MU_EMISMATCH, "%s: tensor '%s' does not match wte's shape or is not floating point",
                                  path, HEAD_NAME);
        }
    }
    for (int32_t k = 0; k < s->n && rc == MU_OK; k++) {
        const char *name = s->t[k].name;
        if (used[k] || is_mask_buffer(name)) continue;
        rc = mu_set_error(MU_EMISMATCH, "%s: unexpected tensor '%s' in the checkpoint; the model (n_layer=%d, bias=%d, "
                          "tie=%d) has no such parameter", path, strncmp(name, prefix, plen) == 0 ? name + plen : name,
                          mu_gpt_config(m)->n_layer, mu_gpt_config(m)->bias, mu_gpt_config(m)->tie);
    }
    free(used);
    MU_TRY(rc);
    /* a tied model's head must equal wte in the file: compare in chunks, no big temporary */
    if (head >= 0) {
        int32_t w = find_pref(s, prefix, wte->name);
        float bh[512], bw[512];
        for (int64_t off = 0; off < wte->numel; off += 512) {
            int64_t n = wte->numel - off < 512 ? wte->numel - off : 512;
            MU_TRY(mu_st_read_range(s, head, off, n, bh));
            MU_TRY(mu_st_read_range(s, w, off, n, bw));
            if (memcmp(bh, bw, (size_t)n * sizeof(float)) != 0)
                return mu_set_error(MU_EMISMATCH, "%s: '%s' differs from '%s' but the model ties them; "
                                    "build the model with tie=0", path, HEAD_NAME, WTE_NAME);
        }
    }
    /* pass 2: copy (and convert) */
    for (int32_t i = 0; i < np; i++) MU_TRY(mu_st_read_range(s, find_pref(s, prefix, p[i].name), 0, p[i].numel, p[i].data));
    return MU_OK;
}

int mu_ckpt_load_weights(const char *path, mu_gpt_t *m) {
    MU_REQUIRE(path && m, "mu_ckpt_load_weights: NULL argument");
    mu_safetensors_t *s;
    MU_TRY(mu_safetensors_open(&s, path));
    int rc = load_st(s, path, m);
    mu_safetensors_free(s);
    return rc;
}

int mu_ckpt_resolve(const char *ckpt, char *weights_path, size_t cap) {
    MU_REQUIRE(ckpt && weights_path && cap > 0, "mu_ckpt_resolve: bad argument");
    struct stat st;
    if (stat(ckpt, &st) != 0) return mu_set_error(MU_EIO, "%s: cannot open: %s", ckpt, strerror(errno));
    int n;
    if (S_ISDIR(st.st_mode)) {
        n = snprintf(weights_path, cap, "%s/model.safetensors", ckpt);
        if (n < 0 || (size_t)n >= cap) return mu_set_error(MU_EINVAL, "%s: path too long", ckpt);
        if (stat(weights_path, &st) != 0 || !S_ISREG(st.st_mode))
            return mu_set_error(MU_EIO, "%s: directory has no model.safetensors (not a muon run directory, "
                                "or no checkpoint written yet)", ckpt);
        return MU_OK;
    }
    n = snprintf(weights_path, cap, "%s", ckpt);
    if (n < 0 || (size_t)n >= cap) return mu_set_error(MU_EINVAL, "%s: path too long", ckpt);
    return MU_OK;
}
