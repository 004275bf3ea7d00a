/* kernels_impl.h — the block pass's element-wise loops for one working type
 * TYPE, compiled by kernels_f64.c and kernels_f32.c (src/em/type_on.h names
 * each kernel: EMGMM_QUADFORM is emgmm_quadform_f64 or emgmm_quadform_f32).
 * The products and the statistics' sums are in double whatever TYPE is; TYPE
 * is how the block and the GEMM results are stored. */

/* Component-major quadratic forms: y holds, for kc components, d rows of nb
 * whitened values each (row kk·d + l, leading dimension ldy), so the sum
 * over l runs down columns and every operation vectorises over the rows i —
 * no horizontal reductions. */
EMGMM_VERSIONS_VOID(, EW, EMGMM_QUADFORM,
                    (const TYPE *y, size_t ldy, size_t nb, size_t kc, size_t d, const double *m,
                     const double *cst, double *out, size_t ldo),
                    (y, ldy, nb, kc, d, m, cst, out, ldo))
{
    for (size_t kk = 0; kk < kc; kk++) {
        double *o = out + kk * ldo;
        for (size_t i = 0; i < nb; i++) o[i] = 0.0;
        for (size_t l = 0; l < d; l++) {
            const TYPE *row = y + (kk * d + l) * ldy;
            const double mv = m[kk * d + l];
#pragma omp simd
            for (size_t i = 0; i < nb; i++) {
                const double t = (double)row[i] - mv;
                o[i] += t * t;
            }
        }
        const double c = cst[kk];
#pragma omp simd
        for (size_t i = 0; i < nb; i++) o[i] = c - 0.5 * o[i];
    }
}

/* xs[i·d + j] = x[i·ld + j] − g[j] in the working type, from double data
 * (EMGMM_LOAD64) or float data (EMGMM_LOAD32). */
EMGMM_VERSIONS_VOID(, EW, EMGMM_LOAD64,
                    (const double *x, size_t ld, size_t nb, size_t d, const double *g, TYPE *xs),
                    (x, ld, nb, d, g, xs))
{
    for (size_t i = 0; i < nb; i++) {
        const double *xi = x + i * ld;
        TYPE *o = xs + i * d;
#pragma omp simd
        for (size_t j = 0; j < d; j++) o[j] = (TYPE)((double)xi[j] - g[j]);
    }
}

EMGMM_VERSIONS_VOID(, EW, EMGMM_LOAD32,
                    (const float *x, size_t ld, size_t nb, size_t d, const double *g, TYPE *xs),
                    (x, ld, nb, d, g, xs))
{
    for (size_t i = 0; i < nb; i++) {
        const float *xi = x + i * ld;
        TYPE *o = xs + i * d;
#pragma omp simd
        for (size_t j = 0; j < d; j++) o[j] = (TYPE)((double)xi[j] - g[j]);
    }
}

/* One row of a left M-step factor: out[i] = r[i]·(xt[i] − c); returns Σ out
 * (the block's Σ r (x − c) for this coordinate), accumulated in double. */
EMGMM_VERSIONS(, double, EW, EMGMM_WROW,
               (const TYPE *xt, const double *r, double c, size_t nb, TYPE *out),
               (xt, r, c, nb, out))
{
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (size_t i = 0; i < nb; i++) {
        const double v = r[i] * ((double)xt[i] - c);
        out[i] = (TYPE)v;
        s += v;
    }
    return s;
}

/* The nearest centre of every row, from y[k·ldy + i] = c̃_k·x̃_i (TYPE) and
 * cn[k] = ‖c̃_k‖²: the least ‖c̃_k‖² − 2 c̃_k·x̃_i, the first of equals, as
 * one-hot responsibilities r[k·nb + i].  bd, best: scratch of nb doubles
 * (the least distance so far, its component as an exact double).  Written
 * with selects, not branches, so that it vectorises; 2·y is exact, so the
 * distances are the same bits with or without FMA contraction. */
EMGMM_VERSIONS_VOID(, EW, EMGMM_NEAREST,
                    (const TYPE *y, size_t ldy, size_t nb, size_t K, const double *cn, double *bd,
                     double *best, double *r),
                    (y, ldy, nb, K, cn, bd, best, r))
{
    const double c0 = cn[0];
#pragma omp simd
    for (size_t i = 0; i < nb; i++) {
        bd[i] = c0 - 2.0 * (double)y[i];
        best[i] = 0.0;
    }
    for (size_t k = 1; k < K; k++) {
        const TYPE *yk = y + k * ldy;
        const double ck = cn[k], kd = (double)k;
#pragma omp simd
        for (size_t i = 0; i < nb; i++) {
            const double dk = ck - 2.0 * (double)yk[i], b = bd[i], q = best[i];
            const int closer = dk < b;
            bd[i] = closer ? dk : b;
            best[i] = closer ? kd : q;
        }
    }
    for (size_t k = 0; k < K; k++) {
        double *rk = r + k * nb;
        const double kd = (double)k;
#pragma omp simd
        for (size_t i = 0; i < nb; i++) rk[i] = best[i] == kd ? 1.0 : 0.0;
    }
}
