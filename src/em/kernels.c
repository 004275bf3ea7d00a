/* kernels.c — the block pass's type-free kernels: a vectorisable exp, the
 * row-wise log-sum-exp, and the full family's fused E-step for small d
 * (float64 only).  The loops written once per working type are in
 * kernels_impl.h and kernels_tri_impl.h, compiled by kernels_f64.c and
 * kernels_f32.c.  Each is compiled for AVX-512, AVX2 and baseline x86-64
 * (EMGMM_VERSIONS: emgmm_isa_level(), so EMGMM_ISA, picks one at each call),
 * with `omp simd` so the reductions vectorise without -ffast-math. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "src/em/kernels.h"
#include "src/em/kernels_vlog.h"

/* exp(x) for x <= 0, branch-free so that it vectorises: x = k·ln2 + r with
 * |r| <= ln2/2 (Cody–Waite split of ln2), e^r by a degree-13 Taylor
 * polynomial (truncation < 1e-17 relative on that interval), 2^k through
 * the exponent bits.  Below −708 the result is flushed to 0 (e^−708 ≈ 3e−308,
 * where responsibilities are 0 in double anyway). Max error ≈ 2 ulp. */
static inline double exp_nonpos(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double inv_ln2 = 1.44269504088896338700e+00;
    const double xc = emgmm_vsel(x < -708.0, -708.0, x);
    /* k = nearest integer to x/ln2 by the 1.5·2^52 trick: the sum's low
     * mantissa bits are k itself, so 2^k is (bits + 1023) << 52, and no call
     * to round() or an int conversion stops the loop from vectorising. */
    const double shifter = 0x1.8p52;
    const double t = xc * inv_ln2 + shifter;
    const double kd = t - shifter;
    const double r = (xc - kd * ln2_hi) - kd * ln2_lo;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t tb;
    memcpy(&tb, &t, sizeof tb);
    const uint64_t bits = (tb + 1023u) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    const double v = p * scale;
    return emgmm_vsel(x < -708.0, 0.0, v);
}

/* expf for −87.3 <= x <= 0, branch-free: the same reduction as exp_nonpos in
 * float (x = k·ln2 + r, |r| <= ln2/2, Cody–Waite split, k by the 1.5·2^23
 * trick) and Cephes' expf polynomial for e^r (about 1 ulp of float). */
