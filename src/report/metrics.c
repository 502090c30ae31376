/* metrics.c — read numeric series out of a run's metrics.jsonl (one JSON object per line). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "cJSON.h"
#include "muon/report.h"

int mu_metrics_series(const char *path, const char *xkey, const char *ykey, double **x, double **y, int64_t *n) {
    MU_REQUIRE(path && xkey && ykey && x && y && n, "mu_metrics_series: NULL argument");
    *x = *y = NULL;
    *n = 0;
    char *buf = NULL;
    size_t len = 0;
    MU_TRY(mu_file_read_all(path, (void **)&buf, &len)); /* NUL-terminated */
    int64_t cap = 0, cnt = 0, line = 0;
    double *xs = NULL, *ys = NULL;
    int rc = MU_OK;
    for (char *p = buf; *p;) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        line++;
        char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (*q) {
            cJSON *o = cJSON_Parse(q);
            if (!o || !cJSON_IsObject(o)) {
                cJSON_Delete(o);
                /* a crash can leave a torn last line: tolerate it only at the very end */
                if (!e || !e[1]) break;
                rc = mu_set_error(MU_EFORMAT, "%s: line %lld is not a JSON object", path, (long long)line);
                break;
            }
            const cJSON *jx = cJSON_GetObjectItemCaseSensitive(o, xkey);
            const cJSON *jy = cJSON_GetObjectItemCaseSensitive(o, ykey);
            if (cJSON_IsNumber(jx) && cJSON_IsNumber(jy)) {
                if (cnt == cap) {
                    cap = cap ? cap * 2 : 256;
                    double *nx = realloc(xs, (size_t)cap * sizeof *xs), *ny = nx ? realloc(ys, (size_t)cap * sizeof *ys) : NULL;
                    if (nx) xs = nx;
                    if (ny) ys = ny;
                    if (!nx || !ny) {
                        cJSON_Delete(o);
                        rc = mu_set_error(MU_ENOMEM, "%s: out of memory at line %lld", path, (long long)line);
                        break;
                    }
                }
                xs[cnt] = jx->valuedouble;
                ys[cnt] = jy->valuedouble;
                cnt++;
            }
            cJSON_Delete(o);
        }
        if (!e) break;
        p = e + 1;
    }
    free(buf);
    if (rc != MU_OK) {
        free(xs), free(ys);
        return rc;
    }
    *x = xs, *y = ys, *n = cnt;
    return MU_OK;
}
