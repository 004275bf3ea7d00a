/* driver.h — the EM driver (src/em/driver.c) and what sits beside and below
 * it, in call order: the search over starts (search.c), one run (run.c),
 * accelerated EM (accel.c), one EM step (step.c), degenerate components
 * (degenerate.c) and the initialisation's view of data with missing values
 * (missing.c).  Called by core/ once the caller's input is checked;
 * calls down into the pass, the families, the initialisations and dist/. */
#ifndef EMGMM_DRIVER_H
#define EMGMM_DRIVER_H
#include "src/base/base.h"

/* ---- driver.c: a fit's initialisations ---- */
/* One initialisation by p->init on random stream STREAM ('emem' runs the
 * search of search.c); p and X are checked. */
int emgmm_driver_init(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream);
/* n_init initialisations, each iterated to convergence or max_iter, the best
 * kept (emgmm_fit once its checks have been made). */
int emgmm_driver_fit(emgmm_model *m, const emgmm_params *p, const emgmm_data *X);

/* ---- run.c: one run from one start ---- */
/* One initialisation by p->init (not 'emem') on random stream STREAM. */
int emgmm_run_init(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream);
/* One reported EM iteration (plain or SQUAREM), as emgmm_fit_iterate once its
 * checks have been made. */
int emgmm_run_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                      double *lower_bound);
/* What emgmm_run_iterate_in_fit knows of one run's fixed point; zeroed at
 * the run's start. */
typedef struct {
    int steps;          /* plain steps made so far by this loop */
    int fixed;          /* EM is at its fixed point: no more passes */
    int inner_failures; /* the inner-iteration failures of the last step */
} emgmm_fixed_point;
/* The same inside emgmm_fit, whose snapshot is restored on failure: a plain
 * step may then accumulate its statistics in m's covariance buffer, so m's
 * parameters are lost when it fails (issue 22: one K·d² buffer less).  Once
 * EM is at its fixed point (K = 1 without missing values, from the second
 * plain step of the run on: run.c), the iteration is recorded without a pass
 * (the same lower bound again); emgmm_fit_iterate always passes. */
int emgmm_run_iterate_in_fit(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                             emgmm_fixed_point *fp);
/* The convergence test of emgmm_fit_converged (m not NULL). */
int emgmm_run_converged(emgmm_model *m, double tol);
/* The last lower bound, -INFINITY before the first iteration. */
double emgmm_run_lower_bound(const emgmm_model *m);
/* Room for a history of cap lower bounds. */
int emgmm_run_ensure_history(emgmm_model *m, int cap);
/* A snapshot of everything a fit changes (parameters, history, reseeds);
 * NULL when out of memory. */
void *emgmm_run_snap_new(const emgmm_model *m);
void emgmm_run_snap_take(void *s, const emgmm_model *m);
void emgmm_run_snap_restore(const void *s, emgmm_model *m);
void emgmm_run_snap_free(void *s);

/* ---- step.c: one EM step ---- */
/* One EM data pass at the model's parameters without committing: *lb the
 * (all-reduced) mean log-likelihood, next the M-step's parameters, reseeds
 * recorded as iteration m->n_iter + 1.  Counts the pass. */
int emgmm_em_step(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, emgmm_paramset *next,
                  double *lb);

/* One EM step committed to m (emgmm_run_iterate's plain step).  The plain
 * full family (any degenerate policy) finishes in place: the statistics
 * accumulate in m's covariance buffer, the finish writes the next
 * covariances over them and the new precision factors over m's.  keep = 1:
 * what a failure needs to put m's covariances back is kept first (their
 * diagonals: the step writes only upper triangles until it succeeds, so the
 * lower ones keep the rest; a covariance not exactly symmetric is copied
 * whole) and, on failure, put back, and m's factors and log-dets recomputed
 * from them, so m is as it was
 * (to the bits of factors computed by emgmm_family_precisions); keep = 0, for
 * a caller that restores a snapshot of its own on failure: nothing is kept
 * and m's parameters are lost on failure.  Other families: emgmm_em_step
 * into a parameter set, committed on success. */
int emgmm_em_step_commit(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, double *lb,
                         int keep);
/* m's covariances into dst (room for m->cov_len doubles): the upper
 * triangles one after another when every full/tied matrix is exactly
 * symmetric (returns 1), else as they are (returns 0). */
int emgmm_cov_keep(const emgmm_model *m, double *dst);
/* Back into m what emgmm_cov_keep kept (packed: its return value). */
void emgmm_cov_put_back(emgmm_model *m, const double *src, int packed);

/* ---- degenerate.c: components that empty or collapse ---- */
/* The M-step finish under the fit's policies: the variance floor, and with
 * EMGMM_DEGEN_RESEED the empty or non-PD components reseeded at the rows of X
 * worst explained by the others (as iteration `iter`; 0 = the
 * initialisation) instead of failing.  Full covariances: until it succeeds,
 * only next's upper triangles are written (stats.s2 may be next's buffer),
 * then mirrored.  Fails with EMGMM_ERR_DEGENERATE past
 * EMGMM_RESEED_LIMIT or when no row can seed a component, EMGMM_ERR_NOT_PD
 * when the reseeded covariance is not PD either. */
int emgmm_mstep_finish(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                       const emgmm_stats *stats, const double *shift, emgmm_paramset *next,
                       int iter);
/* Flags (bad[k] = 1) each component whose mean and covariance equal, to
 * rounding, those of an earlier component not flagged: EM cannot separate them. */
void emgmm_mark_coincident(const emgmm_model *m, const emgmm_paramset *next, unsigned char *bad);
/* Makes room for the events of a fit of this model (cap K·EMGMM_RESEED_LIMIT). */
int emgmm_reseed_reserve(emgmm_model *m);
/* Reseeds recorded at iteration `iter` (1-based) that still count. */
int emgmm_reseeds_at(const emgmm_model *m, int iter);

/* ---- accel.c: SQUAREM ---- */
/* One reported iteration of SQUAREM (one or two passes); the same contract as
 * emgmm_driver_iterate. */
int emgmm_accel_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                        double *lower_bound);
/* Back to the start of a cycle (a new initialisation, a restored snapshot). */
void emgmm_accel_reset(emgmm_model *m);
void emgmm_accel_free(emgmm_model *m);

/* ---- missing.c ---- */
/* With a missing policy and NaN present (on any rank), *view is a
 * column-mean-imputed copy of X (its buffer in *buf, to free) for the
 * initialisation; else *view = *X and *buf = NULL.  Collective when
 * distributed. */
int emgmm_missing_init_view(emgmm_model *m, int missing, const emgmm_data *X, emgmm_data *view,
                            void **buf);

#endif
