/* init.c — initialisations: k-means (default), k-means++ centres, random
 * responsibilities, random rows, given responsibilities (resp.c).  k-means++
 * and random rows give parameters here (covariances reg_covar·I); k-means and
 * random responsibilities name the statistics pass the driver then runs, and
 * the driver's M-step finish gives their parameters, so the initial
 * covariances carry reg_covar (and the fit's policies) like every later one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist/dist.h"
#include "src/family/family.h"
#include "src/init/init.h"

/* Means at the given centres, covariances reg_covar·I, equal weights — what
 * scikit-learn's 'k-means++' and 'random_from_data' give (one-hot
 * responsibilities on single rows). */
static int params_at_centres(emgmm_model *m, const double *centres, double reg, emgmm_paramset *out)
{
    const int K = m->K, d = m->d;
    memcpy(out->means, centres, (size_t)K * d * sizeof(double));
    emgmm_family_scaled_identity(m->cov_type, K, d, reg, out->covariances);
    for (int k = 0; k < K; k++) out->weights[k] = 1.0 / K;
    int bad = -1;
    int st = emgmm_family_precisions(m->cov_type, K, d, out->covariances, out->prec_chol,
                                     out->log_det, &bad);
    if (st == EMGMM_ERR_NOT_PD) {
        m->err_comp = bad;
        return emgmm_fail(m, EMGMM_ERR_NOT_PD,
                          "initial covariances reg_covar·I are not positive definite "
                          "(reg_covar=%g); use reg_covar > 0 with this init",
                          reg);
    }
    return st;
}

static void column_sums(const emgmm_data *X, double *sum)
{
    const size_t n = X->n, d = X->d;
    memset(sum, 0, d * sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            sum[j] += X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * X->ld + j]
                                            : (double)((const float *)X->x)[i * X->ld + j];
}

static void column_means(const emgmm_data *X, double *mean)
{
    column_sums(X, mean);
    for (size_t j = 0; j < X->d; j++) mean[j] /= (double)X->n;
}

/* random_from_data: K distinct rows (global indices when distributed) as
 * centres [K][d].  Distributed, every rank draws the same K global row
 * indices from the same generator; the rank holding a row contributes it and
 * the others zeros, so one all-reduce gives every rank the centres. */
static int rows_as_centres(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, size_t *idx,
                           double *centres)
{
    const int K = m->K, d = m->d;
    const int dist = emgmm_dist_active(m);
    double nglob = (double)X->n;
    int st = emgmm_dist_sum(m, &nglob, 1, EMGMM_OK);
    if (st) return st;
    const size_t N = (size_t)nglob, row0 = (size_t)emgmm_dist_row_offset(m);
    /* K distinct rows by Floyd's sampling: no O(n) memory. */
    for (int k = 0; k < K; k++) {
        size_t j = (size_t)K - 1 - (size_t)k; /* sample from [0, n − K + k] */
        size_t range = N - j;
        size_t t = (size_t)(emgmm_rng_uniform(rng) * (double)range);
        if (t >= range) t = range - 1;
        for (int q = 0; q < k; q++)
            if (idx[q] == t) {
                t = range - 1;
                break;
            }
        idx[k] = t;
    }
    for (int k = 0; k < K; k++) {
        const int mine = idx[k] >= row0 && idx[k] - row0 < X->n;
        const size_t r = idx[k] - row0;
        for (int j = 0; j < d; j++)
            centres[(size_t)k * d + j] = !mine ? 0.0
                                         : X->dtype == EMGMM_F64
                                             ? ((const double *)X->x)[r * X->ld + (size_t)j]
                                             : (double)((const float *)X->x)[r * X->ld + (size_t)j];
    }
    if (dist) st = emgmm_dist_sum(m, centres, (size_t)K * d, st);
    return st;
}

void emgmm_start_free(emgmm_start *start)
{
    free(start->centres);
    emgmm_stats_free(&start->stats);
    start->centres = NULL;
}

