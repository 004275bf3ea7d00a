/* linalg.h — thin helpers over LAPACKE for the Cholesky factors of precisions,
 * and the BLAS / OpenMP facts (blasinfo.c).  A bottom layer: calls only into
 * src/base. */
#ifndef EMGMM_LINALG_H
#define EMGMM_LINALG_H
#include <stddef.h>

/* From a symmetric positive-definite d×d covariance S (row-major, read-only),
 * writes U (row-major d×d, upper triangular, zeros below) with U·Uᵀ = S⁻¹, i.e.
 * U = L⁻ᵀ for S = L·Lᵀ — scikit-learn's precisions_cholesky_ — and
 * *log_det = log det U = Σ log U_ii (from U's diagonal).  work: d×d scratch,
 * or NULL to work in U itself (U, not S, is then undefined on failure).
 * Returns 0, or a positive number when S is not positive definite, or a
 * negative number on an argument error. */
int emgmm_chol_precision(int d, const double *S, double *U, double *log_det, double *work);
/* The same from S's upper triangle alone (its lower one is not read): the
 * same bits as emgmm_chol_precision of the mirrored S. */
int emgmm_chol_precision_upper(int d, const double *S, double *U, double *log_det, double *work);

/* Row-major lower Cholesky factor of A in place (LAPACKE_dpotrf on the
 * calling thread); returns LAPACK's info. */
int emgmm_dpotrf_lower(int d, double *A);

/* In-place Cholesky of an m×m SPD matrix (row-major, lower triangle used and
 * written); returns 0, or the 1-based column that failed.  Small m, no LAPACK. */
int emgmm_small_chol(double *a, size_t m, size_t lda);

/* Resolved thread count (n_threads 0 = OpenMP default), at least 1. */
int emgmm_threads(int n_threads);

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
