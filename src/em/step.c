/* step.c — one EM step: the E-step pass with the M-step statistics at the
 * model's parameters, their sum over the ranks, and the M-step finish under
 * the fit's policies (degenerate.c), without committing the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist/dist.h"
#include "src/em/driver.h"
#include "src/em/pass.h"
#include "src/family/family.h"

/* Sum of the sample weights (n when there are none). */
static double weight_sum(const emgmm_data *X)
{
    if (!X->weights) return (double)X->n;
    double s = 0.0;
    for (size_t i = 0; i < X->n; i++) s += X->weights[i];
    return s;
}

/* The pass at the model's parameters into stats (zeroed by the pass), their
 * sum over the ranks, the mean log-likelihood and the M-step finish into next. */
static int step_into(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, emgmm_stats *stats,
                     emgmm_paramset *next, double *lb_out)
{
    int st = EMGMM_OK;
    double *shift = malloc((size_t)m->K * m->d * sizeof(double));
    if (!shift) st = EMGMM_ERR_ALLOC;
    double ll = 0.0, dropped = 0.0;
    if (st == EMGMM_OK) {
        memcpy(shift, m->means, (size_t)m->K * m->d * sizeof(double));
        emgmm_pass pass = {0};
        pass.mode = EMGMM_PASS_ESTEP;
        pass.missing = p->missing;
        pass.shift = shift;
        pass.stats = stats;
        pass.loglik_sum = &ll;
        pass.dropped = &dropped;
        pass.n_threads = p->n_threads;
        pass.block_size = (size_t)p->block_size;
        pass.params = p;
        st = emgmm_pass_run_model(m, &pass, X);
        m->n_passes++;
    }
    /* The reduction seam: across ranks when distributed, else nothing.
     * Rows dropped for having nothing observed carry no weight. */
    double wsum = weight_sum(X) - dropped;
    st = emgmm_dist_allreduce_stats(m, stats, &wsum, st);
    if (st == EMGMM_OK && emgmm_dist_active(m)) ll = stats->loglik;
    if (st == EMGMM_OK && !isfinite(ll))
        st = emgmm_fail(m, EMGMM_ERR_NONFINITE,
                        "the log-likelihood is not finite (data with NaN or Inf?)");
    if (st == EMGMM_OK) st = emgmm_mstep_finish(m, p, X, stats, shift, next, m->n_iter + 1);
    if (st == EMGMM_OK) *lb_out = ll / wsum;
    free(shift);
    return st;
}

int emgmm_em_step(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, emgmm_paramset *next,
                  double *lb_out)
{
    emgmm_stats stats;
    int st = emgmm_stats_init(&stats, m->K, m->d, m->cov_type);
    if (st) return st;
    st = step_into(m, p, X, &stats, next, lb_out);
    emgmm_stats_free(&stats);
    return st;
}

/* The plain full family finishes in place (a reseed takes the data's moments
 * from the statistics before the finish: degenerate.c). */
static int in_place(const emgmm_model *m)
{
    return m->structure < EMGMM_COV_EII && m->cov_type == EMGMM_COV_FULL;
}

/* The model's precision factors and log-dets from its covariances, after an
 * in-place finish that failed part way (the error recorded stays). */
static void restore_precisions(emgmm_model *m)
{
    (void)emgmm_family_precisions(m->cov_type, m->K, m->d, m->covariances, m->prec_chol, m->log_det,
                                  NULL);
}

/* Square matrices of order d, nf of them: exactly symmetric (bit for bit)? */
static int symmetric(const double *c, size_t nf, size_t d)
{
    for (size_t f = 0; f < nf; f++, c += d * d)
        for (size_t i = 0; i < d; i++)
            for (size_t j = i + 1; j < d; j++)
                if (memcmp(c + i * d + j, c + j * d + i, sizeof(double)) != 0) return 0;
    return 1;
}

int emgmm_cov_keep(const emgmm_model *m, double *dst)
{
    const size_t d = (size_t)m->d;
    const size_t nf = m->cov_type == EMGMM_COV_FULL ? (size_t)m->K : 1;
    const int square = m->cov_type == EMGMM_COV_FULL || m->cov_type == EMGMM_COV_TIED;
    if (!square || !symmetric(m->covariances, nf, d)) {
        memcpy(dst, m->covariances, m->cov_len * sizeof(double));
        return 0;
    }
    for (size_t f = 0; f < nf; f++)
        for (size_t i = 0; i < d; i++) {
            memcpy(dst, m->covariances + f * d * d + i * d + i, (d - i) * sizeof(double));
            dst += d - i;
        }
    return 1;
}

