/* model.c — the model object: creation, copies, user-given parameters,
 * getters.  The small containers it uses (statistics, parameter sets) are in
 * src/base/stats.c. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/core/core.h"
#include "src/em/driver.h"
#include "src/em/pass.h"
#include "src/family/family.h"

int emgmm_model_create(emgmm_model **out, int K, int d, int cov_type)
{
    if (!out) return EMGMM_ERR_NULL;
    *out = NULL;
    if (K <= 0) return EMGMM_ERR_NO_COMPONENTS;
    if (d <= 0) return EMGMM_ERR_NO_FEATURES;
    const int structure = cov_type;
    cov_type = emgmm_covariance_storage(structure);
    if (cov_type < 0) return EMGMM_ERR_INVALID_PARAM;
    /* K·d² doubles must be addressable, with room for workspace multiples. */
    if ((double)K * (double)d * (double)d * 8.0 > (double)(SIZE_MAX / 16))
        return EMGMM_ERR_TOO_LARGE;
    emgmm_model *m = calloc(1, sizeof *m);
    if (!m) return EMGMM_ERR_ALLOC;
    m->K = K;
    m->d = d;
    m->cov_type = cov_type;
    m->structure = structure;
    m->cov_len = emgmm_cov_len(cov_type, K, d);
    m->weights = calloc((size_t)K, sizeof(double));
    m->means = calloc((size_t)K * (size_t)d, sizeof(double));
    m->covariances = emgmm_calloc_big(m->cov_len, sizeof(double));
    m->prec_chol = emgmm_calloc_big(m->cov_len, sizeof(double));
    m->log_det = calloc((size_t)K, sizeof(double));
    if (!m->weights || !m->means || !m->covariances || !m->prec_chol || !m->log_det) {
        emgmm_model_free(m);
        return EMGMM_ERR_ALLOC;
    }
    emgmm_clear_error(m);
    m->best_init = 0;
    *out = m;
    return EMGMM_OK;
}

void emgmm_model_free(emgmm_model *m)
{
    if (!m) return;
    free(m->weights);
    free(m->means);
    free(m->covariances);
    free(m->prec_chol);
    free(m->log_det);
    free(m->lb_hist);
    free(m->reseeds);
    free(m->dist_buf);
    emgmm_accel_free(m);
    emgmm_pass_cache_free(&m->pass_cache);
    free(m);
}

int emgmm_model_copy(emgmm_model **out, const emgmm_model *m)
{
    if (!out || !m) return EMGMM_ERR_NULL;
    int st = emgmm_model_create(out, m->K, m->d, m->structure);
    if (st) return st;
    emgmm_model *c = *out;
    if (m->lb_cap > 0) {
        c->lb_hist = malloc((size_t)m->lb_cap * sizeof(double));
        if (!c->lb_hist) {
            emgmm_model_free(c);
            *out = NULL;
            return EMGMM_ERR_ALLOC;
        }
        memcpy(c->lb_hist, m->lb_hist, (size_t)m->lb_cap * sizeof(double));
        c->lb_cap = m->lb_cap;
    }
    emgmm_paramset src = {m->weights, m->means, m->covariances, m->prec_chol, m->log_det};
    emgmm_paramset_to_model(c, &src);
    c->fitted = m->fitted;
    c->n_threads = m->n_threads;
    c->missing = m->missing;
    c->converged = m->converged;
    c->n_iter = m->n_iter;
    c->best_init = m->best_init;
    c->n_passes = m->n_passes;
    c->inner_failures = m->inner_failures;
    c->inner_max = m->inner_max;
    if (m->n_reseeds > 0) {
        c->reseeds = malloc((size_t)m->n_reseeds * sizeof *c->reseeds);
        if (!c->reseeds) {
            emgmm_model_free(c);
            *out = NULL;
            return EMGMM_ERR_ALLOC;
        }
        memcpy(c->reseeds, m->reseeds, (size_t)m->n_reseeds * sizeof *c->reseeds);
        c->n_reseeds = c->reseed_cap = m->n_reseeds;
    }
    return EMGMM_OK;
}

/* Copies user-given parameters into the model's buffers and commits them:
 * one validator (emgmm_model_commit_parameters), the precisions computed from
 * the covariances as given (no regularisation).  memmove: the caller may hand
 * back the model's own arrays. */
