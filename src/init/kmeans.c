/* kmeans.c — k-means++ seeding (greedy, 2 + ⌊ln K⌋ candidates per centre, as
 * scikit-learn) and Lloyd's iterations.  Both run on tiles of 8 rows held
 * transposed (one vector per coordinate, the rows in the lanes), so distances
 * to several centres at once vectorise with no horizontal sums, and fold the
 * minimum, the argmin and the sums into the same pass over the data.  Every
 * sum over rows is formed per fixed chunk of rows and the chunks are added in
 * chunk order, so seeds and centres do not depend on the thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/em/kernels.h"
#include "src/internal.h"

#define KM_CHUNK 4096 /* rows per chunk of the ordered sums (seeding, variance) */
#define KM_LANES 8    /* rows per tile */
#define KM_GROUP 8    /* centres per register block */

typedef double km_v8 __attribute__((vector_size(64), aligned(8)));
typedef long long km_m8 __attribute__((vector_size(64), aligned(8)));

/* The tile helpers are inlined into the FMA clones (EMGMM_CLONES_FMA) and so
 * carry the same contraction setting, as kernels.c's do. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(EMGMM_NO_CLONES)
#define KM_INLINE static inline __attribute__((always_inline, optimize("fp-contract=fast")))
#else
#define KM_INLINE static inline
#endif

static inline double wt(const emgmm_data *X, size_t i) { return X->weights ? X->weights[i] : 1.0; }

static void copy_row(const emgmm_data *X, size_t i, double *out)
{
    for (size_t j = 0; j < X->d; j++)
        out[j] = X->dtype == EMGMM_F64 ? ((const double *)X->x)[i * X->ld + j]
                                       : (double)((const float *)X->x)[i * X->ld + j];
}

/* Lanes of a where the mask m is set, else of b; the lane-wise minimum.
 * Macros, not functions: a vector return value would change the ABI. */
#define KM_SEL(m, a, b) ((km_v8)(((km_m8)(a) & (m)) | ((km_m8)(b) & ~(m))))
#define KM_SELI(m, a, b) (((a) & (m)) | ((b) & ~(m)))
#define KM_MIN(a, b) KM_SEL((a) < (b), a, b)
#define KM_UNROLL _Pragma("GCC unroll 8")

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define KM_SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define KM_SHUF(a, b, ...) __builtin_shuffle(a, b, (km_m8){__VA_ARGS__})
#endif

/* xt[j·ldt + l] ← x[i + l][j] − g[j] (g NULL: no shift) for l < nb; lanes
 * from nb on hold row rpad, so that they are finite (their results are
 * dropped).  Eight columns at a time are transposed in registers and xt is
 * written in whole vectors, which the vector loads of it then forward from
 * (eight scalar stores each would stall them).  F64: X holds doubles (a
 * constant where inlined, so each data type gets its own loop). */
