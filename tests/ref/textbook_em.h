/* textbook_em.h — a plain, slow, independent EM for full-covariance Gaussian mixtures, used as
 * the reference the library is compared with.  Triple loops, no BLAS, explicit formulas, and
 * scikit-learn's conventions (N_k += 10·DBL_EPSILON, reg_covar on the diagonal, weights
 * N_k / Σ N_k, lower bound = mean log-likelihood of the E-step before the M-step). */
#ifndef EMGMM_TESTS_TEXTBOOK_EM_H
#define EMGMM_TESTS_TEXTBOOK_EM_H

#include <stddef.h>

/* Σ = L·Lᵀ for a d×d row-major SPD matrix (Cholesky–Banachiewicz); L lower triangular with
 * zeros above.  Returns 0, or 1 + the 0-based index of the first non-positive pivot. */
int tb_cholesky(const double *S, double *L, int d);

/* precisions_cholesky as scikit-learn defines it: the upper-triangular U = (L⁻¹)ᵀ, so that
 * U·Uᵀ = Σ⁻¹.  Returns 0, or nonzero if Σ is not positive definite. */
int tb_precision_cholesky(const double *S, double *U, int d);

/* E-step: log p(x_i) for every row into logdens[n] (may be NULL) and the responsibilities into
 * resp[n][K] (may be NULL); returns the mean log-likelihood, or NAN if a covariance is not PD.
 * X is n×d with leading dimension ld. */
double tb_estep(const double *X, size_t n, int d, size_t ld, int K, const double *w,
                const double *mu, const double *cov, double *resp, double *logdens);

/* M-step from responsibilities resp[n][K]: new weights [K], means [K][d], covariances
 * [K][d][d] (reg_covar added to each diagonal). */
void tb_mstep(const double *X, size_t n, int d, size_t ld, int K, const double *resp,
              double reg_covar, double *w, double *mu, double *cov);

/* iters EM iterations in place on (w, mu, cov); lower_bounds[iters] (may be NULL) receives the
 * lower bound of each iteration.  Returns 0, or nonzero if a covariance stops being PD. */
int tb_em(const double *X, size_t n, int d, size_t ld, int K, double reg_covar, int iters,
          double *w, double *mu, double *cov, double *lower_bounds);

#endif /* EMGMM_TESTS_TEXTBOOK_EM_H */