int emgmm_model_set_parameters(emgmm_model *m, const double *w, const double *mu, const double *cov)
{
    if (!m || !w || !mu || !cov) return EMGMM_ERR_NULL;
    double *mw, *mmu, *mcov;
    int st = emgmm_model_parameter_buffers(m, &mw, &mmu, &mcov, NULL);
    if (st) return st;
    memmove(mw, w, (size_t)m->K * sizeof(double));
    memmove(mmu, mu, (size_t)m->K * (size_t)m->d * sizeof(double));
    memmove(mcov, cov, m->cov_len * sizeof(double));
    return emgmm_model_commit_parameters(m, EMGMM_COMMIT_COMPUTE_PRECISIONS);
}

int emgmm_model_n_components(const emgmm_model *m) { return m ? m->K : 0; }
int emgmm_model_n_features(const emgmm_model *m) { return m ? m->d : 0; }
int emgmm_model_covariance_type(const emgmm_model *m) { return m ? m->cov_type : -1; }
int emgmm_model_structure(const emgmm_model *m) { return m ? m->structure : -1; }
void emgmm_model_inner_report(const emgmm_model *m, int *failures, int *max_iter)
{
    if (failures) *failures = m ? m->inner_failures : 0;
    if (max_iter) *max_iter = m ? m->inner_max : 0;
}
int emgmm_model_is_fitted(const emgmm_model *m) { return m ? m->fitted : 0; }
const double *emgmm_model_weights(const emgmm_model *m) { return m ? m->weights : NULL; }
const double *emgmm_model_means(const emgmm_model *m) { return m ? m->means : NULL; }
const double *emgmm_model_covariances(const emgmm_model *m) { return m ? m->covariances : NULL; }
size_t emgmm_model_covariances_size(const emgmm_model *m) { return m ? m->cov_len : 0; }
const double *emgmm_model_precisions_cholesky(const emgmm_model *m)
{
    return m ? m->prec_chol : NULL;
}
int emgmm_model_converged(const emgmm_model *m) { return m ? m->converged : 0; }
int emgmm_model_n_iter(const emgmm_model *m) { return m ? m->n_iter : 0; }
int emgmm_model_best_init(const emgmm_model *m) { return m ? m->best_init : 0; }
void emgmm_model_set_n_threads(emgmm_model *m, int t)
{
    if (m) m->n_threads = t > 0 ? t : 0;
}

int emgmm_model_set_missing(emgmm_model *m, int policy)
{
    if (!m) return EMGMM_ERR_NULL;
    if (policy < EMGMM_MISSING_ERROR || policy > EMGMM_MISSING_DROP_EMPTY)
        return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "unknown missing-value policy %d", policy);
    m->missing = policy;
    return EMGMM_OK;
}

int emgmm_model_missing(const emgmm_model *m) { return m ? m->missing : EMGMM_MISSING_ERROR; }

double emgmm_model_lower_bound(const emgmm_model *m)
{
    if (!m || m->n_iter <= 0 || !m->lb_hist) return -INFINITY;
    return m->lb_hist[m->n_iter - 1];
}

const double *emgmm_model_lower_bounds(const emgmm_model *m, int *count)
{
    if (count) *count = m ? m->n_iter : 0;
    return m ? m->lb_hist : NULL;
}

long emgmm_model_n_parameters(const emgmm_model *m)
{
    if (!m) return 0;
    long K = m->K, d = m->d, cov;
    if (m->structure >= EMGMM_COV_EII) return emgmm_mclust_n_parameters(m->structure, m->K, m->d);
    switch (m->cov_type) {
    case EMGMM_COV_FULL: cov = K * d * (d + 1) / 2; break;
    case EMGMM_COV_TIED: cov = d * (d + 1) / 2; break;
    case EMGMM_COV_DIAG: cov = K * d; break;
    default: cov = K; break;
    }
    return cov + K * d + K - 1;
}

