/* kernels.c — the element-wise loops of the block pass that BLAS does not
 * cover: squared norms of the whitened rows, a vectorisable exp, and the
 * row-wise log-sum-exp.  Each is compiled for AVX-512, AVX2 and baseline
 * x86-64 (GCC target_clones; the loader picks one), with `omp simd` so the
 * reductions vectorise without -ffast-math. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "src/em/kernels.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(EMGMM_NO_CLONES)
#define EMGMM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EMGMM_CLONES
#endif

/* Component-major quadratic forms: y holds, for kc components, d rows of nb
 * whitened values each (row kk·d + l, leading dimension ldy), so the sum
 * over l runs down columns and every operation vectorises over the rows i —
 * no horizontal reductions. */
#define QUADFORM_BODY(TYPE)                                                    \
    for (size_t kk = 0; kk < kc; kk++) {                                       \
        double *o = out + kk * ldo;                                            \
        for (size_t i = 0; i < nb; i++) o[i] = 0.0;                            \
        for (size_t l = 0; l < d; l++) {                                       \
            const TYPE *row = y + (kk * d + l) * ldy;                          \
            const double mv = m[kk * d + l];                                   \
            _Pragma("omp simd") for (size_t i = 0; i < nb; i++)                \
            {                                                                  \
                const double t = (double)row[i] - mv;                          \
                o[i] += t * t;                                                 \
            }                                                                  \
        }                                                                      \
        const double c = cst[kk];                                              \
        _Pragma("omp simd") for (size_t i = 0; i < nb; i++) o[i] = c - 0.5 * o[i]; \
    }

EMGMM_CLONES
void emgmm_quadform_f64(const double *y, size_t ldy, size_t nb, size_t kc, size_t d,
                        const double *m, const double *cst, double *out, size_t ldo)
{
    QUADFORM_BODY(double)
}

EMGMM_CLONES
void emgmm_quadform_f32(const float *y, size_t ldy, size_t nb, size_t kc, size_t d,
                        const double *m, const double *cst, double *out, size_t ldo)
{
    QUADFORM_BODY(float)
}

/* exp(x) for x <= 0, branch-free so that it vectorises: x = k·ln2 + r with
 * |r| <= ln2/2 (Cody–Waite split of ln2), e^r by a degree-13 Taylor
 * polynomial (truncation < 1e-17 relative on that interval), 2^k through
 * the exponent bits.  Below −708 the result is flushed to 0 (e^−708 ≈ 3e−308,
 * where responsibilities are 0 in double anyway). Max error ≈ 2 ulp. */
static inline double exp_nonpos(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double inv_ln2 = 1.44269504088896338700e+00;
    const double xc = x < -708.0 ? -708.0 : x;
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
    return x < -708.0 ? 0.0 : v;
}

EMGMM_CLONES
double emgmm_softmax_rows(double *r, size_t nb, size_t K, double *logdens, const double *wts,
                          double *mx, double *sum)
{
    /* r is component-major [K][nb]: maxima, exps and sums run down the
     * components with the rows in the vector lanes. */
    for (size_t i = 0; i < nb; i++) {
        mx[i] = r[i];
        sum[i] = 0.0;
    }
    for (size_t k = 1; k < K; k++) {
        const double *rk = r + k * nb;
        _Pragma("omp simd") for (size_t i = 0; i < nb; i++) mx[i] = rk[i] > mx[i] ? rk[i] : mx[i];
    }
    for (size_t k = 0; k < K; k++) {
        double *rk = r + k * nb;
        _Pragma("omp simd") for (size_t i = 0; i < nb; i++)
        {
            const double e = exp_nonpos(rk[i] - mx[i]);
            rk[i] = e;
            sum[i] += e;
        }
    }
    double ll = 0.0;
    for (size_t i = 0; i < nb; i++) {
        const double lse = mx[i] + log(sum[i]);
        if (logdens) logdens[i] = lse;
        ll += wts ? (wts[i] == 0.0 ? 0.0 : wts[i] * lse) : lse;
        sum[i] = 1.0 / sum[i];
    }
    for (size_t k = 0; k < K; k++) {
        double *rk = r + k * nb;
        _Pragma("omp simd") for (size_t i = 0; i < nb; i++) rk[i] *= sum[i];
    }
    return ll;
}

