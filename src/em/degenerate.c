/* degenerate.c — components that empty or collapse during EM: the reseed
 * policy (re-initialise them at the worst-explained data points), its record
 * of events, and the policy names.  The variance floor lives with the
 * families (src/family/family.c); the driver decides when to call here. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist/dist.h"
#include "src/em/driver.h"
#include "src/em/pass.h"
#include "src/family/family.h"
#include "src/linalg/linalg.h"

static const char *const degen_names[] = {"error", "reseed"};

const char *emgmm_degenerate_policy_name(int t)
{
    return (t >= 0 && t < 2) ? degen_names[t] : NULL;
}

int emgmm_degenerate_policy_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < 2; i++)
        if (strcmp(name, degen_names[i]) == 0) return i;
    return -1;
}

/* The data's weighted mean, covariance and total weight, from a pass's
 * statistics, for the reseed (emgmm_stats_data_moments). */
typedef struct {
    double *mean, *cov, total;
} data_moments;

static int reseed(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                  const emgmm_stats *st_, const double *shift, const double *floor,
                  emgmm_paramset *next, const unsigned char *bad, int iter,
                  const data_moments *pre);

/* The M-step finish under the fit's policies: the variance floor, and with
 * EMGMM_DEGEN_RESEED the components that are empty or not PD re-initialised
 * (src/em/degenerate.c) instead of failing. */
int emgmm_mstep_finish(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                       const emgmm_stats *stats, const double *shift, emgmm_paramset *next,
                       int iter)
{
    const int K = m->K;
    double *floor = NULL;
    unsigned char *bad = NULL;
    if (p->var_floor > 0.0) {
        floor = malloc((size_t)m->d * sizeof(double));
        if (!floor) return EMGMM_ERR_ALLOC;
        emgmm_variance_floor(stats, m->cov_type, shift, p->var_floor, floor);
    }
    int st = EMGMM_OK;
    data_moments pre = {NULL, NULL, 0.0};
    if (m->structure >= EMGMM_COV_EII) {
        /* mclust's structures: no reseeding (it would break the structure) */
        st = emgmm_mclust_finish(m, p, stats, shift, p->reg_covar, floor, next, iter > 0);
        free(floor);
        return st;
    }
    if (p->degenerate == EMGMM_DEGEN_RESEED) {
        bad = malloc((size_t)K);
        if (!bad) st = EMGMM_ERR_ALLOC;
        /* A finish that writes the covariances over the statistics' s2
         * (src/em/step.c, issue 22) leaves the reseed no s2 to take the
         * data's moments from: they are taken first. */
        if (st == EMGMM_OK && stats->s2 == next->covariances) {
            const int fullcov = m->cov_type == EMGMM_COV_FULL || m->cov_type == EMGMM_COV_TIED;
            pre.mean = malloc((size_t)m->d * sizeof(double));
            pre.cov = malloc((fullcov ? (size_t)m->d * m->d : (size_t)m->d) * sizeof(double));
            if (!pre.mean || !pre.cov) st = EMGMM_ERR_ALLOC;
            if (st == EMGMM_OK)
                emgmm_stats_data_moments(stats, m->cov_type, shift, pre.mean, pre.cov, &pre.total);
        }
    }
    if (st == EMGMM_OK)
        st = emgmm_family_finish(m, p, stats, shift, p->reg_covar, floor, next, bad, iter > 0);
    if (st == EMGMM_OK && bad) {
        double total = 0.0;
        int any = 0;
        for (int k = 0; k < K; k++) total += stats->nk[k];
        const double empty = emgmm_empty_threshold(m->d, total);
        for (int k = 0; k < K; k++)
            if (stats->nk[k] < empty) bad[k] = 1;
        emgmm_mark_coincident(m, next, bad);
        for (int k = 0; k < K; k++) any |= bad[k];
        if (any) st = reseed(m, p, X, stats, shift, floor, next, bad, iter, pre.mean ? &pre : NULL);
    }
    /* The full family's finish and reseed write the upper triangles; the
     * lower ones are left as they were until now, so that a step that fails
     * can restore the model's covariances from them (src/em/step.c). */
    if (st == EMGMM_OK && m->cov_type == EMGMM_COV_FULL)
        emgmm_full_mirror(K, m->d, next->covariances);
    free(floor);
    free(bad);
    free(pre.mean);
    free(pre.cov);
    return st;
}

