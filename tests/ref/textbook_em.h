/* textbook_em.h — the test suite's one reference EM for Gaussian mixtures: plain, slow and
 * independent of src/ (no library header, no BLAS), so that agreement with the library means
 * something.  It covers the four covariance types in scikit-learn's shapes, per-sample weights,
 * and NaN entries read as missing at random (the textbook conditional-Gaussian E-step), with
 * scikit-learn's conventions: N_k = Σ_i s_i r_ik + 10·DBL_EPSILON, w_k = N_k / Σ N_k, reg_covar
 * on every diagonal, and the lower bound is the (weighted) mean log-likelihood of the E-step
 * before the M-step.  X is always n×d, row-major, with leading dimension ld; sw[n] are per-row
 * weights (NULL = all 1). */
#ifndef EMGMM_TESTS_TEXTBOOK_EM_H
#define EMGMM_TESTS_TEXTBOOK_EM_H

#include <stddef.h>

/* The covariance types, numbered as emgmm_covariance_type (repeated so that the reference needs
 * no library header).  Shapes: full [K][d][d], tied [d][d], diag [K][d], spherical [K]. */
enum {
    TB_FULL = 0,
    TB_TIED = 1,
    TB_DIAG = 2,
    TB_SPHERICAL = 3
};

/* Doubles in a covariance array of the type. */
size_t tb_cov_size(int type, int K, int d);

/* The variance of feature j in component k, read from a covariance array of the type. */
double tb_variance(int type, int K, int d, const double *cov, int k, int j);

/* Per-component full covariances [K][d][d] into the type's shape, the way the tests build their
 * starting models: tied = the average, diag = the diagonals, spherical = the mean of each
 * diagonal. */
void tb_cov_from_full(int type, int K, int d, const double *full, double *out);

/* The type's covariances as the K dense d×d matrices Σ_k they stand for, [K][d][d]: tied
 * repeats its one matrix, diag and spherical have zeros off the diagonal. */
void tb_cov_to_full(int type, int K, int d, const double *cov, double *full);

/* scikit-learn's precisions_cholesky_ in the type's shape: full/tied the upper-triangular
 * U = (L⁻¹)ᵀ with Σ = L·Lᵀ, so that U·Uᵀ = Σ⁻¹ ([K][d][d] / [d][d]); diag/spherical 1/σ.
 * Returns 0, or nonzero if a covariance is not positive definite. */
int tb_precisions_cholesky(int type, int K, int d, const double *cov, double *out);

/* E-step: responsibilities resp[n][K] (may be NULL) and log p(x_i) into logdens[n] (may be
 * NULL); for a row with NaN, p is the density of its observed part.  Returns the mean
 * log-likelihood weighted by sw, or NAN if a covariance is not positive definite. */
double tb_estep(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
                const double *w, const double *mu, const double *cov, double *resp,
                double *logdens);

/* M-step from resp[n][K]: weights [K], means [K][d] and covariances in the type's shape.  A row
 * with NaN enters completed by its conditional mean under component k of the parameters the
 * responsibilities came from (mu_old, cov_old), plus its conditional covariance; those may be
 * NULL when X has no NaN, and may be the same arrays as mu/cov (they are copied first).
 * Returns 0, or nonzero if X has NaN and mu_old/cov_old are NULL or not positive definite. */
int tb_mstep(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
             const double *resp, const double *mu_old, const double *cov_old, double reg_covar,
             double *w, double *mu, double *cov);

/* iters EM iterations in place on (w, mu, cov); lower_bounds[iters] (may be NULL) gets the
 * lower bound of each.  Returns 0, or nonzero if a covariance stops being positive definite. */
int tb_em(int type, const double *X, size_t n, int d, size_t ld, const double *sw, int K,
          double reg_covar, int iters, double *w, double *mu, double *cov, double *lower_bounds);

/* out[n][d] (leading dimension d): X with each missing entry replaced by Σ_k r_ik E_k[x_M | x_O],
 * the responsibilities r those of the mixture (w, mu, cov).  Returns 0, or nonzero if a
 * covariance is not positive definite. */
int tb_impute(int type, const double *X, size_t n, int d, size_t ld, int K, const double *w,
              const double *mu, const double *cov, double *out);

#endif /* EMGMM_TESTS_TEXTBOOK_EM_H */
