/* cmd_sweep.c — `muon sweep`: run `muon train` over a grid of option values, one run
 * directory per grid point (DIR/runs/<name>), N runs at a time, resumable, then a summary
 * (sweep_summary.c: optimal LR per width, drift, slope; spec §6).
 *
 * Each run is this same binary (/proc/self/exe) started as `muon train --out RUN_DIR ...`
 * in its own process group, stdout and stderr in RUN_DIR/log.txt. A run is finished when
 * its metrics hold the final eval (or RUN_DIR/result.json, written by the sweep when the
 * run ends, says done or diverged); a finished run is skipped by the next sweep, an
 * unfinished one is resumed from its checkpoint when it has one and rerun from scratch
 * otherwise. Runs are deterministic given their thread count and GEMM engine, so the
 * results do not depend on --jobs as long as each run gets the same --threads. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cJSON.h"
#include "cli.h"
#include "options.h"
#include "sweep.h"

#define MAX_AXES 16
#define MAX_ZIP 8          /* keys zipped into one axis (d-model/n-head) */
#define MAX_POINTS 100000
#define NAME_MAX_LEN 160   /* longer names are cut and get a hash suffix */
#define MAX_OTHER 4096     /* finished runs outside the grid read for the ETA */

static const char *usage_text =
    "usage: muon sweep --out DIR --grid KEY=V1,V2,... [--grid ...]... [--config BASE.conf]\n"
    "                  [--set KEY=VALUE]... [--jobs N] [--threads T] [--ckpt none|last]\n"
    "                  [--dry-run] [-- extra `muon train` flags]\n"
    "       muon sweep --out DIR --summary-only [--width-key K] [--lr-key K] [--seed-key K]\n\n"
    "Runs `muon train` once per point of the grid (the product of the --grid axes) in\n"
    "DIR/runs/<KEY=VALUE,...>, log in RUN_DIR/log.txt, then writes DIR/summary.{csv,md,svg}:\n"
    "per width the optimal LR (argmin of the seed-mean final val loss, parabola-refined in\n"
    "log2 LR), its drift and slope over widths with a 90% seed-bootstrap interval.\n"
    "Grid values: V1,V2,... (2^E allowed) | LO:HI (factor-2 steps, HI/LO = 2^k) |\n"
    "geom:CENTER:N (N factor-2 points centred on CENTER) | A..B (integers A to B).\n"
    "Zipped axis: --grid d-model/n-head=64/2,128/4,256/8. Optimizer hyperparameters:\n"
    "--grid opt.GROUP.TRANSFORM.KEY=V1,V2 (passed as --opt GROUP.TRANSFORM.KEY=V).\n"
    "Rerunning the same command skips finished runs and resumes or redoes the others.\n"
    "Exit: 0 ok, 1 some runs failed or interrupted, 2 usage error. Diverged runs are results.\n";

/* ---- strings that live until the command returns ---- */

static char **arena;
static size_t n_arena, cap_arena;

static char *keep(char *s) {
    if (!s) return NULL;
    if (n_arena == cap_arena) {
        size_t nc = cap_arena ? 2 * cap_arena : 256;
        char **p = realloc(arena, nc * sizeof *p);
        if (!p) {
            free(s);
            return NULL;
        }
        arena = p;
        cap_arena = nc;
    }
    return arena[n_arena++] = s;
}

static char *sdup(const char *s) { return keep(strdup(s)); }

static char *sfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sfmt(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return keep(s);
}

static void arena_free(void) {
    for (size_t i = 0; i < n_arena; i++) free(arena[i]);
    free(arena);
    arena = NULL;
    n_arena = cap_arena = 0;
}

/* ---- the grid ---- */

typedef struct {
    int n_keys;
    char *keys[MAX_ZIP];
    int n_vals;
    char **vals; /* n_vals × n_keys: value v of key k at vals[v * n_keys + k] */
} axis_t;

/* Options the sweep sets itself (or that make no sense per run). */
static const char *const reserved[] = {"out", "resume", "config", "threads", "ckpt", "help", "dry-run"};

static int is_reserved(const char *key) {
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (!strcmp(key, reserved[i])) return 1;
    return 0;
}

/* A number, or B^E (2^-10) as pow(B, E). 0 on success. */
static int parse_num(const char *s, double *v) {
    char *e;
    if (!*s) return -1;
    *v = strtod(s, &e);
    if (*e == 0) return isfinite(*v) ? 0 : -1;
    if (*e != '^' || e == s) return -1;
    char *e2;
    double x = strtod(e + 1, &e2);
    if (e2 == e + 1 || *e2) return -1;
    *v = pow(*v, x);
    return isfinite(*v) ? 0 : -1;
}

/* A value as passed to `muon train`: B^E is turned into its number, the rest kept as typed. */
static char *canon_value(const char *s) {
    double v;
    if (strchr(s, '^') && parse_num(s, &v) == 0) return sfmt("%.9g", v);
    return sdup(s);
}

/* KEY as `muon train` spells it: config-file style n_layer becomes n-layer (not inside opt.*). */
static int norm_key(char *k, char *err, size_t cap) {
    if (!*k) {
        snprintf(err, cap, "empty option name");
        return -1;
    }
    int opt = !strncmp(k, "opt.", 4);
    for (char *c = k; *c; c++) {
        if (!opt && *c == '_') *c = '-';
        if (!(isalnum((unsigned char)*c) || strchr("-_.*", *c))) {
            snprintf(err, cap, "option name '%s': unexpected character '%c'", k, *c);
            return -1;
        }
    }
    if (is_reserved(k)) {
        snprintf(err, cap, "'%s' is set by the sweep itself%s", k,
                 !strcmp(k, "threads") ? " (muon sweep --threads T is split over --jobs)" : "");
        return -1;
    }
    return 0;
}

