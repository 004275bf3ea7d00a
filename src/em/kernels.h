/* kernels.h — vectorised element-wise loops of the block pass (kernels.c). */
#ifndef EMGMM_KERNELS_H
#define EMGMM_KERNELS_H
#include <stddef.h>

/* Component-major: out[k·ldo + i] = cst[k] − ½ Σ_l (y[(k·d + l)·ldy + i] − m[k·d + l])²,
 * i < nb, k < kc. */
void emgmm_quadform_f64(const double *y, size_t ldy, size_t nb, size_t kc, size_t d,
                        const double *m, const double *cst, double *out, size_t ldo);
void emgmm_quadform_f32(const float *y, size_t ldy, size_t nb, size_t kc, size_t d, const double *m,
                        const double *cst, double *out, size_t ldo);
/* Component-major log-probabilities r[k·nb + i] → responsibilities in place;
 * logdens[i] (optional) gets each row's log-sum-exp; returns
 * Σ_i w_i·logsumexp_i (w optional).  mx, sum: scratch of nb doubles. */
double emgmm_softmax_rows(double *r, size_t nb, size_t K, double *logdens, const double *wts,
                          double *mx, double *sum);
/* The same with the exps in float (emgmm_expf_nonpos): the float32 working type's, whose
 * M-step uses the responsibilities in float. */
double emgmm_softmax_rows_f32(double *r, size_t nb, size_t K, double *logdens, const double *wts,
                              double *mx, double *sum);
/* The scalar exp used by emgmm_softmax_rows, for x <= 0 (tests compare it with exp). */
double emgmm_exp_nonpos(double x);
/* The float exp used by emgmm_softmax_rows_f32, for x <= 0, 0 below −87.3. */
float emgmm_expf_nonpos(float x);
/* The scalar log used by emgmm_softmax_rows, for x >= 1 (tests compare it with log). */
double emgmm_log_ge1(double x);
#endif

#ifndef EMGMM_KERNELS_H_MORE
#define EMGMM_KERNELS_H_MORE
/* xs = rows of x (leading dimension ld) minus g, converted to the working type. */
void emgmm_load_f64_f64(const double *x, size_t ld, size_t nb, size_t d, const double *g,
                        double *xs);
void emgmm_load_f32_f64(const float *x, size_t ld, size_t nb, size_t d, const double *g,
                        double *xs);
void emgmm_load_f64_f32(const double *x, size_t ld, size_t nb, size_t d, const double *g,
                        float *xs);
void emgmm_load_f32_f32(const float *x, size_t ld, size_t nb, size_t d, const double *g, float *xs);
#endif

#ifndef EMGMM_KERNELS_H_DIAG
#define EMGMM_KERNELS_H_DIAG
/* kernels_diag.c: r[k·nb + i] = cst[k] − ½ Σ_j P[k·d+j] (xt[j·nb+i] − M[k·d+j])²
 * for every row i < nb and component k < K (diagonal families; xt is the
 * block transposed, d rows of nb doubles). */
void emgmm_diag_logdens(const double *xt, size_t nb, size_t d, size_t K, const double *P,
                        const double *M, const double *cst, double *r);
/* kernels_diag.c: for every component k < K, nk[k] += Σ_i r_ki and, with
 * t = xt[j·nb + i] − C[k·d + j], s1[k·d + j] += Σ_i r_ki t and
 * s2[k·d + j] += Σ_i r_ki t² (diagonal families; r component-major [K][nb]). */
void emgmm_diag_stats(const double *xt, size_t nb, size_t d, size_t K, const double *r,
                      const double *C, double *nk, double *s1, double *s2);
/* kernels_diag.c: xt[j·nb + i] = x[i·ld + j] − g[j] for i < nb, j < d: a block of float64
 * data centred and transposed in one go, for the diagonal families' float64 pass (the same
 * values as emgmm_load_f64_f64, then the transpose). */
void emgmm_diag_load_f64(const double *x, size_t ld, size_t nb, size_t d, const double *g,
                         double *xt);
#endif

#ifndef EMGMM_KERNELS_H_WROW
#define EMGMM_KERNELS_H_WROW
/* out[i] = r[i]·(xt[i] − c) for i < nb; returns Σ_i out[i] in double. */
double emgmm_wrow_f64(const double *xt, const double *r, double c, size_t nb, double *out);
double emgmm_wrow_f32(const float *xt, const double *r, double c, size_t nb, float *out);
/* One-hot r[k·nb + i] at each row's nearest centre (the first of equals), from
 * y[k·ldy + i] = c̃_k·x̃_i and cn[k] = ‖c̃_k‖²; bd, best: nb doubles of scratch. */
void emgmm_nearest_f64(const double *y, size_t ldy, size_t nb, size_t K, const double *cn,
                       double *bd, double *best, double *r);
