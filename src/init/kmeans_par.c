/* kmeans_par.c — k-means|| (Bahmani et al. 2012, "scalable k-means++", as
 * Spark uses) and Lloyd's iterations for a distributed fit: a few rounds that
 * each sample ~2K rows in parallel, k-means++ on the weighted candidates
 * (identical on every rank), then Lloyd with one all-reduce per iteration.
 * Rows are sampled by a hash of their global index, so the candidates do not
 * depend on how the rows are split over ranks.  Only collectives of comm.c
 * are used, so without a communicator this is simply k-means|| in one process. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/dist/dist.h"
#include "src/init/init.h"
#include "src/linalg/linalg.h"

#define KMP_ROUNDS 5

static inline double xval(const emgmm_data *X, size_t i, size_t j)
{
    return X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * X->ld + j]
                                 : (double)((const float *)X->x)[i * X->ld + j];
}

static inline double wt(const emgmm_data *X, size_t i) { return X->weights ? X->weights[i] : 1.0; }

static double dist2(const emgmm_data *X, size_t i, const double *c)
{
    double s = 0.0;
    for (size_t j = 0; j < X->d; j++) {
        const double t = xval(X, i, j) - c[j];
        s += t * t;
    }
    return s;
}

/* Index of the nearest of nc centres (first on ties) and its squared distance. */
static size_t nearest(const emgmm_data *X, size_t i, const double *C, size_t nc, double *d2)
{
    size_t best = 0;
    double bd = INFINITY;
    for (size_t c = 0; c < nc; c++) {
        const double t = dist2(X, i, C + c * X->d);
        if (t < bd) {
            bd = t;
            best = c;
        }
    }
    *d2 = bd;
    return best;
}

/* Appends the rows this rank selected (sel[i] != 0) to every rank's
 * candidates, in global row order: per-rank counts and then the rows are
 * summed into place (each rank writes its slot, the others add zeros). */
static int gather_rows(emgmm_model *m, const emgmm_data *X, const unsigned char *sel, int rank,
                       int size, double **C, size_t *nc, size_t *cap)
{
    const size_t d = X->d;
    double *cnt = calloc((size_t)size, sizeof(double));
    int st = emgmm_dist_agree(m, cnt ? EMGMM_OK : EMGMM_ERR_ALLOC);
    if (st) {
        free(cnt);
        return st;
    }
    size_t mine = 0;
    for (size_t i = 0; i < X->n; i++) mine += sel[i] != 0;
    cnt[rank] = (double)mine;
    st = emgmm_dist_sum(m, cnt, (size_t)size, EMGMM_OK);
    size_t total = 0, off = 0;
    for (int r = 0; r < size && st == EMGMM_OK; r++) {
        if (r < rank) off += (size_t)cnt[r];
        total += (size_t)cnt[r];
    }
    free(cnt);
    if (st) return st;
    if (total == 0) return EMGMM_OK;
    if (*nc + total > *cap) {
        size_t ncap = (*nc + total) * 2;
        double *t = realloc(*C, ncap * d * sizeof(double));
        if (t) {
            *C = t;
            *cap = ncap;
        } else {
            st = EMGMM_ERR_ALLOC;
        }
    }
    double *dst = st == EMGMM_OK ? *C + *nc * d : NULL;
    if (dst) {
        memset(dst, 0, total * d * sizeof(double));
        size_t q = off;
        for (size_t i = 0; i < X->n; i++)
            if (sel[i]) {
                for (size_t j = 0; j < d; j++) dst[q * d + j] = xval(X, i, j);
                q++;
            }
    }
    st = emgmm_dist_agree(m, st);
    if (st) return st;
    st = emgmm_dist_sum(m, dst, total * d, EMGMM_OK);
    if (st == EMGMM_OK) *nc += total;
    return st;
}

/* The global row IDX on every rank (its owner adds it, the others zeros). */
static int fetch_row(emgmm_model *m, const emgmm_data *X, size_t idx, double *out)
{
    const size_t row0 = (size_t)emgmm_dist_row_offset(m);
    const int mine = idx >= row0 && idx - row0 < X->n;
    for (size_t j = 0; j < X->d; j++) out[j] = mine ? xval(X, idx - row0, j) : 0.0;
    return emgmm_dist_sum(m, out, X->d, EMGMM_OK);
}