int emgmm_model_set_fit_state(emgmm_model *m, const double *lb, int n_iter, int converged)
{
    if (!m || (n_iter > 0 && !lb)) return EMGMM_ERR_NULL;
    if (n_iter < 0) return EMGMM_ERR_INVALID_PARAM;
    if (!m->fitted)
        return emgmm_fail(m, EMGMM_ERR_NOT_FITTED, "set the parameters before the fit state");
    if (n_iter > m->lb_cap) {
        double *h = realloc(m->lb_hist, (size_t)n_iter * sizeof(double));
        if (!h) return EMGMM_ERR_ALLOC;
        m->lb_hist = h;
        m->lb_cap = n_iter;
    }
    if (n_iter > 0) memcpy(m->lb_hist, lb, (size_t)n_iter * sizeof(double));
    m->n_iter = n_iter;
    m->converged = converged ? 1 : 0;
    m->n_reseeds = 0;     /* restored after this by emgmm_model_add_reseed_event */
    m->n_passes = n_iter; /* an accelerated fit's count: emgmm_model_set_accel_state */
    emgmm_accel_reset(m);
    return EMGMM_OK;
}

/* ------------------------------------------------------------------------ */
/* Parameters written in place by a reader (issue 22): no staging copy and,  */
/* when the file holds the precision factors, no O(K·d³) factorisation.     */
/* ------------------------------------------------------------------------ */
int emgmm_model_parameter_buffers(emgmm_model *m, double **weights, double **means,
                                  double **covariances, double **precisions_cholesky)
{
    if (!m) return EMGMM_ERR_NULL;
    /* the caller is about to overwrite them: nothing may use them meanwhile */
    m->fitted = 0;
    emgmm_clear_error(m);
    if (weights) *weights = m->weights;
    if (means) *means = m->means;
    if (covariances) *covariances = m->covariances;
    if (precisions_cholesky) *precisions_cholesky = m->prec_chol;
    return EMGMM_OK;
}

/* Symmetry of the d×d matrix c to 1e-10 relative, in 64×64 tiles so that the
 * transposed reads stay in cache (a 1024² matrix is 8 MB). */
static int first_asymmetry(const double *c, int d, int *ri, int *rj)
{
    const int T = 64;
    for (int i0 = 0; i0 < d; i0 += T)
        for (int j0 = i0; j0 < d; j0 += T)
            for (int i = i0; i < i0 + T && i < d; i++)
                for (int j = j0 > i + 1 ? j0 : i + 1; j < j0 + T && j < d; j++) {
                    const double a = c[(size_t)i * d + j], b = c[(size_t)j * d + i];
                    if (fabs(a - b) > 1e-10 * fmax(fabs(a), fabs(b)) + 1e-300) {
                        *ri = i;
                        *rj = j;
                        return 1;
                    }
                }
    return 0;
}

/* Relative residual max|Uᵀ Σ U v − v| / max|v| over two fixed probe vectors
 * v (a factor that inverts Σ leaves rounding, ~d·ε·cond(Σ); one that belongs
 * to other covariances leaves O(1)).  Both probes ride one sweep of each
 * matrix.  w: 6·d scratch. */
static double factor_residual(const double *U, const double *S, int d, double *w)
{
    double *v = w, *a = w + 2 * (size_t)d, *b = w + 4 * (size_t)d; /* [d][2] each */
    double vmax = 0.0;
    for (int j = 0; j < d; j++)
        for (int p = 0; p < 2; p++) {
            v[2 * j + p] =
                emgmm_hash_uniform(0x9e3779b97f4a7c15ULL, (uint64_t)p, (uint64_t)j) - 0.5;
            vmax = fmax(vmax, fabs(v[2 * j + p]));
        }
    for (int i = 0; i < d; i++) { /* a = U v (U upper: row i holds columns j >= i) */
        const double *u = U + (size_t)i * d;
        double s0 = 0.0, s1 = 0.0;
        for (int j = i; j < d; j++) {
            s0 += u[j] * v[2 * j];
            s1 += u[j] * v[2 * j + 1];
        }
        a[2 * i] = s0;
        a[2 * i + 1] = s1;
    }
    for (int i = 0; i < d; i++) { /* b = Σ a */
        const double *r = S + (size_t)i * d;
        double s0 = 0.0, s1 = 0.0;
        for (int j = 0; j < d; j++) {
            s0 += r[j] * a[2 * j];
            s1 += r[j] * a[2 * j + 1];
        }
        b[2 * i] = s0;
        b[2 * i + 1] = s1;
    }
    for (int j = 0; j < 2 * d; j++) a[j] = 0.0;
    for (int i = 0; i < d; i++) { /* a = Uᵀ b, row by row of U */
        const double *u = U + (size_t)i * d;
        const double b0 = b[2 * i], b1 = b[2 * i + 1];
        for (int j = i; j < d; j++) {
            a[2 * j] += u[j] * b0;
            a[2 * j + 1] += u[j] * b1;
        }
    }
    double err = 0.0;
    for (int j = 0; j < 2 * d; j++) {
        const double e = fabs(a[j] - v[j]);
        err = e > err || isnan(e) ? e : err;
    }
    return err / vmax;
}