/* Two components with the same mean and covariance (to rounding) stay the
 * same under EM forever: responsibilities split evenly and the updates are
 * identical.  That happens when an initialisation picks the same point twice
 * (random_from_data on duplicate rows, a user's model): the later one counts
 * as collapsed onto the earlier.  Same mean with different covariances (a
 * narrow and a wide component about one centre) is a legitimate mixture. */
static int coincident(const emgmm_model *m, const emgmm_paramset *next, int j, int k)
{
    const int d = m->d;
    const double *a = next->means + (size_t)j * d, *b = next->means + (size_t)k * d;
    for (int i = 0; i < d; i++)
        if (!(fabs(a[i] - b[i]) <= 1e-12 * (fabs(a[i]) + fabs(b[i])) + 1e-300)) {
            /* allow a difference far below the component's spread */
            const size_t ii = m->cov_type == EMGMM_COV_FULL ? (size_t)j * d * d + (size_t)i * d + i
                              : m->cov_type == EMGMM_COV_TIED ? (size_t)i * d + i
                              : m->cov_type == EMGMM_COV_DIAG ? (size_t)j * d + i
                                                              : (size_t)j;
            if (!(fabs(a[i] - b[i]) <= 1e-9 * sqrt(next->covariances[ii]))) return 0;
        }
    if (m->cov_type == EMGMM_COV_TIED) return 1;
    const size_t per = m->cov_type == EMGMM_COV_FULL   ? (size_t)d * d
                       : m->cov_type == EMGMM_COV_DIAG ? (size_t)d
                                                       : 1;
    const double *ca = next->covariances + (size_t)j * per,
                 *cb = next->covariances + (size_t)k * per;
    /* full: the upper triangles, all a finish has written so far (the
     * covariances are mirrored at the end of emgmm_mstep_finish) */
    for (size_t i = 0; i < per; i++)
        if ((m->cov_type != EMGMM_COV_FULL || i % (size_t)d >= i / (size_t)d) &&
            !(fabs(ca[i] - cb[i]) <= 1e-9 * (fabs(ca[i]) + fabs(cb[i]))))
            return 0;
    return 1;
}

void emgmm_mark_coincident(const emgmm_model *m, const emgmm_paramset *next, unsigned char *bad)
{
    for (int k = 1; k < m->K; k++)
        for (int j = 0; j < k && !bad[k]; j++)
            if (!bad[j] && coincident(m, next, j, k)) bad[k] = 1;
}

int emgmm_reseed_reserve(emgmm_model *m)
{
    const int cap = m->K * EMGMM_RESEED_LIMIT;
    if (m->reseed_cap >= cap) return EMGMM_OK;
    emgmm_reseed_event *e = realloc(m->reseeds, (size_t)cap * sizeof *e);
    if (!e) return EMGMM_ERR_ALLOC;
    m->reseeds = e;
    m->reseed_cap = cap;
    return EMGMM_OK;
}

int emgmm_reseeds_at(const emgmm_model *m, int iter)
{
    int c = 0;
    for (int i = 0; i < m->n_reseeds; i++) c += m->reseeds[i].iter == iter && iter <= m->n_iter;
    return c;
}

int emgmm_model_n_reseeds(const emgmm_model *m)
{
    if (!m) return 0;
    int c = 0;
    for (int i = 0; i < m->n_reseeds; i++) c += m->reseeds[i].iter <= m->n_iter;
    return c;
}

int emgmm_model_reseed_event(const emgmm_model *m, int i, int *iteration, int *component,
                             double *log_density)
{
    if (!m) return EMGMM_ERR_NULL;
    if (i < 0 || i >= emgmm_model_n_reseeds(m)) return EMGMM_ERR_INVALID_PARAM;
    /* events are in iteration order, so the counted ones come first */
    if (iteration) *iteration = m->reseeds[i].iter;
    if (component) *component = m->reseeds[i].comp;
    if (log_density) *log_density = m->reseeds[i].logdens;
    return EMGMM_OK;
}

int emgmm_model_add_reseed_event(emgmm_model *m, int iteration, int component, double log_density)
{
    if (!m) return EMGMM_ERR_NULL;
    const int n = emgmm_model_n_reseeds(m); /* the counted events are a prefix */
    if (component < 0 || component >= m->K || iteration < 0 || iteration > m->n_iter ||
        (n > 0 && m->reseeds[n - 1].iter > iteration) || n >= m->K * EMGMM_RESEED_LIMIT)
        return EMGMM_ERR_INVALID_PARAM;
    int st = emgmm_reseed_reserve(m);
    if (st) return st;
    m->reseeds[n].iter = iteration;
    m->reseeds[n].comp = component;
    m->reseeds[n].logdens = log_density;
    m->n_reseeds = n + 1;
    return EMGMM_OK;
}

