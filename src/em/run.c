/* run.c — one run of EM from one start: the initialisation (its statistics
 * pass and M-step finish), the reported iterations (plain or SQUAREM), the
 * convergence test, and the snapshots a fit keeps of a run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist/dist.h"
#include "src/em/driver.h"
#include "src/em/pass.h"
#include "src/family/family.h"
#include "src/init/init.h"

int emgmm_run_ensure_history(emgmm_model *m, int cap)
{
    if (m->lb_cap >= cap) return EMGMM_OK;
    double *h = realloc(m->lb_hist, (size_t)cap * sizeof(double));
    if (!h) return EMGMM_ERR_ALLOC;
    m->lb_hist = h;
    m->lb_cap = cap;
    return EMGMM_OK;
}

double emgmm_run_lower_bound(const emgmm_model *m)
{
    if (m->n_iter <= 0 || !m->lb_hist) return -INFINITY;
    return m->lb_hist[m->n_iter - 1];
}

/* The statistics pass an initialisation asks for (labels by the nearest
 * centre, or random responsibilities), shifted by start->centres, summed over
 * the ranks. */
static int start_stats(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                       const emgmm_start *start, emgmm_stats *stats)
{
    const emgmm_mixture shape = {m->K, m->d, m->cov_type, NULL, NULL, NULL, NULL};
    emgmm_pass pass = {0};
    pass.mode = start->kind == EMGMM_START_LABELS ? EMGMM_PASS_LABELS : EMGMM_PASS_RANDOM;
    pass.mix = &shape;
    pass.centres = start->centres;
    pass.seed = start->seed;
    pass.row0 = emgmm_dist_row_offset(m);
    pass.shift = start->centres;
    pass.stats = stats;
    pass.n_threads = p->n_threads;
    pass.block_size = (size_t)p->block_size;
    pass.params = p;
    pass.cache = &m->pass_cache;
    int st = emgmm_pass_run(&pass, X);
    return emgmm_dist_allreduce_stats(m, stats, NULL, st); /* across ranks when distributed */
}

/* Initial parameters into ps: the initialisation's own, or the M-step finish
 * (under the fit's policies, as iteration 0) of the statistics it leads to. */
static int initial_params(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                          uint64_t stream, emgmm_paramset *ps)
{
    emgmm_start start;
    int st = emgmm_init_start(m, p, X, stream, &start, ps);
    if (st == EMGMM_OK && (start.kind == EMGMM_START_LABELS || start.kind == EMGMM_START_RANDOM)) {
        st = emgmm_stats_init(&start.stats, m->K, m->d, m->cov_type);
        if (st == EMGMM_OK) st = start_stats(m, p, X, &start, &start.stats);
    }
    if (st == EMGMM_OK && start.kind != EMGMM_START_PARAMS)
        st = emgmm_mstep_finish(m, p, X, &start.stats, start.centres, ps, 0);
    emgmm_start_free(&start);
    return st;
}

int emgmm_run_init(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, uint64_t stream)
{
    int st = emgmm_run_ensure_history(m, p->max_iter);
    if (st == EMGMM_OK) st = emgmm_reseed_reserve(m);
    if (st) return st;
    m->n_reseeds = 0;
    m->inner_failures = 0;
    m->inner_max = 0;
    if (p->init == EMGMM_INIT_USER) {
        if (!m->fitted)
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                              "init 'user' needs parameters set with emgmm_model_set_parameters");
    } else {
        emgmm_paramset ps;
        st = emgmm_paramset_alloc(&ps, m->K, m->d, m->cov_len);
        if (st) return st;
        /* with missing values the init runs on a mean-imputed copy */
        emgmm_data Xi;
        void *ibuf;
        st = emgmm_missing_init_view(m, p->missing, X, &Xi, &ibuf);
        if (st == EMGMM_OK) st = initial_params(m, p, &Xi, stream, &ps);
        free(ibuf);
        if (st == EMGMM_OK) emgmm_paramset_to_model(m, &ps);
        emgmm_paramset_free(&ps);
        if (st) return st;
        m->fitted = 1;
    }
    m->n_iter = 0;
    m->converged = 0;
    m->n_passes = 0;
    emgmm_accel_reset(m);
    return EMGMM_OK;
}

