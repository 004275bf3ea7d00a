/* chol.c — covariance → precision Cholesky factor, via dpotrf and dtrtri.
 * No explicit inverse of the covariance is ever formed. */
#include <math.h>
#include <string.h>

#include <lapacke.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/linalg/linalg.h"

/* The factorisations are O(d³) per component, tiny next to the data pass:
 * they run on the calling thread.  Left alone, the OpenMP OpenBLAS would
 * start a team for each and leave its threads spinning after it. */
static int chol_precision_1t(int d, const double *S, double *U, double *log_det, double *work);

int emgmm_chol_precision(int d, const double *S, double *U, double *log_det, double *work)
{
    int info = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(1)
    {
        omp_set_num_threads(1);
        info = chol_precision_1t(d, S, U, log_det, work);
    }
#else
    info = chol_precision_1t(d, S, U, log_det, work);
#endif
    return info;
}

int emgmm_dpotrf_lower(int d, double *A)
{
    int info = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(1)
    {
        omp_set_num_threads(1);
        info = (int)LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, A, d);
    }
#else
    info = (int)LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, A, d);
#endif
    return info;
}

static int chol_precision_1t(int d, const double *S, double *U, double *log_det, double *work)
{
    memcpy(work, S, (size_t)d * d * sizeof(double));
    /* Row-major lower L with S = L Lᵀ (only the lower triangle of S is read). */
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, work, d);
    if (info != 0) return (int)info;
    info = LAPACKE_dtrtri(LAPACK_ROW_MAJOR, 'L', 'N', d, work, d);
    if (info != 0) return info > 0 ? (int)info : (int)info;
    /* log det U from U's own diagonal (as scikit-learn's
     * _compute_log_det_cholesky): a model loaded with its stored factors
     * (emgmm_model_commit_parameters) then has the very same log-dets. */
    double ld = 0.0;
    for (int i = 0; i < d; i++) ld += log(work[(size_t)i * d + i]);
    /* U = (L⁻¹)ᵀ: upper triangular, zeros below the diagonal. */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) U[(size_t)i * d + j] = (j >= i) ? work[(size_t)j * d + i] : 0.0;
    *log_det = ld;
    return 0;
}

int emgmm_small_chol(double *a, size_t m, size_t lda)
{
    for (size_t j = 0; j < m; j++) {
        double s = a[j * lda + j];
        for (size_t k = 0; k < j; k++) s -= a[j * lda + k] * a[j * lda + k];
        if (!(s > 0.0)) return (int)j + 1;
        const double l = sqrt(s);
        a[j * lda + j] = l;
        for (size_t i = j + 1; i < m; i++) {
            double t = a[i * lda + j];
            for (size_t k = 0; k < j; k++) t -= a[i * lda + k] * a[j * lda + k];
            a[i * lda + j] = t / l;
        }
    }
    return 0;
}