void emgmm_nearest_f32(const float *y, size_t ldy, size_t nb, size_t K, const double *cn,
                       double *bd, double *best, double *r);
#endif

#ifndef EMGMM_KERNELS_H_FUSED
#define EMGMM_KERNELS_H_FUSED
/* The full family's E-step for d <= 16 in one pass over the rows: out[k·ldo + i]
 * = cst[k] − ½‖x̃_i·U_k − mv_k‖² for i < nb, k < K, where x̃ᵀ is xt (d rows,
 * leading dimension ldb, readable to the next multiple of 8 past nb) and the
 * upper-triangular U_k is packed by columns, Up[k·d(d+1)/2 + l(l+1)/2 + j] =
 * U_k[j][l] (j <= l).  Returns 0 (nothing done) when d > 16. */
int emgmm_qf_fused_f64(const double *xt, size_t ldb, size_t nb, size_t d, size_t K,
                       const double *Up, const double *mv, const double *cst, double *out,
                       size_t ldo);
#endif

#ifndef EMGMM_KERNELS_H_CLONES
#define EMGMM_KERNELS_H_CLONES
/* Kernels built three times — for AVX-512, for AVX2 and for baseline x86-64 —
 * and chosen at each call by emgmm_isa_level(), so EMGMM_ISA selects the
 * build (and the tests run every one on the widest CPU).
 *
 *   EMGMM_VERSIONS(link, ret, kind, name, params, args) { body }
 *
 * defines `link ret name params` as that dispatcher over three copies of the
 * body (`args`: the parameters' names, in parentheses).  kind EW: the
 * element-wise kernels, built for avx512f / avx2 / baseline, no contraction.
 * kind FMA: the tiles and the loops written in C elsewhere (the missing-value
 * corrections), built for x86-64-v4 / x86-64-v3 / baseline with a·b + c
 * contracted into FMA.  EMGMM_VERSIONS_VOID is the same for void functions.
 * EMGMM_TILE_INLINE: a tile's helpers, inlined into each copy and contracted
 * as it is.  Elsewhere than GCC on x86-64 (or with EMGMM_NO_CLONES) there is
 * one build, the body itself. */
#define EMGMM_CAT_(a, b) a##b
#define EMGMM_CAT(a, b) EMGMM_CAT_(a, b)
#define EMGMM_BODY_EW static inline __attribute__((always_inline))
#define EMGMM_BODY_FMA static inline __attribute__((always_inline, optimize("fp-contract=fast")))
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(EMGMM_NO_CLONES)
#define EMGMM_BUILD_EW_4 __attribute__((noinline, target("avx512f")))
#define EMGMM_BUILD_EW_3 __attribute__((noinline, target("avx2")))
#define EMGMM_BUILD_EW_1 __attribute__((noinline))
#define EMGMM_BUILD_FMA_4                                                                          \
    __attribute__((noinline, target("arch=x86-64-v4"), optimize("fp-contract=fast")))
#define EMGMM_BUILD_FMA_3                                                                          \
    __attribute__((noinline, target("arch=x86-64-v3"), optimize("fp-contract=fast")))
#define EMGMM_BUILD_FMA_1 __attribute__((noinline, optimize("fp-contract=fast")))
#define EMGMM_VERSIONS_(link, ret, RET, kind, name, params, args)                                  \
    EMGMM_BODY_##kind ret EMGMM_CAT(name, _body) params;                                           \
    static EMGMM_BUILD_##kind##_4 ret EMGMM_CAT(name, _v4) params                                  \
    {                                                                                              \
        RET EMGMM_CAT(name, _body) args;                                                           \
    }                                                                                              \
    static EMGMM_BUILD_##kind##_3 ret EMGMM_CAT(name, _v3) params                                  \
    {                                                                                              \
        RET EMGMM_CAT(name, _body) args;                                                           \
    }                                                                                              \
    static EMGMM_BUILD_##kind##_1 ret EMGMM_CAT(name, _v1) params                                  \
    {                                                                                              \
        RET EMGMM_CAT(name, _body) args;                                                           \
    }                                                                                              \
    link ret name params                                                                           \
    {                                                                                              \
        switch (emgmm_isa_level()) {                                                               \
        case EMGMM_ISA_AVX512: RET EMGMM_CAT(name, _v4) args; break;                               \
        case EMGMM_ISA_AVX2: RET EMGMM_CAT(name, _v3) args; break;                                 \
        default: RET EMGMM_CAT(name, _v1) args; break;                                             \
        }                                                                                          \
    }                                                                                              \
    EMGMM_BODY_##kind ret EMGMM_CAT(name, _body) params
