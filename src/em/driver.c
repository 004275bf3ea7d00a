/* driver.c — the EM driver: data checks, initialise / iterate / test, and the
 * one-call fit with n_init restarts.  The data pass itself is in pass_impl.h,
 * the M-step finish in src/family/. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/em/pass.h"
#include "src/em/search.h"

size_t emgmm_block_size(int block_size, int K, int d)
{
    if (block_size > 0) return (size_t)block_size;
    (void)K;
    /* Large enough for efficient GEMM/SYRK calls, small enough that the block,
     * its products and responsibilities stay near the L2 cache. */
    return d >= 128 ? 256 : 512;
}

int emgmm_blas_single_begin(void)
{
    /* BLAS calls made inside our OpenMP regions must run on one thread.  The
     * OpenMP build of OpenBLAS takes its thread count from the calling task's
     * omp_get_max_threads(), which each region sets to 1 for its own tasks
     * (emgmm_blas_single_in_region) — nothing global changes.  The pthreads
     * build has only a global setting: it is set to 1 for the pass and
     * restored after. */
    if (openblas_get_parallel() == 1) {
        int saved = openblas_get_num_threads();
        if (saved != 1) openblas_set_num_threads(1);
        return saved;
    }
    return 0;
}

void emgmm_blas_single_end(int saved)
{
    if (saved > 1) openblas_set_num_threads(saved);
}

int emgmm_pass_run(const emgmm_pass *p, const emgmm_data *X)
{
    return X->dtype == EMGMM_F32 ? emgmm_pass_run_f32(p, X) : emgmm_pass_run_f64(p, X);
}

/* Shape and pointer checks shared by every entry point that takes data. */
static int check_shape(emgmm_model *m, const emgmm_data *X)
{
    if (!X || (!X->x && X->n > 0)) return EMGMM_ERR_NULL;
    if (X->dtype != EMGMM_F64 && X->dtype != EMGMM_F32)
        return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "unknown data type %d", (int)X->dtype);
    if (X->d == 0) return emgmm_fail(m, EMGMM_ERR_NO_FEATURES, "data has 0 columns");
    if (X->d != (size_t)m->d)
        return emgmm_fail(m, EMGMM_ERR_SHAPE, "data has %zu columns, the model %d", X->d, m->d);
    if (X->ld < X->d)
        return emgmm_fail(m, EMGMM_ERR_SHAPE, "leading dimension %zu is smaller than %zu columns", X->ld, X->d);
    if (X->n > (size_t)INT32_MAX * 64 || X->ld > SIZE_MAX / 16 / (X->n ? X->n : 1))
        return emgmm_fail(m, EMGMM_ERR_TOO_LARGE, "data of %zu rows is too large", X->n);
    return EMGMM_OK;
}

/* Whether row i holds a NaN or an infinity: x − x is +0 for every finite x
 * and NaN otherwise, so the row's sum of them is NaN exactly then (a
 * branch-free loop that vectorises; the caller then finds the column). */
static int row_nonfinite(const emgmm_data *X, size_t i)
{
    double s = 0.0;
    if (X->dtype == EMGMM_F64) {
        const double *x = (const double *)X->x + i * X->ld;
#pragma omp simd reduction(+ : s)
        for (size_t j = 0; j < X->d; j++) s += x[j] - x[j];
    } else {
        const float *x = (const float *)X->x + i * X->ld;
#pragma omp simd reduction(+ : s)
        for (size_t j = 0; j < X->d; j++) s += (double)x[j] - (double)x[j];
    }
    return s != s;
}

int emgmm_check_data(emgmm_model *m, const emgmm_data *X, int n_threads)
{
    int st = check_shape(m, X);
    if (st) return st;
    if (m->missing != EMGMM_MISSING_ERROR) return emgmm_missing_check_data(m, X, n_threads);
    const size_t n = X->n, d = X->d, ld = X->ld;
    size_t first_bad = SIZE_MAX; /* flat index row*d + col of the first non-finite value */
    int T = emgmm_threads(n_threads);
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static) reduction(min : first_bad)
#endif
    for (size_t i = 0; i < n; i++) {
        if (first_bad != SIZE_MAX && first_bad < i * d) continue;
        if (!row_nonfinite(X, i)) continue;
        for (size_t j = 0; j < d; j++) {
            double v = X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * ld + j]
                                             : (double)((const float *)X->x)[i * ld + j];
            if (!isfinite(v)) {
                if (i * d + j < first_bad) first_bad = i * d + j;
                break;
            }
        }
    }
    (void)T;
    if (first_bad != SIZE_MAX) {
        m->err_row = (long long)(first_bad / d) + emgmm_dist_row_offset(m); /* global row */
        m->err_col = (long long)(first_bad % d);
        return emgmm_fail(m, EMGMM_ERR_NONFINITE, "data contains NaN or Inf at row %lld, column %lld",
                          m->err_row, m->err_col);
    }
    return EMGMM_OK;
}

