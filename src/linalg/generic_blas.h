/* generic_blas.h — stand-ins for the OpenBLAS extensions the library calls (thread control,
 * core name, build configuration), for a build on a generic CBLAS (meson -Dblas=generic, or
 * no OpenBLAS found).  meson.build force-includes this header (-include) in that build only,
 * so the sources keep calling openblas_*; each name is mapped to a static function here.
 * Static first and then, when an OpenBLAS cblas.h is on the include path after all, its
 * extern declarations of the same names take on the static definitions' internal linkage. */
#ifndef EMGMM_GENERIC_BLAS_H
#define EMGMM_GENERIC_BLAS_H

#define openblas_get_parallel emgmm_generic_blas_get_parallel
#define openblas_get_num_threads emgmm_generic_blas_get_num_threads
#define openblas_set_num_threads emgmm_generic_blas_set_num_threads
#define openblas_get_corename emgmm_generic_blas_get_corename
#define openblas_get_config emgmm_generic_blas_get_config

/* 0: a sequential BLAS, so the pass never changes a BLAS thread count. */
static inline int emgmm_generic_blas_get_parallel(void) { return 0; }
static inline int emgmm_generic_blas_get_num_threads(void) { return 1; }
static inline void emgmm_generic_blas_set_num_threads(int n) { (void)n; }
/* Not a core OpenBLAS could mistake for a generic one: no OPENBLAS_CORETYPE hint. */
static inline char *emgmm_generic_blas_get_corename(void)
{
    static char name[] = "none (generic CBLAS)";
    return name;
}
static inline char *emgmm_generic_blas_get_config(void)
{
    static char config[] = "generic CBLAS (not OpenBLAS)";
    return config;
}

#endif
