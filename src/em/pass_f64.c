/* pass_f64.c — the block pass with double-precision products. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/em/kernels.h"
#include "src/em/pass.h"

#define TYPE double
#define SFX f64
#define GEMM cblas_dgemm
#define EMGMM_QUADFORM emgmm_quadform_f64
#define EMGMM_DIAGSTATS emgmm_diagstats_f64
#define EMGMM_LOAD64 emgmm_load_f64_f64
#define EMGMM_LOAD32 emgmm_load_f32_f64
#define EMGMM_DIAG_REFINE emgmm_diag_refine_f64
#define EMGMM_WROW emgmm_wrow_f64
#define EMGMM_FUSED_QF emgmm_qf_fused_f64
#define EMGMM_TRI_QF emgmm_qf_tri_f64
#define EMGMM_TRI_PANEL emgmm_tri_panel_f64
/* the M-step tile for the vector path (isa.c) */
static inline size_t mstat_path_f64(const double *X, size_t ld, size_t d, const double *r,
                                    size_t nb, const double *c, size_t *idx, double *s1,
                                    double *nk, double *T, double *scr)
{
    if (emgmm_isa_level() == EMGMM_ISA_AVX2)
        return emgmm_mstat_avx2_f64(X, ld, d, r, nb, c, idx, s1, nk, T, scr);
    return emgmm_mstat_f64(X, ld, d, r, nb, c, idx, s1, nk, T, scr);
}
#define EMGMM_MSTAT mstat_path_f64
#define EMGMM_MFOLD emgmm_mfold_f64
/* the least vector paths with the triangular E-step and M-step tiles
 * (kernels_tri.c); below them the products go through BLAS */
#define EMGMM_TRI_ISA EMGMM_ISA_AVX512
#define EMGMM_MTRI_ISA EMGMM_ISA_AVX2
#define WS_SLOT 0 /* model->pass_ws[WS_SLOT] */
#include "src/em/pass_impl.h"
