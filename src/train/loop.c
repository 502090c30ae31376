/* loop.c — the training loop: data → forward/backward (grad accumulation) → clip →
 * scheduled optimizer step, with periodic eval, metrics.jsonl and crash-safe checkpoints.
 *
 * Determinism: the batch of (step, micro) and every dropout mask are pure functions of
 * (seed, step, micro); weights, optimizer state, step and the GEMM plan are saved, so a
 * resumed run continues bit-identically (same thread count).
 *
 * Checkpoint protocol (a checkpoint is complete only when the weights file's checksum is
 * the one its state file records):
 *   1. write model.safetensors.next and state.bin.next (each atomically);
 *   2. rename model.safetensors.next → model.safetensors, then state.bin.next → state.bin.
 * A crash at any point leaves at least one complete pair among
 * (model, state), (model, state.next), (model.next, state.next); resume takes the newest. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "muon/diag.h"
#include "muon/train.h"
#include "train/state.h"

#ifndef MU_GIT_COMMIT
#define MU_GIT_COMMIT "unknown"
#endif

static volatile sig_atomic_t stop_requested;

enum { DIAG_JSON_CAP = 1 << 20 }; /* bytes for one diagnostics JSON object */

void mu_train_request_stop(void) { stop_requested = 1; }

mu_train_config_t mu_train_config_default(void) {
    mu_train_config_t c;
    memset(&c, 0, sizeof c);
    c.model = mu_gpt_config_default();
    c.optim = mu_optim_config_default();
    c.min_lr = 0;
    c.sched.kind = MU_SCHED_COSINE;
    c.sched.warmup = 0;
    c.sched.decay_frac = 0.2f;
    c.grad_clip = 1.0f;
    c.grad_accum = 1;
    c.batch = 16;
    c.steps = 1000;
    c.seed = 1337;
    c.threads = 0;
    c.gemm = MU_ENGINE_AUTO;
    c.eval_every = 250;
    c.eval_windows = 64;
    c.ckpt_every = 500;
    c.log_every = 10;
    return c;
}

typedef struct {
    const mu_train_config_t *c;
    mu_progress_fn cb;
    void *user;
    mu_gemm_ctx_t *gemm;
    mu_gpt_t *model;
    mu_optim_t *opt;
    mu_dataset_t *data;
    int32_t *x, *y;
    FILE *metrics;
    mu_diag_t *diag;     /* spectral diagnostics, NULL when off */
    float *diag_lr, *diag_decay;
    char *diag_json;     /* the last measurement, for the next metrics line ("" when none) */
    const char *dir;
    int64_t step;        /* optimizer steps completed */
    double tokens;       /* tokens trained on */
    double train_s;      /* training wall time, before this process + this process */
    char machine[512];
} run_t;