double emgmm_exp_nonpos(double x) { return exp_nonpos(x); }

/* Σ r·(x − c) and Σ r·(x − c)² of one component (diagonal families). */
#define DIAGSTATS_BODY(TYPE)                                                   \
    double nk = 0.0;                                                           \
    for (size_t i = 0; i < nb; i++) {                                          \
        const double rik = r[i * ldr];                                         \
        if (rik == 0.0) continue;                                              \
        nk += rik;                                                             \
        const TYPE *xi = xs + i * d;                                           \
        _Pragma("omp simd") for (size_t j = 0; j < d; j++)                     \
        {                                                                      \
            const double t = (double)xi[j] - sc[j];                            \
            s1[j] += rik * t;                                                  \
            s2[j] += rik * t * t;                                              \
        }                                                                      \
    }                                                                          \
    *nk_acc += nk;

EMGMM_CLONES
void emgmm_diagstats_f64(const double *xs, size_t nb, size_t d, const double *r, size_t ldr,
                         const double *sc, double *s1, double *s2, double *nk_acc)
{
    DIAGSTATS_BODY(double)
}

EMGMM_CLONES
void emgmm_diagstats_f32(const float *xs, size_t nb, size_t d, const double *r, size_t ldr,
                         const double *sc, double *s1, double *s2, double *nk_acc)
{
    DIAGSTATS_BODY(float)
}

/* xs[i·d + j] = x[i·ld + j] − g[j] in the working type. */
#define LOAD_BODY(TIN, TOUT)                                                   \
    for (size_t i = 0; i < nb; i++) {                                          \
        const TIN *xi = x + i * ld;                                            \
        TOUT *o = xs + i * d;                                                  \
        _Pragma("omp simd") for (size_t j = 0; j < d; j++) o[j] = (TOUT)((double)xi[j] - g[j]); \
    }

EMGMM_CLONES
void emgmm_load_f64_f64(const double *x, size_t ld, size_t nb, size_t d, const double *g, double *xs)
{
    LOAD_BODY(double, double)
}
EMGMM_CLONES
void emgmm_load_f32_f64(const float *x, size_t ld, size_t nb, size_t d, const double *g, double *xs)
{
    LOAD_BODY(float, double)
}
EMGMM_CLONES
void emgmm_load_f64_f32(const double *x, size_t ld, size_t nb, size_t d, const double *g, float *xs)
{
    LOAD_BODY(double, float)
}
EMGMM_CLONES
void emgmm_load_f32_f32(const float *x, size_t ld, size_t nb, size_t d, const double *g, float *xs)
{
    LOAD_BODY(float, float)
}

/* The expanded quadratic form of the diagonal families cancels when a row is
 * far (relative to σ) from the centre g: its error grows like ε·‖x − g‖²/σ².
 * Components that matter for a row — within 50 nats of its best, i.e. all
 * that can carry responsibility above e^−50 — get their Mahalanobis term
 * recomputed directly, Σ_j P_kj (x_j − μ_kj)², which has no cancellation. */
/* One row of a left M-step factor: out[i] = r[i]·(xt[i] − c); returns Σ out
 * (the block's Σ r (x − c) for this coordinate), accumulated in double. */
#define WROW_BODY(TYPE)                                                        \
    double s = 0.0;                                                            \
    _Pragma("omp simd reduction(+ : s)") for (size_t i = 0; i < nb; i++)      \
    {                                                                          \
        const double v = r[i] * ((double)xt[i] - c);                           \
        out[i] = (TYPE)v;                                                      \
        s += v;                                                                \
    }                                                                          \
    return s;

EMGMM_CLONES
double emgmm_wrow_f64(const double *xt, const double *r, double c, size_t nb, double *out)
{
    WROW_BODY(double)
}

