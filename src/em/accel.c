/* accel.c — accelerated EM: SQUAREM (Varadhan & Roland 2008, scheme S3)
 * with a monotone guard, driven one reported iteration at a time from
 * emgmm_fit_iterate.  docs/accel.md has the method and measurements.
 *
 * Let M be the EM map (one data pass at θ gives ℓ(θ) and M(θ)).  A cycle
 * from θ0:
 *   pass at θ0 → ℓ0, θ1 = M(θ0)             (phase 0; reported: ℓ0)
 *   pass at θ1 → ℓ1, θ2 = M(θ1)             (phase 1; reported: ℓ1)
 *   r = θ1 − θ0, v = θ2 − 2θ1 + θ0, s = ‖r‖/‖v‖ clipped to [1, step]
 *   θ' = θ0 + 2s·r + s²·v                   (α = −s ≤ −1 in the paper's terms)
 *   pass at θ' → ℓ', M(θ')                  (phase 2)
 *     ℓ' ≥ ℓ1: accepted, ℓ' reported, the next cycle starts at M(θ') (the
 *              stabilising EM step of the paper);
 *     else:    rejected (the pass is counted, nothing reported), the step cap
 *              shrinks towards 1, and the EM point θ2 is used instead: its
 *              pass (ℓ(θ2) ≥ ℓ1 by EM's monotonicity) is reported and starts
 *              the next cycle.
 * So every reported lower bound is at least the one before it, and between
 * calls the model always holds M(last evaluated point), exactly as plain EM
 * leaves it: an extrapolated point is never what a caller sees, and every
 * reported covariance comes from an ordinary M-step (PD by its dpotrf).
 *
 * Coordinates of θ in which any point is valid: log-weights (softmax back),
 * means as they are, and for each covariance its lower Cholesky factor with
 * the diagonal as logs (diag/spherical: log-variances).  An extrapolated point
 * whose covariance still fails dpotrf (underflow) or holds a non-finite value
 * is rejected without a pass.  A reseed (degenerate components) restarts the
 * cycle: extrapolating across it means nothing.
 *
 * Every decision uses the all-reduced log-likelihood and parameters that are
 * the same on every rank, so distributed ranks decide alike. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/em/driver.h"
#include "src/family/family.h"
#include "src/linalg/linalg.h"

/* The step cap starts at 4 and grows by this factor each time an accepted
 * step reached it (Varadhan & Roland's adaptive "mstep"); a rejection sets it
 * to a quarter of the failed step (at least 1).  Starting at 1 (their
 * default: the first cycle plain EM) or with no cap measured the same to
 * within a few passes on bench/bench_accel.py's suite; 4 did best on its
 * worst cases (iris 12 passes against 15, wine 17 against 20). */
#define ACCEL_STEP0 4.0
#define ACCEL_GROW 4.0

struct emgmm_accel {
    int phase;   /* 0: model = cycle start; 1: model = θ1 (th0 held); 2: model = θ2 (thx held) */
    double step; /* cap on s, >= 1 */
    double s_last; /* the step of the held extrapolation */
    size_t P;
    double *th0, *thx, *t1, *t2; /* [P] */
    double *work;                /* [d·d] */
    emgmm_paramset a, b;         /* scratch: the next parameters; the saved θ2 */
};

static size_t cov_coords(const emgmm_model *m)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    switch (m->cov_type) {
    case EMGMM_COV_FULL: return K * d * (d + 1) / 2;
    case EMGMM_COV_TIED: return d * (d + 1) / 2;
    case EMGMM_COV_DIAG: return K * d;
    default: return K;
    }
}

void emgmm_accel_free(emgmm_model *m)
{
    struct emgmm_accel *A = m ? m->accel : NULL;
    if (!A) return;
    free(A->th0);
    free(A->thx);
    free(A->t1);
    free(A->t2);
    free(A->work);
    emgmm_paramset_free(&A->a);
    emgmm_paramset_free(&A->b);
    free(A);
    m->accel = NULL;
}

