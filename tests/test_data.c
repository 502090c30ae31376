/* test_data.c — tokenizer, llm.c shards, prepare, datasets, sampler and val windows. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "muon/data.h"

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* A raw shard with an arbitrary header, for the corruption tests. */
static void write_raw_shard(const char *path, int32_t magic, int32_t version, int32_t n, size_t token_bytes_written) {
    int32_t hdr[256] = {0};
    hdr[0] = magic;
    hdr[1] = version;
    hdr[2] = n;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(hdr, 4, 256, f);
    for (size_t i = 0; i < token_bytes_written; i++) fputc((int)(i % 7), f);
    fclose(f);
}

static void test_byte_tokenizer(void **st) {
    const mu_tokenizer_t *t = mu_tokenizer_byte();
    assert_int_equal(t->vocab, 256);
    assert_string_equal(t->name, "byte");
    int32_t ids[8];
    assert_int_equal(t->encode(t, "A\xff\n", 3, ids, 8), 3);
    assert_int_equal(ids[0], 65);
    assert_int_equal(ids[1], 255);
    assert_int_equal(ids[2], 10);
    assert_true(t->encode(t, "abc", 3, ids, 2) < 0); /* buffer too small */
    char c;
    assert_int_equal(t->decode(t, 200, &c, 1), 1);
    assert_int_equal((unsigned char)c, 200);
    assert_true(t->decode(t, 256, &c, 1) < 0);
    const mu_tokenizer_t *b = NULL;
    assert_int_equal(mu_tokenizer_by_name("byte", &b), 0);
    assert_ptr_equal(b, t);
    assert_true(mu_tokenizer_by_name("nope", &b) < 0);
    assert_non_null(strstr(mu_last_error(), "nope"));
}

static void roundtrip(int32_t vocab, int32_t expect_bytes, int32_t expect_magic) {
    char dir[256], path[300];
    mu_test_tmpdir(dir, sizeof dir, "data");
    snprintf(path, sizeof path, "%s/s.bin", dir);
    enum { N = 1000 };
    int32_t tok[N], back[N];
    for (int i = 0; i < N; i++) tok[i] = (int32_t)(((int64_t)i * 7919 + 13) % vocab);
    tok[N - 1] = vocab - 1;
    assert_int_equal(mu_shard_write(path, tok, N, vocab), 0);
    struct stat stt;
    assert_int_equal(stat(path, &stt), 0);
    assert_int_equal(stt.st_size, 1024 + N * expect_bytes);
    /* header bytes on disk: magic, version, count */
    FILE *f = fopen(path, "rb");
    int32_t h[3];
    assert_int_equal(fread(h, 4, 3, f), 3);
    fclose(f);
    assert_int_equal(h[0], expect_magic);
    assert_int_equal(h[1], expect_bytes == 2 ? 1 : 7);
    assert_int_equal(h[2], N);
    mu_shard_t *s = NULL;
    assert_int_equal(mu_shard_open(&s, path), 0);
    assert_int_equal(mu_shard_n_tokens(s), N);
    assert_int_equal(mu_shard_token_bytes(s), expect_bytes);
    assert_int_equal(mu_shard_max_token(s), (uint32_t)vocab - 1);
    assert_int_equal(mu_shard_read(s, 0, N, back), 0);
    assert_memory_equal(tok, back, sizeof tok);
    assert_int_equal(mu_shard_read(s, 990, 10, back), 0);
    assert_int_equal(back[9], vocab - 1);
    assert_true(mu_shard_read(s, 995, 10, back) < 0); /* past the end */
    assert_true(mu_shard_read(s, -1, 1, back) < 0);
    mu_shard_free(s);
}

static void test_shard_roundtrip_u16(void **st) { roundtrip(50257, 2, MU_SHARD_MAGIC_U16); }
static void test_shard_roundtrip_u16_edge(void **st) { roundtrip(65536, 2, MU_SHARD_MAGIC_U16); }
static void test_shard_roundtrip_u32(void **st) { roundtrip(128256, 4, MU_SHARD_MAGIC_U32); }

