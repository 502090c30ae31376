/* threads.c — TEMPORARY: one place that sets the thread count (compute work completes it). */
#include <omp.h>

#include "muon/base.h"

void openblas_set_num_threads(int);

int mu_threads_set(int32_t n) {
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return MU_OK;
}
int32_t mu_threads_get(void) { return omp_get_max_threads(); }
