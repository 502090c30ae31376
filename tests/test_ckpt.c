/* test_ckpt.c — safetensors reader/writer and model-weight checkpoints:
 * bit-exact round trips, F16/BF16 conversion, every corruption rule, every
 * truncation of a small file, model save/load (tied and untied), and logits
 * against the PyTorch loader script when python3 + torch are present. */
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muon/train.h"
#include "testutil.h"
#include "train/safetensors_internal.h"

/* ---- helpers ---- */

static void write_file(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static void *read_file(const char *path, size_t *len) {
    void *buf;
    assert_int_equal(mu_file_read_all(path, &buf, len), 0);
    return buf;
}

/* A file image: u64 header length, header (not padded), then `data`. */
static uint8_t *make_st(const char *header, const void *data, size_t dlen, size_t *len) {
    size_t hl = strlen(header);
    *len = 8 + hl + dlen;
    uint8_t *b = malloc(*len + 1);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, header, hl);
    if (dlen) memcpy(b + 8 + hl, data, dlen);
    return b;
}

/* Parse a header + data from memory; returns the code (and frees the handle). */
static int parse_hdr(const char *header, size_t dlen) {
    size_t len;
    uint8_t zeros[256] = {0};
    uint8_t *b = make_st(header, zeros, dlen, &len);
    mu_safetensors_t *s = NULL;
    int rc = mu_st_parse(&s, b, len, "t.safetensors");
    if (rc == 0) assert_non_null(s);
    else assert_null(s);
    mu_safetensors_free(s);
    free(b);
    return rc;
}

/* ---- safetensors ---- */

static void st_roundtrip_bit_exact(void **state) {
    (void)state;
    char dir[256], path[300];
    mu_test_tmpdir(dir, sizeof dir, "ckpt");
    snprintf(path, sizeof path, "%s/a.safetensors", dir);
    /* special values: NaN payload, -0, denormal, inf, max */
    uint32_t bits[6] = {0x7fc00123u, 0x80000000u, 0x00000001u, 0x7f800000u, 0x7f7fffffu, 0x3f800000u};
    float a[6], b[3] = {1.5f, -2.25f, 3e-7f}, c[1] = {42.0f};
    memcpy(a, bits, sizeof a);
    mu_st_tensor_t t[4] = {
        {"w.matrix", 2, {2, 3, 0, 0}, a},
        {"v", 1, {3, 0, 0, 0}, b},
        {"empty", 2, {0, 5, 0, 0}, NULL},
        {"scalar", 0, {0, 0, 0, 0}, c},
    };
    const char *mk[3] = {"git", "note", "unicode"};
    const char *mv[3] = {"abc123", "quote \" backslash \\ newline \n tab \t", "\xc3\xa9t\xc3\xa9"};
    assert_int_equal(mu_safetensors_write(path, t, 4, mk, mv, 3), 0);

    size_t len;
    uint8_t *raw = read_file(path, &len);
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++) hl |= (uint64_t)raw[i] << (8 * i);
    assert_int_equal(hl % 8, 0);                       /* padded header */
    assert_int_equal(len, 8 + hl + 4 * (6 + 3 + 0 + 1)); /* packed data */
    assert_int_equal(raw[8], '{');
    assert_memory_equal(raw + 8 + hl, a, 24);          /* first tensor first */

    /* deterministic: the same inputs give the same bytes */
    char path2[320];
    snprintf(path2, sizeof path2, "%s/b.safetensors", dir);
    assert_int_equal(mu_safetensors_write(path2, t, 4, mk, mv, 3), 0);
    size_t len2;
    uint8_t *raw2 = read_file(path2, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(raw, raw2, len);
    free(raw2);
    free(raw);

    mu_safetensors_t *s;
    assert_int_equal(mu_safetensors_open(&s, path), 0);
    assert_int_equal(mu_safetensors_count(s), 4);
    assert_string_equal(mu_safetensors_name(s, 0), "w.matrix");
    assert_string_equal(mu_safetensors_name(s, 3), "scalar");
    assert_null(mu_safetensors_name(s, 4));
    int32_t nd;
    int64_t sh[4];
    const char *dt;
    assert_int_equal(mu_safetensors_info(s, "w.matrix", &nd, sh, &dt), 0);
    assert_int_equal(nd, 2);
    assert_int_equal(sh[0], 2);
    assert_int_equal(sh[1], 3);
    assert_string_equal(dt, "F32");
    assert_int_equal(mu_safetensors_info(s, "empty", &nd, sh, &dt), 0);
    assert_int_equal(nd, 2);
    assert_int_equal(sh[0], 0);
    assert_int_equal(mu_safetensors_info(s, "scalar", &nd, sh, &dt), 0);
    assert_int_equal(nd, 0);
    assert_int_equal(mu_safetensors_info(s, "nope", &nd, sh, &dt), MU_EINVAL);

    float ra[6], rb[3], rc1[1];
    assert_int_equal(mu_safetensors_read_f32(s, "w.matrix", ra, 6), 0);
    assert_memory_equal(ra, a, sizeof a);
    assert_int_equal(mu_safetensors_read_f32(s, "v", rb, 3), 0);
    assert_memory_equal(rb, b, sizeof b);
    assert_int_equal(mu_safetensors_read_f32(s, "scalar", rc1, 1), 0);
    assert_true(rc1[0] == 42.0f);
    assert_int_equal(mu_safetensors_read_f32(s, "empty", NULL, 0), 0);
    assert_int_equal(mu_safetensors_read_f32(s, "v", rb, 2), MU_EINVAL); /* wrong count */

    assert_string_equal(mu_safetensors_meta(s, "git"), "abc123");
    assert_string_equal(mu_safetensors_meta(s, "note"), mv[1]);
    assert_string_equal(mu_safetensors_meta(s, "unicode"), mv[2]);
    assert_null(mu_safetensors_meta(s, "missing"));
    mu_safetensors_free(s);
}