EMGMM_CLONES
double emgmm_wrow_f32(const float *xt, const double *r, double c, size_t nb, float *out)
{
    WROW_BODY(float)
}

/* The full family's E-step for small d (d <= 16), fused: for a tile of 8 rows
 * held in registers (x̃ᵀ, one vector per coordinate), every component's
 * whitened row y = x̃·U_k (U_k upper triangular: y_l = Σ_{j<=l} x̃_j U_jl, the
 * zeros skipped; U_k packed column by column, Up[k][l(l+1)/2 + j] = U_jl) and
 * its squared distance to m_k = μ̃_k·U_k, then
 * out[k·ldo + i] = cst[k] − ½‖y − m_k‖².  At small d the GEMM path's products
 * have an inner dimension of d: it spends its time packing and writing K·d
 * values per row, where this kernel writes K. */
typedef double emgmm_v8d __attribute__((vector_size(64), aligned(8)));

/* This kernel is all multiply-adds: its clones (EMGMM_CLONES_FMA, kernels.h)
 * ask for FMA (x86-64-v3 and v4 include it; avx512f alone does not), and for
 * contracting a·b + c into one (ISO C mode, -std=c11, turns contraction off
 * everywhere else). */

#define QF_FUSED_DEF(NAME, D)                                                              \
    static inline __attribute__((always_inline, optimize("fp-contract=fast"))) void          \
        NAME(                                                                              \
        const double *xt, size_t ldb, size_t nb, size_t K, const double *Up,               \
        const double *mv, const double *cst, double *out, size_t ldo)                      \
    {                                                                                      \
        for (size_t i = 0; i < nb; i += 8) {                                               \
            emgmm_v8d x[D];                                                                \
            _Pragma("GCC unroll 16") for (size_t j = 0; j < D; j++)                        \
                memcpy(&x[j], xt + j * ldb + i, sizeof(emgmm_v8d));                        \
            const size_t left = nb - i < 8 ? nb - i : 8;                                   \
            for (size_t k = 0; k < K; k++) {                                               \
                const double *u = Up + k * (D * (D + 1) / 2), *mk = mv + k * D;            \
                emgmm_v8d q = x[0] - x[0];                                                 \
                _Pragma("GCC unroll 16") for (size_t l = 0; l < D; l++) {                  \
                    emgmm_v8d acc = x[0] * u[0] - mk[l];                                   \
                    _Pragma("GCC unroll 16") for (size_t j = 1; j <= l; j++)               \
                        acc += x[j] * u[j];                                                \
                    u += l + 1;                                                            \
                    q += acc * acc;                                                        \
                }                                                                          \
                const emgmm_v8d o = cst[k] - 0.5 * q;                                      \
                memcpy(out + k * ldo + i, &o, left * sizeof(double));                      \
            }                                                                              \
        }                                                                                  \
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

EMGMM_CLONES_FMA
int emgmm_qf_fused_f64(const double *xt, size_t ldb, size_t nb, size_t d, size_t K,
                       const double *Up, const double *mv, const double *cst, double *out,
                       size_t ldo)
{
#define QF_CASE(NAME, D)                                                                   \
    case D: NAME(xt, ldb, nb, K, Up, mv, cst, out, ldo); return 1;
    switch (d) {
        QF_CASE(qf_fused_1, 1) QF_CASE(qf_fused_2, 2) QF_CASE(qf_fused_3, 3) QF_CASE(qf_fused_4, 4) QF_CASE(qf_fused_5, 5) QF_CASE(qf_fused_6, 6) QF_CASE(qf_fused_7, 7)
        QF_CASE(qf_fused_8, 8) QF_CASE(qf_fused_9, 9) QF_CASE(qf_fused_10, 10) QF_CASE(qf_fused_11, 11) QF_CASE(qf_fused_12, 12) QF_CASE(qf_fused_13, 13) QF_CASE(qf_fused_14, 14)
        QF_CASE(qf_fused_15, 15) QF_CASE(qf_fused_16, 16)
    default: return 0;
    }
#undef QF_CASE
}
