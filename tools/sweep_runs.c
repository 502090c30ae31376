/* sweep_runs.c — what a run directory says about itself: its resolved config (config.txt),
 * whether it finished (metrics.jsonl's final eval line, or the sweep's result.json) and its
 * final val loss, tokens and times. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cJSON.h"
#include "muon/base.h"
#include "sweep.h"

int kv_add(kv_t *kv, const char *k, const char *v) {
    if (kv->n == kv->cap) {
        int nc = kv->cap ? 2 * kv->cap : 64;
        char **nk = realloc(kv->k, (size_t)nc * sizeof *nk);
        if (!nk) return mu_set_error(MU_ENOMEM, "out of memory");
        kv->k = nk;
        char **nv = realloc(kv->v, (size_t)nc * sizeof *nv);
        if (!nv) return mu_set_error(MU_ENOMEM, "out of memory");
        kv->v = nv;
        kv->cap = nc;
    }
    char *a = strdup(k), *b = strdup(v);
    if (!a || !b) {
        free(a), free(b);
        return mu_set_error(MU_ENOMEM, "out of memory");
    }
    kv->k[kv->n] = a;
    kv->v[kv->n] = b;
    kv->n++;
    return MU_OK;
}

int kv_read(const char *path, kv_t *kv) {
    FILE *f = fopen(path, "r");
    if (!f) return mu_set_error(MU_EIO, "%s: cannot open: %s", path, strerror(errno));
    char line[4096];
    int rc = MU_OK;
    while (rc == MU_OK && fgets(line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        char *eq = strchr(s, '=');
        if (*s == '#' || !eq) continue;
        char *ke = eq;
        while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
        *ke = 0;
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t') v++;
        size_t n = strlen(v);
        while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r' || v[n - 1] == ' ')) v[--n] = 0;
        for (char *c = s; *c; c++)
            if (*c == '_') *c = '-'; /* n_layer and n-layer name the same option */
        char *veq = strchr(v, '=');
        if (!strcmp(s, "opt") && veq) { /* opt = G.T.K=V  ->  opt.G.T.K = V */
            *veq = 0;
            char key[4200];
            snprintf(key, sizeof key, "opt.%s", v);
            rc = kv_add(kv, key, veq + 1);
        } else {
            rc = kv_add(kv, s, v);
        }
    }
    fclose(f);
    return rc;
}

const char *kv_get(const kv_t *kv, const char *key) {
    for (int i = kv->n - 1; i >= 0; i--)
        if (!strcmp(kv->k[i], key)) return kv->v[i];
    return NULL;
}

void kv_free(kv_t *kv) {
    for (int i = 0; i < kv->n; i++) free(kv->k[i]), free(kv->v[i]);
    free(kv->k), free(kv->v);
    memset(kv, 0, sizeof *kv);
}

const char *run_state_name(run_state_t s) {
    static const char *names[] = {"new", "incomplete", "failed", "done", "diverged"};
    return s >= RUN_NEW && s <= RUN_DIVERGED ? names[s] : "?";
}

static double num_or_nan(const cJSON *o, const char *key) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}

/* result.json -> out; 1 when it was there and readable. */
static int read_result(const char *dir, run_info_t *out) {
    char p[4200];
    snprintf(p, sizeof p, "%s/result.json", dir);
    char *buf = NULL;
    size_t len;
    if (mu_file_read_all(p, (void **)&buf, &len) != MU_OK) {
        mu_clear_error();
        return 0;
    }
    cJSON *o = cJSON_Parse(buf);
    free(buf);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
    if (!cJSON_IsString(st)) {
        cJSON_Delete(o);
        return 0;
    }
    if (!strcmp(st->valuestring, "done")) out->state = RUN_DONE;
    else if (!strcmp(st->valuestring, "diverged")) out->state = RUN_DIVERGED;
    else out->state = RUN_FAILED;
    out->val_loss = out->state == RUN_DIVERGED ? INFINITY : num_or_nan(o, "val_loss");
    out->tokens = num_or_nan(o, "tokens");
    out->train_s = num_or_nan(o, "train_s");
    out->wall_s = num_or_nan(o, "wall_s");
    double e = num_or_nan(o, "exit");
    out->exit_code = isnan(e) ? -1 : (int)e;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
    if (cJSON_IsString(m)) snprintf(out->message, sizeof out->message, "%s", m->valuestring);
    cJSON_Delete(o);
    return 1;
}

