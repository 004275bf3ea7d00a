/* step.c — one EM step: the E-step pass with the M-step statistics at the
 * model's parameters, their sum over the ranks, and the M-step finish under
 * the fit's policies (degenerate.c), without committing the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist/dist.h"
#include "src/em/driver.h"
#include "src/em/pass.h"

/* Sum of the sample weights (n when there are none). */
static double weight_sum(const emgmm_data *X)
{
    if (!X->weights) return (double)X->n;
    double s = 0.0;
    for (size_t i = 0; i < X->n; i++) s += X->weights[i];
    return s;
}

int emgmm_em_step(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                  emgmm_paramset *next, double *lb_out)
{
    emgmm_stats stats;
    int st = emgmm_stats_init(&stats, m->K, m->d, m->cov_type);
    if (st) return st;
    double *shift = malloc((size_t)m->K * m->d * sizeof(double));
    if (!shift) st = EMGMM_ERR_ALLOC;
    double ll = 0.0, dropped = 0.0;
    if (st == EMGMM_OK) {
        memcpy(shift, m->means, (size_t)m->K * m->d * sizeof(double));
        emgmm_pass pass = {0};
        pass.mode = EMGMM_PASS_ESTEP;
        pass.missing = p->missing;
        pass.shift = shift;
        pass.stats = &stats;
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
    st = emgmm_dist_allreduce_stats(m, &stats, &wsum, st);
    if (st == EMGMM_OK && emgmm_dist_active(m)) ll = stats.loglik;
    if (st == EMGMM_OK && !isfinite(ll))
        st = emgmm_fail(m, EMGMM_ERR_NONFINITE, "the log-likelihood is not finite (data with NaN or Inf?)");
    if (st == EMGMM_OK) st = emgmm_mstep_finish(m, p, X, &stats, shift, next, m->n_iter + 1);
    if (st == EMGMM_OK) *lb_out = ll / wsum;
    free(shift);
    emgmm_stats_free(&stats);
    return st;
}