static inline float expf_core(float xc)
{
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f, inv_ln2 = 1.44269504088896341f;
    const float shifter = 0x1.8p23f;
    const float t = xc * inv_ln2 + shifter;
    const float kf = t - shifter;
    const float r = (xc - kf * ln2_hi) - kf * ln2_lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    const uint32_t bits = (tb + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* e^x for x <= 0 in float precision, for the float32 working type's softmax
 * (its responsibilities are used in float by the M-step tiles, so a double
 * exp bought nothing there): 0 below −87.3 (e^−87.3 ≈ 1.2e−38, the least
 * normal float), NaN passes.  The clamp and the flush are bit masks, not
 * selects: GCC does not if-convert a select in a loop that also converts
 * double to float, and the loop would not vectorise. */
static inline double expf_nonpos(double x)
{
    const double lo = -87.3;
    const uint64_t below = 0u - (uint64_t)(x < lo);
    uint64_t xb, lb;
    memcpy(&xb, &x, sizeof xb);
    memcpy(&lb, &lo, sizeof lb);
    xb = (xb & ~below) | (lb & below);
    double xc;
    memcpy(&xc, &xb, sizeof xc);
    const double v = (double)expf_core((float)xc);
    uint64_t vb;
    memcpy(&vb, &v, sizeof vb);
    vb &= ~below;
    double o;
    memcpy(&o, &vb, sizeof o);
    return o;
}

/* The row-wise softmax; F32: the exps in float (emgmm_softmax_rows_f32). */
static inline __attribute__((always_inline)) double softmax_rows(double *r, size_t nb, size_t K,
                                                                 double *logdens, const double *wts,
                                                                 double *mx, double *sum,
                                                                 const int F32)
{
    /* r is component-major [K][nb]: maxima, exps and sums run down the
     * components with the rows in the vector lanes. */
    for (size_t i = 0; i < nb; i++) {
        mx[i] = r[i];
        sum[i] = 0.0;
    }
    for (size_t k = 1; k < K; k++) {
        const double *rk = r + k * nb;
        _Pragma("omp simd") for (size_t i = 0; i < nb; i++)
        {
            mx[i] = emgmm_vsel(rk[i] > mx[i], rk[i], mx[i]);
        }
    }
    for (size_t k = 0; k < K; k++) {
        double *rk = r + k * nb;
        if (F32) {
            _Pragma("omp simd") for (size_t i = 0; i < nb; i++)
            {
                const double e = expf_nonpos(rk[i] - mx[i]);
                rk[i] = e;
                sum[i] += e;
            }
        } else {
            _Pragma("omp simd") for (size_t i = 0; i < nb; i++)
            {
                const double e = exp_nonpos(rk[i] - mx[i]);
                rk[i] = e;
                sum[i] += e;
            }
        }
    }
    /* each row's log-sum-exp into mx, the sums' reciprocals into sum; the
     * block's log-likelihood summed in the vector lanes */
    double ll = 0.0;
    if (wts) {
        _Pragma("omp simd reduction(+ : ll)") for (size_t i = 0; i < nb; i++)
        {
            const double lse = mx[i] + emgmm_vlog_ge1(sum[i]);
            mx[i] = lse;
            ll += emgmm_vsel(wts[i] == 0.0, 0.0, wts[i] * lse);
            sum[i] = 1.0 / sum[i];
        }
    } else {
        _Pragma("omp simd reduction(+ : ll)") for (size_t i = 0; i < nb; i++)
        {
            const double lse = mx[i] + emgmm_vlog_ge1(sum[i]);
            mx[i] = lse;
            ll += lse;
            sum[i] = 1.0 / sum[i];
        }
    }
    if (logdens) memcpy(logdens, mx, nb * sizeof(double));
    for (size_t k = 0; k < K; k++) {
        double *rk = r + k * nb;
        _Pragma("omp simd") for (size_t i = 0; i < nb; i++) rk[i] *= sum[i];
    }
    return ll;
}

EMGMM_VERSIONS(, double, EW, emgmm_softmax_rows,
               (double *r, size_t nb, size_t K, double *logdens, const double *wts, double *mx,
                double *sum),
               (r, nb, K, logdens, wts, mx, sum))
{
    return softmax_rows(r, nb, K, logdens, wts, mx, sum, 0);
}

EMGMM_VERSIONS(, double, EW, emgmm_softmax_rows_f32,
               (double *r, size_t nb, size_t K, double *logdens, const double *wts, double *mx,
                double *sum),
               (r, nb, K, logdens, wts, mx, sum))
{
    return softmax_rows(r, nb, K, logdens, wts, mx, sum, 1);
}

double emgmm_exp_nonpos(double x) { return exp_nonpos(x); }
float emgmm_expf_nonpos(float x) { return (float)expf_nonpos((double)x); }
double emgmm_log_ge1(double x) { return emgmm_vlog_ge1(x); }

/* The full family's E-step for small d (d <= 16), fused: for a tile of 8 rows
 * held in registers (x̃ᵀ, one vector per coordinate), every component's
 * whitened row y = x̃·U_k (U_k upper triangular: y_l = Σ_{j<=l} x̃_j U_jl, the
 * zeros skipped; U_k packed column by column, Up[k][l(l+1)/2 + j] = U_jl) and
 * its squared distance to m_k = μ̃_k·U_k, then
 * out[k·ldo + i] = cst[k] − ½‖y − m_k‖².  At small d the GEMM path's products
 * have an inner dimension of d: it spends its time packing and writing K·d
 * values per row, where this kernel writes K. */
typedef double emgmm_v8d __attribute__((vector_size(64), aligned(8)));

/* This kernel is all multiply-adds: its builds (EMGMM_VERSIONS kind FMA, kernels.h)
 * ask for FMA (x86-64-v3 and v4 include it; avx512f alone does not), and for
 * contracting a·b + c into one (ISO C mode, -std=c11, turns contraction off
 * everywhere else). */

#define QF_FUSED_DEF(NAME, D)                                                                      \
    static inline __attribute__((always_inline, optimize("fp-contract=fast"))) void NAME(          \
        const double *xt, size_t ldb, size_t nb, size_t K, const double *Up, const double *mv,     \
        const double *cst, double *out, size_t ldo)                                                \
    {                                                                                              \
        for (size_t i = 0; i < nb; i += 8) {                                                       \
            emgmm_v8d x[D];                                                                        \
            _Pragma("GCC unroll 16") for (size_t j = 0; j < D; j++)                                \
                memcpy(&x[j], xt + j * ldb + i, sizeof(emgmm_v8d));                                \
            const size_t left = nb - i < 8 ? nb - i : 8;                                           \
            for (size_t k = 0; k < K; k++) {                                                       \
                const double *u = Up + k * (D * (D + 1) / 2), *mk = mv + k * D;                    \
                emgmm_v8d q = x[0] - x[0];                                                         \
                _Pragma("GCC unroll 16") for (size_t l = 0; l < D; l++)                            \
                {                                                                                  \
                    emgmm_v8d acc = x[0] * u[0] - mk[l];                                           \
                    _Pragma("GCC unroll 16") for (size_t j = 1; j <= l; j++) acc += x[j] * u[j];   \
                    u += l + 1;                                                                    \
                    q += acc * acc;                                                                \
                }                                                                                  \
                const emgmm_v8d o = cst[k] - 0.5 * q;                                              \
                memcpy(out + k * ldo + i, &o, left * sizeof(double));                              \
            }                                                                                      \
        }                                                                                          \
    }
QF_FUSED_DEF(qf_fused_1, 1)
QF_FUSED_DEF(qf_fused_2, 2)
QF_FUSED_DEF(qf_fused_3, 3)
QF_FUSED_DEF(qf_fused_4, 4)
QF_FUSED_DEF(qf_fused_5, 5)
QF_FUSED_DEF(qf_fused_6, 6)
QF_FUSED_DEF(qf_fused_7, 7)
QF_FUSED_DEF(qf_fused_8, 8)
QF_FUSED_DEF(qf_fused_9, 9)
QF_FUSED_DEF(qf_fused_10, 10)
QF_FUSED_DEF(qf_fused_11, 11)
QF_FUSED_DEF(qf_fused_12, 12)
QF_FUSED_DEF(qf_fused_13, 13)
QF_FUSED_DEF(qf_fused_14, 14)
QF_FUSED_DEF(qf_fused_15, 15)
QF_FUSED_DEF(qf_fused_16, 16)

EMGMM_VERSIONS(, int, FMA, emgmm_qf_fused_f64,
               (const double *xt, size_t ldb, size_t nb, size_t d, size_t K, const double *Up,
                const double *mv, const double *cst, double *out, size_t ldo),
               (xt, ldb, nb, d, K, Up, mv, cst, out, ldo))
{
#define QF_CASE(NAME, D)                                                                           \
    case D: NAME(xt, ldb, nb, K, Up, mv, cst, out, ldo); return 1;
    switch (d) {
        QF_CASE(qf_fused_1, 1)
        QF_CASE(qf_fused_2, 2) QF_CASE(qf_fused_3, 3) QF_CASE(qf_fused_4, 4) QF_CASE(qf_fused_5, 5)
            QF_CASE(qf_fused_6, 6) QF_CASE(qf_fused_7, 7) QF_CASE(qf_fused_8, 8)
                QF_CASE(qf_fused_9, 9) QF_CASE(qf_fused_10, 10) QF_CASE(qf_fused_11, 11)
                    QF_CASE(qf_fused_12, 12) QF_CASE(qf_fused_13, 13) QF_CASE(qf_fused_14, 14)
                        QF_CASE(qf_fused_15, 15) QF_CASE(qf_fused_16, 16) default : return 0;
    }
#undef QF_CASE
}
