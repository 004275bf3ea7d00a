/* pass_f32.c — the block pass with single-precision products; statistics
 * and log-likelihoods stay double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/em/kernels.h"
#include "src/em/pass.h"

#define TYPE float
#define SFX f32
#define GEMM cblas_sgemm
#define EMGMM_QUADFORM emgmm_quadform_f32
#define EMGMM_DIAGSTATS emgmm_diagstats_f32
#define EMGMM_LOAD64 emgmm_load_f64_f32
#define EMGMM_LOAD32 emgmm_load_f32_f32
#define EMGMM_DIAG_REFINE emgmm_diag_refine_f32
#define EMGMM_WROW emgmm_wrow_f32
#define EMGMM_TRI_QF emgmm_qf_tri_f32
#define EMGMM_TRI_PANEL emgmm_tri_panel_f32
#define EMGMM_MSTAT emgmm_mstat_f32
#define EMGMM_MFOLD emgmm_mfold_f32
/* the least vector paths with the triangular E-step and M-step tiles
 * (kernels_tri.c); below them the products go through BLAS */
#define EMGMM_TRI_ISA EMGMM_ISA_AVX512
#define EMGMM_MTRI_ISA EMGMM_ISA_AVX512
#define WS_SLOT 1 /* model->pass_ws[WS_SLOT] */
#include "src/em/pass_impl.h"