static void test_shard_write_rejects_out_of_vocab(void **st) {
    int32_t tok[3] = {1, 256, 2};
    assert_int_equal(mu_shard_write("/tmp/muon-test-never.bin", tok, 3, 256), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "256"));
}

static void expect_open_fails(const char *path, int code, const char *needle) {
    mu_shard_t *s = (mu_shard_t *)1;
    int rc = mu_shard_open(&s, path);
    assert_int_equal(rc, code);
    assert_null(s);
    if (!strstr(mu_last_error(), needle)) {
        print_error("message '%s' lacks '%s'\n", mu_last_error(), needle);
        fail();
    }
}

static void test_shard_corrupt(void **st) {
    char dir[256], p[300];
    mu_test_tmpdir(dir, sizeof dir, "data");
    snprintf(p, sizeof p, "%s/badmagic.bin", dir);
    write_raw_shard(p, 12345, 1, 4, 8);
    expect_open_fails(p, MU_EFORMAT, "magic 12345");
    snprintf(p, sizeof p, "%s/badver.bin", dir);
    write_raw_shard(p, MU_SHARD_MAGIC_U16, 3, 4, 8);
    expect_open_fails(p, MU_EFORMAT, "version 3");
    snprintf(p, sizeof p, "%s/badver32.bin", dir);
    write_raw_shard(p, MU_SHARD_MAGIC_U32, 5, 4, 16);
    expect_open_fails(p, MU_EFORMAT, "version 5");
    snprintf(p, sizeof p, "%s/trunc.bin", dir);
    write_raw_shard(p, MU_SHARD_MAGIC_U16, 1, 100, 20); /* 10 tokens present */
    expect_open_fails(p, MU_EFORMAT, "header says 100 tokens but file holds 10");
    snprintf(p, sizeof p, "%s/extra.bin", dir);
    write_raw_shard(p, MU_SHARD_MAGIC_U16, 1, 4, 11);
    expect_open_fails(p, MU_EFORMAT, "3 extra trailing bytes");
    snprintf(p, sizeof p, "%s/neg.bin", dir);
    write_raw_shard(p, MU_SHARD_MAGIC_U32, 1, -5, 0);
    expect_open_fails(p, MU_EFORMAT, "negative");
    snprintf(p, sizeof p, "%s/empty.bin", dir);
    write_bytes(p, "", 0);
    expect_open_fails(p, MU_EFORMAT, "empty file");
    snprintf(p, sizeof p, "%s/short.bin", dir);
    write_bytes(p, "abcdefgh", 8);
    expect_open_fails(p, MU_EFORMAT, "shorter than the 1024-byte");
    snprintf(p, sizeof p, "%s/missing.bin", dir);
    expect_open_fails(p, MU_EIO, "missing.bin");
    expect_open_fails(dir, MU_EINVAL, "directory");
    /* version 1 and 2 with the uint32 magic are accepted too */
    snprintf(p, sizeof p, "%s/v2.bin", dir);
    write_raw_shard(p, MU_SHARD_MAGIC_U32, 2, 3, 12);
    mu_shard_t *s = NULL;
    assert_int_equal(mu_shard_open(&s, p), 0);
    assert_int_equal(mu_shard_n_tokens(s), 3);
    mu_shard_free(s);
    /* a dataset path ending in .bin never falls back to text */
    snprintf(p, sizeof p, "%s/badmagic.bin", dir);
    mu_dataset_t *d = NULL;
    assert_int_equal(mu_dataset_open(&d, p), MU_EFORMAT);
    assert_null(d);
}

