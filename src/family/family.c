/* family.c — dispatch from a covariance type to its family's functions. */
#include "src/internal.h"

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

int emgmm_family_finish(emgmm_model *m, const emgmm_stats *st, const double *shift, double reg_covar,
                        emgmm_paramset *out)
{
    switch (m->cov_type) {
    case EMGMM_COV_FULL: return emgmm_full_finish(m, st, shift, reg_covar, out);
    case EMGMM_COV_TIED: return emgmm_tied_finish(m, st, shift, reg_covar, out);
    default: return emgmm_diag_finish(m, st, shift, reg_covar, out);
    }
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
