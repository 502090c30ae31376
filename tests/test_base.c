/* test_base.c — the base layer: RNG determinism and distributions, the
 * counter-based mu_rng_at, error messages, atomic file writes and whole-file
 * reads, the checksum, threads and CPU detection. */
#include <errno.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "muon/base.h"

static void test_rng_determinism(void **st) {
    mu_rng_t a, b, c;
    mu_rng_seed(&a, 42);
    mu_rng_seed(&b, 42);
    mu_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = mu_rng_u64(&a), y = mu_rng_u64(&b), z = mu_rng_u64(&c);
        assert_true(x == y);
        differ += x != z;
    }
    assert_true(differ > 990);
    /* a copied state continues the same stream */
    mu_rng_t d = a;
    assert_true(mu_rng_u64(&d) == mu_rng_u64(&a));
    /* seed 0 still gives a non-degenerate stream (splitmix64 seeding) */
    mu_rng_seed(&a, 0);
    assert_true(a.s[0] | a.s[1] | a.s[2] | a.s[3]);
    uint64_t first = mu_rng_u64(&a);
    assert_true(mu_rng_u64(&a) != first);
}

/* Hand-computed: xoshiro256** first output for the state s = {1, 2, 3, 4} is
 * rotl(2 * 5, 7) * 9 = 1280 * 9 = 11520. */
static void test_rng_known_value(void **st) {
    mu_rng_t r = {{1, 2, 3, 4}};
    assert_true(mu_rng_u64(&r) == 11520u);
    /* the state update: t = 2<<17; s2 ^= s0 -> 2; s3 ^= s1 -> 6; s1 ^= s2 -> 0; s0 ^= s3 -> 7;
     * s2 ^= t -> 262146; s3 = rotl(6, 45); next output rotl(0 * 5, 7) * 9 = 0 */
    assert_true(r.s[0] == 7 && r.s[1] == 0 && r.s[2] == 262146);
    assert_true(mu_rng_u64(&r) == 0);
}

static void test_rng_distributions(void **st) {
    mu_rng_t r;
    mu_rng_seed(&r, 7);
    const int n = 200000;
    /* uniform [0,1): mean 1/2, variance 1/12; standard errors ~6.5e-4 and ~1.9e-4 */
    double s = 0, s2 = 0, mn = 1, mx = 0;
    for (int i = 0; i < n; i++) {
        double u = mu_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        s += u, s2 += u * u;
        if (u < mn) mn = u;
        if (u > mx) mx = u;
    }
    assert_close(s / n, 0.5, 4e-3, 0);
    assert_close(s2 / n - (s / n) * (s / n), 1.0 / 12.0, 2e-3, 0);
    assert_true(mn < 1e-4 && mx > 1 - 1e-4);
    /* normal: mean 0, variance 1, fraction beyond 1.96 about 5% */
    s = s2 = 0;
    int tail = 0;
    for (int i = 0; i < n; i++) {
        double z = mu_rng_normal(&r);
        assert_true(isfinite(z));
        s += z, s2 += z * z;
        tail += fabs(z) > 1.959964;
    }
    assert_close(s / n, 0.0, 1e-2, 0);
    assert_close(s2 / n, 1.0, 1.5e-2, 0);
    assert_close((double)tail / n, 0.05, 3e-3, 0);
    /* below(n): every value in range, counts within 5 sigma of n/k (chi-square-like check) */
    enum { K = 10 };
    int cnt[K] = {0};
    for (int i = 0; i < n; i++) {
        uint64_t v = mu_rng_below(&r, K);
        assert_true(v < K);
        cnt[v]++;
    }
    double chi2 = 0;
    for (int i = 0; i < K; i++) chi2 += (cnt[i] - n / (double)K) * (cnt[i] - n / (double)K) / (n / (double)K);
    assert_true(chi2 < 40.0); /* 9 dof: P(chi2 > 40) < 1e-5 */
    assert_true(mu_rng_below(&r, 1) == 0);
    assert_true(mu_rng_below(&r, 0) == 0);
    /* a range not dividing 2^64 evenly, near 2^63: values still in range */
    for (int i = 0; i < 100; i++) assert_true(mu_rng_below(&r, (1ull << 63) + 12345) < (1ull << 63) + 12345);
}