/* Doubles per component of the covariances' (and factors') storage. */
static size_t per_component(const emgmm_model *m)
{
    const int full = m->cov_type == EMGMM_COV_FULL || m->cov_type == EMGMM_COV_TIED;
    return full ? (size_t)m->d * m->d : (m->cov_type == EMGMM_COV_DIAG ? (size_t)m->d : 1);
}

/* The checks of the buffers' weights, means and covariances (the one
 * validator of set_parameters and commit_parameters); *sum: the weights' sum. */
static int check_mixture(emgmm_model *m, double *sum)
{
    const int K = m->K, d = m->d;
    const double *w = m->weights;
    *sum = 0.0;
    for (int k = 0; k < K; k++) {
        if (!isfinite(w[k]) || w[k] < 0.0) {
            m->err_comp = k;
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                              "weight of component %d is %g (must be finite and >= 0)", k, w[k]);
        }
        *sum += w[k];
    }
    if (!(fabs(*sum - 1.0) <= 1e-9))
        return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "weights sum to %.17g, not 1", *sum);
    for (size_t i = 0; i < (size_t)K * (size_t)d; i++)
        if (!isfinite(m->means[i])) {
            m->err_comp = (int)(i / (size_t)d);
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "mean of component %d is not finite",
                              m->err_comp);
        }
    const int nmat = m->cov_type == EMGMM_COV_FULL ? K : (m->cov_type == EMGMM_COV_TIED ? 1 : 0);
    const size_t per = per_component(m);
    for (size_t i = 0; i < m->cov_len; i++)
        if (!isfinite(m->covariances[i])) {
            m->err_comp = m->cov_type == EMGMM_COV_TIED ? 0 : (int)(i / per);
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                              "a covariance entry of component %d is not finite", m->err_comp);
        }
    /* Full and tied matrices must be symmetric; their lower triangles are
     * what the Cholesky factorisation reads. */
    for (int k = 0; k < nmat; k++) {
        int i, j;
        if (first_asymmetry(m->covariances + (size_t)k * d * d, d, &i, &j)) {
            m->err_comp = k;
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                              "covariance of component %d is not symmetric at (%d, %d)", k, i, j);
        }
    }
    return EMGMM_OK;
}

/* The precision factors and log-determinants from the covariances, in place. */
static int compute_precisions(emgmm_model *m)
{
    int bad = -1;
    int st = emgmm_family_precisions(m->cov_type, m->K, m->d, m->covariances, m->prec_chol,
                                     m->log_det, &bad);
    if (st == EMGMM_ERR_NOT_PD) {
        m->err_comp = bad;
        return emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                          "covariance of component %d is not positive definite", bad);
    }
    return st;
}

/* The stored factor, checked in O(K·d²): finite, upper triangular, positive
 * diagonal; the log-determinant from its diagonal, summed as
 * emgmm_chol_precision sums it. */