/* Sum of the sample weights (n when there are none). */
static double weight_sum(const emgmm_data *X)
{
    if (!X->weights) return (double)X->n;
    double s = 0.0;
    for (size_t i = 0; i < X->n; i++) s += X->weights[i];
    return s;
}

/* Fit-only checks of the sample weights; also counts the rows that carry
 * weight, which must be at least K.  Takes the data check's status: when
 * distributed, the count's all-reduce is also where the ranks agree on it. */
static int check_weights(emgmm_model *m, const emgmm_data *X, int st)
{
    size_t positive = X->n;
    if (st == EMGMM_OK && X->weights) {
        positive = 0;
        for (size_t i = 0; i < X->n; i++) {
            const double w = X->weights[i];
            if (!isfinite(w) || w < 0.0) {
                const long long row = (long long)i + emgmm_dist_row_offset(m);
                m->err_row = row;
                st = emgmm_fail(m, EMGMM_ERR_BAD_WEIGHTS, "sample weight at row %lld is %g (must be finite and >= 0)", row, w);
                break;
            }
            positive += w > 0.0;
        }
    }
    double count = (double)positive;
    st = emgmm_dist_sum(m, &count, 1, st);
    if (st) return st;
    positive = (size_t)count;
    if (X->weights && positive == 0) return emgmm_fail(m, EMGMM_ERR_BAD_WEIGHTS, "all sample weights are 0");
    if (positive < (size_t)m->K)
        return emgmm_fail(m, EMGMM_ERR_TOO_FEW_SAMPLES, "%zu samples (with weight > 0) for %d components", positive, m->K);
    return EMGMM_OK;
}

static int ensure_history(emgmm_model *m, int cap)
{
    if (m->lb_cap >= cap) return EMGMM_OK;
    double *h = realloc(m->lb_hist, (size_t)cap * sizeof(double));
    if (!h) return EMGMM_ERR_ALLOC;
    m->lb_hist = h;
    m->lb_cap = cap;
    return EMGMM_OK;
}

static int fit_init_stream(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                           uint64_t stream, int checked)
{
    int st = emgmm_params_validate(p);
    if (st) return emgmm_fail(m, st, "invalid fit parameters");
    if (!checked) {
        st = emgmm_check_data(m, X, p->n_threads);
        st = check_weights(m, X, st);
        if (st) return st;
    }
    if (p->init == EMGMM_INIT_EMEM) return emgmm_search_emem(m, p, X, stream); /* search.c */
    if (p->init == EMGMM_INIT_SMEM) return emgmm_search_smem(m, p, X, stream, NULL, 0, NULL);
    st = ensure_history(m, p->max_iter);
    if (st == EMGMM_OK) st = emgmm_reseed_reserve(m);
    if (st) return st;
    m->n_reseeds = 0;
    m->inner_failures = 0;
    m->inner_max = 0;
    if (p->init == EMGMM_INIT_USER) {
        if (!m->fitted)
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "init 'user' needs parameters set with emgmm_model_set_parameters");
    } else {
        emgmm_paramset ps;
        st = emgmm_paramset_alloc(&ps, m->K, m->d, m->cov_len);
        if (st) return st;
        /* with missing values the init runs on a mean-imputed copy */
        emgmm_data Xi;
        void *ibuf;
        st = emgmm_missing_init_view(m, X, p->n_threads, &Xi, &ibuf);
        /* the initialisation's M-step runs under the fit's policies too */
        m->fit_p = p;
        m->fit_X = &Xi;
        if (st == EMGMM_OK) st = emgmm_init_params(m, p, &Xi, stream, &ps);
        m->fit_p = NULL;
        m->fit_X = NULL;
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

int emgmm_fit_init(emgmm_model *m, const emgmm_params *p, const emgmm_data *X)
{
    if (!m || !p || !X) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (emgmm_params_validate(p) == EMGMM_OK) m->missing = p->missing;
    return fit_init_stream(m, p, X, 0, 0);
}

int emgmm_fit_init_at(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, int init_index)
{
    if (!m || !p || !X) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (init_index < 0) return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "init_index must be >= 0");
    if (emgmm_params_validate(p) == EMGMM_OK) m->missing = p->missing;
    return fit_init_stream(m, p, X, (uint64_t)init_index, 0);
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
        pass.model = m;
        pass.shift = shift;
        pass.stats = &stats;
        pass.loglik_sum = &ll;
        pass.dropped = &dropped;
        pass.n_threads = p->n_threads;
        pass.block_size = (size_t)p->block_size;
        st = emgmm_pass_run(&pass, X);
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

int emgmm_fit_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, double *lower_bound)
{
    if (!m || !p || !X) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (!m->fitted) return emgmm_fail(m, EMGMM_ERR_NOT_FITTED, "call emgmm_fit_init first");
    int st = check_shape(m, X);
    if (st) return st;
    /* a rank of a distributed fit may hold no rows */
    if (X->n == 0 && !emgmm_dist_active(m)) return emgmm_fail(m, EMGMM_ERR_TOO_FEW_SAMPLES, "no samples");
    st = emgmm_params_validate(p);
    if (st) return emgmm_fail(m, st, "invalid fit parameters");
    m->missing = p->missing;
    st = ensure_history(m, m->n_iter + 1 > p->max_iter ? m->n_iter + 1 : p->max_iter);
    if (st) return st;
    if (p->accel == EMGMM_ACCEL_SQUAREM) return emgmm_accel_iterate(m, p, X, lower_bound);

    emgmm_paramset next;
    st = emgmm_paramset_alloc(&next, m->K, m->d, m->cov_len);
    if (st) return st;
    double lb = 0.0;
    st = emgmm_em_step(m, p, X, &next, &lb);
    if (st == EMGMM_OK) {
        emgmm_paramset_to_model(m, &next);
        m->lb_hist[m->n_iter++] = lb;
        if (lower_bound) *lower_bound = lb;
    }
    emgmm_paramset_free(&next);
    return st;
}

