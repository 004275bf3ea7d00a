/* model.c — the model object: creation, copies, user-given parameters,
 * getters.  The small containers it uses (statistics, parameter sets) are in
 * src/base/stats.c. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/core.h"
#include "src/em/driver.h"
#include "src/em/pass.h"
#include "src/family/family.h"

int emgmm_model_create(emgmm_model **out, int K, int d, int cov_type)
{
    if (!out) return EMGMM_ERR_NULL;
    *out = NULL;
    if (K <= 0) return EMGMM_ERR_NO_COMPONENTS;
    if (d <= 0) return EMGMM_ERR_NO_FEATURES;
    const int structure = cov_type;
    cov_type = emgmm_covariance_storage(structure);
    if (cov_type < 0) return EMGMM_ERR_INVALID_PARAM;
    /* K·d² doubles must be addressable, with room for workspace multiples. */
    if ((double)K * (double)d * (double)d * 8.0 > (double)(SIZE_MAX / 16)) return EMGMM_ERR_TOO_LARGE;
    emgmm_model *m = calloc(1, sizeof *m);
    if (!m) return EMGMM_ERR_ALLOC;
    m->K = K;
    m->d = d;
    m->cov_type = cov_type;
    m->structure = structure;
    m->cov_len = emgmm_cov_len(cov_type, K, d);
    m->weights = calloc((size_t)K, sizeof(double));
    m->means = calloc((size_t)K * (size_t)d, sizeof(double));
    m->covariances = calloc(m->cov_len, sizeof(double));
    m->prec_chol = calloc(m->cov_len, sizeof(double));
    m->log_det = calloc((size_t)K, sizeof(double));
    if (!m->weights || !m->means || !m->covariances || !m->prec_chol || !m->log_det) {
        emgmm_model_free(m);
        return EMGMM_ERR_ALLOC;
    }
    emgmm_clear_error(m);
    m->best_init = 0;
    *out = m;
    return EMGMM_OK;
}

void emgmm_model_free(emgmm_model *m)
{
    if (!m) return;
    free(m->weights);
    free(m->means);
    free(m->covariances);
    free(m->prec_chol);
    free(m->log_det);
    free(m->lb_hist);
    free(m->reseeds);
    free(m->dist_buf);
    emgmm_accel_free(m);
    emgmm_pass_cache_free(&m->pass_cache);
    free(m);
}

int emgmm_model_copy(emgmm_model **out, const emgmm_model *m)
{
    if (!out || !m) return EMGMM_ERR_NULL;
    int st = emgmm_model_create(out, m->K, m->d, m->structure);
    if (st) return st;
    emgmm_model *c = *out;
    if (m->lb_cap > 0) {
        c->lb_hist = malloc((size_t)m->lb_cap * sizeof(double));
        if (!c->lb_hist) {
            emgmm_model_free(c);
            *out = NULL;
            return EMGMM_ERR_ALLOC;
        }
        memcpy(c->lb_hist, m->lb_hist, (size_t)m->lb_cap * sizeof(double));
        c->lb_cap = m->lb_cap;
    }
    emgmm_paramset src = {m->weights, m->means, m->covariances, m->prec_chol, m->log_det};
    emgmm_paramset_to_model(c, &src);
    c->fitted = m->fitted;
    c->n_threads = m->n_threads;
    c->missing = m->missing;
    c->converged = m->converged;
    c->n_iter = m->n_iter;
    c->best_init = m->best_init;
    c->n_passes = m->n_passes;
    c->inner_failures = m->inner_failures;
    c->inner_max = m->inner_max;
    if (m->n_reseeds > 0) {
        c->reseeds = malloc((size_t)m->n_reseeds * sizeof *c->reseeds);
        if (!c->reseeds) {
            emgmm_model_free(c);
            *out = NULL;
            return EMGMM_ERR_ALLOC;
        }
        memcpy(c->reseeds, m->reseeds, (size_t)m->n_reseeds * sizeof *c->reseeds);
        c->n_reseeds = c->reseed_cap = m->n_reseeds;
    }
    return EMGMM_OK;
}

