/* search.h — the search strategies beside the EM driver (search.c); they use
 * the driver's own steps (driver.h). */
#ifndef EMGMM_SEARCH_H
#define EMGMM_SEARCH_H
#include "src/em/driver.h"

/* Default number of short runs and EM iterations per short run of the 'emem'
 * initialisation (params.search_starts / search_iter = 0), and the Lloyd
 * iterations of each short run's k-means start (at most params.kmeans_max_iter). */
#define EMGMM_SEARCH_STARTS 20
#define EMGMM_SEARCH_ITER 10
#define EMGMM_SEARCH_KMEANS_ITER 10

/* The 'emem' initialisation (Biernacki's em-EM): S short EM runs, each from
 * a k-means start of its own random stream, the best lower bound kept.  Leaves
 * the model at the kept run's parameters as an initialisation does (n_iter 0,
 * no history, no reseeds), so that the driver's iterations continue that run.  A short run that fails on a
 * degenerate component (NOT_PD, DEGENERATE) is skipped; other failures end the
 * search.  Collective when distributed (every rank runs the same runs). */
int emgmm_search_emem(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream);
/* The 'smem' search's own EM (to convergence, the trials) converges at, and
 * keeps a move that gains more than, tol / EMGMM_SMEM_TOL_DIV: at tol itself
 * two states of one basin stop up to about tol apart, too coarse to rank
 * basins by (bench_search.py's suite, with 5 short runs: 36-37/40 problems
 * reached scikit-learn's best-of-10 at tol / 10, against 32/40 at tol with 10
 * short runs, for fewer passes in all; docs/search.md). */
#define EMGMM_SMEM_TOL_DIV 10.0
/* The iterations of each of the 'smem' search's runs of EM to convergence
 * (the first, and the one after each kept move).  Its own constant, not
 * params.max_iter: the search is the initialisation, and a fit stopped by
 * --max-iter and resumed with a larger one must have started from the same
 * search as the uninterrupted fit (100 is max_iter's default, with which
 * bench_search.py's suite was measured). */
#define EMGMM_SMEM_MAX_ITER 100

/* The 'smem' initialisation (splitmerge.c): emem, EM to convergence, then
 * split-and-merge moves, each kept only when the lower bound rises by more
 * than tol / EMGMM_SMEM_TOL_DIV.  When trace is given, the lower bound after emem's EM and after
 * each kept move go there (at most trace_cap, the count in *n_trace): a
 * strictly increasing sequence.  Leaves the model as an initialisation does.
 * Collective when distributed. */
int emgmm_search_smem(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream,
                      double *trace, int trace_cap, int *n_trace);
/* The random stream of short run S of the search on stream STREAM (white-box
 * tests replay the short runs with it). */
uint64_t emgmm_search_run_stream(uint64_t stream, int s);

#endif