static void message(run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void message(run_t *r, const char *fmt, ...) {
    if (!r->cb) return;
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    mu_progress_t p = {.event = 3, .message = buf, .val_loss = NAN, .step = r->step, .total = r->c->steps};
    r->cb(&p, r->user);
}

static void path_in(char *buf, size_t cap, const char *dir, const char *name) { snprintf(buf, cap, "%s/%s", dir, name); }

static int file_exists(const char *p) { return access(p, F_OK) == 0; }

/* ---- checkpoints ---- */

static int save_checkpoint(run_t *r) {
    char w_next[4096], s_next[4096], w[4096], s[4096];
    path_in(w_next, sizeof w_next, r->dir, "model.safetensors.next");
    path_in(s_next, sizeof s_next, r->dir, "state.bin.next");
    path_in(w, sizeof w, r->dir, "model.safetensors");
    path_in(s, sizeof s, r->dir, "state.bin");
    char step_s[32], seed_s[32], thr_s[16];
    snprintf(step_s, sizeof step_s, "%lld", (long long)r->step);
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)r->c->seed);
    snprintf(thr_s, sizeof thr_s, "%d", mu_threads_get());
    const char *keys[] = {"step", "seed", "threads", "git_commit", "machine", "train_config"};
    const char *vals[] = {step_s, seed_s, thr_s, MU_GIT_COMMIT, r->machine, r->c->config_text ? r->c->config_text : ""};
    MU_TRY(mu_ckpt_save_weights(w_next, r->model, keys, vals, 6));

    mu_state_t st = {0};
    st.step = r->step;
    st.seed = r->c->seed;
    st.tokens = r->tokens;
    st.elapsed_s = r->train_s;
    st.threads = mu_threads_get();
    MU_TRY(mu_file_checksum(w_next, &st.weights_sum));
    char plan[16384], desc[8192];
    MU_TRY(mu_gemm_plan_string(r->gemm, plan, sizeof plan));
    MU_TRY(mu_optim_describe(r->opt, desc, sizeof desc));
    st.plan = plan;
    st.optim_desc = desc;
    st.config_text = (char *)(r->c->config_text ? r->c->config_text : "");
    st.optim_len = mu_optim_state_bytes(r->opt);
    st.optim_state = malloc(st.optim_len ? st.optim_len : 1);
    if (!st.optim_state) return mu_set_error(MU_ENOMEM, "checkpoint: cannot allocate optimizer state copy");
    int rc = mu_optim_state_save(r->opt, st.optim_state, st.optim_len);
    if (rc == MU_OK) rc = mu_state_write(s_next, &st);
    free(st.optim_state);
    MU_TRY(rc);
    if (rename(w_next, w) != 0 || rename(s_next, s) != 0)
        return mu_set_error(MU_EIO, "%s: cannot rename checkpoint files into place: %s", r->dir, strerror(errno));
    if (r->c->ckpt_mode == 1) { /* keep a copy of every checkpoint */
        char dst[4096], dsts[4096];
        snprintf(dst, sizeof dst, "%s/model-step%06lld.safetensors", r->dir, (long long)r->step);
        snprintf(dsts, sizeof dsts, "%s/state-step%06lld.bin", r->dir, (long long)r->step);
        unlink(dst);
        unlink(dsts);
        if (link(w, dst) != 0 || link(s, dsts) != 0)
            return mu_set_error(MU_EIO, "%s: cannot keep checkpoint copy: %s", dst, strerror(errno));
    }
    return MU_OK;
}

/* The (weights, state) file pairs a checkpoint can be left in: in place, or mid-rotation
 * (save_checkpoint renames weights first, then state). */
static const char *const ckpt_pairs[3][2] = {{"model.safetensors", "state.bin"},
                                             {"model.safetensors", "state.bin.next"},
                                             {"model.safetensors.next", "state.bin.next"}};

/* The newest complete pair in dir: its weights path, its state and its index in ckpt_pairs. */
static int find_pair(const char *dir, char *wpath, size_t wcap, mu_state_t *best, int *which) {
    int found = 0;
    char why[512] = "no model.safetensors/state.bin pair";
    for (int i = 0; i < 3; i++) {
        char w[4096], s[4096];
        path_in(w, sizeof w, dir, ckpt_pairs[i][0]);
        path_in(s, sizeof s, dir, ckpt_pairs[i][1]);
        if (!file_exists(w) || !file_exists(s)) continue;
        mu_state_t st;
        if (mu_state_read(s, &st) != MU_OK) {
            snprintf(why, sizeof why, "%s", mu_last_error());
            continue;
        }
        uint64_t sum;
        if (mu_file_checksum(w, &sum) != MU_OK || sum != st.weights_sum) {
            snprintf(why, sizeof why, "%s does not match the weights checksum recorded in %s", ckpt_pairs[i][0],
                     ckpt_pairs[i][1]);
            mu_state_free(&st);
            continue;
        }
        if (!found || st.step > best->step) {
            if (found) mu_state_free(best);
            *best = st;
            snprintf(wpath, wcap, "%s", w);
            *which = i;
            found = 1;
        } else {
            mu_state_free(&st);
        }
    }
    if (!found) return mu_set_error(MU_EFORMAT, "%s: no complete checkpoint (%s)", dir, why);
    return MU_OK;
}

/* Find the newest complete (weights, state) pair in dir; fills paths and the state. */
int mu_ckpt_find_complete(const char *dir, char *wpath, size_t wcap, mu_state_t *best) {
    int which;
    return find_pair(dir, wpath, wcap, best, &which);
}

