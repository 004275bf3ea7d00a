/* kernels_tri.c — the full family's two d² products per row and component,
 * as register-tiled kernels that do only the triangle's work.
 *
 * Both products are triangular: the E-step's y = x̃·U_k with U_k upper
 * triangular, and the M-step's Σ_i x̃_i w_iᵀ (w_i = r_i·(x̃_i − c̃)) of which
 * only the upper triangle is needed (less c̃·s1ᵀ, the statistic is
 * symmetric).  Through GEMM each costs the whole square (the block pass's
 * split at d/2 saves a quarter); these kernels cost
 * the triangle plus a diagonal band of 8, about d²/2 + 4d multiply-adds per
 * row instead of d² or ¾d².  They are GEMM micro-kernels without the packing:
 * 24 vector accumulators (3 vectors of rows or columns × 8 broadcast values),
 * the left operand loaded straight from the block's buffers, which stay in
 * the L1/L2 caches.
 *
 * Built as x86-64-v4 (AVX-512), v3 (AVX2+FMA) and baseline clones, with
 * a·b + c contracted into FMA (EMGMM_CLONES_FMA). */
#include <stddef.h>
#include <string.h>

#include "src/em/kernels.h"

typedef double v8d __attribute__((vector_size(64), aligned(8)));
typedef float v16f __attribute__((vector_size(64), aligned(4)));

#define TRI_INLINE static inline __attribute__((always_inline, optimize("fp-contract=fast")))

/* ---- E-step: out[k·ldo + i] = cst[k] − ½‖x̃_i·U_k − m_k‖² -------------------
 *
 * The rows are in the vector lanes (x̃ᵀ, d rows of ldb), as in the fused
 * small-d kernel.  U_k is packed in column groups of 8 (emgmm_tri_panel_*):
 * group g (columns l0 = 8g … l0 + cg − 1) holds rows j = 0 … l0 + cg − 1 of
 * those columns, 8 values per row, zero where j > l, so y's 8 columns of the
 * group for 3 vectors of rows accumulate in 24 registers over j, start at
 * −m_k, and are squared into q when the group is done.  The last cg rows of
 * a group are the diagonal block: a column c only takes the rows j − l0 <= c,
 * which the unrolled loop resolves at compile time. */

size_t emgmm_tri_panel_size(size_t d)
{
    size_t s = 0;
    for (size_t l0 = 0; l0 < d; l0 += 8) s += (l0 + (d - l0 < 8 ? d - l0 : 8)) * 8;
    return s;
}

#define TRI_PANEL_DEF(NAME, TYPE)                                                          \
    void NAME(const TYPE *U, size_t ldu, size_t d, TYPE *P)                                \
    {                                                                                      \
        for (size_t l0 = 0; l0 < d; l0 += 8) {                                             \
            const size_t cg = d - l0 < 8 ? d - l0 : 8;                                     \
            for (size_t j = 0; j < l0 + cg; j++)                                           \
                for (size_t c = 0; c < 8; c++)                                             \
                    *P++ = (c < cg && j <= l0 + c) ? U[j * ldu + l0 + c] : (TYPE)0;        \
        }                                                                                  \
    }
TRI_PANEL_DEF(emgmm_tri_panel_f64, double)
TRI_PANEL_DEF(emgmm_tri_panel_f32, float)

/* R vectors of 8 rows starting at row i; nrows of them are real. */
TRI_INLINE void qf_tile_f64(const double *xt, size_t ldb, size_t i, size_t nrows, size_t d,
                            size_t K, const double *Up, size_t psz, const double *mv,
                            const double *cst, double *out, size_t ldo, const int R)
{
    const v8d zero = {0};
    for (size_t k = 0; k < K; k++) {
        const double *u = Up + k * psz, *mk = mv + k * d;
        v8d q[3] = {zero, zero, zero};
        for (size_t l0 = 0; l0 < d; l0 += 8) {
            const size_t cg = d - l0 < 8 ? d - l0 : 8;
            v8d acc[3][8];
            _Pragma("GCC unroll 8") for (int c = 0; c < 8; c++)
            {
                const double m0 = (size_t)c < cg ? -mk[l0 + (size_t)c] : 0.0;
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] = zero + m0;
            }
            for (size_t j = 0; j < l0; j++) {
                v8d x[3];
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++)
                    memcpy(&x[r], xt + j * ldb + i + 8 * (size_t)r, sizeof(v8d));
                _Pragma("GCC unroll 8") for (int c = 0; c < 8; c++)
                {
                    const double b = u[c];
                    _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] += x[r] * b;
                }
                u += 8;
            }
            _Pragma("GCC unroll 8") for (int jj = 0; jj < 8; jj++)
            {
                if ((size_t)jj >= cg) break;
                v8d x[3];
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++)
                    memcpy(&x[r], xt + (l0 + (size_t)jj) * ldb + i + 8 * (size_t)r, sizeof(v8d));
                _Pragma("GCC unroll 8") for (int c = jj; c < 8; c++)
                {
                    const double b = u[c];
                    _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] += x[r] * b;
                }
                u += 8;
            }
            _Pragma("GCC unroll 8") for (int c = 0; c < 8; c++)
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) q[r] += acc[r][c] * acc[r][c];
        }
        _Pragma("GCC unroll 3") for (int r = 0; r < R; r++)
        {
            const size_t i0 = i + 8 * (size_t)r;
            if (i0 >= nrows) break;
            const v8d o = cst[k] - 0.5 * q[r];
            memcpy(out + k * ldo + i0, &o, (nrows - i0 < 8 ? nrows - i0 : 8) * sizeof(double));
        }
    }
}

