/* test_wd_mode.c — `--wd-mode decoupled|independent` (spec mup-and-muonpp.md §2):
 *   decoupled   W <- (1 − η_g λ) W, η_g = base LR x schedule factor f x μP multiplier
 *   independent W <- (1 − f λ) W, whatever the LR's magnitude or μP scaling
 * checked against hand-computed AdamW steps (SP and μP with m = 4, where the hidden LR is η/4),
 * the ρ that mu_optim_param_rates reports, LR-magnitude independence, every preset's decay
 * links, the Muon++ adaptive factor's λ, checkpoint signatures and the CLI round trip. */
#include "testutil.h"

#include <sys/wait.h>
#include <unistd.h>

#include "muon/optim.h"
#include "optim/transform.h"
#include "optim_ref.h"

/* Registry: embed (3,2), hidden (2,3), gain (2); fixed weights, zero gradients. */
static void reg_three(reg_t *r) {
    r->n = 0;
    reg_add(r, "wte", MU_ROLE_EMBED, 2, 3, 2);
    reg_add(r, "h.0.mlp.c_fc.weight", MU_ROLE_HIDDEN, 2, 2, 3);
    reg_add(r, "h.0.ln_1.weight", MU_ROLE_GAIN, 1, 2, 1);
    for (int32_t k = 0; k < r->n; k++)
        for (int64_t i = 0; i < r->p[k].numel; i++) r->p[k].data[i] = 0.75f - 0.25f * (float)((i * 5 + k) % 7);
}

static mu_optim_config_t adamw(int32_t wd_mode, float lr, int32_t mup) {
    mu_optim_config_t c = mu_optim_config_default();
    c.lr = lr, c.weight_decay = 0.1f, c.wd_mode = wd_mode;
    c.param = mup, c.width_mult = mup ? 4.0f : 1.0f;
    return c;
}

/* One AdamW step by hand on w = (1, -2), g = (0.5, -0.25), lr 1e-3, λ 0.1, factor f = 0.5:
 * Adam's first step is U = g/(|g| + eps) = sign(g) (to 1e-8), so
 *   decoupled:   W = W (1 − 0.5e-3 · 0.1) − 0.5e-3 sign(g)
 *   independent: W = W (1 − 0.5 · 0.1)    − 0.5e-3 sign(g)
 * and under μP (m = 4) the hidden LR is 0.5e-3 / 4: decoupled shrinks by 1 − 1.25e-4 · 0.1,
 * independent still by 1 − 0.05. */
static void test_adamw_step_by_hand(void **st) {
    const double f = 0.5;
    for (int mup = 0; mup <= 1; mup++)
        for (int32_t mode = 0; mode <= 1; mode++) {
            reg_t r = {0};
            mu_param_t *p = reg_add(&r, "h.0.attn.c_proj.weight", MU_ROLE_HIDDEN, 2, 1, 2);
            p->data[0] = 1.0f, p->data[1] = -2.0f, p->grad[0] = 0.5f, p->grad[1] = -0.25f;
            mu_optim_config_t c = adamw(mode, 1e-3f, mup);
            mu_optim_t *o = NULL;
            assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_OK);
            assert_int_equal(mu_optim_step(o, (float)f), MU_OK);
            const double eta = 1e-3 * f / (mup ? 4.0 : 1.0); /* the hidden member's scheduled LR */
            const double rho = mode == MU_WD_INDEPENDENT ? 1 - f * 0.1 : 1 - eta * 0.1;
            assert_close(p->data[0], 1.0 * rho - eta, 1e-7, 0);
            assert_close(p->data[1], -2.0 * rho + eta, 1e-7, 0);
            /* hand values, spelled out for the four cases */
            const double want0[2][2] = {{0.99945, 0.9495}, {0.9998625, 0.949875}};
            assert_close(p->data[0], want0[mup][mode], 1e-7, 0);
            mu_optim_free(o);
            reg_free(&r);
        }
}

/* Zero gradients: Adam's update is exactly 0 (0/(0 + eps)), so one step is W1 = ρ W0 with the
 * ρ of mu_optim_param_rates, bit for bit, and ρ is the hand value for every role under SP and
 * μP: decoupled 1 − η f mult λ (mult 1/4 on the hidden matrix under μP), independent 1 − f λ. */