static void st_write_rejects_bad_input(void **state) {
    (void)state;
    float x[2] = {1, 2};
    mu_st_tensor_t dup[2] = {{"a", 1, {2, 0, 0, 0}, x}, {"a", 1, {2, 0, 0, 0}, x}};
    assert_int_equal(mu_safetensors_write("/tmp/never.safetensors", dup, 2, NULL, NULL, 0), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "twice"));
    mu_st_tensor_t neg = {"a", 1, {-1, 0, 0, 0}, x};
    assert_int_equal(mu_safetensors_write("/tmp/never.safetensors", &neg, 1, NULL, NULL, 0), MU_EINVAL);
    mu_st_tensor_t meta = {"__metadata__", 1, {2, 0, 0, 0}, x};
    assert_int_equal(mu_safetensors_write("/tmp/never.safetensors", &meta, 1, NULL, NULL, 0), MU_EINVAL);
    const char *k[2] = {"x", "x"}, *v[2] = {"1", "2"};
    mu_st_tensor_t ok = {"a", 1, {2, 0, 0, 0}, x};
    assert_int_equal(mu_safetensors_write("/tmp/never.safetensors", &ok, 1, k, v, 2), MU_EINVAL);
    assert_int_equal(access("/tmp/never.safetensors", F_OK), -1);
    assert_int_equal(mu_safetensors_write("/nonexistent-dir/x.safetensors", &ok, 1, NULL, NULL, 0), MU_EIO);
    mu_safetensors_t *s;
    assert_int_equal(mu_safetensors_open(&s, "/nonexistent-dir/x.safetensors"), MU_EIO);
    assert_null(s);
}