EMGMM_CLONES_FMA
void emgmm_qf_tri_f64(const double *xt, size_t ldb, size_t nb, size_t d, size_t K,
                      const double *Up, const double *mv, const double *cst, double *out,
                      size_t ldo)
{
    const size_t nv = (nb + 7) / 8, psz = emgmm_tri_panel_size(d);
    size_t v = 0;
    for (; v + 3 <= nv; v += 3) qf_tile_f64(xt, ldb, 8 * v, nb, d, K, Up, psz, mv, cst, out, ldo, 3);
    if (nv - v == 2) qf_tile_f64(xt, ldb, 8 * v, nb, d, K, Up, psz, mv, cst, out, ldo, 2);
    if (nv - v == 1) qf_tile_f64(xt, ldb, 8 * v, nb, d, K, Up, psz, mv, cst, out, ldo, 1);
}

/* float32: 16 rows per vector and products in float, as SGEMM would form
 * them; each group's 8 squares are summed in float and added into q in
 * double, as the GEMM path's quadratic form does. */
typedef float v8f __attribute__((vector_size(32), aligned(4)));

TRI_INLINE void qf_tile_f32(const float *xt, size_t ldb, size_t i, size_t nrows, size_t d,
                            size_t K, const float *Up, size_t psz, const double *mv,
                            const double *cst, double *out, size_t ldo, const int R)
{
    const v16f zero = {0};
    const v8d zd = {0};
    for (size_t k = 0; k < K; k++) {
        const float *u = Up + k * psz;
        const double *mk = mv + k * d;
        v8d q[3][2] = {{zd, zd}, {zd, zd}, {zd, zd}};
        for (size_t l0 = 0; l0 < d; l0 += 8) {
            const size_t cg = d - l0 < 8 ? d - l0 : 8;
            v16f acc[3][8];
            _Pragma("GCC unroll 8") for (int c = 0; c < 8; c++)
            {
                const float m0 = (size_t)c < cg ? (float)-mk[l0 + (size_t)c] : 0.0f;
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] = zero + m0;
            }
            for (size_t j = 0; j < l0; j++) {
                v16f x[3];
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++)
                    memcpy(&x[r], xt + j * ldb + i + 16 * (size_t)r, sizeof(v16f));
                _Pragma("GCC unroll 8") for (int c = 0; c < 8; c++)
                {
                    const float b = u[c];
                    _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] += x[r] * b;
                }
                u += 8;
            }
            _Pragma("GCC unroll 8") for (int jj = 0; jj < 8; jj++)
            {
                if ((size_t)jj >= cg) break;
                v16f x[3];
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++)
                    memcpy(&x[r], xt + (l0 + (size_t)jj) * ldb + i + 16 * (size_t)r, sizeof(v16f));
                _Pragma("GCC unroll 8") for (int c = jj; c < 8; c++)
                {
                    const float b = u[c];
                    _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] += x[r] * b;
                }
                u += 8;
            }
            _Pragma("GCC unroll 3") for (int r = 0; r < R; r++)
            {
                v16f s = acc[r][0] * acc[r][0];
                _Pragma("GCC unroll 8") for (int c = 1; c < 8; c++) s += acc[r][c] * acc[r][c];
                v8f lo, hi;
                memcpy(&lo, &s, sizeof lo);
                memcpy(&hi, (const char *)&s + sizeof lo, sizeof hi);
                q[r][0] += __builtin_convertvector(lo, v8d);
                q[r][1] += __builtin_convertvector(hi, v8d);
            }
        }
        _Pragma("GCC unroll 3") for (int r = 0; r < R; r++)
            _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++)
            {
                const size_t i0 = i + 16 * (size_t)r + 8 * (size_t)h;
                if (i0 < nrows) {
                    const v8d o = cst[k] - 0.5 * q[r][h];
                    memcpy(out + k * ldo + i0, &o, (nrows - i0 < 8 ? nrows - i0 : 8) * sizeof(double));
                }
            }
    }
}