/* Directory with 2 train shards and 2 val shards named like FineWeb's. */
static void test_dataset_directory(void **st) {
    char dir[256], p[300];
    mu_test_tmpdir(dir, sizeof dir, "data");
    int32_t a[50], b[30], v0[11], v1[10];
    for (int i = 0; i < 50; i++) a[i] = i;
    for (int i = 0; i < 30; i++) b[i] = 100 + i;
    for (int i = 0; i < 11; i++) v0[i] = 200 + i;
    for (int i = 0; i < 10; i++) v1[i] = 300 + i;
    snprintf(p, sizeof p, "%s/fineweb_train_000002.bin", dir);
    assert_int_equal(mu_shard_write(p, b, 30, 50257), 0);
    snprintf(p, sizeof p, "%s/fineweb_train_000001.bin", dir);
    assert_int_equal(mu_shard_write(p, a, 50, 50257), 0);
    snprintf(p, sizeof p, "%s/fineweb_val_000000.bin", dir);
    assert_int_equal(mu_shard_write(p, v0, 11, 50257), 0);
    snprintf(p, sizeof p, "%s/fineweb_val_000001.bin", dir);
    assert_int_equal(mu_shard_write(p, v1, 10, 50257), 0);
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    write_bytes(p, "x", 1);
    mu_dataset_t *d = NULL;
    assert_int_equal(mu_dataset_open(&d, dir), 0);
    assert_int_equal(mu_dataset_train_tokens(d), 80);
    assert_int_equal(mu_dataset_val_tokens(d), 21);
    assert_int_equal(mu_dataset_vocab(d), 50257); /* no meta.json, max token 309 > 255 */
    assert_string_equal(mu_dataset_tokenizer(d), "unknown");
    /* val windows: the two val shards are concatenated in name order */
    const int T = 4;
    assert_int_equal(mu_dataset_val_windows(d, T), (21 - 1) / 4);
    int32_t x[64], y[64];
    assert_int_equal(mu_dataset_val_window(d, T, 2, x, y), 0); /* tokens 8..12 */
    int32_t ex[4] = {208, 209, 210, 300}, ey[4] = {209, 210, 300, 301};
    assert_memory_equal(x, ex, sizeof ex);
    assert_memory_equal(y, ey, sizeof ey);
    assert_true(mu_dataset_val_window(d, T, 5, x, y) < 0);
    /* train windows never straddle the two shards: x rows are consecutive runs */
    for (uint64_t step = 0; step < 50; step++) {
        assert_int_equal(mu_dataset_sample(d, 7, step, 0, 4, 8, x, y), 0);
        for (int r = 0; r < 4; r++)
            for (int t = 0; t < 8; t++) {
                assert_int_equal(y[r * 8 + t], x[r * 8 + t] + 1);
                assert_true(x[r * 8] < 50 - 8 || (x[r * 8] >= 100 && x[r * 8] < 130 - 8));
            }
    }
    /* T longer than the 30-token shard: only the 50-token shard is used */
    for (uint64_t step = 0; step < 20; step++) {
        assert_int_equal(mu_dataset_sample(d, 1, step, 0, 1, 40, x, y), 0);
        assert_true(x[0] < 10);
    }
    assert_int_equal(mu_dataset_sample(d, 1, 0, 0, 1, 50, x, y), MU_EINVAL);
    mu_dataset_free(d);

    /* meta.json sets vocab and tokenizer */
    snprintf(p, sizeof p, "%s/meta.json", dir);
    const char *meta = "{\"tokenizer\": \"gpt2\", \"vocab_size\": 50304}";
    write_bytes(p, meta, strlen(meta));
    assert_int_equal(mu_dataset_open(&d, dir), 0);
    assert_int_equal(mu_dataset_vocab(d), 50304);
    assert_string_equal(mu_dataset_tokenizer(d), "gpt2");
    mu_dataset_free(d);
    /* meta.json with a vocab smaller than the data: caught at sampling */
    meta = "{\"tokenizer\": \"x\", \"vocab_size\": 100}";
    write_bytes(p, meta, strlen(meta));
    assert_int_equal(mu_dataset_open(&d, dir), 0);
    int bad = 0;
    for (uint64_t s = 0; s < 20; s++) bad |= mu_dataset_sample(d, 1, s, 0, 2, 8, x, y) == MU_EFORMAT;
    assert_true(bad);
    mu_dataset_free(d);
    write_bytes(p, "{not json", 9);
    assert_int_equal(mu_dataset_open(&d, dir), MU_EFORMAT);
    assert_non_null(strstr(mu_last_error(), "meta.json"));
}

