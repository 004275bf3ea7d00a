/* predict.c — using a fitted model: labels, responsibilities, per-sample
 * log-densities, mean score, BIC/AIC, and sampling. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/core.h"
#include "src/em/pass.h"
#include "src/family/family.h"
#include "src/linalg/linalg.h"

static int run_estep(emgmm_model *m, const emgmm_data *X, int32_t *labels, double *resp,
                     double *logdens, double *llsum, double *entropy)
{
    if (!m || !X) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (!m->fitted) return emgmm_fail(m, EMGMM_ERR_NOT_FITTED, "the model has no parameters");
    int st = emgmm_check_data(m, X, m->n_threads, m->missing);
    if (st) return st;
    if (X->n == 0) {
        if (llsum) *llsum = 0.0;
        if (entropy) *entropy = 0.0;
        return EMGMM_OK;
    }
    emgmm_pass pass = {0};
    pass.mode = EMGMM_PASS_ESTEP;
    pass.missing = m->missing;
    pass.n_threads = m->n_threads;
    pass.labels = labels;
    pass.resp = resp;
    pass.logdens = logdens;
    pass.loglik_sum = llsum;
    pass.hard_entropy = entropy;
    return emgmm_pass_run_model(m, &pass, X);
}

int emgmm_predict(emgmm_model *m, const emgmm_data *X, int32_t *labels)
{
    if (!labels) return EMGMM_ERR_NULL;
    return run_estep(m, X, labels, NULL, NULL, NULL, NULL);
}

int emgmm_predict_proba(emgmm_model *m, const emgmm_data *X, double *resp)
{
    if (!resp) return EMGMM_ERR_NULL;
    return run_estep(m, X, NULL, resp, NULL, NULL, NULL);
}

int emgmm_score_samples(emgmm_model *m, const emgmm_data *X, double *logdens)
{
    if (!logdens) return EMGMM_ERR_NULL;
    return run_estep(m, X, NULL, NULL, logdens, NULL, NULL);
}

/* Rows with at least one observed (non-NaN) value. */
static size_t count_observed_rows(const emgmm_data *X)
{
    size_t n = 0;
    for (size_t i = 0; i < X->n; i++) {
        size_t j = 0;
        if (X->dtype == EMGMM_F32) {
            const float *r = (const float *)X->x + i * X->ld;
            while (j < X->d && isnan(r[j])) j++;
        } else {
            const double *r = (const double *)X->x + i * X->ld;
            while (j < X->d && isnan(r[j])) j++;
        }
        n += j < X->d;
    }
    return n;
}

int emgmm_n_scored(const emgmm_model *m, const emgmm_data *X, size_t *n)
{
    if (!m || !X || !n || (!X->x && X->n > 0)) return EMGMM_ERR_NULL;
    *n = m->missing == EMGMM_MISSING_DROP_EMPTY ? count_observed_rows(X) : X->n;
    return EMGMM_OK;
}

/* emgmm_score, and with entropy ICL's term from the same pass. */
static int score_pass(emgmm_model *m, const emgmm_data *X, double *mean_loglik, double *entropy)
{
    if (!mean_loglik) return EMGMM_ERR_NULL;
    double s = 0.0;
    int st = run_estep(m, X, NULL, NULL, NULL, &s, entropy);
    if (st) return st;
    size_t n = X->n;
    emgmm_n_scored(m, X, &n);
    if (n == 0) return emgmm_fail(m, EMGMM_ERR_TOO_FEW_SAMPLES, "no samples to score");
    *mean_loglik = s / (double)n;
    return EMGMM_OK;
}

int emgmm_score(emgmm_model *m, const emgmm_data *X, double *mean_loglik)
{
    return score_pass(m, X, mean_loglik, NULL);
}

int emgmm_score_entropy(emgmm_model *m, const emgmm_data *X, double *mean_loglik, double *entropy)
{
    if (!entropy) return EMGMM_ERR_NULL;
    return score_pass(m, X, mean_loglik, entropy);
}