/* A run resumed from a pair left mid-rotation finishes the rotation first: otherwise the next
 * save, interrupted while writing model.safetensors.next, would destroy the only copy of the
 * newest checkpoint and a later resume would fall back one checkpoint further. Weights first,
 * as in save_checkpoint, so every intermediate state still holds a complete pair. */
static int promote_pair(const char *dir, int which, char *wpath, size_t wcap) {
    char w[4096], s[4096], wn[4096], sn[4096];
    path_in(w, sizeof w, dir, ckpt_pairs[0][0]);
    path_in(s, sizeof s, dir, ckpt_pairs[0][1]);
    path_in(wn, sizeof wn, dir, ckpt_pairs[2][0]);
    path_in(sn, sizeof sn, dir, ckpt_pairs[2][1]);
    if (which == 0) return MU_OK;
    if ((which == 2 && rename(wn, w) != 0) || rename(sn, s) != 0)
        return mu_set_error(MU_EIO, "%s: cannot move the resumed checkpoint into place: %s", dir, strerror(errno));
    snprintf(wpath, wcap, "%s", w);
    return MU_OK;
}

static int config_equal(const mu_gpt_config_t *a, const mu_gpt_config_t *b) {
    /* everything that changes the function the weights compute (dropout may change on resume) */
    return a->n_layer == b->n_layer && a->n_head == b->n_head && a->d_model == b->d_model &&
           a->seq_len == b->seq_len && a->vocab == b->vocab && a->bias == b->bias && a->tie == b->tie &&
           a->param == b->param && a->base_width == b->base_width && a->alpha_in == b->alpha_in &&
           a->alpha_out == b->alpha_out && a->alpha_attn == b->alpha_attn;
}

static int resume_from(run_t *r, const char *dir) {
    char w[4096];
    mu_state_t st;
    int which;
    MU_TRY(find_pair(dir, w, sizeof w, &st, &which));
    int rc = promote_pair(dir, which, w, sizeof w);
    mu_gpt_config_t saved;
    if (rc == MU_OK && (rc = mu_ckpt_read_config(w, &saved)) == MU_OK && !config_equal(&saved, &r->c->model))
        rc = mu_set_error(MU_EMISMATCH, "%s: model config differs from the run being resumed", w);
    if (rc == MU_OK) rc = mu_ckpt_load_weights(w, r->model);
    if (rc == MU_OK) rc = mu_optim_state_load(r->opt, st.optim_state, st.optim_len);
    if (rc == MU_OK && st.plan[0]) rc = mu_gemm_plan_load(r->gemm, st.plan);
    if (rc == MU_OK) {
        r->step = st.step;
        r->tokens = st.tokens;
        r->train_s = st.elapsed_s;
        if (st.seed != r->c->seed)
            rc = mu_set_error(MU_EMISMATCH, "%s: checkpoint seed %llu differs from --seed %llu", dir,
                              (unsigned long long)st.seed, (unsigned long long)r->c->seed);
        else if (st.threads != mu_threads_get())
            message(r, "warning: checkpoint was written with %d threads, now %d: the continuation will not be "
                       "bit-identical", st.threads, mu_threads_get());
    }
    if (rc == MU_OK) message(r, "resumed from %s at step %lld", w, (long long)st.step);
    mu_state_free(&st);
    return rc;
}

/* ---- the GEMM plan cache ("wisdom", as FFTW calls it) ----
 * With --gemm auto each product shape is timed on both engines and the faster kept, and the
 * engines round differently: two fresh runs could pick differently and differ in the last
 * bits. The first run on a machine stores its plan in
 * $MUON_CACHE_DIR (default ~/.cache/muon)/gemm-plan-<hash of the machine line>.txt and later
 * runs start from it, so fresh runs with the same seed and threads are bit-identical too.
 * MUON_CACHE_DIR=off disables it; deleting the file re-times. */
