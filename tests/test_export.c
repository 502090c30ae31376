/* test_export.c — μP folded into the weights (mu_gpt_fold_mup, `muon export --fold`): a μP
 * model with non-trivial α_in, α_out, α_attn and width multiplier m = 4 (base width ≠ width)
 * and its folded SP copy give the same logits and loss (to fp32 rounding), untied and tied (the
 * tied model is untied unless α_in = α_out/m); the written file reads back as param = sp; the
 * CLI writes the same thing and `muon eval` agrees; PyTorch's plain forward
 * (scripts/load_in_pytorch.py) reproduces the μP logits when /usr/bin/python3 has torch. */
#include <sys/wait.h>
#include <unistd.h>

#include "muon/train.h"
#include "testutil.h"

enum { B = 2, T = 8, V = 13 };

static mu_gpt_config_t mup_cfg(int32_t tie, float alpha_in, float alpha_out) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 2, c.n_head = 2, c.d_model = 32, c.seq_len = T, c.vocab = V, c.bias = 1, c.tie = tie;
    c.param = MU_PARAM_MUP, c.base_width = 8; /* m = 4 */
    c.alpha_in = alpha_in, c.alpha_out = alpha_out, c.alpha_attn = 2.5f; /* d_head 16: SP would be 4 */
    return c;
}

/* A model with weights moved away from the init (every multiplier then matters). */
static mu_gpt_t *make(const mu_gpt_config_t *c, mu_gemm_ctx_t *g, uint64_t seed) {
    mu_gpt_t *m;
    assert_int_equal(mu_gpt_init(&m, c, B, g), MU_OK);
    assert_int_equal(mu_gpt_init_weights(m, seed), MU_OK);
    mu_param_t *p = mu_gpt_params(m);
    mu_rng_t r;
    mu_rng_seed(&r, seed + 100);
    for (int32_t i = 0; i < mu_gpt_n_params(m); i++)
        for (int64_t j = 0; j < p[i].numel; j++) p[i].data[j] += 0.08f * mu_rng_normal(&r);
    return m;
}

static const int32_t xs[B * T] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3};
static const int32_t ys[B * T] = {1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2};

/* logits (B·T·V) and loss of m */
static float run(mu_gpt_t *m, float *logits) {
    float loss;
    assert_int_equal(mu_gpt_forward(m, xs, ys, B, T, &loss), MU_OK);
    memcpy(logits, mu_gpt_logits(m), sizeof(float) * B * T * V);
    return loss;
}

/* max |a − b| ≤ tol · max |b| */
static void assert_logits_close(const float *a, const float *b, double tol) {
    double mx = 0, diff = 0;
    for (int i = 0; i < B * T * V; i++) {
        mx = fmax(mx, fabs(b[i]));
        diff = fmax(diff, fabs((double)a[i] - b[i]));
    }
    if (!(diff <= tol * mx)) fail_msg("logits differ by %.3g (max |logit| %.3g, tol %.1g relative)", diff, mx, tol);
}

/* Untied, tied with α_in ≠ α_out/m (becomes untied) and tied with α_in = α_out/m = 0.75 (stays
 * tied): folded SP logits equal the μP ones; the loaded-as-SP unfolded weights do not. */