int emgmm_init_kmeans_centres(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                              uint64_t stream, double *centres)
{
    emgmm_rng rng;
    emgmm_rng_seed(&rng, p->seed, stream);
    if (emgmm_dist_active(m)) /* k-means|| instead of the sequential k-means++ */
        return emgmm_dist_kmeans_par(m, X, &rng, p->n_threads, p->kmeans_max_iter, p->kmeans_tol,
                                     centres);
    size_t *idx = malloc((size_t)m->K * sizeof(size_t));
    if (!idx) return EMGMM_ERR_ALLOC;
    int st = emgmm_kmeanspp(m, X, &rng, p->n_threads, centres, idx);
    if (st == EMGMM_OK)
        st = emgmm_kmeans_lloyd(m, X, p->kmeans_max_iter, p->kmeans_tol, p->n_threads, centres,
                                NULL);
    free(idx);
    return st;
}

/* init 'kmeans' with its centres given: set STREAM of p->init_centres [n_init][K][d]. */
static int given_centres(emgmm_model *m, const emgmm_params *p, uint64_t stream, double *centres)
{
    const size_t Kd = (size_t)m->K * (size_t)m->d;
    if (stream >= (uint64_t)p->n_init)
        return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM,
                          "init_centres holds the centres of n_init=%d initialisations; "
                          "initialisation %llu has none",
                          p->n_init, (unsigned long long)stream);
    const double *c = p->init_centres + (size_t)stream * Kd;
    for (size_t i = 0; i < Kd; i++)
        if (!isfinite(c[i]))
            return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM,
                              "init_centres: centre %zu of initialisation %llu is not finite",
                              i / (size_t)m->d, (unsigned long long)stream);
    memcpy(centres, c, Kd * sizeof(double));
    return EMGMM_OK;
}

int emgmm_init_start(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream,
                     emgmm_start *start, emgmm_paramset *out)
{
    const int K = m->K, d = m->d;
    memset(start, 0, sizeof *start);
    if (p->init == EMGMM_INIT_RESP) return emgmm_init_from_resp(m, p, X, start);
    emgmm_rng rng;
    emgmm_rng_seed(&rng, p->seed, stream);
    double *centres = malloc(((size_t)K * d + 1) * sizeof(double)); /* + 1: random's row count */
    size_t *idx = malloc((size_t)K * sizeof(size_t));
    if (!centres || !idx) {
        free(centres);
        free(idx);
        return EMGMM_ERR_ALLOC;
    }
    start->centres = centres;
    int st = EMGMM_OK;
    if (emgmm_dist_active(m) && p->init == EMGMM_INIT_KMEANSPP) {
        /* Distributed: k-means|| instead of the sequential k-means++, then
         * the same ending as below. */
        st = emgmm_dist_kmeans_par(m, X, &rng, p->n_threads, 0, p->kmeans_tol, centres);
        if (st == EMGMM_OK) st = params_at_centres(m, centres, p->reg_covar, out);
        free(idx);
        return st;
    }
    switch (p->init) {
    case EMGMM_INIT_KMEANS:
        /* the caller's copy of this very k-means (emgmm_kmeans_centres), or a run of it */
        st = p->init_centres ? given_centres(m, p, stream, centres)
                             : emgmm_init_kmeans_centres(m, p, X, stream, centres);
        if (st == EMGMM_OK) start->kind = EMGMM_START_LABELS;
        break;
    case EMGMM_INIT_KMEANSPP:
        st = emgmm_kmeanspp(m, X, &rng, p->n_threads, centres, idx);
        if (st == EMGMM_OK) st = params_at_centres(m, centres, p->reg_covar, out);
        break;
    case EMGMM_INIT_RANDOM_FROM_DATA:
        st = rows_as_centres(m, X, &rng, idx, centres);
        if (st == EMGMM_OK) st = params_at_centres(m, centres, p->reg_covar, out);
        break;
    case EMGMM_INIT_RANDOM: {
        /* The shift is the mean of all ranks' rows, and the pass hashes the
         * global row index (the model's row offset), so any split of the rows
         * gives the responsibilities of one process. */
        if (emgmm_dist_active(m)) {
            column_sums(X, centres);
            centres[d] = (double)X->n;
            st = emgmm_dist_sum(m, centres, (size_t)d + 1, st);
            if (st) break;
            for (int j = 0; j < d; j++) centres[j] /= centres[d];
        } else {
            column_means(X, centres);
        }
        for (int k = 1; k < K; k++)
            memcpy(centres + (size_t)k * d, centres, (size_t)d * sizeof(double));
        start->kind = EMGMM_START_RANDOM;
        start->seed = emgmm_rng_next(&rng);
        break;
    }
    default: st = EMGMM_ERR_INVALID_PARAM; break;
    }
    free(idx);
    return st;
}
