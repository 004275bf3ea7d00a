/* kernels_tri_impl.h — the full family's triangular kernels that are the
 * same for both working types, for one TYPE (compiled by kernels_f64.c and
 * kernels_f32.c; src/em/type_on.h names each kernel): the E-step's copy of
 * the factors' last column group and the M-step's tiles.  The E-step tiles differ by type and are
 * in kernels_tri.c, with the reasoning for both products. */

/* A vector of 64 bytes: 8 doubles or 16 floats. */
typedef TYPE tile_vec __attribute__((vector_size(64), aligned(sizeof(TYPE))));
enum {
    TILE_LANES = 64 / (int)sizeof(TYPE)
};
typedef double pick_v8d __attribute__((vector_size(64), aligned(8)));

/* The last column group of U_k when it has cg = d mod 8 < 8 columns (l0 =
 * d − cg), for the E-step tiles (kernels_tri.c): rows j = 0 … d − 1 of
 * columns l0 … l0 + 7, 8 values per row, zero where j > l or l >= d
 * (emgmm_tri_tail_size(d) values). */
void EMGMM_TRI_TAIL(const TYPE *U, size_t ldu, size_t d, TYPE *P)
{
    const size_t l0 = d & ~(size_t)7, cg = d - l0;
    if (cg == 0) return;
    for (size_t j = 0; j < d; j++)
        for (size_t c = 0; c < 8; c++)
            *P++ = (c < cg && j <= l0 + c) ? U[j * ldu + l0 + c] : (TYPE)0;
}

/* ---- M-step: one component's products over one block ---------------------
 *
 *   T[a·ld + b] = Σ_i x̃_ia · w_ib,   w_i = r_i·(x̃_i − c̃),   for a <= b,
 *
 * over the rows i with r_i ≠ 0 (picked by index into idx: X is the whole
 * block, so leaving rows out copies no data).  Row-major X (rows of ld, zero
 * past d), the columns b in the vector lanes: a tile is 8 values of a
 * (broadcast from X's row) × up to 3 vectors of b, whose w is formed in
 * registers from X's row as the tile needs it (a subtraction and a
 * multiplication per vector, in the working type), summed over the rows in
 * registers and stored once.  The tiles start at the vector holding b = a0,
 * so only the diagonal band below it is computed for nothing.  The tiles of
 * a0 = 0 cover every b, and they also sum w (s1 = Σ w).
 *
 * Forming w in the tile, rather than storing W = r·(x̃ − c̃) row by row for a
 * product that broadcast from it, saves a pass that wrote and read back
 * n·K·d values (on tall, 15% of the profile against the products' 26%). */
/* idx ← the rows i < nb with r[i] ≠ 0, in order; returns how many.  *nk = Σ r,
 * summed in 8 lanes as the rows are picked (the same for both data types). */
EMGMM_TILE_INLINE size_t pick_rows(const double *r, size_t nb, size_t *idx, double *nk)
{
    pick_v8d nv = {0};
    size_t m = 0, i = 0;
    for (; i + 8 <= nb; i += 8) {
        pick_v8d rv;
        memcpy(&rv, r + i, sizeof rv);
        nv += rv;
        _Pragma("GCC unroll 8") for (size_t l = 0; l < 8; l++)
        {
            idx[m] = i + l;
            m += rv[l] != 0.0;
        }
    }
    double tail = 0.0;
    for (; i < nb; i++) {
        tail += r[i];
        idx[m] = i;
        m += r[i] != 0.0;
    }
    *nk = ((nv[0] + nv[4]) + (nv[1] + nv[5])) + ((nv[2] + nv[6]) + (nv[3] + nv[7])) + tail;
    return m;
}

/* One tile: T's rows a0 … a0 + 7 × RB vectors of columns from b0 (and, with
 * SUMW, Σ w over those columns). */