static void test_param_rates_match_step(void **st) {
    const float f = 0.3f, lr = 2e-3f;
    for (int mup = 0; mup <= 1; mup++)
        for (int32_t mode = 0; mode <= 1; mode++) {
            reg_t r = {0};
            reg_three(&r);
            mu_optim_config_t c = adamw(mode, lr, mup);
            mu_optim_t *o = NULL;
            assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_OK);
            float rl[3], rho[3], w0[3][6];
            assert_int_equal(mu_optim_param_rates(o, f, rl, rho), MU_OK);
            for (int32_t k = 0; k < r.n; k++) memcpy(w0[k], r.p[k].data, sizeof(float) * (size_t)r.p[k].numel);
            assert_int_equal(mu_optim_step(o, f), MU_OK);
            for (int32_t k = 0; k < r.n; k++) {
                const double mult = mup && r.p[k].role == MU_ROLE_HIDDEN ? 0.25 : 1.0;
                const int decayed = r.p[k].role != MU_ROLE_GAIN; /* gains: no WD by default */
                const double want = !decayed ? 1.0 : mode == MU_WD_INDEPENDENT ? 1.0 - 0.3 * 0.1 : 1.0 - 2e-3 * 0.3 * mult * 0.1;
                assert_close(rl[k], 2e-3 * 0.3 * mult, 1e-12, 1e-6);
                assert_close(rho[k], want, 1e-7, 0);
                for (int64_t i = 0; i < r.p[k].numel; i++)
                    if (r.p[k].data[i] != w0[k][i] * rho[k])
                        fail_msg("mup=%d mode=%d %s[%lld]: %.9g after the step, ρ·W0 = %.9g", mup, mode, r.p[k].name,
                                 (long long)i, (double)r.p[k].data[i], (double)(w0[k][i] * rho[k]));
            }
            mu_optim_free(o);
            reg_free(&r);
        }
}

/* Independent mode does not see the LR: three zero-gradient steps at factors 1, 0.5, 0.25 give
 * W0 · Π(1 − f_t λ) bit for bit at lr 1e-4, 1e-2 and 1, under SP and μP; decoupled does not. */
static void test_independent_ignores_lr(void **st) {
    const float fs[3] = {1.0f, 0.5f, 0.25f}, lrs[3] = {1e-4f, 1e-2f, 1.0f};
    float ref[6], dec[3][6];
    for (int mup = 0; mup <= 1; mup++)
        for (int li = 0; li < 3; li++)
            for (int32_t mode = 0; mode <= 1; mode++) {
                reg_t r = {0};
                reg_three(&r);
                mu_optim_config_t c = adamw(mode, lrs[li], mup);
                mu_optim_t *o = NULL;
                assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_OK);
                const float w0 = r.p[1].data[0];
                for (int t = 0; t < 3; t++) assert_int_equal(mu_optim_step(o, fs[t]), MU_OK);
                if (mode == MU_WD_INDEPENDENT) {
                    assert_close(r.p[1].data[0], w0 * 0.9 * 0.95 * 0.975, 1e-7, 1e-6);
                    if (mup == 0 && li == 0) memcpy(ref, r.p[1].data, sizeof ref);
                    else assert_memory_equal(ref, r.p[1].data, sizeof ref);
                } else {
                    memcpy(dec[li], r.p[1].data, sizeof dec[li]);
                    const double m = mup ? 0.25 : 1.0, l = lrs[li];
                    assert_close(r.p[1].data[0], w0 * (1 - l * m * 0.1) * (1 - l * m * 0.05) * (1 - l * m * 0.025), 1e-7,
                                 1e-6);
                }
                mu_optim_free(o);
                reg_free(&r);
            }
    assert_true(dec[0][0] != dec[2][0]); /* decoupled: the shrink follows the LR */
}

/* Every preset binds wd_mode on each of its decay links (Scion's constrained step excepted) and
 * on Muon++'s adaptive link; the describe line shows it only away from the default. */
