/* test_train.c — the training loop end to end on a tiny model and generated text:
 * bit-identical resume (constant and cosine), divergence handling, a SIGKILL crash drill,
 * checkpoint completeness rules, and the eval definition. */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "muon/orth.h"
#include "muon/report.h"
#include "muon/train.h"
#include "testutil.h"
#include "train/state.h"

/* A small deterministic "corpus": pseudo-English from a fixed word list. */
static void write_corpus(const char *path, size_t bytes) {
    static const char *words[] = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to",
                                  "house", "with", "red", "door", "in", "town", ".", "\n"};
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    mu_rng_t r;
    mu_rng_seed(&r, 7);
    size_t n = 0;
    while (n < bytes) {
        const char *w = words[mu_rng_below(&r, sizeof words / sizeof words[0])];
        n += (size_t)fprintf(f, "%s ", w);
    }
    fclose(f);
}

/* A scratch directory with a generated corpus (DIR/corpus.txt) and a run path (DIR/run). */
static void run_dirs(const char *tag, char dir[256], char data[512], char out[512]) {
    mu_test_tmpdir(dir, 256, tag);
    snprintf(data, 512, "%s/corpus.txt", dir);
    snprintf(out, 512, "%s/run", dir);
    write_corpus(data, 20000);
}

static mu_train_config_t tiny_config(const char *data, const char *out) {
    mu_train_config_t c = mu_train_config_default();
    c.data = data;
    c.out = out;
    c.model.n_layer = 2;
    c.model.n_head = 2;
    c.model.d_model = 16;
    c.model.seq_len = 16;
    c.model.vocab = 256;
    c.batch = 4;
    c.steps = 12;
    c.threads = 2;
    c.gemm = MU_ENGINE_OPENBLAS;
    c.optim.lr = 3e-3f;
    c.eval_every = 5;
    c.eval_windows = 4;
    c.ckpt_every = 4;
    c.log_every = 1;
    c.sched.warmup = 2;
    return c;
}

/* Every tensor of RUN_A/model.safetensors equals RUN_B's bit for bit. */
static void assert_same_weights(const char *a, const char *b, const char *what) {
    mu_safetensors_t *sa, *sb;
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/model.safetensors", a);
    snprintf(pb, sizeof pb, "%s/model.safetensors", b);
    assert_int_equal(mu_safetensors_open(&sa, pa), MU_OK);
    assert_int_equal(mu_safetensors_open(&sb, pb), MU_OK);
    assert_int_equal(mu_safetensors_count(sa), mu_safetensors_count(sb));
    for (int32_t i = 0; i < mu_safetensors_count(sa); i++) {
        const char *name = mu_safetensors_name(sa, i);
        int32_t nd;
        int64_t sh[4];
        const char *dt;
        assert_int_equal(mu_safetensors_info(sa, name, &nd, sh, &dt), MU_OK);
        int64_t n = 1;
        for (int k = 0; k < nd; k++) n *= sh[k];
        float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
        assert_int_equal(mu_safetensors_read_f32(sa, name, x, n), MU_OK);
        assert_int_equal(mu_safetensors_read_f32(sb, name, y, n), MU_OK);
        if (memcmp(x, y, sizeof(float) * (size_t)n) != 0) fail_msg("tensor %s differs %s", name, what);
        free(x);
        free(y);
    }
    mu_safetensors_free(sa);
    mu_safetensors_free(sb);
}

/* Run c again into `split`, stopped after 5 steps (not a multiple of ckpt_every: the stop itself
 * must checkpoint) and resumed to the end; its weights must equal those of the full run at
 * c->out bit for bit. */
static void stop_resume_matches(const mu_train_config_t *c, const char *split, const char *what) {
    mu_train_result_t res;
    mu_train_config_t c2 = *c;
    c2.out = split;
    c2.stop_after = 5;
    assert_int_equal(mu_train_run(&c2, NULL, NULL, &res), MU_OK);
    assert_true(res.interrupted);
    assert_int_equal(res.steps_done, 5);
    c2.stop_after = 0;
    c2.resume = split;
    assert_int_equal(mu_train_run(&c2, NULL, NULL, &res), MU_OK);
    assert_int_equal(res.steps_done, c->steps);
    assert_same_weights(c->out, split, what);
}