static void test_dataset_text_and_sampler(void **st) {
    char dir[256], p[300];
    mu_test_tmpdir(dir, sizeof dir, "data");
    snprintf(p, sizeof p, "%s/corpus.txt", dir);
    enum { N = 1003 };
    char text[N];
    for (int i = 0; i < N; i++) text[i] = (char)(32 + (i * 31 + i / 7) % 90);
    write_bytes(p, text, N);
    mu_dataset_t *d = NULL;
    assert_int_equal(mu_dataset_open(&d, p), 0);
    assert_int_equal(mu_dataset_train_tokens(d), 902); /* int(1003 * 0.9) = 902 (nanoGPT) */
    assert_int_equal(mu_dataset_val_tokens(d), 101);
    assert_int_equal(mu_dataset_vocab(d), 256);
    assert_string_equal(mu_dataset_tokenizer(d), "byte");

    enum { B = 3, T = 16 };
    int32_t x[B * T], y[B * T], x2[B * T], y2[B * T];
    assert_int_equal(mu_dataset_sample(d, 42, 5, 1, B, T, x, y), 0);
    assert_int_equal(mu_dataset_sample(d, 42, 5, 1, B, T, x2, y2), 0);
    assert_memory_equal(x, x2, sizeof x); /* pure: same inputs, same windows */
    assert_memory_equal(y, y2, sizeof y);
    /* each row is a window of the train bytes: find its start and check x, y */
    for (int r = 0; r < B; r++) {
        int start = -1;
        for (int s = 0; s + T < 902 && start < 0; s++) {
            int ok = 1;
            for (int t = 0; t < T && ok; t++) ok = x[r * T + t] == (unsigned char)text[s + t];
            if (ok) start = s;
        }
        assert_true(start >= 0 && start + T < 902); /* whole window in train (y's last token too) */
        for (int t = 0; t < T; t++) assert_int_equal(y[r * T + t], (unsigned char)text[start + t + 1]);
    }
    /* the row r of (seed, step, micro) depends only on its own key: B=1 gives row 0 */
    int32_t x1[T], y1[T];
    assert_int_equal(mu_dataset_sample(d, 42, 5, 1, 1, T, x1, y1), 0);
    assert_memory_equal(x1, x, sizeof x1);
    /* other step, micro or seed -> other windows */
    assert_int_equal(mu_dataset_sample(d, 42, 6, 1, B, T, x2, y2), 0);
    assert_memory_not_equal(x, x2, sizeof x);
    assert_int_equal(mu_dataset_sample(d, 42, 5, 2, B, T, x2, y2), 0);
    assert_memory_not_equal(x, x2, sizeof x);
    assert_int_equal(mu_dataset_sample(d, 43, 5, 1, B, T, x2, y2), 0);
    assert_memory_not_equal(x, x2, sizeof x);
    /* val windows: (101 - 1) / 16 = 6, window w = val[w*16 .. w*16+16] */
    assert_int_equal(mu_dataset_val_windows(d, T), 6);
    assert_int_equal(mu_dataset_val_window(d, T, 5, x1, y1), 0);
    for (int t = 0; t < T; t++) {
        assert_int_equal(x1[t], (unsigned char)text[902 + 80 + t]);
        assert_int_equal(y1[t], (unsigned char)text[902 + 80 + t + 1]);
    }
    assert_true(mu_dataset_val_window(d, T, 6, x1, y1) < 0);
    /* val shorter than T+1 */
    assert_int_equal(mu_dataset_val_windows(d, 100), 1); /* exactly T+1 tokens */
    assert_true(mu_dataset_val_windows(d, 101) < 0);
    assert_non_null(strstr(mu_last_error(), "val split has 101 tokens"));
    assert_int_equal(mu_dataset_val_windows(d, 50), 2);
    /* train shorter than T+1 */
    int32_t big[1000], bigy[1000];
    assert_int_equal(mu_dataset_sample(d, 1, 0, 0, 1, 902, big, bigy), MU_EINVAL);
    assert_int_equal(mu_dataset_sample(d, 1, 0, 0, 1, 901, big, bigy), 0); /* exactly one window */
    assert_int_equal(big[0], (unsigned char)text[0]);
    assert_int_equal(bigy[900], (unsigned char)text[901]);
    assert_int_equal(mu_dataset_sample(d, 1, 0, 0, 0, 8, x, y), MU_EINVAL);
    mu_dataset_free(d);

    /* empty text file, missing path */
    snprintf(p, sizeof p, "%s/empty.txt", dir);
    write_bytes(p, "", 0);
    assert_int_equal(mu_dataset_open(&d, p), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "empty"));
    snprintf(p, sizeof p, "%s/nothing", dir);
    assert_int_equal(mu_dataset_open(&d, p), MU_EIO);
    assert_non_null(strstr(mu_last_error(), "nothing"));
    /* a directory without shards */
    assert_int_equal(mu_dataset_open(&d, dir), MU_EINVAL);
    assert_non_null(strstr(mu_last_error(), "train"));
}

