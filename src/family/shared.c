/* shared.c — what every family shares: precisions from covariances by
 * storage type, the data's moments from a pass's statistics, the variance
 * floor built on them, the empty-component threshold.  Below the families'
 * dispatch (family.c), which calls mclust.c, which calls here. */
#include <float.h>
#include <math.h>

#include "src/family/family.h"

int emgmm_family_precisions(int cov_type, int K, int d, const double *cov, double *prec_chol,
                            double *log_det, int *bad_component)
{
    switch (cov_type) {
    case EMGMM_COV_FULL: return emgmm_full_precisions(K, d, cov, prec_chol, log_det, bad_component);
    case EMGMM_COV_TIED: return emgmm_tied_precisions(K, d, cov, prec_chol, log_det, bad_component);
    case EMGMM_COV_DIAG:
    case EMGMM_COV_SPHERICAL:
        return emgmm_diag_precisions(cov_type, K, d, cov, prec_chol, log_det, bad_component);
    default: return EMGMM_ERR_INVALID_PARAM;
    }
}

/* Σ_i r_ik = 1 for every row, so summing the shifted statistics over the
 * components gives the data's own moments whatever the responsibilities:
 *   μ = Σ_k (N_k c_k + s1_k) / W
 *   S = Σ_k [s2_k + (c_k − μ) s1_kᵀ + s1_k (c_k − μ)ᵀ + N_k (c_k − μ)(c_k − μ)ᵀ] / W
 * with W = Σ_k N_k; each term is about component k's previous mean, so there
 * is no E[xxᵀ] − μμᵀ cancellation on raw data. */
void emgmm_stats_data_moments(const emgmm_stats *st, int cov_type, const double *shift,
                              double *mean, double *cov, double *total)
{
    const int K = st->K, d = st->d;
    const int full = cov_type == EMGMM_COV_FULL || cov_type == EMGMM_COV_TIED;
    double W = 0.0;
    for (int k = 0; k < K; k++) W += st->nk[k];
    *total = W;
    const double inv = W > 0.0 ? 1.0 / W : 0.0;
    for (int j = 0; j < d; j++) {
        double s = 0.0;
        for (int k = 0; k < K; k++)
            s += st->nk[k] * shift[(size_t)k * d + j] + st->s1[(size_t)k * d + j];
        mean[j] = s * inv;
    }
    for (int i = 0; i < d; i++) {
        const int jend = full ? d : i + 1;
        for (int j = i; j < jend; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                const double *c = shift + (size_t)k * d, *s1 = st->s1 + (size_t)k * d;
                const double s2 = full ? st->s2[(size_t)k * st->s2_len + (size_t)i * d + j]
                                       : st->s2[(size_t)k * st->s2_len + i];
                const double ai = c[i] - mean[i], aj = c[j] - mean[j];
                s += s2 + ai * s1[j] + s1[i] * aj + st->nk[k] * ai * aj;
            }
            if (full) {
                cov[(size_t)i * d + j] = s * inv;
                cov[(size_t)j * d + i] = s * inv;
            } else {
                cov[i] = s * inv;
            }
        }
    }
}

void emgmm_variance_floor(const emgmm_stats *st, int cov_type, const double *shift,
                          double var_floor, double *floor)
{
    const int K = st->K, d = st->d;
    const int full = cov_type == EMGMM_COV_FULL || cov_type == EMGMM_COV_TIED;
    double W = 0.0, vsum = 0.0;
    for (int k = 0; k < K; k++) W += st->nk[k];
    const double inv = W > 0.0 ? 1.0 / W : 0.0;
    for (int j = 0; j < d; j++) {
        double mu = 0.0, s = 0.0;
        for (int k = 0; k < K; k++)
            mu += st->nk[k] * shift[(size_t)k * d + j] + st->s1[(size_t)k * d + j];
        mu *= inv;
        for (int k = 0; k < K; k++) {
            const double a = shift[(size_t)k * d + j] - mu, s1 = st->s1[(size_t)k * d + j];
            const double s2 =
                st->s2[(size_t)k * st->s2_len + (full ? (size_t)j * d + j : (size_t)j)];
            s += s2 + 2.0 * a * s1 + st->nk[k] * a * a;
        }
        /* rounding can leave a constant feature's variance a hair below 0 */
        floor[j] = var_floor * (s > 0.0 ? s * inv : 0.0);
        vsum += floor[j];
    }
    if (cov_type == EMGMM_COV_SPHERICAL)
        for (int j = 0; j < d; j++) floor[j] = vsum / d;
}

/* Covariance in the type's shape equal to v·I for every component. */
void emgmm_family_scaled_identity(int cov_type, int K, int d, double v, double *cov)
{
    switch (cov_type) {
    case EMGMM_COV_FULL:
        for (size_t i = 0; i < (size_t)K * d * d; i++) cov[i] = 0.0;
        for (int k = 0; k < K; k++)
            for (int j = 0; j < d; j++) cov[(size_t)k * d * d + (size_t)j * d + j] = v;
        break;
    case EMGMM_COV_TIED:
        for (size_t i = 0; i < (size_t)d * d; i++) cov[i] = 0.0;
        for (int j = 0; j < d; j++) cov[(size_t)j * d + j] = v;
        break;
    case EMGMM_COV_DIAG:
        for (size_t i = 0; i < (size_t)K * d; i++) cov[i] = v;
        break;
    default:
        for (int k = 0; k < K; k++) cov[k] = v;
        break;
    }
}

/* Responsibilities of a row sum to 1 with a rounding error of a few ε, and a
 * component's mean and covariance divide sums over d coordinates by N_k:
 * below 16·d·ε of the total weight W, N_k is rounding noise (and
 * scikit-learn's 10·ε guard pulls such a mean towards the origin).  Above
 * that, a component is still empty when it holds less than a thousandth of
 * one sample (W counts samples when there are no weights) or, on small data,
 * less than 1e-9 of the data: EM only drives such a component further down
 * (a few 1e-11 of weight is typical), and its parameters come from
 * vanishing fractions of points.  A component with a small but real share is
 * left to EM. */
double emgmm_empty_threshold(int d, double total)
{
    const double noise = 16.0 * (double)d * DBL_EPSILON * total;
    const double tiny = fmin(1e-9 * total, 1e-3);
    return noise > tiny ? noise : tiny;
}