/* The M lowest-density rows seen so far, lowest first, without exact
 * duplicates (a point repeated many times can seed one component only). */
typedef struct {
    int M, count, d;
    double *ld; /* [M] */
    double *x;  /* [M][d] */
} candidates;

static void cand_offer(candidates *c, double ld, const double *x)
{
    const int d = c->d;
    if (!isfinite(ld) || (c->count == c->M && !(ld < c->ld[c->count - 1]))) return;
    for (int j = 0; j < d; j++)
        if (!isfinite(x[j])) return;
    for (int q = 0; q < c->count; q++)
        if (memcmp(c->x + (size_t)q * d, x, (size_t)d * sizeof(double)) == 0) return;
    int pos = c->count < c->M ? c->count : c->M - 1;
    while (pos > 0 && ld < c->ld[pos - 1]) {
        c->ld[pos] = c->ld[pos - 1];
        memcpy(c->x + (size_t)pos * d, c->x + (size_t)(pos - 1) * d, (size_t)d * sizeof(double));
        pos--;
    }
    c->ld[pos] = ld;
    memcpy(c->x + (size_t)pos * d, x, (size_t)d * sizeof(double));
    if (c->count < c->M) c->count++;
}

/* The healthy components of next (weights renormalised), to score the rows
 * with: a parameter set of H components. */
static int healthy_params(const emgmm_model *m, const emgmm_paramset *next,
                          const unsigned char *bad, emgmm_paramset *h, int *H_out)
{
    const int K = m->K, d = m->d;
    int H = 0;
    double wsum = 0.0;
    for (int k = 0; k < K; k++)
        if (!bad[k]) {
            H++;
            wsum += next->weights[k];
        }
    *H_out = H;
    int st = emgmm_paramset_alloc(h, H, d, emgmm_cov_len(m->cov_type, H, d));
    if (st) return st;
    const size_t per = m->cov_type == EMGMM_COV_FULL        ? (size_t)d * d
                       : m->cov_type == EMGMM_COV_DIAG      ? (size_t)d
                       : m->cov_type == EMGMM_COV_SPHERICAL ? 1
                                                            : 0;
    if (m->cov_type == EMGMM_COV_TIED) {
        memcpy(h->covariances, next->covariances, (size_t)d * d * sizeof(double));
        memcpy(h->prec_chol, next->prec_chol, (size_t)d * d * sizeof(double));
    }
    for (int k = 0, q = 0; k < K; k++) {
        if (bad[k]) continue;
        h->weights[q] = next->weights[k] / wsum;
        memcpy(h->means + (size_t)q * d, next->means + (size_t)k * d, (size_t)d * sizeof(double));
        if (per) {
            memcpy(h->covariances + q * per, next->covariances + k * per, per * sizeof(double));
            memcpy(h->prec_chol + q * per, next->prec_chol + k * per, per * sizeof(double));
        }
        h->log_det[q] = next->log_det[k];
        q++;
    }
    return EMGMM_OK;
}

/* One pass scoring the local rows under the healthy components (rows with
 * NaN scored on what they observe), keeping the lowest-density rows (with
 * weight > 0) in c; bounded memory: one chunk of log-densities. */
