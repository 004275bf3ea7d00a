/* family_textbook.h — a plain, slow, independent reference EM for all four covariance types
 * (full, tied, diag, spherical) with optional per-sample weights: triple loops, explicit
 * formulas, no BLAS, scikit-learn's conventions.  Plus shape helpers shared by the family tests. */
#ifndef EMGMM_TESTS_FAMILY_TEXTBOOK_H
#define EMGMM_TESTS_FAMILY_TEXTBOOK_H

#include <stddef.h>

/* Doubles in a covariance array of the type (emgmm_covariance_type codes):
 * full K·d·d, tied d·d, diag K·d, spherical K. */
size_t ftb_cov_size(int type, int K, int d);

/* The variance of feature j in component k, read from a covariance array of the type. */
double ftb_variance(int type, int K, int d, const double *cov, int k, int j);

/* Converts per-component full covariances [K][d][d] into the type's shape the way the family
 * tests build their starting models: tied = the average, diag = the diagonals, spherical = the
 * mean of each diagonal. */
void ftb_cov_from_full(int type, int K, int d, const double *full, double *out);

/* scikit-learn's precisions_cholesky_ in the type's shape: full/tied upper-triangular U with
 * U·Uᵀ = Σ⁻¹ ([K][d][d] / [d][d]), diag/spherical 1/σ.  Returns 0, or nonzero if not PD. */
int ftb_precisions_cholesky(int type, int K, int d, const double *cov, double *out);

/* E-step: responsibilities resp[n][K] (may be NULL) and log p(x_i) into logdens[n] (may be
 * NULL).  Returns the mean log-likelihood weighted by sw[n] (NULL = all 1), or NAN if a
 * covariance is not positive definite.  X is n×d with leading dimension ld. */
double ftb_estep(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
                 const double *w, const double *mu, const double *cov, double *resp,
                 double *logdens);

/* M-step from resp[n][K] and sample weights sw (NULL = all 1): weights [K], means [K][d] and
 * covariances in the type's shape, reg_covar added to every diagonal. */
void ftb_mstep(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
               const double *resp, double reg_covar, double *w, double *mu, double *cov);

/* iters EM iterations in place on (w, mu, cov); lower_bounds[iters] (may be NULL) gets the
 * lower bound of each.  Returns 0, or nonzero if a covariance stops being PD. */
int ftb_em(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
           double reg_covar, int iters, double *w, double *mu, double *cov,
           double *lower_bounds);

#endif /* EMGMM_TESTS_FAMILY_TEXTBOOK_H */
