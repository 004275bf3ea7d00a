/* pass.h — shared declarations of the two compilations of the block pass. */
#ifndef EMGMM_PASS_H
#define EMGMM_PASS_H
#include "src/internal.h"

/* Makes a pthreads OpenBLAS single-threaded around an OpenMP region (the
 * OpenMP build already is inside one); returns what to restore. */
int emgmm_blas_single_begin(void);
void emgmm_blas_single_end(int saved);

/* Called first thing by every thread of a region that makes BLAS calls: the
 * OpenMP OpenBLAS then runs them on this thread alone, even when the region
 * has a single thread (and so is not "active"). */
#ifdef _OPENMP
#include <omp.h>
#define EMGMM_BLAS_SINGLE_IN_REGION() omp_set_num_threads(1)
#else
#define EMGMM_BLAS_SINGLE_IN_REGION() ((void)0)
#endif
#endif
