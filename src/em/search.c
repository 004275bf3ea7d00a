/* search.c — the 'emem' initialisation: Biernacki, Celeux & Govaert's em-EM
 * (2003).  Many short EM runs from cheap, different k-means starts; the run
 * with the best lower bound is kept and the driver runs EM on from it.
 *
 * Why it finds better optima than k-means with restarts at a fraction of the
 * cost: a start's basin shows after a few EM iterations (the lower bound's
 * ranking of runs rarely changes after that), so S short runs of L iterations
 * choose among S basins for about S·(L + Lloyd's few passes) data passes, where
 * S full restarts cost S times a whole fit.  Each short run's start is k-means++
 * with a few Lloyd iterations: distinct, data-adapted and cheap.
 *
 * Monotone by construction: the kept state is the best short run's, and EM
 * from it never lowers the lower bound, so the fit's every lower bound is at
 * least every short run's last (a reseed may lower it once, see emgmm.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "src/em/search.h"

/* The stream of short run s of the search on stream STREAM: distinct from
 * every other search's and from the plain initialisations' streams 0, 1, ... */
uint64_t emgmm_search_run_stream(uint64_t stream, int s)
{
    return 0x5EA4C00000000000ull ^ (stream << 24) ^ (uint64_t)s;
}

int emgmm_search_emem(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream)
{
    const int S = p->search_starts > 0 ? p->search_starts : EMGMM_SEARCH_STARTS;
    const int L = p->search_iter > 0 ? p->search_iter : EMGMM_SEARCH_ITER;
    emgmm_params q = *p;
    q.init = EMGMM_INIT_KMEANS;
    q.init_centres = NULL; /* its short runs run their own k-means */
    q.max_iter = L > p->max_iter ? L : p->max_iter; /* the history's room */
    q.kmeans_max_iter = p->kmeans_max_iter < EMGMM_SEARCH_KMEANS_ITER ? p->kmeans_max_iter
                                                                      : EMGMM_SEARCH_KMEANS_ITER;
    void *best = NULL;
    double best_lb = -INFINITY;
    int have = 0, st = EMGMM_OK, last_skip = EMGMM_OK;
    char skip_msg[sizeof m->errmsg] = "";
    for (int s = 0; s < S; s++) {
        st = emgmm_run_init(m, &q, X, emgmm_search_run_stream(stream, s));
        while (st == EMGMM_OK && m->n_iter < L) {
            st = emgmm_run_iterate(m, &q, X, NULL);
            if (st == EMGMM_OK && emgmm_run_converged(m, q.tol)) break;
        }
        if (st == EMGMM_ERR_NOT_PD || st == EMGMM_ERR_DEGENERATE) {
            /* this start collapsed: others may not */
            last_skip = st;
            snprintf(skip_msg, sizeof skip_msg, "%s", m->errmsg);
            st = EMGMM_OK;
            continue;
        }
        if (st) break;
        if (!best && !(best = emgmm_run_snap_new(m))) {
            st = EMGMM_ERR_ALLOC;
            break;
        }
        const double lb = emgmm_run_lower_bound(m);
        if (!have || lb > best_lb) {
            emgmm_run_snap_take(best, m);
            best_lb = lb;
            have = 1;
        }
    }
    if (st == EMGMM_OK && !have) {
        /* every start collapsed: report the last one's failure */
        st = emgmm_fail(m, last_skip, "%s (in all %d short runs of init 'emem')", skip_msg, S);
    }
    if (st == EMGMM_OK) {
        /* The search is the initialisation: its iterations, like Lloyd's, are
         * not the fit's (n_iter, max_iter, the history and the reseeds count
         * from here), so a fit stopped and resumed, or run step by step,
         * gives the same model whatever max_iter. */
        emgmm_run_snap_restore(best, m);
        m->n_iter = 0;
        m->n_reseeds = 0;
        m->converged = 0;
        m->fitted = 1;
        emgmm_clear_error(m);
    }
    emgmm_run_snap_free(best);
    return st;
}