EMGMM_CLONES_FMA
void emgmm_qf_tri_f32(const float *xt, size_t ldb, size_t nb, size_t d, size_t K,
                      const float *Up, const double *mv, const double *cst, double *out,
                      size_t ldo)
{
    const size_t nv = (nb + 15) / 16, psz = emgmm_tri_panel_size(d);
    size_t v = 0;
    for (; v + 3 <= nv; v += 3) qf_tile_f32(xt, ldb, 16 * v, nb, d, K, Up, psz, mv, cst, out, ldo, 3);
    if (nv - v == 2) qf_tile_f32(xt, ldb, 16 * v, nb, d, K, Up, psz, mv, cst, out, ldo, 2);
    if (nv - v == 1) qf_tile_f32(xt, ldb, 16 * v, nb, d, K, Up, psz, mv, cst, out, ldo, 1);
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
TRI_INLINE size_t pick_rows(const double *r, size_t nb, size_t *idx, double *nk)
{
    v8d nv = {0};
    size_t m = 0, i = 0;
    for (; i + 8 <= nb; i += 8) {
        v8d rv;
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

#define MSTAT_DEF(TILE, TILE16, ROW, MSTAT, MFOLD, TYPE, VT, L) \
    TRI_INLINE void TILE(const TYPE *X, const double *r, const size_t *idx,    \
                                     size_t ld, size_t m, size_t a0, size_t b0,             \
                                     const TYPE *ct, TYPE *T, TYPE *st, const int SUMW,     \
                                     const int RB)                                         \
    {                                                                                      \
        const VT zero = {0};                                                               \
        VT acc[8][3], c[3], s[3];                                                          \
        _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++)                               \
        {                                                                                  \
            memcpy(&c[v], ct + b0 + (size_t)v * L, sizeof(VT));                            \
            s[v] = zero;                                                                   \
        }                                                                                  \
        _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)                                \
            _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++) acc[a][v] = zero;          \
        for (size_t q = 0; q < m; q++) {                                                   \
            const size_t i = idx[q];                                                       \
            const TYPE *xr = X + i * ld, ri = (TYPE)r[i];                                  \
            VT w[3];                                                                       \
            _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++)                           \
            {                                                                              \
                VT x;                                                                      \
                memcpy(&x, xr + b0 + (size_t)v * L, sizeof(VT));                           \
                w[v] = (x - c[v]) * ri;                                                    \
                if (SUMW) s[v] += w[v];                                                    \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)                            \
            {                                                                              \
                const TYPE xa = xr[a0 + (size_t)a];                                        \
                _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++) acc[a][v] += w[v] * xa; \
            }                                                                              \
        }                                                                                  \
        _Pragma("GCC unroll 8") for (int a = 0; a < 8; a++)                                \
            _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++)                           \
                memcpy(T + (a0 + (size_t)a) * ld + b0 + (size_t)v * L, &acc[a][v], sizeof(VT)); \
        if (SUMW)                                                                          \
            _Pragma("GCC unroll 3") for (int v = 0; v < RB; v++)                           \
                memcpy(st + b0 + (size_t)v * L, &s[v], sizeof(VT));                        \
    }                                                                                      \
                                                                                           \
    /* 16 values of a × one vector of b: where a band of 16 rows has one vector of     \
     * b left (float, L = 16), one pass over the rows instead of two 8-row tiles'.     \
     * Each entry gets the same multiply-adds in the same order as in TILE.  */        \
    TRI_INLINE void TILE16(const TYPE *X, const double *r, const size_t *idx, size_t ld,   \
                           size_t m, size_t a0, size_t b0, const TYPE *ct, TYPE *T,        \
                           TYPE *st, const int SUMW)                                       \
    {                                                                                      \
        const VT zero = {0};                                                               \
        VT acc[16], c, s = zero;                                                           \
        memcpy(&c, ct + b0, sizeof(VT));                                                   \
        _Pragma("GCC unroll 16") for (int a = 0; a < 16; a++) acc[a] = zero;               \
        for (size_t q = 0; q < m; q++) {                                                   \
            const size_t i = idx[q];                                                       \
            const TYPE *xr = X + i * ld, ri = (TYPE)r[i];                                  \
            VT x;                                                                          \
            memcpy(&x, xr + b0, sizeof(VT));                                               \
            const VT w = (x - c) * ri;                                                     \
            if (SUMW) s += w;                                                              \
            _Pragma("GCC unroll 16") for (int a = 0; a < 16; a++)                          \
                acc[a] += w * xr[a0 + (size_t)a];                                          \
        }                                                                                  \
        _Pragma("GCC unroll 16") for (int a = 0; a < 16; a++)                              \
            memcpy(T + (a0 + (size_t)a) * ld + b0, &acc[a], sizeof(VT));                   \
        if (SUMW) memcpy(st + b0, &s, sizeof(VT));                                         \
    }                                                                                      \
                                                                                           \
    /* the tiles of a0 … a0 + 7: b from the vector holding a0 to ld */                   \
    TRI_INLINE void ROW(const TYPE *X, const double *r, const size_t *idx,     \
                                    size_t ld, size_t m, size_t a0, const TYPE *ct,         \
                                    TYPE *T, TYPE *st, const int SUMW)                      \
    {                                                                                      \
        for (size_t b0 = a0 / L * L; b0 < ld;) {                                           \
            const size_t nvec = (ld - b0) / L;                                             \
            if (nvec >= 3) {                                                               \
                TILE(X, r, idx, ld, m, a0, b0, ct, T, st, SUMW, 3);            \
                b0 += 3 * L;                                                               \
            } else if (nvec == 2) {                                                        \
                TILE(X, r, idx, ld, m, a0, b0, ct, T, st, SUMW, 2);            \
                b0 += 2 * L;                                                               \
            } else {                                                                       \
                TILE(X, r, idx, ld, m, a0, b0, ct, T, st, SUMW, 1);            \
                b0 += L;                                                                   \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
                                                                                           \
    EMGMM_CLONES_FMA                                                                       \
    size_t MSTAT(const TYPE *X, size_t ld, size_t d, const double *r,          \
                             size_t nb, const double *c, size_t *idx, double *s1,          \
                             double *nk, TYPE *T, TYPE *scr)                               \
    {                                                                                      \
        TYPE *ct = scr, *st = scr + ld;                                                    \
        for (size_t a = 0; a < ld; a++) {                                                  \
            ct[a] = a < d ? (TYPE)c[a] : (TYPE)0;                                          \
            st[a] = (TYPE)0;                                                               \
        }                                                                                  \
        const size_t m = pick_rows(r, nb, idx, nk);                                        \
        /* rows a0 … a0 + 7 per ROW; the last band of 16 rows in one TILE16 */        \
        if (m > 0 && L == 16 && ld == 16) {                                                \
            TILE16(X, r, idx, ld, m, 0, 0, ct, T, st, 1);                                  \
        } else if (m > 0) {                                                                \
            ROW(X, r, idx, ld, m, 0, ct, T, st, 1);                                        \
            for (size_t a0 = 8; a0 < d; a0 += 8) {                                         \
                if (L == 16 && a0 % 16 == 0 && ld - a0 == 16) {                            \
                    TILE16(X, r, idx, ld, m, a0, a0, ct, T, st, 0);                        \
                    break; /* it holds the band's rows a0 + 8 … too */                     \
                }                                                                          \
                ROW(X, r, idx, ld, m, a0, ct, T, st, 0);                                   \
            }                                                                              \
        }                                                                                  \
        for (size_t a = 0; a < d; a++) s1[a] = (double)st[a];                              \
        return m;                                                                          \
    }                                                                                      \
                                                                                           \
    EMGMM_CLONES_FMA                                                                       \
    void MFOLD(const TYPE *T, size_t ld, size_t d, const double *s1,           \
                           const double *c, double *s2)                                    \
    {                                                                                      \
        for (size_t a = 0; a < d; a++) {                                                   \
            const TYPE *t = T + a * ld;                                                    \
            double *s = s2 + a * d;                                                        \
            const double ca = c[a];                                                        \
            _Pragma("omp simd") for (size_t b = a; b < d; b++) s[b] += (double)t[b] - s1[b] * ca; \
        }                                                                                  \
    }

MSTAT_DEF(mstat_tile_f64, mstat_tile16_f64, mstat_row_f64, emgmm_mstat_f64, emgmm_mfold_f64, double, v8d, 8)
MSTAT_DEF(mstat_tile_f32, mstat_tile16_f32, mstat_row_f32, emgmm_mstat_f32, emgmm_mfold_f32, float, v16f, 16)

/* ---- AVX2 ------------------------------------------------------------------
 *
 * The tiles above hold 24 accumulators of 8 lanes, AVX-512's register file;
 * compiled for AVX2's 16 registers they spill on every step. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(EMGMM_NO_CLONES)
typedef double v4d __attribute__((vector_size(32), aligned(8)));

/* The AVX2 M-step tile: 4 values of a × 2 vectors of 4 b (8 accumulators),
 * with w, c and Σw for the 2 vectors: 15 ymm registers.  Each entry of T and
 * of Σw gets the same operations in the same order as in the AVX-512 tile. */
TRI_INLINE void mstat_tile4_f64(const double *X, const double *r, const size_t *idx, size_t ld,
                                size_t m, size_t a0, size_t b0, const double *ct, double *T,
                                double *st, const int SUMW, const int RB)
{
    const v4d zero = {0};
    v4d acc[4][2], c[2], s[2];
    _Pragma("GCC unroll 2") for (int v = 0; v < RB; v++)
    {
        memcpy(&c[v], ct + b0 + (size_t)v * 4, sizeof(v4d));
        s[v] = zero;
    }
    _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++)
        _Pragma("GCC unroll 2") for (int v = 0; v < RB; v++) acc[a][v] = zero;
    for (size_t q = 0; q < m; q++) {
        const size_t i = idx[q];
        const double *xr = X + i * ld, ri = r[i];
        v4d w[2];
        _Pragma("GCC unroll 2") for (int v = 0; v < RB; v++)
        {
            v4d x;
            memcpy(&x, xr + b0 + (size_t)v * 4, sizeof(v4d));
            w[v] = (x - c[v]) * ri;
            if (SUMW) s[v] += w[v];
        }
        _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++)
        {
            const double xa = xr[a0 + (size_t)a];
            _Pragma("GCC unroll 2") for (int v = 0; v < RB; v++) acc[a][v] += w[v] * xa;
        }
    }
    _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++)
        _Pragma("GCC unroll 2") for (int v = 0; v < RB; v++)
            memcpy(T + (a0 + (size_t)a) * ld + b0 + (size_t)v * 4, &acc[a][v], sizeof(v4d));
    if (SUMW)
        _Pragma("GCC unroll 2") for (int v = 0; v < RB; v++)
            memcpy(st + b0 + (size_t)v * 4, &s[v], sizeof(v4d));
}

