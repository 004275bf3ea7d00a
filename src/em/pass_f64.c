/* pass_f64.c — the block pass with double-precision products
 * (src/em/pass_impl.h compiled for one working type; see src/em/type_on.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/dist/dist.h"
#include "src/em/kernels.h"
#include "src/em/pass.h"
#include "src/em/kernels_vlog.h"

/* the M-step tile for the vector path (isa.c): type_on.h names it EMGMM_MSTAT_PATH */
static inline size_t mstat_path_f64(const double *X, size_t ld, size_t d, const double *r,
                                    size_t nb, const double *c, size_t *idx, double *s1, double *nk,
                                    double *T, double *scr)
{
    if (emgmm_isa_level() == EMGMM_ISA_AVX2)
        return emgmm_mstat_avx2_f64(X, ld, d, r, nb, c, idx, s1, nk, T, scr);
    return emgmm_mstat_f64(X, ld, d, r, nb, c, idx, s1, nk, T, scr);
}

#define EMGMM_TYPE_F64
#include "src/em/type_on.h"
#include "src/em/pass_impl.h"
#include "src/em/type_off.h"

int emgmm_pass_run_f64(const emgmm_pass *p, const emgmm_data *X) { return pass_run(p, X); }

double emgmm_pass_bytes_f64(int K, int d, int cov_type, int missing, int stats, int n_threads)
{
    return pass_bytes(K, d, cov_type, missing, stats, n_threads);
}
