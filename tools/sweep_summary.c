/* sweep_summary.c — the summary of a sweep directory, rebuilt from its run directories alone:
 * summary.csv (one row per run), summary.md (per group: the optimal LR per width, drift and
 * slope of spec §6, computed by mu_transfer_analyze) and summary.svg (final val loss vs LR,
 * one curve per width, one panel per group).
 *
 * A run's axis values come from RUN_DIR/point.json (written by the sweep); width, LR and seed
 * are read from its resolved config.txt. Groups: runs that agree on every axis other than the
 * width, LR and seed axes (an axis zipped with one of those, e.g. d-model/n-head, is not a
 * grouping axis). Only finished runs (done, or diverged = loss +inf) enter the analysis. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cJSON.h"
#include "muon/report.h"
#include "sweep.h"

typedef struct {
    char *name;
    int n_keys;
    char **keys, **vals; /* axis keys and values in axis order (point.json) */
    int *axis;           /* axis index of each key */
    kv_t cfg;            /* config.txt */
    run_info_t info;
    double width, lr;    /* NaN when not a positive number */
    const char *seed;    /* "" when unknown */
    char *group;         /* "optim=adamw" ("" = no other axes) */
} srun_t;

static const char *const colors[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

static void srun_free(srun_t *r) {
    for (int i = 0; i < r->n_keys; i++) free(r->keys[i]), free(r->vals[i]);
    free(r->keys), free(r->vals), free(r->axis), free(r->name), free(r->group);
    kv_free(&r->cfg);
}

/* point.json -> keys, values and axis indices (no file: no axes). */
static int read_point(const char *path, srun_t *r) {
    char *buf = NULL;
    size_t len;
    if (mu_file_read_all(path, (void **)&buf, &len) != MU_OK) {
        mu_clear_error();
        return MU_OK;
    }
    cJSON *o = cJSON_Parse(buf);
    free(buf);
    const cJSON *axes = cJSON_GetObjectItemCaseSensitive(o, "axes"), *pt = cJSON_GetObjectItemCaseSensitive(o, "point");
    if (!cJSON_IsArray(axes) || !cJSON_IsObject(pt)) {
        cJSON_Delete(o);
        return mu_set_error(MU_EFORMAT, "%s: expected {\"axes\": [[key...]...], \"point\": {...}}", path);
    }
    int n = 0, ai = 0;
    const cJSON *ax, *k;
    cJSON_ArrayForEach(ax, axes) n += cJSON_GetArraySize(ax);
    r->keys = calloc((size_t)n + 1, sizeof *r->keys);
    r->vals = calloc((size_t)n + 1, sizeof *r->vals);
    r->axis = calloc((size_t)n + 1, sizeof *r->axis);
    int rc = r->keys && r->vals && r->axis ? MU_OK : mu_set_error(MU_ENOMEM, "out of memory");
    cJSON_ArrayForEach(ax, axes) {
        cJSON_ArrayForEach(k, ax) {
            const cJSON *v = cJSON_IsString(k) ? cJSON_GetObjectItemCaseSensitive(pt, k->valuestring) : NULL;
            if (rc != MU_OK || !cJSON_IsString(v)) continue;
            r->keys[r->n_keys] = strdup(k->valuestring);
            r->vals[r->n_keys] = strdup(v->valuestring);
            r->axis[r->n_keys] = ai;
            r->n_keys++;
        }
        ai++;
    }
    cJSON_Delete(o);
    return rc;
}

static int key_index(const srun_t *r, const char *key) {
    for (int i = 0; i < r->n_keys; i++)
        if (!strcmp(r->keys[i], key)) return i;
    return -1;
}

/* A key's value: the resolved config first (canonical numbers), then point.json. */
static const char *run_value(const srun_t *r, const char *key) {
    const char *v = kv_get(&r->cfg, key);
    if (v) return v;
    int i = key_index(r, key);
    return i >= 0 ? r->vals[i] : NULL;
}

static double positive_num(const char *s) {
    if (!s || !*s) return NAN;
    char *e;
    double v = strtod(s, &e);
    return *e == 0 && v > 0 && isfinite(v) ? v : NAN;
}

static int load_run(const char *runs_dir, const char *name, const sweep_summary_opts_t *o, srun_t *r) {
    char p[4600];
    r->name = strdup(name);
    snprintf(p, sizeof p, "%s/%s/point.json", runs_dir, name);
    if (read_point(p, r) != MU_OK) return -1;
    snprintf(p, sizeof p, "%s/%s/config.txt", runs_dir, name);
    if (kv_read(p, &r->cfg) != MU_OK) mu_clear_error(); /* never started: no config yet */
    snprintf(p, sizeof p, "%s/%s", runs_dir, name);
    run_info_read(p, &r->info);
    r->width = positive_num(run_value(r, o->width_key));
    r->lr = positive_num(run_value(r, o->lr_key));
    r->seed = run_value(r, o->seed_key);
    if (!r->seed) r->seed = "";
    /* group label: the values of every axis that is not (zipped with) width, LR or seed */
    int skip[3] = {-1, -1, -1}, i;
    if ((i = key_index(r, o->width_key)) >= 0) skip[0] = r->axis[i];
    if ((i = key_index(r, o->lr_key)) >= 0) skip[1] = r->axis[i];
    if ((i = key_index(r, o->seed_key)) >= 0) skip[2] = r->axis[i];
    size_t cap = 1;
    for (i = 0; i < r->n_keys; i++) cap += strlen(r->keys[i]) + strlen(r->vals[i]) + 2;
    r->group = calloc(cap, 1);
    if (!r->name || !r->group) return mu_set_error(MU_ENOMEM, "out of memory");
    for (i = 0; i < r->n_keys; i++) {
        if (r->axis[i] == skip[0] || r->axis[i] == skip[1] || r->axis[i] == skip[2]) continue;
        if (r->group[0]) strcat(r->group, ",");
        strcat(r->group, r->keys[i]);
        strcat(r->group, "=");
        strcat(r->group, r->vals[i]);
    }
    return MU_OK;
}

/* ---- CSV ---- */

static void csv_field(FILE *f, const char *s) {
    if (!s) s = "";
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v) {
    if (isnan(v)) return;
    if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", f);
    else fprintf(f, "%.9g", v);
}

static int write_csv(const char *path, srun_t *runs, int n, const sweep_summary_opts_t *o) {
    /* columns: name, the union of axis keys (first seen first), seed if not an axis, results */
    const char **cols = calloc((size_t)n * 16 + 64, sizeof *cols);
    if (!cols) return mu_set_error(MU_ENOMEM, "out of memory");
    int nc = 0, cap = n * 16 + 63;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < runs[i].n_keys; k++) {
            int seen = 0;
            for (int c = 0; c < nc && !seen; c++) seen = !strcmp(cols[c], runs[i].keys[k]);
            if (!seen && nc < cap) cols[nc++] = runs[i].keys[k];
        }
    int seed_col = 1;
    for (int c = 0; c < nc; c++) seed_col &= strcmp(cols[c], o->seed_key) != 0;
    if (seed_col) cols[nc++] = o->seed_key;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        free(cols);
        return mu_set_error(MU_ENOMEM, "out of memory");
    }
    fputs("name", f);
    for (int c = 0; c < nc; c++) fputc(',', f), csv_field(f, cols[c]);
    fputs(",val_loss,tokens,train_s,wall_s,status\n", f);
    for (int i = 0; i < n; i++) {
        const srun_t *r = &runs[i];
        csv_field(f, r->name);
        for (int c = 0; c < nc; c++) {
            fputc(',', f);
            int k = key_index(r, cols[c]);
            csv_field(f, k >= 0 ? r->vals[k] : run_value(r, cols[c]));
        }
        fputc(',', f), csv_num(f, r->info.val_loss);
        fputc(',', f), csv_num(f, r->info.tokens);
        fputc(',', f), csv_num(f, r->info.train_s);
        fputc(',', f), csv_num(f, r->info.wall_s);
        fprintf(f, ",%s\n", run_state_name(r->info.state));
    }
    fclose(f);
    free(cols);
    int rc = buf ? mu_file_write_atomic(path, buf, len) : mu_set_error(MU_ENOMEM, "out of memory");
    free(buf);
    return rc;
}