__attribute__((target("arch=x86-64-v3"), optimize("fp-contract=fast"))) size_t
emgmm_mstat_avx2_f64(const double *X, size_t ld, size_t d, const double *r, size_t nb, const double *c,
           size_t *idx, double *s1, double *nk, double *T, double *scr)
{
    double *ct = scr, *st = scr + ld;
    for (size_t a = 0; a < ld; a++) {
        ct[a] = a < d ? c[a] : 0.0;
        st[a] = 0.0;
    }
    const size_t m = pick_rows(r, nb, idx, nk);
    if (m > 0)
        for (size_t a0 = 0; a0 < d; a0 += 4) {
            size_t b0 = a0;
            for (; b0 + 8 <= ld; b0 += 8)
                if (a0 == 0) mstat_tile4_f64(X, r, idx, ld, m, a0, b0, ct, T, st, 1, 2);
                else mstat_tile4_f64(X, r, idx, ld, m, a0, b0, ct, T, st, 0, 2);
            if (b0 < ld) {
                if (a0 == 0) mstat_tile4_f64(X, r, idx, ld, m, a0, b0, ct, T, st, 1, 1);
                else mstat_tile4_f64(X, r, idx, ld, m, a0, b0, ct, T, st, 0, 1);
            }
        }
    for (size_t a = 0; a < d; a++) s1[a] = st[a];
    return m;
}
#else
size_t emgmm_mstat_avx2_f64(const double *X, size_t ld, size_t d, const double *r, size_t nb,
                            const double *c, size_t *idx, double *s1, double *nk, double *T,
                            double *scr)
{
    return emgmm_mstat_f64(X, ld, d, r, nb, c, idx, s1, nk, T, scr);
}
#endif