/* Expand one axis value spec of a single-key axis into a list; returns the count or -1. */
static int expand_range(const char *spec, char ***out, char *err, size_t cap) {
    double c, lo, hi;
    char *e;
    if (!strncmp(spec, "geom:", 5)) { /* geom:CENTER:N — CENTER · 2^(k − (N−1)/2), k = 0..N−1 */
        char buf[256];
        snprintf(buf, sizeof buf, "%s", spec + 5);
        char *colon = strrchr(buf, ':');
        long n = colon ? strtol(colon + 1, &e, 10) : 0;
        if (colon) *colon = 0;
        if (!colon || *e || n < 1 || n > 64 || parse_num(buf, &c) != 0 || c <= 0) {
            snprintf(err, cap, "'%s': expected geom:CENTER:N with CENTER > 0 and 1 <= N <= 64", spec);
            return -1;
        }
        *out = calloc((size_t)n, sizeof **out);
        for (long k = 0; *out && k < n; k++) (*out)[k] = sfmt("%.9g", c * exp2((double)k - (n - 1) / 2.0));
        return *out ? (int)n : -1;
    }
    const char *dots = strstr(spec, "..");
    if (dots) { /* A..B — integers */
        long a = strtol(spec, &e, 10);
        if (e != dots || !dots[2]) return 0;
        long b = strtol(dots + 2, &e, 10);
        if (*e) return 0;
        if (b < a || b - a >= 10000) {
            snprintf(err, cap, "'%s': expected A..B with A <= B and at most 10000 values", spec);
            return -1;
        }
        *out = calloc((size_t)(b - a + 1), sizeof **out);
        for (long k = a; *out && k <= b; k++) (*out)[k - a] = sfmt("%ld", k);
        return *out ? (int)(b - a + 1) : -1;
    }
    const char *colon = strchr(spec, ':');
    if (colon) { /* LO:HI — LO · 2^k up to HI */
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)(colon - spec), spec);
        if (parse_num(buf, &lo) != 0 || parse_num(colon + 1, &hi) != 0) return 0; /* a literal value */
        double k = lo > 0 && hi >= lo ? log2(hi / lo) : -1;
        if (!(k >= 0 && k <= 64 && fabs(k - round(k)) < 1e-9)) {
            snprintf(err, cap, "'%s': LO:HI needs 0 < LO <= HI with HI/LO a power of two (factor-2 steps)", spec);
            return -1;
        }
        int n = (int)round(k) + 1;
        *out = calloc((size_t)n, sizeof **out);
        for (int i = 0; *out && i < n; i++) (*out)[i] = sfmt("%.9g", ldexp(lo, i));
        return *out ? n : -1;
    }
    return 0; /* not a range */
}

/* Parse --grid KEYS=VALUES into ax. */
static int parse_axis(const char *spec, axis_t *ax, char *err, size_t cap) {
    memset(ax, 0, sizeof *ax);
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) {
        snprintf(err, cap, "--grid %s: expected KEY=V1,V2,... (or K1/K2=a1/a2,b1/b2,...)", spec);
        return -1;
    }
    char *keys = sfmt("%.*s", (int)(eq - spec), spec), *save = NULL;
    if (!keys) goto oom;
    for (char *k = strtok_r(keys, "/", &save); k; k = strtok_r(NULL, "/", &save)) {
        if (ax->n_keys == MAX_ZIP) {
            snprintf(err, cap, "--grid %s: at most %d zipped keys", spec, MAX_ZIP);
            return -1;
        }
        char e2[256];
        if (norm_key(k, e2, sizeof e2) != 0) {
            snprintf(err, cap, "--grid %s: %s", spec, e2);
            return -1;
        }
        ax->keys[ax->n_keys++] = k;
    }
    const char *vals = eq + 1;
    char **list = NULL;
    int n = 0;
    if (ax->n_keys == 1 && !strchr(vals, ',')) {
        char e2[512];
        e2[0] = 0;
        n = expand_range(vals, &list, e2, sizeof e2);
        if (n < 0) {
            free(list);
            if (!e2[0]) goto oom;
            snprintf(err, cap, "--grid %s: %s", spec, e2);
            return -1;
        }
    }
    if (n == 0) { /* an explicit list */
        char *copy = sdup(vals);
        if (!copy) goto oom;
        int m = 1;
        for (const char *c = vals; *c; c++) m += *c == ',';
        list = calloc((size_t)m, sizeof *list);
        if (!list) goto oom;
        for (char *v = strtok_r(copy, ",", &save); v; v = strtok_r(NULL, ",", &save)) list[n++] = v;
        if (n != m) {
            free(list);
            snprintf(err, cap, "--grid %s: empty value in the list", spec);
            return -1;
        }
    }
    ax->n_vals = n;
    ax->vals = calloc((size_t)n * (size_t)ax->n_keys, sizeof *ax->vals);
    if (!ax->vals || !keep((char *)ax->vals)) {
        free(list);
        goto oom;
    }
    for (int v = 0; v < n; v++) {
        /* K1/K2=a1/a2: split at every '/', no empty part */
        char *item = sdup(list[v]);
        if (!item) {
            free(list);
            goto oom;
        }
        int k = 0, empty = 0;
        for (char *part = item, *slash;; part = slash + 1) {
            slash = strchr(part, '/');
            if (slash) *slash = 0;
            empty |= !*part;
            if (k < ax->n_keys) ax->vals[v * ax->n_keys + k] = canon_value(part);
            k++;
            if (!slash) break;
        }
        if (k != ax->n_keys || empty) {
            snprintf(err, cap, "--grid %s: value '%s' has %d parts, expected %d (one per key)", spec, list[v], k,
                     ax->n_keys);
            free(list);
            return -1;
        }
        for (int u = 0; u < v; u++) {
            int same = 1;
            for (k = 0; k < ax->n_keys; k++) same &= !strcmp(ax->vals[u * ax->n_keys + k], ax->vals[v * ax->n_keys + k]);
            if (same) {
                snprintf(err, cap, "--grid %s: value '%s' appears twice", spec, list[v]);
                free(list);
                return -1;
            }
        }
    }
    free(list);
    return 0;
