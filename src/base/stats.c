/* stats.c — the containers every layer passes around: the sufficient
 * statistics of a pass and a parameter set held apart from a model. */
#include <stdlib.h>
#include <string.h>

#include "src/base/base.h"

size_t emgmm_stats_s2_len(int cov_type, int d)
{
    return (cov_type == EMGMM_COV_FULL || cov_type == EMGMM_COV_TIED) ? (size_t)d * (size_t)d
                                                                      : (size_t)d;
}

size_t emgmm_cov_len(int cov_type, int K, int d)
{
    size_t k = (size_t)K, dd = (size_t)d;
    switch (cov_type) {
    case EMGMM_COV_FULL: return k * dd * dd;
    case EMGMM_COV_TIED: return dd * dd;
    case EMGMM_COV_DIAG: return k * dd;
    case EMGMM_COV_SPHERICAL: return k;
    default: return 0;
    }
}

int emgmm_paramset_alloc(emgmm_paramset *p, int K, int d, size_t cov_len)
{
    memset(p, 0, sizeof *p);
    p->weights = calloc((size_t)K, sizeof(double));
    p->means = calloc((size_t)K * (size_t)d, sizeof(double));
    p->covariances = emgmm_calloc_big(cov_len, sizeof(double));
    p->prec_chol = emgmm_calloc_big(cov_len, sizeof(double));
    p->log_det = calloc((size_t)K, sizeof(double));
    if (!p->weights || !p->means || !p->covariances || !p->prec_chol || !p->log_det) {
        emgmm_paramset_free(p);
        return EMGMM_ERR_ALLOC;
    }
    return EMGMM_OK;
}

void emgmm_paramset_free(emgmm_paramset *p)
{
    if (!p) return;
    free(p->weights);
    free(p->means);
    free(p->covariances);
    free(p->prec_chol);
    free(p->log_det);
    memset(p, 0, sizeof *p);
}

void emgmm_paramset_from_model(emgmm_paramset *dst, const emgmm_model *m)
{
    size_t K = (size_t)m->K, d = (size_t)m->d;
    memcpy(dst->weights, m->weights, K * sizeof(double));
    memcpy(dst->means, m->means, K * d * sizeof(double));
    memcpy(dst->covariances, m->covariances, m->cov_len * sizeof(double));
    memcpy(dst->prec_chol, m->prec_chol, m->cov_len * sizeof(double));
    memcpy(dst->log_det, m->log_det, K * sizeof(double));
}

void emgmm_paramset_to_model(emgmm_model *m, const emgmm_paramset *src)
{
    size_t K = (size_t)m->K, d = (size_t)m->d;
    memcpy(m->weights, src->weights, K * sizeof(double));
    memcpy(m->means, src->means, K * d * sizeof(double));
    memcpy(m->covariances, src->covariances, m->cov_len * sizeof(double));
    memcpy(m->prec_chol, src->prec_chol, m->cov_len * sizeof(double));
    memcpy(m->log_det, src->log_det, K * sizeof(double));
}

int emgmm_stats_init(emgmm_stats *s, int K, int d, int cov_type)
{
    memset(s, 0, sizeof *s);
    s->K = K;
    s->d = d;
    s->s2_len = emgmm_stats_s2_len(cov_type, d);
    s->nk = calloc((size_t)K, sizeof(double));
    s->s1 = calloc((size_t)K * (size_t)d, sizeof(double));
    s->s2 = emgmm_calloc_big((size_t)K * s->s2_len, sizeof(double));
    if (!s->nk || !s->s1 || !s->s2) {
        emgmm_stats_free(s);
        return EMGMM_ERR_ALLOC;
    }
    return EMGMM_OK;
}

void emgmm_stats_free(emgmm_stats *s)
{
    if (!s) return;
    free(s->nk);
    free(s->s1);
    free(s->s2);
    s->nk = s->s1 = s->s2 = NULL;
}

/* s2 of the full and tied families is valid in its upper triangle only (the
 * pass, the reductions and every finish touch no other entry), and zero and
 * add leave the lower triangle as it is: the step of emgmm_fit_iterate
 * keeps the old covariances there (src/em/step.c). */
static int s2_square(const emgmm_stats *s)
{
    return s->s2_len == (size_t)s->d * (size_t)s->d && s->d > 1;
}

void emgmm_stats_zero(emgmm_stats *s)
{
    const size_t K = (size_t)s->K, d = (size_t)s->d;
    memset(s->nk, 0, K * sizeof(double));
    memset(s->s1, 0, K * d * sizeof(double));
    if (s2_square(s)) {
        for (size_t k = 0; k < K; k++)
            for (size_t a = 0; a < d; a++)
                memset(s->s2 + k * d * d + a * d + a, 0, (d - a) * sizeof(double));
    } else {
        memset(s->s2, 0, K * s->s2_len * sizeof(double));
    }
    s->loglik = 0.0;
}

void emgmm_stats_add(emgmm_stats *dst, const emgmm_stats *src)
{
    size_t K = (size_t)dst->K, d = (size_t)dst->d;
    for (size_t i = 0; i < K; i++) dst->nk[i] += src->nk[i];
    for (size_t i = 0; i < K * d; i++) dst->s1[i] += src->s1[i];
    if (s2_square(dst)) {
        for (size_t k = 0; k < K; k++)
            for (size_t a = 0; a < d; a++)
                for (size_t b = a; b < d; b++)
                    dst->s2[k * d * d + a * d + b] += src->s2[k * d * d + a * d + b];
    } else {
        for (size_t i = 0; i < K * dst->s2_len; i++) dst->s2[i] += src->s2[i];
    }
    dst->loglik += src->loglik;
}