static int score_rows(emgmm_model *m, const emgmm_mixture *h, const emgmm_params *p,
                      const emgmm_data *X, candidates *c)
{
    const size_t n = X->n, d = X->d, chunk = 16384;
    const size_t esz = X->dtype == EMGMM_F32 ? sizeof(float) : sizeof(double);
    double *ld = malloc((n < chunk ? (n ? n : 1) : chunk) * sizeof(double));
    double *row = malloc(d * sizeof(double));
    int st = ld && row ? EMGMM_OK : EMGMM_ERR_ALLOC;
    for (size_t i0 = 0; i0 < n && st == EMGMM_OK; i0 += chunk) {
        const size_t nb = n - i0 < chunk ? n - i0 : chunk;
        emgmm_data sub = *X;
        sub.x = (const char *)X->x + i0 * X->ld * esz;
        sub.n = nb;
        sub.weights = NULL;
        emgmm_pass_failure fail;
        emgmm_pass pass;
        memset(&pass, 0, sizeof pass);
        pass.mode = EMGMM_PASS_ESTEP;
        pass.mix = h;
        pass.missing = p->missing;
        pass.logdens = ld;
        pass.n_threads = p->n_threads;
        pass.block_size = (size_t)p->block_size;
        pass.params = p;
        pass.fail = &fail;
        st = emgmm_pass_run(&pass, &sub);
        if (st) {
            char why[256] = "";
            emgmm_pass_failure_message(why, sizeof why, &fail, 0);
            st = emgmm_fail(m, st, "scoring the rows to reseed from failed: %s", why);
            break;
        }
        for (size_t i = 0; i < nb; i++) {
            if (X->weights && !(X->weights[i0 + i] > 0.0)) continue;
            if (c->count == c->M && !(ld[i] < c->ld[c->count - 1])) continue;
            for (size_t j = 0; j < d; j++)
                row[j] = X->dtype == EMGMM_F32 ? (double)((const float *)sub.x)[i * X->ld + j]
                                               : ((const double *)sub.x)[i * X->ld + j];
            cand_offer(c, ld[i], row);
        }
    }
    free(ld);
    free(row);
    return st;
}

/* Distributed: every rank's candidates to every rank (one sum of a buffer in
 * which each rank fills its own slot), merged in rank order so that all ranks
 * choose the same points.  Agrees on st in the same message. */
static int merge_ranks(emgmm_model *m, candidates *c, int st)
{
    if (!emgmm_dist_active(m)) return st;
    int rank = 0, size = 1;
    emgmm_dist_rank_size(m, &rank, &size);
    const size_t M = (size_t)c->M, d = (size_t)c->d, per = 2 + d;
    double *buf = calloc((size_t)size * M * per, sizeof(double));
    if (!buf && st == EMGMM_OK) st = EMGMM_ERR_ALLOC;
    /* agree first, so that every rank sends the big message or none does */
    st = emgmm_dist_agree(m, st);
    if (st) {
        free(buf);
        return st;
    }
    if (st == EMGMM_OK)
        for (int q = 0; q < c->count; q++) {
            double *e = buf + ((size_t)rank * M + (size_t)q) * per;
            e[0] = 1.0;
            e[1] = c->ld[q];
            memcpy(e + 2, c->x + (size_t)q * d, d * sizeof(double));
        }
    st = emgmm_dist_sum(m, buf, (size_t)size * M * per, st);
    if (st == EMGMM_OK) {
        c->count = 0;
        for (size_t q = 0; q < (size_t)size * M; q++) {
            const double *e = buf + q * per;
            if (e[0] == 1.0) cand_offer(c, e[1], e + 2);
        }
    }
    free(buf);
    return st;
}

/* x coincides with the mean mu when they differ by no more than rounding,
 * measured against each feature's spread in the data. */
static int same_point(const double *x, const double *mu, const double *var, int d)
{
    for (int j = 0; j < d; j++) {
        const double tol = 1e-9 * (fabs(x[j]) + fabs(mu[j]) + sqrt(var[j] > 0.0 ? var[j] : 0.0));
        if (!(fabs(x[j] - mu[j]) <= tol)) return 0;
    }
    return 1;
}

/* Whether reseeding can help: not when every component is bad (or the tied
 * covariance all share), nor past EMGMM_RESEED_LIMIT reseeds of a component.
 * Drops the events of a superseded history (iterations past n_iter). */
static int reseed_allowed(emgmm_model *m, const emgmm_params *p, const unsigned char *bad, int R)
{
    const int K = m->K, type = m->cov_type;
    int first_bad = -1;
    for (int k = 0; k < K && first_bad < 0; k++)
        if (bad[k]) first_bad = k;
    if (R == K) {
        if (type != EMGMM_COV_TIED) m->err_comp = first_bad; /* tied: no one component's */
        return emgmm_fail(
            m, EMGMM_ERR_NOT_PD,
            type == EMGMM_COV_TIED
                ? "the tied covariance is not positive definite after adding reg_covar=%g, "
                  "and reseeding cannot help a covariance all components share "
                  "(raise reg_covar or var_floor, or scale the data)"
                : "every component collapsed (reg_covar=%g); the data covariance is "
                  "singular, with a constant feature or fewer distinct points than "
                  "features? (raise reg_covar or var_floor)",
            p->reg_covar);
    }
    int st = emgmm_reseed_reserve(m);
    if (st) return st;
    while (m->n_reseeds > 0 && m->reseeds[m->n_reseeds - 1].iter > m->n_iter) m->n_reseeds--;
    for (int k = 0; k < K; k++) {
        if (!bad[k]) continue;
        int used = 0;
        for (int i = 0; i < m->n_reseeds; i++) used += m->reseeds[i].comp == k;
        if (used >= EMGMM_RESEED_LIMIT) {
            m->err_comp = k;
            return emgmm_fail(
                m, EMGMM_ERR_DEGENERATE,
                "component %d collapsed again after %d reseeds (fewer distinct points "
                "than components? use fewer components, or raise reg_covar or var_floor)",
                k, used);
        }
    }
    return EMGMM_OK;
}