/* One reported iteration; keep = 0 lets a plain step use m's covariance buffer
 * for the statistics (m's parameters are then lost on failure). */
static int iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, double *lower_bound,
                   int keep)
{
    emgmm_clear_error(m);
    int st = emgmm_run_ensure_history(m, m->n_iter + 1 > p->max_iter ? m->n_iter + 1 : p->max_iter);
    if (st) return st;
    if (p->accel != EMGMM_ACCEL_NONE) return emgmm_accel_iterate(m, p, X, lower_bound);

    double lb = 0.0;
    st = emgmm_em_step_commit(m, p, X, &lb, keep);
    if (st == EMGMM_OK) {
        m->lb_hist[m->n_iter++] = lb;
        if (lower_bound) *lower_bound = lb;
    }
    return st;
}

int emgmm_run_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                      double *lower_bound)
{
    return iterate(m, p, X, lower_bound, 1);
}

/* The fixed-point stop of emgmm_fit (issue 19).  With one component and no
 * missing values, EM is at its fixed point after its first M-step:
 *  - the E-step's log-sum-exp over one term gives log r_i = ℓ_i − ℓ_i = 0,
 *    so r_i = 1 (times the row's weight) whatever the parameters;
 *  - the statistics N = Σ w_i, S1 = Σ w_i (x_i − c), S2 = Σ w_i (x_i − c)(x_i − c)ᵀ
 *    then depend on the parameters only through the shift c (the current
 *    mean), and what the M-step makes of them does not: the weight 1, the
 *    mean c + S1/N = Σ w_i x_i / N and the scatter S2 − S1 S1ᵀ/N =
 *    Σ w_i (x_i − μ)(x_i − μ)ᵀ are the same for every c;
 *  - the finish is a function of these and p alone: the variance floor (from
 *    the statistics), reg_covar, the family's closed form, or inner
 *    iterations from a fixed start (mclust.c: EVE/VVE start from the
 *    scatter's axes at K = 1, not from the previous model);
 * so every M-step of the run gives the same parameters θ*.  Iteration 1
 * passes at the start θ_0 and commits θ*; iteration 2 passes at θ*,
 * recording ℓ(θ*), and commits θ* again; every later iteration would record
 * ℓ(θ*) and commit θ* once more, and is recorded without a pass.  In floating
 * point a further pass computes the same sums about a shift moved by
 * rounding, so the stepped loop (emgmm_fit_iterate) gives these lower bounds
 * and parameters to rounding, not bit for bit.  Only for two plain steps of
 * this loop without a reseed in either (a reseed replaces the M-step's
 * parameters): not under SQUAREM, whose steps are not EM's.
 *
 * A general test (a step returning its start bit for bit) is not made: in
 * the fit's in-place full step the old covariances and statistics are
 * overwritten by the new (step.c), so it would need a K·d² copy, and EM's
 * shifted sums move the parameters by rounding at K >= 2, where no step
 * repeated bit for bit in the mclust sweep's 112 fits. */
static int at_fixed_point(const emgmm_model *m, const emgmm_params *p, int steps)
{
    return m->K == 1 && p->missing == EMGMM_MISSING_ERROR && p->accel == EMGMM_ACCEL_NONE &&
           steps >= 2 && emgmm_reseeds_at(m, m->n_iter) + emgmm_reseeds_at(m, m->n_iter - 1) == 0;
}

/* An iteration at the fixed point, without a pass: the last lower bound
 * again, the parameters kept, the inner-iteration failures of the step that
 * reached it counted again (its finish, run again, would fail so again). */