static void resume_case(mu_sched_kind_t kind, int accum, float dropout) {
    char dir[256], data[512], a[512], b[512];
    mu_test_tmpdir(dir, sizeof dir, "resume");
    snprintf(data, sizeof data, "%s/corpus.txt", dir);
    snprintf(a, sizeof a, "%s/full", dir);
    snprintf(b, sizeof b, "%s/split", dir);
    write_corpus(data, 20000);
    mu_train_result_t res;

    mu_train_config_t c = tiny_config(data, a);
    c.sched.kind = kind;
    c.grad_accum = accum;
    c.model.dropout = dropout;
    c.min_lr = 3e-4f;
    c.sched.min_factor = 0.1f;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    assert_int_equal(res.steps_done, 12);
    assert_false(res.interrupted);
    stop_resume_matches(&c, b, "after resume");
}

static void test_resume_constant(void **s) { resume_case(MU_SCHED_CONSTANT, 1, 0); }

/* MARS exact mode through the loop: the look-ahead gradient (next batch, current weights) is
 * computed by the loop and kept in the optimizer state, so a stop/resume continues bit for bit;
 * the run differs from the approximate mode (else the look-ahead would not be used). */
static void test_mars_exact_lookahead_resume(void **s) {
    char dir[256], data[512], a[512], b[512], ap[512];
    run_dirs("mars-exact", dir, data, a);
    snprintf(b, sizeof b, "%s/split", dir);
    snprintf(ap, sizeof ap, "%s/approx", dir);
    const char *exact[] = {"*.grad_diff.mode=exact"}, *approx[] = {"*.grad_diff.mode=approx"};
    mu_train_result_t res;
    mu_train_config_t c = tiny_config(data, a);
    c.optim.preset = "mars-adamw";
    c.optim.hparams = exact;
    c.optim.n_hparams = 1;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    assert_int_equal(res.steps_done, 12);
    assert_true(isfinite(res.final_val_loss));
    stop_resume_matches(&c, b, "after resume (MARS exact)");
    mu_train_config_t c3 = c;
    c3.out = ap;
    c3.optim.hparams = approx;
    assert_int_equal(mu_train_run(&c3, NULL, NULL, &res), MU_OK);
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/model.safetensors", a);
    snprintf(pb, sizeof pb, "%s/model.safetensors", ap);
    void *fa, *fb;
    size_t la, lb;
    assert_int_equal(mu_file_read_all(pa, &fa, &la), MU_OK);
    assert_int_equal(mu_file_read_all(pb, &fb, &lb), MU_OK);
    assert_true(la != lb || memcmp(fa, fb, la) != 0);
    free(fa), free(fb);
}
static void test_resume_cosine_accum_dropout(void **s) { resume_case(MU_SCHED_COSINE, 2, 0.1f); }

/* --scion-light through the loop (2 micro-batches): the momentum lives in the gradients, which
 * the loop no longer zeroes and the state file carries: a stop/resume continues bit for bit, and
 * the run tracks plain Scion (the same steps up to the lmo's ε) to 1e-4 in val loss. A gradient
 * clip would clip the momentum: refused, with the fix in the message. */
static void test_scion_light_resume(void **s) {
    (void)s;
    char dir[256], data[512], a[512], b[512], plain[512];
    run_dirs("scion-light", dir, data, a);
    snprintf(b, sizeof b, "%s/split", dir);
    snprintf(plain, sizeof plain, "%s/plain", dir);
    mu_train_result_t res, res_plain;
    mu_train_config_t c = tiny_config(data, a);
    assert_int_equal(mu_optim_config_for_preset("scion", &c.optim), MU_OK);
    c.optim.lr = 5e-4f;
    c.grad_accum = 2;
    c.grad_clip = 0;
    mu_train_config_t cp = c;
    cp.out = plain;
    assert_int_equal(mu_train_run(&cp, NULL, NULL, &res_plain), MU_OK);
    c.optim.momentum_in_grad = 1;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    assert_int_equal(res.steps_done, 12);
    assert_close(res.final_val_loss, res_plain.final_val_loss, 0, 1e-4);
    {  // the light form ran: its state file names the carried momentum
        char p[600];
        void *f;
        size_t n;
        snprintf(p, sizeof p, "%s/state.bin", a);
        assert_int_equal(mu_file_read_all(p, &f, &n), MU_OK);
        assert_non_null(memmem(f, n, "grad_ema>", 9));
        free(f);
    }
    stop_resume_matches(&c, b, "after resume (--scion-light)");
    mu_train_config_t c3 = c;
    snprintf(b, sizeof b, "%s/clipped", dir);
    c3.out = b;
    c3.grad_clip = 1.0f;
    assert_int_equal(mu_train_run(&c3, NULL, NULL, &res), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "--grad-clip 0"));
}

