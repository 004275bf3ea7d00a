/* kernels_diag.c — the diagonal and spherical families' E-step and M-step
 * statistics.  The E-step: every component's log-density of every row of the
 * block, computed directly,
 *
 *   r[k·nb + i] = cst[k] − ½ Σ_j P_kj (x_ji − μ'_kj)²,
 *
 * with the rows in the vector lanes (xt is the block transposed, in double),
 * so the sum over j runs down columns with no horizontal reductions.  It costs
 * n·K·d multiply-adds, as the expanded form's GEMM did, and needs no exact
 * recompute of the entries near each row's maximum, which the expanded form's
 * cancellation made necessary.  The statistics run over the same transposed
 * block, rows in the lanes again.  AVX-512, AVX2+FMA and baseline builds (EMGMM_VERSIONS). */
#include <stddef.h>

#include "src/em/kernels.h"

EMGMM_VERSIONS_VOID(, FMA, emgmm_diag_logdens,
                    (const double *xt, size_t nb, size_t d, size_t K, const double *P,
                     const double *M, const double *cst, double *r),
                    (xt, nb, d, K, P, M, cst, r))
{
    for (size_t k = 0; k < K; k++) {
        const double *pk = P + k * d, *mk = M + k * d;
        double *rk = r + k * nb;
        for (size_t i = 0; i < nb; i++) rk[i] = 0.0;
        for (size_t j = 0; j < d; j++) {
            const double *x = xt + j * nb, p = pk[j], m = mk[j];
#pragma omp simd
            for (size_t i = 0; i < nb; i++) {
                const double t = x[i] - m;
                rk[i] += p * (t * t);
            }
        }
        const double c = cst[k];
#pragma omp simd
        for (size_t i = 0; i < nb; i++) rk[i] = c - 0.5 * rk[i];
    }
}

/* Rows in the lanes, as the E-step: per component and coordinate two sums
 * over the block in vector registers, where a row at a time ran d-long loops
 * that fill a vector once or not at all (d = 10: one full 8-lane vector and
 * a masked one).  A row with r = 0 adds exactly 0 (t is finite). */
EMGMM_VERSIONS_VOID(, FMA, emgmm_diag_stats,
                    (const double *xt, size_t nb, size_t d, size_t K, const double *r,
                     const double *C, double *nk, double *s1, double *s2),
                    (xt, nb, d, K, r, C, nk, s1, s2))
{
    for (size_t k = 0; k < K; k++) {
        const double *rk = r + k * nb;
        double n = 0.0;
#pragma omp simd reduction(+ : n)
        for (size_t i = 0; i < nb; i++) n += rk[i];
        nk[k] += n;
        for (size_t j = 0; j < d; j++) {
            const double *x = xt + j * nb, c = C[k * d + j];
            double a = 0.0, b = 0.0;
#pragma omp simd reduction(+ : a, b)
            for (size_t i = 0; i < nb; i++) {
                const double t = x[i] - c, u = rk[i] * t;
                a += u;
                b += u * t;
            }
            s1[k * d + j] += a;
            s2[k * d + j] += b;
        }
    }
}

/* Tiles of 8 rows: a row's d values are read once, in order, and each lands in
 * its coordinate's row of xt, whose 8 lanes fill one cache line. */
EMGMM_VERSIONS_VOID(, EW, emgmm_diag_load_f64,
                    (const double *x, size_t ld, size_t nb, size_t d, const double *g, double *xt),
                    (x, ld, nb, d, g, xt))
{
    size_t i0 = 0;
    for (; i0 + 8 <= nb; i0 += 8) {
        const double *xi = x + i0 * ld;
        for (size_t j = 0; j < d; j++) {
            const double gj = g[j];
            double *o = xt + j * nb + i0;
#pragma omp simd
            for (size_t i = 0; i < 8; i++) o[i] = xi[i * ld + j] - gj;
        }
    }
    for (size_t i = i0; i < nb; i++)
        for (size_t j = 0; j < d; j++) xt[j * nb + i] = x[i * ld + j] - g[j];
}