static int plan_cache_path(const run_t *r, char *buf, size_t cap) {
    const char *dir = getenv("MUON_CACHE_DIR"), *home = getenv("HOME");
    if (dir && !strcmp(dir, "off")) return 0;
    char d[4096];
    if (dir && *dir) snprintf(d, sizeof d, "%s", dir);
    else if (home && *home) snprintf(d, sizeof d, "%s/.cache/muon", home);
    else return 0;
    if (mu_mkdir_p(d) != MU_OK) return 0;
    snprintf(buf, cap, "%s/gemm-plan-%016llx.txt", d,
             (unsigned long long)mu_checksum64(r->machine, strlen(r->machine), 0));
    return 1;
}

static void plan_cache_load(run_t *r) {
    char p[4200];
    void *buf;
    size_t len;
    if (r->c->gemm != MU_ENGINE_AUTO || !plan_cache_path(r, p, sizeof p)) return;
    if (mu_file_read_all(p, &buf, &len) != MU_OK) return;
    if (mu_gemm_plan_load(r->gemm, buf) == MU_OK) message(r, "gemm plan: reusing %s", p);
    free(buf);
}

static void plan_cache_save(run_t *r) {
    char p[4200], plan[16384];
    if (r->c->gemm != MU_ENGINE_AUTO || !plan_cache_path(r, p, sizeof p)) return;
    if (mu_gemm_plan_string(r->gemm, plan, sizeof plan) == MU_OK) mu_file_write_atomic(p, plan, strlen(plan));
}

/* ---- metrics ---- */

static void log_metrics(run_t *r, float loss, float lr, float gnorm, float val, double tok_s) {
    if (!r->metrics) return;
    fprintf(r->metrics, "{\"step\":%lld,\"loss\":%.6g,\"lr\":%.6g,\"grad_norm\":%.6g,\"tokens\":%.0f,"
                        "\"elapsed_s\":%.3f,\"tokens_per_s\":%.1f",
            (long long)r->step, loss, lr, gnorm, r->tokens, r->train_s, tok_s);
    if (!isnan(val)) fprintf(r->metrics, ",\"val_loss\":%.9g", val);
    if (r->diag_json && r->diag_json[0]) {
        fprintf(r->metrics, ",\"diag\":%s", r->diag_json);
        r->diag_json[0] = 0;
    }
    fprintf(r->metrics, "}\n");
    fflush(r->metrics);
}

static void log_event(run_t *r, const char *event, const char *detail) {
    if (!r->metrics) return;
    fprintf(r->metrics, "{\"step\":%lld,\"event\":\"%s\",\"detail\":\"%s\",\"tokens\":%.0f,\"elapsed_s\":%.3f}\n",
            (long long)r->step, event, detail, r->tokens, r->train_s);
    fflush(r->metrics);
}

static void write_provenance(run_t *r) {
    char p[4096];
    path_in(p, sizeof p, r->dir, "provenance.txt");
    FILE *f = fopen(p, "a");
    if (!f) return;
    time_t now = time(NULL);
    fprintf(f, "# run started %s", ctime(&now));
    fprintf(f, "git_commit = %s\nmachine = %s\nthreads = %d\nseed = %llu\n", MU_GIT_COMMIT, r->machine,
            mu_threads_get(), (unsigned long long)r->c->seed);
    if (r->c->config_text) fprintf(f, "%s", r->c->config_text);
    fclose(f);
}

/* ---- the loop ---- */

/* The registry's gradients to (dir 0) or from (dir 1) buf (mu_gpt_numel floats): under
 * --scion-light they hold the optimizer's momentum, which the planning pass must not touch. */
static void grads_stash(mu_gpt_t *m, float *buf, int dir) {
    const mu_param_t *p = mu_gpt_params(m);
    for (int32_t i = 0, n = mu_gpt_n_params(m); i < n; i++) {
        if (dir == 0) memcpy(buf, p[i].grad, sizeof(float) * (size_t)p[i].numel);
        else memcpy(p[i].grad, buf, sizeof(float) * (size_t)p[i].numel);
        buf += p[i].numel;
    }
}

/* Gradients of step `step`'s batch (grad_accum micro-batches, averaged) at the current weights;
 * *loss_sum = Σ micro-batch losses. Batches and dropout masks depend on (seed, step, micro) only. */
