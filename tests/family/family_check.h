/* family_check.h — comparisons shared by the family tests (header only; include after
 * <cmocka.h> and tests/common/tu.h): a mixture of any covariance type against a reference, and
 * a starting model of any type built from a synthetic mixture's truth. */
#ifndef EMGMM_TESTS_FAMILY_CHECK_H
#define EMGMM_TESTS_FAMILY_CHECK_H

#include "../ref/textbook_em.h"

/* Weights relative; a mean coordinate against max(|μ|, σ of that feature in that component);
 * full/tied covariance entries against sqrt(S_ii S_jj) (>= |S_ij| for SPD S); diag/spherical
 * variances purely relative.  The reference is the second set of arrays. */
static inline void fc_assert_gmm_close(int type, int K, int d, const double *w, const double *mu,
                                       const double *cov, const double *w_ref, const double *mu_ref,
                                       const double *cov_ref, double rtol, const char *what)
{
    for (int k = 0; k < K; k++) {
        tu_assert_close(w[k], w_ref[k], rtol, 0.0, "%s: weight[%d]", what, k);
        for (int j = 0; j < d; j++)
            tu_assert_close(mu[(size_t)k * d + j], mu_ref[(size_t)k * d + j], rtol,
                            sqrt(tb_variance(type, K, d, cov_ref, k, j)), "%s: mean[%d][%d]", what,
                            k, j);
    }
    const int nmat = type == EMGMM_COV_FULL ? K : (type == EMGMM_COV_TIED ? 1 : 0);
    for (int f = 0; f < nmat; f++) {
        const double *S = cov_ref + (size_t)f * d * d;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                tu_assert_close(cov[(size_t)f * d * d + (size_t)i * d + j], S[(size_t)i * d + j],
                                rtol, sqrt(S[(size_t)i * d + i] * S[(size_t)j * d + j]),
                                "%s: cov[%d][%d][%d]", what, f, i, j);
    }
    if (nmat == 0)
        for (size_t e = 0; e < tb_cov_size(type, K, d); e++)
            tu_assert_close(cov[e], cov_ref[e], rtol, 0.0, "%s: variance[%zu]", what, e);
}

/* precisions_cholesky in the type's shape: for full/tied, row i of U has Σ_j U_ij² = (Σ⁻¹)_ii,
 * whose square root is the natural size of every entry of the row; 1/σ values are relative. */
static inline void fc_assert_prec_chol_close(int type, int K, int d, const double *U,
                                             const double *U_ref, double rtol, const char *what)
{
    const int nmat = type == EMGMM_COV_FULL ? K : (type == EMGMM_COV_TIED ? 1 : 0);
    for (int f = 0; f < nmat; f++)
        for (int i = 0; i < d; i++) {
            const double *row = U_ref + (size_t)f * d * d + (size_t)i * d;
            double p_ii = 0.0;
            for (int j = 0; j < d; j++) p_ii += row[j] * row[j];
            for (int j = 0; j < d; j++)
                tu_assert_close(U[(size_t)f * d * d + (size_t)i * d + j], row[j], rtol, sqrt(p_ii),
                                "%s: precisions_cholesky[%d][%d][%d]", what, f, i, j);
        }
    if (nmat == 0)
        for (size_t e = 0; e < tb_cov_size(type, K, d); e++)
            tu_assert_close(U[e], U_ref[e], rtol, 0.0, "%s: precisions_cholesky[%zu]", what, e);
}

/* A starting model near, not at, a synthetic mixture's truth, so EM has work to do: weights
 * perturbed and renormalised, means shifted by ~0.5 σ, covariances inflated and then put into
 * the type's shape.  w [K], mu [K][d], cov [tb_cov_size]. */
static inline void fc_perturbed_start(const tu_mixture *m, tu_rng *r, int type, double *w,
                                      double *mu, double *cov)
{
    const int K = m->K, d = m->d;
    const size_t dd = (size_t)d * d;
    double s = 0.0;
    for (int k = 0; k < K; k++) s += (w[k] = m->w[k] * (0.7 + 0.6 * tu_uniform(r)));
    for (int k = 0; k < K; k++) w[k] /= s;
    double *full = tu_xmalloc(sizeof(double) * K * dd);
    for (int k = 0; k < K; k++) {
        const double *S = m->cov + k * dd;
        for (int j = 0; j < d; j++)
            mu[(size_t)k * d + j] =
                m->mu[(size_t)k * d + j] + 0.5 * sqrt(S[(size_t)j * d + j]) * tu_normal(r);
        for (size_t e = 0; e < dd; e++) full[k * dd + e] = 1.3 * S[e];
        for (int j = 0; j < d; j++) full[k * dd + (size_t)j * d + j] += 0.1 * S[(size_t)j * d + j];
    }
    tb_cov_from_full(type, K, d, full, cov);
    free(full);
}

static const int fc_types[4] = {EMGMM_COV_FULL, EMGMM_COV_TIED, EMGMM_COV_DIAG,
                                EMGMM_COV_SPHERICAL};

#endif /* EMGMM_TESTS_FAMILY_CHECK_H */
