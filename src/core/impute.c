/* impute.c — imputation under a fitted model: each missing coordinate's
 * conditional expectation given the row's observed ones (or a draw from the
 * conditional distribution), from the responsibilities of one marginal
 * E-step pass. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/core/core.h"
#include "src/dist/dist.h"
#include "src/em/pass.h"
#include "src/linalg/linalg.h"

static double value_at(const emgmm_data *X, size_t i, size_t j)
{
    return X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * X->ld + j]
                                 : (double)((const float *)X->x)[i * X->ld + j];
}

/* Conditional mean (and, for a draw, a sample) of row x's missing coordinates
 * M under component k, in the original coordinates: out[a] for M[a].
 * P_MM = L·Lᵀ; mean = μ_M − P_MM⁻¹ P_MO (x_O − μ_O); covariance P_MM⁻¹. */
static int cond_component(const emgmm_model *m, const double *P, size_t k, const double *x,
                          const size_t *M, size_t msz, const double *z, double *scr, double *out)
{
    const size_t d = (size_t)m->d;
    const double *mu = m->means + k * d;
    const int type = m->cov_type;
    if (type == EMGMM_COV_DIAG || type == EMGMM_COV_SPHERICAL) {
        for (size_t a = 0; a < msz; a++) {
            const size_t j = M[a];
            out[a] = mu[j];
            if (z) {
                const double pc =
                    type == EMGMM_COV_DIAG ? m->prec_chol[k * d + j] : m->prec_chol[k];
                out[a] += z[a] / pc;
            }
        }
        return 0;
    }
    double *L = scr, *t = scr + msz * msz;
    size_t a = 0;
    for (size_t q = 0; q < msz; q++) {
        const double *pr = P + M[q] * d;
        double s = 0.0;
        a = 0;
        for (size_t l = 0; l < d; l++) {
            if (a < msz && M[a] == l) {
                a++;
                continue;
            }
            s += pr[l] * (x[l] - mu[l]);
        }
        t[q] = s;
        for (size_t b = 0; b <= q; b++) L[q * msz + b] = pr[M[b]];
    }
    if (emgmm_small_chol(L, msz, msz)) return 1;
    /* P_MM⁻¹ w = L⁻ᵀ L⁻¹ w */
    for (size_t q = 0; q < msz; q++) {
        double s = t[q];
        for (size_t b = 0; b < q; b++) s -= L[q * msz + b] * t[b];
        t[q] = s / L[q * msz + q];
    }
    if (z) /* a draw: x_M = mean + L⁻ᵀ z has covariance L⁻ᵀL⁻¹ = P_MM⁻¹ */
        for (size_t q = 0; q < msz; q++) t[q] -= z[q];
    for (size_t q = msz; q-- > 0;) {
        double s = t[q];
        for (size_t b = q + 1; b < msz; b++) s -= L[b * msz + q] * t[b];
        t[q] = s / L[q * msz + q];
    }
    for (size_t q = 0; q < msz; q++) out[q] = mu[M[q]] - t[q];
    return 0;
}

/* The precisions P_k = U_k·U_kᵀ of a full or tied model into *P (NULL for
 * diag/spherical); 1 when out of memory. */
static int precisions(const emgmm_model *m, double **P)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    const int type = m->cov_type;
    const size_t nf = type == EMGMM_COV_FULL ? K : (type == EMGMM_COV_TIED ? 1 : 0);
    *P = nf ? malloc(nf * d * d * sizeof(double)) : NULL;
    if (nf && !*P) return 1;
    for (size_t f = 0; f < nf; f++) {
        const double *U = m->prec_chol + f * d * d;
        double *Pf = *P + f * d * d;
        for (size_t a = 0; a < d; a++)
            for (size_t b = a; b < d; b++) {
                double s = 0.0;
                for (size_t l = b; l < d; l++) s += U[a * d + l] * U[b * d + l];
                Pf[a * d + b] = Pf[b * d + a] = s;
            }
    }
    return 0;
}