EMGMM_TILE_INLINE void mstat_tile(const TYPE *X, const double *r, const size_t *idx, size_t ld,
                                  size_t m, size_t a0, size_t b0, const TYPE *ct, TYPE *T, TYPE *st,
                                  const int SUMW, const int RB)
{
    const size_t L = TILE_LANES;
    const tile_vec zero = {0};
    tile_vec acc[8][3], c[3], s[3];
    _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++)
    {
        memcpy(&c[v], ct + b0 + (size_t)v * L, sizeof(tile_vec));
        s[v] = zero;
    }
    _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)
        _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++) acc[a][v] = zero;
    for (size_t q = 0; q < m; q++) {
        const size_t i = idx[q];
        const TYPE *xr = X + i * ld, ri = (TYPE)r[i];
        tile_vec w[3];
        _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++)
        {
            tile_vec x;
            memcpy(&x, xr + b0 + (size_t)v * L, sizeof(tile_vec));
            w[v] = (x - c[v]) * ri;
            if (SUMW) s[v] += w[v];
        }
        _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)
        {
            const TYPE xa = xr[a0 + (size_t)a];
            _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++) acc[a][v] += w[v] * xa;
        }
    }
    _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)
        _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++)
            memcpy(T + (a0 + (size_t)a) * ld + b0 + (size_t)v * L, &acc[a][v], sizeof(tile_vec));
    if (SUMW)
        _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++)
            memcpy(st + b0 + (size_t)v * L, &s[v], sizeof(tile_vec));
}

/* 16 values of a × one vector of columns from b0: where a band of 16 rows has
 * one vector of b left (float, 16 lanes), one pass over the rows instead of
 * two 8-row tiles'.  Each entry gets the same multiply-adds in the same order
 * as in mstat_tile, so the same bits. */
EMGMM_TILE_INLINE void mstat_tile16(const TYPE *X, const double *r, const size_t *idx, size_t ld,
                                    size_t m, size_t a0, size_t b0, const TYPE *ct, TYPE *T,
                                    TYPE *st, const int SUMW)
{
    const tile_vec zero = {0};
    tile_vec acc[16], c, s = zero;
    memcpy(&c, ct + b0, sizeof(tile_vec));
    _Pragma("GCC unroll 16") for (int a = 0; a < 16; a++) acc[a] = zero;
    for (size_t q = 0; q < m; q++) {
        const size_t i = idx[q];
        const TYPE *xr = X + i * ld, ri = (TYPE)r[i];
        tile_vec x;
        memcpy(&x, xr + b0, sizeof(tile_vec));
        const tile_vec w = (x - c) * ri;
        if (SUMW) s += w;
        _Pragma("GCC unroll 16") for (int a = 0; a < 16; a++) acc[a] += w * xr[a0 + (size_t)a];
    }
    _Pragma("GCC unroll 16") for (int a = 0; a < 16; a++)
        memcpy(T + (a0 + (size_t)a) * ld + b0, &acc[a], sizeof(tile_vec));
    if (SUMW) memcpy(st + b0, &s, sizeof(tile_vec));
}

/* float, ld = 16 (d <= 16): the rows two at a time, one per half of a vector,
 * for the band of rows 8 … 15.  Those rows need only the columns 8 … 15, half a
 * vector: mstat_tile16 spends a whole 16-lane multiply-add per row and band row
 * on them, 8 of its 16.  Here row a = 8 + t of the band takes, for the pair
 * (i, j), one multiply-add of h = [w_i[8 … 15], w_j[8 … 15]] by
 * [x_i[a] × 8, x_j[a] × 8] into acc2[t], whose halves are added at the end:
 * 12 multiply-adds per row instead of 16.  Rows 0 … 7 take whole vectors, as in
 * mstat_tile16 (i then j into the same accumulator).  The band's sums run over
 * every other row and are added in a different order than mstat_tile16's, so
 * its bits differ from that tile's in the last place. */
