/* linalg.h — thin helpers over LAPACKE for the Cholesky factors of precisions. */
#ifndef EMGMM_LINALG_H
#define EMGMM_LINALG_H

/* From a symmetric positive-definite d×d covariance S (row-major, read-only),
 * writes U (row-major d×d, upper triangular, zeros below) with U·Uᵀ = S⁻¹, i.e.
 * U = L⁻ᵀ for S = L·Lᵀ — scikit-learn's precisions_cholesky_ — and
 * *log_det = log det U = Σ log U_ii (from U's diagonal).  work: d×d scratch.
 * Returns 0, or a positive number when S is not positive definite, or a
 * negative number on an argument error. */
int emgmm_chol_precision(int d, const double *S, double *U, double *log_det, double *work);

/* Row-major lower Cholesky factor of A in place (LAPACKE_dpotrf on the
 * calling thread); returns LAPACK's info. */
int emgmm_dpotrf_lower(int d, double *A);

#endif