/* Validates and installs user-given parameters; the precisions come from the
 * covariances as given (no regularisation). */
int emgmm_model_set_parameters(emgmm_model *m, const double *w, const double *mu,
                               const double *cov)
{
    if (!m || !w || !mu || !cov) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    const int K = m->K, d = m->d;
    double sum = 0.0;
    for (int k = 0; k < K; k++) {
        if (!isfinite(w[k]) || w[k] < 0.0) {
            m->err_comp = k;
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "weight of component %d is %g (must be finite and >= 0)", k, w[k]);
        }
        sum += w[k];
    }
    if (!(fabs(sum - 1.0) <= 1e-9))
        return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "weights sum to %.17g, not 1", sum);
    for (size_t i = 0; i < (size_t)K * (size_t)d; i++)
        if (!isfinite(mu[i])) {
            m->err_comp = (int)(i / (size_t)d);
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "mean of component %d is not finite", m->err_comp);
        }
    for (size_t i = 0; i < m->cov_len; i++)
        if (!isfinite(cov[i])) return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "a covariance entry is not finite");
    /* Full and tied matrices must be symmetric; their lower triangles are
     * what the Cholesky factorisation reads. */
    const int nmat = m->cov_type == EMGMM_COV_FULL ? K : (m->cov_type == EMGMM_COV_TIED ? 1 : 0);
    for (int k = 0; k < nmat; k++) {
        const double *c = cov + (size_t)k * d * d;
        for (int i = 0; i < d; i++)
            for (int j = i + 1; j < d; j++) {
                double a = c[i * d + j], b = c[j * d + i];
                if (fabs(a - b) > 1e-10 * fmax(fabs(a), fabs(b)) + 1e-300) {
                    m->err_comp = k;
                    return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "covariance of component %d is not symmetric at (%d, %d)", k, i, j);
                }
            }
    }
    emgmm_paramset ps;
    int st = emgmm_paramset_alloc(&ps, K, d, m->cov_len);
    if (st) return st;
    int bad = -1;
    st = emgmm_family_precisions(m->cov_type, K, d, cov, ps.prec_chol, ps.log_det, &bad);
    if (st == EMGMM_ERR_NOT_PD) {
        emgmm_paramset_free(&ps);
        m->err_comp = bad;
        return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "covariance of component %d is not positive definite", bad);
    }
    if (st) {
        emgmm_paramset_free(&ps);
        return st;
    }
    /* Weights that sum to 1 within rounding (a fitted model's do) are kept bit
     * for bit, so a model saved and loaded again — or a resumed checkpoint —
     * continues exactly; others are renormalised. */
    const int exact = fabs(sum - 1.0) <= 4.0 * (double)K * DBL_EPSILON;
    for (int k = 0; k < K; k++) ps.weights[k] = exact ? w[k] : w[k] / sum;
    memcpy(ps.means, mu, (size_t)K * d * sizeof(double));
    memcpy(ps.covariances, cov, m->cov_len * sizeof(double));
    emgmm_paramset_to_model(m, &ps);
    emgmm_paramset_free(&ps);
    m->fitted = 1;
    m->n_iter = 0;
    m->converged = 0;
    m->n_reseeds = 0; /* a reseed of the initialisation (iteration 0) would still count */
    m->n_passes = 0;
    emgmm_accel_reset(m);
    return EMGMM_OK;
}