/* ---- per-group analysis ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorted distinct values of v[0..n) in place; returns the count. */
static int distinct(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || v[i] != v[m - 1]) v[m++] = v[i];
    return m;
}

typedef struct {
    double width;
    int n_lr, n_seeds;
    double *lr, *log2_lr, *loss, *mean; /* loss: n_seeds rows of n_lr */
    const char **seed;                  /* the seed of each loss row */
} gwidth_t;

static void print_lr(FILE *f, double v) {
    if (!isfinite(v)) fputs("-", f);
    else fprintf(f, "%.4g", v);
}

/* The optima of a group into o->collect (when there is room). */
static void collect(const sweep_summary_opts_t *o, const char *label, const gwidth_t *gw,
                    const mu_lr_optimum_t *opt, int nw, const mu_transfer_t *t) {
    sweep_collect_t *c = o->collect;
    if (!c) return;
    if (c->n >= c->cap || nw > SWEEP_MAX_WIDTHS) c->dropped++;
    if (c->n >= c->cap) return;
    sweep_optima_t *r = &c->items[c->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->group, sizeof r->group, "%s", label);
    r->n = nw < SWEEP_MAX_WIDTHS ? nw : SWEEP_MAX_WIDTHS;
    for (int i = 0; i < r->n; i++) {
        r->width[i] = gw[i].width;
        r->log2_lr[i] = opt[i].index >= 0 ? opt[i].log2_lr : NAN;
        r->edge[i] = opt[i].index >= 0 && opt[i].edge;
        r->seeds[i] = gw[i].n_seeds;
    }
    r->t = *t;
}