void emgmm_cov_put_back(emgmm_model *m, const double *src, int packed)
{
    const size_t d = (size_t)m->d;
    const size_t nf = m->cov_type == EMGMM_COV_FULL ? (size_t)m->K : 1;
    if (!packed) {
        memcpy(m->covariances, src, m->cov_len * sizeof(double));
        return;
    }
    for (size_t f = 0; f < nf; f++) {
        double *c = m->covariances + f * d * d;
        for (size_t i = 0; i < d; i++) {
            memcpy(c + i * d + i, src, (d - i) * sizeof(double));
            for (size_t j = i + 1; j < d; j++) c[j * d + i] = src[j - i];
            src += d - i;
        }
    }
}

/* What a failed step of emgmm_fit_iterate needs to put the model's
 * covariances back.  The step writes only their upper triangles (the pass's
 * s2, then the finish's; the finish mirrors them only when it succeeds), so
 * an exactly symmetric covariance keeps its old values in its lower triangle
 * and only the diagonal is kept apart (K·d doubles); any other is copied
 * whole. */
typedef struct {
    double *kept;
    int whole;
} cov_backup;

static int backup_take(const emgmm_model *m, cov_backup *b)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    b->whole = !symmetric(m->covariances, K, d);
    b->kept = malloc((b->whole ? m->cov_len : K * d) * sizeof(double));
    if (!b->kept) return EMGMM_ERR_ALLOC;
    if (b->whole) {
        memcpy(b->kept, m->covariances, m->cov_len * sizeof(double));
    } else {
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < d; i++) b->kept[k * d + i] = m->covariances[(k * d + i) * d + i];
    }
    return EMGMM_OK;
}

static void backup_put_back(emgmm_model *m, const cov_backup *b)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    if (b->whole) {
        memcpy(m->covariances, b->kept, m->cov_len * sizeof(double));
        return;
    }
    for (size_t k = 0; k < K; k++) {
        double *c = m->covariances + k * d * d;
        for (size_t i = 0; i < d; i++) {
            c[i * d + i] = b->kept[k * d + i];
            for (size_t j = i + 1; j < d; j++) c[i * d + j] = c[j * d + i];
        }
    }
}

int emgmm_em_step_commit(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, double *lb,
                         int keep)
{
    if (!in_place(m)) {
        emgmm_paramset next;
        int st = emgmm_paramset_alloc(&next, m->K, m->d, m->cov_len);
        if (st) return st;
        st = emgmm_em_step(m, p, X, &next, lb);
        if (st == EMGMM_OK) emgmm_paramset_to_model(m, &next);
        emgmm_paramset_free(&next);
        return st;
    }
    /* The statistics' s2 is the model's covariance buffer, and the finish
     * writes the next covariances over it (emgmm_full_finish reads the upper
     * triangle of row i before it writes it) and the factors over the
     * model's (the pass, the only reader of the old ones, is over by then).
     * keep = 1: what a failure needs to put the covariances back is kept
     * first (cov_backup), and the factors are recomputed from them. */
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    emgmm_stats stats = {m->K, m->d, d * d, NULL, NULL, m->covariances, 0.0};
    emgmm_paramset next = {0};
    cov_backup kept = {NULL, 0};
    stats.nk = calloc(K, sizeof(double));
    stats.s1 = calloc(K * d, sizeof(double));
    next.weights = calloc(K, sizeof(double));
    next.means = calloc(K * d, sizeof(double));
    next.log_det = calloc(K, sizeof(double));
    next.covariances = stats.s2;
    next.prec_chol = m->prec_chol;
    int st = stats.nk && stats.s1 && next.weights && next.means && next.log_det ? EMGMM_OK
                                                                                : EMGMM_ERR_ALLOC;
    if (st == EMGMM_OK && keep) st = backup_take(m, &kept);
    if (st == EMGMM_OK) st = step_into(m, p, X, &stats, &next, lb);
    if (st == EMGMM_OK) {
        memcpy(m->weights, next.weights, K * sizeof(double));
        memcpy(m->means, next.means, K * d * sizeof(double));
        memcpy(m->log_det, next.log_det, K * sizeof(double));
    } else if (kept.kept) {
        backup_put_back(m, &kept);
        restore_precisions(m);
    }
    free(kept.kept);
    free(stats.nk);
    free(stats.s1);
    free(next.weights);
    free(next.means);
    free(next.log_det);
    return st;
}
