/* metrics.c — read numeric series out of a run's metrics.jsonl (one JSON object per line). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "cJSON.h"
#include "muon/report.h"

/* The member at KEY: a plain name, or a '/'-separated path into nested objects
 * ("diag/mats/transformer.h.0.mlp.c_fc.weight/r_w"). NULL when absent. */
static const cJSON *lookup(const cJSON *o, const char *key) {
    char part[512];
    for (const char *k = key; o;) {
        const char *slash = strchr(k, '/');
        size_t l = slash ? (size_t)(slash - k) : strlen(k);
        if (l >= sizeof part) return NULL;
        memcpy(part, k, l);
        part[l] = 0;
        o = cJSON_GetObjectItemCaseSensitive(o, part);
        if (!slash) return o;
        k = slash + 1;
    }
    return NULL;
}

/* Calls fn(object, user) for every JSON object line of a metrics file; fn returns 1 to stop
 * early, 0 to go on, or an error code. A torn last line (crash) is tolerated. */
static int each_line(const char *path, int (*fn)(const cJSON *o, void *user), void *user) {
    char *buf = NULL;
    size_t len = 0;
    MU_TRY(mu_file_read_all(path, (void **)&buf, &len)); /* NUL-terminated */
    int64_t line = 0;
    int rc = MU_OK;
    for (char *p = buf; *p && rc == MU_OK;) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        line++;
        char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (*q) {
            cJSON *o = cJSON_Parse(q);
            if (!o || !cJSON_IsObject(o)) {
                cJSON_Delete(o);
                if (!e || !e[1]) break; /* torn last line */
                rc = mu_set_error(MU_EFORMAT, "%s: line %lld is not a JSON object", path, (long long)line);
                break;
            }
            rc = fn(o, user);
            cJSON_Delete(o);
            if (rc == 1) rc = MU_OK, e = NULL; /* stop early */
        }
        if (!e) break;
        p = e + 1;
    }
    free(buf);
    return rc;
}

typedef struct {
    const char *xkey, *ykey, *path;
    double *xs, *ys;
    int64_t cnt, cap;
} series_t;

static int add_point(const cJSON *o, void *user) {
    series_t *s = user;
    const cJSON *jx = lookup(o, s->xkey), *jy = lookup(o, s->ykey);
    if (!cJSON_IsNumber(jx) || !cJSON_IsNumber(jy)) return MU_OK;
    if (s->cnt == s->cap) {
        int64_t cap = s->cap ? s->cap * 2 : 256;
        double *nx = realloc(s->xs, (size_t)cap * sizeof *nx);
        if (nx) s->xs = nx;
        double *ny = nx ? realloc(s->ys, (size_t)cap * sizeof *ny) : NULL;
        if (ny) s->ys = ny;
        if (!nx || !ny) return mu_set_error(MU_ENOMEM, "%s: out of memory", s->path);
        s->cap = cap;
    }
    s->xs[s->cnt] = jx->valuedouble;
    s->ys[s->cnt] = jy->valuedouble;
    s->cnt++;
    return MU_OK;
}

int mu_metrics_series(const char *path, const char *xkey, const char *ykey, double **x, double **y, int64_t *n) {
    MU_REQUIRE(path && xkey && ykey && x && y && n, "mu_metrics_series: NULL argument");
    *x = *y = NULL;
    *n = 0;
    series_t s = {.xkey = xkey, .ykey = ykey, .path = path};
    int rc = each_line(path, add_point, &s);
    if (rc != MU_OK) {
        free(s.xs), free(s.ys);
        return rc;
    }
    *x = s.xs, *y = s.ys, *n = s.cnt;
    return MU_OK;
}

typedef struct {
    const char *key;
    char **names;
    int32_t n;
} keys_t;

static int first_object(const cJSON *o, void *user) {
    keys_t *k = user;
    const cJSON *obj = lookup(o, k->key);
    if (!cJSON_IsObject(obj)) return MU_OK;
    int32_t n = cJSON_GetArraySize(obj), i = 0;
    k->names = calloc((size_t)(n > 0 ? n : 1), sizeof *k->names);
    if (!k->names) return mu_set_error(MU_ENOMEM, "mu_metrics_keys: out of memory");
    k->n = n; /* entries not yet copied stay NULL: mu_metrics_keys_free handles them */
    for (const cJSON *c = obj->child; c; c = c->next)
        if (!(k->names[i++] = strdup(c->string))) return mu_set_error(MU_ENOMEM, "mu_metrics_keys: out of memory");
    return 1;
}

int mu_metrics_keys(const char *path, const char *key, char ***names, int32_t *n) {
    MU_REQUIRE(path && key && names && n, "mu_metrics_keys: NULL argument");
    *names = NULL;
    *n = 0;
    keys_t k = {.key = key};
    int rc = each_line(path, first_object, &k);
    if (rc != MU_OK) {
        mu_metrics_keys_free(k.names, k.n);
        return rc;
    }
    *names = k.names, *n = k.n;
    return MU_OK;
}

void mu_metrics_keys_free(char **names, int32_t n) {
    if (!names) return;
    for (int32_t i = 0; i < n; i++) free(names[i]);
    free(names);
}