/* An LR as a table header: 2^k when it is a power of two to the digits the files keep
 * (config.txt writes 2^-13 as 0.000122070312, 9 digits), else %.4g. */
static void print_lr_head(FILE *f, double v) {
    const double k = log2(v);
    if (fabs(k - round(k)) < 1e-6 && fabs(k) < 1000) fprintf(f, "2^%d", (int)round(k));
    else fprintf(f, "%.4g", v);
}

/* The seed-mean final loss at every (width, LR) of the group, the numbers the optima come from:
 * one row per width, one column per LR of any width ("-": not run at that width), the best grid
 * point in bold, "inf" where a seed diverged. */
static int loss_table(const gwidth_t *gw, int nw, const mu_lr_optimum_t *opt, const sweep_summary_opts_t *o,
                      FILE *out) {
    int cap = 0;
    for (int wi = 0; wi < nw; wi++) cap += gw[wi].n_lr;
    double *lrs = malloc(sizeof(double) * (size_t)cap + 1);
    if (!lrs) return mu_set_error(MU_ENOMEM, "out of memory");
    int nl = 0;
    for (int wi = 0; wi < nw; wi++)
        for (int j = 0; j < gw[wi].n_lr; j++) lrs[nl++] = gw[wi].lr[j];
    nl = distinct(lrs, nl);
    fprintf(out, "seed-mean final loss per %s (bold: the best grid point; inf: a seed diverged):\n\n| %s |",
            o->lr_key, o->width_key);
    for (int k = 0; k < nl; k++) fputc(' ', out), print_lr_head(out, lrs[k]), fputs(" |", out);
    fputs("\n|---:|", out);
    for (int k = 0; k < nl; k++) fputs("---:|", out);
    fputc('\n', out);
    for (int wi = 0; wi < nw; wi++) {
        const gwidth_t *w = &gw[wi];
        fprintf(out, "| %g |", w->width);
        for (int k = 0, j = 0; k < nl; k++) {
            while (j < w->n_lr && w->lr[j] < lrs[k]) j++; /* both ascending */
            if (j == w->n_lr || w->lr[j] != lrs[k] || isnan(w->mean[j])) fputs(" - |", out);
            else if (isinf(w->mean[j])) fputs(" inf |", out);
            else if (j == opt[wi].index) fprintf(out, " **%.4f** |", w->mean[j]);
            else fprintf(out, " %.4f |", w->mean[j]);
        }
        fputc('\n', out);
    }
    fputc('\n', out);
    free(lrs);
    return MU_OK;
}