/* Component k of next re-initialised at point x: the given weight, and the
 * data's covariance (dcov, its diagonal dvar) scaled by s, plus reg_covar and
 * the floor.  Tied: the shared covariance and its factor stay as they are. */
static int reseed_component(emgmm_model *m, const emgmm_params *p, const double *floor,
                            const double *dcov, const double *dvar, double s, double wnew,
                            const double *x, int k, emgmm_paramset *next, double *work)
{
    const int d = m->d, type = m->cov_type;
    int st = EMGMM_OK;
    memcpy(next->means + (size_t)k * d, x, (size_t)d * sizeof(double));
    next->weights[k] = wnew;
    if (type == EMGMM_COV_FULL) {
        /* the upper triangle, as the finish writes (emgmm_mstep_finish mirrors) */
        double *cov = next->covariances + (size_t)k * d * d;
        for (size_t i = 0; i < (size_t)d; i++)
            for (size_t j = i; j < (size_t)d; j++) cov[i * d + j] = s * dcov[i * d + j];
        for (int j = 0; j < d; j++) {
            double *v = cov + (size_t)j * d + j;
            *v += p->reg_covar;
            if (floor && *v < floor[j]) *v = floor[j];
        }
        int info = emgmm_chol_precision_upper(d, cov, next->prec_chol + (size_t)k * d * d,
                                              &next->log_det[k], work);
        if (info < 0) st = EMGMM_ERR_INTERNAL;
        if (info > 0) st = EMGMM_ERR_NOT_PD;
    } else if (type == EMGMM_COV_DIAG || type == EMGMM_COV_SPHERICAL) {
        const int per = type == EMGMM_COV_DIAG ? d : 1;
        double *cov = next->covariances + (size_t)k * per;
        double vs = 0.0;
        for (int j = 0; j < d; j++) {
            double v = s * dvar[j] + p->reg_covar;
            if (floor && type == EMGMM_COV_DIAG && v < floor[j]) v = floor[j];
            if (type == EMGMM_COV_DIAG) cov[j] = v;
            vs += v;
        }
        if (type == EMGMM_COV_SPHERICAL) cov[0] = floor && vs / d < floor[0] ? floor[0] : vs / d;
        st = emgmm_diag_precisions(type, 1, d, cov, next->prec_chol + (size_t)k * per,
                                   &next->log_det[k], NULL);
    }
    if (st == EMGMM_ERR_NOT_PD) {
        m->err_comp = k;
        st = emgmm_fail(m, EMGMM_ERR_NOT_PD,
                        "component %d collapsed, and its reseeded covariance (the data's, "
                        "scaled) is not positive definite after adding reg_covar=%g either: the "
                        "data covariance is singular (raise reg_covar or var_floor)",
                        k, p->reg_covar);
    }
    return st;
}

/* The next candidate row, from *next_cand on, that is not already a
 * component's mean (the healthy ones', and the bad ones' before k); NULL
 * when none is left. */
static const double *next_point(const candidates *c, int *next_cand, const emgmm_paramset *next,
                                const unsigned char *bad, int K, int k, const double *dvar,
                                double *xld)
{
    const int d = c->d;
    while (*next_cand < c->count) {
        const double *cx = c->x + (size_t)*next_cand * d;
        int taken = 0;
        for (int q = 0; q < K && !taken; q++)
            if (!bad[q] || q < k) taken = same_point(cx, next->means + (size_t)q * d, dvar, d);
        *xld = c->ld[*next_cand];
        (*next_cand)++;
        if (!taken) return cx;
    }
    return NULL;
}

/* Each bad component takes the next worst point that is not already a
 * component's mean; the kept components make room for the new ones. */
