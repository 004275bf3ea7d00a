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
 * This file holds the E-step tiles, written once per type (float32's sums
 * differ).  The copy of a last partial column group and the M-step tiles,
 * the same for both types,
 * are the template kernels_tri_impl.h (compiled by kernels_f64.c and
 * kernels_f32.c; kernels_f64.c also holds the M-step tile shaped for AVX2).
 *
 * Built as x86-64-v4 (AVX-512), v3 (AVX2+FMA) and baseline builds, with
 * a·b + c contracted into FMA (EMGMM_VERSIONS, kind FMA; EMGMM_ISA picks one). */
#include <stddef.h>
#include <string.h>

#include "src/em/kernels.h"

typedef double v8d __attribute__((vector_size(64), aligned(8)));
typedef float v16f __attribute__((vector_size(64), aligned(4)));

/* ---- E-step: out[k·ldo + i] = cst[k] − ½‖x̃_i·U_k − m_k‖² -------------------
 *
 * The rows are in the vector lanes (x̃ᵀ, d rows of ldb), as in the fused
 * small-d kernel.  U_k is read in column groups of 8, in place (the
 * mixture's own factors, row j of group g at U_k + j·ldu + 8g: no copy of
 * K·d² values, issue 22): group g (columns l0 = 8g … l0 + cg − 1) takes rows
 * j = 0 … l0 + cg − 1 of those columns, so y's 8 columns of the group for 3
 * vectors of rows accumulate in 24 registers over j, start at −m_k, and are
 * squared into q when the group is done.  The last cg rows of a group are the
 * diagonal block: a column c only takes the rows j − l0 <= c, which the
 * unrolled loop resolves at compile time.  A last group of cg < 8 columns is
 * read from a small copy padded with zeros to 8 (emgmm_tri_tail_*,
 * kernels_tri_impl.h), as a row of 8 in place would run past the factor. */

size_t emgmm_tri_tail_size(size_t d) { return d % 8 ? d * 8 : 0; }

