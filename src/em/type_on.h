/* type_on.h — the one float/double convention of the library.  A file that
 * compiles a template (a *_impl.h) for one working type defines
 * EMGMM_TYPE_F64 or EMGMM_TYPE_F32, includes this header, includes the
 * template, then includes type_off.h: the pass (pass_f64.c, pass_f32.c with
 * pass_impl.h) and the kernels (kernels_f64.c, kernels_f32.c with
 * kernels_impl.h and kernels_tri_impl.h).  A template's helpers are static
 * with plain names (one type per translation unit).  Every exported name is
 * spelled out in full: the pass's entry points in the including file
 * (emgmm_pass_run_f64), each kernel below, where the pass template calls it
 * and the kernel templates define it by the same macro (EMGMM_QUADFORM is
 * emgmm_quadform_f64), so grep finds them all. */
#if defined(EMGMM_TYPE_F64)
#define TYPE double
#define GEMM cblas_dgemm
#define WS_SLOT 0 /* emgmm_pass_cache.ws[WS_SLOT] */
#define EMGMM_QUADFORM emgmm_quadform_f64
#define EMGMM_LOAD64 emgmm_load_f64_f64
#define EMGMM_LOAD32 emgmm_load_f32_f64
#define EMGMM_WROW emgmm_wrow_f64
#define EMGMM_NEAREST emgmm_nearest_f64
#define EMGMM_FUSED_QF emgmm_qf_fused_f64
#define EMGMM_TRI_QF emgmm_qf_tri_f64
#define EMGMM_TRI_TAIL emgmm_tri_tail_f64
#define EMGMM_MSTAT emgmm_mstat_f64
#define EMGMM_MSTAT_PATH mstat_path_f64 /* pass_f64.c: emgmm_mstat_avx2_f64 or emgmm_mstat_f64 */
#define EMGMM_MFOLD emgmm_mfold_f64
#define EMGMM_SOFTMAX emgmm_softmax_rows
/* the least vector paths (isa.c) with the triangular E-step and M-step tiles
 * (kernels_tri.c, kernels_tri_impl.h); below them the products go through BLAS */
#define EMGMM_TRI_ISA EMGMM_ISA_AVX512
#define EMGMM_MTRI_ISA EMGMM_ISA_AVX2
#elif defined(EMGMM_TYPE_F32)
#define TYPE float
#define GEMM cblas_sgemm
#define WS_SLOT 1
#define EMGMM_QUADFORM emgmm_quadform_f32
#define EMGMM_LOAD64 emgmm_load_f64_f32
#define EMGMM_LOAD32 emgmm_load_f32_f32
#define EMGMM_WROW emgmm_wrow_f32
#define EMGMM_NEAREST emgmm_nearest_f32
#define EMGMM_TRI_QF emgmm_qf_tri_f32
#define EMGMM_TRI_TAIL emgmm_tri_tail_f32
#define EMGMM_MSTAT emgmm_mstat_f32
#define EMGMM_MSTAT_PATH emgmm_mstat_f32
#define EMGMM_MFOLD emgmm_mfold_f32
#define EMGMM_SOFTMAX emgmm_softmax_rows_f32 /* the exps in float */
#define EMGMM_TRI_ISA EMGMM_ISA_AVX512
#define EMGMM_MTRI_ISA EMGMM_ISA_AVX512
#else
#error "define EMGMM_TYPE_F64 or EMGMM_TYPE_F32 before including type_on.h"
#endif