static int accumulate_grad(run_t *r, int64_t step, int diag_now, double *loss_sum) {
    const mu_train_config_t *c = r->c;
    const int32_t B = c->batch, T = c->model.seq_len, A = c->grad_accum;
    if (!mu_optim_keeps_grad(r->opt)) mu_gpt_zero_grad(r->model);  // else they hold the momentum (--scion-light)
    *loss_sum = 0;
    for (int32_t micro = 0; micro < A; micro++) {
        MU_TRY(mu_dataset_sample(r->data, c->seed, (uint64_t)step, (uint64_t)micro, B, T, r->x, r->y));
        mu_gpt_set_train(r->model, 1, c->seed, (uint64_t)step, (uint64_t)micro);
        float l;
        MU_TRY(mu_gpt_record_module_stats(r->model, diag_now && micro == A - 1));
        MU_TRY(mu_gpt_forward(r->model, r->x, r->y, B, T, &l));
        /* activation RMS per module and the largest attention logit per layer (src/model/stats.c)
         * of the step's last micro-batch: read from the forward's activations, before the backward */
        if (diag_now && micro == A - 1) MU_TRY(mu_diag_module_stats(r->diag, r->model));
        MU_TRY(mu_gpt_backward(r->model, 1.0f / (float)A));
        *loss_sum += l;
    }
    return MU_OK;
}

/* MARS exact mode (grad_diff mode=exact, docs/optimizers-lmo.md): the optimizer needs
 * ∇f(W_t; ξ_{t+1}), the NEXT step's batch at the current weights, clipped like any gradient,
 * before this step's own gradient. It keeps it as next step's G_prev (in its checkpointed
 * state), so the correction G_t − ∇f(W_{t−1}; ξ_t) uses one batch. Doubles forward/backward. */
static int lookahead(run_t *r) {
    double loss_sum;
    MU_TRY(accumulate_grad(r, r->step + 1, 0, &loss_sum));
    float gnorm = 0;
    int rc = mu_optim_clip_grad(mu_gpt_params(r->model), mu_gpt_n_params(r->model), r->c->grad_clip, &gnorm);
    if (rc == MU_ENONFINITE)
        return mu_set_error(MU_ENONFINITE, "look-ahead gradient norm is %g at step %lld: the run diverged "
                            "(try a lower --lr)", gnorm, (long long)r->step + 1);
    MU_TRY(rc);
    return mu_optim_lookahead(r->opt);
}

static int one_step(run_t *r, float *loss_out, float *gnorm_out, float *lr_out) {
    const mu_train_config_t *c = r->c;
    const int32_t A = c->grad_accum;
    /* diagnostics every diag_every steps (muon/diag.h): nothing of them runs on other steps */
    const int diag_now = r->diag && (r->step + 1) % c->diag_every == 0;
    if (diag_now) mu_diag_reset(r->diag);
    if (mu_optim_wants_lookahead(r->opt)) MU_TRY(lookahead(r));
    double loss_sum;
    MU_TRY(accumulate_grad(r, r->step, diag_now, &loss_sum));
    float loss = (float)(loss_sum / A);
    *loss_out = loss;
    if (!isfinite(loss))
        return mu_set_error(MU_ENONFINITE, "loss is %g at step %lld: the run diverged (try a lower --lr)", loss,
                            (long long)r->step + 1);
    float gnorm = 0;
    if (diag_now) MU_TRY(mu_diag_group_norms(r->diag, r->opt)); /* ‖G_g‖_F per group, before clipping */
    int rc = mu_optim_clip_grad(mu_gpt_params(r->model), mu_gpt_n_params(r->model), c->grad_clip, &gnorm);
    *gnorm_out = gnorm;
    if (rc == MU_ENONFINITE)
        return mu_set_error(MU_ENONFINITE, "gradient norm is %g at step %lld: the run diverged (try a lower --lr)",
                            gnorm, (long long)r->step + 1);
    MU_TRY(rc);
    mu_schedule_t s = c->sched;
    s.total = c->steps;
    float f = mu_schedule_factor(&s, r->step);
    *lr_out = c->optim.lr * f;
    if (diag_now) {
        MU_TRY(mu_diag_snapshot(r->diag));
        MU_TRY(mu_optim_probe(r->opt, 1)); /* orth links record ‖O Oᵀ − I‖_F during this step */
    }
    rc = mu_optim_step(r->opt, f);
    if (diag_now) mu_optim_probe(r->opt, 0);
    MU_TRY(rc);
    if (diag_now) { /* ‖W‖₂, ‖ΔW‖₂ and their μP ratios of every hidden matrix, logged with this step */
        MU_TRY(mu_optim_param_rates(r->opt, f, r->diag_lr, r->diag_decay));
        MU_TRY(mu_diag_measure(r->diag, r->diag_lr, r->diag_decay));
        MU_TRY(mu_diag_orth(r->diag, r->opt));
        if (c->diag_quantiles) MU_TRY(mu_diag_quantiles(r->diag, r->opt)); /* one SVD per matrix */
        MU_TRY(mu_diag_json(r->diag, r->diag_json, DIAG_JSON_CAP));
    }
    r->step++;
    r->tokens += (double)c->batch * c->model.seq_len * A;
    return MU_OK;
}

