/* blasinfo.c — facts about the build and the BLAS it runs on: OpenMP, the
 * OpenBLAS core in use, and whether the CPU could run better kernels. */
#include <stddef.h>
#include <strings.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/base/base.h"
#include "src/linalg/linalg.h"

int emgmm_have_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int emgmm_default_threads(void) { return emgmm_threads(0); }

int emgmm_threads(int n_threads)
{
#ifdef _OPENMP
    int t = n_threads > 0 ? n_threads : omp_get_max_threads();
    return t > 0 ? t : 1;
#else
    (void)n_threads;
    return 1;
#endif
}

const char *emgmm_blas_corename(void)
{
    const char *s = openblas_get_corename();
    return s ? s : "unknown";
}

const char *emgmm_blas_config(void)
{
    const char *s = openblas_get_config();
    return s ? s : "unknown";
}

/* Cores whose kernels predate AVX2: OpenBLAS falls back to one of these when
 * it does not recognise a (virtualised) CPU. */
static int is_generic_core(const char *core)
{
    static const char *const generic[] = {"prescott",  "core2",   "penryn",     "dunnington",
                                          "nehalem",   "atom",    "katmai",     "coppermine",
                                          "northwood", "banias",  "athlon",     "opteron",
                                          "barcelona", "generic", "sandybridge"};
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (strcasecmp(core, generic[i]) == 0) return 1;
    return 0;
}

const char *emgmm_blas_suggested_coretype(void)
{
    return emgmm_blas_coretype_for(openblas_get_corename());
}

const char *emgmm_blas_coretype_for(const char *core)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (!core || !is_generic_core(core)) return NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return NULL;
#else
    return NULL;
#endif
}

int emgmm_blas_single_begin(void)
{
    /* BLAS calls made inside our OpenMP regions must run on one thread.  The
     * OpenMP build of OpenBLAS takes its thread count from the calling task's
     * omp_get_max_threads(), which each region sets to 1 for its own tasks
     * (emgmm_blas_single_in_region) — nothing global changes.  The pthreads
     * build has only a global setting: it is set to 1 for the pass and
     * restored after. */
    if (openblas_get_parallel() == 1) {
        int saved = openblas_get_num_threads();
        if (saved != 1) openblas_set_num_threads(1);
        return saved;
    }
    return 0;
}

void emgmm_blas_single_end(int saved)
{
    if (saved > 1) openblas_set_num_threads(saved);
}
