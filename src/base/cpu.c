/* cpu.c — CPU feature detection (cpuid + xgetbv), the OpenBLAS core check and
 * the one-line machine description every benchmark and log prints.
 *
 * A feature counts only when the CPU has it (cpuid) and the OS saves its
 * registers (XCR0 via xgetbv): AVX needs XCR0 bits 1,2; AVX-512 bits 5,6,7;
 * AMX bits 17,18. Linux additionally requires a per-process permission for
 * AMX tile data (arch_prctl ARCH_REQ_XCOMP_PERM); oneDNN requests it itself,
 * so here it is only reported. */
#include <cpuid.h>
#include <ctype.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dnnl.h>

#include "muon/base.h"

char *openblas_get_corename(void);
char *openblas_get_config(void);

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

void mu_cpu_detect(mu_cpu_info_t *out) {
    memset(out, 0, sizeof *out);
    unsigned a, b, c, d;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->n_cores = n > 0 ? (int32_t)n : 1;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned max_leaf = a;
    memcpy(out->vendor + 0, &b, 4); /* vendor string is ebx, edx, ecx */
    memcpy(out->vendor + 4, &d, 4);
    memcpy(out->vendor + 8, &c, 4);
    out->vendor[12] = 0;

    /* brand string: leaves 0x80000002..4, 16 bytes each */
    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
        unsigned regs[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
        char brand[49];
        memcpy(brand, regs, 48);
        brand[48] = 0;
        const char *s = brand;
        while (*s == ' ') s++;
        snprintf(out->model, sizeof out->model, "%s", s);
        for (size_t l = strlen(out->model); l && out->model[l - 1] == ' '; l--) out->model[l - 1] = 0;
    }

    __get_cpuid(1, &a, &b, &c, &d);
    int osxsave = (c >> 27) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6;
    int os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;
    int os_amx = (xcr0 & 0x60000) == 0x60000;
    out->fma = os_avx && ((c >> 12) & 1);
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        unsigned max_sub = a;
        out->avx2 = os_avx && ((b >> 5) & 1);
        out->avx512f = os_avx512 && ((b >> 16) & 1);
        out->avx512bw = os_avx512 && ((b >> 30) & 1);
        out->avx512vl = os_avx512 && ((b >> 31) & 1);
        out->amx_bf16 = os_amx && ((d >> 22) & 1);
        out->amx_tile = os_amx && ((d >> 24) & 1);
        if (max_sub >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            out->avx512_bf16 = os_avx512 && ((a >> 5) & 1);
        }
    }
}

const char *mu_openblas_core(void) { return openblas_get_corename(); }
const char *mu_openblas_config(void) { return openblas_get_config(); }

static int ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels from the cpuid family/model
 * it knows: an AVX-512 CPU it does not recognise (AMD Zen 4 is reported as
 * "Zen", which uses the AVX2 Haswell kernels) runs half-width kernels. The
 * SkylakeX kernels are AVX-512F/BW/VL; Cooperlake is the same plus bf16.
 * A core already in the AVX-512 family is left alone: muon only calls sgemm,
 * whose SkylakeX and Cooperlake kernels are the same code. */
const char *mu_openblas_core_suggest(void) {
    const char *env = getenv("OPENBLAS_CORETYPE");
    if (env && *env) return NULL;
    mu_cpu_info_t ci;
    mu_cpu_detect(&ci);
    if (!(ci.avx512f && ci.avx512bw && ci.avx512vl)) return NULL;
    const char *core = openblas_get_corename();
    if (!core) return NULL;
    static const char *avx512_cores[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof avx512_cores / sizeof avx512_cores[0]; i++)
        if (ieq(core, avx512_cores[i])) return NULL;
    return ci.avx512_bf16 ? "COOPERLAKE" : "SKYLAKEX";
}

const char *mu_onednn_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_all: return "all";
    default: return "unknown";
    }
}

void mu_machine_line(char *buf, size_t cap) {
    if (!buf || !cap) return;
    mu_cpu_info_t ci;
    mu_cpu_detect(&ci);
    /* openblas_get_config() starts "OpenBLAS 0.3.21 ...": keep the version word */
    char ver[32] = "?";
    const char *cfg = openblas_get_config();
    if (cfg && !strncmp(cfg, "OpenBLAS ", 9)) sscanf(cfg + 9, "%31s", ver);
    const dnnl_version_t *v = dnnl_version();
    const char *env = getenv("OPENBLAS_CORETYPE");
    snprintf(buf, cap, "cpu=%s (%d cpus%s%s%s) | openblas=%s core=%s%s | onednn=%d.%d.%d isa=%s | threads=%d",
             ci.model[0] ? ci.model : ci.vendor, (int)ci.n_cores, ci.avx512f ? ", avx512" : ci.avx2 ? ", avx2" : "",
             ci.avx512_bf16 ? ", avx512_bf16" : "", ci.amx_tile ? ", amx" : "", ver, openblas_get_corename(),
             env && *env ? " (OPENBLAS_CORETYPE)" : "", v->major, v->minor, v->patch, mu_onednn_isa(),
             (int)mu_threads_get());
}