/* Spectral diagnostics every c->diag_every steps (off when 0). */
static int diag_open(run_t *r) {
    const mu_train_config_t *c = r->c;
    if (c->diag_every <= 0) return MU_OK;
    int32_t n = mu_gpt_n_params(r->model);
    MU_TRY(mu_diag_init(&r->diag, mu_gpt_params(r->model), n, c->diag_iters));
    r->diag_lr = malloc(sizeof(float) * (size_t)n);
    r->diag_decay = malloc(sizeof(float) * (size_t)n);
    r->diag_json = calloc(1, DIAG_JSON_CAP);
    if (!r->diag_lr || !r->diag_decay || !r->diag_json)
        return mu_set_error(MU_ENOMEM, "diagnostics: out of memory");
    return MU_OK;
}

static int run_eval(run_t *r, int64_t windows, float *val) {
    double v;
    MU_TRY(mu_eval_loss(r->model, r->data, r->c->batch, windows, &v, NULL));
    *val = (float)v;
    return MU_OK;
}

static int train_loop(run_t *r, mu_train_result_t *res) {
    const mu_train_config_t *c = r->c;
    int64_t start_step = r->step, done_here = 0;
    double t0 = mu_time_s(), train_before = r->train_s, rate_t = t0, rate_tok = r->tokens;
    double tok_s = 0;
    float loss = NAN, gnorm = 0, lr = 0, val = NAN;
    while (r->step < c->steps) {
        double ts = mu_time_s();
        int rc = one_step(r, &loss, &gnorm, &lr);
        r->train_s += mu_time_s() - ts;
        if (rc == MU_ENONFINITE) {
            res->diverged = 1;
            log_event(r, "diverged", mu_last_error());
            return rc;
        }
        MU_TRY(rc);
        done_here++;
        if (done_here == 1) plan_cache_save(r); /* the optimizer's products are planned now too */
        double now = mu_time_s();
        if (now - rate_t > 2.0 || r->step == start_step + 1) {
            tok_s = (r->tokens - rate_tok) / (r->train_s - train_before + 1e-9);
            rate_t = now;
        }
        val = NAN;
        int evaluate = c->eval_every > 0 && r->step % c->eval_every == 0 && r->step < c->steps;
        if (evaluate) MU_TRY(run_eval(r, c->eval_windows, &val));
        int diag_pending = r->diag_json && r->diag_json[0];
        if (r->step % (c->log_every > 0 ? c->log_every : 1) == 0 || evaluate || r->step == c->steps || diag_pending)
            log_metrics(r, loss, lr, gnorm, val, tok_s);
        if (r->cb) {
            mu_progress_t p = {.step = r->step, .total = c->steps, .loss = loss, .lr = lr, .grad_norm = gnorm,
                               .val_loss = val, .tokens = r->tokens, .elapsed_s = r->train_s,
                               .tokens_per_s = tok_s, .event = evaluate ? 1 : 0};
            p.eta_s = tok_s > 0 ? (double)(c->steps - r->step) * c->batch * c->model.seq_len * c->grad_accum / tok_s
                                : 0;
            r->cb(&p, r->user);
        }
        int stop = stop_requested || (c->stop_after > 0 && done_here >= c->stop_after) ||
                   (c->max_time_s > 0 && mu_time_s() - t0 >= c->max_time_s);
        if (stop && r->step < c->steps) {
            res->interrupted = 1;
            log_event(r, "stopped", stop_requested ? "signal" : c->stop_after > 0 ? "stop-after" : "max-time");
            if (c->ckpt_mode != 2) {
                MU_TRY(save_checkpoint(r));
                message(r, "checkpoint saved at step %lld in %s", (long long)r->step, r->dir);
            }
            break;
        }
        if (c->ckpt_mode != 2 && c->ckpt_every > 0 && r->step % c->ckpt_every == 0 && r->step < c->steps) {
            MU_TRY(save_checkpoint(r));
            if (r->cb) {
                mu_progress_t p = {.step = r->step, .total = c->steps, .event = 2, .val_loss = NAN};
                r->cb(&p, r->user);
            }
        }
    }
    res->final_loss = loss;
    res->tokens_per_s = r->train_s > train_before ? (r->tokens) / (r->train_s + 1e-9) : 0;
    if (r->step >= c->steps && !res->interrupted) {
        MU_TRY(run_eval(r, 0, &val));
        res->final_val_loss = val;
        log_metrics(r, loss, lr, gnorm, val, tok_s);
        if (r->cb) {
            mu_progress_t p = {.step = r->step, .total = c->steps, .loss = loss, .lr = lr, .val_loss = val,
                               .tokens = r->tokens, .elapsed_s = r->train_s, .tokens_per_s = tok_s, .event = 1};
            r->cb(&p, r->user);
        }
        if (c->ckpt_mode != 2) MU_TRY(save_checkpoint(r));
    }
    return MU_OK;
}