#if defined(EMGMM_TYPE_F32)
typedef int tile_mask16 __attribute__((vector_size(64)));
EMGMM_TILE_INLINE void mstat_tile16_pair(const TYPE *X, const double *r, const size_t *idx,
                                         size_t m, const TYPE *ct, TYPE *T, TYPE *st)
{
    const tile_vec zero = {0};
    const tile_mask16 hsel = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
    tile_vec acc[8], acc2[8], c, s = zero;
    memcpy(&c, ct, sizeof(tile_vec));
    _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++) acc[a] = acc2[a] = zero;
    size_t q = 0;
    for (; q + 2 <= m; q += 2) {
        const TYPE *xi = X + idx[q] * 16, *xj = X + idx[q + 1] * 16;
        const TYPE ri = (TYPE)r[idx[q]], rj = (TYPE)r[idx[q + 1]];
        tile_vec x, y;
        memcpy(&x, xi, sizeof(tile_vec));
        memcpy(&y, xj, sizeof(tile_vec));
        const tile_vec wi = (x - c) * ri, wj = (y - c) * rj;
        s += wi;
        s += wj;
        _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)
        {
            acc[a] += wi * xi[a];
            acc[a] += wj * xj[a];
        }
        const tile_vec h = __builtin_shuffle(wi, wj, hsel);
        _Pragma("GCC unroll 8") for (int t = 0; t < 8; t++)
        {
            const tile_mask16 usel = {8 + t,  8 + t,  8 + t,  8 + t,  8 + t,  8 + t,
                                      8 + t,  8 + t,  24 + t, 24 + t, 24 + t, 24 + t,
                                      24 + t, 24 + t, 24 + t, 24 + t};
            acc2[t] += h * __builtin_shuffle(x, y, usel);
        }
    }
    if (q < m) { /* an odd row out: the lower half only */
        const TYPE *xi = X + idx[q] * 16, ri = (TYPE)r[idx[q]];
        tile_vec x;
        memcpy(&x, xi, sizeof(tile_vec));
        const tile_vec wi = (x - c) * ri;
        s += wi;
        _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++) acc[a] += wi * xi[a];
        const tile_vec h = __builtin_shuffle(wi, zero, hsel);
        _Pragma("GCC unroll 8") for (int t = 0; t < 8; t++) acc2[t] += h * xi[8 + t];
    }
    _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)
    {
        memcpy(T + (size_t)a * 16, &acc[a], sizeof(tile_vec));
        _Pragma("GCC unroll 8") for (int b = 0; b < 8; b++)
            T[(size_t)(8 + a) * 16 + 8 + (size_t)b] = acc2[a][b] + acc2[a][8 + b];
    }
    memcpy(st, &s, sizeof(tile_vec));
}
#endif

/* 8 < d <= 8 + E2 and ld = 2 vectors (double, d = 9 … 12): rows 0 … 7 × both vectors and
 * rows 8 … d − 1 × the second one in one pass over the rows, 16 + E accumulators, where
 * mstat_row's bands took two passes and the second computed 8 rows for d − 8.  Each entry gets
 * the same multiply-adds in the same order as in mstat_tile, so the same bits. */
#define E2 4
EMGMM_TILE_INLINE void mstat_tile_2v(const TYPE *X, const double *r, const size_t *idx, size_t ld,
                                     size_t m, const TYPE *ct, TYPE *T, TYPE *st, const int E)
{
    const size_t L = TILE_LANES;
    const tile_vec zero = {0};
    tile_vec acc[8][2], acc2[E2], c[2], s[2];
    _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++)
    {
        memcpy(&c[v], ct + (size_t)v * L, sizeof(tile_vec));
        s[v] = zero;
    }
    _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++) acc[a][0] = acc[a][1] = zero;
    _Pragma("GCC unroll 4") for (int a = 0; a < E; a++) acc2[a] = zero;
    for (size_t q = 0; q < m; q++) {
        const size_t i = idx[q];
        const TYPE *xr = X + i * ld, ri = (TYPE)r[i];
        tile_vec w[2];
        _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++)
        {
            tile_vec x;
            memcpy(&x, xr + (size_t)v * L, sizeof(tile_vec));
            w[v] = (x - c[v]) * ri;
            s[v] += w[v];
        }
        _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)
        {
            const TYPE xa = xr[a];
            _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++) acc[a][v] += w[v] * xa;
        }
        _Pragma("GCC unroll 4") for (int a = 0; a < E; a++) acc2[a] += w[1] * xr[L + (size_t)a];
    }
    _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)
        _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++)
            memcpy(T + (size_t)a * ld + (size_t)v * L, &acc[a][v], sizeof(tile_vec));
    _Pragma("GCC unroll 4") for (int a = 0; a < E; a++)
        memcpy(T + (L + (size_t)a) * ld + L, &acc2[a], sizeof(tile_vec));
    _Pragma("GCC unroll 2") for (int v = 0; v < 2; v++)
        memcpy(st + (size_t)v * L, &s[v], sizeof(tile_vec));
}