static void test_sampler_uniform_starts(void **st) {
    /* tokens 0..n-1 (vocab 65536): x[0] is the start; with n - T = 10 starts,
     * 20000 draws hit each start 2000 +- 5 sigma (sigma = sqrt(20000*0.1*0.9) = 42) */
    char dir[256], p[300];
    mu_test_tmpdir(dir, sizeof dir, "data");
    snprintf(p, sizeof p, "%s/lone.bin", dir);
    int32_t tok[150];
    for (int i = 0; i < 150; i++) tok[i] = i;
    assert_int_equal(mu_shard_write(p, tok, 150, 65536), 0);
    mu_dataset_t *d = NULL;
    assert_int_equal(mu_dataset_open(&d, p), 0);
    assert_int_equal(mu_dataset_train_tokens(d), 135); /* lone shard: last 10% val */
    assert_int_equal(mu_dataset_val_tokens(d), 15);
    assert_int_equal(mu_dataset_vocab(d), 256); /* max token 149 <= 255 */
    int counts[10] = {0};
    int32_t x[125], y[125];
    for (uint64_t s = 0; s < 20000; s++) {
        assert_int_equal(mu_dataset_sample(d, 3, s, 0, 1, 125, x, y), 0);
        assert_true(x[0] >= 0 && x[0] < 10);
        counts[x[0]]++;
    }
    for (int i = 0; i < 10; i++) assert_true(abs(counts[i] - 2000) < 5 * 43);
    assert_int_equal(mu_dataset_val_window(d, 7, 1, x, y), 0);
    assert_int_equal(x[0], 142);
    assert_int_equal(y[6], 149);
    mu_dataset_free(d);
}

static void test_prepare_text(void **st) {
    char dir[256], out[300];
    mu_test_tmpdir(dir, sizeof dir, "data");
    snprintf(out, sizeof out, "%s/a/b", dir); /* created with its parents */
    const char *text = "hello world, hello muon. 0123456789";
    size_t n = strlen(text);
    mu_prepare_config_t cfg = mu_prepare_config_default();
    assert_string_equal(cfg.tokenizer, "byte");
    assert_close(cfg.val_fraction, 0.1, 0, 0);
    cfg.source = "unit test";
    assert_int_equal(mu_prepare_text(out, text, n, NULL, 0, &cfg), 0);
    mu_dataset_t *d = NULL;
    assert_int_equal(mu_dataset_open(&d, out), 0);
    assert_int_equal(mu_dataset_train_tokens(d), 31); /* int(35 * 0.9) = 31 */
    assert_int_equal(mu_dataset_val_tokens(d), 4);
    assert_int_equal(mu_dataset_vocab(d), 256);
    assert_string_equal(mu_dataset_tokenizer(d), "byte");
    int32_t x[3], y[3];
    assert_int_equal(mu_dataset_val_window(d, 3, 0, x, y), 0);
    assert_int_equal(x[0], '6'); /* val = "6789" */
    assert_int_equal(y[2], '9');
    mu_dataset_free(d);
    char p[400];
    snprintf(p, sizeof p, "%s/meta.json", out);
    void *m;
    size_t ml;
    assert_int_equal(mu_file_read_all(p, &m, &ml), 0);
    assert_non_null(strstr(m, "\"n_train_tokens\":\t31"));
    assert_non_null(strstr(m, "\"source\":\t\"unit test\""));
    free(m);
    /* separate val text */
    assert_int_equal(mu_prepare_text(out, "abcdef", 6, "xyz", 3, NULL), 0);
    assert_int_equal(mu_dataset_open(&d, out), 0);
    assert_int_equal(mu_dataset_train_tokens(d), 6);
    assert_int_equal(mu_dataset_val_tokens(d), 3);
    mu_dataset_free(d);
    cfg.tokenizer = "klingon";
    assert_true(mu_prepare_text(out, text, n, NULL, 0, &cfg) < 0);
    cfg = mu_prepare_config_default();
    cfg.val_fraction = 1.0;
    assert_int_equal(mu_prepare_text(out, text, n, NULL, 0, &cfg), MU_EINVAL);
}

