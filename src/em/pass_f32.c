/* pass_f32.c — the block pass with single-precision products
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

#define EMGMM_TYPE_F32
#include "src/em/type_on.h"
#include "src/em/pass_impl.h"
#include "src/em/type_off.h"

int emgmm_pass_run_f32(const emgmm_pass *p, const emgmm_data *X) { return pass_run(p, X); }

double emgmm_pass_bytes_f32(int K, int d, int cov_type, int missing, int stats, int n_threads)
{
    return pass_bytes(K, d, cov_type, missing, stats, n_threads);
}
