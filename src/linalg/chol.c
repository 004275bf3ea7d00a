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
static int chol_precision_1t(int d, const double *S, double *U, double *log_det, double *work,
                             int upper);

static int chol_precision(int d, const double *S, double *U, double *log_det, double *work,
                          int upper)
{
    int info = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(1)
    {
        omp_set_num_threads(1);
        info = chol_precision_1t(d, S, U, log_det, work, upper);
    }
#else
    info = chol_precision_1t(d, S, U, log_det, work, upper);
#endif
    return info;
}

int emgmm_chol_precision(int d, const double *S, double *U, double *log_det, double *work)
{
    return chol_precision(d, S, U, log_det, work, 0);
}

int emgmm_chol_precision_upper(int d, const double *S, double *U, double *log_det, double *work)
{
    return chol_precision(d, S, U, log_det, work, 1);
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

/* A NaN in the lower triangle (diagonal included) of the column-major a. */
static int lower_has_nan(const double *a, size_t n)
{
    for (size_t j = 0; j < n; j++)
        for (size_t i = j; i < n; i++)
            if (isnan(a[j * n + i])) return 1;
    return 0;
}

static int chol_precision_1t(int d, const double *S, double *U, double *log_det, double *work,
                             int upper)
{
    /* LAPACK itself on work read column-major: its lower triangle is the
     * row-major lower triangle of S transposed (S's upper one for upper), the
     * very matrix LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L') hands it, and
     * LAPACKE_dtrtri the same after, but without their d×d copies (issue 22:
     * they were the peak of a d = 1024 step).  Their NaN checks are kept. */
    const size_t n = (size_t)d;
    double *a = work ? work : U; /* work NULL: in U itself */
    for (size_t j = 0; j < n; j++) {
        if (upper)
            memcpy(a + j * n + j, S + j * n + j, (n - j) * sizeof(double));
        else
            for (size_t i = j; i < n; i++) a[j * n + i] = S[i * n + j];
    }
    if (lower_has_nan(a, n)) return -4;
    lapack_int dd = d, info = 0;
    LAPACK_dpotrf("L", &dd, a, &dd, &info);
    if (info != 0) return info > 0 ? (int)info : (int)info - 1;
    if (lower_has_nan(a, n)) return -5;
    LAPACK_dtrtri("L", "N", &dd, a, &dd, &info);
    if (info != 0) return info > 0 ? (int)info : (int)info - 1;
    /* log det U from U's own diagonal (as scikit-learn's
     * _compute_log_det_cholesky): a model loaded with its stored factors
     * (emgmm_model_commit_parameters) then has the very same log-dets. */
    double ld = 0.0;
    for (int i = 0; i < d; i++) ld += log(a[(size_t)i * d + i]);
    /* U = (L⁻¹)ᵀ, upper triangular with zeros below the diagonal: L⁻¹ is
     * a's lower triangle column-major, so U is its upper one row-major. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (j < i)
                U[i * n + j] = 0.0;
            else if (a != U)
                U[i * n + j] = a[i * n + j];
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