oom:
    snprintf(err, cap, "out of memory");
    return -1;
}

/* The `muon train` flag for KEY=VALUE: --KEY=VALUE, or --opt=REST=VALUE for opt.REST. */
static char *train_flag(const char *key, const char *val) {
    if (!strcmp(key, "opt")) return sfmt("--opt=%s", val);
    if (!strncmp(key, "opt.", 4)) return sfmt("--opt=%s=%s", key + 4, val);
    return sfmt("--%s=%s", key, val);
}

/* Filesystem- and shell-safe text for a run name: letters, digits, . - + ^ _ kept. */
static void name_append(char *dst, size_t cap, const char *s) {
    size_t n = strlen(dst);
    for (; *s && n + 8 < cap; s++) { /* room for "all", a separator and the NUL */
        unsigned char c = (unsigned char)*s;
        if (c == '*') {
            memcpy(dst + n, "all", 3);
            n += 3;
        } else {
            dst[n++] = isalnum(c) || strchr(".-+^_", c) ? (char)c : '_';
        }
    }
    dst[n] = 0;
}

/* Run name of a point: KEY=VALUE joined by commas in axis order ("d-model=64,lr=0.001"). */
static void point_name(const axis_t *ax, int n_ax, const int *idx, char *out, size_t cap) {
    char buf[4096];
    buf[0] = 0;
    for (int a = 0; a < n_ax; a++)
        for (int k = 0; k < ax[a].n_keys; k++) {
            const char *key = ax[a].keys[k];
            if (buf[0]) strcat(buf, ","); /* name_append leaves room for it */
            name_append(buf, sizeof buf, !strncmp(key, "opt.", 4) ? key + 4 : key);
            strcat(buf, "=");
            name_append(buf, sizeof buf, ax[a].vals[idx[a] * ax[a].n_keys + k]);
        }
    size_t len = strlen(buf);
    if (len <= NAME_MAX_LEN && len < cap) {
        memcpy(out, buf, len + 1);
        return;
    }
    /* too long for comfort: a prefix and a hash of the whole name keep it unique */
    snprintf(out, cap, "%.*s~%016llx", NAME_MAX_LEN - 18, buf,
             (unsigned long long)mu_checksum64(buf, strlen(buf), 0));
}

/* ---- run directories ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Remove a run directory and everything in it (only ever DIR/runs/<name>). */
static int wipe_dir(const char *dir) {
    struct stat sb;
    if (stat(dir, &sb) != 0) return MU_OK;
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return mu_set_error(MU_EIO, "%s: cannot remove the unfinished run: %s", dir, strerror(errno));
    return MU_OK;
}

/* RUN_DIR/point.json: the point's axes, values and the `muon train` arguments. */
static int write_point(const char *dir, const char *name, const axis_t *ax, int n_ax, const int *idx,
                       char *const *args) {
    cJSON *o = cJSON_CreateObject(), *axes = cJSON_AddArrayToObject(o, "axes"), *pt = cJSON_AddObjectToObject(o, "point");
    cJSON *ja = cJSON_AddArrayToObject(o, "args");
    if (!o || !axes || !pt || !ja) {
        cJSON_Delete(o);
        return mu_set_error(MU_ENOMEM, "out of memory");
    }
    cJSON_AddStringToObject(o, "name", name);
    for (int a = 0; a < n_ax; a++) {
        cJSON *keys = cJSON_CreateArray();
        cJSON_AddItemToArray(axes, keys);
        for (int k = 0; k < ax[a].n_keys; k++) {
            cJSON_AddItemToArray(keys, cJSON_CreateString(ax[a].keys[k]));
            cJSON_AddStringToObject(pt, ax[a].keys[k], ax[a].vals[idx[a] * ax[a].n_keys + k]);
        }
    }
    for (int i = 1; args[i]; i++) cJSON_AddItemToArray(ja, cJSON_CreateString(args[i]));
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s) return mu_set_error(MU_ENOMEM, "out of memory");
    char p[4600];
    snprintf(p, sizeof p, "%s/point.json", dir);
    int rc = mu_file_write_atomic(p, s, strlen(s));
    free(s);
    return rc;
}

/* 1 when RUN_DIR/point.json records exactly these `muon train` arguments. */
static int same_args(const char *dir, char *const *args) {
    char p[4600], *buf = NULL;
    size_t len;
    snprintf(p, sizeof p, "%s/point.json", dir);
    if (mu_file_read_all(p, (void **)&buf, &len) != MU_OK) {
        mu_clear_error();
        return 0;
    }
    cJSON *o = cJSON_Parse(buf);
    free(buf);
    const cJSON *ja = cJSON_GetObjectItemCaseSensitive(o, "args"), *it;
    int i = 1, same = cJSON_IsArray(ja);
    cJSON_ArrayForEach(it, ja) {
        /* the per-run thread count follows --jobs; any value is the same run */
        int threads_value = i > 1 && !strcmp(args[i - 1], "--threads");
        if (!args[i] || !cJSON_IsString(it) || (strcmp(it->valuestring, args[i]) && !threads_value)) same = 0;
        if (args[i]) i++;
    }
    same &= args[i] == NULL;
    cJSON_Delete(o);
    return same;
}

