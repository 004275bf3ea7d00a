/* pass.h — shared declarations of the two compilations of the block pass. */
#ifndef EMGMM_PASS_H
#define EMGMM_PASS_H
#include "src/internal.h"

/* Makes a pthreads OpenBLAS single-threaded around an OpenMP region (the
 * OpenMP build already is inside one); returns what to restore. */
int emgmm_blas_single_begin(void);
void emgmm_blas_single_end(int saved);
#endif