static void st_f16_bf16_conversion(void **state) {
    (void)state;
    /* F16: 1, -2, 2^-24 (smallest subnormal), 0x3555 = 0.333251953125, inf, -0, 65504 (max), 2^-14 */
    uint16_t h[8] = {0x3c00, 0xc000, 0x0001, 0x3555, 0x7c00, 0x8000, 0x7bff, 0x0400};
    float hw[8] = {1.0f, -2.0f, 0x1p-24f, 0.333251953125f, INFINITY, -0.0f, 65504.0f, 0x1p-14f};
    /* BF16: 1, -5, 0x3eaa = 0.33203125, 0x0001 = smallest subnormal 2^-133 */
    uint16_t b[4] = {0x3f80, 0xc0a0, 0x3eaa, 0x0001};
    float bw[4] = {1.0f, -5.0f, 0.33203125f, 0x1p-133f};
    uint8_t data[24];
    memcpy(data, h, 16); /* little-endian host, same as the file */
    memcpy(data + 16, b, 8);
    size_t len;
    uint8_t *img = make_st("{\"h\":{\"dtype\":\"F16\",\"shape\":[2,4],\"data_offsets\":[0,16]},"
                           "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[16,24]}}",
                           data, sizeof data, &len);
    mu_safetensors_t *s;
    assert_int_equal(mu_st_parse(&s, img, len, "mem"), 0);
    float out[8];
    const char *dt;
    assert_int_equal(mu_safetensors_info(s, "h", NULL, NULL, &dt), 0);
    assert_string_equal(dt, "F16");
    assert_int_equal(mu_safetensors_read_f32(s, "h", out, 8), 0);
    for (int i = 0; i < 8; i++) assert_memory_equal(&out[i], &hw[i], 4);
    assert_int_equal(mu_safetensors_read_f32(s, "b", out, 4), 0);
    for (int i = 0; i < 4; i++) assert_memory_equal(&out[i], &bw[i], 4);
    mu_safetensors_free(s);
    free(img);
    /* NaN stays NaN */
    assert_true(isnan(mu_st_f16_to_f32(0x7e00)));
    assert_true(isnan(mu_st_bf16_to_f32(0x7fc0)));
    /* every finite half converts exactly: back-conversion by rounding recovers it */
    for (uint32_t x = 0; x < 0x7c00; x++) {
        float f = mu_st_f16_to_f32((uint16_t)x);
        assert_true(f >= 0 && isfinite(f));
        if (x) assert_true(f > mu_st_f16_to_f32((uint16_t)(x - 1))); /* strictly increasing */
    }
}

static void st_other_dtypes_open_but_do_not_read(void **state) {
    (void)state;
    int64_t v = 7;
    size_t len;
    uint8_t *img = make_st("{\"step\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", &v, 8, &len);
    mu_safetensors_t *s;
    assert_int_equal(mu_st_parse(&s, img, len, "mem"), 0);
    float f;
    assert_int_equal(mu_safetensors_read_f32(s, "step", &f, 1), MU_EUNSUPPORTED);
    assert_non_null(strstr(mu_last_error(), "I64"));
    mu_safetensors_free(s);
    free(img);
}

typedef struct {
    const char *header;
    size_t dlen;
    int code;
    const char *msg; /* substring of the error message */
} bad_case_t;