static void test_fold_matches(void **st) {
    const struct {
        int32_t tie;
        float a_in, a_out;
        int32_t want_tie;
    } cases[3] = {{0, 1.7f, 3.0f, 0}, {1, 1.7f, 3.0f, 0}, {1, 0.75f, 3.0f, 1}};
    mu_gemm_ctx_t *g;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_OPENBLAS), MU_OK);
    for (int k = 0; k < 3; k++) {
        mu_gpt_config_t c = mup_cfg(cases[k].tie, cases[k].a_in, cases[k].a_out), fc;
        mu_gpt_t *src = make(&c, g, 7 + (uint64_t)k), *dst;
        assert_int_equal(mu_gpt_fold_config(&c, &fc), MU_OK);
        assert_int_equal(fc.param, MU_PARAM_SP);
        assert_int_equal(fc.tie, cases[k].want_tie);
        assert_int_equal(mu_gpt_init(&dst, &fc, B, g), MU_OK);
        assert_int_equal(mu_gpt_fold_mup(src, dst), MU_OK);
        float ls[B * T * V], ld[B * T * V];
        const float l_src = run(src, ls), l_dst = run(dst, ld);
        assert_close(l_dst, l_src, 0, 1e-5);
        assert_logits_close(ld, ls, 1e-5);
        /* by hand: wpe' = α_in wpe; query row 0 of block 0 scaled by 2.5/16·4 = 0.625 */
        const mu_param_t *ps = mu_gpt_param_by_name(src, "transformer.wpe.weight");
        const mu_param_t *pd = mu_gpt_param_by_name(dst, "transformer.wpe.weight");
        assert_close(pd->data[5], cases[k].a_in * ps->data[5], 0, 1e-7);
        ps = mu_gpt_param_by_name(src, "transformer.h.0.attn.c_attn.weight");
        pd = mu_gpt_param_by_name(dst, "transformer.h.0.attn.c_attn.weight");
        assert_close(pd->data[3], 0.625 * ps->data[3], 0, 1e-7);
        assert_true(pd->data[32 * 32 + 3] == ps->data[32 * 32 + 3]); /* key rows untouched */
        ps = mu_gpt_param_by_name(src, "transformer.h.1.attn.c_attn.bias");
        pd = mu_gpt_param_by_name(dst, "transformer.h.1.attn.c_attn.bias");
        assert_close(pd->data[31], 0.625 * ps->data[31], 0, 1e-7);
        assert_true(pd->data[32] == ps->data[32]);
        if (!fc.tie) {
            const mu_param_t *h = mu_gpt_param_by_name(dst, "lm_head.weight");
            const mu_param_t *hs = mu_gpt_param_by_name(src, c.tie ? "transformer.wte.weight" : "lm_head.weight");
            assert_close(h->data[7], 0.75 * hs->data[7], 0, 1e-7); /* α_out/m = 3/4 */
        }
        /* a destination of the wrong shape or param is refused */
        mu_gpt_t *bad;
        mu_gpt_config_t bc = fc;
        bc.tie = !fc.tie;
        assert_int_equal(mu_gpt_init(&bad, &bc, B, g), MU_OK);
        assert_int_equal(mu_gpt_fold_mup(src, bad), MU_EMISMATCH);
        assert_non_null(strstr(mu_last_error(), "mu_gpt_fold_config"));
        mu_gpt_free(bad);
        mu_gpt_free(src);
        mu_gpt_free(dst);
    }
    assert_int_equal(mu_gpt_fold_mup(NULL, NULL), MU_EINVAL);
    assert_int_equal(mu_gpt_fold_config(NULL, NULL), MU_EINVAL);
    mu_gemm_ctx_free(g);
}

/* Written with mu_ckpt_save_weights, the folded file reads back as param = sp (tie false) and a
 * plain SP model loaded from it gives the same logits, bit for bit, as the folded model. */
static void test_file_roundtrip(void **st) {
    char dir[256], path[320];
    mu_test_tmpdir(dir, sizeof dir, "export");
    assert_true(dir[0]);
    snprintf(path, sizeof path, "%s/folded.safetensors", dir);
    mu_gemm_ctx_t *g;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_OPENBLAS), MU_OK);
    mu_gpt_config_t c = mup_cfg(1, 1.7f, 3.0f), fc, rc;
    mu_gpt_t *src = make(&c, g, 3), *dst, *back;
    assert_int_equal(mu_gpt_fold_config(&c, &fc), MU_OK);
    assert_int_equal(mu_gpt_init(&dst, &fc, B, g), MU_OK);
    assert_int_equal(mu_gpt_fold_mup(src, dst), MU_OK);
    assert_int_equal(mu_ckpt_save_weights(path, dst, NULL, NULL, 0), MU_OK);
    assert_int_equal(mu_ckpt_read_config(path, &rc), MU_OK);
    assert_int_equal(rc.param, MU_PARAM_SP);
    assert_int_equal(rc.tie, 0);
    assert_int_equal(mu_gpt_init(&back, &rc, B, g), MU_OK);
    assert_int_equal(mu_ckpt_load_weights(path, back), MU_OK);
    float a[B * T * V], b[B * T * V], s[B * T * V];
    run(dst, a);
    run(back, b);
    run(src, s);
    assert_memory_equal(a, b, sizeof a);
    assert_logits_close(b, s, 1e-5);
    mu_gpt_free(src), mu_gpt_free(dst), mu_gpt_free(back);
    mu_gemm_ctx_free(g);
    remove(path);
    rmdir(dir);
}

static int sh(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int stt = pclose(p);
    return WIFEXITED(stt) ? WEXITSTATUS(stt) : 128;
}

