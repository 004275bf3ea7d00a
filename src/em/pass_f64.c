/* pass_f64.c — the block pass with double-precision products. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/em/pass.h"

#define TYPE double
#define SFX f64
#define GEMM cblas_dgemm
#define SYRK cblas_dsyrk
#define EMGMM_PASS_IS_DOUBLE 1
#include "src/em/pass_impl.h"