/* R vectors of 8 rows starting at row i; nrows of them are real. */
EMGMM_TILE_INLINE void qf_tile_f64(const double *xt, size_t ldb, size_t i, size_t nrows, size_t d,
                                   size_t K, const double *U, size_t ldu, size_t ustep,
                                   const double *tail, const double *mv, const double *cst,
                                   double *out, size_t ldo, const int R)
{
    const v8d zero = {0};
    const size_t tsz = emgmm_tri_tail_size(d);
    for (size_t k = 0; k < K; k++) {
        const double *mk = mv + k * d;
        v8d q[3] = {zero, zero, zero};
        for (size_t l0 = 0; l0 < d; l0 += 8) {
            const size_t cg = d - l0 < 8 ? d - l0 : 8;
            /* row j of the group at u + j·us */
            const double *u = cg == 8 ? U + k * ustep + l0 : tail + k * tsz;
            const size_t us = cg == 8 ? ldu : 8;
            v8d acc[3][8];
            _Pragma("GCC unroll 8") for (int c = 0; c < 8; c++)
            {
                const double m0 = (size_t)c < cg ? -mk[l0 + (size_t)c] : 0.0;
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] = zero + m0;
            }
            for (size_t j = 0; j < l0; j++) {
                /* rows of a factor in place are ldu apart: ask ahead */
                __builtin_prefetch(u + 16 * us);
                v8d x[3];
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++)
                    memcpy(&x[r], xt + j * ldb + i + 8 * (size_t)r, sizeof(v8d));
                _Pragma("GCC unroll 8") for (int c = 0; c < 8; c++)
                {
                    const double b = u[c];
                    _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] += x[r] * b;
                }
                u += us;
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
                u += us;
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

EMGMM_VERSIONS_VOID(, FMA, emgmm_qf_tri_f64,
                    (const double *xt, size_t ldb, size_t nb, size_t d, size_t K, const double *U,
                     size_t ldu, size_t ustep, const double *tail, const double *mv,
                     const double *cst, double *out, size_t ldo),
                    (xt, ldb, nb, d, K, U, ldu, ustep, tail, mv, cst, out, ldo))
{
    const size_t nv = (nb + 7) / 8;
    size_t v = 0;
    for (; v + 3 <= nv; v += 3)
        qf_tile_f64(xt, ldb, 8 * v, nb, d, K, U, ldu, ustep, tail, mv, cst, out, ldo, 3);
    if (nv - v == 2) qf_tile_f64(xt, ldb, 8 * v, nb, d, K, U, ldu, ustep, tail, mv, cst, out, ldo, 2);
    if (nv - v == 1) qf_tile_f64(xt, ldb, 8 * v, nb, d, K, U, ldu, ustep, tail, mv, cst, out, ldo, 1);
}

/* float32: 16 rows per vector and products in float, as SGEMM would form
 * them; each group's 8 squares are summed in float and added into q in
 * double, as the GEMM path's quadratic form does. */
typedef float v8f __attribute__((vector_size(32), aligned(4)));

EMGMM_TILE_INLINE void qf_tile_f32(const float *xt, size_t ldb, size_t i, size_t nrows, size_t d,
                                   size_t K, const float *U, size_t ldu, size_t ustep,
                                   const float *tail, const double *mv, const double *cst,
                                   double *out, size_t ldo, const int R)
{
    const v16f zero = {0};
    const v8d zd = {0};
    const size_t tsz = emgmm_tri_tail_size(d);
    for (size_t k = 0; k < K; k++) {
        const double *mk = mv + k * d;
        v8d q[3][2] = {{zd, zd}, {zd, zd}, {zd, zd}};
        for (size_t l0 = 0; l0 < d; l0 += 8) {
            const size_t cg = d - l0 < 8 ? d - l0 : 8;
            const float *u = cg == 8 ? U + k * ustep + l0 : tail + k * tsz;
            const size_t us = cg == 8 ? ldu : 8;
            v16f acc[3][8];
            _Pragma("GCC unroll 8") for (int c = 0; c < 8; c++)
            {
                const float m0 = (size_t)c < cg ? (float)-mk[l0 + (size_t)c] : 0.0f;
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] = zero + m0;
            }
            for (size_t j = 0; j < l0; j++) {
                __builtin_prefetch(u + 16 * us);
                v16f x[3];
                _Pragma("GCC unroll 3") for (int r = 0; r < R; r++)
                    memcpy(&x[r], xt + j * ldb + i + 16 * (size_t)r, sizeof(v16f));
                _Pragma("GCC unroll 8") for (int c = 0; c < 8; c++)
                {
                    const float b = u[c];
                    _Pragma("GCC unroll 3") for (int r = 0; r < R; r++) acc[r][c] += x[r] * b;
                }
                u += us;
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
                u += us;
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

EMGMM_VERSIONS_VOID(, FMA, emgmm_qf_tri_f32,
                    (const float *xt, size_t ldb, size_t nb, size_t d, size_t K, const float *U,
                     size_t ldu, size_t ustep, const float *tail, const double *mv,
                     const double *cst, double *out, size_t ldo),
                    (xt, ldb, nb, d, K, U, ldu, ustep, tail, mv, cst, out, ldo))
{
    const size_t nv = (nb + 15) / 16;
    size_t v = 0;
    for (; v + 3 <= nv; v += 3)
        qf_tile_f32(xt, ldb, 16 * v, nb, d, K, U, ldu, ustep, tail, mv, cst, out, ldo, 3);
    if (nv - v == 2)
        qf_tile_f32(xt, ldb, 16 * v, nb, d, K, U, ldu, ustep, tail, mv, cst, out, ldo, 2);
    if (nv - v == 1)
        qf_tile_f32(xt, ldb, 16 * v, nb, d, K, U, ldu, ustep, tail, mv, cst, out, ldo, 1);
}