#else
#define EMGMM_VERSIONS_(link, ret, RET, kind, name, params, args)                                  \
    EMGMM_BODY_##kind ret EMGMM_CAT(name, _body) params;                                           \
    link ret name params { RET EMGMM_CAT(name, _body) args; }                                      \
    EMGMM_BODY_##kind ret EMGMM_CAT(name, _body) params
#endif
#define EMGMM_VERSIONS(link, ret, kind, name, params, args)                                        \
    EMGMM_VERSIONS_(link, ret, return, kind, name, params, args)
#define EMGMM_VERSIONS_VOID(link, kind, name, params, args)                                        \
    EMGMM_VERSIONS_(link, void, , kind, name, params, args)
#define EMGMM_TILE_INLINE static inline __attribute__((always_inline, optimize("fp-contract=fast")))
#endif

#ifndef EMGMM_KERNELS_H_TRI
#define EMGMM_KERNELS_H_TRI
/* kernels_tri.c: the full family's products at the cost of their triangle.
 * The E-step reads the upper-triangular factors U_k in place (row j of U_k at
 * U + k·ustep + j·ldu) except for a last group of d mod 8 columns, which it
 * reads from tail: emgmm_tri_tail_size(d) values per component, written by
 * emgmm_tri_tail_* from U_k (NULL when d is a multiple of 8). */
size_t emgmm_tri_tail_size(size_t d);
void emgmm_tri_tail_f64(const double *U, size_t ldu, size_t d, double *P);
void emgmm_tri_tail_f32(const float *U, size_t ldu, size_t d, float *P);
/* out[k·ldo + i] = cst[k] − ½‖x̃_i·U_k − mv_k‖² for i < nb, k < K: xt as for
 * emgmm_qf_fused_f64 (readable to the next multiple of 8 past nb). */
void emgmm_qf_tri_f64(const double *xt, size_t ldb, size_t nb, size_t d, size_t K, const double *U,
                      size_t ldu, size_t ustep, const double *tail, const double *mv,
                      const double *cst, double *out, size_t ldo);
/* The same for float32 data and factors: xt readable to the next multiple of 16. */
void emgmm_qf_tri_f32(const float *xt, size_t ldb, size_t nb, size_t d, size_t K, const float *U,
                      size_t ldu, size_t ustep, const float *tail, const double *mv,
                      const double *cst, double *out, size_t ldo);
/* The M-step products of one component over one block.  X: nb rows of ld (a
 * multiple of the vector length: 8 doubles, 16 floats), zero in the columns
 * d … ld − 1.  idx ← the rows i < nb with r[i] ≠ 0, in order (m of them,
 * returned); *nk = Σ_i r[i]; with w_i = r_i·(X_i − c) over those rows,
 *   s1[b] = Σ_i w_ib,   T[a·ld + b] = Σ_i X_ia·w_ib   for a <= b < d
 * (the other entries of T, ld × ld, are scratch).  scr: 2·ld of scratch. */
size_t emgmm_mstat_f64(const double *X, size_t ld, size_t d, const double *r, size_t nb,
                       const double *c, size_t *idx, double *s1, double *nk, double *T,
                       double *scr);
size_t emgmm_mstat_f32(const float *X, size_t ld, size_t d, const double *r, size_t nb,
                       const double *c, size_t *idx, double *s1, double *nk, float *T, float *scr);
/* emgmm_mstat_f64 by tiles shaped for AVX2's 16 registers: the same bits
 * (each entry of T and s1 takes the same operations in the same order).  For
 * a CPU with AVX2 and FMA; elsewhere it is emgmm_mstat_f64. */
size_t emgmm_mstat_avx2_f64(const double *X, size_t ld, size_t d, const double *r, size_t nb,
                            const double *c, size_t *idx, double *s1, double *nk, double *T,
                            double *scr);
/* s2[a·d + b] += T[a·ld + b] − s1[b]·c[a] for a <= b < d: with T and s1 of
 * emgmm_mstat, Σ_i r_i (X_i − c)_b (X_i − c)_a, the second moment's upper
 * triangle about c. */
void emgmm_mfold_f64(const double *T, size_t ld, size_t d, const double *s1, const double *c,
                     double *s2);
void emgmm_mfold_f32(const float *T, size_t ld, size_t d, const double *s1, const double *c,
                     double *s2);
#endif

#ifndef EMGMM_KERNELS_H_ISA
#define EMGMM_KERNELS_H_ISA
/* The vector path of the hand-tiled kernels (isa.c): what the CPU supports,
 * lowered by EMGMM_ISA (include/emgmm.h).  Fixed for the process. */
enum {
    EMGMM_ISA_PORTABLE = 1,
    EMGMM_ISA_AVX2 = 3,
    EMGMM_ISA_AVX512 = 4
};
int emgmm_isa_level(void);
#endif