static int repeat(emgmm_model *m, const emgmm_params *p, int inner_failures)
{
    emgmm_clear_error(m);
    const int st =
        emgmm_run_ensure_history(m, m->n_iter + 1 > p->max_iter ? m->n_iter + 1 : p->max_iter);
    if (st) return st;
    m->lb_hist[m->n_iter] = m->lb_hist[m->n_iter - 1];
    m->n_iter++;
    m->inner_failures += inner_failures;
    return EMGMM_OK;
}

int emgmm_run_iterate_in_fit(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                             emgmm_fixed_point *fp)
{
    if (fp->fixed) return repeat(m, p, fp->inner_failures);
    const int before = m->inner_failures;
    const int st = iterate(m, p, X, NULL, 0);
    if (st == EMGMM_OK) {
        fp->inner_failures = m->inner_failures - before;
        fp->fixed = at_fixed_point(m, p, ++fp->steps);
    }
    return st;
}

int emgmm_run_converged(emgmm_model *m, double tol)
{
    if (m->n_iter < 2) return 0;
    /* A reseed at the last iteration gives parameters not yet scored; one at
     * the iteration before makes the last change span the reseed. */
    if (emgmm_reseeds_at(m, m->n_iter) + emgmm_reseeds_at(m, m->n_iter - 1) > 0) return 0;
    const double change = m->lb_hist[m->n_iter - 1] - m->lb_hist[m->n_iter - 2];
    if (fabs(change) < tol) {
        m->converged = 1;
        return 1;
    }
    return 0;
}

/* A snapshot of everything a fit changes, to restore on failure or to keep
 * the best initialisation.  Memory (issue 22): the parameters are kept only
 * for a fitted model (an unfitted one's are not observable); for the plain
 * full and tied families the precision factors are not kept but recomputed
 * on restore (the factors of these families are emgmm_family_precisions of the
 * covariances, so the recompute gives the same bits, except for factors a
 * reader installed from a file), and a covariance that is exactly symmetric
 * is kept as its upper triangle.  The buffers are calloc'd at their full size
 * and only the part written is ever touched, so the pages of what is not kept
 * never become resident. */
typedef struct {
    emgmm_paramset ps;
    int have_params; /* the model was fitted when taken */
    int packed;      /* covariances held as upper triangles, [f][d(d+1)/2] */
    int prec_kept;   /* the precision factors and log-dets are in ps */
    double *hist;
    int fitted, n_iter, converged;
    long long n_passes;
    emgmm_reseed_event *reseeds; /* [K·EMGMM_RESEED_LIMIT] */
    int n_reseeds;
} fit_snapshot;

/* The factors are recomputed on restore for the plain full and tied families,
 * where they are as large as the covariances. */
static int recompute_prec(const emgmm_model *m)
{
    return m->structure < EMGMM_COV_EII &&
           (m->cov_type == EMGMM_COV_FULL || m->cov_type == EMGMM_COV_TIED);
}

static int snap_alloc(fit_snapshot *s, const emgmm_model *m, int cap)
{
    memset(s, 0, sizeof *s);
    /* plain calloc, not emgmm_paramset_alloc's zeroed huge pages: the parts
     * not written must stay untouched */
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    s->ps.weights = calloc(K, sizeof(double));
    s->ps.means = calloc(K * d, sizeof(double));
    s->ps.covariances = calloc(m->cov_len, sizeof(double));
    s->ps.prec_chol = calloc(m->cov_len, sizeof(double));
    s->ps.log_det = calloc(K, sizeof(double));
    if (!s->ps.weights || !s->ps.means || !s->ps.covariances || !s->ps.prec_chol ||
        !s->ps.log_det) {
        emgmm_paramset_free(&s->ps);
        return EMGMM_ERR_ALLOC;
    }
    s->hist = calloc((size_t)(cap > 0 ? cap : 1), sizeof(double));
    s->reseeds = calloc((size_t)m->K * EMGMM_RESEED_LIMIT, sizeof *s->reseeds);
    if (!s->hist || !s->reseeds) {
        emgmm_paramset_free(&s->ps);
        free(s->hist);
        free(s->reseeds);
        return EMGMM_ERR_ALLOC;
    }
    return EMGMM_OK;
}