void emgmm_accel_reset(emgmm_model *m)
{
    if (!m || !m->accel) return;
    m->accel->phase = 0;
    m->accel->step = ACCEL_STEP0;
    m->accel->s_last = 1.0;
}

static int accel_ensure(emgmm_model *m)
{
    if (m->accel) return EMGMM_OK;
    struct emgmm_accel *A = calloc(1, sizeof *A);
    if (!A) return EMGMM_ERR_ALLOC;
    m->accel = A;
    A->P = (size_t)m->K + (size_t)m->K * m->d + cov_coords(m);
    A->th0 = malloc(A->P * sizeof(double));
    A->thx = malloc(A->P * sizeof(double));
    A->t1 = malloc(A->P * sizeof(double));
    A->t2 = malloc(A->P * sizeof(double));
    A->work = malloc((size_t)m->d * m->d * sizeof(double));
    int st = (A->th0 && A->thx && A->t1 && A->t2 && A->work) ? EMGMM_OK : EMGMM_ERR_ALLOC;
    if (st == EMGMM_OK) st = emgmm_paramset_alloc(&A->a, m->K, m->d, m->cov_len);
    if (st == EMGMM_OK) st = emgmm_paramset_alloc(&A->b, m->K, m->d, m->cov_len);
    if (st) {
        emgmm_accel_free(m);
        return st;
    }
    emgmm_accel_reset(m);
    return EMGMM_OK;
}

/* One d×d covariance → its lower Cholesky factor, log diagonal, packed row by
 * row (i >= j).  Returns nonzero when it is not PD. */
static int chol_pack(int d, const double *cov, double *work, double *out)
{
    memcpy(work, cov, (size_t)d * d * sizeof(double));
    if (emgmm_dpotrf_lower(d, work) != 0) return 1;
    size_t q = 0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            const double v = work[(size_t)i * d + j];
            out[q++] = i == j ? log(v) : v;
        }
    return 0;
}

/* The inverse: Σ = L·Lᵀ from the packed coordinates (L's diagonal exp'd). */
static void chol_unpack(int d, const double *in, double *work, double *cov)
{
    size_t q = 0;
    for (int i = 0; i < d; i++) {
        for (int j = 0; j <= i; j++, q++) work[(size_t)i * d + j] = i == j ? exp(in[q]) : in[q];
        for (int j = i + 1; j < d; j++) work[(size_t)i * d + j] = 0.0;
    }
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            const double *li = work + (size_t)i * d, *lj = work + (size_t)j * d;
            double s = 0.0;
            for (int l = 0; l <= j; l++) s += li[l] * lj[l];
            cov[(size_t)i * d + j] = s;
            cov[(size_t)j * d + i] = s;
        }
}

/* The model's parameters in the accelerated coordinates. */
static int to_coords(const emgmm_model *m, struct emgmm_accel *A, double *t)
{
    const int K = m->K, d = m->d;
    for (int k = 0; k < K; k++) {
        if (!(m->weights[k] > 0.0)) return 1;
        t[k] = log(m->weights[k]);
    }
    double *c = t + K;
    memcpy(c, m->means, (size_t)K * d * sizeof(double));
    c += (size_t)K * d;
    switch (m->cov_type) {
    case EMGMM_COV_FULL:
        for (int k = 0; k < K; k++)
            if (chol_pack(d, m->covariances + (size_t)k * d * d, A->work,
                          c + (size_t)k * d * (d + 1) / 2))
                return 1;
        return 0;
    case EMGMM_COV_TIED: return chol_pack(d, m->covariances, A->work, c);
    default:
        for (size_t i = 0; i < m->cov_len; i++) {
            if (!(m->covariances[i] > 0.0)) return 1;
            c[i] = log(m->covariances[i]);
        }
        return 0;
    }
}

