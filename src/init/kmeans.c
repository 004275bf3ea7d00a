/* kmeans.c — k-means++ seeding (greedy, 2 + ⌊ln K⌋ candidates per centre, as
 * scikit-learn) and Lloyd's iterations with BLAS-computed distances.
 * Potentials are summed over fixed 4096-row chunks in chunk order, so the
 * chosen seeds do not depend on the thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/em/kernels.h"
#include "src/em/pass.h"

#define KM_CHUNK 4096
#define KM_BLOCK 1024

static inline double xval(const emgmm_data *X, size_t i, size_t j)
{
    return X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * X->ld + j]
                                 : (double)((const float *)X->x)[i * X->ld + j];
}

/* ‖x_i − c‖², with the dtype decided once per row so the loop vectorises. */
static double row_dist2(const emgmm_data *X, size_t i, const double *c)
{
    const size_t d = X->d;
    double s = 0.0;
    if (X->dtype == EMGMM_F64) {
        const double *xi = (const double *)X->x + i * X->ld;
#pragma omp simd reduction(+ : s)
        for (size_t j = 0; j < d; j++) {
            const double t = xi[j] - c[j];
            s += t * t;
        }
    } else {
        const float *xi = (const float *)X->x + i * X->ld;
#pragma omp simd reduction(+ : s)
        for (size_t j = 0; j < d; j++) {
            const double t = (double)xi[j] - c[j];
            s += t * t;
        }
    }
    return s;
}

static void copy_row(const emgmm_data *X, size_t i, double *out)
{
    for (size_t j = 0; j < X->d; j++) out[j] = xval(X, i, j);
}

static inline double wt(const emgmm_data *X, size_t i) { return X->weights ? X->weights[i] : 1.0; }

/* Index of the row where the running sum of w·sw first exceeds target. */
static size_t sample_index(const double *w, const double *sw, size_t n, double target)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        acc += sw ? sw[i] * w[i] : w[i];
        if (acc > target) return i;
    }
    /* Rounding left target at or above the total: the last row with weight. */
    for (size_t i = n; i-- > 0;)
        if (w[i] > 0.0 && (!sw || sw[i] > 0.0)) return i;
    return n - 1;
}

int emgmm_kmeanspp(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, int n_threads,
                   double *centres, size_t *chosen)
{
    const size_t n = X->n, d = X->d, K = (size_t)m->K;
    const int trials = 2 + (int)log((double)K);
    const size_t nchunks = (n + KM_CHUNK - 1) / KM_CHUNK;
    double *closest = malloc(n * sizeof(double));
    double *csum = malloc(nchunks * (size_t)trials * sizeof(double));
    double *cand = malloc((size_t)trials * d * sizeof(double));
    size_t *cidx = malloc((size_t)trials * sizeof(size_t));
    if (!closest || !csum || !cand || !cidx) {
        free(closest);
        free(csum);
        free(cand);
        free(cidx);
        return EMGMM_ERR_ALLOC;
    }
    const int T = emgmm_threads(n_threads);
    size_t c0 = (size_t)(emgmm_rng_uniform(rng) * (double)n);
    if (c0 >= n) c0 = n - 1;
    while (X->weights && X->weights[c0] == 0.0) c0 = (c0 + 1) % n; /* a row that carries weight */
    chosen[0] = c0;
    copy_row(X, c0, centres);
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static)
#endif
    for (size_t i = 0; i < n; i++) closest[i] = row_dist2(X, i, centres);

    for (size_t c = 1; c < K; c++) {
        double pot = 0.0;
        for (size_t i = 0; i < n; i++) pot += wt(X, i) * closest[i];
        for (int t = 0; t < trials; t++) {
            size_t idx;
            if (pot > 0.0) {
                idx = sample_index(closest, X->weights, n, emgmm_rng_uniform(rng) * pot);
            } else { /* every row sits on a chosen centre */
                idx = (size_t)(emgmm_rng_uniform(rng) * (double)n);
                if (idx >= n) idx = n - 1;
            }
            cidx[t] = idx;
            copy_row(X, idx, cand + (size_t)t * d);
        }
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static)
#endif
        for (size_t ch = 0; ch < nchunks; ch++) {
            const size_t i0 = ch * KM_CHUNK, i1 = i0 + KM_CHUNK < n ? i0 + KM_CHUNK : n;
            for (int t = 0; t < trials; t++) {
                double s = 0.0;
                for (size_t i = i0; i < i1; i++) {
                    double dd = row_dist2(X, i, cand + (size_t)t * d);
                    s += wt(X, i) * (dd < closest[i] ? dd : closest[i]);
                }
                csum[ch * (size_t)trials + (size_t)t] = s;
            }
        }
        int best = 0;
        double best_pot = INFINITY;
        for (int t = 0; t < trials; t++) {
            double s = 0.0;
            for (size_t ch = 0; ch < nchunks; ch++) s += csum[ch * (size_t)trials + (size_t)t];
            if (s < best_pot) {
                best_pot = s;
                best = t;
            }
        }
        chosen[c] = cidx[best];
        memcpy(centres + c * d, cand + (size_t)best * d, d * sizeof(double));
        const double *cb = centres + c * d;
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static)
#endif
        for (size_t i = 0; i < n; i++) {
            double dd = row_dist2(X, i, cb);
            if (dd < closest[i]) closest[i] = dd;
        }
    }
    free(closest);
    free(csum);
    free(cand);
    free(cidx);
    return EMGMM_OK;
}