static void snap_params_take(fit_snapshot *s, const emgmm_model *m)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    memcpy(s->ps.weights, m->weights, K * sizeof(double));
    memcpy(s->ps.means, m->means, K * d * sizeof(double));
    s->packed = emgmm_cov_keep(m, s->ps.covariances);
    s->prec_kept = !recompute_prec(m);
    if (s->prec_kept) {
        memcpy(s->ps.prec_chol, m->prec_chol, m->cov_len * sizeof(double));
        memcpy(s->ps.log_det, m->log_det, K * sizeof(double));
    }
}

static void snap_params_restore(const fit_snapshot *s, emgmm_model *m)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    memcpy(m->weights, s->ps.weights, K * sizeof(double));
    memcpy(m->means, s->ps.means, K * d * sizeof(double));
    emgmm_cov_put_back(m, s->ps.covariances, s->packed);
    if (s->prec_kept) {
        memcpy(m->prec_chol, s->ps.prec_chol, m->cov_len * sizeof(double));
        memcpy(m->log_det, s->ps.log_det, K * sizeof(double));
    } else {
        /* the covariances were a fitted model's, so they factor (a failure
         * here would leave the factors of the fit that failed) */
        (void)emgmm_family_precisions(m->cov_type, m->K, m->d, m->covariances, m->prec_chol,
                                      m->log_det, NULL);
    }
}

static void snap_take(fit_snapshot *s, const emgmm_model *m)
{
    s->have_params = m->fitted != 0;
    if (s->have_params) snap_params_take(s, m);
    if (m->n_iter > 0) memcpy(s->hist, m->lb_hist, (size_t)m->n_iter * sizeof(double));
    s->fitted = m->fitted;
    s->n_iter = m->n_iter;
    s->converged = m->converged;
    s->n_passes = m->n_passes;
    s->n_reseeds = m->n_reseeds < m->reseed_cap ? m->n_reseeds : m->reseed_cap;
    if (s->n_reseeds > 0) memcpy(s->reseeds, m->reseeds, (size_t)s->n_reseeds * sizeof *s->reseeds);
}

static void snap_restore(const fit_snapshot *s, emgmm_model *m)
{
    if (s->have_params) snap_params_restore(s, m);
    if (s->n_iter > 0) memcpy(m->lb_hist, s->hist, (size_t)s->n_iter * sizeof(double));
    m->fitted = s->fitted;
    m->n_iter = s->n_iter;
    m->converged = s->converged;
    m->n_passes = s->n_passes;
    emgmm_accel_reset(m);
    /* the model's event buffer was reserved (K·EMGMM_RESEED_LIMIT) by the fit */
    m->n_reseeds = s->n_reseeds <= m->reseed_cap ? s->n_reseeds : 0;
    if (m->n_reseeds > 0) memcpy(m->reseeds, s->reseeds, (size_t)m->n_reseeds * sizeof *s->reseeds);
}

static void snap_free(fit_snapshot *s)
{
    emgmm_paramset_free(&s->ps);
    free(s->hist);
    free(s->reseeds);
}

/* ---- for the driver and the search strategies ---- */
void *emgmm_run_snap_new(const emgmm_model *m)
{
    fit_snapshot *s = malloc(sizeof *s);
    if (s && snap_alloc(s, m, m->lb_cap) != EMGMM_OK) {
        free(s);
        s = NULL;
    }
    return s;
}

void emgmm_run_snap_take(void *s, const emgmm_model *m) { snap_take(s, m); }
void emgmm_run_snap_restore(const void *s, emgmm_model *m) { snap_restore(s, m); }

void emgmm_run_snap_free(void *s)
{
    if (!s) return;
    snap_free(s);
    free(s);
}
