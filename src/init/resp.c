/* resp.c — the initialisation from given responsibilities (EMGMM_INIT_RESP):
 * the statistics of one M-step from the caller's r[n][K], as mclust's me()
 * begins (the driver runs the M-step finish).
 *
 * The statistics are summed directly, in two sweeps over the rows: first N_k
 * and Σ r x, giving each component's mean c_k (all-reduced when distributed),
 * then the shifted moments Σ r (x − c_k) and Σ r (x − c_k)(x − c_k)ᵀ about
 * it, so no E[xxᵀ] − μμᵀ cancellation occurs.  O(n·K·d²) once per fit, on
 * the calling thread: small next to the EM iterations that follow.  Sample
 * weights multiply the responsibilities. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist/dist.h"
#include "src/init/init.h"

static double xval(const emgmm_data *X, size_t i, size_t j)
{
    return X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * X->ld + j]
                                 : (double)((const float *)X->x)[i * X->ld + j];
}

int emgmm_init_from_resp(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                         emgmm_start *start)
{
    const size_t K = (size_t)m->K, d = (size_t)m->d, n = X->n;
    const double *R = p->init_resp;
    if (!R) return emgmm_fail(m, EMGMM_ERR_NULL, "init 'resp' needs params.init_resp");
    int st = EMGMM_OK;
    for (size_t i = 0; i < n && st == EMGMM_OK; i++)
        for (size_t k = 0; k < K; k++) {
            const double r = R[i * K + k];
            if (!(r >= 0.0) || !isfinite(r)) {
                m->err_row = (long long)i + emgmm_dist_row_offset(m);
                m->err_col = (long long)k;
                st = emgmm_fail(m, EMGMM_ERR_BAD_INIT,
                                "initial responsibility at row %lld, column %zu is %g (must be "
                                "finite and >= 0)",
                                m->err_row, k, r);
                break;
            }
        }
    emgmm_stats stats;
    double *shift = calloc(K * d + K, sizeof(double));
    int st2 = emgmm_stats_init(&stats, m->K, m->d, m->cov_type);
    if (!shift || st2) {
        free(shift);
        if (!st2) emgmm_stats_free(&stats);
        return EMGMM_ERR_ALLOC;
    }
    /* sweep 1: N_k (in the tail of shift) and Σ r x → the means */
    double *nk = shift + K * d;
    if (st == EMGMM_OK)
        for (size_t i = 0; i < n; i++) {
            const double w = X->weights ? X->weights[i] : 1.0;
            for (size_t k = 0; k < K; k++) {
                const double r = R[i * K + k] * w;
                if (r == 0.0) continue;
                nk[k] += r;
                for (size_t j = 0; j < d; j++) shift[k * d + j] += r * xval(X, i, j);
            }
        }
    st = emgmm_dist_sum(m, shift, K * d + K, st);
    if (st == EMGMM_OK) {
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < d; j++)
                shift[k * d + j] = nk[k] > 0.0 ? shift[k * d + j] / nk[k] : 0.0;
        /* sweep 2: the moments about the means */
        const int full = m->cov_type == EMGMM_COV_FULL || m->cov_type == EMGMM_COV_TIED;
        double *dx = malloc(d * sizeof(double));
        if (!dx) st = EMGMM_ERR_ALLOC;
        for (size_t i = 0; i < n && st == EMGMM_OK; i++) {
            const double w = X->weights ? X->weights[i] : 1.0;
            for (size_t k = 0; k < K; k++) {
                const double r = R[i * K + k] * w;
                if (r == 0.0) continue;
                stats.nk[k] += r;
                double *s1 = stats.s1 + k * d, *s2 = stats.s2 + k * stats.s2_len;
                for (size_t j = 0; j < d; j++) {
                    dx[j] = xval(X, i, j) - shift[k * d + j];
                    s1[j] += r * dx[j];
                }
                if (full) {
                    for (size_t a = 0; a < d; a++) {
                        const double ra = r * dx[a];
                        for (size_t b = a; b < d; b++) s2[a * d + b] += ra * dx[b];
                    }
                } else {
                    for (size_t j = 0; j < d; j++) s2[j] += r * dx[j] * dx[j];
                }
            }
        }
        free(dx);
    }
    st = emgmm_dist_allreduce_stats(m, &stats, NULL, st);
    /* the driver's M-step finish takes them from here */
    start->kind = EMGMM_START_STATS;
    start->centres = shift;
    start->stats = stats;
    return st;
}