KM_INLINE void load_tile(const emgmm_data *X, int F64, size_t i, size_t nb, const double *g,
                         double *xt, size_t ldt, size_t rpad)
{
    typedef float km_v8f __attribute__((vector_size(32), aligned(4)));
    const size_t d = X->d, ld = X->ld;
    const double *xd = (const double *)X->x;
    const float *xf = (const float *)X->x;
    size_t off[KM_LANES];
    for (size_t l = 0; l < KM_LANES; l++) off[l] = (l < nb ? i + l : rpad) * ld;
    size_t j = 0;
    for (; j + 8 <= d; j += 8) {
        km_v8 r[8], t[8], u[8], gv = (km_v8){0};
        if (g) memcpy(&gv, g + j, sizeof gv);
        for (int l = 0; l < 8; l++) {
            if (F64) {
                memcpy(&r[l], xd + off[l] + j, sizeof r[l]);
            } else {
                km_v8f f;
                memcpy(&f, xf + off[l] + j, sizeof f);
                r[l] = __builtin_convertvector(f, km_v8);
            }
            if (g) r[l] -= gv;
        }
        for (int l = 0; l < 8; l += 2) {
            t[l] = KM_SHUF(r[l], r[l + 1], 0, 8, 2, 10, 4, 12, 6, 14);
            t[l + 1] = KM_SHUF(r[l], r[l + 1], 1, 9, 3, 11, 5, 13, 7, 15);
        }
        for (int l = 0; l < 8; l += 4)
            for (int h = 0; h < 2; h++) {
                u[l + h] = KM_SHUF(t[l + h], t[l + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
                u[l + h + 2] = KM_SHUF(t[l + h], t[l + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
            }
        /* u[0..3]: columns (0,4), (1,5), (2,6), (3,7) of rows 0–3 in their
         * halves; u[4..7] the same of rows 4–7 */
        for (int c = 0; c < 4; c++) {
            const km_v8 lo = KM_SHUF(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
            const km_v8 hi = KM_SHUF(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
            memcpy(xt + (j + (size_t)c) * ldt, &lo, sizeof lo);
            memcpy(xt + (j + (size_t)c + 4) * ldt, &hi, sizeof hi);
        }
    }
    for (; j < d; j++) {
        km_v8 v;
        for (size_t l = 0; l < KM_LANES; l++) v[l] = F64 ? xd[off[l] + j] : (double)xf[off[l] + j];
        if (g) v -= g[j];
        memcpy(xt + j * ldt, &v, sizeof v);
    }
}

/* The tile's weights (1 without weights) and a value per row of v (fill when v
 * is NULL); the padding lanes get weight 0 and value 0. */
KM_INLINE void load_lanes(const emgmm_data *X, size_t i, size_t nb, const double *v, double fill,
                          km_v8 *w, km_v8 *val)
{
    if (nb == KM_LANES) {
        *w = (km_v8){0} + 1.0;
        if (X->weights) memcpy(w, X->weights + i, sizeof *w);
        *val = (km_v8){0} + fill;
        if (v) memcpy(val, v + i, sizeof *val);
        return;
    }
    for (size_t l = 0; l < KM_LANES; l++) {
        (*w)[l] = l < nb ? wt(X, i + l) : 0.0;
        (*val)[l] = l < nb ? (v ? v[i + l] : fill) : 0.0;
    }
}

/* A seeding block of Q centres C[q·d ..]: the distances ‖x_l − C_q‖² by the
 * direct form, each term (x_j − c_j)² added in j order, so that a row's
 * distance to a centre is the same bits whichever slot the centre takes (the
 * seeding relies on it: a candidate's distances return as the last chosen
 * centre's).  fold: C[0] is the last chosen centre, folded into cl first;
 * then acc[q] += w·min(‖x − C_q‖², cl). */
KM_INLINE void seed_block(const double *xt, size_t d, const double *C, int Q, int fold, const km_v8 *w,
                          km_v8 *cl, km_v8 *acc)
{
    km_v8 a[KM_GROUP];
    for (int q = 0; q < Q; q++) a[q] = (km_v8){0};
    for (size_t j = 0; j < d; j++) {
        km_v8 x;
        memcpy(&x, xt + j * KM_LANES, sizeof x);
        for (int q = 0; q < Q; q++) {
            const km_v8 t = x - C[(size_t)q * d + j];
            a[q] += t * t;
        }
    }
    if (fold) *cl = KM_MIN(*cl, a[0]);
    for (int q = 0; q < Q; q++) acc[q] += *w * KM_MIN(a[q], *cl);
}

/* The nearest of a block of Q (by a tree of fixed shape, so that it
 * unrolls), taking the right of a pair only when strictly nearer (its
 * indices are the higher), then merged into the running nearest (bd, bk). */
KM_INLINE void block_argmin(km_v8 *a, size_t k0, int Q, km_v8 *bd, km_m8 *bk)
{
    km_m8 k[KM_GROUP] = {{0}};
    KM_UNROLL for (int q = 0; q < Q; q++)
    {
        const long long kq = (long long)(k0 + (size_t)q);
        k[q] = (km_m8){kq, kq, kq, kq, kq, kq, kq, kq}; /* (km_m8){0} + kq goes lane by lane */
    }
#define KM_TREE_LEVEL(H)                                                                          \
    KM_UNROLL for (int q = 0; q + (H) < Q; q += 2 * (H))                                        \
    {                                                                                             \
        const km_m8 lt = a[q + (H)] < a[q];                                                       \
        a[q] = KM_SEL(lt, a[q + (H)], a[q]);                                                      \
        k[q] = KM_SELI(lt, k[q + (H)], k[q]);                                                     \
    }
    KM_TREE_LEVEL(1)
    KM_TREE_LEVEL(2)
    KM_TREE_LEVEL(4)
#undef KM_TREE_LEVEL
    const km_m8 lt = a[0] < *bd;
    *bd = KM_SEL(lt, a[0], *bd);
    *bk = KM_SELI(lt, k[0], *bk);
}

/* A Lloyd block of Q centred centres C̃[q·d ..] with indices k0.. for two
 * tiles (xt: [d][16], the tiles side by side), whose products share the
 * centres' loads and keep twice the multiply-adds in flight: each lane's
 * nearest so far (bd, bk; the first on ties) by ‖c̃‖² − 2 x̃·c̃ (cn). */
KM_INLINE void nearest_block(const double *xt, size_t d, const double *C, const double *cn,
                             size_t k0, int Q, km_v8 *bd, km_m8 *bk)
{
    km_v8 a[KM_GROUP], b[KM_GROUP];
    KM_UNROLL for (int q = 0; q < Q; q++) a[q] = b[q] = (km_v8){0};
    for (size_t j = 0; j < d; j++) {
        km_v8 x, y;
        memcpy(&x, xt + j * 2 * KM_LANES, sizeof x);
        memcpy(&y, xt + j * 2 * KM_LANES + KM_LANES, sizeof y);
        KM_UNROLL for (int q = 0; q < Q; q++)
        {
            const double c = C[(size_t)q * d + j];
            a[q] += x * c;
            b[q] += y * c;
        }
    }
    KM_UNROLL for (int q = 0; q < Q; q++)
    {
        a[q] = cn[q] - 2.0 * a[q];
        b[q] = cn[q] - 2.0 * b[q];
    }
    block_argmin(a, k0, Q, &bd[0], &bk[0]);
    block_argmin(b, k0, Q, &bd[1], &bk[1]);
}

/* The block sizes as constants, so that each block's accumulators stay in
 * registers. */
#define KM_SWITCH_Q(Q, CALL)                                                                      \
    switch (Q) {                                                                                  \
    case 1: CALL(1); break;                                                                       \
    case 2: CALL(2); break;                                                                       \
    case 3: CALL(3); break;                                                                       \
    case 4: CALL(4); break;                                                                       \
    case 5: CALL(5); break;                                                                       \
    case 6: CALL(6); break;                                                                       \
    case 7: CALL(7); break;                                                                       \
    default: CALL(8); break;                                                                      \
    }

/* Centres per seeding pass: the last chosen, then at most 2 + ⌊ln INT_MAX⌋ = 23
 * candidates. */
#define KM_MAX_NC 24

KM_INLINE void seed_chunk_impl(const emgmm_data *X, int F64, size_t i0, size_t i1, const double *C,
                               size_t nc, int fresh, double *closest, double *s, double *xt)
{
    const size_t d = X->d;
    km_v8 acc[KM_MAX_NC];
    for (size_t q = 0; q < nc; q++) acc[q] = (km_v8){0};
    for (size_t i = i0; i < i1; i += KM_LANES) {
        const size_t nb = i1 - i < KM_LANES ? i1 - i : KM_LANES;
        km_v8 w, cl;
        load_tile(X, F64, i, nb, NULL, xt, KM_LANES, i);
        load_lanes(X, i, nb, fresh ? NULL : closest, INFINITY, &w, &cl);
        for (size_t q0 = 0; q0 < nc; q0 += KM_GROUP) {
            const int Q = (int)(nc - q0 < KM_GROUP ? nc - q0 : KM_GROUP);
#define KM_SEED(QQ) seed_block(xt, d, C + q0 * d, QQ, q0 == 0, &w, &cl, acc + q0)
            KM_SWITCH_Q(Q, KM_SEED)
#undef KM_SEED
        }
        if (nb == KM_LANES)
            memcpy(closest + i, &cl, sizeof cl);
        else
            for (size_t l = 0; l < nb; l++) closest[i + l] = cl[l];
    }
    for (size_t q = 0; q < nc; q++) {
        double t = 0.0;
        for (size_t l = 0; l < KM_LANES; l++) t += acc[q][l];
        s[q] = t;
    }
}

/* One chunk of rows [i0, i1) of a seeding pass over nc centres C[q·d ..].
 * C[0] is the centre chosen last: it is folded into closest[] first
 * (fresh: closest[] is not set yet, the distance to C[0] is stored).  Then
 * s[q] = Σ_i w_i · min(‖x_i − C_q‖², closest_i) for every q (for q = 0 the
 * chunk's potential), each lane summed in row order, then the lanes in order.
 * xt: scratch of 8·d doubles. */
EMGMM_CLONES_FMA static void seed_chunk(const emgmm_data *X, size_t i0, size_t i1, const double *C,
                                        size_t nc, int fresh, double *closest, double *s, double *xt)
{
    if (X->dtype == EMGMM_F64)
        seed_chunk_impl(X, 1, i0, i1, C, nc, fresh, closest, s, xt);
    else
        seed_chunk_impl(X, 0, i0, i1, C, nc, fresh, closest, s, xt);
}

/* k-means++'s draw: the first row at which the running sum of w_i·closest_i
 * exceeds target.  The chunk comes from the chunk potentials pc (added in
 * chunk order), the row from a scan of that chunk alone, after folding the
 * last chosen centre C into its closest[] (the pass that follows folds it
 * again, to the same values).  The scan may round differently from the
 * chunk's sum and stay at or below target: then, as when target rounds up to
 * the whole potential, the last row with potential is taken. */
static size_t sample_row(const emgmm_data *X, const double *pc, size_t nchunks, double target,
                         const double *C, double *closest, double *xt)
{
    size_t ch, last = 0;
    double acc = 0.0;
    for (ch = 0; ch < nchunks; ch++) {
        if (pc[ch] > 0.0) last = ch;
        if (acc + pc[ch] > target) break;
        acc += pc[ch];
    }
    if (ch == nchunks) ch = last;
    const size_t i0 = ch * KM_CHUNK, i1 = i0 + KM_CHUNK < X->n ? i0 + KM_CHUNK : X->n;
    double s;
    seed_chunk(X, i0, i1, C, 1, 0, closest, &s, xt);
    for (size_t i = i0; i < i1; i++) {
        acc += wt(X, i) * closest[i];
        if (acc > target) return i;
    }
    for (size_t i = i1; i-- > i0;)
        if (wt(X, i) > 0.0 && closest[i] > 0.0) return i;
    return i1 - 1;
}

/* One seeding pass: seed_chunk over every chunk, in parallel; the sums land in
 * csum[ch·nc + q]. */
static void seed_pass(const emgmm_data *X, const double *C, size_t nc, int fresh, double *closest,
                      double *csum, double *xt, int T)
{
    const size_t n = X->n, nchunks = (n + KM_CHUNK - 1) / KM_CHUNK;
#ifdef _OPENMP
#pragma omp parallel num_threads(T)
#endif
    {
#ifdef _OPENMP
        double *txt = xt + (size_t)omp_get_thread_num() * KM_LANES * X->d;
#pragma omp for schedule(dynamic)
#else
        double *txt = xt;
        (void)T;
#endif
        for (size_t ch = 0; ch < nchunks; ch++) {
            const size_t i0 = ch * KM_CHUNK, i1 = i0 + KM_CHUNK < n ? i0 + KM_CHUNK : n;
            seed_chunk(X, i0, i1, C, nc, fresh, closest, csum + ch * nc, txt);
        }
    }
}

/* Each round is one pass over the data: it folds the centre chosen last into
 * the closest distances (a fold deferred from the round that chose it, which
 * would otherwise need a pass of its own) and sums every candidate's
 * potential.  The draws before the pass see the folded distances through
 * sample_row, and the potential through the chosen candidate's chunk sums. */
int emgmm_kmeanspp(emgmm_model *m, const emgmm_data *X, emgmm_rng *rng, int n_threads,
                   double *centres, size_t *chosen)
{
    const size_t n = X->n, d = X->d, K = (size_t)m->K;
    const int trials = 2 + (int)log((double)K);
    const size_t nc = (size_t)trials + 1; /* the centre chosen last, then the candidates */
    const size_t nchunks = (n + KM_CHUNK - 1) / KM_CHUNK;
    const int T = emgmm_threads(n_threads);
    double *closest = malloc(n * sizeof(double));
    double *csum = malloc(nchunks * nc * sizeof(double));
    double *pc = malloc(nchunks * sizeof(double));
    double *cand = malloc(nc * d * sizeof(double));
    double *xt = malloc((size_t)T * KM_LANES * d * sizeof(double));
    size_t *cidx = malloc((size_t)trials * sizeof(size_t));
    int st = EMGMM_OK;
    if (!closest || !csum || !pc || !cand || !xt || !cidx) st = EMGMM_ERR_ALLOC;
    if (st == EMGMM_OK) {
        size_t c0 = (size_t)(emgmm_rng_uniform(rng) * (double)n);
        if (c0 >= n) c0 = n - 1;
        while (X->weights && X->weights[c0] == 0.0) c0 = (c0 + 1) % n; /* a row that carries weight */
        chosen[0] = c0;
        copy_row(X, c0, centres);
        seed_pass(X, centres, 1, 1, closest, csum, xt, T);
        memcpy(pc, csum, nchunks * sizeof(double));
    }
    for (size_t c = 1; st == EMGMM_OK && c < K; c++) {
        const double *last = centres + (c - 1) * d;
        double pot = 0.0;
        for (size_t ch = 0; ch < nchunks; ch++) pot += pc[ch];
        memcpy(cand, last, d * sizeof(double));
        for (int t = 0; t < trials; t++) {
            size_t idx;
            if (pot > 0.0) {
                idx = sample_row(X, pc, nchunks, emgmm_rng_uniform(rng) * pot, last, closest, xt);
            } else { /* every row sits on a chosen centre */
                idx = (size_t)(emgmm_rng_uniform(rng) * (double)n);
                if (idx >= n) idx = n - 1;
            }
            cidx[t] = idx;
            copy_row(X, idx, cand + (size_t)(t + 1) * d);
        }
        seed_pass(X, cand, nc, 0, closest, csum, xt, T);
        int best = 0;
        double best_pot = INFINITY;
        for (int t = 0; t < trials; t++) {
            double s = 0.0;
            for (size_t ch = 0; ch < nchunks; ch++) s += csum[ch * nc + 1 + (size_t)t];
            if (s < best_pot) {
                best_pot = s;
                best = t;
            }
        }
        chosen[c] = cidx[best];
        memcpy(centres + c * d, cand + (size_t)(best + 1) * d, d * sizeof(double));
        for (size_t ch = 0; ch < nchunks; ch++) pc[ch] = csum[ch * nc + 1 + (size_t)best];
    }
    free(closest);
    free(csum);
    free(pc);
    free(cand);
    free(xt);
    free(cidx);
    return st;
}

/* Mean over features of the per-feature variance (scikit-learn scales the
 * k-means tolerance by it).  Shifted by the first row against cancellation;
 * the sums per chunk, then over chunks in order. */
static int mean_variance(const emgmm_data *X, int T, double *out)
{
    const size_t n = X->n, d = X->d, nchunks = (n + KM_CHUNK - 1) / KM_CHUNK;
    double *x0 = malloc(d * sizeof(double)), *part = malloc(nchunks * 2 * d * sizeof(double));
    if (!x0 || !part) {
        free(x0);
        free(part);
        return EMGMM_ERR_ALLOC;
    }
    copy_row(X, 0, x0);
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(dynamic)
#else
    (void)T;
#endif
    for (size_t ch = 0; ch < nchunks; ch++) {
        const size_t i0 = ch * KM_CHUNK, i1 = i0 + KM_CHUNK < n ? i0 + KM_CHUNK : n;
        double *s1 = part + ch * 2 * d, *s2 = s1 + d;
        memset(s1, 0, 2 * d * sizeof(double));
        for (size_t i = i0; i < i1; i++) {
            if (X->dtype == EMGMM_F64) {
                const double *x = (const double *)X->x + i * X->ld;
                for (size_t j = 0; j < d; j++) {
                    const double t = x[j] - x0[j];
                    s1[j] += t;
                    s2[j] += t * t;
                }
            } else {
                const float *x = (const float *)X->x + i * X->ld;
                for (size_t j = 0; j < d; j++) {
                    const double t = (double)x[j] - x0[j];
                    s1[j] += t;
                    s2[j] += t * t;
                }
            }
        }
    }
    for (size_t ch = 1; ch < nchunks; ch++)
        for (size_t j = 0; j < 2 * d; j++) part[j] += part[ch * 2 * d + j];
    double total = 0.0;
    for (size_t j = 0; j < d; j++) {
        const double mu = part[j] / (double)n, v = part[d + j] / (double)n - mu * mu;
        total += v > 0.0 ? v : 0.0;
    }
    free(x0);
    free(part);
    *out = total / (double)d;
    return EMGMM_OK;
}

/* Rows per batch of Lloyd's step: their labels are found first, then the
 * sums taken (from rows still in cache).  Were each tile's rows added as soon
 * as its labels were known, the stores at those late addresses would hold up
 * the loads of the tiles after it. */
#define KM_BATCH 128

KM_INLINE void lloyd_chunk_impl(const emgmm_data *X, int F64, size_t i0, size_t i1, const double *g,
                                const double *ct, const double *cn, size_t K, double *acc,
                                double *lanes, double *xt)
{
    const size_t d = X->d, ld = X->ld, L = K * (d + 1);
    const double *xd = (const double *)X->x;
    const float *xf = (const float *)X->x;
    long long lab[KM_BATCH];
    for (size_t b0 = i0; b0 < i1; b0 += KM_BATCH) {
        const size_t b1 = i1 - b0 < KM_BATCH ? i1 : b0 + KM_BATCH;
        for (size_t i = b0; i < b1; i += 2 * KM_LANES) {
            const size_t nb = b1 - i < 2 * KM_LANES ? b1 - i : 2 * KM_LANES;
            km_v8 bd[2] = {(km_v8){0} + INFINITY, (km_v8){0} + INFINITY};
            km_m8 bk[2] = {{0}};
            load_tile(X, F64, i, nb < KM_LANES ? nb : KM_LANES, g, xt, 2 * KM_LANES, i);
            load_tile(X, F64, i + KM_LANES, nb > KM_LANES ? nb - KM_LANES : 0, g, xt + KM_LANES,
                      2 * KM_LANES, i);
            for (size_t k0 = 0; k0 < K; k0 += KM_GROUP) {
                const int Q = (int)(K - k0 < KM_GROUP ? K - k0 : KM_GROUP);
#define KM_NEAR(QQ) nearest_block(xt, d, ct + k0 * d, cn + k0, k0, QQ, bd, bk)
                KM_SWITCH_Q(Q, KM_NEAR)
#undef KM_NEAR
            }
            memcpy(lab + (i - b0), bk, nb * sizeof(long long));
        }
        for (size_t i = b0; i < b1; i++) {
            /* one set of sums per lane: rows of one cluster in a row do not
             * wait on each other's additions */
            double *s = lanes + ((i - b0) % KM_LANES) * L + (size_t)lab[i - b0] * (d + 1);
            const double wi = wt(X, i);
            const size_t o = i * ld;
            size_t j = 0;
            for (; j + 8 <= d; j += 8) {
                km_v8 x, gv, sv;
                if (F64) {
                    memcpy(&x, xd + o + j, sizeof x);
                } else {
                    typedef float km_v8f __attribute__((vector_size(32), aligned(4)));
                    km_v8f f;
                    memcpy(&f, xf + o + j, sizeof f);
                    x = __builtin_convertvector(f, km_v8);
                }
                memcpy(&gv, g + j, sizeof gv);
                memcpy(&sv, s + j, sizeof sv);
                sv += wi * (x - gv);
                memcpy(s + j, &sv, sizeof sv);
            }
            for (; j < d; j++) s[j] += wi * ((F64 ? xd[o + j] : (double)xf[o + j]) - g[j]);
            s[d] += wi;
        }
    }
    for (size_t e = 0; e < L; e++) {
        double t = 0.0;
        for (size_t l = 0; l < KM_LANES; l++) {
            t += lanes[l * L + e];
            lanes[l * L + e] = 0.0;
        }
        acc[e] = t;
    }
}

/* Lloyd's step on rows [i0, i1): each row goes to its nearest centre (the
 * first on ties), and acc[k·(d+1) + j] = Σ w·x̃_j, acc[k·(d+1) + d] = Σ w over
 * its rows, with x̃ = x − g.  Nearest by ‖c̃_k‖² − 2 x̃·c̃_k (cn, ct: [K][d],
 * c̃ = c − g), the squared distance less the row's own ‖x̃‖²: on rows centred
 * at the mean of the centres the large terms cancel to within ε·‖x̃‖·‖c̃‖, far
 * below the spread, and the products take half the work of the direct form.
 * The sums go first to one set per lane (lanes: [8][K·(d+1)], zero on entry
 * and on return), so that neighbouring rows of one cluster do not wait on
 * each other's additions; the sets are added in lane order at the end. */
EMGMM_CLONES_FMA static void lloyd_chunk(const emgmm_data *X, size_t i0, size_t i1, const double *g,
                                         const double *ct, const double *cn, size_t K, double *acc,
                                         double *lanes, double *xt)
{
    if (X->dtype == EMGMM_F64)
        lloyd_chunk_impl(X, 1, i0, i1, g, ct, cn, K, acc, lanes, xt);
    else
        lloyd_chunk_impl(X, 0, i0, i1, g, ct, cn, K, acc, lanes, xt);
}

int emgmm_kmeans_lloyd(emgmm_model *m, const emgmm_data *X, int max_iter, double tol, int n_threads,
                       double *centres, int *n_iter_out)
{
    const size_t n = X->n, d = X->d, K = (size_t)m->K, L = K * (d + 1);
    /* Chunks of at least 16·K rows keep the per-chunk sums under 1/16 of the
     * data; the chunk size depends on K only, never on the threads. */
    size_t lc = KM_CHUNK;
    while (lc < 16 * K) lc *= 2;
    const size_t nchunks = (n + lc - 1) / lc;
    int T = emgmm_threads(n_threads);
    if ((size_t)T > nchunks) T = (int)nchunks;
    double *g = calloc(d, sizeof(double));
    double *ct = malloc(K * d * sizeof(double));
    double *cn = malloc(K * sizeof(double));
    double *part = malloc(nchunks * L * sizeof(double));
    double *tot = malloc(L * sizeof(double));
    double *xt = malloc((size_t)T * 2 * KM_LANES * d * sizeof(double));
    double *lanes = calloc((size_t)T * KM_LANES * L, sizeof(double));
    int st = EMGMM_OK, it = 0;
    double var = 0.0;
    if (!g || !ct || !cn || !part || !tot || !xt || !lanes) st = EMGMM_ERR_ALLOC;
    if (st == EMGMM_OK) st = mean_variance(X, T, &var);
    const double thresh = tol * var;
    if (st == EMGMM_OK) {
        /* Distances are computed on data centred at the mean of the seeds. */
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < d; j++) g[j] += centres[k * d + j] / (double)K;
    }
    for (it = 0; st == EMGMM_OK && it < max_iter; it++) {
        for (size_t k = 0; k < K; k++) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++) {
                const double c = centres[k * d + j] - g[j];
                ct[k * d + j] = c;
                s += c * c;
            }
            cn[k] = s;
        }
#ifdef _OPENMP
#pragma omp parallel num_threads(T)
#endif
        {
#ifdef _OPENMP
            const size_t tid = (size_t)omp_get_thread_num();
#pragma omp for schedule(dynamic)
#else
            const size_t tid = 0;
#endif
            for (size_t ch = 0; ch < nchunks; ch++) {
                const size_t i0 = ch * lc, i1 = i0 + lc < n ? i0 + lc : n;
                lloyd_chunk(X, i0, i1, g, ct, cn, K, part + ch * L, lanes + tid * KM_LANES * L,
                            xt + tid * 2 * KM_LANES * d);
            }
        }
        memcpy(tot, part, L * sizeof(double));
        for (size_t ch = 1; ch < nchunks; ch++)
            for (size_t e = 0; e < L; e++) tot[e] += part[ch * L + e];
        double shift = 0.0;
        for (size_t k = 0; k < K; k++) {
            const double wk = tot[k * (d + 1) + d];
            if (wk == 0.0) continue; /* an empty cluster keeps its centre */
            for (size_t j = 0; j < d; j++) {
                double c = g[j] + tot[k * (d + 1) + j] / wk;
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
    if (n_iter_out) *n_iter_out = it;
    free(g);
    free(ct);
    free(cn);
    free(part);
    free(tot);
    free(xt);
    free(lanes);
    return st;
}
