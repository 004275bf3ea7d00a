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

EMGMM_CLONES
void emgmm_quadform_f64(const double *y, size_t ldy, size_t nb, size_t kc, size_t d,
                        const double *m, const double *cst, double *out, size_t ldo)
{
    for (size_t i = 0; i < nb; i++) {
        const double *yi = y + i * ldy;
        for (size_t k = 0; k < kc; k++) {
            const double *yk = yi + k * d, *mk = m + k * d;
            double q = 0.0;
#pragma omp simd reduction(+ : q)
            for (size_t l = 0; l < d; l++) {
                const double t = yk[l] - mk[l];
                q += t * t;
            }
            out[i * ldo + k] = cst[k] - 0.5 * q;
        }
    }
}

EMGMM_CLONES
void emgmm_quadform_f32(const float *y, size_t ldy, size_t nb, size_t kc, size_t d,
                        const double *m, const double *cst, double *out, size_t ldo)
{
    for (size_t i = 0; i < nb; i++) {
        const float *yi = y + i * ldy;
        for (size_t k = 0; k < kc; k++) {
            const float *yk = yi + k * d;
            const double *mk = m + k * d;
            double q = 0.0;
#pragma omp simd reduction(+ : q)
            for (size_t l = 0; l < d; l++) {
                const double t = (double)yk[l] - mk[l];
                q += t * t;
            }
            out[i * ldo + k] = cst[k] - 0.5 * q;
        }
    }
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
    const double kd = __builtin_round(xc * inv_ln2);
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
    /* 2^k for k in [−1022, 0]: k = −1022 is the smallest normal exponent. */
    const int64_t k = (int64_t)kd;
    const uint64_t bits = (uint64_t)(k + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    const double v = p * scale;
    return x < -708.0 ? 0.0 : v;
}

EMGMM_CLONES
double emgmm_softmax_rows(double *r, size_t nb, size_t K, double *logdens, const double *wts)
{
    double ll = 0.0;
    for (size_t i = 0; i < nb; i++) {
        double *ri = r + i * K;
        double mx = ri[0];
        for (size_t k = 1; k < K; k++) mx = ri[k] > mx ? ri[k] : mx;
        double s = 0.0;
#pragma omp simd reduction(+ : s)
        for (size_t k = 0; k < K; k++) {
            const double e = exp_nonpos(ri[k] - mx);
            ri[k] = e;
            s += e;
        }
        const double lse = mx + log(s), inv = 1.0 / s;
#pragma omp simd
        for (size_t k = 0; k < K; k++) ri[k] *= inv;
        if (logdens) logdens[i] = lse;
        ll += wts ? (wts[i] == 0.0 ? 0.0 : wts[i] * lse) : lse;
    }
    return ll;
}

double emgmm_exp_nonpos(double x) { return exp_nonpos(x); }

/* Gathers the rows of one component with r > 0 into Z = √r·(x − c) (in the
 * working type) and adds Σ r and Σ r·(x − c); returns the rows gathered.
 * Rows with r = 0 add exactly nothing and are skipped. */
#define ZBUILD_BODY(TYPE)                                                      \
    size_t nz = 0;                                                             \
    double nk = 0.0;                                                           \
    for (size_t i = 0; i < nb; i++) {                                          \
        const double rik = r[i * ldr];                                         \
        if (rik == 0.0) continue;                                              \
        nk += rik;                                                             \
        const double sr = sqrt(rik);                                           \
        const TYPE *xi = xs + i * d;                                           \
        TYPE *zi = z + nz * d;                                                 \
        _Pragma("omp simd") for (size_t j = 0; j < d; j++)                     \
        {                                                                      \
            const double t = (double)xi[j] - sc[j];                            \
            zi[j] = (TYPE)(sr * t);                                            \
            s1[j] += rik * t;                                                  \
        }                                                                      \
        nz++;                                                                  \
    }                                                                          \
    *nk_acc += nk;                                                             \
    return nz;

EMGMM_CLONES
size_t emgmm_zbuild_f64(const double *xs, size_t nb, size_t d, const double *r, size_t ldr,
                        const double *sc, double *z, double *s1, double *nk_acc)
{
    ZBUILD_BODY(double)
}

EMGMM_CLONES
size_t emgmm_zbuild_f32(const float *xs, size_t nb, size_t d, const double *r, size_t ldr,
                        const double *sc, float *z, double *s1, double *nk_acc)
{
    ZBUILD_BODY(float)
}

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
#define DIAG_REFINE_BODY(TYPE)                                                 \
    for (size_t i = 0; i < nb; i++) {                                          \
        double *ri = r + i * K;                                                \
        double mx = ri[0];                                                     \
        for (size_t k = 1; k < K; k++) mx = ri[k] > mx ? ri[k] : mx;           \
        const TYPE *xi = xs + i * d;                                           \
        for (size_t k = 0; k < K; k++) {                                       \
            if (!(ri[k] > mx - 50.0)) continue;                                \
            const double *pk = P + k * d, *mk = M + k * d;                     \
            double q = 0.0;                                                    \
            _Pragma("omp simd reduction(+ : q)") for (size_t j = 0; j < d; j++) \
            {                                                                  \
                const double t = (double)xi[j] - mk[j];                        \
                q += pk[j] * t * t;                                            \
            }                                                                  \
            ri[k] = cst[k] - 0.5 * q;                                          \
        }                                                                      \
    }

EMGMM_CLONES
void emgmm_diag_refine_f64(const double *xs, size_t nb, size_t d, size_t K, const double *P,
                           const double *M, const double *cst, double *r)
{
    DIAG_REFINE_BODY(double)
}

EMGMM_CLONES
void emgmm_diag_refine_f32(const float *xs, size_t nb, size_t d, size_t K, const double *P,
                           const double *M, const double *cst, double *r)
{
    DIAG_REFINE_BODY(float)
}
