/* kmeans.c — k-means++ seeding (greedy, 2 + ⌊ln K⌋ candidates per centre, as
 * scikit-learn) and Lloyd's iterations, which skip the rows whose nearest
 * centre cannot have changed.  Distances are taken on tiles of 8 rows
 * transposed in registers (one vector per coordinate, the rows in the lanes),
 * so that those to several centres at once vectorise with no horizontal sums,
 * and the minimum, the argmin and the sums are folded into the same pass over
 * the data.  Every sum over rows is formed per fixed chunk of rows and the chunks
 * are added in chunk order, so seeds and centres do not depend on the thread
 * count. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "src/em/kernels.h"
#include "src/dist/dist.h"
#include "src/init/init.h"
#include "src/linalg/linalg.h"

#define KM_CHUNK 4096 /* rows per chunk of the ordered sums (seeding, variance) */
#define KM_LANES 8    /* rows per tile */
#define KM_GROUP 8    /* centres per register block */

typedef double km_v8 __attribute__((vector_size(64), aligned(8)));
typedef long long km_m8 __attribute__((vector_size(64), aligned(8)));

/* The tile helpers are inlined into the FMA builds (EMGMM_VERSIONS) and so
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

/* The 8 values at element offset o of the data, in double. */
KM_INLINE void row8(const emgmm_data *X, int F64, size_t o, km_v8 *v)
{
    if (F64) {
        memcpy(v, (const double *)X->x + o, sizeof *v);
    } else {
        typedef float km_v8f __attribute__((vector_size(32), aligned(4)));
        km_v8f f;
        memcpy(&f, (const float *)X->x + o, sizeof f);
        *v = __builtin_convertvector(f, km_v8);
    }
}

/* Columns j..j+7 of the 8 rows at element offsets off[l], less g[j..j+7] (g
 * NULL: no shift), transposed in registers: v[c] holds column j + c, the rows
 * in the lanes.  F64: X holds doubles (a constant where inlined, so each data
 * type gets its own loop). */