static int criterion(emgmm_model *m, const emgmm_data *X, double penalty_per_param, double *out)
{
    if (!out) return EMGMM_ERR_NULL;
    double mean;
    int st = emgmm_score(m, X, &mean);
    if (st) return st;
    size_t n = X->n;
    emgmm_n_scored(m, X, &n);
    double pen = penalty_per_param > 0 ? penalty_per_param : log((double)n);
    *out = -2.0 * mean * (double)n + pen * (double)emgmm_model_n_parameters(m);
    return EMGMM_OK;
}

int emgmm_bic(emgmm_model *m, const emgmm_data *X, double *bic)
{
    return criterion(m, X, 0.0, bic);
}
int emgmm_aic(emgmm_model *m, const emgmm_data *X, double *aic)
{
    return criterion(m, X, 2.0, aic);
}

int emgmm_sample(emgmm_model *m, size_t n, uint64_t seed, double *x, int32_t *comp)
{
    if (!m || (!x && n > 0)) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (!m->fitted) return emgmm_fail(m, EMGMM_ERR_NOT_FITTED, "the model has no parameters");
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    const int type = m->cov_type;
    /* Square-root factors in the covariance's own shape: Cholesky factors for
     * full/tied, standard deviations for diag/spherical. */
    double *L = malloc(m->cov_len * sizeof(double));
    double *z = malloc(d * sizeof(double));
    if (!L || !z) {
        free(L);
        free(z);
        return EMGMM_ERR_ALLOC;
    }
    memcpy(L, m->covariances, m->cov_len * sizeof(double));
    const size_t nmat = type == EMGMM_COV_FULL ? K : (type == EMGMM_COV_TIED ? 1 : 0);
    for (size_t k = 0; k < nmat; k++) {
        if (emgmm_dpotrf_lower((int)d, L + k * d * d) != 0) {
            free(L);
            free(z);
            m->err_comp = (int)k;
            return emgmm_fail(m, EMGMM_ERR_NOT_PD,
                              "covariance of component %zu is not positive definite", k);
        }
    }
    if (nmat == 0)
        for (size_t i = 0; i < m->cov_len; i++) L[i] = sqrt(L[i]);
    emgmm_rng rng;
    emgmm_rng_seed(&rng, seed, 0);
    for (size_t i = 0; i < n; i++) {
        double u = emgmm_rng_uniform(&rng), acc = 0.0;
        size_t k = K - 1;
        for (size_t q = 0; q < K; q++) {
            acc += m->weights[q];
            if (u < acc) {
                k = q;
                break;
            }
        }
        for (size_t j = 0; j < d; j++) z[j] = emgmm_rng_normal(&rng);
        for (size_t a = 0; a < d; a++) {
            double s = m->means[k * d + a];
            if (nmat > 0) {
                const double *Lk = L + (type == EMGMM_COV_FULL ? k * d * d : 0);
                for (size_t b = 0; b <= a; b++) s += Lk[a * d + b] * z[b];
            } else {
                s += (type == EMGMM_COV_DIAG ? L[k * d + a] : L[k]) * z[a];
            }
            x[i * d + a] = s;
        }
        if (comp) comp[i] = (int32_t)k;
    }
    free(L);
    free(z);
    return EMGMM_OK;
}

/* ICL (mclust's icl(), sign of emgmm_bic): −2 log L + p log n + 2 Σ_i −log max_k r_ik,
 * unweighted (X's weights are not used), the log-likelihood and the entropy
 * from one E-step pass (emgmm_score_entropy's). */
int emgmm_icl(emgmm_model *m, const emgmm_data *X, double *icl)
{
    if (!icl || !m || !X) return EMGMM_ERR_NULL;
    if (X->n == 0) return emgmm_fail(m, EMGMM_ERR_TOO_FEW_SAMPLES, "no samples to score");
    emgmm_data Xu = *X;
    Xu.weights = NULL;
    double ll = 0.0, ent = 0.0;
    const int st = run_estep(m, &Xu, NULL, NULL, NULL, &ll, &ent);
    if (st) return st;
    *icl = -2.0 * ll + log((double)X->n) * (double)emgmm_model_n_parameters(m) + 2.0 * ent;
    return EMGMM_OK;
}
