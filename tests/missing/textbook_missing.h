/* textbook_missing.h — a plain, slow, independent EM for Gaussian mixtures on data with NaN
 * read as missing at random (see textbook_missing.c).  Covariances are always full d×d
 * matrices [K][d][d]; for tied all K are the same, for diag/spherical the off-diagonal is 0.
 * Rows are row-major n×d (ld = d), d <= 256. */
#ifndef EMGMM_TESTS_TEXTBOOK_MISSING_H
#define EMGMM_TESTS_TEXTBOOK_MISSING_H

#include <stddef.h>

enum { TBM_FULL = 0, TBM_TIED = 1, TBM_DIAG = 2, TBM_SPHERICAL = 3 };

/* Mean observed-data log-likelihood; resp[n][K] and logdens[n] may be NULL.  NAN when some
 * Σ_OO is not positive definite. */
double tbm_estep(const double *X, size_t n, int d, int K, const double *w, const double *mu,
                 const double *cov, double *resp, double *logdens);
/* M-step from the responsibilities, with the conditional expectations taken under the old
 * parameters (mu_old, cov_old). */
void tbm_mstep(const double *X, size_t n, int d, int K, int cov_type, const double *resp,
               const double *mu_old, const double *cov_old, double reg, double *w, double *mu,
               double *cov);
/* iters EM iterations in place; lbs[iters] (may be NULL).  Returns 0, or 1 on a non-PD Σ_OO. */
int tbm_em(const double *X, size_t n, int d, int K, int cov_type, double reg, int iters,
           double *w, double *mu, double *cov, double *lbs);
/* out[n][d]: missing entries replaced by Σ_k r_ik E_k[x_M | x_O]. */
void tbm_impute(const double *X, size_t n, int d, int K, const double *w, const double *mu,
                const double *cov, double *out);

#endif