/* Scratch of one thread's rows */
typedef struct {
    double *x, *val, *acc, *z, *scr;
    size_t *M;
} impute_scratch;

/* Row i (x its values, M its msz missing coordinates, r its
 * responsibilities) imputed into o: a draw, or the conditional expectation.
 * Returns the component whose restricted precision failed, or -1. */
static long impute_row(const emgmm_model *m, const double *P, const double *r, int draws,
                       uint64_t seed, uint64_t row, impute_scratch *w, size_t msz, double *o)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d;
    const int type = m->cov_type;
    const double *x = w->x;
    const size_t *M = w->M;
    if (draws) {
        /* one component from r_i, then its conditional Gaussian */
        emgmm_rng rng;
        emgmm_rng_seed(&rng, seed, row);
        const double u = emgmm_rng_uniform(&rng);
        double cum = 0.0;
        size_t k = K - 1;
        for (size_t q = 0; q < K; q++) {
            cum += r[q];
            if (u < cum) {
                k = q;
                break;
            }
        }
        for (size_t a = 0; a < msz; a++) w->z[a] = emgmm_rng_normal(&rng);
        const double *Pk = P ? P + (type == EMGMM_COV_FULL ? k : 0) * d * d : NULL;
        if (cond_component(m, Pk, k, x, M, msz, w->z, w->scr, w->val)) return (long)k;
        for (size_t a = 0; a < msz; a++) o[M[a]] = w->val[a];
        return -1;
    }
    long failed = -1;
    for (size_t a = 0; a < msz; a++) w->acc[a] = 0.0;
    for (size_t k = 0; k < K; k++) {
        if (r[k] == 0.0) continue;
        const double *Pk = P ? P + (type == EMGMM_COV_FULL ? k : 0) * d * d : NULL;
        if (cond_component(m, Pk, k, x, M, msz, NULL, w->scr, w->val)) {
            failed = (long)k;
            break;
        }
        for (size_t a = 0; a < msz; a++) w->acc[a] += r[k] * w->val[a];
    }
    for (size_t a = 0; a < msz; a++) o[M[a]] = w->acc[a];
    return failed;
}

static int scratch_alloc(impute_scratch *w, size_t d)
{
    w->x = malloc(d * sizeof(double));
    w->val = malloc(d * sizeof(double));
    w->acc = malloc(d * sizeof(double));
    w->z = malloc(d * sizeof(double));
    w->scr = malloc((d * d + d) * sizeof(double));
    w->M = malloc(d * sizeof(size_t));
    return w->x && w->val && w->acc && w->z && w->scr && w->M;
}

static void scratch_free(impute_scratch *w)
{
    free(w->x);
    free(w->val);
    free(w->acc);
    free(w->z);
    free(w->scr);
    free(w->M);
}

/* The responsibilities of rows [c0, c0 + cn) of X from their observed
 * coordinates (one marginal E-step pass) into resp [cn][K]. */
static int chunk_responsibilities(emgmm_model *m, const emgmm_data *X, size_t c0, size_t cn,
                                  double *resp)
{
    emgmm_data Xc = *X;
    Xc.x = X->dtype == EMGMM_F64 ? (const void *)((const double *)X->x + c0 * X->ld)
                                 : (const void *)((const float *)X->x + c0 * X->ld);
    Xc.n = cn;
    Xc.weights = NULL;
    emgmm_pass pass = {0};
    pass.mode = EMGMM_PASS_ESTEP;
    pass.missing = EMGMM_MISSING_DROP_EMPTY;
    pass.n_threads = m->n_threads;
    pass.resp = resp;
    return emgmm_pass_run_model(m, &pass, &Xc);
}

/* Rows [c0, c0 + cn) imputed into out on T threads, given their
 * responsibilities.  Returns 0; 1 when a component's restricted precision
 * failed (the last such row and component in *bad_row, *bad_comp); 2 when
 * a thread's scratch could not be allocated. */
