/* accel.c — accelerated EM: SQUAREM (Varadhan & Roland 2008, scheme S3) and
 * Anderson acceleration (type II, memory AA_MEM), each with a monotone guard,
 * driven one reported iteration at a time from emgmm_fit_iterate.
 * docs/accel.md has the methods and measurements.
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

#include "src/dist/dist.h"
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

/* Anderson: the difference pairs kept, and the QR's drop tolerance */
#define AA_MEM 5
#define AA_DROP 1e-8
#define AA_CAP0 4.0
#define AA_GROW 4.0
/* An accepted candidate's gain must be at least 1/AA_SLACK times reg_covar's
 * slack (reg_bound): with a large reg_covar an extrapolation can land above
 * the likelihood the reg_covar EM keeps, and EM from there goes down
 * (d5_k4_bigreg: the slack at 1.4e-2 of the gain, the lower bound falling two
 * EM steps later).  1e-3 rejected every candidate of the end game at the
 * default reg_covar (the slack grows like the step, the gain like its square):
 * float32 diag 213 passes against plain EM's 27, wine 0.73x; 1e-2 gives 39
 * and 1.00x (bench/results/accel-suite.md). */
#define AA_SLACK 1e-2

/* Anderson's warm-up (docs/accel.md): at its second iteration, an Anderson
 * fit of the same start on every WARM_STRIDE-th row (global row index), run
 * until its lower bound changes by less than max(tol, WARM_TOL) or for
 * WARM_MAX_ITER iterations, gives a candidate that one pass over all the rows
 * then accepts or rejects like any extrapolation.  Only with at least
 * WARM_MIN_ROWS rows in the subsample.  Its passes count WARM_STRIDE to a
 * data pass, rounded up.  The constants are fixed (not max_iter's), so a fit
 * stopped and resumed makes the same warm-up. */
#define WARM_STRIDE 4
#define WARM_MIN_ROWS 2000
#define WARM_MAX_ITER 100
#define WARM_TOL 1e-5