static int check_stored_factors(emgmm_model *m)
{
    const int K = m->K, d = m->d;
    const int full = m->cov_type == EMGMM_COV_FULL || m->cov_type == EMGMM_COV_TIED;
    const int nmat = m->cov_type == EMGMM_COV_FULL ? K : (m->cov_type == EMGMM_COV_TIED ? 1 : 0);
    const size_t per = per_component(m);
    const double *U = m->prec_chol;
    for (size_t i = 0; i < m->cov_len; i++)
        if (!isfinite(U[i])) {
            m->err_comp = m->cov_type == EMGMM_COV_TIED ? 0 : (int)(i / per);
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                              "a precisions_cholesky entry of component %d is not finite",
                              m->err_comp);
        }
    const int nfac = full ? nmat : K;
    for (int k = 0; k < nfac; k++) {
        const double *u = U + (size_t)k * per;
        double ld = 0.0;
        if (full) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < i; j++)
                    if (u[(size_t)i * d + j] != 0.0) {
                        m->err_comp = k;
                        return emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                                          "precisions_cholesky of component %d is not upper "
                                          "triangular (entry (%d, %d) is %g)",
                                          k, i, j, u[(size_t)i * d + j]);
                    }
                const double uii = u[(size_t)i * d + i];
                if (!(uii > 0.0)) {
                    m->err_comp = k;
                    return emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                                      "precisions_cholesky of component %d has a non-positive "
                                      "diagonal entry %g at %d",
                                      k, uii, i);
                }
                ld += log(uii);
            }
            m->log_det[k] = ld;
        } else {
            const size_t cnt = per;
            for (size_t j = 0; j < cnt; j++) {
                if (!(u[j] > 0.0) || !(m->covariances[(size_t)k * per + j] > 0.0)) {
                    m->err_comp = k;
                    return emgmm_fail(m, EMGMM_ERR_BAD_INIT, "%s of component %d is not positive",
                                      u[j] > 0.0 ? "variance" : "precisions_cholesky entry", k);
                }
                ld += log(u[j]);
            }
            m->log_det[k] = m->cov_type == EMGMM_COV_DIAG ? ld : (double)d * ld;
        }
    }
    if (m->cov_type == EMGMM_COV_TIED)
        for (int k = 1; k < K; k++) m->log_det[k] = m->log_det[0];
    return EMGMM_OK;
}

/* EMGMM_COMMIT_CHECK_PRECISIONS: each stored factor inverts its covariance
 * on the probe vectors (full, tied), or u²σ² = 1 entry by entry. */
static int check_factors_invert(emgmm_model *m)
{
    const int K = m->K, d = m->d;
    const int full = m->cov_type == EMGMM_COV_FULL || m->cov_type == EMGMM_COV_TIED;
    const int nmat = m->cov_type == EMGMM_COV_FULL ? K : (m->cov_type == EMGMM_COV_TIED ? 1 : 0);
    const size_t per = per_component(m);
    const double *U = m->prec_chol;
    double *work = full ? malloc(6 * (size_t)d * sizeof(double)) : NULL;
    if (full && !work) return EMGMM_ERR_ALLOC;
    for (int k = 0; k < (full ? nmat : K); k++) {
        double r;
        if (full) {
            r = factor_residual(U + (size_t)k * per, m->covariances + (size_t)k * per, d, work);
        } else {
            /* u² σ² = 1 entry by entry */
            r = 0.0;
            for (size_t j = 0; j < per; j++) {
                const double u = U[(size_t)k * per + j];
                const double e = fabs(u * u * m->covariances[(size_t)k * per + j] - 1.0);
                r = e > r ? e : r;
            }
        }
        if (!(r <= EMGMM_COMMIT_CHECK_TOL)) {
            free(work);
            m->err_comp = k;
            return emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                              "precisions_cholesky of component %d does not invert its covariance "
                              "(residual %.3g > %g)",
                              k, r, EMGMM_COMMIT_CHECK_TOL);
        }
    }
    free(work);
    return EMGMM_OK;
}

int emgmm_model_commit_parameters(emgmm_model *m, unsigned flags)
{
    if (!m) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    m->fitted = 0;
    if (flags & ~(unsigned)(EMGMM_COMMIT_COMPUTE_PRECISIONS | EMGMM_COMMIT_CHECK_PRECISIONS))
        return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "unknown commit flags 0x%x", flags);
    double sum;
    int st = check_mixture(m, &sum);
    if (st) return st;
    if (flags & EMGMM_COMMIT_COMPUTE_PRECISIONS) {
        st = compute_precisions(m);
    } else {
        st = check_stored_factors(m);
        if (st == EMGMM_OK && (flags & EMGMM_COMMIT_CHECK_PRECISIONS)) st = check_factors_invert(m);
    }
    if (st) return st;
    /* Weights that sum to 1 within rounding (a fitted model's do) are kept bit
     * for bit, so a model saved and loaded again — or a resumed checkpoint —
     * continues exactly; others are renormalised. */
    const int exact = fabs(sum - 1.0) <= 4.0 * (double)m->K * DBL_EPSILON;
    if (!exact)
        for (int k = 0; k < m->K; k++) m->weights[k] /= sum;
    m->fitted = 1;
    m->n_iter = 0;
    m->converged = 0;
    m->n_reseeds = 0; /* a reseed of the initialisation (iteration 0) would still count */
    m->n_passes = 0;
    emgmm_accel_reset(m);
    return EMGMM_OK;
}