static void test_diverged_run_keeps_checkpoint(void **s) {
    char dir[256], data[512], out[512];
    run_dirs("diverge", dir, data, out);
    mu_train_config_t c = tiny_config(data, out);
    c.optim.preset = "sgd";
    c.optim.lr = 1e30f; /* explodes within a few steps */
    c.grad_clip = 0;
    c.sched.kind = MU_SCHED_CONSTANT;
    c.sched.warmup = 0;
    c.ckpt_every = 1;
    c.steps = 50;
    mu_train_result_t res;
    int rc = mu_train_run(&c, NULL, NULL, &res);
    assert_int_equal(rc, MU_ENONFINITE);
    assert_true(res.diverged);
    assert_true(res.steps_done < 50);
    /* metrics record the divergence */
    char p[600];
    snprintf(p, sizeof p, "%s/metrics.jsonl", out);
    char *buf;
    size_t len;
    assert_int_equal(mu_file_read_all(p, (void **)&buf, &len), MU_OK);
    assert_non_null(strstr(buf, "\"event\":\"diverged\""));
    free(buf);
    /* the checkpoint of the last finished step is kept, complete and finite (step 1 is: its
     * weights are huge but finite; step 2's forward overflows) */
    assert_true(res.steps_done >= 1);
    char w[4096];
    mu_state_t st;
    assert_int_equal(mu_ckpt_find_complete(out, w, sizeof w, &st), MU_OK);
    assert_int_equal(st.step, res.steps_done);
    mu_state_free(&st);
    mu_gemm_ctx_t *g;
    mu_gpt_t *m;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_OPENBLAS), MU_OK);
    assert_int_equal(mu_gpt_init(&m, &c.model, 3, g), MU_OK);
    assert_int_equal(mu_ckpt_load_weights(w, m), MU_OK);
    const mu_param_t *ps = mu_gpt_params(m);
    for (int32_t i = 0; i < mu_gpt_n_params(m); i++)
        for (int64_t j = 0; j < ps[i].numel; j++)
            if (!isfinite(ps[i].data[j])) fail_msg("%s[%lld] = %g in the kept checkpoint", ps[i].name, (long long)j,
                                                   (double)ps[i].data[j]);
    mu_gpt_free(m);
    mu_gemm_ctx_free(g);
}

static void test_refuses_existing_run_dir(void **s) {
    char dir[256], data[512], out[512];
    run_dirs("exists", dir, data, out);
    mu_train_config_t c = tiny_config(data, out);
    c.steps = 2;
    mu_train_result_t res;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "--resume"));
}