/* Mean over features of the per-feature variance (scikit-learn scales the
 * k-means tolerance by it).  Shifted by the first row against cancellation. */
static double mean_variance(const emgmm_data *X)
{
    const size_t n = X->n, d = X->d;
    double *x0 = malloc(d * sizeof(double)), *s1 = calloc(d, sizeof(double)),
           *s2 = calloc(d, sizeof(double)), *row = malloc(d * sizeof(double));
    double total = 0.0;
    if (x0 && s1 && s2 && row) {
        for (size_t j = 0; j < d; j++) x0[j] = xval(X, 0, j);
        /* one pass in row order (the data is row-major), shifted by row 0 */
        for (size_t i = 0; i < n; i++) {
            if (X->dtype == EMGMM_F64)
                emgmm_load_f64_f64((const double *)X->x + i * X->ld, X->ld, 1, d, x0, row);
            else
                emgmm_load_f32_f64((const float *)X->x + i * X->ld, X->ld, 1, d, x0, row);
#pragma omp simd
            for (size_t j = 0; j < d; j++) {
                s1[j] += row[j];
                s2[j] += row[j] * row[j];
            }
        }
        for (size_t j = 0; j < d; j++) {
            const double mu = s1[j] / (double)n, v = s2[j] / (double)n - mu * mu;
            total += v > 0.0 ? v : 0.0;
        }
    }
    free(x0);
    free(s1);
    free(s2);
    free(row);
    return total / (double)d;
}