static void st_corrupt_headers(void **state) {
    (void)state;
    static const bad_case_t cases[] = {
        {"[]", 0, MU_EFORMAT, "not start with '{'"},
        {"{\"a\":1", 0, MU_EFORMAT, "not valid JSON"},
        {"{}  x", 0, MU_EFORMAT, "trailing"},
        {"{\"a\":[1]}", 0, MU_EFORMAT, "not an object"},
        {"{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, MU_EFORMAT, "unknown dtype"},
        {"{\"a\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, MU_EFORMAT, "dtype"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, MU_EFORMAT, "dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4, MU_EFORMAT, "'shape'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, MU_EFORMAT, "shape[0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, MU_EFORMAT, "shape[0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4, MU_EFORMAT, "shape[0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, MU_EUNSUPPORTED, "dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, MU_EFORMAT, "needs 8 bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
         MU_EFORMAT, "more than"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, MU_EFORMAT,
         "'a': data_offsets [0,8] exceed data size 4"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, MU_EFORMAT, "[begin, end]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, MU_EFORMAT, "[begin, end]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, MU_EFORMAT, "[begin, end]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, MU_EFORMAT, "end before begin"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, MU_EFORMAT, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, MU_EFORMAT, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, MU_EFORMAT, "hole of 4 bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, MU_EFORMAT, "cover 4 bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, MU_EFORMAT, "appears twice"},
        {"{\"__metadata__\":[\"x\"]}", 0, MU_EFORMAT, "'__metadata__' is not an object"},
        {"{\"__metadata__\":{\"k\":1}}", 0, MU_EFORMAT, "not a string"},
        {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, MU_EFORMAT, "duplicate key"},
        {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, MU_EFORMAT, "twice"},
        {"{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, MU_EFORMAT, "empty name"},
        {"{}", 4, MU_EFORMAT, "cover 0 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = parse_hdr(cases[i].header, cases[i].dlen);
        if (rc != cases[i].code || !strstr(mu_last_error(), cases[i].msg)) {
            print_error("case %zu: %s\n  rc %d (want %d), message: %s (want '%s')\n", i, cases[i].header, rc,
                        cases[i].code, mu_last_error(), cases[i].msg);
            fail();
        }
    }
    /* the good variants of the same shapes parse */
    assert_int_equal(parse_hdr("{}", 0), 0);
    assert_int_equal(parse_hdr("{\"__metadata__\":{}}   ", 0), 0);
    assert_int_equal(parse_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8), 0);
    assert_int_equal(parse_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), 0);
}

static void st_bad_lengths(void **state) {
    (void)state;
    mu_safetensors_t *s;
    uint8_t b[32] = {0};
    for (size_t n = 0; n < 8; n++) {
        assert_int_equal(mu_st_parse(&s, b, n, "x"), MU_EFORMAT);
        assert_non_null(strstr(mu_last_error(), "too short"));
    }
    b[0] = 100; /* header length 100 > 24 bytes left */
    assert_int_equal(mu_st_parse(&s, b, 32, "x"), MU_EFORMAT);
    assert_non_null(strstr(mu_last_error(), "exceeds"));
    memset(b, 0, 8);
    b[5] = 1; /* 2^40: absurd */
    assert_int_equal(mu_st_parse(&s, b, 32, "x"), MU_EFORMAT);
    assert_non_null(strstr(mu_last_error(), "absurd"));
    memset(b, 0xff, 8); /* 2^64 - 1 */
    assert_int_equal(mu_st_parse(&s, b, 32, "x"), MU_EFORMAT);
    /* a NUL inside the header */
    size_t len;
    uint8_t *img = make_st("{\"a\":1}", NULL, 0, &len);
    img[10] = 0;
    assert_int_equal(mu_st_parse(&s, img, len, "x"), MU_EFORMAT);
    free(img);
    /* files on disk: empty and 3 bytes */
    char dir[256], path[300];
    mu_test_tmpdir(dir, sizeof dir, "ckpt");
    snprintf(path, sizeof path, "%s/short.safetensors", dir);
    write_file(path, "", 0);
    assert_int_equal(mu_safetensors_open(&s, path), MU_EFORMAT);
    assert_non_null(strstr(mu_last_error(), path));
    write_file(path, "abc", 3);
    assert_int_equal(mu_safetensors_open(&s, path), MU_EFORMAT);
    assert_int_equal(mu_safetensors_open(&s, dir), MU_EIO); /* a directory */
}

/* Every proper prefix of a valid file is rejected; the full file is accepted. */
static void st_truncated_every_length(void **state) {
    (void)state;
    char dir[256], path[300], cut[320];
    mu_test_tmpdir(dir, sizeof dir, "ckpt");
    snprintf(path, sizeof path, "%s/full.safetensors", dir);
    snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
    float a[6] = {1, 2, 3, 4, 5, 6}, b[2] = {7, 8};
    mu_st_tensor_t t[2] = {{"a", 2, {2, 3, 0, 0}, a}, {"b", 1, {2, 0, 0, 0}, b}};
    const char *k = "format", *v = "muon-gpt2";
    assert_int_equal(mu_safetensors_write(path, t, 2, &k, &v, 1), 0);
    size_t len;
    uint8_t *raw = read_file(path, &len);
    mu_safetensors_t *s;
    for (size_t n = 0; n < len; n++) {
        int rc = mu_st_parse(&s, raw, n, "cut");
        if (rc != MU_EFORMAT) {
            print_error("prefix of %zu/%zu bytes: rc %d\n", n, len, rc);
            fail();
        }
        if (n % 7 == 0 || n + 1 == len) { /* also through the file path (mmap) */
            write_file(cut, raw, n);
            assert_int_equal(mu_safetensors_open(&s, cut), MU_EFORMAT);
        }
    }
    assert_int_equal(mu_st_parse(&s, raw, len, "full"), 0);
    mu_safetensors_free(s);
    /* one extra byte is rejected too (data area not covered exactly) */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, raw, len);
    longer[len] = 0;
    assert_int_equal(mu_st_parse(&s, longer, len + 1, "long"), MU_EFORMAT);
    free(longer);
    /* every single-byte corruption of the header either parses or fails cleanly */
    for (size_t i = 0; i < len; i++) {
        uint8_t *c = malloc(len);
        memcpy(c, raw, len);
        c[i] ^= 0x5a;
        int rc = mu_st_parse(&s, c, len, "flip");
        if (rc != MU_OK && rc != MU_EFORMAT && rc != MU_EUNSUPPORTED) fail_msg("flip at %zu: rc %d", i, rc);
        if (rc == MU_OK) { /* a flip in the data area: every tensor still reads (bits are bits) */
            for (int32_t t = 0; t < mu_safetensors_count(s); t++) {
                int32_t nd;
                int64_t shape[4], numel = 1;
                const char *nm = mu_safetensors_name(s, t);
                assert_int_equal(mu_safetensors_info(s, nm, &nd, shape, NULL), MU_OK);
                for (int32_t k = 0; k < nd; k++) numel *= shape[k];
                float *buf = malloc(sizeof(float) * (size_t)(numel ? numel : 1));
                int rr = mu_safetensors_read_f32(s, nm, buf, numel);
                if (rr != MU_OK && rr != MU_EFORMAT && rr != MU_EUNSUPPORTED)
                    fail_msg("flip at %zu: read rc %d", i, rr);
                free(buf);
            }
            mu_safetensors_free(s);
        }
        free(c);
    }
    free(raw);
}

/* ---- model checkpoints ---- */

static mu_gemm_ctx_t *g_gemm;

static mu_gpt_config_t tiny_cfg(int bias, int tie) {
    mu_gpt_config_t c = mu_gpt_config_default();
    c.n_layer = 2;
    c.n_head = 2;
    c.d_model = 16;
    c.seq_len = 8;
    c.vocab = 11;
    c.bias = bias;
    c.tie = tie;
    c.dropout = 0.0f;
    return c;
}

/* A model whose every parameter (biases and gains too) is random. */
static mu_gpt_t *tiny_model(int bias, int tie, uint64_t seed) {
    if (!g_gemm) assert_int_equal(mu_gemm_ctx_init(&g_gemm, MU_ENGINE_OPENBLAS), 0);
    mu_gpt_config_t c = tiny_cfg(bias, tie);
    mu_gpt_t *m = NULL;
    assert_int_equal(mu_gpt_init(&m, &c, 2, g_gemm), 0);
    assert_int_equal(mu_gpt_init_weights(m, seed), 0);
    mu_rng_t r;
    mu_rng_seed(&r, seed);
    mu_param_t *p = mu_gpt_params(m);
    for (int32_t i = 0; i < mu_gpt_n_params(m); i++)
        for (int64_t k = 0; k < p[i].numel; k++)
            p[i].data[k] = (p[i].role == MU_ROLE_GAIN ? 1.0f : 0.0f) + 0.4f * mu_rng_normal(&r);
    return m;
}

static void assert_models_equal(mu_gpt_t *a, mu_gpt_t *b) {
    assert_int_equal(mu_gpt_n_params(a), mu_gpt_n_params(b));
    mu_param_t *pa = mu_gpt_params(a), *pb = mu_gpt_params(b);
    for (int32_t i = 0; i < mu_gpt_n_params(a); i++) {
        assert_string_equal(pa[i].name, pb[i].name);
        assert_int_equal(pa[i].numel, pb[i].numel);
        assert_memory_equal(pa[i].data, pb[i].data, (size_t)pa[i].numel * sizeof(float));
    }
}

static void roundtrip(int bias, int tie) {
    char dir[256], path[300];
    mu_test_tmpdir(dir, sizeof dir, "ckpt");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    mu_gpt_t *a = tiny_model(bias, tie, 7), *b = tiny_model(bias, tie, 8);
    const char *mk[2] = {"git_commit", "seed"}, *mv[2] = {"deadbeef", "7"};
    assert_int_equal(mu_ckpt_save_weights(path, a, mk, mv, 2), 0);

    /* the file: every registry tensor, lm_head.weight when tied, metadata */
    mu_safetensors_t *s;
    assert_int_equal(mu_safetensors_open(&s, path), 0);
    assert_int_equal(mu_safetensors_count(s), mu_gpt_n_params(a) + (tie ? 1 : 0));
    assert_string_equal(mu_safetensors_meta(s, "format"), "muon-gpt2");
    assert_string_equal(mu_safetensors_meta(s, "n_layer"), "2");
    assert_string_equal(mu_safetensors_meta(s, "n_embd"), "16");
    assert_string_equal(mu_safetensors_meta(s, "block_size"), "8");
    assert_string_equal(mu_safetensors_meta(s, "vocab_size"), "11");
    assert_string_equal(mu_safetensors_meta(s, "bias"), bias ? "true" : "false");
    assert_string_equal(mu_safetensors_meta(s, "tie"), tie ? "true" : "false");
    assert_string_equal(mu_safetensors_meta(s, "git_commit"), "deadbeef");
    assert_non_null(mu_safetensors_meta(s, "config"));
    int32_t nd;
    int64_t sh[4];
    assert_int_equal(mu_safetensors_info(s, "lm_head.weight", &nd, sh, NULL), 0);
    assert_int_equal(sh[0], 11);
    assert_int_equal(sh[1], 16);
    assert_int_equal(mu_safetensors_info(s, "transformer.h.1.attn.c_attn.weight", &nd, sh, NULL), 0);
    assert_int_equal(nd, 2);
    assert_int_equal(sh[0], 48);
    assert_int_equal(sh[1], 16);
    assert_int_equal(mu_safetensors_info(s, "transformer.h.0.mlp.c_fc.bias", &nd, sh, NULL), bias ? 0 : MU_EINVAL);
    mu_safetensors_free(s);

    mu_gpt_config_t c;
    assert_int_equal(mu_ckpt_read_config(path, &c), 0);
    mu_gpt_config_t w = tiny_cfg(bias, tie);
    assert_int_equal(c.n_layer, w.n_layer);
    assert_int_equal(c.n_head, w.n_head);
    assert_int_equal(c.d_model, w.d_model);
    assert_int_equal(c.seq_len, w.seq_len);
    assert_int_equal(c.vocab, w.vocab);
    assert_int_equal(c.bias, bias);
    assert_int_equal(c.tie, tie);

    assert_int_equal(mu_ckpt_load_weights(path, b), 0);
    assert_models_equal(a, b);
    /* and the resolver finds the same file through the directory */
    char wp[400];
    assert_int_equal(mu_ckpt_resolve(dir, wp, sizeof wp), 0);
    assert_string_equal(wp, path);
    mu_gpt_free(a);
    mu_gpt_free(b);
}

static void ckpt_roundtrip_tied(void **state) { (void)state; roundtrip(1, 1); }
static void ckpt_roundtrip_untied_nobias(void **state) { (void)state; roundtrip(0, 0); }

static void ckpt_mismatch_errors(void **state) {
    (void)state;
    char dir[256], path[300];
    mu_test_tmpdir(dir, sizeof dir, "ckpt");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    mu_gpt_t *tied = tiny_model(1, 1, 1);
    assert_int_equal(mu_ckpt_save_weights(path, tied, NULL, NULL, 0), 0);

    /* a wider model: shape mismatch names tensor, expected and found shapes */
    mu_gpt_config_t c = tiny_cfg(1, 1);
    c.d_model = 32;
    mu_gpt_t *wide = NULL;
    assert_int_equal(mu_gpt_init(&wide, &c, 1, g_gemm), 0);
    float before = mu_gpt_params(wide)[0].data[0];
    assert_int_equal(mu_ckpt_load_weights(path, wide), MU_EMISMATCH);
    assert_non_null(strstr(mu_last_error(), "transformer.wte.weight"));
    assert_non_null(strstr(mu_last_error(), "expected shape (11, 32), found (11, 16)"));
    assert_true(mu_gpt_params(wide)[0].data[0] == before); /* untouched */
    mu_gpt_free(wide);

    /* a model without biases: the checkpoint's biases are unexpected */
    mu_gpt_t *nob = tiny_model(0, 1, 2);
    assert_int_equal(mu_ckpt_load_weights(path, nob), MU_EMISMATCH);
    assert_non_null(strstr(mu_last_error(), "unexpected tensor"));
    mu_gpt_free(nob);

    /* a deeper model: a block is missing */
    c = tiny_cfg(1, 1);
    c.n_layer = 3;
    mu_gpt_t *deep = NULL;
    assert_int_equal(mu_gpt_init(&deep, &c, 1, g_gemm), 0);
    assert_int_equal(mu_ckpt_load_weights(path, deep), MU_EMISMATCH);
    assert_non_null(strstr(mu_last_error(), "transformer.h.2."));
    assert_non_null(strstr(mu_last_error(), "missing"));
    mu_gpt_free(deep);

    /* an untied model loads a tied checkpoint (lm_head.weight = copy of wte) */
    mu_gpt_t *untied = tiny_model(1, 0, 3);
    assert_int_equal(mu_ckpt_load_weights(path, untied), 0);
    assert_memory_equal(mu_gpt_param_by_name(untied, "lm_head.weight")->data,
                        mu_gpt_param_by_name(tied, "transformer.wte.weight")->data, 11 * 16 * sizeof(float));

    /* a tied model cannot load an untied checkpoint whose head differs from wte */
    mu_gpt_param_by_name(untied, "lm_head.weight")->data[5] += 1.0f;
    char p2[320];
    snprintf(p2, sizeof p2, "%s/untied.safetensors", dir);
    assert_int_equal(mu_ckpt_save_weights(p2, untied, NULL, NULL, 0), 0);
    assert_int_equal(mu_ckpt_load_weights(p2, tied), MU_EMISMATCH);
    assert_non_null(strstr(mu_last_error(), "tie=0"));
    mu_gpt_free(untied);

    /* reserved metadata keys are refused */
    const char *k = "config", *v = "{}";
    assert_int_equal(mu_ckpt_save_weights(p2, tied, &k, &v, 1), MU_EINVAL);
    mu_gpt_free(tied);
}

/* A PyTorch-style file: no metadata, the causal-mask buffers, a prefix; F16 weights. */
static void ckpt_pytorch_style_file(void **state) {
    (void)state;
    char dir[256], path[300], p2[320];
    mu_test_tmpdir(dir, sizeof dir, "ckpt");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    snprintf(p2, sizeof p2, "%s/torch.safetensors", dir);
    mu_gpt_t *a = tiny_model(1, 0, 4), *b = tiny_model(1, 0, 5);
    /* rebuild the file by hand: "_orig_mod." names, an ".attn.bias" mask, no config */
    int32_t np = mu_gpt_n_params(a);
    mu_param_t *p = mu_gpt_params(a);
    mu_st_tensor_t *t = calloc((size_t)np + 1, sizeof *t);
    char (*names)[128] = calloc((size_t)np + 1, 128);
    for (int32_t i = 0; i < np; i++) {
        snprintf(names[i], 128, "_orig_mod.%s", p[i].name);
        t[i] = (mu_st_tensor_t){names[i], p[i].ndim, {p[i].shape[0], p[i].shape[1], 0, 0}, p[i].data};
    }
    float mask[64];
    for (int i = 0; i < 64; i++) mask[i] = (i % 8) <= (i / 8);
    snprintf(names[np], 128, "_orig_mod.transformer.h.0.attn.bias");
    t[np] = (mu_st_tensor_t){names[np], 4, {1, 1, 8, 8}, mask};
    assert_int_equal(mu_safetensors_write(p2, t, np + 1, NULL, NULL, 0), 0);
    mu_gpt_config_t c;
    assert_int_equal(mu_ckpt_read_config(p2, &c), MU_EFORMAT);
    assert_non_null(strstr(mu_last_error(), "no model config"));
    assert_int_equal(mu_ckpt_load_weights(p2, b), 0);
    assert_models_equal(a, b);
    free(t);
    free(names);

    /* flat metadata keys only (no "config"): the fallback reads them */
    float x = 0;
    mu_st_tensor_t one = {"x", 1, {1, 0, 0, 0}, &x};
    const char *fk[7] = {"n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "tie"};
    const char *fv[7] = {"3", "4", "64", "128", "50304", "False", "true"};
    assert_int_equal(mu_safetensors_write(p2, &one, 1, fk, fv, 7), 0);
    assert_int_equal(mu_ckpt_read_config(p2, &c), 0);
    assert_int_equal(c.n_layer, 3);
    assert_int_equal(c.n_head, 4);
    assert_int_equal(c.d_model, 64);
    assert_int_equal(c.seq_len, 128);
    assert_int_equal(c.vocab, 50304);
    assert_int_equal(c.bias, 0);
    assert_int_equal(c.tie, 1);
    /* a broken config */
    const char *ck = "config", *cv = "{\"n_layer\":2}";
    assert_int_equal(mu_safetensors_write(p2, &one, 1, &ck, &cv, 1), 0);
    assert_int_equal(mu_ckpt_read_config(p2, &c), MU_EFORMAT);
    assert_non_null(strstr(mu_last_error(), "n_head"));
    cv = "not json";
    assert_int_equal(mu_safetensors_write(p2, &one, 1, &ck, &cv, 1), 0);
    assert_int_equal(mu_ckpt_read_config(p2, &c), MU_EFORMAT);
    mu_gpt_free(a);
    mu_gpt_free(b);
}

static void ckpt_resolve(void **state) {
    (void)state;
    char dir[256], wp[400], f[300];
    mu_test_tmpdir(dir, sizeof dir, "ckpt");
    assert_int_equal(mu_ckpt_resolve(dir, wp, sizeof wp), MU_EIO); /* empty run dir */
    assert_non_null(strstr(mu_last_error(), "no model.safetensors"));
    snprintf(f, sizeof f, "%s/w.safetensors", dir);
    write_file(f, "x", 1);
    assert_int_equal(mu_ckpt_resolve(f, wp, sizeof wp), 0);
    assert_string_equal(wp, f);
    assert_int_equal(mu_ckpt_resolve(f, wp, 4), MU_EINVAL);
    snprintf(f, sizeof f, "%s/missing", dir);
    assert_int_equal(mu_ckpt_resolve(f, wp, sizeof wp), MU_EIO);
}

/* Logits of scripts/load_in_pytorch.py against mu_gpt_forward. */
static void ckpt_pytorch_logits(void **state) {
    (void)state;
    if (access("scripts/load_in_pytorch.py", R_OK) != 0 ||
        system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
        print_message("skipped: needs /usr/bin/python3 with torch, run from the repository root\n");
        skip();
    }
    for (int tie = 0; tie <= 1; tie++) {
        char dir[256], path[300], out[300], cmd[1024];
        mu_test_tmpdir(dir, sizeof dir, "ckpt");
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        snprintf(out, sizeof out, "%s/logits.f32", dir);
        mu_gpt_t *m = tiny_model(tie, tie, 11 + (uint64_t)tie); /* bias follows tie: covers both */
        assert_int_equal(mu_ckpt_save_weights(path, m, NULL, NULL, 0), 0);
        const int32_t T = 8, V = 11;
        int32_t x[8] = {3, 1, 4, 1, 5, 9, 2, 6};
        mu_gpt_set_train(m, 0, 0, 0, 0);
        assert_int_equal(mu_gpt_forward(m, x, NULL, 1, T, NULL), 0);
        const float *lg = mu_gpt_logits(m);
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 scripts/load_in_pytorch.py %s --tokens 3,1,4,1,5,9,2,6 --out %s >/dev/null", path,
                 out);
        assert_int_equal(system(cmd), 0);
        size_t len;
        float *py = read_file(out, &len);
        assert_int_equal(len, (size_t)T * V * sizeof(float));
        for (int i = 0; i < T * V; i++) assert_close(py[i], lg[i], 1e-4, 1e-4);
        free(py);
        mu_gpt_free(m);
    }
}

static int teardown(void **state) {
    (void)state;
    return 0;
}

int main(int argc, char **argv) {
    const struct CMUnitTest group[] = {
        cmocka_unit_test(st_roundtrip_bit_exact),
        cmocka_unit_test(st_write_rejects_bad_input),
        cmocka_unit_test(st_f16_bf16_conversion),
        cmocka_unit_test(st_other_dtypes_open_but_do_not_read),
        cmocka_unit_test(st_corrupt_headers),
        cmocka_unit_test(st_bad_lengths),
        cmocka_unit_test(st_truncated_every_length),
        cmocka_unit_test(ckpt_roundtrip_tied),
        cmocka_unit_test(ckpt_roundtrip_untied_nobias),
        cmocka_unit_test(ckpt_mismatch_errors),
        cmocka_unit_test(ckpt_pytorch_style_file),
        cmocka_unit_test(ckpt_resolve),
        cmocka_unit_test(ckpt_pytorch_logits),
    };
    if (argc > 1) cmocka_set_test_filter(argv[1]);
    int rc = cmocka_run_group_tests_name(__FILE__, group, NULL, teardown);
    mu_gemm_ctx_free(g_gemm);
    return rc;
}