/* the tiles of a0 … a0 + 7: b from the vector holding a0 to ld */
EMGMM_TILE_INLINE void mstat_row(const TYPE *X, const double *r, const size_t *idx, size_t ld,
                                 size_t m, size_t a0, const TYPE *ct, TYPE *T, TYPE *st,
                                 const int SUMW)
{
    const size_t L = TILE_LANES;
    for (size_t b0 = a0 / L * L; b0 < ld;) {
        const size_t nvec = (ld - b0) / L;
        if (nvec >= 3) {
            mstat_tile(X, r, idx, ld, m, a0, b0, ct, T, st, SUMW, 3);
            b0 += 3 * L;
        } else if (nvec == 2) {
            mstat_tile(X, r, idx, ld, m, a0, b0, ct, T, st, SUMW, 2);
            b0 += 2 * L;
        } else {
            mstat_tile(X, r, idx, ld, m, a0, b0, ct, T, st, SUMW, 1);
            b0 += L;
        }
    }
}

EMGMM_VERSIONS(, size_t, FMA, EMGMM_MSTAT,
               (const TYPE *X, size_t ld, size_t d, const double *r, size_t nb, const double *c,
                size_t *idx, double *s1, double *nk, TYPE *T, TYPE *scr),
               (X, ld, d, r, nb, c, idx, s1, nk, T, scr))
{
    TYPE *ct = scr, *st = scr + ld;
    for (size_t a = 0; a < ld; a++) {
        ct[a] = a < d ? (TYPE)c[a] : (TYPE)0;
        st[a] = (TYPE)0;
    }
    const size_t m = pick_rows(r, nb, idx, nk);
    /* rows a0 … a0 + 7 per mstat_row; the last band of 16 rows in one mstat_tile16 */
    const size_t L = TILE_LANES;
    if (m > 0 && L == 16 && ld == 16) {
#if defined(EMGMM_TYPE_F32)
        mstat_tile16_pair(X, r, idx, m, ct, T, st);
#else
        mstat_tile16(X, r, idx, ld, m, 0, 0, ct, T, st, 1);
#endif
    } else if (m > 0 && L == 8 && ld == 2 * L && d > L && d <= L + E2) {
        switch (d - L) { /* E a constant, so that the tile unrolls */
        case 1: mstat_tile_2v(X, r, idx, ld, m, ct, T, st, 1); break;
        case 2: mstat_tile_2v(X, r, idx, ld, m, ct, T, st, 2); break;
        case 3: mstat_tile_2v(X, r, idx, ld, m, ct, T, st, 3); break;
        default: mstat_tile_2v(X, r, idx, ld, m, ct, T, st, 4); break;
        }
    } else if (m > 0) {
        mstat_row(X, r, idx, ld, m, 0, ct, T, st, 1);
        for (size_t a0 = 8; a0 < d; a0 += 8) {
            if (L == 16 && a0 % 16 == 0 && ld - a0 == 16) {
                mstat_tile16(X, r, idx, ld, m, a0, a0, ct, T, st, 0);
                break; /* it holds the band's rows a0 + 8 … too */
            }
            mstat_row(X, r, idx, ld, m, a0, ct, T, st, 0);
        }
    }
    for (size_t a = 0; a < d; a++) s1[a] = (double)st[a];
    return m;
}
#undef E2

EMGMM_VERSIONS_VOID(, FMA, EMGMM_MFOLD,
                    (const TYPE *T, size_t ld, size_t d, const double *s1, const double *c,
                     double *s2),
                    (T, ld, d, s1, c, s2))
{
    for (size_t a = 0; a < d; a++) {
        const TYPE *t = T + a * ld;
        double *s = s2 + a * d;
        const double ca = c[a];
#pragma omp simd
        for (size_t b = a; b < d; b++) s[b] += (double)t[b] - s1[b] * ca;
    }
}
