/* sweep.h — `muon sweep` internals shared by its files: what a run directory says about
 * itself (sweep_runs.c) and the summary rebuilt from a sweep directory (sweep_summary.c). */
#ifndef MUON_SWEEP_H
#define MUON_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "muon/report.h"

/* key = value pairs of a resolved config (config.txt). An "opt = G.T.K=V" line becomes the
 * pair ("opt.G.T.K", "V"), so `--opt` hyperparameters are keys like any other. */
typedef struct {
    int n, cap;
    char **k, **v;
} kv_t;

int kv_read(const char *path, kv_t *kv);             /* MU_OK or MU_EIO naming the file */
int kv_add(kv_t *kv, const char *k, const char *v);  /* copies both */
const char *kv_get(const kv_t *kv, const char *key); /* the last value of key, or NULL */
void kv_free(kv_t *kv);

typedef enum {
    RUN_NEW = 0,        /* no run directory yet */
    RUN_INCOMPLETE = 1, /* started, not finished (interrupted, killed, still running) */
    RUN_FAILED = 2,     /* `muon train` failed (result.json says so); rerun by the next sweep */
    RUN_DONE = 3,       /* finished: final val loss known */
    RUN_DIVERGED = 4    /* exit 3 / "diverged" event: a result with loss +inf */
} run_state_t;

typedef struct {
    run_state_t state;
    int has_ckpt;      /* RUN_DIR/state.bin exists (a resume is worth trying) */
    double val_loss;   /* final val loss (DONE), +inf (DIVERGED), NaN otherwise */
    double tokens;     /* tokens trained (last metrics line), NaN unknown */
    double train_s;    /* training seconds from metrics (elapsed_s), NaN unknown */
    double wall_s;     /* wall seconds of the sweep's process (result.json), NaN unknown */
    int exit_code;     /* `muon train`'s exit status (result.json), -1 unknown */
    char message[512]; /* failure or divergence detail */
} run_info_t;

const char *run_state_name(run_state_t s); /* "new", "incomplete", "failed", "done", "diverged" */

/* What RUN_DIR holds: result.json first (written by the sweep), else metrics.jsonl (a line
 * with step = config's steps and a val_loss is the final eval; a "diverged" event). */
void run_info_read(const char *dir, run_info_t *out);
/* Write RUN_DIR/result.json atomically from r (state DONE, DIVERGED or FAILED). */
int run_result_write(const char *dir, const run_info_t *r);

/* One group's optima, as the summary computed them (muon report transfer draws these). */
#define SWEEP_MAX_WIDTHS 32
typedef struct {
    char group[256];                 /* the group's label ("" = the sweep has no other axes) */
    int n;                           /* widths (ascending; at most SWEEP_MAX_WIDTHS are kept) */
    double width[SWEEP_MAX_WIDTHS];
    double log2_lr[SWEEP_MAX_WIDTHS]; /* refined log2 η* (NaN: no finite loss at that width) */
    int edge[SWEEP_MAX_WIDTHS];      /* 1: the optimum is on the grid edge (a bound) */
    int seeds[SWEEP_MAX_WIDTHS];     /* seeds with a result at that width */
    mu_transfer_t t;                 /* drift, slope and its interval */
} sweep_optima_t;

typedef struct {
    sweep_optima_t *items; /* cap entries; the summary appends one per group */
    int cap, n;
    int dropped;           /* groups that found no room, or widths past SWEEP_MAX_WIDTHS */
} sweep_collect_t;

typedef struct {
    const char *dir;       /* the sweep directory (runs in DIR/runs/) */
    const char *width_key; /* "d-model" */
    const char *lr_key;    /* "lr" */
    const char *seed_key;  /* "seed" */
    int32_t n_boot;        /* bootstrap resamples (1000) */
    uint64_t boot_seed;
    int no_files;          /* 1: read only, write no summary.* files */
    sweep_collect_t *collect; /* NULL, or receives every group's optima */
    const double *widths;  /* only runs at these widths (n_widths = 0: every run) */
    int n_widths;
    const char *const *seeds; /* only runs of these seed values (n_seeds = 0: every run) */
    int n_seeds;
} sweep_summary_opts_t;

/* Read every DIR/runs/<name>, write DIR/summary.csv, DIR/summary.md and DIR/summary.svg
 * (unless no_files), and print the tables to out (may be NULL). MU_OK, or an error
 * (mu_last_error) when nothing could be read or a file could not be written. */
int sweep_summary(const sweep_summary_opts_t *o, FILE *out);

#endif
