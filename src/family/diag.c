/* diag.c — diagonal covariances ([K][d]) and spherical ones ([K]).
 *   diag:      σ²_kj = s2_kj / N_k − (s1_kj / N_k)² + reg
 *   spherical: σ²_k  = mean_j of the diagonal above (reg included, as scikit-learn)
 * Precision factors are 1/σ, log-dets Σ_j log(1/σ_kj) (spherical: d·log(1/σ_k)). */
#include <math.h>

#include "src/family/family.h"

int emgmm_diag_precisions(int cov_type, int K, int d, const double *cov, double *prec_chol,
                          double *log_det, int *bad_component)
{
    const int per = cov_type == EMGMM_COV_DIAG ? d : 1;
    for (int k = 0; k < K; k++) {
        double ld = 0.0;
        for (int j = 0; j < per; j++) {
            const double v = cov[(size_t)k * per + j];
            if (!(v > 0.0) || !isfinite(v)) {
                if (bad_component) *bad_component = k;
                return EMGMM_ERR_NOT_PD;
            }
            const double p = 1.0 / sqrt(v);
            prec_chol[(size_t)k * per + j] = p;
            ld += log(p);
        }
        log_det[k] = cov_type == EMGMM_COV_DIAG ? ld : (double)d * ld;
    }
    return EMGMM_OK;
}

int emgmm_diag_finish(emgmm_model *m, const emgmm_stats *st, const double *shift, double reg_covar,
                      const double *floor, emgmm_paramset *out, unsigned char *bad)
{
    const int K = m->K, d = m->d;
    double total = 0.0;
    for (int k = 0; k < K; k++) total += st->nk[k] + EMGMM_NK_EPS;
    for (int k = 0; k < K; k++) {
        const double nk = st->nk[k] + EMGMM_NK_EPS;
        const double *s1 = st->s1 + (size_t)k * d;
        const double *s2 = st->s2 + (size_t)k * d;
        out->weights[k] = nk / total;
        double vsum = 0.0;
        for (int j = 0; j < d; j++) {
            const double dj = s1[j] / nk;
            out->means[(size_t)k * d + j] = shift[(size_t)k * d + j] * (st->nk[k] / nk) + dj;
            double v = s2[j] / nk - dj * dj + reg_covar;
            if (floor && m->cov_type == EMGMM_COV_DIAG && v < floor[j]) v = floor[j];
            if (m->cov_type == EMGMM_COV_DIAG) out->covariances[(size_t)k * d + j] = v;
            vsum += v;
        }
        if (m->cov_type == EMGMM_COV_SPHERICAL) {
            double v = vsum / d;
            if (floor && v < floor[0]) v = floor[0]; /* every entry is the mean floor */
            out->covariances[k] = v;
        }
    }
    const int per = m->cov_type == EMGMM_COV_DIAG ? d : 1;
    if (bad) {
        for (int k = 0; k < K; k++) {
            const size_t off = (size_t)k * per;
            bad[k] =
                emgmm_diag_precisions(m->cov_type, 1, d, out->covariances + off,
                                      out->prec_chol + off, &out->log_det[k], NULL) != EMGMM_OK;
        }
        return EMGMM_OK;
    }
    int badk = -1;
    int rc = emgmm_diag_precisions(m->cov_type, K, d, out->covariances, out->prec_chol,
                                   out->log_det, &badk);
    if (rc == EMGMM_ERR_NOT_PD) {
        m->err_comp = badk;
        return emgmm_fail(m, EMGMM_ERR_NOT_PD,
                          "variance of component %d is not positive after adding reg_covar=%g "
                          "(raise reg_covar or var_floor, use fewer components, scale the data, or "
                          "use the reseed policy)",
                          badk, reg_covar);
    }
    return rc;
}