/* metrics.jsonl -> out (state DONE, DIVERGED or INCOMPLETE). */
static void read_metrics(const char *dir, run_info_t *out) {
    char p[4200];
    snprintf(p, sizeof p, "%s/config.txt", dir);
    kv_t kv = {0};
    int64_t steps = -1;
    if (kv_read(p, &kv) == MU_OK && kv_get(&kv, "steps")) steps = strtoll(kv_get(&kv, "steps"), NULL, 10);
    mu_clear_error();
    kv_free(&kv);
    snprintf(p, sizeof p, "%s/metrics.jsonl", dir);
    char *buf = NULL;
    size_t len;
    out->state = RUN_INCOMPLETE;
    if (mu_file_read_all(p, (void **)&buf, &len) != MU_OK) {
        mu_clear_error();
        return;
    }
    for (char *s = buf; s && *s;) {
        char *e = strchr(s, '\n');
        if (e) *e = 0;
        cJSON *o = cJSON_Parse(s); /* a torn or foreign line is skipped */
        if (cJSON_IsObject(o)) {
            const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
            double step = num_or_nan(o, "step"), val = num_or_nan(o, "val_loss");
            double tok = num_or_nan(o, "tokens"), el = num_or_nan(o, "elapsed_s");
            if (!isnan(tok)) out->tokens = tok;
            if (!isnan(el)) out->train_s = el;
            if (cJSON_IsString(ev) && !strcmp(ev->valuestring, "diverged")) {
                out->state = RUN_DIVERGED;
                out->val_loss = INFINITY;
                const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "detail");
                if (cJSON_IsString(d)) snprintf(out->message, sizeof out->message, "%s", d->valuestring);
            } else if (steps > 0 && step >= (double)steps && !isnan(val)) {
                /* only the final eval writes val_loss at step >= steps (periodic evals stop before) */
                out->state = RUN_DONE;
                out->val_loss = val;
            }
        }
        cJSON_Delete(o);
        s = e ? e + 1 : NULL;
    }
    free(buf);
}

void run_info_read(const char *dir, run_info_t *out) {
    memset(out, 0, sizeof *out);
    out->state = RUN_NEW;
    out->val_loss = out->tokens = out->train_s = out->wall_s = NAN;
    out->exit_code = -1;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return;
    char p[4200];
    snprintf(p, sizeof p, "%s/state.bin", dir);
    out->has_ckpt = access(p, F_OK) == 0;
    if (read_result(dir, out) && out->state != RUN_FAILED) return;
    run_info_t m = *out;
    read_metrics(dir, &m);
    if (out->state == RUN_FAILED && m.state == RUN_INCOMPLETE) return; /* keep the failure's detail */
    *out = m;
}

int run_result_write(const char *dir, const run_info_t *r) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return mu_set_error(MU_ENOMEM, "out of memory");
    cJSON_AddStringToObject(o, "status", run_state_name(r->state));
    /* JSON has no infinity: a diverged run's loss is null, its status says why */
    if (isfinite(r->val_loss)) cJSON_AddNumberToObject(o, "val_loss", r->val_loss);
    else cJSON_AddNullToObject(o, "val_loss");
    if (isfinite(r->tokens)) cJSON_AddNumberToObject(o, "tokens", r->tokens);
    if (isfinite(r->train_s)) cJSON_AddNumberToObject(o, "train_s", r->train_s);
    if (isfinite(r->wall_s)) cJSON_AddNumberToObject(o, "wall_s", r->wall_s);
    cJSON_AddNumberToObject(o, "exit", r->exit_code);
    if (r->message[0]) cJSON_AddStringToObject(o, "message", r->message);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s) return mu_set_error(MU_ENOMEM, "out of memory");
    char p[4200];
    snprintf(p, sizeof p, "%s/result.json", dir);
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return mu_set_error(MU_ENOMEM, "out of memory");
    }
    t[n] = '\n', t[n + 1] = 0;
    int rc = mu_file_write_atomic(p, t, n + 1);
    free(t);
    return rc;
}