static void test_every_preset_binds(void **st) {
    reg_t r = {0};
    reg_three(&r);
    mu_gemm_ctx_t *g = gemm_ctx();
    for (int32_t i = 0; i < mu_optim_preset_count(); i++) {
        mu_optim_preset_info_t info;
        assert_int_equal(mu_optim_preset_info(i, &info), MU_OK);
        for (int32_t mode = 0; mode <= 1; mode++) {
            mu_optim_config_t c;
            assert_int_equal(mu_optim_config_for_preset(info.name, &c), MU_OK);
            c.wd_mode = mode, c.weight_decay = 0.1f;
            mu_optim_t *o = NULL;
            if (mu_optim_init(&o, &c, r.p, r.n, g) != MU_OK) fail_msg("%s: %s", info.name, mu_last_error());
            char d[8192];
            assert_int_equal(mu_optim_describe(o, d, sizeof d), MU_OK);
            for (char *q = d; (q = strstr(q, "decay(")); q++) {
                char link[160];
                snprintf(link, sizeof link, "%.*s", (int)strcspn(q, ")"), q);
                const int scion = strstr(link, "mode=scion") != NULL;
                const int shown = strstr(link, "wd_mode=independent") != NULL;
                if (!scion && shown != (mode == MU_WD_INDEPENDENT))
                    fail_msg("%s (wd_mode %d): decay link '%s'", info.name, mode, link);
            }
            if (!strcmp(info.name, "muonpp")) {
                const char *a = strstr(d, "adaptive(");
                assert_non_null(a);
                char link[160];
                snprintf(link, sizeof link, "%.*s", (int)strcspn(a, ")"), a);
                assert_true((strstr(link, "wd_mode=independent") != NULL) == (mode == MU_WD_INDEPENDENT));
            }
            mu_optim_free(o);
        }
    }
    mu_gemm_ctx_free(g);
    reg_free(&r);
}

/* Muon++ with the adaptive factor: independent mode with λ equals decoupled mode with
 * λ' = f λ / η (the same ρ = 1 − f λ per step, and the adaptive link sees the same λ per unit LR). */
static void test_muonpp_adaptive_equivalence(void **st) {
    const float f = 0.5f, lr = 0.02f, wd = 0.1f;
    reg_t r[2];
    memset(r, 0, sizeof r);
    mu_optim_t *o[2];
    mu_gemm_ctx_t *g = gemm_ctx();
    for (int k = 0; k < 2; k++) {
        reg_add(&r[k], "h.0.mlp.c_fc.weight", MU_ROLE_HIDDEN, 2, 8, 6);
        fill_lcg(r[k].p[0].data, 48, 5, 1, 0.3f);
        mu_optim_config_t c;
        assert_int_equal(mu_optim_config_for_preset("muonpp", &c), MU_OK);
        c.adaptive = 1, c.orth_kind = 4 /* exact */, c.lr = lr;
        c.wd_mode = k == 0 ? MU_WD_INDEPENDENT : MU_WD_DECOUPLED;
        c.weight_decay = k == 0 ? wd : f * wd / (lr * f); /* λ' = f λ / η with η = lr f */
        assert_int_equal(mu_optim_init(&o[k], &c, r[k].p, r[k].n, g), MU_OK);
    }
    for (int t = 1; t <= 4; t++)
        for (int k = 0; k < 2; k++) {
            fill_lcg(r[k].p[0].grad, 48, 9, (uint64_t)t, 1.0f);
            assert_int_equal(mu_optim_step(o[k], f), MU_OK);
        }
    for (int64_t i = 0; i < 48; i++) assert_close(r[0].p[0].data[i], r[1].p[0].data[i], 1e-6, 1e-5);
    for (int k = 0; k < 2; k++) mu_optim_free(o[k]), reg_free(&r[k]);
    mu_gemm_ctx_free(g);
}

/* Parsing, config checks, the structural key (no change after init) and checkpoints: a
 * decoupled signature is the one written before wd_mode existed; an independent state does
 * not load into a decoupled optimizer. */
