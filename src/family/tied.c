/* tied.c — one d×d covariance shared by all components.
 *   Σ = (Σ_k s2_k − s1_k s1_kᵀ / N_k) / Σ_k N_k + reg·I
 * (each component's scatter about its own new mean, pooled), and one
 * precision factor U with log|U| copied to every component. */
#include <stdlib.h>
#include <string.h>

#include "src/family/family.h"
#include "src/linalg/linalg.h"

int emgmm_tied_precisions(int K, int d, const double *cov, double *prec_chol, double *log_det,
                          int *bad_component)
{
    double *work = malloc((size_t)d * d * sizeof(double));
    if (!work) return EMGMM_ERR_ALLOC;
    double ld = 0.0;
    int info = emgmm_chol_precision(d, cov, prec_chol, &ld, work);
    free(work);
    if (info > 0) {
        if (bad_component) *bad_component = 0;
        return EMGMM_ERR_NOT_PD;
    }
    if (info < 0) return EMGMM_ERR_INTERNAL;
    for (int k = 0; k < K; k++) log_det[k] = ld;
    return EMGMM_OK;
}

int emgmm_tied_finish(emgmm_model *m, const emgmm_stats *st, const double *shift, double reg_covar,
                      const double *floor, emgmm_paramset *out, unsigned char *bad)
{
    const int K = m->K, d = m->d;
    double total = 0.0;
    for (int k = 0; k < K; k++) total += st->nk[k] + EMGMM_NK_EPS;
    double *cov = out->covariances;
    memset(cov, 0, (size_t)d * d * sizeof(double));
    for (int k = 0; k < K; k++) {
        const double nk = st->nk[k] + EMGMM_NK_EPS;
        const double *s1 = st->s1 + (size_t)k * d;
        const double *s2 = st->s2 + (size_t)k * d * d;
        out->weights[k] = nk / total;
        const double a = st->nk[k] / nk; /* Σ r x / N_k, as scikit-learn (see full.c) */
        for (int i = 0; i < d; i++)
            out->means[(size_t)k * d + i] = shift[(size_t)k * d + i] * a + s1[i] / nk;
        for (int i = 0; i < d; i++)
            for (int j = i; j < d; j++)
                cov[(size_t)i * d + j] += s2[(size_t)i * d + j] - s1[i] * s1[j] / nk;
    }
    for (int i = 0; i < d; i++) {
        for (int j = i; j < d; j++) {
            double v = cov[(size_t)i * d + j] / total;
            cov[(size_t)i * d + j] = v;
            cov[(size_t)j * d + i] = v;
        }
        cov[(size_t)i * d + i] += reg_covar;
        if (floor && cov[(size_t)i * d + i] < floor[i]) cov[(size_t)i * d + i] = floor[i];
    }
    int rc = emgmm_tied_precisions(K, d, cov, out->prec_chol, out->log_det, NULL);
    /* One matrix shared by every component: all of them or none are bad. */
    if (bad && rc == EMGMM_ERR_NOT_PD) {
        for (int k = 0; k < K; k++) bad[k] = 1;
        return EMGMM_OK;
    }
    if (bad)
        for (int k = 0; k < K; k++) bad[k] = 0;
    if (rc == EMGMM_ERR_NOT_PD)
        return emgmm_fail(m, EMGMM_ERR_NOT_PD,
                          "the tied covariance is not positive definite after adding reg_covar=%g "
                          "(raise reg_covar or var_floor, or scale the data)",
                          reg_covar);
    return rc;
}