KM_INLINE void transpose8(const emgmm_data *X, int F64, const size_t *off, size_t j,
                          const double *g, km_v8 *v)
{
    km_v8 r[8], t[8], u[8], gv = (km_v8){0};
    if (g) memcpy(&gv, g + j, sizeof gv);
    for (int l = 0; l < 8; l++) {
        row8(X, F64, off[l] + j, &r[l]);
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
    /* u[0..3]: columns (0,4), (1,5), (2,6), (3,7) of rows 0–3 in their halves;
     * u[4..7] the same of rows 4–7 */
    for (int c = 0; c < 4; c++) {
        v[c] = KM_SHUF(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        v[c + 4] = KM_SHUF(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/* Column j of the 8 rows at off[l], less g[j] (g NULL: no shift). */
KM_INLINE void column8(const emgmm_data *X, int F64, const size_t *off, size_t j, const double *g,
                       km_v8 *v)
{
    const double *xd = (const double *)X->x;
    const float *xf = (const float *)X->x;
    double c[KM_LANES]; /* (a vector filled lane by lane compiles badly) */
    for (size_t l = 0; l < KM_LANES; l++) c[l] = F64 ? xd[off[l] + j] : (double)xf[off[l] + j];
    memcpy(v, c, sizeof *v);
    if (g) *v -= g[j];
}

/* Asks for row i (rb: bytes from row to row, rl: bytes of a row).  Data
 * mapped from a file comes in 4 KiB pages, which the hardware prefetchers do
 * not run across: the passes ask for the rows a page or so ahead. */
KM_INLINE void prefetch_row(const emgmm_data *X, size_t i, size_t rb, size_t rl)
{
    const char *r = (const char *)X->x + i * rb;
    for (size_t o = 0; o < rl; o += 64) __builtin_prefetch(r + o);
}

/* The tile's weights (1 without weights) and a value per row of v (fill when v
 * is NULL); the lanes past nb get weight 0 and value 0 (their rows repeat
 * row i, so that they hold finite values; their results are dropped). */
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

/* A seeding block of Q centres C[q·d ..] for the tile of 8 rows at element
 * offsets off: the distances ‖x_l − C_q‖² by the direct form, each term
 * (x_j − c_j)² added in j order, so that a row's distance to a centre is the
 * same bits whichever slot the centre takes (the seeding relies on it: a
 * candidate's distances return as the last chosen centre's).  The rows are
 * transposed eight columns at a time and used from registers: a tile stored
 * and read back would make the loads after it wait, whenever they fell 4 KiB
 * from it, on the stores in flight.  fold: C[0] is the last chosen centre,
 * folded into cl first; then acc[q] += w·min(‖x − C_q‖², cl). */
KM_INLINE void seed_block(const emgmm_data *X, int F64, const size_t *off, const double *C, int Q,
                          int fold, const km_v8 *w, km_v8 *cl, km_v8 *acc)
{
    const size_t d = X->d;
    km_v8 a[KM_GROUP];
    for (int q = 0; q < Q; q++) a[q] = (km_v8){0};
    size_t j = 0;
    for (; j + 8 <= d; j += 8) {
        km_v8 x[8];
        transpose8(X, F64, off, j, NULL, x);
        KM_UNROLL for (int c = 0; c < 8; c++)
        {
            KM_UNROLL for (int q = 0; q < Q; q++)
            {
                const km_v8 t = x[c] - C[(size_t)q * d + j + (size_t)c];
                a[q] += t * t;
            }
        }
    }
    for (; j < d; j++) {
        km_v8 x;
        column8(X, F64, off, j, NULL, &x);
        KM_UNROLL for (int q = 0; q < Q; q++)
        {
            const km_v8 t = x - C[(size_t)q * d + j];
            a[q] += t * t;
        }
    }
    if (fold) *cl = KM_MIN(*cl, a[0]);
    KM_UNROLL for (int q = 0; q < Q; q++) acc[q] += *w * KM_MIN(a[q], *cl);
}

/* Merges a candidate value v with index kq into a lane's nearest (b1, k1;
 * the first on ties) and second nearest value b2. */
#define KM_MERGE(v, kq, b1, k1, b2)                                                                \
    do {                                                                                           \
        const km_m8 lt_ = (v) < (b1);                                                              \
        (b2) = KM_MIN(b2, KM_SEL(lt_, b1, v));                                                     \
        (b1) = KM_SEL(lt_, v, b1);                                                                 \
        (k1) = KM_SELI(lt_, kq, k1);                                                               \
    } while (0)

/* A Lloyd block of Q centred centres C̃[q·d ..] with indices k0.. for the
 * tile of 8 rows at element offsets off, centred at g: each lane's nearest
 * (b1, k1) and second nearest (b2) by ‖c̃‖² − 2 x̃·c̃ (cn); with nx, the
 * lanes' ‖x̃‖² are added to *nx.  The rows are transposed eight columns at a
 * time and used from registers (see seed_block). */
KM_INLINE void nearest_block(const emgmm_data *X, int F64, const size_t *off, const double *g,
                             const double *C, const double *cn, size_t k0, int Q, km_v8 *b1,
                             km_m8 *k1, km_v8 *b2, km_v8 *nx)
{
    const size_t d = X->d;
    km_v8 a[KM_GROUP], n2 = (km_v8){0};
    KM_UNROLL for (int q = 0; q < Q; q++) a[q] = (km_v8){0};
    size_t j = 0;
    for (; j + 8 <= d; j += 8) {
        km_v8 x[8];
        transpose8(X, F64, off, j, g, x);
        KM_UNROLL for (int c = 0; c < 8; c++)
        {
            KM_UNROLL for (int q = 0; q < Q; q++) a[q] += x[c] * C[(size_t)q * d + j + (size_t)c];
            if (nx) n2 += x[c] * x[c];
        }
    }
    for (; j < d; j++) {
        km_v8 x;
        column8(X, F64, off, j, g, &x);
        KM_UNROLL for (int q = 0; q < Q; q++) a[q] += x * C[(size_t)q * d + j];
        if (nx) n2 += x * x;
    }
    if (nx) *nx = n2;
    KM_UNROLL for (int q = 0; q < Q; q++)
    {
        const long long kq = (long long)(k0 + (size_t)q);
        const km_m8 kv = {kq, kq, kq, kq, kq, kq, kq, kq}; /* (km_m8){0} + kq goes lane by lane */
        const km_v8 v = cn[q] - 2.0 * a[q];
        KM_MERGE(v, kv, *b1, *k1, *b2);
    }
}

/* The block sizes as constants, so that each block's accumulators stay in
 * registers. */
#define KM_SWITCH_Q(Q, CALL)                                                                       \
    switch (Q) {                                                                                   \
    case 1: CALL(1); break;                                                                        \
    case 2: CALL(2); break;                                                                        \
    case 3: CALL(3); break;                                                                        \
    case 4: CALL(4); break;                                                                        \
    case 5: CALL(5); break;                                                                        \
    case 6: CALL(6); break;                                                                        \
    case 7: CALL(7); break;                                                                        \
    default: CALL(8); break;                                                                       \
    }

/* Centres per seeding pass: the last chosen, then at most 2 + ⌊ln INT_MAX⌋ = 23
 * candidates. */
#define KM_MAX_NC 24

KM_INLINE void seed_chunk_impl(const emgmm_data *X, int F64, size_t i0, size_t i1, const double *C,
                               size_t nc, int fresh, double *closest, double *s)
{
    const size_t d = X->d, es = F64 ? sizeof(double) : sizeof(float), rb = X->ld * es, rl = d * es;
    const size_t ahead = (4096 / rb + KM_LANES) / KM_LANES * KM_LANES; /* rows, whole tiles */
    km_v8 acc[KM_MAX_NC];
    for (size_t q = 0; q < nc; q++) acc[q] = (km_v8){0};
    for (size_t i = i0; i < i1; i += KM_LANES) {
        const size_t nb = i1 - i < KM_LANES ? i1 - i : KM_LANES;
        km_v8 w, cl;
        size_t off[KM_LANES];
        for (size_t l = 0; l < KM_LANES; l++) off[l] = (i + (l < nb ? l : 0)) * X->ld;
        for (size_t r = i + ahead; r < i1 && r < i + ahead + KM_LANES; r++)
            prefetch_row(X, r, rb, rl);
        load_lanes(X, i, nb, fresh ? NULL : closest, INFINITY, &w, &cl);
        for (size_t q0 = 0; q0 < nc; q0 += KM_GROUP) {
            const int Q = (int)(nc - q0 < KM_GROUP ? nc - q0 : KM_GROUP);
#define KM_SEED(QQ) seed_block(X, F64, off, C + q0 * d, QQ, q0 == 0, &w, &cl, acc + q0)
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
 * chunk's potential), each lane summed in row order, then the lanes in order. */
EMGMM_VERSIONS_VOID(static, FMA, seed_chunk,
                    (const emgmm_data *X, size_t i0, size_t i1, const double *C, size_t nc,
                     int fresh, double *closest, double *s),
                    (X, i0, i1, C, nc, fresh, closest, s))
{
    if (X->dtype == EMGMM_F64)
        seed_chunk_impl(X, 1, i0, i1, C, nc, fresh, closest, s);
    else
        seed_chunk_impl(X, 0, i0, i1, C, nc, fresh, closest, s);
}

/* k-means++'s draw: the first row at which the running sum of w_i·closest_i
 * exceeds target.  The chunk comes from the chunk potentials pc (added in
 * chunk order), the row from a scan of that chunk alone, after folding the
 * last chosen centre C into its closest[] (the pass that follows folds it
 * again, to the same values).  The scan may round differently from the
 * chunk's sum and stay at or below target: then, as when target rounds up to
 * the whole potential, the last row with potential is taken. */
static size_t sample_row(const emgmm_data *X, const double *pc, size_t nchunks, double target,
                         const double *C, double *closest)
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
    seed_chunk(X, i0, i1, C, 1, 0, closest, &s);
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
                      double *csum, int T)
{
    const size_t n = X->n, nchunks = (n + KM_CHUNK - 1) / KM_CHUNK;
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(dynamic)
#else
    (void)T;
#endif
    for (size_t ch = 0; ch < nchunks; ch++) {
        const size_t i0 = ch * KM_CHUNK, i1 = i0 + KM_CHUNK < n ? i0 + KM_CHUNK : n;
        seed_chunk(X, i0, i1, C, nc, fresh, closest, csum + ch * nc);
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
    size_t *cidx = malloc((size_t)trials * sizeof(size_t));
    int st = EMGMM_OK;
    if (!closest || !csum || !pc || !cand || !cidx) st = EMGMM_ERR_ALLOC;
    if (st == EMGMM_OK) {
        size_t c0 = (size_t)(emgmm_rng_uniform(rng) * (double)n);
        if (c0 >= n) c0 = n - 1;
        while (X->weights && X->weights[c0] == 0.0)
            c0 = (c0 + 1) % n; /* a row that carries weight */
        chosen[0] = c0;
        copy_row(X, c0, centres);
        seed_pass(X, centres, 1, 1, closest, csum, T);
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
                idx = sample_row(X, pc, nchunks, emgmm_rng_uniform(rng) * pot, last, closest);
            } else { /* every row sits on a chosen centre */
                idx = (size_t)(emgmm_rng_uniform(rng) * (double)n);
                if (idx >= n) idx = n - 1;
            }
            cidx[t] = idx;
            copy_row(X, idx, cand + (size_t)(t + 1) * d);
        }
        seed_pass(X, cand, nc, 0, closest, csum, T);
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
    free(cidx);
    return st;
}

/* One chunk's Σ (x − x0) and Σ (x − x0)² per feature, in sub-blocks of
 * KM_VROWS rows (which stay in L2 for any d): 8 features at a time in
 * registers down the sub-block's rows, the d mod 8 last ones one at a time.
 * Summed through memory row by row, each row's add waited on the previous
 * row's store. */
#define KM_VROWS 256
KM_INLINE void mv_cols(const emgmm_data *X, int F64, size_t i0, size_t i1, const double *x0,
                       double *s1, double *s2)
{
    const size_t d = X->d, d8 = d / 8 * 8, ld = X->ld;
    const double *xd = (const double *)X->x;
    const float *xf = (const float *)X->x;
    for (size_t j0 = 0; j0 < d8; j0 += 8) {
        km_v8 c, a1, a2;
        memcpy(&c, x0 + j0, sizeof c);
        memcpy(&a1, s1 + j0, sizeof a1);
        memcpy(&a2, s2 + j0, sizeof a2);
        for (size_t i = i0; i < i1; i++) {
            km_v8 v;
            row8(X, F64, i * ld + j0, &v);
            const km_v8 t = v - c;
            a1 += t;
            a2 += t * t;
        }
        memcpy(s1 + j0, &a1, sizeof a1);
        memcpy(s2 + j0, &a2, sizeof a2);
    }
    for (size_t j = d8; j < d; j++) {
        double a1 = s1[j], a2 = s2[j];
        for (size_t i = i0; i < i1; i++) {
            const double t = (F64 ? xd[i * ld + j] : (double)xf[i * ld + j]) - x0[j];
            a1 += t;
            a2 += t * t;
        }
        s1[j] = a1;
        s2[j] = a2;
    }
}

EMGMM_VERSIONS_VOID(static, FMA, mv_chunk,
                    (const emgmm_data *X, size_t i0, size_t i1, const double *x0, double *s1,
                     double *s2),
                    (X, i0, i1, x0, s1, s2))
{
    memset(s1, 0, X->d * sizeof(double));
    memset(s2, 0, X->d * sizeof(double));
    for (size_t r0 = i0; r0 < i1; r0 += KM_VROWS) {
        const size_t r1 = r0 + KM_VROWS < i1 ? r0 + KM_VROWS : i1;
        if (X->dtype == EMGMM_F64)
            mv_cols(X, 1, r0, r1, x0, s1, s2);
        else
            mv_cols(X, 0, r0, r1, x0, s1, s2);
    }
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
        mv_chunk(X, i0, i1, x0, part + ch * 2 * d, part + ch * 2 * d + d);
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

/* Lloyd's iterations skip the rows whose nearest centre cannot have changed,
 * as Hamerly's algorithm (2010) does: each row keeps its label and a margin,
 * a lower bound on (distance to the second nearest centre) − (distance to its
 * own), both true distances between the centred row and centres.  When the
 * centres move by δ_k, a row's margin shrinks by at most δ_label +
 * max_{k≠label} δ_k (the triangle inequality); while it stays above τ, the
 * label is the one the step would compute, and the row is not read at all.
 * The sums are kept from step to step and only the rows that change label
 * move their contribution, so a quiet step costs little more than a pass over
 * the labels and margins.
 *
 * The bounds allow for rounding, so that a skipped row is one whose label the
 * computed comparisons would keep too: the computed ‖c̃‖² − 2 x̃·c̃ are within
 * (d + 2)·u·(‖x̃‖ + ‖c̃‖)² of the exact values (u = 2⁻⁵³), and the error term
 * ERR = 16·(d + 4)·u·(‖x̃‖ + C)² (C: the largest ‖c̃_k‖) bounds that with room
 * for the sums, square roots and updates; the margin subtracts it, and τ =
 * √(2·ERR) at the largest row norm R means a skipped row's two nearest are
 * more than both comparisons' errors apart — no near-tie is ever skipped. */
#define KM_U 0x1p-53

/* Rows per batch: the batch's rows that need their distances are gathered
 * first, then taken 16 at a time. */
#define KM_BATCH 256

typedef struct {
    const emgmm_data *X;
    const double *g;       /* [d] the shift of the rows and centres */
    const double *ct, *cn; /* [K][d] centred centres c̃, [K] their ‖c̃‖² as computed */
    const double *drop;    /* [K] the most a margin can have shrunk since the last step, by
                            * label; NULL: the first step, every row is placed */
    size_t K;
    double tau; /* a margin above τ keeps its label */
    double err; /* ERR = err·(‖x̃‖ + C)² */
    double C;   /* the largest ‖c̃_k‖, rounded up */
} km_step;

/* The margins are kept as floats, rounded down: the labels and margins then
 * take 8 bytes a row, as much as the seeding's closest distances.  A float
 * no greater than v (w's rounding to nearest errs by at most 2⁻²⁴·|w|; the
 * subnormal floats, where it could err by more, are left out). */
KM_INLINE float float_down(double v)
{
    if (v >= 0.0) {
        if (v < FLT_MIN) return 0.0f;
        const double w = v * (1.0 - 0x1p-23);
        return w > FLT_MAX ? (v == INFINITY ? INFINITY : FLT_MAX) : (float)w;
    }
    if (v > -FLT_MIN) return -FLT_MIN;
    return (float)(v * (1.0 + 0x1p-23)); /* a NaN stays NaN: the row is placed again */
}

/* s[0..d) += sg·w·x̃, s[d] += sg·w, s[d+1] += sg·(w > 0), for row i. */
KM_INLINE void move_row(const emgmm_data *X, int F64, size_t i, const double *g, double sg,
                        double *s)
{
    const size_t d = X->d, o = i * X->ld;
    const double *xd = (const double *)X->x;
    const float *xf = (const float *)X->x;
    const double w = wt(X, i), sw = sg * w;
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
        sv += sw * (x - gv);
        memcpy(s + j, &sv, sizeof sv);
    }
    for (; j < d; j++) s[j] += sw * ((F64 ? xd[o + j] : (double)xf[o + j]) - g[j]);
    s[d] += sw;
    s[d + 1] += w > 0.0 ? sg : 0.0;
}

/* The rows of [b0, b1) to place in this step, into idx (returns how many):
 * all of them in the first step, later those whose margin, less the most it
 * can have shrunk, falls to τ or below. */
KM_INLINE size_t rows_to_place(const km_step *S, size_t b0, size_t b1, const int32_t *lab,
                               float *mg, size_t *idx)
{
    size_t cnt = 0;
    if (!S->drop) {
        for (size_t i = b0; i < b1; i++) idx[cnt++] = i;
        return cnt;
    }
    for (size_t i = b0; i < b1; i++) {
        /* m − drop, rounded down; the row is placed again unless the
         * margin stays above τ (branch-free: the outcome is erratic) */
        const double m = mg[i];
        const double mm = m * (m >= 0.0 ? 1.0 - 4 * KM_U : 1.0 + 4 * KM_U) -
                          S->drop[lab[i]] * (1.0 + 4 * KM_U); /* K = 1: ∞ stays ∞ */
        mg[i] = float_down(mm);
        idx[cnt] = i;
        cnt += !(mm > S->tau);
    }
    return cnt;
}

/* One tile of nb (<= 8) rows: each row's nearest centre, its new margin, and
 * (when its label changes) its move between the clusters' sums in its lane's
 * set.  *rm: the largest ‖x̃‖ seen; returns whether a row moved. */
KM_INLINE int place_tile(const km_step *S, int F64, const size_t *rows, size_t nb, int32_t *lab,
                         float *mg, double *lanes, double *rm)
{
    const emgmm_data *X = S->X;
    const size_t d = X->d, K = S->K, L = K * (d + 2);
    int touched = 0;
    size_t off[KM_LANES];
    for (size_t l = 0; l < KM_LANES; l++) off[l] = rows[l < nb ? l : 0] * X->ld;
    km_v8 b1v = (km_v8){0} + INFINITY, b2v = b1v, nxv = (km_v8){0};
    km_m8 k1v = (km_m8){0};
    for (size_t k0 = 0; k0 < K; k0 += KM_GROUP) {
        const int Q = (int)(K - k0 < KM_GROUP ? K - k0 : KM_GROUP);
#define KM_NEAR(QQ)                                                                                \
    nearest_block(X, F64, off, S->g, S->ct + k0 * d, S->cn + k0, k0, QQ, &b1v, &k1v, &b2v,         \
                  k0 == 0 ? &nxv : NULL)
        KM_SWITCH_Q(Q, KM_NEAR)
#undef KM_NEAR
    }
    double b1a[KM_LANES], b2a[KM_LANES], nxa[KM_LANES];
    long long k1a[KM_LANES];
    memcpy(b1a, &b1v, sizeof b1a);
    memcpy(b2a, &b2v, sizeof b2a);
    memcpy(nxa, &nxv, sizeof nxa);
    memcpy(k1a, &k1v, sizeof k1a);
    for (size_t l = 0; l < nb; l++) {
        const size_t i = rows[l];
        const int32_t k = (int32_t)k1a[l];
        /* the true distances to the nearest and second nearest, bounded
         * above and below; the margin rounded down */
        const double xn = sqrt(nxa[l]), q = xn + S->C, er = S->err * q * q;
        const double u2 = b1a[l] + nxa[l] + er, l2 = b2a[l] + nxa[l] - er;
        const double ub = sqrt(u2 > 0.0 ? u2 : 0.0), lb = sqrt(l2 > 0.0 ? l2 : 0.0);
        if (xn > *rm) *rm = xn;
        if (!S->drop || k != lab[i]) {
            /* one set of sums per lane: rows of one cluster in a row
             * do not wait on each other's additions */
            double *set = lanes + l * L;
            move_row(X, F64, i, S->g, 1.0, set + (size_t)k * (d + 2));
            if (S->drop) move_row(X, F64, i, S->g, -1.0, set + (size_t)lab[i] * (d + 2));
            touched = 1;
        }
        lab[i] = k;
        mg[i] = float_down(lb * (1.0 - 8 * KM_U) - ub * (1.0 + 8 * KM_U));
    }
    return touched;
}

KM_INLINE int lloyd_chunk_impl(const km_step *S, int F64, size_t i0, size_t i1, int32_t *lab,
                               float *mg, double *acc, double *lanes, double *rmax)
{
    const emgmm_data *X = S->X;
    const size_t d = X->d, K = S->K, L = K * (d + 2);
    const size_t es = F64 ? sizeof(double) : sizeof(float), rb = X->ld * es, rl = d * es;
    int touched = 0;
    double rm = 0.0;
    size_t idx[KM_BATCH];
    for (size_t b0 = i0; b0 < i1; b0 += KM_BATCH) {
        const size_t b1 = i1 - b0 < KM_BATCH ? i1 : b0 + KM_BATCH;
        const size_t cnt = rows_to_place(S, b0, b1, lab, mg, idx);
        /* the rows placed again are few and scattered in the later steps:
         * each tile asks for the rows of the tile four on */
        for (size_t p = 0; p < cnt && p < 4 * KM_LANES; p++) prefetch_row(X, idx[p], rb, rl);
        for (size_t t = 0; t < cnt; t += KM_LANES) {
            const size_t nb = cnt - t < KM_LANES ? cnt - t : KM_LANES;
            for (size_t p = t + 4 * KM_LANES; p < cnt && p < t + 5 * KM_LANES; p++)
                prefetch_row(X, idx[p], rb, rl);
            touched |= place_tile(S, F64, idx + t, nb, lab, mg, lanes, &rm);
        }
    }
    if (touched)
        for (size_t e = 0; e < L; e++) {
            double t = 0.0;
            for (size_t l = 0; l < KM_LANES; l++) {
                t += lanes[l * L + e];
                lanes[l * L + e] = 0.0;
            }
            acc[e] = t;
        }
    *rmax = rm;
    return touched;
}

/* One Lloyd step on rows [i0, i1) (see above): the rows whose margin falls to
 * τ or below are placed again, at their nearest centre by ‖c̃_k‖² − 2 x̃·c̃_k
 * (x̃ = x − g, c̃ = c − g), the squared distance less the row's own ‖x̃‖²: on
 * rows centred at the mean of the seeds the large terms cancel to within
 * ε·‖x̃‖·‖c̃‖, far below the spread, and the products take half the work of
 * the direct form.  A row that changes label moves its w·x̃, w and row count
 * from its old cluster's sums to its new one's in acc ([K][d + 2], written
 * only when some row moved: returns whether one did).  The moves go first to
 * one set of sums per lane (lanes: [8][K·(d + 2)], zero on entry and on
 * return), added in lane order at the end.  *rmax: the largest ‖x̃‖ placed. */
EMGMM_VERSIONS(static, int, FMA, lloyd_chunk,
               (const km_step *S, size_t i0, size_t i1, int32_t *lab, float *mg, double *acc,
                double *lanes, double *rmax),
               (S, i0, i1, lab, mg, acc, lanes, rmax))
{
    if (S->X->dtype == EMGMM_F64) return lloyd_chunk_impl(S, 1, i0, i1, lab, mg, acc, lanes, rmax);
    return lloyd_chunk_impl(S, 0, i0, i1, lab, mg, acc, lanes, rmax);
}

/* The buffers of one Lloyd run. */
typedef struct {
    double *g;     /* [d] the shift: the mean of the seeds */
    double *ct;    /* [2][K][d] this step's c̃, then the last step's */
    double *cn;    /* [K] ‖c̃_k‖² */
    double *drop;  /* [K] the margins' drop bounds */
    double *part;  /* [nchunks][K·(d + 2)] each chunk's moves */
    double *rch;   /* [nchunks] each chunk's largest ‖x̃‖ */
    int *moved;    /* [nchunks] whether a row of the chunk moved */
    double *tot;   /* [K][d + 2] the clusters' sums */
    double *lanes; /* [T][8][K·(d + 2)] per lane */
    int32_t *lab;  /* [n] labels */
    float *mg;     /* [n] margins */
} lloyd_bufs;

static int lloyd_alloc(lloyd_bufs *b, size_t n, size_t d, size_t K, size_t nchunks, int T)
{
    const size_t L = K * (d + 2);
    b->g = calloc(d, sizeof(double));
    b->ct = calloc(2 * K * d, sizeof(double));
    b->cn = malloc(K * sizeof(double));
    b->drop = malloc(K * sizeof(double));
    b->part = malloc(nchunks * L * sizeof(double));
    b->rch = malloc(nchunks * sizeof(double));
    b->moved = malloc(nchunks * sizeof(int));
    b->tot = calloc(L, sizeof(double));
    b->lanes = calloc((size_t)T * KM_LANES * L, sizeof(double));
    b->lab = malloc(n * sizeof(int32_t));
    b->mg = malloc(n * sizeof(float));
    if (!b->g || !b->ct || !b->cn || !b->drop || !b->part || !b->rch || !b->moved || !b->tot ||
        !b->lanes || !b->lab || !b->mg)
        return EMGMM_ERR_ALLOC;
    return EMGMM_OK;
}

static void lloyd_free(lloyd_bufs *b)
{
    free(b->g);
    free(b->ct);
    free(b->cn);
    free(b->drop);
    free(b->part);
    free(b->rch);
    free(b->moved);
    free(b->tot);
    free(b->lanes);
    free(b->lab);
    free(b->mg);
}

/* A step's bounds: the centred centres c̃ (the last step's kept after them),
 * ‖c̃_k‖², C = max ‖c̃_k‖, and from the second step each label's drop (how
 * far its centre moved plus the largest other move) and τ.  R: the largest
 * ‖x̃‖ of the first step. */
static void step_bounds(km_step *S, const double *centres, lloyd_bufs *b, double grow, int it,
                        double R)
{
    const size_t K = S->K, d = S->X->d;
    const double *g = b->g;
    double *ct = b->ct, *cn = b->cn, *drop = b->drop;
    double cmax = 0.0, d1 = 0.0, d2 = 0.0;
    size_t k1 = 0;
    for (size_t k = 0; k < K; k++) {
        double s = 0.0, dd = 0.0;
        for (size_t j = 0; j < d; j++) {
            const double c = centres[k * d + j] - g[j];
            dd += (c - ct[k * d + j]) * (c - ct[k * d + j]);
            ct[K * d + k * d + j] = ct[k * d + j];
            ct[k * d + j] = c;
            s += c * c;
        }
        cn[k] = s;
        if (s > cmax) cmax = s;
        /* how far c̃_k moved (meaningful from the second step): the two
         * largest moves */
        dd = sqrt(dd) * grow;
        drop[k] = dd;
        if (dd > d1) {
            d2 = d1;
            d1 = dd;
            k1 = k;
        } else if (dd > d2) {
            d2 = dd;
        }
    }
    S->C = sqrt(cmax) * grow;
    if (it > 0) {
        for (size_t k = 0; k < K; k++) drop[k] = (drop[k] + (k == k1 ? d2 : d1)) * (1.0 + 4 * KM_U);
        S->drop = drop;
        S->tau = sqrt(2.0 * S->err) * (R + S->C) * (1.0 + 4 * KM_U);
    }
}

/* The centres g + Σ w·x̃ / Σ w from the clusters' sums tot ([K][d + 2]); an
 * empty cluster (no row of weight) keeps its centre, and its sums are set to
 * exactly zero.  Returns the squared distance the centres moved. */
static double new_centres(double *tot, const double *g, double *centres, size_t K, size_t d)
{
    double shift = 0.0;
    for (size_t k = 0; k < K; k++) {
        double *tk = tot + k * (d + 2);
        if (tk[d + 1] == 0.0) {
            memset(tk, 0, (d + 1) * sizeof(double));
            continue;
        }
        for (size_t j = 0; j < d; j++) {
            double c = g[j] + tk[j] / tk[d];
            double t = c - centres[k * d + j];
            shift += t * t;
            centres[k * d + j] = c;
        }
    }
    return shift;
}

int emgmm_kmeans_lloyd(emgmm_model *m, const emgmm_data *X, int max_iter, double tol, int n_threads,
                       double *centres, int *n_iter_out)
{
    const size_t n = X->n, d = X->d, K = (size_t)m->K, L = K * (d + 2);
    /* Chunks of at least 16·K rows keep the per-chunk sums ([K][d + 2]) to a
     * few sixteenths of the values they sum; the chunk size depends on K
     * only, never on the threads. */
    size_t lc = KM_CHUNK;
    while (lc < 16 * K) lc *= 2;
    const size_t nchunks = (n + lc - 1) / lc;
    int T = emgmm_threads(n_threads);
    if ((size_t)T > nchunks) T = (int)nchunks;
    /* rounding allowance of a computed ‖ · ‖ of d terms */
    const double grow = 1.0 + 4.0 * (double)(d + 4) * KM_U;
    lloyd_bufs b;
    int st = lloyd_alloc(&b, n, d, K, nchunks, T), it = 0;
    double var = 0.0, R = 0.0;
    if (st == EMGMM_OK) st = mean_variance(X, T, &var);
    const double thresh = tol * var;
    if (st == EMGMM_OK) {
        /* Distances are computed on data centred at the mean of the seeds. */
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < d; j++) b.g[j] += centres[k * d + j] / (double)K;
    }
    km_step S = {X, b.g, b.ct, b.cn, NULL, K, 0.0, 16.0 * (double)(d + 4) * KM_U, 0.0};
    for (it = 0; st == EMGMM_OK && it < max_iter; it++) {
        step_bounds(&S, centres, &b, grow, it, R);
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
                b.moved[ch] = lloyd_chunk(&S, i0, i1, b.lab, b.mg, b.part + ch * L,
                                          b.lanes + tid * KM_LANES * L, b.rch + ch);
            }
        }
        for (size_t ch = 0; ch < nchunks; ch++) {
            if (it == 0 && b.rch[ch] > R) R = b.rch[ch];
            if (b.moved[ch])
                for (size_t e = 0; e < L; e++) b.tot[e] += b.part[ch * L + e];
        }
        if (it == 0) R *= grow;
        if (new_centres(b.tot, b.g, centres, K, d) <= thresh) {
            it++;
            break;
        }
    }
    if (n_iter_out) *n_iter_out = it;
    lloyd_free(&b);
    return st;
}