int emgmm_fit_converged(emgmm_model *m, double tol)
{
    if (!m || m->n_iter < 2) return 0;
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
 * the best initialisation. */
typedef struct {
    emgmm_paramset ps;
    double *hist;
    int fitted, n_iter, converged;
    long long n_passes;
    emgmm_reseed_event *reseeds; /* [K·EMGMM_RESEED_LIMIT] */
    int n_reseeds;
} fit_snapshot;

static int snap_alloc(fit_snapshot *s, const emgmm_model *m, int cap)
{
    memset(s, 0, sizeof *s);
    int st = emgmm_paramset_alloc(&s->ps, m->K, m->d, m->cov_len);
    if (st) return st;
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

static void snap_take(fit_snapshot *s, const emgmm_model *m)
{
    emgmm_paramset_from_model(&s->ps, m);
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
    emgmm_paramset_to_model(m, &s->ps);
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

int emgmm_fit(emgmm_model *m, const emgmm_params *p, const emgmm_data *X)
{
    if (!m || !p || !X) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    int st = emgmm_params_validate(p);
    if (st) return emgmm_fail(m, st, "invalid fit parameters");
    const int saved_missing = m->missing;
    m->missing = p->missing;
    st = emgmm_check_data(m, X, p->n_threads);
    st = check_weights(m, X, st);
    if (st) m->missing = saved_missing;
    if (st) return st;
    st = ensure_history(m, p->max_iter);
    if (st == EMGMM_OK) st = emgmm_reseed_reserve(m);
    if (st) return st;
    const int cap = m->lb_cap;
    fit_snapshot orig, best;
    st = snap_alloc(&orig, m, cap);
    if (st) return st;
    st = snap_alloc(&best, m, cap);
    if (st) {
        snap_free(&orig);
        return st;
    }
    snap_take(&orig, m);
    double best_lb = -INFINITY;
    int have_best = 0;
    for (int r = 0; r < p->n_init && st == EMGMM_OK; r++) {
        if (p->init == EMGMM_INIT_USER) snap_restore(&orig, m);
        st = fit_init_stream(m, p, X, (uint64_t)r, 1);
        while (st == EMGMM_OK && m->n_iter < p->max_iter) {
            st = emgmm_fit_iterate(m, p, X, NULL);
            if (st == EMGMM_OK && emgmm_fit_converged(m, p->tol)) break;
        }
        if (st) break;
        const double lb = emgmm_model_lower_bound(m);
        if (!have_best || lb > best_lb) {
            snap_take(&best, m);
            m->best_init = r;
            best_lb = lb;
            have_best = 1;
        }
    }
    snap_restore(st ? &orig : &best, m);
    snap_free(&orig);
    snap_free(&best);
    return st;
}

/* ---- for the search strategies (search.c) ---- */
int emgmm_driver_init_stream(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                             uint64_t stream, int checked)
{
    return fit_init_stream(m, p, X, stream, checked);
}

void *emgmm_driver_snap_new(const emgmm_model *m)
{
    fit_snapshot *s = malloc(sizeof *s);
    if (s && snap_alloc(s, m, m->lb_cap) != EMGMM_OK) {
        free(s);
        s = NULL;
    }
    return s;
}

void emgmm_driver_snap_take(void *s, const emgmm_model *m) { snap_take(s, m); }
void emgmm_driver_snap_restore(const void *s, emgmm_model *m) { snap_restore(s, m); }

void emgmm_driver_snap_free(void *s)
{
    if (!s) return;
    snap_free(s);
    free(s);
}