/* The candidates: a uniform global row, then KMP_ROUNDS rounds that each
 * sample rows with probability ℓ·w·D²/φ (D² to the nearest candidate so far)
 * by a hash of the global row index.  dmin, sel: n of scratch. */
static int oversample(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, size_t N, uint64_t seed,
                      double **C, size_t *nc, size_t *cap, double *dmin, unsigned char *sel)
{
    const size_t n = X->n, d = X->d, K = (size_t)m->K;
    int rank = 0, size = 1, st;
    emgmm_dist_rank_size(m, &rank, &size);
    size_t i0 = (size_t)(emgmm_rng_uniform(rng) * (double)N);
    if (i0 >= N) i0 = N - 1;
    if ((st = fetch_row(m, X, i0, *C))) return st;
    *nc = 1;
    for (size_t i = 0; i < n; i++) dmin[i] = dist2(X, i, *C);
    const double ell = 2.0 * (double)K; /* oversampling, as Spark's default */
    for (int round = 0; round < KMP_ROUNDS; round++) {
        double phi = 0.0;
        for (size_t i = 0; i < n; i++) phi += wt(X, i) * dmin[i];
        if ((st = emgmm_dist_sum(m, &phi, 1, EMGMM_OK))) return st;
        if (!(phi > 0.0)) break;
        const size_t first_new = *nc;
        for (size_t i = 0; i < n; i++) {
            const double pr = ell * wt(X, i) * dmin[i] / phi;
            sel[i] = emgmm_hash_uniform(seed, (uint64_t)(emgmm_dist_row_offset(m) + (long long)i),
                                        (uint64_t)round) < pr;
        }
        if ((st = gather_rows(m, X, sel, rank, size, C, nc, cap))) return st;
        for (size_t i = 0; i < n; i++)
            for (size_t c = first_new; c < *nc; c++) {
                const double t = dist2(X, i, *C + c * d);
                if (t < dmin[i]) dmin[i] = t;
            }
    }
    return EMGMM_OK;
}

/* Too few distinct candidates (data with fewer than K distinct rows, or
 * tiny n): top up with uniform rows so that k-means++ can pick K. */
static int top_up(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, size_t N, double **C,
                  size_t *nc, size_t *cap)
{
    const size_t d = X->d, K = (size_t)m->K;
    int st;
    while (*nc < K) {
        if (*nc + 1 > *cap) {
            double *t = realloc(*C, 2 * *cap * d * sizeof(double));
            if (t) {
                *C = t;
                *cap *= 2;
            }
            if ((st = emgmm_dist_agree(m, t ? EMGMM_OK : EMGMM_ERR_ALLOC))) return st;
        }
        size_t r = (size_t)(emgmm_rng_uniform(rng) * (double)N);
        if (r >= N) r = N - 1;
        if ((st = fetch_row(m, X, r, *C + *nc * d))) return st;
        (*nc)++;
    }
    return EMGMM_OK;
}

/* The K centres by k-means++ over the nc candidates, each weighted by the
 * (weighted) rows nearest to it; the same on every rank. */
static int reduce_candidates(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, int n_threads,
                             const double *C, size_t nc, double *centres)
{
    const size_t n = X->n, d = X->d, K = (size_t)m->K;
    double *cw = calloc(nc, sizeof(double));
    int st = emgmm_dist_agree(m, cw ? EMGMM_OK : EMGMM_ERR_ALLOC);
    if (st) {
        free(cw);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        double t;
        cw[nearest(X, i, C, nc, &t)] += wt(X, i);
    }
    st = emgmm_dist_sum(m, cw, nc, EMGMM_OK);
    size_t *chosen = malloc(K * sizeof(size_t));
    if (st == EMGMM_OK && !chosen) st = EMGMM_ERR_ALLOC; /* local, but a follow-up would mismatch */
    if (st == EMGMM_OK) {
        /* every candidate may have weight 0 only if every row has; the
         * weight checks before the init exclude that */
        emgmm_data cd = emgmm_data_f64(C, nc, d, d);
        cd.weights = cw;
        st = emgmm_kmeanspp(m, &cd, rng, n_threads, centres, chosen);
    }
    free(chosen);
    free(cw);
    return emgmm_dist_agree(m, st);
}