static int impute_chunk(const emgmm_model *m, const emgmm_data *X, const double *P,
                        const double *resp, size_t c0, size_t cn, int draws, uint64_t seed,
                        uint64_t row0, double *out, int T, size_t *bad_row, size_t *bad_comp)
{
    const size_t d = (size_t)m->d, K = (size_t)m->K;
    int bad = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(T) reduction(max : bad)
#else
    (void)T;
#endif
    {
        impute_scratch w;
        const int ok = scratch_alloc(&w, d);
        if (!ok) bad = 2;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (size_t ii = 0; ii < cn; ii++) {
            if (!ok) continue;
            const size_t i = c0 + ii;
            size_t msz = 0;
            for (size_t j = 0; j < d; j++) {
                w.x[j] = value_at(X, i, j);
                if (w.x[j] != w.x[j]) w.M[msz++] = j;
            }
            double *o = out + i * d;
            for (size_t j = 0; j < d; j++) o[j] = w.x[j];
            if (!msz) continue;
            const long k =
                impute_row(m, P, resp + ii * K, draws, seed, row0 + (uint64_t)i, &w, msz, o);
            if (k >= 0) {
                bad = 1;
#ifdef _OPENMP
#pragma omp critical(emgmm_impute_fail)
#endif
                {
                    *bad_row = i;
                    *bad_comp = (size_t)k;
                }
            }
        }
        scratch_free(&w);
    }
    return bad;
}

int emgmm_impute(emgmm_model *m, const emgmm_data *X, int draws, uint64_t seed, uint64_t row0,
                 double *out)
{
    if (!m || !X || (!out && X && X->n > 0)) return EMGMM_ERR_NULL;
    emgmm_clear_error(m);
    if (!m->fitted) return emgmm_fail(m, EMGMM_ERR_NOT_FITTED, "the model has no parameters");
    if (draws != 0 && draws != 1)
        return emgmm_fail(m, EMGMM_ERR_INVALID_PARAM, "draws must be 0 or 1, not %d", draws);
    /* every NaN is missing; empty rows allowed */
    int st = emgmm_check_data(m, X, m->n_threads, EMGMM_MISSING_DROP_EMPTY);
    if (st) return st;
    const size_t n = X->n, K = (size_t)m->K;
    if (n == 0) return EMGMM_OK;
    double *P = NULL;
    if (precisions(m, &P)) return EMGMM_ERR_ALLOC;
    /* Responsibilities from the observed coordinates, a chunk of rows at a
     * time so the memory stays O(chunk·K). */
    const size_t chunk = 65536;
    double *resp = malloc((n < chunk ? n : chunk) * K * sizeof(double));
    if (!resp) {
        free(P);
        return EMGMM_ERR_ALLOC;
    }
    const int T = emgmm_threads(m->n_threads);
    int bad = 0;
    size_t bad_row = 0, bad_comp = 0;
    for (size_t c0 = 0; c0 < n && st == EMGMM_OK && !bad; c0 += chunk) {
        const size_t cn = n - c0 < chunk ? n - c0 : chunk;
        st = chunk_responsibilities(m, X, c0, cn, resp);
        if (st) break;
        bad = impute_chunk(m, X, P, resp, c0, cn, draws, seed, row0, out, T, &bad_row, &bad_comp);
    }
    free(resp);
    free(P);
    if (st) return st;
    if (bad == 2) return EMGMM_ERR_ALLOC;
    if (bad) {
        m->err_row = (long long)bad_row + emgmm_dist_row_offset(m);
        m->err_comp = (int)bad_comp;
        return emgmm_fail(m, EMGMM_ERR_NOT_PD,
                          "the precision of component %zu restricted to the missing coordinates "
                          "of row %lld is not positive definite",
                          bad_comp, m->err_row);
    }
    return EMGMM_OK;
}