int emgmm_model_n_components(const emgmm_model *m) { return m ? m->K : 0; }
int emgmm_model_n_features(const emgmm_model *m) { return m ? m->d : 0; }
int emgmm_model_covariance_type(const emgmm_model *m) { return m ? m->cov_type : -1; }
int emgmm_model_structure(const emgmm_model *m) { return m ? m->structure : -1; }
void emgmm_model_inner_report(const emgmm_model *m, int *failures, int *max_iter)
{
    if (failures) *failures = m ? m->inner_failures : 0;
    if (max_iter) *max_iter = m ? m->inner_max : 0;
}
int emgmm_model_is_fitted(const emgmm_model *m) { return m ? m->fitted : 0; }
const double *emgmm_model_weights(const emgmm_model *m) { return m ? m->weights : NULL; }
const double *emgmm_model_means(const emgmm_model *m) { return m ? m->means : NULL; }
const double *emgmm_model_covariances(const emgmm_model *m) { return m ? m->covariances : NULL; }
size_t emgmm_model_covariances_size(const emgmm_model *m) { return m ? m->cov_len : 0; }
const double *emgmm_model_precisions_cholesky(const emgmm_model *m) { return m ? m->prec_chol : NULL; }
int emgmm_model_converged(const emgmm_model *m) { return m ? m->converged : 0; }
int emgmm_model_n_iter(const emgmm_model *m) { return m ? m->n_iter : 0; }
int emgmm_model_best_init(const emgmm_model *m) { return m ? m->best_init : 0; }
void emgmm_model_set_n_threads(emgmm_model *m, int t)
{
    if (m) m->n_threads = t > 0 ? t : 0;
}

int emgmm_model_set_missing(emgmm_model *m, int policy)
{
    if (!m) return EMGMM_ERR_NULL;
    if (policy < EMGMM_MISSING_ERROR || policy > EMGMM_MISSING_DROP_EMPTY)
        return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "unknown missing-value policy %d", policy);
    m->missing = policy;
    return EMGMM_OK;
}

int emgmm_model_missing(const emgmm_model *m)
{
    return m ? m->missing : EMGMM_MISSING_ERROR;
}

double emgmm_model_lower_bound(const emgmm_model *m)
{
    if (!m || m->n_iter <= 0 || !m->lb_hist) return -INFINITY;
    return m->lb_hist[m->n_iter - 1];
}

const double *emgmm_model_lower_bounds(const emgmm_model *m, int *count)
{
    if (count) *count = m ? m->n_iter : 0;
    return m ? m->lb_hist : NULL;
}

long emgmm_model_n_parameters(const emgmm_model *m)
{
    if (!m) return 0;
    long K = m->K, d = m->d, cov;
    if (m->structure >= EMGMM_COV_EII) return emgmm_mclust_n_parameters(m->structure, m->K, m->d);
    switch (m->cov_type) {
    case EMGMM_COV_FULL: cov = K * d * (d + 1) / 2; break;
    case EMGMM_COV_TIED: cov = d * (d + 1) / 2; break;
    case EMGMM_COV_DIAG: cov = K * d; break;
    default: cov = K; break;
    }
    return cov + K * d + K - 1;
}

int emgmm_model_set_fit_state(emgmm_model *m, const double *lb, int n_iter, int converged)
{
    if (!m || (n_iter > 0 && !lb)) return EMGMM_ERR_NULL;
    if (n_iter < 0) return EMGMM_ERR_INVALID_PARAM;
    if (!m->fitted) return emgmm_fail(m, EMGMM_ERR_NOT_FITTED, "set the parameters before the fit state");
    if (n_iter > m->lb_cap) {
        double *h = realloc(m->lb_hist, (size_t)n_iter * sizeof(double));
        if (!h) return EMGMM_ERR_ALLOC;
        m->lb_hist = h;
        m->lb_cap = n_iter;
    }
    if (n_iter > 0) memcpy(m->lb_hist, lb, (size_t)n_iter * sizeof(double));
    m->n_iter = n_iter;
    m->converged = converged ? 1 : 0;
    m->n_reseeds = 0; /* restored after this by emgmm_model_add_reseed_event */
    m->n_passes = n_iter; /* an accelerated fit's count: emgmm_model_set_accel_state */
    emgmm_accel_reset(m);
    return EMGMM_OK;
}