/* Coordinates → a complete parameter set (weights, means, covariances,
 * precision factors, log-dets).  Nonzero when the point is not usable: a
 * non-finite coordinate or value, or a covariance failing dpotrf. */
static int from_coords(const emgmm_model *m, struct emgmm_accel *A, const double *t,
                       emgmm_paramset *ps)
{
    const int K = m->K, d = m->d;
    for (size_t i = 0; i < A->P; i++)
        if (!isfinite(t[i])) return 1;
    double mx = t[0];
    for (int k = 1; k < K; k++) mx = t[k] > mx ? t[k] : mx;
    double z = 0.0;
    for (int k = 0; k < K; k++) z += (ps->weights[k] = exp(t[k] - mx));
    for (int k = 0; k < K; k++) ps->weights[k] /= z;
    const double *c = t + K;
    memcpy(ps->means, c, (size_t)K * d * sizeof(double));
    c += (size_t)K * d;
    switch (m->cov_type) {
    case EMGMM_COV_FULL:
        for (int k = 0; k < K; k++)
            chol_unpack(d, c + (size_t)k * d * (d + 1) / 2, A->work,
                        ps->covariances + (size_t)k * d * d);
        break;
    case EMGMM_COV_TIED: chol_unpack(d, c, A->work, ps->covariances); break;
    default:
        for (size_t i = 0; i < m->cov_len; i++) ps->covariances[i] = exp(c[i]);
        break;
    }
    for (size_t i = 0; i < m->cov_len; i++)
        if (!isfinite(ps->covariances[i]) || ps->covariances[i] > 1e300) return 1;
    int bad = -1;
    if (emgmm_family_precisions(m->cov_type, K, d, ps->covariances, ps->prec_chol, ps->log_det,
                                &bad))
        return 1;
    for (int k = 0; k < K; k++)
        if (!isfinite(ps->log_det[k]) || !(ps->weights[k] > 0.0)) return 1;
    return 0;
}

/* θ' = θ0 + 2s·r + s²·v from θ0, θ1, θ2; returns the step s used. */
static double extrapolate(struct emgmm_accel *A)
{
    double rr = 0.0, vv = 0.0;
    for (size_t i = 0; i < A->P; i++) {
        const double r = A->t1[i] - A->th0[i];
        const double v = A->t2[i] - 2.0 * A->t1[i] + A->th0[i];
        rr += r * r;
        vv += v * v;
    }
    double s = vv > 0.0 ? sqrt(rr / vv) : A->step;
    if (!(s >= 1.0)) s = 1.0;
    if (s > A->step) s = A->step;
    for (size_t i = 0; i < A->P; i++) {
        const double r = A->t1[i] - A->th0[i];
        const double v = A->t2[i] - 2.0 * A->t1[i] + A->th0[i];
        A->thx[i] = A->th0[i] + 2.0 * s * r + s * s * v;
    }
    return s;
}

/* Failures of a pass at an extrapolated point that reject it rather than end
 * the fit: the likelihood overflowed, or its M-step met a covariance it could
 * not finish (the EM point is tried instead). */
static int rejectable(int st)
{
    return st == EMGMM_ERR_NONFINITE || st == EMGMM_ERR_NOT_PD || st == EMGMM_ERR_DEGENERATE;
}