struct emgmm_accel {
    int method; /* the method whose state is held: EMGMM_ACCEL_SQUAREM or _ANDERSON */
    /* SQUAREM */
    int phase;   /* 0: model = cycle start; 1: model = θ1 (th0 held); 2: model = θ2 (thx held) */
    double step; /* cap on s, >= 1 */
    double s_last; /* the step of the held extrapolation */
    size_t P;
    double *th0, *thx, *t1, *t2; /* [P] */
    double *work;                /* [d·d] */
    emgmm_paramset a, b;         /* scratch: the next parameters; the saved θ2 */
    /* Anderson (allocated on first use) */
    int held;      /* x, the last accepted point, is known */
    int cnt;       /* difference pairs held, <= AA_MEM, oldest first */
    double cap;    /* bound on ‖candidate − g‖ / ‖g − x‖ (>= 1); 0: plain EM */
    double s_used; /* that ratio for the candidate in hand */
    double *x, *g, *xn, *gn; /* [P]: x_k, g_k = G(x_k), the candidate, G(candidate) */
    double *dF, *dG, *Q;     /* [AA_MEM][P]: Δf, Δg columns; Q of Δf's QR */
    int inner;               /* the warm-up's own run: no warm-up of its own */
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

/* Anderson's buffers (aa_ensure) freed and cleared: by the teardown, and
 * by aa_ensure when one of them cannot be had (SQUAREM's stay). */
static void aa_release(struct emgmm_accel *A)
{
    free(A->x);
    free(A->g);
    free(A->xn);
    free(A->gn);
    free(A->dF);
    free(A->dG);
    free(A->Q);
    A->x = A->g = A->xn = A->gn = A->dF = A->dG = A->Q = NULL;
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
    aa_release(A);
    emgmm_paramset_free(&A->a);
    emgmm_paramset_free(&A->b);
    free(A);
    m->accel = NULL;
}

void emgmm_accel_reset(emgmm_model *m)
{
    if (!m || !m->accel) return;
    m->accel->method = 0;
    m->accel->phase = 0;
    m->accel->step = ACCEL_STEP0;
    m->accel->s_last = 1.0;
    m->accel->held = 0;
    m->accel->cnt = 0;
    m->accel->cap = AA_CAP0;
    m->accel->s_used = 0.0;
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

/* Parameters (weights, means, covariances of m's shape) in the accelerated
 * coordinates; nonzero when they have none (a zero weight, a covariance not PD). */
static int coords_of(const emgmm_model *m, struct emgmm_accel *A, const double *weights,
                     const double *means, const double *covs, double *t)
{
    const int K = m->K, d = m->d;
    for (int k = 0; k < K; k++) {
        if (!(weights[k] > 0.0)) return 1;
        t[k] = log(weights[k]);
    }
    double *c = t + K;
    memcpy(c, means, (size_t)K * d * sizeof(double));
    c += (size_t)K * d;
    switch (m->cov_type) {
    case EMGMM_COV_FULL:
        for (int k = 0; k < K; k++)
            if (chol_pack(d, covs + (size_t)k * d * d, A->work, c + (size_t)k * d * (d + 1) / 2))
                return 1;
        return 0;
    case EMGMM_COV_TIED: return chol_pack(d, covs, A->work, c);
    default:
        for (size_t i = 0; i < m->cov_len; i++) {
            if (!(covs[i] > 0.0)) return 1;
            c[i] = log(covs[i]);
        }
        return 0;
    }
}

/* The model's parameters in the accelerated coordinates. */
static int to_coords(const emgmm_model *m, struct emgmm_accel *A, double *t)
{
    return coords_of(m, A, m->weights, m->means, m->covariances, t);
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

/* Σ_k w_k·tr(Σ_k⁻¹) from precision factors of the model's shape (tr Σ⁻¹ =
 * ‖U‖²_F, U triangular with zeros in the other half). */
static double wtr_inv(const emgmm_model *m, const double *weights, const double *prec)
{
    const int K = m->K, d = m->d;
    double s = 0.0;
    for (int k = 0; k < K; k++) {
        const double *u;
        size_t len;
        double mult = 1.0;
        switch (m->cov_type) {
        case EMGMM_COV_FULL: u = prec + (size_t)k * d * d, len = (size_t)d * d; break;
        case EMGMM_COV_TIED: u = prec, len = (size_t)d * d; break;
        case EMGMM_COV_DIAG: u = prec + (size_t)k * d, len = (size_t)d; break;
        default: u = prec + k, len = 1, mult = d; break;
        }
        double t = 0.0;
        for (size_t i = 0; i < len; i++) t += u[i] * u[i];
        s += weights[k] * mult * t;
    }
    return s;
}

/* The M-step adds reg_covar to each covariance's diagonal, so it maximises
 * EM's Q minus (reg/2)·Σ_k N_k·tr(Σ_k⁻¹), not Q: from a point θ (the model)
 * with the M-step's result `next`, the likelihood per sample then rises by at
 * least (reg/2)·Σ_k w'_k·(tr Σ'_k⁻¹ − tr Σ_k⁻¹) (w', Σ' = next), which is
 * negative when the step widens the covariances.  On EM's own path that is
 * EM's own slack; after an extrapolated point it can be larger, so the lower
 * bound reported for an accepted extrapolation is ℓ(θ) plus this bound when
 * negative: then the EM step from it, if it is the next one reported, cannot
 * report less (exact for the four covariance types; without var_floor). */
static double reg_bound(const emgmm_model *m, const emgmm_params *p, const emgmm_paramset *next)
{
    if (!(p->reg_covar > 0.0)) return 0.0;
    const double b =
        0.5 * p->reg_covar *
        (wtr_inv(m, next->weights, next->prec_chol) - wtr_inv(m, next->weights, m->prec_chol));
    return b < 0.0 ? b : 0.0;
}

/* Failures of a pass at an extrapolated point that reject it rather than end
 * the fit: the likelihood overflowed, or its M-step met a covariance it could
 * not finish (the EM point is tried instead). */
static int rejectable(int st)
{
    return st == EMGMM_ERR_NONFINITE || st == EMGMM_ERR_NOT_PD || st == EMGMM_ERR_DEGENERATE;
}

static int squarem_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                           double *lower_bound)
{
    struct emgmm_accel *A = m->accel;
    double lb = 0.0;
    int st;
    if (A->phase == 2) {
        /* the extrapolated point θ' (valid when it was made; the same
         * arithmetic gives the same set now) against θ2, held by the model */
        emgmm_paramset_from_model(&A->b, m);
        if (from_coords(m, A, A->thx, &A->a) == 0) {
            const int seen = m->n_reseeds;
            const double l1 = m->lb_hist[m->n_iter - 1];
            emgmm_paramset_to_model(m, &A->a);
            st = emgmm_em_step(m, p, X, &A->a, &lb);
            if (st == EMGMM_OK) lb += reg_bound(m, p, &A->a);
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

/* ---- Anderson acceleration ----
 *
 * G is the EM map in the coordinates above; x the last accepted point (its
 * lower bound the last reported), g = G(x) what the model holds, f = g − x.
 * The memory holds up to AA_MEM pairs Δf, Δg of successive accepted points.
 * One reported iteration:
 *   candidate x' = g − ΔG·γ, γ = argmin ‖f − ΔF·γ‖ (Anderson, type II); its
 *     step from g at most cap·‖f‖; when it points back against f (as the
 *     secant model does while EM speeds up out of a saddle's plateau), the
 *     step g + cap·f along the EM direction instead;
 *   pass at x' → ℓ', G(x'): accepted when ℓ' (less reg_covar's slack,
 *     reg_bound) is no lower than the last reported: reported, the pair joins
 *     the memory, the cap grows ×AA_GROW when it bounded the step;
 *   else rejected (the pass counted, nothing reported): the memory restarts,
 *     the cap shrinks to the step / AA_GROW (>= 1), and the EM step at g is
 *     made and reported in the same call (one pass: ℓ(g) ≥ ℓ(x)).
 * With no memory (the start, a reseed, a rejection) the iteration is an EM
 * step.  Once an EM step does not raise the lower bound (float32 rounding,
 * reg_covar's slack: nothing left to extrapolate) the run continues as plain
 * EM.  Every decision uses all-reduced values, as SQUAREM's. */

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static int aa_ensure(struct emgmm_accel *A)
{
    if (A->x) return EMGMM_OK;
    const size_t P = A->P;
    A->x = malloc(P * sizeof(double));
    A->g = malloc(P * sizeof(double));
    A->xn = malloc(P * sizeof(double));
    A->gn = malloc(P * sizeof(double));
    A->dF = malloc(AA_MEM * P * sizeof(double));
    A->dG = malloc(AA_MEM * P * sizeof(double));
    A->Q = malloc(AA_MEM * P * sizeof(double));
    if (A->x && A->g && A->xn && A->gn && A->dF && A->dG && A->Q) return EMGMM_OK;
    aa_release(A);
    return EMGMM_ERR_ALLOC;
}

/* The candidate x' = g − ΔG·γ, γ minimising ‖f − ΔF·γ‖ with f = g − x (type
 * II Anderson mixing).  γ by a modified Gram–Schmidt QR of ΔF run twice, the
 * newest column first; an older column that adds less than AA_DROP of its norm
 * to the span of the newer ones is left out (γ = 0). */
static void aa_candidate(struct emgmm_accel *A)
{
    const size_t P = A->P;
    const int c = A->cnt;
    double R[AA_MEM][AA_MEM], gam[AA_MEM];
    int keep[AA_MEM];
    memset(R, 0, sizeof R);
    double *f = A->xn;
    for (size_t i = 0; i < P; i++) f[i] = A->g[i] - A->x[i];
    /* column j of the QR is difference pair c−1−j (newest first) */
    for (int j = 0; j < c; j++) {
        const double *v = A->dF + (size_t)(c - 1 - j) * P;
        double *q = A->Q + (size_t)j * P;
        memcpy(q, v, P * sizeof(double));
        const double n0 = sqrt(dot(v, v, P));
        for (int twice = 0; twice < 2; twice++)
            for (int i = 0; i < j; i++) {
                if (!keep[i]) continue;
                const double *qi = A->Q + (size_t)i * P;
                const double r = dot(qi, q, P);
                R[i][j] += r;
                for (size_t l = 0; l < P; l++) q[l] -= r * qi[l];
            }
        const double nj = sqrt(dot(q, q, P));
        keep[j] = nj > 0.0 && nj > AA_DROP * n0;
        R[j][j] = nj;
        if (keep[j])
            for (size_t l = 0; l < P; l++) q[l] /= nj;
    }
    for (int j = c - 1; j >= 0; j--) {
        if (!keep[j]) {
            gam[j] = 0.0;
            continue;
        }
        double s = dot(A->Q + (size_t)j * P, f, P);
        for (int i = j + 1; i < c; i++)
            if (keep[i]) s -= R[j][i] * gam[i];
        gam[j] = s / R[j][j];
    }
    memcpy(A->xn, A->g, P * sizeof(double));
    for (int j = 0; j < c; j++) {
        const double *dg = A->dG + (size_t)(c - 1 - j) * P;
        for (size_t l = 0; l < P; l++) A->xn[l] -= gam[j] * dg[l];
    }
    /* the step from g, at most cap times the last EM step ‖g − x‖ */
    double ss = 0.0, ff = 0.0, ef = 0.0;
    for (size_t l = 0; l < P; l++) {
        const double e = A->xn[l] - A->g[l], fl = A->g[l] - A->x[l];
        ss += e * e;
        ff += fl * fl;
        ef += e * fl;
    }
    if (!(ef > 0.0)) {
        /* the secant model points back against the EM step (as it does while EM
         * speeds up, leaving a saddle's neighbourhood): its differences are no
         * guide; extrapolate along the EM step by the cap instead */
        for (size_t l = 0; l < P; l++) A->xn[l] = A->g[l] + A->cap * (A->g[l] - A->x[l]);
        A->s_used = A->cap;
        return;
    }
    const double ratio = ff > 0.0 ? sqrt(ss / ff) : 0.0;
    A->s_used = ratio;
    if (ratio > A->cap) {
        const double sc = A->cap / ratio;
        for (size_t l = 0; l < P; l++) A->xn[l] = A->g[l] + sc * (A->xn[l] - A->g[l]);
        A->s_used = A->cap;
    }
}

/* The pair (xn, gn) becomes the last accepted one: its differences from
 * (x, g) join the memory (the oldest pair leaves a full one). */
static void aa_accept(struct emgmm_accel *A)
{
    const size_t P = A->P;
    if (A->held) {
        const int mem = AA_MEM;
        if (A->cnt >= mem) {
            memmove(A->dF, A->dF + P, (size_t)(mem - 1) * P * sizeof(double));
            memmove(A->dG, A->dG + P, (size_t)(mem - 1) * P * sizeof(double));
            A->cnt--;
        }
        double *df = A->dF + (size_t)A->cnt * P, *dg = A->dG + (size_t)A->cnt * P;
        for (size_t i = 0; i < P; i++) {
            df[i] = (A->gn[i] - A->xn[i]) - (A->g[i] - A->x[i]);
            dg[i] = A->gn[i] - A->g[i];
        }
        A->cnt++;
    }
    double *t = A->x;
    A->x = A->xn;
    A->xn = t;
    t = A->g;
    A->g = A->gn;
    A->gn = t;
    A->held = 1;
}

static int anderson_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                            double *lower_bound);

/* Anderson's guard: a candidate whose pass gave lower bound lb (reg_covar's
 * slack, <= 0, already added) is accepted when lb is no lower than the last
 * reported one, by a gain the slack does not eat (see reg_bound). */
static int aa_guard(double lb, double last, double slack)
{
    return lb >= last && -slack <= AA_SLACK * (lb - last);
}

/* The subsample of the warm-up: the rows of X whose global index is a
 * multiple of WARM_STRIDE, as a strided view (and their weights, copied into
 * *wbuf).  The same rows as one process would take, so the ranks of a
 * distributed fit together hold exactly the one-process subsample. */
static int warm_view(const emgmm_model *m, const emgmm_data *X, emgmm_data *Xs, double **wbuf)
{
    const size_t S = WARM_STRIDE;
    const long long row0 = emgmm_dist_row_offset(m);
    const size_t r0 = (S - (size_t)(row0 % (long long)S)) % S;
    const size_t es = X->dtype == EMGMM_F32 ? sizeof(float) : sizeof(double);
    *Xs = *X;
    *wbuf = NULL;
    Xs->n = r0 < X->n ? (X->n - r0 + S - 1) / S : 0;
    Xs->x = (const char *)X->x + r0 * X->ld * es;
    Xs->ld = X->ld * S;
    if (X->weights && Xs->n > 0) {
        double *w = malloc(Xs->n * sizeof(double));
        if (!w) return EMGMM_ERR_ALLOC;
        for (size_t i = 0; i < Xs->n; i++) w[i] = X->weights[r0 + i * S];
        Xs->weights = w;
        *wbuf = w;
    }
    return EMGMM_OK;
}

/* The warm-up (see WARM_STRIDE), made at the second iteration: *done = 1
 * when its candidate was accepted and reported as this iteration; else the
 * model, its history and the Anderson state are as before, and the caller
 * makes the iteration as usual. */
static int warm_up(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                   double *lower_bound, int *done)
{
    struct emgmm_accel *A = m->accel;
    *done = 0;
    /* the rows over all ranks (every rank reaches this point alike) */
    double rows[1] = {(double)X->n};
    int st = emgmm_dist_sum(m, rows, 1, EMGMM_OK);
    if (st) return st;
    if (rows[0] < (double)WARM_STRIDE * WARM_MIN_ROWS) return EMGMM_OK;
    emgmm_data Xs;
    double *wbuf;
    st = warm_view(m, X, &Xs, &wbuf);
    if (st) return st;

    /* what the run below changes, kept: parameters, counts; it writes its lower
     * bounds into a history of its own */
    const double last = m->lb_hist[m->n_iter - 1];
    const int n_iter = m->n_iter, n_reseeds = m->n_reseeds;
    const int inner_failures = m->inner_failures, inner_max = m->inner_max;
    const long long n_passes = m->n_passes;
    double hist[WARM_MAX_ITER];
    double *const outer_hist = m->lb_hist;
    const int outer_cap = m->lb_cap;
    emgmm_paramset_from_model(&A->b, m);

    /* Anderson on the subsample, from the model's parameters, until its lower
     * bound changes by less than q.tol (not across a reseed) */
    emgmm_params q = *p;
    q.max_iter = WARM_MAX_ITER;
    q.tol = p->tol > WARM_TOL ? p->tol : WARM_TOL;
    m->accel = NULL;
    m->lb_hist = hist;
    m->lb_cap = WARM_MAX_ITER;
    m->n_iter = 0;
    m->n_passes = 0;
    st = accel_ensure(m);
    if (st == EMGMM_OK) {
        m->accel->inner = 1;
        m->accel->method = EMGMM_ACCEL_ANDERSON;
    }
    while (st == EMGMM_OK && m->n_iter < WARM_MAX_ITER) {
        emgmm_clear_error(m);
        st = anderson_iterate(m, &q, &Xs, NULL);
        const int it = m->n_iter;
        if (st == EMGMM_OK && it >= 2 &&
            emgmm_reseeds_at(m, it) + emgmm_reseeds_at(m, it - 1) == 0 &&
            fabs(hist[it - 1] - hist[it - 2]) < q.tol)
            break;
    }
    const long long sub_passes = m->n_passes;
    emgmm_accel_free(m);
    m->accel = A;
    free(wbuf);
    m->lb_hist = outer_hist;
    m->lb_cap = outer_cap;
    m->n_iter = n_iter;
    m->n_reseeds = n_reseeds;
    m->inner_failures = inner_failures;
    m->inner_max = inner_max;
    m->n_passes = n_passes + (sub_passes + WARM_STRIDE - 1) / WARM_STRIDE;
    int ok = st == EMGMM_OK;
    if (!ok) {
        if (!rejectable(st)) {
            emgmm_paramset_to_model(m, &A->b);
            return st;
        }
        emgmm_clear_error(m);
    }
    /* the candidate (the model's parameters now) on all the rows */
    double lb = 0.0;
    if (ok) {
        ok = to_coords(m, A, A->xn) == 0;
        if (ok) {
            st = emgmm_em_step(m, p, X, &A->a, &lb);
            const double slack = st == EMGMM_OK ? reg_bound(m, p, &A->a) : 0.0;
            lb += slack;
            ok = st == EMGMM_OK && aa_guard(lb, last, slack) && m->n_reseeds == n_reseeds;
            if (st != EMGMM_OK && !rejectable(st)) {
                emgmm_paramset_to_model(m, &A->b);
                return st;
            }
        }
    }
    if (!ok) {
        emgmm_paramset_to_model(m, &A->b);
        m->n_reseeds = n_reseeds;
        m->inner_failures = inner_failures;
        m->inner_max = inner_max;
        emgmm_clear_error(m);
        return EMGMM_OK;
    }
    /* accepted: reported as this iteration; the memory restarts from it */
    emgmm_paramset_to_model(m, &A->a);
    m->lb_hist[m->n_iter++] = lb;
    if (lower_bound) *lower_bound = lb;
    A->held = 0;
    A->cnt = 0;
    if (to_coords(m, A, A->gn) == 0) aa_accept(A);
    *done = 1;
    return EMGMM_OK;
}

static int anderson_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                            double *lower_bound)
{
    struct emgmm_accel *A = m->accel;
    int st = aa_ensure(A);
    if (st) return st;
    double lb = 0.0;
    if (m->n_iter == 1 && !A->inner) {
        int done = 0;
        st = warm_up(m, p, X, lower_bound, &done);
        if (st || done) return st;
    }
    /* g = G(x) is what the model holds */
    if (A->held && to_coords(m, A, A->g)) A->held = 0;
    if (!A->held) A->cnt = 0;
    if (A->cnt > 0 && A->cap > 0.0) {
        aa_candidate(A);
        if (from_coords(m, A, A->xn, &A->a) == 0 &&
            coords_of(m, A, A->a.weights, A->a.means, A->a.covariances, A->xn) == 0) {
            emgmm_paramset_from_model(&A->b, m);
            const int seen = m->n_reseeds;
            const double last = m->lb_hist[m->n_iter - 1];
            emgmm_paramset_to_model(m, &A->a);
            st = emgmm_em_step(m, p, X, &A->a, &lb);
            const double slack = st == EMGMM_OK ? reg_bound(m, p, &A->a) : 0.0;
            lb += slack;
            if (st == EMGMM_OK && aa_guard(lb, last, slack)) {
                emgmm_paramset_to_model(m, &A->a);
                m->lb_hist[m->n_iter++] = lb;
                if (lower_bound) *lower_bound = lb;
                if (m->n_reseeds != seen || to_coords(m, A, A->gn)) {
                    A->held = 0;
                    A->cnt = 0;
                } else {
                    aa_accept(A);
                }
                if (A->s_used >= A->cap) A->cap *= AA_GROW;
                return EMGMM_OK;
            }
            emgmm_paramset_to_model(m, &A->b);
            m->n_reseeds = seen;
            if (st != EMGMM_OK && !rejectable(st)) return st;
            emgmm_clear_error(m);
        }
        /* rejected: the memory restarts with the EM step from g */
        A->cnt = 0;
        A->cap = A->s_used / AA_GROW;
        if (!(A->cap >= 1.0)) A->cap = 1.0;
    }
    /* an EM step at the model's parameters */
    const int have = to_coords(m, A, A->xn) == 0;
    const int seen = m->n_reseeds;
    const double before = m->n_iter > 0 ? m->lb_hist[m->n_iter - 1] : -INFINITY;
    st = emgmm_em_step(m, p, X, &A->a, &lb);
    if (st) return st;
    emgmm_paramset_to_model(m, &A->a);
    m->lb_hist[m->n_iter++] = lb;
    if (lower_bound) *lower_bound = lb;
    /* EM itself no longer raises the lower bound: the fit is at the level of
     * its rounding (float32 passes) or of reg_covar's slack, where
     * extrapolating only moves the parameters about; plain EM from here on */
    if (A->held && !(lb > before)) A->cap = 0.0;
    if (!have || m->n_reseeds != seen || to_coords(m, A, A->gn)) {
        A->held = 0;
        A->cnt = 0;
        return EMGMM_OK;
    }
    aa_accept(A);
    return EMGMM_OK;
}

int emgmm_accel_iterate(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                        double *lower_bound)
{
    int st = accel_ensure(m);
    if (st) return st;
    /* a state left by the other method is dropped; none (0) is adopted */
    if (m->accel->method != p->accel) {
        if (m->accel->method != 0) emgmm_accel_reset(m);
        m->accel->method = p->accel;
    }
    if (p->accel == EMGMM_ACCEL_ANDERSON) return anderson_iterate(m, p, X, lower_bound);
    return squarem_iterate(m, p, X, lower_bound);
}

long long emgmm_model_n_passes(const emgmm_model *m) { return m ? m->n_passes : 0; }

int emgmm_model_accel_state(const emgmm_model *m, int *phase, double *step, long long *n_passes,
                            double *vec, size_t *len)
{
    if (!m || !phase || !step || !n_passes || !len) return EMGMM_ERR_NULL;
    const struct emgmm_accel *A = m->accel;
    *n_passes = m->n_passes;
    if (A && A->method == EMGMM_ACCEL_ANDERSON) {
        /* phase 3: [pairs held, x, Δf columns, Δg columns] (g is the model) */
        *phase = A->held ? 3 : 0;
        *step = A->cap > 0.0 ? A->cap : 1.0;
        const size_t P = A->P, c = (size_t)A->cnt;
        const size_t need = A->held ? 1 + P + 2 * c * P : 0;
        if (vec && *len >= need && need > 0) {
            vec[0] = A->cap > 0.0 ? (double)c : -1.0 - (double)c; /* < 0: plain EM from here */
            memcpy(vec + 1, A->x, P * sizeof(double));
            memcpy(vec + 1 + P, A->dF, c * P * sizeof(double));
            memcpy(vec + 1 + P + c * P, A->dG, c * P * sizeof(double));
        }
        *len = need;
        return EMGMM_OK;
    }
    *phase = A ? A->phase : 0;
    *step = A ? A->step : ACCEL_STEP0;
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
    if (phase < 0 || phase > 3 || !(step >= 1.0) || !isfinite(step) || n_passes < 0)
        return EMGMM_ERR_INVALID_PARAM;
    if (phase > 0 && !vec) return EMGMM_ERR_NULL;
    if (phase > 0 && m->n_iter < 1) return EMGMM_ERR_INVALID_PARAM;
    int st = accel_ensure(m);
    if (st) return st;
    struct emgmm_accel *A = m->accel;
    for (size_t i = 0; i < len; i++)
        if (!isfinite(vec[i])) return EMGMM_ERR_INVALID_PARAM;
    const size_t P = A->P;
    if (phase == 3) {
        if (len < 1 || !(vec[0] >= -1.0 - AA_MEM && vec[0] <= AA_MEM) || vec[0] != floor(vec[0]))
            return EMGMM_ERR_INVALID_PARAM;
        const int plain = vec[0] < 0.0;
        const size_t c = (size_t)(plain ? -1.0 - vec[0] : vec[0]);
        if (len != 1 + P + 2 * c * P) return EMGMM_ERR_INVALID_PARAM;
        st = aa_ensure(A);
        if (st) return st;
        emgmm_accel_reset(m);
        A->method = EMGMM_ACCEL_ANDERSON;
        A->cap = plain ? 0.0 : step;
        A->held = 1;
        A->cnt = (int)c;
        memcpy(A->x, vec + 1, P * sizeof(double));
        memcpy(A->dF, vec + 1 + P, c * P * sizeof(double));
        memcpy(A->dG, vec + 1 + P + c * P, c * P * sizeof(double));
        m->n_passes = n_passes;
        return EMGMM_OK;
    }
    if (len != (phase == 0 ? 0 : P + 1)) return EMGMM_ERR_INVALID_PARAM;
    emgmm_accel_reset(m);
    A->method = phase > 0 ? EMGMM_ACCEL_SQUAREM : 0;
    A->phase = phase;
    A->step = step;
    A->cap = step; /* phase 0 of either method: its step cap */
    A->s_last = phase > 0 ? vec[P] : 1.0;
    if (phase > 0) memcpy(phase == 1 ? A->th0 : A->thx, vec, P * sizeof(double));
    m->n_passes = n_passes;
    return EMGMM_OK;
}