/* Each seed's own optimum per width and its slope: how much of the seed-mean drift one seed
 * moves (printed when the group has two seeds or more). */
static int per_seed_table(const gwidth_t *gw, int nw, const sweep_summary_opts_t *o, FILE *out) {
    int cap = 0; /* the group's seeds are at most all widths' seeds together */
    for (int wi = 0; wi < nw; wi++) cap += gw[wi].n_seeds;
    const char **names = calloc((size_t)cap + 1, sizeof *names);
    double *x = malloc(sizeof(double) * (size_t)nw + 1), *y = malloc(sizeof(double) * (size_t)nw + 1);
    if (!names || !x || !y) {
        free(names), free(x), free(y);
        return mu_set_error(MU_ENOMEM, "out of memory");
    }
    int ns = 0; /* the group's seeds in order of first appearance */
    for (int wi = 0; wi < nw; wi++)
        for (int s = 0; s < gw[wi].n_seeds; s++) {
            int k = 0;
            while (k < ns && strcmp(names[k], gw[wi].seed[s])) k++;
            if (k == ns) names[ns++] = gw[wi].seed[s];
        }
    if (ns >= 2) {
        fprintf(out,
                "per %s (its own optimum per %s, from its runs alone; e = edge of the grid; - = not every LR "
                "finished):\n\n",
                o->seed_key, o->width_key);
        fprintf(out, "| %s | log2 %s* per %s | slope |\n|---|---|---:|\n", o->seed_key, o->lr_key, o->width_key);
    }
    for (int k = 0; k < ns && ns >= 2; k++) {
        int np = 0;
        fprintf(out, "| %s | ", names[k]);
        for (int wi = 0; wi < nw; wi++) {
            const gwidth_t *w = &gw[wi];
            int s = 0;
            while (s < w->n_seeds && strcmp(w->seed[s], names[k])) s++;
            mu_lr_optimum_t p = {.index = -1};
            int full = s < w->n_seeds; /* an optimum only from a seed that ran every LR of the width */
            for (int j = 0; full && j < w->n_lr; j++) full = !isnan(w->loss[(size_t)s * w->n_lr + j]);
            if (full && mu_lr_optimum(w->log2_lr, w->loss + (size_t)s * w->n_lr, w->n_lr, &p) != MU_OK)
                p.index = -1, mu_clear_error();
            if (p.index < 0) fprintf(out, "%s-", wi ? ", " : "");
            else fprintf(out, "%s%.3f%s", wi ? ", " : "", p.log2_lr, p.edge ? "e" : "");
            if (p.index >= 0) x[np] = log2(w->width), y[np++] = p.log2_lr;
        }
        double sl;
        if (np >= 2 && mu_lsq_slope(x, y, np, &sl) == MU_OK) fprintf(out, " | %.3f |\n", sl);
        else fputs(" | - |\n", out), mu_clear_error();
    }
    if (ns >= 2) fputc('\n', out);
    free(names), free(x), free(y);
    return MU_OK;
}