/* The mean feature variance over all ranks' (weighted) rows; mom: 2·d of
 * scratch. */
static int mean_variance(emgmm_model *m, const emgmm_data *X, double *mom, double *var)
{
    const size_t n = X->n, d = X->d;
    memset(mom, 0, 2 * d * sizeof(double)); /* Σ w x, Σ w x² per feature */
    double wsum[1] = {0.0};
    for (size_t i = 0; i < n; i++) {
        wsum[0] += wt(X, i);
        for (size_t j = 0; j < d; j++) {
            const double v = xval(X, i, j);
            mom[j] += wt(X, i) * v;
            mom[d + j] += wt(X, i) * v * v;
        }
    }
    int st;
    if ((st = emgmm_dist_sum(m, mom, 2 * d, EMGMM_OK)) == EMGMM_OK)
        st = emgmm_dist_sum(m, wsum, 1, EMGMM_OK);
    *var = 0.0;
    for (size_t j = 0; st == EMGMM_OK && j < d; j++) {
        const double mu = mom[j] / wsum[0];
        *var += mom[d + j] / wsum[0] - mu * mu;
    }
    return st;
}

/* Lloyd: one all-reduce of the K·d sums and K counts per iteration;
 * converged when the centres move less than tol × mean feature variance. */
static int lloyd(emgmm_model *m, const emgmm_data *X, int lloyd_iter, double tol, double *centres)
{
    const size_t n = X->n, d = X->d, K = (size_t)m->K;
    double *acc = malloc((K * (d + 1) + 2 * d) * sizeof(double));
    int st = emgmm_dist_agree(m, acc ? EMGMM_OK : EMGMM_ERR_ALLOC);
    if (st) {
        free(acc);
        return st;
    }
    double var;
    st = mean_variance(m, X, acc + K * (d + 1), &var);
    const double thresh = tol * var / (double)d;
    for (int it = 0; st == EMGMM_OK && it < lloyd_iter; it++) {
        memset(acc, 0, K * (d + 1) * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            double t;
            const size_t c = nearest(X, i, centres, K, &t);
            const double w = wt(X, i);
            acc[K * d + c] += w;
            for (size_t j = 0; j < d; j++) acc[c * d + j] += w * xval(X, i, j);
        }
        if ((st = emgmm_dist_sum(m, acc, K * (d + 1), EMGMM_OK))) break;
        double shift = 0.0;
        for (size_t c = 0; c < K; c++) {
            const double w = acc[K * d + c];
            if (!(w > 0.0)) continue; /* an empty cluster keeps its centre */
            for (size_t j = 0; j < d; j++) {
                const double v = acc[c * d + j] / w, t = v - centres[c * d + j];
                shift += t * t;
                centres[c * d + j] = v;
            }
        }
        if (shift <= thresh) break;
    }
    free(acc);
    return st;
}

int emgmm_dist_kmeans_par(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, int n_threads,
                          int lloyd_iter, double tol, double *centres)
{
    const size_t n = X->n, d = X->d, K = (size_t)m->K;
    double tmp[2] = {(double)n, 0.0};
    int st = emgmm_dist_sum(m, tmp, 1, EMGMM_OK);
    if (st) return st;
    const size_t N = (size_t)tmp[0];
    const uint64_t seed = emgmm_rng_next(rng);
    size_t cap = 4 * K + 8, nc = 0;
    double *C = malloc(cap * d * sizeof(double));
    double *dmin = malloc((n ? n : 1) * sizeof(double));
    unsigned char *sel = calloc(n ? n : 1, 1);
    st = emgmm_dist_agree(m, (C && dmin && sel) ? EMGMM_OK : EMGMM_ERR_ALLOC);
    if (st == EMGMM_OK) st = oversample(m, X, rng, N, seed, &C, &nc, &cap, dmin, sel);
    if (st == EMGMM_OK) st = top_up(m, X, rng, N, &C, &nc, &cap);
    if (st == EMGMM_OK) st = reduce_candidates(m, X, rng, n_threads, C, nc, centres);
    if (st == EMGMM_OK) st = lloyd(m, X, lloyd_iter, tol, centres);
    free(C);
    free(dmin);
    free(sel);
    return st;
}
