/* threads.c — the one place that sets how many threads compute uses.
 *
 * muon links the OpenMP build of OpenBLAS and oneDNN built with the OpenMP
 * runtime, so all three (our own `#pragma omp` loops, OpenBLAS, oneDNN) run on
 * libgomp's single thread pool: one count, no oversubscription, no second pool
 * spinning against the first. See docs/threads.md. */
#include <omp.h>
#include <xmmintrin.h>

#include "muon/base.h"

void openblas_set_num_threads(int num_threads);

/* Flush denormals to zero (FTZ) and read them as zero (DAZ) on every pool thread.
 * Training pushes many values into the denormal range (softmax tails exp(-40),
 * tiny Adam moments); x86 handles each denormal operand with a ~100-cycle
 * microcode assist, which slowed a Brown run from 13k to 3k tokens/s as the
 * attention sharpened. Results stay deterministic; values below 1.2e-38 become 0. */
static void flush_denormals(void) {
    _mm_setcsr(_mm_getcsr() | 0x8040); /* FTZ (bit 15) | DAZ (bit 6) */
}

int mu_threads_set(int32_t n) {
    if (n > 4096) return mu_set_error(MU_EINVAL, "threads: %d requested, at most 4096 supported", (int)n);
    if (n <= 0) n = omp_get_num_procs();
    /* nthreads-var is per OpenMP data environment: this sets it for the calling
     * thread, which is the thread that runs products (contexts are single-threaded). */
    omp_set_num_threads(n);
    /* OpenBLAS (USE_OPENMP=1) keeps its own count and hands it to its omp parallel regions */
    openblas_set_num_threads(n);
    flush_denormals();
#pragma omp parallel num_threads(n)
    flush_denormals();
    /* oneDNN (DNNL_CPU_RUNTIME=OMP) reads omp_get_max_threads() when a primitive
     * is created and executed; gemm.c recreates cached primitives when it changes. */
    return MU_OK;
}

int32_t mu_threads_get(void) { return omp_get_max_threads(); }