static void test_rng_at_pure(void **st) {
    mu_rng_t a, b, tmp;
    mu_rng_at(&a, 1, 2, 3, 4);
    /* unrelated work in between changes nothing: the stream is a function of its arguments */
    mu_rng_seed(&tmp, 99);
    for (int i = 0; i < 100; i++) mu_rng_u64(&tmp);
    mu_rng_at(&b, 1, 2, 3, 4);
    for (int i = 0; i < 100; i++) assert_true(mu_rng_u64(&a) == mu_rng_u64(&b));
    /* each argument matters, and swapping arguments gives a different stream */
    uint64_t args[][4] = {{1, 2, 3, 4}, {2, 2, 3, 4}, {1, 3, 3, 4}, {1, 2, 4, 4}, {1, 2, 3, 5}, {1, 3, 2, 4}, {1, 0, 0, 0}};
    uint64_t first[7];
    for (int i = 0; i < 7; i++) {
        mu_rng_at(&a, args[i][0], args[i][1], args[i][2], args[i][3]);
        first[i] = mu_rng_u64(&a);
    }
    for (int i = 0; i < 7; i++)
        for (int j = i + 1; j < 7; j++) assert_true(first[i] != first[j]);
    /* and is not the plain seeded stream */
    mu_rng_seed(&b, 1);
    mu_rng_at(&a, 1, 0, 0, 0);
    assert_true(mu_rng_u64(&a) != mu_rng_u64(&b));
}

static void *other_thread(void *arg) {
    (void)arg;
    mu_set_error(MU_EIO, "other thread's message");
    return NULL;
}

static void test_errors(void **st) {
    mu_clear_error();
    assert_string_equal(mu_last_error(), "no error recorded");
    assert_int_equal(mu_set_error(MU_EFORMAT, "%s: magic %x, expected %x", "data/x.bin", 0xbad, 0x20240520),
                     MU_EFORMAT);
    assert_string_equal(mu_last_error(), "data/x.bin: magic bad, expected 20240520");
    /* the message is per thread */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, NULL);
    assert_string_equal(mu_last_error(), "data/x.bin: magic bad, expected 20240520");
    /* long messages are truncated, not overflowed */
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    mu_set_error(MU_EINVAL, "%s", big);
    assert_true(strlen(mu_last_error()) < sizeof big - 1 && strlen(mu_last_error()) > 100);
    mu_clear_error();
    assert_string_equal(mu_last_error(), "no error recorded");
    int codes[] = {MU_OK, MU_EINVAL, MU_ENOMEM, MU_EIO, MU_EFORMAT, MU_EUNSUPPORTED, MU_ENONFINITE, MU_EMISMATCH,
                   MU_EINTERRUPTED};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        for (size_t j = i + 1; j < sizeof codes / sizeof codes[0]; j++)
            assert_string_not_equal(mu_strerror(codes[i]), mu_strerror(codes[j]));
    assert_string_equal(mu_strerror(MU_OK), "success");
    assert_string_equal(mu_strerror(-1000), "unknown error");
}