/* The CLI: export --help; a μP model file folded by `muon export` evaluates (muon eval) to the
 * same val loss as the μP file; errors exit 2 (usage) or 1 (bad input); when /usr/bin/python3 has
 * torch, load_in_pytorch.py's plain nanoGPT forward of the folded file gives the μP logits. */
static void test_cli_and_pytorch(void **st) {
    const char *bin = getenv("MUON_BIN");
    if (!bin) skip();
    char dir[256], cmd[2048], out[8192], mup[320], sp[320], corpus[320];
    mu_test_tmpdir(dir, sizeof dir, "exportcli");
    assert_true(dir[0]);
    snprintf(mup, sizeof mup, "%s/mup.safetensors", dir);
    snprintf(sp, sizeof sp, "%s/sp.safetensors", dir);
    snprintf(corpus, sizeof corpus, "%s/corpus.txt", dir);
    FILE *f = fopen(corpus, "w");
    assert_non_null(f);
    for (int i = 0; i < 400; i++) fputc("abcdefghijklm"[(i * 7 + i / 5) % 13], f);
    fclose(f);
    mu_gemm_ctx_t *g;
    assert_int_equal(mu_gemm_ctx_init(&g, MU_ENGINE_OPENBLAS), MU_OK);
    mu_gpt_config_t c = mup_cfg(0, 1.7f, 3.0f);
    c.vocab = 256;
    mu_gpt_t *src = make(&c, g, 5);
    assert_int_equal(mu_ckpt_save_weights(mup, src, NULL, NULL, 0), MU_OK);

    snprintf(cmd, sizeof cmd, "%s export --help 2>&1", bin);
    assert_int_equal(sh(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "--fold"));
    snprintf(cmd, sizeof cmd, "%s export --out %s 2>&1", bin, sp);
    assert_int_equal(sh(cmd, out, sizeof out), 2);
    snprintf(cmd, sizeof cmd, "%s export --fold %s/none --out %s 2>&1", bin, dir, sp);
    assert_int_equal(sh(cmd, out, sizeof out), 1);
    assert_non_null(strstr(out, "muon export: "));
    snprintf(cmd, sizeof cmd, "%s export --fold %s --out %s 2>&1", bin, mup, sp);
    if (sh(cmd, out, sizeof out) != 0) fail_msg("%s\n%s", cmd, out);
    assert_non_null(strstr(out, "param sp"));
    mu_gpt_config_t rc;
    assert_int_equal(mu_ckpt_read_config(sp, &rc), MU_OK);
    assert_int_equal(rc.param, MU_PARAM_SP);
    double loss[2];
    const char *files[2] = {mup, sp};
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "%s eval --ckpt %s --data %s --threads 1 2>&1", bin, files[k], corpus);
        if (sh(cmd, out, sizeof out) != 0) fail_msg("%s\n%s", cmd, out);
        const char *q = strstr(out, "val_loss ");
        assert_non_null(q);
        loss[k] = atof(q + 9);
    }
    assert_close(loss[1], loss[0], 0, 1e-5);

    if (access("scripts/load_in_pytorch.py", R_OK) == 0 &&
        system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0) {
        char lg[320];
        snprintf(lg, sizeof lg, "%s/logits.f32", dir);
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 scripts/load_in_pytorch.py %s --tokens 3,1,4,1,5,9,2,6 --out %s >/dev/null 2>&1", sp,
                 lg);
        assert_int_equal(system(cmd), 0);
        float *py = malloc(sizeof(float) * T * 256);
        f = fopen(lg, "rb");
        assert_non_null(f);
        assert_int_equal(fread(py, sizeof(float), T * 256, f), T * 256);
        fclose(f);
        assert_int_equal(mu_gpt_forward(src, xs, NULL, 1, T, NULL), MU_OK);
        const float *ref = mu_gpt_logits(src);
        double mx = 0, diff = 0;
        for (int i = 0; i < T * 256; i++) mx = fmax(mx, fabs(ref[i])), diff = fmax(diff, fabs((double)py[i] - ref[i]));
        if (!(diff <= 1e-5 * mx)) fail_msg("PyTorch logits of the folded file differ by %.3g (max %.3g)", diff, mx);
        free(py);
    } else {
        print_message("PyTorch check skipped: needs /usr/bin/python3 with torch, run from the repository root\n");
    }
    mu_gpt_free(src);
    mu_gemm_ctx_free(g);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fold_matches),
    cmocka_unit_test(test_file_roundtrip),
    cmocka_unit_test(test_cli_and_pytorch),
};

MU_TEST_MAIN(tests)
