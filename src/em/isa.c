/* isa.c — which vector path the hand-tiled kernels take on this CPU: the
 * AVX-512 tiles, the AVX2+FMA tiles, or portable C.  Chosen once per process
 * from what the CPU supports, lowered (never raised) by the documented
 * environment variable EMGMM_ISA, so every path can be tested and measured
 * on the widest machine. */
#include <stdlib.h>
#include <string.h>

#include "emgmm.h"
#include "src/em/kernels.h"

static int detect(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(EMGMM_NO_CLONES)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512cd"))
        return EMGMM_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return EMGMM_ISA_AVX2;
#endif
    return EMGMM_ISA_PORTABLE;
}

static int from_env(int cpu)
{
    const char *e = getenv("EMGMM_ISA");
    if (!e || !*e) return cpu;
    int want = cpu;
    if (!strcmp(e, "avx512"))
        want = EMGMM_ISA_AVX512;
    else if (!strcmp(e, "avx2"))
        want = EMGMM_ISA_AVX2;
    else if (!strcmp(e, "portable"))
        want = EMGMM_ISA_PORTABLE;
    return want < cpu ? want : cpu;
}

int emgmm_isa_level(void)
{
    /* Idempotent, so a race between first callers only repeats the work. */
    static volatile int level = -1;
    int l = level;
    if (l < 0) level = l = from_env(detect());
    return l;
}

const char *emgmm_kernel_path(void)
{
    switch (emgmm_isa_level()) {
    case EMGMM_ISA_AVX512: return "avx512";
    case EMGMM_ISA_AVX2: return "avx2";
    default: return "portable";
    }
}