static void test_files(void **st) {
    char dir[256], path[512], tmp[600];
    mu_test_tmpdir(dir, sizeof dir, "base");
    assert_true(dir[0]);
    snprintf(path, sizeof path, "%s/f.bin", dir);
    const char msg[] = "hello\0world";
    assert_int_equal(mu_file_write_atomic(path, msg, sizeof msg), MU_OK);
    void *data;
    size_t len;
    assert_int_equal(mu_file_read_all(path, &data, &len), MU_OK);
    assert_int_equal(len, sizeof msg);
    assert_memory_equal(data, msg, sizeof msg);
    assert_int_equal(((char *)data)[len], 0); /* NUL-terminated for text users */
    free(data);
    /* replace: new content, no temp file left behind */
    assert_int_equal(mu_file_write_atomic(path, "ab", 2), MU_OK);
    assert_int_equal(mu_file_read_all(path, &data, &len), MU_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(data, "ab", 2);
    free(data);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
    /* empty file */
    assert_int_equal(mu_file_write_atomic(path, NULL, 0), MU_OK);
    assert_int_equal(mu_file_read_all(path, &data, &len), MU_OK);
    assert_int_equal(len, 0);
    free(data);
    /* errors name the path */
    snprintf(tmp, sizeof tmp, "%s/missing.bin", dir);
    assert_int_equal(mu_file_read_all(tmp, &data, &len), MU_EIO);
    assert_non_null(strstr(mu_last_error(), "missing.bin"));
    assert_null(data);
    assert_int_equal(mu_file_read_all(dir, &data, &len), MU_EIO); /* a directory */
    snprintf(tmp, sizeof tmp, "%s/no/such/dir/x.bin", dir);
    assert_int_equal(mu_file_write_atomic(tmp, "x", 1), MU_EIO);
    assert_non_null(strstr(mu_last_error(), "no/such/dir"));
    assert_int_equal(mu_file_write_atomic(NULL, "x", 1), MU_EINVAL);
    assert_int_equal(mu_file_write_atomic(path, NULL, 5), MU_EINVAL);
    assert_int_equal(mu_file_read_all(NULL, &data, &len), MU_EINVAL);
    unlink(path);
    rmdir(dir);
}

static void test_checksum(void **st) {
    /* FNV-1a 64 reference values: "" -> offset basis, "a" -> 0xaf63dc4c8601ec8c,
     * "foobar" -> 0x85944171f73967e8 (Fowler/Noll/Vo test vectors) */
    assert_true(mu_checksum64("", 0, 0) == 0xcbf29ce484222325ull);
    assert_true(mu_checksum64("a", 1, 0) == 0xaf63dc4c8601ec8cull);
    assert_true(mu_checksum64("foobar", 6, 0) == 0x85944171f73967e8ull);
    /* the seed changes the result; a one-bit flip changes it */
    assert_true(mu_checksum64("foobar", 6, 1) != mu_checksum64("foobar", 6, 0));
    assert_true(mu_checksum64("foobaR", 6, 0) != mu_checksum64("foobar", 6, 0));
}

static void test_threads(void **st) {
    int32_t old = mu_threads_get();
    assert_true(old >= 1);
    assert_int_equal(mu_threads_set(1), MU_OK);
    assert_int_equal(mu_threads_get(), 1);
    assert_int_equal(mu_threads_set(0), MU_OK); /* all cores */
    mu_cpu_info_t ci;
    mu_cpu_detect(&ci);
    /* omp_get_num_procs honours the affinity mask, so it may be fewer than online CPUs */
    assert_true(mu_threads_get() >= 1 && mu_threads_get() <= ci.n_cores);
    assert_int_equal(mu_threads_set(100000), MU_EINVAL);
    assert_int_equal(mu_threads_set(old), MU_OK);
}

static void test_cpu(void **st) {
    mu_cpu_info_t ci;
    mu_cpu_detect(&ci);
    assert_true(ci.n_cores >= 1);
    assert_true(strlen(ci.vendor) == 12); /* "GenuineIntel", "AuthenticAMD" */
    /* implications that hold on every real CPU */
    if (ci.avx512bw || ci.avx512vl || ci.avx512_bf16) assert_true(ci.avx512f);
    if (ci.avx512f) assert_true(ci.avx2);
    if (ci.amx_bf16) assert_true(ci.amx_tile);
    assert_non_null(mu_openblas_core());
    assert_non_null(strstr(mu_openblas_config(), "OpenBLAS"));
    assert_true(strlen(mu_onednn_isa()) > 0);
    assert_string_not_equal(mu_onednn_isa(), "unknown");
    char line[512];
    mu_machine_line(line, sizeof line);
    assert_non_null(strstr(line, "cpu="));
    assert_non_null(strstr(line, "openblas="));
    assert_non_null(strstr(line, "core="));
    assert_non_null(strstr(line, "onednn="));
    assert_non_null(strstr(line, "isa="));
    assert_non_null(strstr(line, "threads="));
    char small[8];
    mu_machine_line(small, sizeof small); /* truncates safely */
    assert_true(strlen(small) == 7);
    /* the suggestion only ever names an AVX-512 core, and only on AVX-512 CPUs;
     * with OPENBLAS_CORETYPE set there is never one */
    const char *s = mu_openblas_core_suggest();
    if (s) {
        assert_true(ci.avx512f);
        assert_true(!strcmp(s, "SKYLAKEX") || !strcmp(s, "COOPERLAKE"));
    }
    if (!ci.avx512f) assert_null(s);
    const char *old = getenv("OPENBLAS_CORETYPE");
    char saved[64] = "";
    if (old) snprintf(saved, sizeof saved, "%s", old);
    setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    assert_null(mu_openblas_core_suggest());
    if (old) setenv("OPENBLAS_CORETYPE", saved, 1);
    else unsetenv("OPENBLAS_CORETYPE");
}

static void test_time(void **st) {
    double a = mu_time_s();
    usleep(2000);
    double b = mu_time_s();
    assert_true(b - a >= 0.0015 && b - a < 1.0);
}

/* Streaming atomic writes: the target keeps its old bytes until commit; abort leaves no trace;
 * a recorded write error makes commit fail and remove the temp file. */
static void test_atomic_stream(void **st) {
    char dir[256], path[512], tmpname[sizeof(((mu_atomic_file_t *)0)->tmp)];
    mu_test_tmpdir(dir, sizeof dir, "atomic");
    snprintf(path, sizeof path, "%s/f.bin", dir);
    assert_int_equal(mu_file_write_atomic(path, "old", 3), MU_OK);
    mu_atomic_file_t f;
    assert_int_equal(mu_atomic_open(&f, path), MU_OK);
    mu_atomic_write(&f, "ne", 2);
    mu_atomic_write(&f, "w!", 2);
    void *buf;
    size_t len;
    assert_int_equal(mu_file_read_all(path, &buf, &len), MU_OK); /* still the old file */
    assert_int_equal(len, 3);
    free(buf);
    assert_int_equal(mu_atomic_commit(&f), MU_OK);
    assert_int_equal(mu_file_read_all(path, &buf, &len), MU_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "new!", 4);
    free(buf);
    assert_int_equal(mu_atomic_open(&f, path), MU_OK);
    snprintf(tmpname, sizeof tmpname, "%s", f.tmp);
    mu_atomic_write(&f, "zzzz", 4);
    mu_atomic_abort(&f);
    assert_int_equal(access(tmpname, F_OK), -1);
    assert_int_equal(mu_atomic_open(&f, path), MU_OK);
    f.err = ENOSPC; /* as if a write had failed */
    assert_int_equal(mu_atomic_commit(&f), MU_EIO);
    assert_non_null(strstr(mu_last_error(), "write failed"));
    assert_int_equal(access(tmpname, F_OK), -1);
    assert_int_equal(mu_file_read_all(path, &buf, &len), MU_OK);
    assert_memory_equal(buf, "new!", 4);
    free(buf);
}

static const struct CMUnitTest group[] = {
    cmocka_unit_test(test_rng_determinism), cmocka_unit_test(test_rng_known_value),
    cmocka_unit_test(test_rng_distributions), cmocka_unit_test(test_rng_at_pure),
    cmocka_unit_test(test_errors),          cmocka_unit_test(test_files),
    cmocka_unit_test(test_atomic_stream),
    cmocka_unit_test(test_checksum),        cmocka_unit_test(test_threads),
    cmocka_unit_test(test_cpu),             cmocka_unit_test(test_time),
};
MU_TEST_MAIN(group)