/* One group's table, drift, slope and SVG panel (series appended to se, n_se counting). */
static int analyze_group(srun_t **g, int n, const char *label, const sweep_summary_opts_t *o, FILE *out,
                         mu_plot_series_t *se, char *owned, int *n_se, double *xy, int *n_xy) {
    double *ws = malloc(sizeof(double) * (size_t)n);
    gwidth_t *gw = calloc((size_t)n, sizeof *gw);
    mu_transfer_width_t *tw = calloc((size_t)n, sizeof *tw);
    mu_lr_optimum_t *opt = calloc((size_t)n, sizeof *opt);
    const char **seeds = calloc((size_t)n, sizeof *seeds);
    int rc = ws && gw && tw && opt && seeds ? MU_OK : mu_set_error(MU_ENOMEM, "out of memory");
    int nw = 0, n_dup = 0, n_missing = 0;
    if (rc == MU_OK) {
        for (int i = 0; i < n; i++) ws[i] = g[i]->width;
        nw = distinct(ws, n);
    }
    for (int wi = 0; wi < nw && rc == MU_OK; wi++) {
        gwidth_t *w = &gw[wi];
        w->width = ws[wi];
        w->lr = malloc(sizeof(double) * (size_t)n);
        w->log2_lr = malloc(sizeof(double) * (size_t)n);
        w->mean = malloc(sizeof(double) * (size_t)n);
        if (!w->lr || !w->log2_lr || !w->mean) {
            rc = mu_set_error(MU_ENOMEM, "out of memory");
            break;
        }
        for (int i = 0; i < n; i++) {
            if (g[i]->width != w->width) continue;
            w->lr[w->n_lr++] = g[i]->lr;
            int s = 0;
            while (s < w->n_seeds && strcmp(seeds[s], g[i]->seed)) s++;
            if (s == w->n_seeds) seeds[w->n_seeds++] = g[i]->seed;
        }
        w->n_lr = distinct(w->lr, w->n_lr);
        for (int j = 0; j < w->n_lr; j++) w->log2_lr[j] = log2(w->lr[j]);
        w->loss = malloc(sizeof(double) * (size_t)w->n_seeds * (size_t)w->n_lr);
        w->seed = malloc(sizeof *w->seed * (size_t)w->n_seeds);
        if (w->seed) memcpy(w->seed, seeds, sizeof *w->seed * (size_t)w->n_seeds);
        if (!w->loss || !w->seed) {
            rc = mu_set_error(MU_ENOMEM, "out of memory");
            break;
        }
        for (int k = 0; k < w->n_seeds * w->n_lr; k++) w->loss[k] = NAN;
        for (int i = 0; i < n; i++) {
            if (g[i]->width != w->width) continue;
            int s = 0, j = 0;
            while (strcmp(seeds[s], g[i]->seed)) s++;
            while (w->lr[j] != g[i]->lr) j++;
            double *cell = &w->loss[s * w->n_lr + j];
            if (!isnan(*cell)) n_dup++; /* two runs for one (width, lr, seed): the first counts */
            else *cell = g[i]->info.val_loss;
        }
        tw[wi] = (mu_transfer_width_t){.log2_width = log2(w->width), .n_lr = w->n_lr, .log2_lr = w->log2_lr,
                                       .n_seeds = w->n_seeds, .loss = w->loss};
        rc = mu_transfer_seed_mean(&tw[wi], w->mean);
    }
    mu_transfer_t t;
    if (rc == MU_OK) rc = mu_transfer_analyze(tw, nw, o->n_boot, o->boot_seed, opt, &t);
    if (rc == MU_OK) collect(o, label, gw, opt, nw, &t);
    if (rc == MU_OK) {
        fprintf(out, "| %s | seeds | LRs | best grid %s | seed-mean loss | %s* | log2 %s* | note |\n", o->width_key,
                o->lr_key, o->lr_key, o->lr_key);
        fprintf(out, "|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (int wi = 0; wi < nw; wi++) {
            const gwidth_t *w = &gw[wi];
            const mu_lr_optimum_t *p = &opt[wi];
            int missing = 0; /* (seed, LR) cells of this width without a finished run */
            for (int k = 0; k < w->n_seeds * w->n_lr; k++) missing += isnan(w->loss[k]);
            n_missing += missing;
            fprintf(out, "| %g | %d | %d | ", w->width, w->n_seeds, w->n_lr);
            print_lr(out, p->index >= 0 ? w->lr[p->index] : NAN);
            if (p->index >= 0) fprintf(out, " | %.4f | ", p->loss);
            else fputs(" | - | ", out);
            print_lr(out, exp2(p->log2_lr));
            if (p->index >= 0) fprintf(out, " | %.3f | ", p->log2_lr);
            else fputs(" | - | ", out);
            if (p->index < 0) fputs("no finite loss (all diverged)", out);
            else if (p->edge && w->n_lr == 1) fputs("single LR", out);
            else if (p->edge)
                fprintf(out, "edge of the grid (%s %s): not refined", p->index == 0 ? "smallest" : "largest",
                        o->lr_key);
            else if (!p->refined) fputs("grid point (a neighbour diverged)", out);
            else fputs("parabola vertex", out);
            if (missing) fprintf(out, "; %d of %d runs missing", missing, w->n_seeds * w->n_lr);
            fputs(" |\n", out);
        }
        fputc('\n', out);
        if (t.n_opt > 0)
            fprintf(out, "drift: %.3f in log2 %s = %.2f grid steps of %.3g (over %d width%s%s)\n", t.drift,
                    o->lr_key, t.drift_steps, t.grid_step, (int)t.n_opt, t.n_opt == 1 ? "" : "s",
                    t.n_edge ? "; an optimum on the grid edge is only a bound" : "");
        else fprintf(out, "drift: n/a (no width has a finite loss)\n");
        if (isfinite(t.slope)) {
            fprintf(out, "slope of log2 %s* vs log2 %s: %.3f", o->lr_key, o->width_key, t.slope);
            if (t.n_boot > 0)
                fprintf(out, ", 90%% seed-bootstrap interval [%.3f, %.3f] (%d resamples)\n", t.slope_lo, t.slope_hi,
                        (int)t.n_boot);
            else fputs("\n", out);
        } else {
            fprintf(out, "slope: n/a (needs optima at 2 or more widths)\n");
        }
        if (n_dup) fprintf(out, "note: %d runs repeat a (width, lr, seed) cell already counted\n", n_dup);
        if (n_missing)
            fprintf(out, "note: %d (%s, %s, %s) cells have no finished run: their seed means average fewer seeds, "
                         "so these optima are provisional\n",
                    n_missing, o->width_key, o->lr_key, o->seed_key);
        fputc('\n', out);
        rc = loss_table(gw, nw, opt, o, out);
        if (rc == MU_OK) rc = per_seed_table(gw, nw, o, out);
        /* SVG: one curve per width (seed means), a dashed vertical line at each optimum */
        double ylo = INFINITY, yhi = -INFINITY;
        for (int wi = 0; wi < nw; wi++)
            for (int j = 0; j < gw[wi].n_lr; j++)
                if (isfinite(gw[wi].mean[j])) ylo = fmin(ylo, gw[wi].mean[j]), yhi = fmax(yhi, gw[wi].mean[j]);
        for (int wi = 0; wi < nw; wi++) {
            gwidth_t *w = &gw[wi];
            char *label = malloc(64 + strlen(o->width_key));
            if (label) sprintf(label, "%s=%g", o->width_key, w->width);
            else rc = mu_set_error(MU_ENOMEM, "out of memory");
            owned[*n_se] = 1; /* the curve owns its label, x (LRs) and y (means) */
            se[(*n_se)++] = (mu_plot_series_t){.label = label, .x = w->lr, .y = w->mean, .n = w->n_lr, .markers = 1,
                                               .color = colors[wi % 10]};
            w->lr = w->mean = NULL;
            if (opt[wi].index < 0 || !isfinite(ylo)) continue;
            double *x = &xy[*n_xy], *y = &xy[*n_xy + 2];
            *n_xy += 4;
            x[0] = x[1] = exp2(opt[wi].log2_lr);
            y[0] = ylo, y[1] = yhi;
            se[(*n_se)++] = (mu_plot_series_t){.x = x, .y = y, .n = 2, .dashed = 1, .color = colors[wi % 10]};
        }
    }
    for (int wi = 0; wi < nw; wi++)
        free(gw[wi].lr), free(gw[wi].log2_lr), free(gw[wi].loss), free(gw[wi].mean), free(gw[wi].seed);
    free(ws), free(gw), free(tw), free(opt), free(seeds);
    return rc;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(const struct dirent *const *)a)->d_name, (*(const struct dirent *const *)b)->d_name);
}

