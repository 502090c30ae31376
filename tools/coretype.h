/* coretype.h — re-run muon with a better OpenBLAS core when OpenBLAS picked
 * kernels older than the CPU (e.g. "Zen" AVX2 kernels on an AVX-512 Zen 4). */
#ifndef MUON_CORETYPE_H
#define MUON_CORETYPE_H

/* If mu_openblas_core_suggest() names a core and MUON_NO_REEXEC is unset:
 * set OPENBLAS_CORETYPE, say so on stderr (one line) and execv /proc/self/exe
 * with argv — it does not return then. Returns 0 when nothing was done, -1 when
 * the exec failed (a warning was printed; the run continues on the old core).
 * Call it first thing in main(), before any BLAS call or thread starts. */
int cli_openblas_reexec(char **argv);

#endif
