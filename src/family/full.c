/* full.c — the full-covariance family: one d×d covariance per component.
 * The M-step finish turns shifted sufficient statistics into parameters:
 *   N_k   = Σ r_ik + 10ε                 (scikit-learn's guard)
 *   μ_k   = c_k·(Σ r_ik / N_k) + s1_k / N_k   (= Σ r x / N_k)
 *   Σ_k   = s2_k / N_k − δ_k δ_kᵀ + reg·I,  δ_k = s1_k / N_k
 *   π_k   = N_k / Σ_j N_j
 * where c_k is the shift the pass used (the previous mean), so the subtraction
 * δδᵀ is small and no E[xxᵀ] − μμᵀ cancellation occurs on raw data. */
#include <stdlib.h>

#include "src/family/family.h"
#include "src/linalg/linalg.h"

long emgmm_full_n_parameters(int K, int d)
{
    return (long)K * d * (d + 1) / 2 + (long)K * d + K - 1;
}

/* upper: from the covariances' upper triangles alone */
static int full_precisions(int K, int d, const double *cov, double *prec_chol, double *log_det,
                           int *bad_component, int upper)
{
    /* each factor is computed in its own place (no d×d scratch: issue 22) */
    int st = EMGMM_OK;
    for (int k = 0; k < K; k++) {
        size_t off = (size_t)k * d * d;
        int info = upper ? emgmm_chol_precision_upper(d, cov + off, prec_chol + off, &log_det[k], NULL)
                         : emgmm_chol_precision(d, cov + off, prec_chol + off, &log_det[k], NULL);
        if (info > 0) {
            if (bad_component) *bad_component = k;
            st = EMGMM_ERR_NOT_PD;
            break;
        }
        if (info < 0) {
            st = EMGMM_ERR_INTERNAL;
            break;
        }
    }
    return st;
}

int emgmm_full_precisions(int K, int d, const double *cov, double *prec_chol, double *log_det,
                          int *bad_component)
{
    return full_precisions(K, d, cov, prec_chol, log_det, bad_component, 0);
}

void emgmm_full_mirror(int K, int d, double *cov)
{
    for (size_t k = 0; k < (size_t)K; k++, cov += (size_t)d * d)
        for (size_t i = 0; i < (size_t)d; i++)
            for (size_t j = i + 1; j < (size_t)d; j++) cov[j * d + i] = cov[i * d + j];
}

int emgmm_full_finish(emgmm_model *m, const emgmm_stats *st, const double *shift, double reg_covar,
                      const double *floor, emgmm_paramset *out, unsigned char *bad)
{
    const int K = m->K, d = m->d;
    double total = 0.0;
    for (int k = 0; k < K; k++) total += st->nk[k] + EMGMM_NK_EPS;
    for (int k = 0; k < K; k++) {
        const double nk = st->nk[k] + EMGMM_NK_EPS;
        const double *s1 = st->s1 + (size_t)k * d;
        const double *s2 = st->s2 + (size_t)k * d * d;
        double *mu = out->means + (size_t)k * d;
        double *cov = out->covariances + (size_t)k * d * d;
        out->weights[k] = nk / total;
        /* μ = Σ r x / N_k exactly as scikit-learn: a component with no mass
         * (Σ r = 0) goes to 0, not to its shift. */
        const double a = st->nk[k] / nk;
        for (int i = 0; i < d; i++) mu[i] = shift[(size_t)k * d + i] * a + s1[i] / nk;
        /* s2 holds its upper triangle, and so does cov until
         * emgmm_full_mirror (the lower one is left as it was) */
        for (int i = 0; i < d; i++) {
            const double di = s1[i] / nk;
            for (int j = i; j < d; j++)
                cov[(size_t)i * d + j] = s2[(size_t)i * d + j] / nk - di * (s1[j] / nk);
            cov[(size_t)i * d + i] += reg_covar;
            /* raising a diagonal entry adds a PSD matrix: never less definite */
            if (floor && cov[(size_t)i * d + i] < floor[i]) cov[(size_t)i * d + i] = floor[i];
        }
    }
    if (bad) {
        int rc = EMGMM_OK;
        for (int k = 0; k < K && rc == EMGMM_OK; k++) {
            const size_t off = (size_t)k * d * d;
            int info = emgmm_chol_precision_upper(d, out->covariances + off, out->prec_chol + off,
                                                  &out->log_det[k], NULL);
            bad[k] = info > 0;
            if (info < 0) rc = EMGMM_ERR_INTERNAL;
        }
        return rc;
    }
    int badk = -1;
    int rc = full_precisions(K, d, out->covariances, out->prec_chol, out->log_det, &badk, 1);
    if (rc == EMGMM_ERR_NOT_PD) {
        m->err_comp = badk;
        return emgmm_fail(
            m, EMGMM_ERR_NOT_PD,
            "covariance of component %d is not positive definite after adding reg_covar=%g "
            "(raise reg_covar or var_floor, use fewer components, scale the data, or "
            "use the reseed policy)",
            badk, reg_covar);
    }
    return rc;
}