/* The last non-empty line of a log (for a failure message). */
static void last_line(const char *path, char *out, size_t cap) {
    char *buf = NULL;
    size_t len;
    out[0] = 0;
    if (mu_file_read_all(path, (void **)&buf, &len) != MU_OK) {
        mu_clear_error();
        return;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) buf[--len] = 0;
    char *s = buf + len;
    while (s > buf && s[-1] != '\n' && s[-1] != '\r') s--;
    snprintf(out, cap, "%s", s);
    free(buf);
}

/* ---- processes ---- */

static volatile sig_atomic_t n_signals;
static void on_signal(int sig) {
    (void)sig;
    n_signals++;
}

/* Start `exe args...` with stdout+stderr appended to (or replacing) log, stdin /dev/null, in
 * its own process group (a terminal's Ctrl-C reaches the sweep, which stops its runs), and
 * killed if the sweep dies. Returns the pid, or -1 with the error set. */
static pid_t launch(const char *exe, char *const *args, const char *log, int append) {
    int fd = open(log, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) return mu_set_error(MU_EIO, "%s: cannot open: %s", log, strerror(errno));
    dprintf(fd, "$ muon");
    for (int i = 1; args[i]; i++) dprintf(fd, " %s", args[i]);
    dprintf(fd, "\n");
    fflush(stdout), fflush(stderr);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        close(fd);
        return mu_set_error(MU_EIO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0);
        execv(exe, args);
        dprintf(2, "muon sweep: cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here: no window where a signal to the group misses it */
    close(fd);
    return pid;
}

static void fmt_duration(double s, char *out, size_t cap) {
    if (s < 60) snprintf(out, cap, "%.0fs", s);
    else if (s < 3600) snprintf(out, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(out, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

typedef struct {
    int point;        /* index into the point list */
    int resume;       /* 1: `muon train --resume RUN_DIR` */
    pid_t pid;
    double t0;
} job_t;

typedef struct {
    char name[256];
    char dir[4400];
    char **args;      /* fresh `muon train` argv (exe first, NULL-terminated) */
    int *idx;         /* value index per axis */
    double width;     /* the width key's value (NaN: not a grid axis) */
} point_t;

/* ---- ETA: runs of different widths cost very different times ---- */

typedef struct {
    double width, wall_s;
    int fresh; /* finished by this invocation (older times may have run on a busier machine) */
} timing_t;

/* Mean wall time of the finished runs of width w (NaN: of every width): those of this
 * invocation when it has any, else the older ones (NaN: none). */
static double mean_wall(const timing_t *tm, int n, double w) {
    double sum[2] = {0, 0};
    int k[2] = {0, 0};
    for (int i = 0; i < n; i++)
        if (isnan(w) || tm[i].width == w) sum[tm[i].fresh] += tm[i].wall_s, k[tm[i].fresh]++;
    return k[1] ? sum[1] / k[1] : k[0] ? sum[0] / k[0] : NAN;
}

/* Predicted wall time of a run of width w from the finished runs tm[0..n): the mean of those
 * of width w (mean_wall: this invocation's when it has any); for a width none finished, the
 * mean t0 of the nearest finished width w0 (in log width) × (w/w0)^e, e measured between w0
 * and the next nearest finished width (clamped to [0, 3]: small models are overhead-bound) or
 * 2 (the hidden matrices' FLOPs at fixed depth and tokens) when only one width finished;
 * without widths, the mean of all. */
static double predict_wall(const timing_t *tm, int n, double w) {
    double near = NAN, second = NAN;
    for (int i = 0; i < n && !isnan(w); i++) {
        const double wi = tm[i].width;
        if (isnan(wi) || wi == near || wi == second) continue;
        if (isnan(near) || fabs(log2(wi / w)) < fabs(log2(near / w))) second = near, near = wi;
        else if (isnan(second) || fabs(log2(wi / w)) < fabs(log2(second / w))) second = wi;
    }
    if (isnan(near)) return mean_wall(tm, n, NAN);
    const double t0 = mean_wall(tm, n, near);
    double e = 2;
    if (!isnan(second)) e = fmin(3, fmax(0, log(t0 / mean_wall(tm, n, second)) / log(near / second)));
    return t0 * pow(w / near, e);
}

/* Wall times of the finished runs in runs_dir that are not points of this grid (the other
 * seeds or widths of an earlier invocation) and ran with the same thread count: a sweep that
 * extends a study predicts its widths from the study's runs instead of from width scaling.
 * Returns how many were appended to tm (at most cap); unreadable entries are skipped. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static int other_timings(const char *runs_dir, const char *wkey, int per_run, const point_t *pts, long n_pts,
                         timing_t *tm, int cap) {
    const char **names = malloc(sizeof *names * (size_t)n_pts + 1); /* the grid's names, sorted */
    if (!names) return 0;
    for (long p = 0; p < n_pts; p++) names[p] = pts[p].name;
    qsort(names, (size_t)n_pts, sizeof *names, cmp_str);
    struct dirent **ents = NULL;
    int n_ent = scandir(runs_dir, &ents, NULL, NULL), n = 0;
    for (int i = 0; i < n_ent; i++) {
        const char *name = ents[i]->d_name;
        const int in_grid = name[0] == '.' || bsearch(&name, names, (size_t)n_pts, sizeof *names, cmp_str);
        char dir[4500], cfg[4600];
        snprintf(dir, sizeof dir, "%s/%s", runs_dir, name);
        snprintf(cfg, sizeof cfg, "%s/config.txt", dir);
        run_info_t ri;
        kv_t kv = {0};
        if (!in_grid && n < cap) run_info_read(dir, &ri);
        if (!in_grid && n < cap && ri.state == RUN_DONE && ri.wall_s > 0 && kv_read(cfg, &kv) == MU_OK) {
            const char *w = kv_get(&kv, wkey), *t = kv_get(&kv, "threads");
            const double width = w ? strtod(w, NULL) : NAN;
            if (width > 0 && isfinite(width) && t && atoi(t) == per_run) tm[n++] = (timing_t){width, ri.wall_s, 0};
        }
        mu_clear_error();
        kv_free(&kv);
        free(ents[i]);
    }
    free(ents), free(names);
    return n;
}

/* Seconds until the queued runs q[0..nq) and the running ones finish, `jobs` at a time (a
 * running run counts what is left of its prediction); NaN when no run has finished yet. */
static double eta_s(const timing_t *tm, int n_tm, const point_t *pts, const job_t *q, int nq, const job_t *run,
                    int n_run, int jobs) {
    if (n_tm == 0) return NAN;
    double left = 0, now = mu_time_s();
    for (int i = 0; i < nq; i++) left += predict_wall(tm, n_tm, pts[q[i].point].width);
    for (int i = 0; i < n_run; i++)
        left += fmax(0, predict_wall(tm, n_tm, pts[run[i].point].width) - (now - run[i].t0));
    return left / jobs;
}

/* ---- the command ---- */

static int summary(const char *dir, const char *wkey, const char *lrkey, const char *skey, int32_t n_boot) {
    sweep_summary_opts_t so = {.dir = dir, .width_key = wkey, .lr_key = lrkey, .seed_key = skey, .n_boot = n_boot,
                               .boot_seed = 1};
    if (sweep_summary(&so, stdout) != MU_OK) return cli_fail("sweep", -1);
    fprintf(stderr, "muon sweep: wrote %s/summary.csv, %s/summary.md, %s/summary.svg\n", dir, dir, dir);
    return 0;
}

static int sweep(int argc, char **argv, int n_extra, char **extra);

int cmd_sweep(int argc, char **argv) {
    /* flags after "--" go to every `muon train` untouched */
    int n = argc, n_extra = 0;
    char **extra = NULL;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            n = i;
            extra = argv + i + 1;
            n_extra = argc - i - 1;
            break;
        }
    int rc = sweep(n, argv, n_extra, extra);
    arena_free();
    return rc;
}

static int sweep(int argc, char **argv, int n_extra, char **extra) {
    const char *out = NULL, *config = NULL, *ckpt = "none", *wkey = "d-model", *lrkey = "lr", *skey = "seed";
    int32_t jobs = 1, threads = 0, summary_only = 0, dry_run = 0, n_boot = 1000, help = 0;
    opt_list_t grid = {0}, set = {0};
    const opt_t opts[] = {
        {"out", OPT_STR, &out, "sweep directory (runs in DIR/runs/<name>, summary in DIR/summary.*)", 0},
        {"grid", OPT_LIST, &grid, "an axis: KEY=V1,V2,... | LO:HI | geom:CENTER:N | A..B | K1/K2=a1/a2,...", 0},
        {"set", OPT_LIST, &set, "KEY=VALUE for every run (a `muon train` option)", 0},
        {"config", OPT_STR, &config, "base config file for every run (muon train --config)", 0},
        {"jobs", OPT_I32, &jobs, "runs at a time", 0},
        {"threads", OPT_I32, &threads, "threads in all (0: every CPU); each run gets threads/jobs", 0},
        {"ckpt", OPT_STR, &ckpt, "checkpoints the runs keep: none or last (last: interrupted runs resume)", 0},
        {"dry-run", OPT_FLAG, &dry_run, "list the grid points and their state, run nothing", 0},
        {"summary-only", OPT_FLAG, &summary_only, "rebuild DIR/summary.* from the run directories, run nothing", 0},
        {"width-key", OPT_STR, &wkey, "summary: the width option", 0},
        {"lr-key", OPT_STR, &lrkey, "summary: the learning-rate option (e.g. opt.matrix.lr)", 0},
        {"seed-key", OPT_STR, &skey, "summary: the seed option (bootstrap unit)", 0},
        {"boot", OPT_I32, &n_boot, "summary: bootstrap resamples for the slope interval", 0},
        {"help", OPT_FLAG, &help, "this help", 1},
    };
    size_t n_opts = sizeof opts / sizeof opts[0];
    int rc = opt_cli("sweep", opts, n_opts, argc, argv, &help, usage_text);
    if (rc >= 0) return rc;
    char err[1024];
    err[0] = 0;
#define USAGE(...)                                      \
    do {                                                \
        snprintf(err, sizeof err, __VA_ARGS__);         \
        fprintf(stderr, "muon sweep: %s\n", err);       \
        return 2;                                       \
    } while (0)
    if (!out || !*out) USAGE("--out DIR is required");
    if (n_boot < 0) USAGE("--boot %d: must be >= 0", (int)n_boot);
    if (summary_only) return summary(out, wkey, lrkey, skey, n_boot);
    if (jobs < 1) USAGE("--jobs %d: must be >= 1", (int)jobs);
    if (threads < 0) USAGE("--threads %d: must be >= 0 (0: every CPU)", (int)threads);
    if (strcmp(ckpt, "none") && strcmp(ckpt, "last")) USAGE("--ckpt '%s': expected none or last", ckpt);
    if (grid.n == 0) USAGE("no --grid axis given (e.g. --grid lr=geom:3e-3:7)");
    if (grid.n > MAX_AXES) USAGE("%d --grid axes, at most %d", (int)grid.n, MAX_AXES);

    axis_t ax[MAX_AXES];
    int n_ax = 0;
    for (int i = 0; i < grid.n; i++) {
        if (parse_axis(grid.v[i], &ax[n_ax], err, sizeof err) != 0) {
            fprintf(stderr, "muon sweep: %s\n", err);
            return strcmp(err, "out of memory") ? 2 : 1;
        }
        n_ax++;
    }
    /* --set KEY=VALUE */
    char **set_flags = calloc((size_t)set.n + 1, sizeof *set_flags);
    char **set_keys = calloc((size_t)set.n + 1, sizeof *set_keys);
    if (!set_flags || !keep((char *)set_flags) || !set_keys || !keep((char *)set_keys)) {
        free(set_keys);
        return cli_fail("sweep", mu_set_error(MU_ENOMEM, "out of memory"));
    }
    for (int i = 0; i < set.n; i++) {
        const char *eq = strchr(set.v[i], '=');
        if (!eq || eq == set.v[i]) USAGE("--set %s: expected KEY=VALUE", set.v[i]);
        char *k = sfmt("%.*s", (int)(eq - set.v[i]), set.v[i]), e2[256];
        if (!k) return cli_fail("sweep", mu_set_error(MU_ENOMEM, "out of memory"));
        if (norm_key(k, e2, sizeof e2) != 0) USAGE("--set %s: %s", set.v[i], e2);
        set_keys[i] = k;
        set_flags[i] = train_flag(k, eq + 1);
    }
    /* a key on two axes, or on an axis and in --set, would be ambiguous */
    for (int a = 0; a < n_ax; a++)
        for (int k = 0; k < ax[a].n_keys; k++) {
            for (int b = 0; b <= a; b++)
                for (int l = 0; l < (b == a ? k : ax[b].n_keys); l++)
                    if (!strcmp(ax[a].keys[k], ax[b].keys[l])) USAGE("--grid: '%s' is on two axes", ax[a].keys[k]);
            for (int i = 0; i < set.n; i++)
                if (!strcmp(ax[a].keys[k], set_keys[i])) USAGE("'%s' is both a --grid axis and --set", set_keys[i]);
        }
    for (int i = 0; i < n_extra; i++) {
        if (strncmp(extra[i], "--", 2)) continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(extra[i] + 2, "="), extra[i] + 2);
        if (is_reserved(name))
            USAGE("%s after --: set by the sweep itself (use muon sweep --out/--config/--threads/--ckpt)", extra[i]);
        for (int k = 0; k < set.n; k++)
            if (!strcmp(name, set_keys[k])) USAGE("%s after -- and --set %s: give it once", extra[i], set.v[k]);
        for (int a = 0; a < n_ax; a++)
            for (int k = 0; k < ax[a].n_keys; k++)
                if (!strcmp(name, ax[a].keys[k])) USAGE("%s after --: '%s' is a --grid axis", extra[i], name);
    }
    if (config && access(config, R_OK) != 0) {
        fprintf(stderr, "muon sweep: --config %s: cannot read it: %s\n", config, strerror(errno));
        return 1;
    }

    /* per-run threads: the total split evenly over the concurrent runs */
    int32_t cpus = (int32_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) cpus = 1;
    int32_t total = threads > 0 ? threads : cpus, per_run = total / jobs > 0 ? total / jobs : 1;
    char exe[4096];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0) return cli_fail("sweep", mu_set_error(MU_EIO, "/proc/self/exe: %s", strerror(errno)));
    exe[el] = 0;

    /* the points: every combination of axis values, the last axis varying fastest */
    long n_pts = 1;
    for (int a = 0; a < n_ax; a++) {
        n_pts *= ax[a].n_vals;
        if (n_pts > MAX_POINTS) USAGE("the grid has more than %d points", MAX_POINTS);
    }
    point_t *pts = calloc((size_t)n_pts, sizeof *pts);
    int *idx_all = calloc((size_t)n_pts * (size_t)n_ax, sizeof *idx_all);
    job_t *queue = calloc((size_t)n_pts * 2 + 1, sizeof *queue), *running = calloc((size_t)jobs, sizeof *running);
    /* wall times of finished runs: the grid's, those of this session, MAX_OTHER others */
    timing_t *tm = calloc((size_t)n_pts * 2 + MAX_OTHER + 1, sizeof *tm);
    if (!pts || !keep((char *)pts) || !idx_all || !keep((char *)idx_all) || !queue || !keep((char *)queue) ||
        !running || !keep((char *)running) || !tm || !keep((char *)tm)) {
        free(idx_all), free(queue), free(running), free(tm);
        return cli_fail("sweep", mu_set_error(MU_ENOMEM, "out of memory"));
    }
    char *s_per_run = sfmt("%d", (int)per_run);
    for (long p = 0; p < n_pts; p++) {
        point_t *pt = &pts[p];
        pt->idx = idx_all + p * n_ax;
        for (int a = n_ax - 1, r = (int)p; a >= 0; a--) pt->idx[a] = r % ax[a].n_vals, r /= ax[a].n_vals;
        point_name(ax, n_ax, pt->idx, pt->name, sizeof pt->name);
        snprintf(pt->dir, sizeof pt->dir, "%s/runs/%s", out, pt->name);
        pt->width = NAN;
        for (int a = 0; a < n_ax; a++)
            for (int k = 0; k < ax[a].n_keys; k++)
                if (!strcmp(ax[a].keys[k], wkey)) pt->width = strtod(ax[a].vals[pt->idx[a] * ax[a].n_keys + k], NULL);
        if (!(pt->width > 0) || !isfinite(pt->width)) pt->width = NAN; /* not a usable width */
        int n_args = 0, cap = 12 + n_extra + set.n + MAX_AXES * MAX_ZIP;
        pt->args = calloc((size_t)cap, sizeof *pt->args);
        if (!pt->args || !keep((char *)pt->args)) return cli_fail("sweep", mu_set_error(MU_ENOMEM, "out of memory"));
        pt->args[n_args++] = exe;
        pt->args[n_args++] = "train";
        if (config) pt->args[n_args++] = "--config", pt->args[n_args++] = (char *)config;
        for (int i = 0; i < n_extra; i++) pt->args[n_args++] = extra[i];
        for (int i = 0; i < set.n; i++) pt->args[n_args++] = set_flags[i];
        for (int a = 0; a < n_ax; a++)
            for (int k = 0; k < ax[a].n_keys; k++)
                pt->args[n_args++] = train_flag(ax[a].keys[k], ax[a].vals[pt->idx[a] * ax[a].n_keys + k]);
        pt->args[n_args++] = "--out";
        pt->args[n_args++] = pt->dir;
        pt->args[n_args++] = "--threads";
        pt->args[n_args++] = s_per_run;
        pt->args[n_args++] = "--ckpt";
        pt->args[n_args++] = (char *)ckpt;
        for (int i = 0; i < n_args; i++)
            if (!pt->args[i]) return cli_fail("sweep", mu_set_error(MU_ENOMEM, "out of memory"));
        for (long q = 0; q < p; q++)
            if (!strcmp(pts[q].name, pt->name))
                USAGE("grid points %ld and %ld get the same run name '%s' (values differ only in characters "
                      "that are not kept in names)",
                      q + 1, p + 1, pt->name);
    }

    /* what is on disk: finished runs are skipped, the rest queued (resume when possible) */
    int n_queue = 0, n_finished = 0, n_resume = 0, n_other_flags = 0, n_tm = 0;
    for (long p = 0; p < n_pts; p++) {
        run_info_t ri;
        run_info_read(pts[p].dir, &ri);
        const char *what;
        if (ri.state == RUN_DONE && ri.wall_s > 0) tm[n_tm++] = (timing_t){pts[p].width, ri.wall_s, 0};
        if (ri.state == RUN_DONE || ri.state == RUN_DIVERGED) {
            n_finished++;
            if (!same_args(pts[p].dir, pts[p].args)) n_other_flags++;
            what = run_state_name(ri.state);
        } else {
            queue[n_queue++] = (job_t){.point = (int)p, .resume = ri.has_ckpt};
            n_resume += ri.has_ckpt;
            what = ri.has_ckpt ? "resume" : ri.state == RUN_NEW ? "run" : "rerun";
        }
        if (dry_run) printf("%-8s %s\n", what, pts[p].name);
    }
    char runs_dir[4200];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", out);
    n_tm += other_timings(runs_dir, wkey, (int)per_run, pts, n_pts, tm + n_tm, MAX_OTHER);
    char est[96] = "";
    const double est_s = eta_s(tm, n_tm, pts, queue, n_queue, NULL, 0, jobs);
    if (n_queue > 0 && !isnan(est_s)) {
        char d[32];
        fmt_duration(est_s, d, sizeof d);
        snprintf(est, sizeof est, " (about %s, from the finished runs' times)", d);
    }
    if (dry_run) {
        printf("%ld points: %d finished, %d to resume, %d to run; %d at a time, %d thread%s each%s\n", n_pts,
               n_finished, n_resume, n_queue - n_resume, (int)jobs, (int)per_run, per_run == 1 ? "" : "s", est);
        if (n_queue > 0) {
            printf("first command:");
            for (int i = 0; pts[queue[0].point].args[i]; i++) printf(" %s", i ? pts[queue[0].point].args[i] : "muon");
            printf("\n");
        }
        return 0;
    }
    if (mu_mkdir_p(runs_dir) != MU_OK) return cli_fail("sweep", -1);
    fprintf(stderr,
            "muon sweep: %ld runs: %d finished (skipped), %d to resume, %d to run; %d at a time with %d thread%s "
            "each (--threads %d in all; %d CPUs)%s\n",
            n_pts, n_finished, n_resume, n_queue - n_resume, (int)jobs, (int)per_run, per_run == 1 ? "" : "s",
            (int)total, (int)cpus, est);
    if (n_other_flags)
        fprintf(stderr, "muon sweep: note: %d finished runs were made with other `muon train` flags than this "
                        "command gives (kept; delete a run directory to redo it)\n",
                n_other_flags);

    /* preflight: `muon train --dry-run` on the first new point catches a bad option before
     * any run directory is made */
    for (int q = 0; q < n_queue; q++) {
        if (queue[q].resume) continue;
        point_t *pt = &pts[queue[q].point];
        int na = 0;
        while (pt->args[na]) na++;
        char **dargs = calloc((size_t)na + 2, sizeof *dargs), log[4300];
        if (!dargs) return cli_fail("sweep", mu_set_error(MU_ENOMEM, "out of memory"));
        memcpy(dargs, pt->args, sizeof *dargs * (size_t)na);
        dargs[na] = "--dry-run";
        snprintf(log, sizeof log, "%s/preflight.log", out);
        pid_t pid = launch(exe, dargs, log, 0);
        free(dargs);
        if (pid < 0) return cli_fail("sweep", -1);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (code == 2) { /* a usage error holds for every point; other failures are per run */
            char line[512];
            last_line(log, line, sizeof line);
            fprintf(stderr, "muon sweep: `muon train` rejects the options of %s: %s (full output: %s)\n", pt->name, line,
                    log);
            return 2;
        }
        unlink(log);
        break;
    }

    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    n_signals = 0;
    int n_run = 0, next = 0, forwarded = 0, k_done = 0, n_total = n_queue;
    int c_done = 0, c_div = 0, c_fail = 0, c_int = 0;
    rc = 0;
    for (;;) {
        if (n_signals > forwarded) { /* first signal: runs checkpoint and stop; second: kill */
            for (int j = 0; j < n_run; j++) kill(running[j].pid, n_signals > 1 ? SIGKILL : SIGTERM);
            if (!forwarded)
                fprintf(stderr, "muon sweep: stopping %d running run%s (again to kill)\n", n_run, n_run == 1 ? "" : "s");
            forwarded = n_signals;
        }
        while (!n_signals && n_run < jobs && next < n_queue) {
            job_t *jb = &queue[next++];
            point_t *pt = &pts[jb->point];
            char log[4500], res[4500];
            snprintf(log, sizeof log, "%s/log.txt", pt->dir);
            snprintf(res, sizeof res, "%s/result.json", pt->dir);
            char *rargs[] = {exe, "train", "--resume", pt->dir, NULL};
            if (jb->resume) {
                unlink(res); /* a failure recorded by an earlier sweep */
            } else if (wipe_dir(pt->dir) != MU_OK || mu_mkdir_p(pt->dir) != MU_OK ||
                       write_point(pt->dir, pt->name, ax, n_ax, pt->idx, pt->args) != MU_OK) {
                fprintf(stderr, "muon sweep: %s: %s\n", pt->name, mu_last_error());
                c_fail++, k_done++;
                continue;
            }
            jb->pid = launch(exe, jb->resume ? rargs : pt->args, log, jb->resume);
            if (jb->pid < 0) {
                fprintf(stderr, "muon sweep: %s: %s\n", pt->name, mu_last_error());
                c_fail++, k_done++;
                continue;
            }
            jb->t0 = mu_time_s();
            running[n_run++] = *jb;
        }
        if (n_run == 0 && (next >= n_queue || n_signals)) break;
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid == 0 || (pid < 0 && errno == EINTR)) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (pid < 0) break; /* ECHILD: nothing left (cannot happen while n_run > 0) */
        int j = 0;
        while (j < n_run && running[j].pid != pid) j++;
        if (j == n_run) continue;
        job_t jb = running[j];
        running[j] = running[--n_run];
        point_t *pt = &pts[jb.point];
        double wall = mu_time_s() - jb.t0;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        run_info_t ri;
        run_info_read(pt->dir, &ri);
        ri.wall_s = wall;
        ri.exit_code = code;
        char line[5200], log[4500];
        snprintf(log, sizeof log, "%s/log.txt", pt->dir);
        if (code == 0 && ri.state == RUN_DONE) {
            c_done++;
            snprintf(line, sizeof line, "val %.4f", ri.val_loss);
        } else if (code == 3 || (code != 0 && ri.state == RUN_DIVERGED)) {
            ri.state = RUN_DIVERGED;
            ri.val_loss = INFINITY;
            c_div++;
            snprintf(line, sizeof line, "diverged (loss +inf)");
        } else if (n_signals) {
            c_int++;
            snprintf(line, sizeof line, "interrupted%s", jb.resume || strcmp(ckpt, "none") ? "" : " (rerun next time)");
            ri.state = RUN_INCOMPLETE;
        } else if (jb.resume) { /* the checkpoint did not take: start over */
            fprintf(stderr, "muon sweep: %s: resume failed (exit %d), running it from scratch\n", pt->name, code);
            queue[n_queue++] = (job_t){.point = jb.point, .resume = 0};
            continue;
        } else {
            char last[400];
            last_line(log, last, sizeof last);
            ri.state = RUN_FAILED;
            if (code == 0) snprintf(ri.message, sizeof ri.message, "exited 0 without a final eval: %s", last);
            else if (code > 128) snprintf(ri.message, sizeof ri.message, "killed by signal %d", code - 128);
            else snprintf(ri.message, sizeof ri.message, "exit %d: %s", code, last);
            c_fail++;
            snprintf(line, sizeof line, "FAILED, %s (log: %s)", ri.message, log);
        }
        if (ri.state != RUN_INCOMPLETE && run_result_write(pt->dir, &ri) != MU_OK)
            fprintf(stderr, "muon sweep: %s: %s\n", pt->name, mu_last_error());
        k_done++;
        if (ri.state == RUN_DONE) tm[n_tm++] = (timing_t){pt->width, wall, 1};
        char eta[64] = "";
        const double left = eta_s(tm, n_tm, pts, queue + next, n_queue - next, running, n_run, jobs);
        if (n_total - k_done > 0 && !n_signals && !isnan(left)) {
            char d[32];
            fmt_duration(left, d, sizeof d);
            snprintf(eta, sizeof eta, ", ETA %s", d);
        }
        fprintf(stderr, "[%d/%d] %s ... %s (%.1f s%s)\n", k_done, n_total, pt->name, line, wall, eta);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (n_total > 0)
        fprintf(stderr, "muon sweep: %d done, %d diverged, %d failed, %d interrupted (this session)\n", c_done, c_div,
                c_fail, c_int);
    if (n_signals) fprintf(stderr, "muon sweep: interrupted; run the same command again to continue\n");
    int src = summary(out, wkey, lrkey, skey, n_boot);
    if (c_fail) fprintf(stderr, "muon sweep: %d run%s failed: see their log.txt\n", c_fail, c_fail == 1 ? "" : "s");
    return c_fail || n_signals || src ? 1 : 0;
#undef USAGE
}
