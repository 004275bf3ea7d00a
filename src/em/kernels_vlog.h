/* kernels_vlog.h — the one vectorisable log of the block pass, shared by the
 * softmax (kernels.c) and the missing-data lanes (missing_impl.h). */
#ifndef EMGMM_KERNELS_VLOG_H
#define EMGMM_KERNELS_VLOG_H
#include <stdint.h>
#include <string.h>

/* c ? a : b as a bit blend (c is 0 or 1).  GCC if-converts a select of
 * doubles in a loop only where it can mask (AVX-512); written as a blend,
 * the loop vectorises for AVX2 and SSE2 too, with the same bits. */
static inline double emgmm_vsel(int c, double a, double b)
{
    const uint64_t m = 0u - (uint64_t)c;
    uint64_t ab, bb;
    memcpy(&ab, &a, sizeof ab);
    memcpy(&bb, &b, sizeof bb);
    const uint64_t o = (ab & m) | (bb & ~m);
    double r;
    memcpy(&r, &o, sizeof r);
    return r;
}

/* log(x) for x >= 1 (the softmax's sums of exps, whose largest term is
 * exp(0) = 1; the missing-data lanes' products of pivots, kept in [1, 2)),
 * branch-free so that it vectorises: fdlibm's e_log.c
 * (x = 2^k·m, m in [√½, √2), f = m − 1, s = f/(2 + f), log(1 + f) =
 * f − ½f² + s(½f² + R(s²)) with its minimax R; under 1 ulp), with k and m
 * taken from the bits, k as a double by the 2^52 trick (no int64
 * conversion, which AVX2 lacks).  NaN and +inf pass through. */
static inline double emgmm_vlog_ge1(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    const uint64_t sqrt_half = 0x3fe6a09e667f3bcdu; /* the bits of √½ */
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    const uint64_t kb = (b - sqrt_half) >> 52; /* k >= 0 for x >= √½ */
    const uint64_t mb = b - (kb << 52), kbits = 0x4330000000000000u | kb;
    double m, kd;
    memcpy(&m, &mb, sizeof m);
    memcpy(&kd, &kbits, sizeof kd);
    kd -= 0x1p52;
    const double f = m - 1.0, hfsq = 0.5 * f * f, s = f / (2.0 + f), z = s * s, w = z * z;
    const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    const double v = kd * ln2_hi - ((hfsq - (s * (hfsq + (t1 + t2)) + kd * ln2_lo)) - f);
    return emgmm_vsel(x <= 0x1.fffffffffffffp1023, v, x);
}
#endif