int emgmm_accel_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                        double *lower_bound)
{
    int st = accel_ensure(m);
    if (st) return st;
    struct emgmm_accel *A = m->accel;
    double lb = 0.0;
    if (A->phase == 2) {
        /* the extrapolated point θ' (valid when it was made; the same
         * arithmetic gives the same set now) against θ2, held by the model */
        emgmm_paramset_from_model(&A->b, m);
        if (from_coords(m, A, A->thx, &A->a) == 0) {
            const int seen = m->n_reseeds;
            const double l1 = m->lb_hist[m->n_iter - 1];
            emgmm_paramset_to_model(m, &A->a);
            st = emgmm_em_step(m, p, X, &A->a, &lb);
            if (st == EMGMM_OK && lb >= l1) {
                emgmm_paramset_to_model(m, &A->a);
                m->lb_hist[m->n_iter++] = lb;
                if (lower_bound) *lower_bound = lb;
                if (A->s_last >= A->step) A->step *= ACCEL_GROW;
                A->phase = 0;
                return EMGMM_OK;
            }
            emgmm_paramset_to_model(m, &A->b);
            m->n_reseeds = seen;
            if (st != EMGMM_OK && !rejectable(st)) return st;
            emgmm_clear_error(m);
        }
        A->step = A->s_last / ACCEL_GROW > 1.0 ? A->s_last / ACCEL_GROW : 1.0;
        A->phase = 0;
    }
    /* an EM step at the model's parameters: θ0 → θ1 (phase 0) or θ1 → θ2 */
    double *cur = A->phase == 0 ? A->th0 : A->t1;
    const int have = to_coords(m, A, cur) == 0;
    const int seen = m->n_reseeds;
    st = emgmm_em_step(m, p, X, &A->a, &lb);
    if (st) return st;
    emgmm_paramset_to_model(m, &A->a);
    m->lb_hist[m->n_iter++] = lb;
    if (lower_bound) *lower_bound = lb;
    if (!have || m->n_reseeds != seen) {
        A->phase = 0;
        return EMGMM_OK;
    }
    if (A->phase == 0) {
        A->phase = 1;
        return EMGMM_OK;
    }
    A->phase = 0;
    if (to_coords(m, A, A->t2)) return EMGMM_OK;
    A->s_last = extrapolate(A);
    if (from_coords(m, A, A->thx, &A->b)) {
        A->step = A->s_last / ACCEL_GROW > 1.0 ? A->s_last / ACCEL_GROW : 1.0;
        return EMGMM_OK;
    }
    A->phase = 2;
    return EMGMM_OK;
}

long long emgmm_model_n_passes(const emgmm_model *m) { return m ? m->n_passes : 0; }

int emgmm_model_accel_state(const emgmm_model *m, int *phase, double *step, long long *n_passes,
                            double *vec, size_t *len)
{
    if (!m || !phase || !step || !n_passes || !len) return EMGMM_ERR_NULL;
    const struct emgmm_accel *A = m->accel;
    *phase = A ? A->phase : 0;
    *step = A ? A->step : ACCEL_STEP0;
    *n_passes = m->n_passes;
    const size_t need = *phase == 0 ? 0 : A->P + 1;
    if (vec && *len >= need && need > 0) {
        memcpy(vec, *phase == 1 ? A->th0 : A->thx, A->P * sizeof(double));
        vec[A->P] = A->s_last;
    }
    *len = need;
    return EMGMM_OK;
}

int emgmm_model_set_accel_state(emgmm_model *m, int phase, double step, long long n_passes,
                                const double *vec, size_t len)
{
    if (!m) return EMGMM_ERR_NULL;
    if (phase < 0 || phase > 2 || !(step >= 1.0) || !isfinite(step) || n_passes < 0)
        return EMGMM_ERR_INVALID_PARAM;
    if (phase > 0 && !vec) return EMGMM_ERR_NULL;
    if (phase > 0 && m->n_iter < 1) return EMGMM_ERR_INVALID_PARAM;
    int st = accel_ensure(m);
    if (st) return st;
    struct emgmm_accel *A = m->accel;
    if (len != (phase == 0 ? 0 : A->P + 1)) return EMGMM_ERR_INVALID_PARAM;
    for (size_t i = 0; i < len; i++)
        if (!isfinite(vec[i])) return EMGMM_ERR_INVALID_PARAM;
    A->phase = phase;
    A->step = step;
    A->s_last = phase > 0 ? vec[A->P] : 1.0;
    if (phase > 0) memcpy(phase == 1 ? A->th0 : A->thx, vec, A->P * sizeof(double));
    m->n_passes = n_passes;
    return EMGMM_OK;
}
