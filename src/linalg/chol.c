/* chol.c — covariance → precision Cholesky factor, via dpotrf and dtrtri.
 * No explicit inverse of the covariance is ever formed. */
#include <math.h>
#include <string.h>

#include <lapacke.h>

#include "src/linalg/linalg.h"

int emgmm_chol_precision(int d, const double *S, double *U, double *log_det, double *work)
{
    memcpy(work, S, (size_t)d * d * sizeof(double));
    /* Row-major lower L with S = L Lᵀ (only the lower triangle of S is read). */
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, work, d);
    if (info != 0) return (int)info;
    double ld = 0.0;
    for (int i = 0; i < d; i++) ld -= log(work[(size_t)i * d + i]);
    info = LAPACKE_dtrtri(LAPACK_ROW_MAJOR, 'L', 'N', d, work, d);
    if (info != 0) return info > 0 ? (int)info : (int)info;
    /* U = (L⁻¹)ᵀ: upper triangular, zeros below the diagonal. */
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            U[(size_t)i * d + j] = (j >= i) ? work[(size_t)j * d + i] : 0.0;
    *log_det = ld;
    return 0;
}