int mu_train_run(const mu_train_config_t *c, mu_progress_fn cb, void *user, mu_train_result_t *res) {
    MU_REQUIRE(c && res, "mu_train_run: NULL argument");
    memset(res, 0, sizeof *res);
    res->final_val_loss = NAN;
    MU_REQUIRE(c->data, "no training data: pass --data PATH (a text file, a shard, or a `muon prepare` directory)");
    MU_REQUIRE(c->out || c->resume, "no run directory: pass --out RUN_DIR");
    MU_REQUIRE(c->batch > 0 && c->grad_accum > 0, "batch (%d) and grad_accum (%d) must be positive", c->batch,
               c->grad_accum);
    MU_REQUIRE(c->steps > 0, "steps must be positive (got %lld)", (long long)c->steps);
    MU_REQUIRE(c->diag_every >= 0 && c->diag_iters >= 0, "diag_every (%lld) and diag_iters (%d) must be >= 0",
               (long long)c->diag_every, (int)c->diag_iters);
    MU_REQUIRE(c->diag_quantiles == 0 || c->diag_quantiles == 1, "diag_quantiles = %d: must be 0 or 1",
               (int)c->diag_quantiles);
    MU_TRY(mu_gpt_config_check(&c->model));
    stop_requested = 0;
    MU_TRY(mu_threads_set(c->threads));

    run_t r = {.c = c, .cb = cb, .user = user, .dir = c->out ? c->out : c->resume};
    mu_machine_line(r.machine, sizeof r.machine);
    int rc = MU_OK;
    char p[4096];
    MU_TRY(mu_mkdir_p(r.dir));
    path_in(p, sizeof p, r.dir, "state.bin");
    if (!c->resume && file_exists(p))
        return mu_set_error(MU_EINVAL, "%s already holds a run: resume it with --resume %s, or choose another --out",
                            r.dir, r.dir);

    if ((rc = mu_dataset_open(&r.data, c->data)) != MU_OK) goto out;
    if (mu_dataset_vocab(r.data) > c->model.vocab) {
        rc = mu_set_error(MU_EMISMATCH, "%s: data vocab %d exceeds the model's vocab %d", c->data,
                          mu_dataset_vocab(r.data), c->model.vocab);
        goto out;
    }
    if ((rc = mu_gemm_ctx_init(&r.gemm, c->gemm)) != MU_OK) goto out;
    if ((rc = mu_gpt_init(&r.model, &c->model, c->batch, r.gemm)) != MU_OK) goto out;
    if ((rc = mu_gpt_init_weights(r.model, c->seed)) != MU_OK) goto out;
    if (c->init && !c->resume) {
        if ((rc = mu_ckpt_load_weights(c->init, r.model)) != MU_OK) goto out;
        message(&r, "initialized weights from %s", c->init);
    }
    if ((rc = mu_optim_init(&r.opt, &c->optim, mu_gpt_params(r.model), mu_gpt_n_params(r.model), r.gemm)) != MU_OK)
        goto out;
    if (mu_optim_keeps_grad(r.opt) && c->grad_clip > 0) {
        rc = mu_set_error(MU_EINVAL, "--scion-light keeps the momentum in the gradient buffer, which --grad-clip %g "
                          "would clip: pass --grad-clip 0", (double)c->grad_clip);
        goto out;
    }
    size_t nxy = (size_t)c->batch * (size_t)c->model.seq_len;
    r.x = malloc(nxy * sizeof(int32_t));
    r.y = malloc(nxy * sizeof(int32_t));
    if (!r.x || !r.y) {
        rc = mu_set_error(MU_ENOMEM, "cannot allocate the batch buffers");
        goto out;
    }
    plan_cache_load(&r); /* a resumed run's own plan, loaded next, wins */
    if (c->resume && (rc = resume_from(&r, c->resume)) != MU_OK) goto out;

    /* Plan every product shape now (AUTO times both engines per shape): one forward and
     * backward on the first batch, gradients discarded. A resumed run reuses its saved plan. */
    if ((rc = mu_dataset_sample(r.data, c->seed, 0, 0, c->batch, c->model.seq_len, r.x, r.y)) != MU_OK) goto out;
    mu_gpt_set_train(r.model, 0, 0, 0, 0);
    float l0, *stash = NULL;
    if (mu_optim_keeps_grad(r.opt) && !(stash = malloc(sizeof(float) * (size_t)mu_gpt_numel(r.model)))) {
        rc = mu_set_error(MU_ENOMEM, "cannot allocate %lld floats to keep the momentum (--scion-light)",
                          (long long)mu_gpt_numel(r.model));
        goto out;
    }
    if (stash) grads_stash(r.model, stash, 0);
    if ((rc = mu_gpt_forward(r.model, r.x, r.y, c->batch, c->model.seq_len, &l0)) == MU_OK)
        rc = mu_gpt_backward(r.model, 1.0f);
    mu_gpt_zero_grad(r.model);
    if (stash) grads_stash(r.model, stash, 1);
    free(stash);
    if (rc != MU_OK) goto out;
    {
        char plan[16384], desc[8192];
        mu_gemm_plan_string(r.gemm, plan, sizeof plan);
        mu_optim_describe(r.opt, desc, sizeof desc);
        message(&r, "machine: %s", r.machine);
        message(&r, "gemm plan (%s): %s", mu_engine_name(c->gemm), plan);
        message(&r, "optimizer: %s", desc);
    }
    if ((rc = diag_open(&r)) != MU_OK) goto out;
    path_in(p, sizeof p, r.dir, "metrics.jsonl");
    r.metrics = fopen(p, "a");
    if (!r.metrics) {
        rc = mu_set_error(MU_EIO, "%s: cannot open for append: %s", p, strerror(errno));
        goto out;
    }
    write_provenance(&r);
    if (c->resume) log_event(&r, "resumed", c->resume);
    rc = train_loop(&r, res);
out:
    res->steps_done = r.step;
    res->elapsed_s = r.train_s;
    if (r.metrics) fclose(r.metrics);
    mu_diag_free(r.diag);
    free(r.diag_lr);
    free(r.diag_decay);
    free(r.diag_json);
    free(r.x);
    free(r.y);
    mu_optim_free(r.opt);
    mu_gpt_free(r.model);
    mu_gemm_ctx_free(r.gemm);
    mu_dataset_free(r.data);
    return rc;
}