static int is_run_dir(const struct dirent *d) { return d->d_name[0] != '.'; }

/* Whether a run is among the widths and seeds asked for (none asked: every run). */
static int run_wanted(const sweep_summary_opts_t *o, const srun_t *r) {
    int w = o->n_widths == 0, s = o->n_seeds == 0;
    for (int i = 0; i < o->n_widths && !w; i++) w = o->widths[i] == r->width;
    for (int i = 0; i < o->n_seeds && !s; i++) s = !strcmp(o->seeds[i], r->seed);
    return w && s;
}

int sweep_summary(const sweep_summary_opts_t *o, FILE *out) {
    char runs_dir[4200], p[4600];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", o->dir);
    struct dirent **ents = NULL;
    int n_ent = scandir(runs_dir, &ents, is_run_dir, (int (*)(const struct dirent **, const struct dirent **))cmp_name);
    if (n_ent < 0) return mu_set_error(MU_EIO, "%s: cannot read the run directories (is %s a sweep directory?)",
                                       runs_dir, o->dir);
    srun_t *runs = calloc((size_t)n_ent + 1, sizeof *runs);
    int n = 0, rc = runs ? MU_OK : mu_set_error(MU_ENOMEM, "out of memory");
    for (int i = 0; i < n_ent && rc == MU_OK; i++) {
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", runs_dir, ents[i]->d_name);
        if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
        if (load_run(runs_dir, ents[i]->d_name, o, &runs[n]) != MU_OK) {
            rc = -1;
            n++;
            break;
        }
        if (run_wanted(o, &runs[n])) n++;
        else srun_free(&runs[n]), memset(&runs[n], 0, sizeof runs[n]);
    }
    for (int i = 0; i < n_ent; i++) free(ents[i]);
    free(ents);
    if (rc == MU_OK && n == 0 && (o->n_widths || o->n_seeds))
        rc = mu_set_error(MU_EINVAL, "%s: no run at the widths and seeds asked for", runs_dir);
    else if (rc == MU_OK && n == 0) rc = mu_set_error(MU_EINVAL, "%s: no run directories", runs_dir);
    int counts[5] = {0};
    for (int i = 0; i < n; i++) counts[runs[i].info.state]++;
    if (rc == MU_OK && !o->no_files) {
        snprintf(p, sizeof p, "%s/summary.csv", o->dir);
        rc = write_csv(p, runs, n, o);
    }
    char *md = NULL;
    size_t md_len = 0;
    FILE *f = rc == MU_OK ? open_memstream(&md, &md_len) : NULL;
    if (rc == MU_OK && !f) rc = mu_set_error(MU_ENOMEM, "out of memory");
    /* groups in order of first appearance; each gets a section and a panel */
    srun_t **g = calloc((size_t)n + 1, sizeof *g);
    int *done = calloc((size_t)n + 1, sizeof *done);
    mu_plot_series_t *se = calloc((size_t)n * 2 + 1, sizeof *se);
    char *owned = calloc((size_t)n * 2 + 1, 1);
    double *xy = calloc((size_t)n * 4 + 1, sizeof *xy);
    mu_plot_panel_t *panels = calloc((size_t)n + 1, sizeof *panels);
    if (rc == MU_OK && (!g || !done || !se || !owned || !xy || !panels)) rc = mu_set_error(MU_ENOMEM, "out of memory");
    int n_se = 0, n_xy = 0, n_panels = 0, n_unusable = 0;
    if (rc == MU_OK) {
        fprintf(f, "# sweep summary: %s\n\n", o->dir);
        fprintf(f, "runs: %d (%d done, %d diverged, %d failed, %d incomplete, %d not started)\n", n, counts[RUN_DONE],
                counts[RUN_DIVERGED], counts[RUN_FAILED], counts[RUN_INCOMPLETE], counts[RUN_NEW]);
        fprintf(f, "optimum per %s: argmin over %s of the seed-mean final val loss (diverged = +inf), refined by "
                   "a parabola in log2 %s through the argmin and its neighbours; seeds: %s; bootstrap RNG seed "
                   "%llu\n\n",
                o->width_key, o->lr_key, o->lr_key, o->seed_key, (unsigned long long)o->boot_seed);
    }
    for (int i = 0; i < n && rc == MU_OK; i++) {
        if (done[i]) continue;
        int ng = 0;
        for (int j = i; j < n; j++) {
            if (done[j] || strcmp(runs[j].group, runs[i].group)) continue;
            done[j] = 1;
            const srun_t *r = &runs[j];
            if (r->info.state != RUN_DONE && r->info.state != RUN_DIVERGED) continue;
            if (isnan(r->width) || isnan(r->lr)) {
                n_unusable++;
                continue;
            }
            g[ng++] = &runs[j];
        }
        const char *label = runs[i].group[0] ? runs[i].group : "all runs";
        fprintf(f, "## %s\n\n", label);
        if (ng == 0) {
            fprintf(f, "no finished runs\n\n");
            continue;
        }
        int se0 = n_se;
        rc = analyze_group(g, ng, runs[i].group, o, f, se, owned, &n_se, xy, &n_xy);
        mu_plot_panel_t *pn = &panels[n_panels++];
        *pn = mu_plot_panel_default();
        pn->title = label;
        pn->xlabel = o->lr_key;
        pn->ylabel = "final val loss (seed mean)";
        pn->xscale = MU_AXIS_LOG2;
        /* a quarter step of room on both sides, so an optimum on the grid edge stays visible */
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < ng; k++) lo = fmin(lo, g[k]->lr), hi = fmax(hi, g[k]->lr);
        pn->xmin = lo * 0.84, pn->xmax = hi / 0.84;
        pn->series = se + se0;
        pn->n_series = n_se - se0;
    }
    if (rc == MU_OK && n_unusable)
        fprintf(f, "note: %d finished runs lack a positive numeric %s or %s in config.txt and are left out\n",
                n_unusable, o->width_key, o->lr_key);
    if (f) fclose(f);
    if (rc == MU_OK && !o->no_files) {
        snprintf(p, sizeof p, "%s/summary.md", o->dir);
        rc = mu_file_write_atomic(p, md, md_len);
    }
    if (rc == MU_OK && n_panels > 0 && !o->no_files) {
        char title[256];
        snprintf(title, sizeof title, "val loss vs %s per %s (dashed: optimum)", o->lr_key, o->width_key);
        mu_plot_figure_t fig = {.title = title, .panels = panels, .n_panels = n_panels, .cols = n_panels < 2 ? 1 : 2,
                                .panel_w = 560, .panel_h = 380};
        snprintf(p, sizeof p, "%s/summary.svg", o->dir);
        rc = mu_plot_svg_write(&fig, p);
    }
    if (rc == MU_OK && out) fwrite(md, 1, md_len, out);
    for (int i = 0; i < n_se; i++)
        if (owned[i]) free((void *)se[i].label), free((void *)se[i].x), free((void *)se[i].y);
    for (int i = 0; i < n; i++) srun_free(&runs[i]);
    free(runs), free(g), free(done), free(se), free(owned), free(xy), free(panels), free(md);
    return rc;
}