static int place_reseeds(emgmm_model *m, const emgmm_params *p, const double *floor,
                         const double *dcov, const double *dvar, const candidates *c,
                         emgmm_paramset *next, const unsigned char *bad, int R, int iter,
                         double *work)
{
    const int K = m->K, d = m->d;
    const double s = pow((double)K, -2.0 / (double)d); /* an equal share of the data's volume */
    const double wnew = 0.5 / (double)K;
    int next_cand = 0, st = EMGMM_OK;
    for (int k = 0; k < K && st == EMGMM_OK; k++) {
        if (!bad[k]) continue;
        double xld = 0.0;
        const double *x = next_point(c, &next_cand, next, bad, K, k, dvar, &xld);
        if (!x) {
            m->err_comp = k;
            st = emgmm_fail(m, EMGMM_ERR_DEGENERATE,
                            "component %d collapsed and no data point is left to reseed it from: "
                            "every point lies at a component's mean (fewer distinct points than "
                            "components? use fewer components)",
                            k);
            break;
        }
        st = reseed_component(m, p, floor, dcov, dvar, s, wnew, x, k, next, work);
        if (st) break;
        m->reseeds[m->n_reseeds].iter = iter;
        m->reseeds[m->n_reseeds].comp = k;
        m->reseeds[m->n_reseeds].logdens = xld;
        m->n_reseeds++;
    }
    if (st == EMGMM_OK) {
        double kept = 0.0;
        for (int k = 0; k < K; k++)
            if (!bad[k]) kept += next->weights[k];
        const double scale = (1.0 - (double)R * wnew) / kept;
        for (int k = 0; k < K; k++)
            if (!bad[k]) next->weights[k] *= scale;
    } else {
        /* nothing of a failed reseed is recorded */
        while (m->n_reseeds > 0 && m->reseeds[m->n_reseeds - 1].iter == iter) m->n_reseeds--;
    }
    return st;
}

static int reseed(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                  const emgmm_stats *st_, const double *shift, const double *floor,
                  emgmm_paramset *next, const unsigned char *bad, int iter, const data_moments *pre)
{
    const int K = m->K, d = m->d, type = m->cov_type;
    int R = 0;
    for (int k = 0; k < K; k++) R += bad[k] != 0;
    if (R == 0) return EMGMM_OK;
    int st = reseed_allowed(m, p, bad, R);
    if (st) return st;

    /* The data's moments: the reseeded covariance, and the scale for telling
     * a candidate from a component's mean. */
    const int fullcov = type == EMGMM_COV_FULL || type == EMGMM_COV_TIED;
    double *dmean = malloc((size_t)d * sizeof(double));
    double *dcov = malloc((fullcov ? (size_t)d * d : (size_t)d) * sizeof(double));
    double *dvar = malloc((size_t)d * sizeof(double));
    double *work = malloc((fullcov ? (size_t)d * d : 1) * sizeof(double));
    candidates c = {R + 8, 0, d, NULL, NULL};
    c.ld = malloc((size_t)c.M * sizeof(double));
    c.x = malloc((size_t)c.M * d * sizeof(double));
    emgmm_paramset h = {0};
    int H = 0;
    st = dmean && dcov && dvar && work && c.ld && c.x ? EMGMM_OK : EMGMM_ERR_ALLOC;
    double W = 0.0;
    if (st == EMGMM_OK) {
        if (pre) {
            memcpy(dmean, pre->mean, (size_t)d * sizeof(double));
            memcpy(dcov, pre->cov, (fullcov ? (size_t)d * d : (size_t)d) * sizeof(double));
            W = pre->total;
        } else {
            emgmm_stats_data_moments(st_, type, shift, dmean, dcov, &W);
        }
        for (int j = 0; j < d; j++) dvar[j] = fullcov ? dcov[(size_t)j * d + j] : dcov[j];
        st = healthy_params(m, next, bad, &h, &H);
    }
    if (st == EMGMM_OK) {
        const emgmm_mixture hm = emgmm_paramset_mixture(&h, H, d, type);
        st = score_rows(m, &hm, p, X, &c);
    }
    st = merge_ranks(m, &c, st); /* collective: reached by every rank */
    if (st == EMGMM_OK)
        st = place_reseeds(m, p, floor, dcov, dvar, &c, next, bad, R, iter, work);
    else /* nothing of a failed reseed is recorded */
        while (m->n_reseeds > 0 && m->reseeds[m->n_reseeds - 1].iter == iter) m->n_reseeds--;
    emgmm_paramset_free(&h);
    free(dmean);
    free(dcov);
    free(dvar);
    free(work);
    free(c.ld);
    free(c.x);
    return st;
}
