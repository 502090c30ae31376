/* coretype.c — the OpenBLAS core re-exec (see coretype.h).
 * OpenBLAS reads OPENBLAS_CORETYPE once, when the library is loaded, so the
 * only way to change the core of a running process is to start it again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coretype.h"
#include "muon/base.h"

int cli_openblas_reexec(char **argv) {
    const char *want = mu_openblas_core_suggest(); /* NULL when OPENBLAS_CORETYPE is already set */
    if (!want || getenv("MUON_NO_REEXEC")) return 0;
    mu_cpu_info_t ci;
    mu_cpu_detect(&ci);
    fprintf(stderr, "muon: OpenBLAS picked core %s on a CPU with AVX512%s; re-running with OPENBLAS_CORETYPE=%s "
            "(MUON_NO_REEXEC=1 skips this)\n", mu_openblas_core(), ci.avx512_bf16 ? "-BF16" : "", want);
    fflush(stderr);
    if (setenv("OPENBLAS_CORETYPE", want, 1) != 0) return -1;
    execv("/proc/self/exe", argv);
    int e = errno;
    unsetenv("OPENBLAS_CORETYPE"); /* this process keeps its old core; keep the environment truthful */
    fprintf(stderr, "muon: re-exec failed (%s); continuing with OpenBLAS core %s\n", strerror(e), mu_openblas_core());
    return -1;
}