static void test_incomplete_checkpoint_rejected(void **s) {
    char dir[256], data[512], out[512], p[700];
    mu_test_tmpdir(dir, sizeof dir, "incomplete");
    snprintf(data, sizeof data, "%s/corpus.txt", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    write_corpus(data, 20000);
    mu_train_config_t c = tiny_config(data, out);
    c.steps = 3;
    mu_train_result_t res;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    /* flip one byte of the weights: the pair no longer matches */
    snprintf(p, sizeof p, "%s/model.safetensors", out);
    FILE *f = fopen(p, "r+b");
    fseek(f, -3, SEEK_END);
    int ch = fgetc(f);
    fseek(f, -3, SEEK_END);
    fputc(ch ^ 0x5a, f);
    fclose(f);
    char w[4096];
    mu_state_t st;
    assert_int_equal(mu_ckpt_find_complete(out, w, sizeof w, &st), MU_EFORMAT);
    assert_non_null(strstr(mu_last_error(), "checksum"));
    /* a truncated state file is rejected too */
    snprintf(p, sizeof p, "%s/state.bin", out);
    assert_int_equal(truncate(p, 40), 0);
    assert_int_equal(mu_state_read(p, &st), MU_EFORMAT);
}

/* A run killed after writing both .next files but before renaming them leaves only the
 * (model.safetensors.next, state.bin.next) pair complete. Resuming from it must move it into
 * place before the run's first own checkpoint (checked from the first step's progress
 * callback): else an interrupted save would destroy the only copy of that checkpoint. */
typedef struct {
    const char *out;
    int checked, in_place, next_left;
} rotation_probe_t;

static void rotation_cb(const mu_progress_t *p, void *user) {
    rotation_probe_t *r = user;
    if (p->event != 0 || r->checked) return;
    char w[700], wn[700], sn[700];
    snprintf(w, sizeof w, "%s/model.safetensors", r->out);
    snprintf(wn, sizeof wn, "%s/model.safetensors.next", r->out);
    snprintf(sn, sizeof sn, "%s/state.bin.next", r->out);
    r->checked = 1;
    r->in_place = access(w, F_OK) == 0;
    r->next_left = access(wn, F_OK) == 0 || access(sn, F_OK) == 0;
}

static void test_resume_finishes_rotation(void **s) {
    char dir[256], data[512], a[512], b[512], p[700], q[700];
    run_dirs("rotation", dir, data, a);
    snprintf(b, sizeof b, "%s/split", dir);
    mu_train_result_t res;
    mu_train_config_t c = tiny_config(data, a);
    c.ckpt_every = 100; /* only the stop's and the end's checkpoints */
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    mu_train_config_t c2 = c;
    c2.out = b;
    c2.stop_after = 5;
    assert_int_equal(mu_train_run(&c2, NULL, NULL, &res), MU_OK);
    const char *names[2] = {"model.safetensors", "state.bin"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", b, names[i]);
        snprintf(q, sizeof q, "%s/%s.next", b, names[i]);
        assert_int_equal(rename(p, q), 0);
    }
    char w[4096];
    mu_state_t st;
    assert_int_equal(mu_ckpt_find_complete(b, w, sizeof w, &st), MU_OK);
    assert_int_equal(st.step, 5);
    assert_non_null(strstr(w, ".next"));
    mu_state_free(&st);
    rotation_probe_t probe = {b, 0, 0, 0};
    c2.stop_after = 0;
    c2.resume = b;
    assert_int_equal(mu_train_run(&c2, rotation_cb, &probe, &res), MU_OK);
    assert_true(probe.checked);
    assert_true(probe.in_place);
    assert_false(probe.next_left);
    assert_int_equal(res.steps_done, 12);
    assert_same_weights(a, b, "after resuming from a mid-rotation pair");
}

/* Crash drill: SIGKILL `muon train` at random moments (including mid-checkpoint), resume,
 * and require (a) every complete checkpoint loads, (b) at most ckpt_every steps are lost,
 * (c) the finished run equals an uninterrupted one bit for bit. Needs MUON_BIN. */
static void test_crash_drill(void **s) {
    const char *bin = getenv("MUON_BIN");
    if (!bin || access(bin, X_OK) != 0) skip();
    char dir[256], data[512], ref[512], run[512];
    mu_test_tmpdir(dir, sizeof dir, "crash");
    snprintf(data, sizeof data, "%s/corpus.txt", dir);
    snprintf(ref, sizeof ref, "%s/ref", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    write_corpus(data, 40000);
    const char *args[] = {bin, "train", "--data", data, "--n-layer", "2", "--n-head", "2", "--d-model", "32",
                          "--seq-len", "32", "--batch", "8", "--steps", "400", "--ckpt-every", "3",
                          "--eval-every", "0", "--threads", "1", "--gemm", "openblas", "--log-every", "1",
                          "--out", NULL, NULL};
    int n_args = sizeof args / sizeof args[0];
    args[n_args - 2] = ref;
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execv(bin, (char **)args);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    mu_rng_t r;
    mu_rng_seed(&r, 99);
    args[n_args - 2] = run;
    int finished = 0, kills_with_ckpt = 0;
    /* the kill window doubles after an attempt that made no progress (no newer complete
     * checkpoint): on a loaded machine start-up alone can outlast 420 ms, and the drill must
     * still reach its checkpoints; it falls back to 1x after progress */
    int64_t last_ckpt = -1;
    uint32_t slow = 1;
    for (int attempt = 0; attempt < 40 && !finished; attempt++) {
        char state[600];
        snprintf(state, sizeof state, "%s/state.bin", run);
        int resume = access(state, F_OK) == 0;
        const char *rargs[] = {bin, "train", "--resume", run, NULL};
        pid = fork();
        if (pid == 0) {
            freopen("/dev/null", "w", stdout);
            freopen("/dev/null", "w", stderr);
            execv(bin, resume ? (char **)rargs : (char **)args);
            _exit(127);
        }
        const uint64_t us = (20000 + mu_rng_below(&r, 400000)) * slow;
        nanosleep(&(struct timespec){.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000}, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (WIFEXITED(status)) {
            assert_int_equal(WEXITSTATUS(status), 0);
            finished = 1;
        }
        char w[4096];
        mu_state_t st;
        char mpath[600];
        snprintf(mpath, sizeof mpath, "%s/metrics.jsonl", run);
        if (mu_ckpt_find_complete(run, w, sizeof w, &st) == MU_OK) {
            /* the newest logged step is at most ckpt_every ahead of the checkpoint */
            char *buf;
            size_t len;
            long long last = 0;
            if (mu_file_read_all(mpath, (void **)&buf, &len) == MU_OK) {
                for (char *q = buf; (q = strstr(q, "{\"step\":")); q++) {
                    long long v = atoll(q + 8);
                    if (v > last) last = v;
                }
                free(buf);
            }
            assert_true(last - st.step <= 3);
            if (!finished) kills_with_ckpt++;
            slow = st.step > last_ckpt ? 1 : slow < 32 ? 2 * slow : slow;
            last_ckpt = st.step;
            mu_state_free(&st);
        } else {
            slow = slow < 32 ? 2 * slow : slow;
        }
    }
    assert_true(kills_with_ckpt >= 3); /* the drill really interrupted runs that had checkpoints */
    if (!finished) { /* finish without interruption */
        const char *rargs[] = {bin, "train", "--resume", run, NULL};
        pid = fork();
        if (pid == 0) {
            freopen("/dev/null", "w", stdout);
            execv(bin, (char **)rargs);
            _exit(127);
        }
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_same_weights(ref, run, "after the crash drill");
}

static void test_schedule_in_metrics_and_eval(void **s) {
    char dir[256], data[512], out[512];
    run_dirs("evaldef", dir, data, out);
    mu_train_config_t c = tiny_config(data, out);
    c.steps = 6;
    mu_train_result_t res;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    /* eval = mean over windows of the model's mean loss, recomputed by hand */
    mu_dataset_t *d;
    assert_int_equal(mu_dataset_open(&d, data), MU_OK);
    mu_gemm_ctx_t *g;
    mu_gpt_t *m;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_OPENBLAS), MU_OK);
    assert_int_equal(mu_gpt_init(&m, &c.model, 3, g), MU_OK);
    char w[600];
    snprintf(w, sizeof w, "%s/model.safetensors", out);
    assert_int_equal(mu_ckpt_load_weights(w, m), MU_OK);
    double v;
    int64_t ntok;
    assert_int_equal(mu_eval_loss(m, d, 3, 7, &v, &ntok), MU_OK);
    assert_int_equal(ntok, 7 * 16);
    double sum = 0;
    int32_t x[16], y[16];
    for (int64_t i = 0; i < 7; i++) {
        float l;
        assert_int_equal(mu_dataset_val_window(d, 16, i, x, y), MU_OK);
        assert_int_equal(mu_gpt_forward(m, x, y, 1, 16, &l), MU_OK);
        sum += l;
    }
    assert_close(v, sum / 7, 1e-5, 1e-5);
    /* the final eval: every val window, on the saved weights (batch 3, the model's capacity
     * here: the windows' mean does not depend on the batching) */
    double vall;
    assert_int_equal(mu_eval_loss(m, d, 3, 0, &vall, NULL), MU_OK);
    assert_close(res.final_val_loss, vall, 1e-5, 1e-6);
    assert_true(res.final_val_loss < 5.6); /* below ln(256) = 5.545 + slack */
    /* the schedule in metrics.jsonl: step k logs lr = base × factor(k − 1); warmup 2 halves step 1 */
    char mp[600];
    snprintf(mp, sizeof mp, "%s/metrics.jsonl", out);
    double *st, *lr;
    int64_t n;
    assert_int_equal(mu_metrics_series(mp, "step", "lr", &st, &lr, &n), MU_OK);
    assert_true(n >= c.steps);
    mu_schedule_t sc = c.sched;
    sc.total = c.steps;
    for (int64_t i = 0; i < n; i++)
        assert_close(lr[i], 3e-3 * mu_schedule_factor(&sc, (int64_t)st[i] - 1), 1e-5, 0);
    assert_close(st[0], 1, 0, 0);
    assert_close(lr[0], 1.5e-3, 1e-5, 0);
    free(st), free(lr);
    mu_gpt_free(m);
    mu_gemm_ctx_free(g);
    mu_dataset_free(d);
}

/* --gemm auto times engines per shape; the plan cache makes a second fresh run reuse the
 * first run's choices, so the two are bit-identical. */
static void test_auto_plan_cache_bit_identical(void **s) {
    char dir[256], data[512], a[512], b[512], cache[512];
    mu_test_tmpdir(dir, sizeof dir, "plancache");
    snprintf(data, sizeof data, "%s/corpus.txt", dir);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    write_corpus(data, 20000);
    setenv("MUON_CACHE_DIR", cache, 1);
    mu_train_config_t c = tiny_config(data, a);
    c.gemm = MU_ENGINE_AUTO;
    c.optim.preset = "muon";
    mu_optim_config_for_preset("muon", &c.optim);
    c.steps = 6;
    mu_train_result_t res;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    c.out = b;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    unsetenv("MUON_CACHE_DIR");
    assert_same_weights(a, b, "between two fresh --gemm auto runs");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s/gemm-plan-*.txt >/dev/null 2>&1", cache);
    assert_int_equal(system(cmd), 0);
}

/* --diag-every: metrics lines carry r_W and r_dW per logical matrix; for muonpp with the
 * exact polar factor every update has ‖ΔW‖₂ = η·s, so r_dW = 1 (spec mup-and-muonpp.md §4). */
static void test_diag_every_muonpp_exact(void **s) {
    char dir[256], data[512], out[512];
    run_dirs("diag", dir, data, out);
    mu_train_config_t c = tiny_config(data, out);
    mu_optim_config_for_preset("muonpp", &c.optim);
    c.optim.orth_kind = MU_ORTH_EXACT;
    c.steps = 4;
    c.diag_every = 2;
    c.log_every = 100;
    mu_train_result_t res;
    assert_int_equal(mu_train_run(&c, NULL, NULL, &res), MU_OK);
    char p[600], *buf;
    size_t len;
    snprintf(p, sizeof p, "%s/metrics.jsonl", out);
    assert_int_equal(mu_file_read_all(p, (void **)&buf, &len), MU_OK);
    int lines = 0, checked = 0;
    for (char *q = buf; (q = strstr(q, "\"r_dw\":")); q++) {
        double v = atof(q + 7);
        assert_close(v, 1.0, 0.0, 1e-3); /* an exact polar factor: σ's are 1 (or 0) */
        checked++;
    }
    for (char *q = buf; (q = strstr(q, "\"diag\":")); q++) lines++;
    assert_int_equal(lines, 2);           /* steps 2 and 4 */
    assert_int_equal(checked, 2 * 2 * 6); /* 2 layers x (q,k,v,proj,fc,mlp proj) x 2 measurements */
    free(buf);
}

int main(int argc, char **argv) {
    const struct CMUnitTest group[] = {
        cmocka_unit_test(test_resume_constant),
        cmocka_unit_test(test_mars_exact_lookahead_resume),
        cmocka_unit_test(test_resume_cosine_accum_dropout),
        cmocka_unit_test(test_scion_light_resume),
        cmocka_unit_test(test_diverged_run_keeps_checkpoint),
        cmocka_unit_test(test_refuses_existing_run_dir),
        cmocka_unit_test(test_incomplete_checkpoint_rejected),
        cmocka_unit_test(test_schedule_in_metrics_and_eval),
        cmocka_unit_test(test_resume_finishes_rotation),
        cmocka_unit_test(test_crash_drill),
        cmocka_unit_test(test_auto_plan_cache_bit_identical),
        cmocka_unit_test(test_diag_every_muonpp_exact),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("train", group, NULL, NULL);
}