int emgmm_kmeans_lloyd(emgmm_model *m, const emgmm_data *X, int max_iter, double tol, int n_threads,
                       double *centres, int *n_iter_out)
{
    const size_t n = X->n, d = X->d, K = (size_t)m->K;
    const size_t nblocks = (n + KM_BLOCK - 1) / KM_BLOCK;
    int T = emgmm_threads(n_threads);
    if ((size_t)T > nblocks) T = (int)nblocks;
    const double thresh = tol * mean_variance(X);
    double *g = calloc(d, sizeof(double));
    double *ct = malloc(d * K * sizeof(double));
    double *cn = malloc(K * sizeof(double));
    double *sums = calloc((size_t)T * K * d, sizeof(double));
    double *counts = calloc((size_t)T * K, sizeof(double));
    double *tot = malloc(K * d * sizeof(double));
    double *totc = malloc(K * sizeof(double));
    double *xs = malloc((size_t)T * KM_BLOCK * d * sizeof(double));
    double *y = malloc((size_t)T * KM_BLOCK * K * sizeof(double));
    int st = EMGMM_OK, it = 0;
    if (!g || !ct || !cn || !sums || !counts || !tot || !totc || !xs || !y) st = EMGMM_ERR_ALLOC;
    if (st == EMGMM_OK) {
        /* Distances are computed on data centred at the mean of the seeds. */
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < d; j++) g[j] += centres[k * d + j] / (double)K;
    }
    int blas_saved = emgmm_blas_single_begin();
    for (it = 0; st == EMGMM_OK && it < max_iter; it++) {
        /* cn[k] = ‖c̃_k‖² + 2 g·c̃_k with c̃ = c − g: then for double data the
         * product runs on the rows as they are (no centred copy), since
         * ‖x − c‖² − ‖x − g‖² = cn[k] − 2 x·c̃_k; the large terms cancel to
         * within ε·‖x‖·‖c̃‖, far below the spread. */
        for (size_t k = 0; k < K; k++) {
            double s = 0.0, gc = 0.0;
            for (size_t j = 0; j < d; j++) {
                double c = centres[k * d + j] - g[j];
                ct[j * K + k] = c;
                s += c * c;
                gc += g[j] * c;
            }
            cn[k] = X->dtype == EMGMM_F64 ? s + 2.0 * gc : s;
        }
        memset(sums, 0, (size_t)T * K * d * sizeof(double));
        memset(counts, 0, (size_t)T * K * sizeof(double));
#ifdef _OPENMP
#pragma omp parallel num_threads(T)
#endif
        {
#ifdef _OPENMP
            const int tid = omp_get_thread_num();
#else
            const int tid = 0;
#endif
            EMGMM_BLAS_SINGLE_IN_REGION();
            double *bx = xs + (size_t)tid * KM_BLOCK * d, *by = y + (size_t)tid * KM_BLOCK * K;
            double *ts = sums + (size_t)tid * K * d, *tc = counts + (size_t)tid * K;
            const size_t b0 = nblocks * (size_t)tid / (size_t)T, b1 = nblocks * (size_t)(tid + 1) / (size_t)T;
            const int raw = X->dtype == EMGMM_F64;
            for (size_t b = b0; b < b1; b++) {
                const size_t i0 = b * KM_BLOCK, nb = i0 + KM_BLOCK <= n ? KM_BLOCK : n - i0;
                const double *ax = bx;
                size_t lda = d;
                if (raw) {
                    ax = (const double *)X->x + i0 * X->ld;
                    lda = X->ld;
                } else {
                    emgmm_load_f32_f64((const float *)X->x + i0 * X->ld, X->ld, nb, d, g, bx);
                }
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)K, (int)d, 1.0, ax,
                            (int)lda, ct, (int)K, 0.0, by, (int)K);
                for (size_t i = 0; i < nb; i++) {
                    size_t best = 0;
                    double bd = cn[0] - 2.0 * by[i * K];
                    for (size_t k = 1; k < K; k++) {
                        double dk = cn[k] - 2.0 * by[i * K + k];
                        if (dk < bd) {
                            bd = dk;
                            best = k;
                        }
                    }
                    const double wi = wt(X, i0 + i);
                    tc[best] += wi;
                    double *tb = ts + best * d;
                    const double *xb = ax + i * lda;
                    const double gsub = raw ? 1.0 : 0.0; /* copied rows are already centred */
#pragma omp simd
                    for (size_t j = 0; j < d; j++) tb[j] += wi * (xb[j] - gsub * g[j]);
                }
            }
        }
        emgmm_reduce_doubles(tot, sums, T, K * d);
        emgmm_reduce_doubles(totc, counts, T, K);
        double shift = 0.0;
        for (size_t k = 0; k < K; k++) {
            if (totc[k] == 0.0) continue; /* an empty cluster keeps its centre */
            for (size_t j = 0; j < d; j++) {
                double c = g[j] + tot[k * d + j] / totc[k];
                double t = c - centres[k * d + j];
                shift += t * t;
                centres[k * d + j] = c;
            }
        }
        if (shift <= thresh) {
            it++;
            break;
        }
    }
    emgmm_blas_single_end(blas_saved);
    if (n_iter_out) *n_iter_out = it;
    free(g);
    free(ct);
    free(cn);
    free(sums);
    free(counts);
    free(tot);
    free(totc);
    free(xs);
    free(y);
    return st;
}