static void test_brown_convert(void **st) {
    char dir[256], p[300];
    mu_test_tmpdir(dir, sizeof dir, "data");
    /* 12 fake documents; index 9 goes to val (val_every 10) */
    for (int i = 0; i < 12; i++) {
        snprintf(p, sizeof p, "%s/c%c%02d", dir, 'a' + i / 5, i % 5 + 1);
        char doc[200];
        snprintf(doc, sizeof doc, "\n\n\tThe/at d%d/cd 1/2/cd ./.\nNext/ap line/nn\n\n\n\tNew/jj para/nn\n\n", i);
        write_bytes(p, doc, strlen(doc));
    }
    snprintf(p, sizeof p, "%s/README", dir);
    write_bytes(p, "not a doc", 9);
    char *tr, *va;
    size_t tl, vl;
    assert_int_equal(mu_brown_to_text(dir, 10, &tr, &tl, &va, &vl), 0);
    assert_string_equal(va, "The d9 1/2 .\nNext line\n\nNew para\n\n");
    assert_int_equal(vl, strlen(va));
    assert_int_equal(tl, strlen(tr));
    assert_true(strncmp(tr, "The d0 1/2 .\nNext line\n\nNew para\n\nThe d1 ", 40) == 0);
    assert_null(strstr(tr, "d9 "));
    assert_non_null(strstr(tr, "d11 "));
    free(tr);
    free(va);
    assert_int_equal(mu_brown_to_text("/nonexistent-muon", 10, &tr, &tl, &va, &vl), MU_EIO);
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0755);
    assert_int_equal(mu_brown_to_text(p, 10, &tr, &tl, &va, &vl), MU_EFORMAT);
}

/* Unigram entropy against hand values: train "abab..." -> ln 2; val "aaab" repeated ->
 * -(3/4 ln 3/4 + 1/4 ln 1/4) = 0.562335. */
static void test_unigram_entropy(void **st) {
    char dir[256], tr[512];
    mu_test_tmpdir(dir, sizeof dir, "entropy");
    snprintf(tr, sizeof tr, "%s/prep", dir);
    char train[400], val[400];
    for (int i = 0; i < 400; i++) train[i] = i % 2 ? 'b' : 'a', val[i] = i % 4 == 3 ? 'b' : 'a';
    mu_prepare_config_t pc = mu_prepare_config_default();
    assert_int_equal(mu_prepare_text(tr, train, 400, val, 400, &pc), MU_OK);
    mu_dataset_t *d;
    assert_int_equal(mu_dataset_open(&d, tr), MU_OK);
    double h;
    assert_int_equal(mu_dataset_unigram_entropy(d, 0, &h), MU_OK);
    assert_close(h, log(2.0), 1e-12, 0);
    assert_int_equal(mu_dataset_unigram_entropy(d, 1, &h), MU_OK);
    assert_close(h, 0.5623351446188083, 1e-12, 0);
    mu_dataset_free(d);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_byte_tokenizer),
        cmocka_unit_test(test_shard_roundtrip_u16),
        cmocka_unit_test(test_shard_roundtrip_u16_edge),
        cmocka_unit_test(test_shard_roundtrip_u32),
        cmocka_unit_test(test_shard_write_rejects_out_of_vocab),
        cmocka_unit_test(test_shard_corrupt),
        cmocka_unit_test(test_dataset_directory),
        cmocka_unit_test(test_dataset_text_and_sampler),
        cmocka_unit_test(test_sampler_uniform_starts),
        cmocka_unit_test(test_prepare_text),
        cmocka_unit_test(test_brown_convert),
        cmocka_unit_test(test_unigram_entropy),
};
MU_TEST_MAIN(tests)
