/* driver.c — the EM driver: a fit's initialisations (n_init restarts, or the
 * search over starts of search.c), each run to convergence (run.c), the best
 * kept.  Works on input core/ has checked.  One run is in run.c, one EM step
 * in step.c, the data pass in pass*.c, the M-step finish in src/family/ (under
 * the fit's policies in degenerate.c), the initialisations in src/init/. */
#include <math.h>
#include <stdlib.h>

#include "src/em/driver.h"
#include "src/em/search.h"

int emgmm_driver_init(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream)
{
    if (p->init == EMGMM_INIT_EMEM) return emgmm_search_emem(m, p, X, stream); /* search.c */
    if (p->init == EMGMM_INIT_SMEM) return emgmm_search_smem(m, p, X, stream, NULL, 0, NULL);
    return emgmm_run_init(m, p, X, stream);
}

/* Memory (issue 22): the iterations may use the model's covariance buffer for
 * their statistics (emgmm_run_iterate_in_fit), since a failure restores the
 * snapshot taken here; with one initialisation its run is the result, so no
 * snapshot of the best is taken. */
int emgmm_driver_fit(emgmm_model *m, const emgmm_params *p, const emgmm_data *X)
{
    int st = emgmm_run_ensure_history(m, p->max_iter);
    if (st == EMGMM_OK) st = emgmm_reseed_reserve(m);
    if (st) return st;
    const int keep_best = p->n_init > 1;
    void *orig = emgmm_run_snap_new(m), *best = keep_best ? emgmm_run_snap_new(m) : NULL;
    if (!orig || (keep_best && !best)) {
        emgmm_run_snap_free(orig);
        emgmm_run_snap_free(best);
        return EMGMM_ERR_ALLOC;
    }
    emgmm_run_snap_take(orig, m);
    double best_lb = -INFINITY;
    int have_best = 0;
    for (int r = 0; r < p->n_init && st == EMGMM_OK; r++) {
        /* the first run starts from the model as taken */
        if (p->init == EMGMM_INIT_USER && r > 0) emgmm_run_snap_restore(orig, m);
        st = emgmm_driver_init(m, p, X, (uint64_t)r);
        emgmm_fixed_point fp = {0, 0, 0}; /* no passes once EM is at its fixed point */
        while (st == EMGMM_OK && m->n_iter < p->max_iter) {
            st = emgmm_run_iterate_in_fit(m, p, X, &fp);
            if (st == EMGMM_OK && emgmm_run_converged(m, p->tol)) break;
        }
        if (st) break;
        const double lb = emgmm_run_lower_bound(m);
        if (!have_best || lb > best_lb) {
            if (keep_best) emgmm_run_snap_take(best, m);
            m->best_init = r;
            best_lb = lb;
            have_best = 1;
        }
    }
    if (st)
        emgmm_run_snap_restore(orig, m);
    else if (keep_best)
        emgmm_run_snap_restore(best, m);
    emgmm_run_snap_free(orig);
    emgmm_run_snap_free(best);
    return st;
}
