/* muon/base.h — errors, RNG, threads, CPU features: the layer everything else uses.
 *
 * Intended usage:
 *   1. Every fallible call returns int: MU_OK (0) or a negative MU_E* code.
 *   2. On failure, mu_last_error() gives a per-thread message with context
 *      ("data/train.bin: token count 100000 but file holds 10").
 *   3. mu_threads_set(n) once, before any compute: it sets OpenMP, OpenBLAS and
 *      oneDNN together (one libgomp pool, see docs/threads.md).
 *   4. mu_rng_t is a plain struct; seed it with mu_rng_seed and copy it freely.
 *      mu_rng_at(seed, a, b, c) is counter based: the same inputs give the same
 *      stream whatever happened before (used for data order and dropout).
 */
#ifndef MUON_BASE_H
#define MUON_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MU_API __declspec(dllexport)
#else
#define MU_API __attribute__((visibility("default")))
#endif

#define MU_VERSION_MAJOR 0
#define MU_VERSION_MINOR 1
#define MU_VERSION_PATCH 0
#define MU_VERSION_STRING "0.1.0"

/* Error codes: 0 is success, negatives are failures. */
enum {
    MU_OK = 0,
    MU_EINVAL = -1,       /* bad argument or configuration */
    MU_ENOMEM = -2,       /* allocation failed */
    MU_EIO = -3,          /* open/read/write/fsync/rename failed */
    MU_EFORMAT = -4,      /* file is corrupt, truncated, wrong magic/version */
    MU_EUNSUPPORTED = -5, /* feature missing on this CPU or build */
    MU_ENONFINITE = -6,   /* NaN or Inf in loss, gradients or weights */
    MU_EMISMATCH = -7,    /* file does not match the model/config (vocab, shape, ...) */
    MU_EINTERRUPTED = -8  /* stopped by a signal or a user request */
};

MU_API const char *mu_strerror(int code);       /* static text for a code */
MU_API const char *mu_last_error(void);         /* this thread's last message, never NULL */
MU_API int mu_set_error(int code,               /* record a message; returns code */
                        const char *fmt, ...) __attribute__((format(printf, 2, 3)));
MU_API void mu_clear_error(void);

/* ---- RNG: xoshiro256** seeded through splitmix64 ---- */
typedef struct {
    uint64_t s[4];
} mu_rng_t;

MU_API void mu_rng_seed(mu_rng_t *r, uint64_t seed);
/* A stream that is a pure function of (seed, a, b, c). */
MU_API void mu_rng_at(mu_rng_t *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
MU_API uint64_t mu_rng_u64(mu_rng_t *r);
MU_API uint64_t mu_rng_below(mu_rng_t *r, uint64_t n);  /* uniform in [0, n), unbiased */
MU_API float mu_rng_uniform(mu_rng_t *r);               /* uniform in [0, 1) */
MU_API float mu_rng_normal(mu_rng_t *r);                /* standard normal (Box–Muller) */

/* ---- threads ---- */
MU_API int mu_threads_set(int32_t n);  /* n <= 0: all cores */
MU_API int32_t mu_threads_get(void);

/* ---- CPU features and the OpenBLAS core check ---- */
typedef struct {
    char model[96];      /* brand string */
    char vendor[16];
    int32_t avx2, fma, avx512f, avx512bw, avx512vl, avx512_bf16, amx_bf16, amx_tile;
    int32_t n_cores;     /* online CPUs */
} mu_cpu_info_t;

MU_API void mu_cpu_detect(mu_cpu_info_t *out);
MU_API const char *mu_openblas_core(void);     /* openblas_get_corename() */
MU_API const char *mu_openblas_config(void);   /* openblas_get_config() */
/* If OPENBLAS_CORETYPE is unset and OpenBLAS picked a core older than the CPU
 * supports, returns the core name it should use ("SKYLAKEX", "COOPERLAKE");
 * otherwise NULL. Callers decide whether to warn or re-exec. */
MU_API const char *mu_openblas_core_suggest(void);
MU_API const char *mu_onednn_isa(void);        /* e.g. "avx512_core_amx" */
/* One line: "cpu=... | openblas=... core=... | onednn=... isa=... | threads=N" */
MU_API void mu_machine_line(char *buf, size_t cap);

/* ---- time ---- */
MU_API double mu_time_s(void);                 /* monotonic seconds */

/* ---- files ---- */
/* Atomic replace: write to path.tmp.<pid>, fsync, rename, fsync the directory. */
MU_API int mu_file_write_atomic(const char *path, const void *data, size_t len);
/* The same, streamed: open, write any number of times, then commit (or abort). A failed
 * write is remembered; commit then reports it and removes the temp file. The target is
 * untouched until a successful commit. */
typedef struct {
    int fd;
    int err;            /* first errno seen, 0 if none */
    char path[4096];
    char tmp[4120];
} mu_atomic_file_t;
MU_API int mu_atomic_open(mu_atomic_file_t *f, const char *path);
MU_API void mu_atomic_write(mu_atomic_file_t *f, const void *data, size_t len);
MU_API int mu_atomic_commit(mu_atomic_file_t *f);
MU_API void mu_atomic_abort(mu_atomic_file_t *f);
/* mkdir -p: create dir and its parents; MU_EIO names the part that failed. */
MU_API int mu_mkdir_p(const char *dir);
/* Read a whole file into a malloc'd buffer (caller frees). */
MU_API int mu_file_read_all(const char *path, void **data, size_t *len);
/* CRC-32C style checksum used in every binary file the project writes (FNV-1a 64). */
MU_API uint64_t mu_checksum64(const void *data, size_t len, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