static void test_parse_check_signature(void **st) {
    int32_t m = -1;
    assert_int_equal(mu_optim_wd_mode_parse("independent", &m), MU_OK);
    assert_int_equal(m, MU_WD_INDEPENDENT);
    assert_int_equal(mu_optim_wd_mode_parse("decoupled", &m), MU_OK);
    assert_int_equal(m, MU_WD_DECOUPLED);
    assert_int_equal(mu_optim_wd_mode_parse("lr", &m), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "decoupled, independent"));
    assert_string_equal(mu_optim_wd_mode_name(1), "independent");
    assert_string_equal(mu_optim_wd_mode_name(7), "invalid");

    reg_t r = {0};
    reg_three(&r);
    mu_optim_config_t c = adamw(2, 1e-3f, 0);
    mu_optim_t *o = NULL, *o2 = NULL;
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "wd_mode"));

    c = adamw(MU_WD_DECOUPLED, 1e-3f, 0);
    assert_int_equal(mu_optim_init(&o, &c, r.p, r.n, NULL), MU_OK);
    char sig[512]; /* the first group's signature, at byte 80 of the state (state.c) */
    size_t n = mu_optim_state_bytes(o);
    unsigned char *buf = malloc(n);
    assert_int_equal(mu_optim_state_save(o, buf, n), MU_OK);
    snprintf(sig, sizeof sig, "%s", (const char *)buf + 80);
    assert_string_equal(sig, "decay[2]:adam>decay(mode=lr)>apply");
    assert_int_equal(mu_optim_set_hparam(o, "decay.decay.wd_mode", 1.0f), MU_EINVAL); /* structural */

    c.wd_mode = MU_WD_INDEPENDENT;
    assert_int_equal(mu_optim_init(&o2, &c, r.p, r.n, NULL), MU_OK);
    size_t n2 = mu_optim_state_bytes(o2);
    unsigned char *buf2 = malloc(n2);
    assert_int_equal(mu_optim_state_save(o2, buf2, n2), MU_OK);
    assert_string_equal((const char *)buf2 + 80, "decay[2]:adam>decay(mode=lr,wd_mode=independent)>apply");
    assert_int_equal(mu_optim_state_load(o, buf2, n2), MU_EMISMATCH);
    assert_non_null(strstr(mu_last_error(), "wd_mode=independent"));
    assert_int_equal(mu_optim_state_load(o2, buf2, n2), MU_OK);
    free(buf), free(buf2);
    mu_optim_free(o), mu_optim_free(o2);
    reg_free(&r);
}

/* ---- the CLI: config.txt stores the mode, --resume keeps it, a changed mode is refused ---- */

static int sh(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_cli_resume(void **st) {
    const char *bin = getenv("MUON_BIN");
    if (!bin) skip();
    char dir[256], cmd[2048], out[16384];
    mu_test_tmpdir(dir, sizeof dir, "wdmode");
    assert_true(dir[0]);
    snprintf(cmd, sizeof cmd, "%s/corpus.txt", dir);
    FILE *f = fopen(cmd, "w");
    assert_non_null(f);
    for (int i = 0; i < 4000; i++) fputs(i % 7 ? "the cat sat " : "on a mat.\n", f);
    fclose(f);
    const char *common = "--n-layer 1 --n-head 2 --d-model 16 --seq-len 16 --batch 2 --threads 1 --gemm openblas "
                         "--eval-every 0 --log-every 1";
    snprintf(cmd, sizeof cmd,
             "cd %s && timeout 120 %s train --data corpus.txt --out run %s --steps 4 --stop-after 2 --wd-mode "
             "independent 2>&1",
             dir, bin, common);
    if (sh(cmd, out, sizeof out) != 0) fail_msg("%s\n%s", cmd, out);
    assert_non_null(strstr(out, "wd-mode = independent"));
    assert_non_null(strstr(out, "wd_mode=independent")); /* the optimizer line */
    /* a resume that changes the mode is refused, naming both chains */
    snprintf(cmd, sizeof cmd, "cd %s && timeout 120 %s train --resume run --wd-mode decoupled 2>&1", dir, bin);
    assert_int_equal(sh(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "wd_mode=independent"));
    /* the resumed config keeps it */
    snprintf(cmd, sizeof cmd, "cd %s && timeout 120 %s train --resume run 2>&1", dir, bin);
    if (sh(cmd, out, sizeof out) != 0) fail_msg("%s\n%s", cmd, out);
    assert_non_null(strstr(out, "wd-mode = independent"));
    snprintf(cmd, sizeof cmd, "cd %s && %s train --data corpus.txt --out run2 --wd-mode sometimes 2>&1", dir, bin);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    assert_non_null(strstr(out, "--wd-mode"));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_adamw_step_by_hand),        cmocka_unit_test(test_param_rates_match_step),
    cmocka_unit_test(test_independent_ignores_lr),    cmocka_unit_test(test_every_preset_binds),
    cmocka_unit_test(test_muonpp_adaptive_equivalence), cmocka_unit_test(test_parse_check_signature),
    cmocka_unit_test(test_cli_resume),
};

MU_TEST_MAIN(tests)
