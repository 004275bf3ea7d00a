/* kernels_f64.c — the block pass's kernels for the float64 working type:
 * the templates kernels_impl.h and kernels_tri_impl.h compiled for double
 * (the one float/double convention, src/em/type_on.h, which names every
 * kernel: emgmm_quadform_f64, emgmm_mstat_f64, …), then the M-step tile
 * shaped for AVX2, which only float64 has. */
#include <stddef.h>
#include <string.h>

#include "src/em/kernels.h"

#define EMGMM_TYPE_F64
#include "src/em/type_on.h"
#include "src/em/kernels_impl.h"
#include "src/em/kernels_tri_impl.h"
#include "src/em/type_off.h"

/* ---- AVX2 ------------------------------------------------------------------
 *
 * The template's M-step tiles hold 24 accumulators of 8 lanes, AVX-512's
 * register file; compiled for AVX2's 16 registers they spill on every step.
 * This tile exists for float64 only (on AVX2, float32 keeps the BLAS
 * products) and uses the template's pick_rows. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(EMGMM_NO_CLONES)
typedef double v4d __attribute__((vector_size(32), aligned(8)));

/* The AVX2 M-step tile: 4 values of a × 2 vectors of 4 b (8 accumulators),
 * with w, c and Σw for the 2 vectors: 15 ymm registers.  Each entry of T and
 * of Σw gets the same operations in the same order as in the AVX-512 tile. */
EMGMM_TILE_INLINE void mstat_tile4_f64(const double *X, const double *r, const size_t *idx,
                                       size_t ld, size_t m, size_t a0, size_t b0, const double *ct,
                                       double *T, double *st, const int SUMW, const int RB)
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
emgmm_mstat_avx2_f64(const double *X, size_t ld, size_t d, const double *r, size_t nb,
                     const double *c, size_t *idx, double *s1, double *nk, double *T, double *scr)
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
                if (a0 == 0)
                    mstat_tile4_f64(X, r, idx, ld, m, a0, b0, ct, T, st, 1, 2);
                else
                    mstat_tile4_f64(X, r, idx, ld, m, a0, b0, ct, T, st, 0, 2);
            if (b0 < ld) {
                if (a0 == 0)
                    mstat_tile4_f64(X, r, idx, ld, m, a0, b0, ct, T, st, 1, 1);
                else
                    mstat_tile4_f64(X, r, idx, ld, m, a0, b0, ct, T, st, 0, 1);
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
