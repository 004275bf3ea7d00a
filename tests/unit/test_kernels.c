/* test_kernels.c — white-box checks of the block pass's element-wise
 * kernels and the random generator: the branch-free exp and log against libm, the
 * log-sum-exp against a two-pass reference, the quadratic forms against
 * explicit loops, and the generator's documented stream properties. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/em/kernels.h"
#include "src/base/base.h"

static void exp_nonpos_within_2ulp_of_libm_and_flushes_below_minus_708(void **state)
{
    (void)state;
    double worst = 0.0;
    for (int i = 0; i <= 200000; i++) {
        const double x = fmin(0.0, -708.0 * (double)i / 200000.0 + 1e-7 * (i % 7));
        const double want = exp(x), got = emgmm_exp_nonpos(x);
        const double rel = fabs(got - want) / want;
        if (rel > worst) worst = rel;
    }
    assert_true(worst < 4.5e-16);
    assert_true(emgmm_exp_nonpos(0.0) == 1.0);
    assert_true(emgmm_exp_nonpos(-709.5) == 0.0);
    assert_true(emgmm_exp_nonpos(-1e300) == 0.0);
    assert_true(emgmm_exp_nonpos(-INFINITY) == 0.0);
}

/* The float32 softmax's exp: within 2 ulp of float (2.4e-7 relative) of libm's double exp
 * over [-87.3, 0], exact at 0, 0 below -87.3 and at -inf, NaN passes. */
static void expf_nonpos_within_2ulp_of_float_and_flushes_below_minus_87(void **state)
{
    (void)state;
    double worst = 0.0;
    for (int i = 0; i <= 200000; i++) {
        const float x = fminf(0.0f, -87.3f * (float)i / 200000.0f + 1e-5f * (float)(i % 7));
        const double want = exp((double)x), got = (double)emgmm_expf_nonpos(x);
        const double rel = fabs(got - want) / want;
        if (rel > worst) worst = rel;
    }
    if (!(worst < 2.4e-7)) fail_msg("expf_nonpos: worst relative error %.3g", worst);
    assert_true(emgmm_expf_nonpos(0.0f) == 1.0f);
    assert_true(emgmm_expf_nonpos(-87.4f) == 0.0f);
    assert_true(emgmm_expf_nonpos(-1e30f) == 0.0f);
    assert_true(emgmm_expf_nonpos(-INFINITY) == 0.0f);
    assert_true(isnan(emgmm_expf_nonpos(NAN)));
}

/* Over [1, 2^40] (the softmax's sums lie in [1, K]) and at the binade and √2 edges: within
 * 1 ulp of libm's log (both under 1 ulp of the true value), exact at 1; NaN and +inf pass. */
static void log_ge1_within_1ulp_of_libm(void **state)
{
    (void)state;
    double worst = 0.0;
    emgmm_rng g;
    emgmm_rng_seed(&g, 3853, 2);
    for (int i = 0; i < 400000; i++) {
        double x;
        if (i % 4 == 0)
            x = 1.0 + 3.0 * emgmm_rng_uniform(&g);
        else if (i % 4 == 1)
            x = exp2(40.0 * emgmm_rng_uniform(&g));
        else if (i % 4 == 2)
            x = nextafter(ldexp(1.0, i % 41), (i / 4) % 2 ? INFINITY : 0.0);
        else
            x = ldexp(sqrt(2.0), i % 40) * (1.0 + ((i / 4) % 9 - 4) * 0x1p-52);
        if (x < 1.0) x = 1.0;
        const double want = log(x), got = emgmm_log_ge1(x);
        const double ulp = want > 0.0 ? nextafter(want, INFINITY) - want : 0x1p-1074;
        const double err = fabs(got - want) / ulp;
        if (err > worst) worst = err;
    }
    assert_true(worst <= 1.0);
    assert_true(emgmm_log_ge1(1.0) == 0.0);
    assert_true(emgmm_log_ge1(2.0) == log(2.0));
    assert_true(isnan(emgmm_log_ge1(NAN)));
    assert_true(emgmm_log_ge1(INFINITY) == INFINITY);
}

static void softmax_rows_match_two_pass_logsumexp_with_weights(void **state)
{
    (void)state;
    enum {
        NB = 37,
        K = 11
    };
    /* component-major: entry (row i, component k) at [k·NB + i] */
    double r[NB * K], ref[NB * K], logd[NB], w[NB], mx[NB], sum[NB];
    emgmm_rng g;
    emgmm_rng_seed(&g, 2385, 1);
    for (int i = 0; i < NB * K; i++) r[i] = ref[i] = -800.0 * emgmm_rng_uniform(&g) + 3.7;
    for (int i = 0; i < NB; i++) w[i] = 0.25 + emgmm_rng_uniform(&g);
    const double ll = emgmm_softmax_rows(r, NB, K, logd, w, mx, sum);
    double llref = 0.0;
    for (int i = 0; i < NB; i++) {
        double m = -INFINITY, s = 0.0;
        for (int k = 0; k < K; k++) m = fmax(m, ref[k * NB + i]);
        for (int k = 0; k < K; k++) s += exp(ref[k * NB + i] - m);
        const double lse = m + log(s);
        assert_true(fabs(logd[i] - lse) <= 1e-13 * fabs(lse));
        double rowsum = 0.0;
        for (int k = 0; k < K; k++) {
            const double want = exp(ref[k * NB + i] - lse);
            assert_true(fabs(r[k * NB + i] - want) <= 1e-14 + 1e-13 * want);
            rowsum += r[k * NB + i];
        }
        assert_true(fabs(rowsum - 1.0) < 1e-14);
        llref += w[i] * lse;
    }
    assert_true(fabs(ll - llref) <= 1e-12 * fabs(llref));
}

static void quadform_matches_explicit_loops_for_both_precisions(void **state)
{
    (void)state;
    /* y: for component k and coordinate l, a row of NB values at (k·D + l)·LDY */
    enum {
        NB = 13,
        KC = 3,
        D = 19,
        LDY = NB + 4,
        LDO = NB + 2
    };
    double y[KC * D * LDY], m[KC * D], cst[KC], out[KC * LDO];
    float yf[KC * D * LDY];
    double outf[KC * LDO];
    emgmm_rng g;
    emgmm_rng_seed(&g, 77, 0);
    for (int i = 0; i < KC * D * LDY; i++) yf[i] = (float)(y[i] = emgmm_rng_normal(&g) * 2.385);
    for (int i = 0; i < KC * D; i++) m[i] = emgmm_rng_normal(&g);
    for (int k = 0; k < KC; k++) cst[k] = -1.5 * k + 0.3;
    emgmm_quadform_f64(y, LDY, NB, KC, D, m, cst, out, LDO);
    emgmm_quadform_f32(yf, LDY, NB, KC, D, m, cst, outf, LDO);
    for (int i = 0; i < NB; i++)
        for (int k = 0; k < KC; k++) {
            double q = 0.0, qf = 0.0;
            for (int l = 0; l < D; l++) {
                double t = y[(k * D + l) * LDY + i] - m[k * D + l];
                double tf = (double)yf[(k * D + l) * LDY + i] - m[k * D + l];
                q += t * t;
                qf += tf * tf;
            }
            assert_true(fabs(out[k * LDO + i] - (cst[k] - 0.5 * q)) <= 1e-13 * (1 + q));
            assert_true(fabs(outf[k * LDO + i] - (cst[k] - 0.5 * qf)) <= 1e-13 * (1 + qf));
        }
}

/* The triangular E-step kernels (kernels_tri.c) against the quadratic form by
 * explicit loops, for d around the column groups of 8 and nb around the row
 * tiles (3 vectors of 8 or 16); nothing past row nb is written.  The factors
 * are read in place with a leading dimension past d: the lower triangles and
 * the padding hold NaN, which no result may see. */
static void tri_estep_matches_explicit_quadratic_form(void **state)
{
    (void)state;
    const size_t dims[] = {1, 5, 8, 9, 16, 17, 24, 37, 64};
    const size_t rows[] = {1, 7, 8, 23, 24, 25, 47, 49, 100};
    emgmm_rng g;
    emgmm_rng_seed(&g, 11, 0);
    for (size_t a = 0; a < sizeof dims / sizeof *dims; a++)
        for (size_t b = 0; b < sizeof rows / sizeof *rows; b++) {
            const size_t d = dims[a], nb = rows[b], K = 3, ldb = nb + 16, ldo = nb + 5;
            const size_t tsz = emgmm_tri_tail_size(d), ldu = d + 3, ustep = d * ldu + 5;
            double *xt = calloc(d * ldb, sizeof(double)), *U = calloc(K * d * d, sizeof(double));
            float *xtf = calloc(d * ldb, sizeof(float)), *Uf = malloc(K * ustep * sizeof(float));
            double *Ud = malloc(K * ustep * sizeof(double)), *mv = malloc(K * d * sizeof(double));
            double *P = malloc((tsz ? K * tsz : 1) * sizeof(double));
            float *Pf = malloc((tsz ? K * tsz : 1) * sizeof(float));
            double cst[3], *out = malloc(K * ldo * sizeof(double));
            assert_non_null(xt && U && xtf && Uf && Ud && P && mv && Pf && out);
            for (size_t i = 0; i < K * ustep; i++) {
                Ud[i] = NAN;
                Uf[i] = NAN;
            }
            for (size_t j = 0; j < d; j++)
                for (size_t i = 0; i < nb; i++) {
                    xtf[j * ldb + i] = (float)(2.0 * emgmm_rng_uniform(&g) - 1.0);
                    xt[j * ldb + i] = xtf[j * ldb + i];
                }
            for (size_t k = 0; k < K; k++) {
                for (size_t j = 0; j < d; j++)
                    for (size_t l = j; l < d; l++) {
                        const size_t at = k * ustep + j * ldu + l;
                        Uf[at] = (float)(l == j ? 1.0 + emgmm_rng_uniform(&g)
                                                : emgmm_rng_uniform(&g) - 0.5);
                        U[k * d * d + j * d + l] = Ud[at] = Uf[at];
                    }
                for (size_t l = 0; l < d; l++) mv[k * d + l] = emgmm_rng_uniform(&g) - 0.5;
                cst[k] = -(double)k;
                emgmm_tri_tail_f64(Ud + k * ustep, ldu, d, P + k * tsz);
                emgmm_tri_tail_f32(Uf + k * ustep, ldu, d, Pf + k * tsz);
            }
            for (int prec = 0; prec < 2; prec++) {
                for (size_t i = 0; i < K * ldo; i++) out[i] = 1234.5;
                if (prec == 0)
                    emgmm_qf_tri_f64(xt, ldb, nb, d, K, Ud, ldu, ustep, tsz ? P : NULL, mv, cst,
                                     out, ldo);
                else
                    emgmm_qf_tri_f32(xtf, ldb, nb, d, K, Uf, ldu, ustep, tsz ? Pf : NULL, mv, cst,
                                     out, ldo);
                for (size_t k = 0; k < K; k++) {
                    for (size_t i = 0; i < nb; i++) {
                        double q = 0.0;
                        for (size_t l = 0; l < d; l++) {
                            double y = -mv[k * d + l];
                            for (size_t j = 0; j <= l; j++)
                                y += xt[j * ldb + i] * U[k * d * d + j * d + l];
                            q += y * y;
                        }
                        const double want = cst[k] - 0.5 * q, got = out[k * ldo + i];
                        const double tol = (prec == 0 ? 1e-13 : 2e-5) * (1.0 + fabs(want));
                        if (!(fabs(got - want) <= tol))
                            fail_msg("%s d=%zu nb=%zu k=%zu i=%zu: %.17g vs %.17g",
                                     prec ? "f32" : "f64", d, nb, k, i, got, want);
                    }
                    for (size_t i = nb; i < ldo; i++) assert_true(out[k * ldo + i] == 1234.5);
                }
            }
            free(xt);
            free(U);
            free(xtf);
            free(Uf);
            free(Ud);
            free(P);
            free(mv);
            free(Pf);
            free(out);
        }
}

/* The M-step kernel: the rows with r ≠ 0 picked in order, N = Σ r, the column
 * sums of w = r·(x − c), the upper triangle of Σ x wᵀ over those rows, and
 * the fold into the second moment about c. */
static void tri_mstep_matches_explicit_sums_over_nonzero_rows(void **state)
{
    (void)state;
    const size_t dims[] = {1, 3, 8, 9, 10, 12, 13, 16, 24, 33, 64};
    emgmm_rng g;
    emgmm_rng_seed(&g, 12, 0);
    for (size_t q = 0; q < sizeof dims / sizeof *dims; q++)
        for (int prec = 0; prec < 2; prec++) {
            const size_t d = dims[q], nb = 61, L = prec ? 16 : 8, ld = (d + L - 1) / L * L;
            double *X = calloc(nb * ld, sizeof(double)), *W = calloc(2 * ld, sizeof(double));
            double *T = malloc(ld * ld * sizeof(double)), r[61], c[64], s1[64];
            double *s2 = calloc(d * d, sizeof(double));
            float *Xf = calloc(nb * ld, sizeof(float)), *Wf = calloc(2 * ld, sizeof(float));
            float *Tf = malloc(ld * ld * sizeof(float));
            size_t idx[61];
            assert_non_null(X && W && T && s2 && Xf && Wf && Tf);
            for (size_t i = 0; i < nb; i++) {
                r[i] = i % 3 == 1 ? 0.0 : emgmm_rng_uniform(&g);
                for (size_t a = 0; a < d; a++) {
                    Xf[i * ld + a] = (float)(emgmm_rng_uniform(&g) * 4.0 - 2.0);
                    X[i * ld + a] = Xf[i * ld + a];
                }
            }
            for (size_t a = 0; a < d; a++) c[a] = emgmm_rng_uniform(&g) - 0.5;
            size_t m;
            double nk = -1.0, nk_ref = 0.0;
            for (size_t i = 0; i < nb; i++) nk_ref += r[i];
            if (prec == 0) {
                m = emgmm_mstat_f64(X, ld, d, r, nb, c, idx, s1, &nk, T, W);
                emgmm_mfold_f64(T, ld, d, s1, c, s2);
            } else {
                m = emgmm_mstat_f32(Xf, ld, d, r, nb, c, idx, s1, &nk, Tf, Wf);
                emgmm_mfold_f32(Tf, ld, d, s1, c, s2);
            }
            assert_int_equal(m, nb - nb / 3);
            assert_true(fabs(nk - nk_ref) <= 1e-14 * nk_ref);
            for (size_t j = 0, i = 0; i < nb; i++)
                if (r[i] != 0.0) assert_int_equal(idx[j++], i);
            const double tol = prec ? 1e-5 : 1e-13;
            for (size_t a = 0; a < d; a++) {
                double s = 0.0;
                for (size_t i = 0; i < nb; i++) s += r[i] * (X[i * ld + a] - c[a]);
                assert_true(fabs(s1[a] - s) <= tol * (1.0 + fabs(s)) * 10);
                for (size_t b = a; b < d; b++) {
                    double t = 0.0, u = 0.0;
                    for (size_t i = 0; i < nb; i++) {
                        t += X[i * ld + a] * r[i] * (X[i * ld + b] - c[b]);
                        u += r[i] * (X[i * ld + a] - c[a]) * (X[i * ld + b] - c[b]);
                    }
                    const double got = prec ? (double)Tf[a * ld + b] : T[a * ld + b];
                    if (!(fabs(got - t) <= tol * (1.0 + fabs(t)) * 10))
                        fail_msg("%s d=%zu (%zu,%zu): %.17g vs %.17g", prec ? "f32" : "f64", d, a,
                                 b, got, t);
                    if (!(fabs(s2[a * d + b] - u) <= tol * (1.0 + fabs(u)) * 10))
                        fail_msg("%s d=%zu fold (%zu,%zu): %.17g vs %.17g", prec ? "f32" : "f64", d,
                                 a, b, s2[a * d + b], u);
                }
            }
            free(X);
            free(W);
            free(T);
            free(s2);
            free(Xf);
            free(Wf);
            free(Tf);
        }
}

/* The diagonal families' E-step: every component's log-density of every row,
 * against the sum written out, for row counts that are and are not multiples
 * of a vector and rows far from a component (where an expanded form cancels). */
static void diag_logdens_matches_direct_sum(void **state)
{
    (void)state;
    const size_t dims[] = {1, 3, 16, 37}, rows[] = {1, 7, 8, 61};
    emgmm_rng g;
    emgmm_rng_seed(&g, 21, 0);
    for (size_t q = 0; q < 4; q++)
        for (size_t t = 0; t < 4; t++) {
            const size_t d = dims[q], nb = rows[t], K = 5;
            double *xt = malloc(d * nb * sizeof(double)), *P = malloc(K * d * sizeof(double));
            double *M = malloc(K * d * sizeof(double)), *r = malloc(K * nb * sizeof(double));
            double cst[5];
            assert_non_null(xt && P && M && r);
            for (size_t i = 0; i < d * nb; i++) xt[i] = (emgmm_rng_uniform(&g) - 0.5) * 1e3;
            for (size_t i = 0; i < K * d; i++) {
                P[i] = 0.1 + 10.0 * emgmm_rng_uniform(&g);
                M[i] = (emgmm_rng_uniform(&g) - 0.5) * 1e3;
            }
            for (size_t k = 0; k < K; k++) cst[k] = emgmm_rng_uniform(&g) - 3.0;
            emgmm_diag_logdens(xt, nb, d, K, P, M, cst, r);
            for (size_t k = 0; k < K; k++)
                for (size_t i = 0; i < nb; i++) {
                    double s = 0.0;
                    for (size_t j = 0; j < d; j++) {
                        const double u = xt[j * nb + i] - M[k * d + j];
                        s += P[k * d + j] * u * u;
                    }
                    const double want = cst[k] - 0.5 * s, got = r[k * nb + i];
                    if (!(fabs(got - want) <= 1e-14 * fabs(want)))
                        fail_msg("d=%zu nb=%zu k=%zu i=%zu: %.17g vs %.17g", d, nb, k, i, got,
                                 want);
                }
            free(xt);
            free(P);
            free(M);
            free(r);
        }
}

/* The diagonal statistics (rows in the lanes) against a row-at-a-time sum, with rows of r = 0
 * among them; the sums add to what the accumulators held. */
static void diag_stats_match_row_sums(void **state)
{
    (void)state;
    const size_t dims[] = {1, 3, 10, 37}, rows[] = {1, 7, 8, 61};
    emgmm_rng g;
    emgmm_rng_seed(&g, 38, 0);
    for (size_t q = 0; q < 4; q++)
        for (size_t t = 0; t < 4; t++) {
            const size_t d = dims[q], nb = rows[t], K = 4;
            double *xt = malloc(d * nb * sizeof(double)), *r = malloc(K * nb * sizeof(double));
            double *C = malloc(K * d * sizeof(double)), *s1 = malloc(K * d * sizeof(double));
            double *s2 = malloc(K * d * sizeof(double)), nk[4];
            assert_non_null(xt && r && C && s1 && s2);
            for (size_t i = 0; i < d * nb; i++) xt[i] = (emgmm_rng_uniform(&g) - 0.5) * 20.0;
            for (size_t i = 0; i < K * nb; i++)
                r[i] = i % 3 == 1 ? 0.0 : emgmm_rng_uniform(&g) * 2.385;
            for (size_t i = 0; i < K * d; i++) {
                C[i] = (emgmm_rng_uniform(&g) - 0.5) * 4.0;
                s1[i] = 1.25 * (double)i;
                s2[i] = 0.5 + (double)i;
            }
            for (size_t k = 0; k < K; k++) nk[k] = 3.0 + (double)k;
            emgmm_diag_stats(xt, nb, d, K, r, C, nk, s1, s2);
            for (size_t k = 0; k < K; k++) {
                double n = 3.0 + (double)k;
                for (size_t i = 0; i < nb; i++) n += r[k * nb + i];
                assert_true(fabs(nk[k] - n) <= 1e-14 * n);
                for (size_t j = 0; j < d; j++) {
                    double a = 1.25 * (double)(k * d + j), b = 0.5 + (double)(k * d + j), sa = 0.0;
                    for (size_t i = 0; i < nb; i++) {
                        const double u = xt[j * nb + i] - C[k * d + j], rr = r[k * nb + i];
                        a += rr * u;
                        b += rr * u * u;
                        sa += fabs(rr * u);
                    }
                    if (!(fabs(s1[k * d + j] - a) <= 1e-14 * (sa + fabs(a)) &&
                          fabs(s2[k * d + j] - b) <= 1e-14 * b))
                        fail_msg("d=%zu nb=%zu k=%zu j=%zu: %.17g %.17g vs %.17g %.17g", d, nb, k,
                                 j, s1[k * d + j], s2[k * d + j], a, b);
                }
            }
            free(xt);
            free(r);
            free(C);
            free(s1);
            free(s2);
        }
}

/* The AVX2 M-step tile gives the AVX-512-shaped tile's bits: same operations,
 * same order, for every entry the pass reads (T's upper triangle, s1, N_k). */
static void tri_mstep_avx2_tile_gives_the_same_bits(void **state)
{
    (void)state;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) skip();
#endif
    /* emgmm_mstat_f64 is the build EMGMM_ISA selects: the baseline one (no FMA)
     * cannot give an FMA tile's bits, and the pass never pairs the two. */
    if (emgmm_isa_level() < EMGMM_ISA_AVX2) skip();
    const size_t dims[] = {1, 3, 4, 8, 9, 10, 12, 13, 16, 24, 33, 64, 71};
    emgmm_rng g;
    emgmm_rng_seed(&g, 2385, 0);
    for (size_t q = 0; q < sizeof dims / sizeof *dims; q++) {
        const size_t d = dims[q], nb = 67, ld = (d + 7) / 8 * 8;
        double *X = calloc(nb * ld, sizeof(double)), *T1 = calloc(ld * ld, sizeof(double));
        double *T2 = calloc(ld * ld, sizeof(double)), *W = calloc(2 * ld, sizeof(double));
        double r[67], c[71], s1a[71], s1b[71], nka = 0, nkb = 0;
        size_t idx1[67], idx2[67];
        assert_non_null(X && T1 && T2 && W);
        for (size_t i = 0; i < nb; i++) {
            r[i] = i % 4 == 2 ? 0.0 : emgmm_rng_uniform(&g);
            for (size_t a = 0; a < d; a++) X[i * ld + a] = emgmm_rng_uniform(&g) * 6.0 - 2.385;
        }
        for (size_t a = 0; a < d; a++) c[a] = emgmm_rng_uniform(&g) - 0.5;
        const size_t m1 = emgmm_mstat_f64(X, ld, d, r, nb, c, idx1, s1a, &nka, T1, W);
        const size_t m2 = emgmm_mstat_avx2_f64(X, ld, d, r, nb, c, idx2, s1b, &nkb, T2, W);
        assert_int_equal(m1, m2);
        assert_memory_equal(idx1, idx2, m1 * sizeof(size_t));
        assert_memory_equal(&nka, &nkb, sizeof nka);
        assert_memory_equal(s1a, s1b, d * sizeof(double));
        for (size_t a = 0; a < d; a++)
            if (memcmp(T1 + a * ld + a, T2 + a * ld + a, (d - a) * sizeof(double)))
                fail_msg("d=%zu: row %zu of T differs between the tiles", d, a);
        free(X);
        free(T1);
        free(T2);
        free(W);
    }
}

static void rng_streams_are_reproducible_distinct_and_uniform(void **state)
{
    (void)state;
    emgmm_rng a, b, c;
    emgmm_rng_seed(&a, 42, 0);
    emgmm_rng_seed(&b, 42, 0);
    emgmm_rng_seed(&c, 42, 1);
    int same_c = 0;
    double sum = 0.0, sum2 = 0.0;
    const int N = 100000;
    for (int i = 0; i < N; i++) {
        const uint64_t x = emgmm_rng_next(&a);
        assert_true(x == emgmm_rng_next(&b));
        same_c += x == emgmm_rng_next(&c);
        const double u = emgmm_rng_uniform(&a);
        assert_true(u >= 0.0 && u < 1.0);
        (void)emgmm_rng_next(&b);
        sum += u;
        sum2 += u * u;
    }
    assert_int_equal(same_c, 0);
    /* mean 1/2 and variance 1/12 within ~5 standard errors */
    assert_true(fabs(sum / N - 0.5) < 5 * sqrt(1.0 / 12 / N));
    assert_true(fabs(sum2 / N - sum * sum / N / N - 1.0 / 12) < 0.002);
    /* the counter-based uniform depends on (seed, i, j) only */
    assert_true(emgmm_hash_uniform(9, 123, 4) == emgmm_hash_uniform(9, 123, 4));
    assert_true(emgmm_hash_uniform(9, 123, 4) != emgmm_hash_uniform(9, 124, 4));
    assert_true(emgmm_hash_uniform(9, 123, 4) != emgmm_hash_uniform(10, 123, 4));
}

static void coretype_suggested_only_for_generic_cores_on_capable_cpus(void **state)
{
    (void)state;
    assert_null(emgmm_blas_coretype_for("Cooperlake"));
    assert_null(emgmm_blas_coretype_for("SkylakeX"));
    assert_null(emgmm_blas_coretype_for("Haswell"));
    assert_null(emgmm_blas_coretype_for(NULL));
    const char *s = emgmm_blas_coretype_for("Prescott");
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        assert_string_equal(s, "SkylakeX");
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        assert_string_equal(s, "Haswell");
    else
        assert_null(s);
#else
    assert_null(s);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exp_nonpos_within_2ulp_of_libm_and_flushes_below_minus_708),
        cmocka_unit_test(expf_nonpos_within_2ulp_of_float_and_flushes_below_minus_87),
        cmocka_unit_test(log_ge1_within_1ulp_of_libm),
        cmocka_unit_test(softmax_rows_match_two_pass_logsumexp_with_weights),
        cmocka_unit_test(quadform_matches_explicit_loops_for_both_precisions),
        cmocka_unit_test(tri_estep_matches_explicit_quadratic_form),
        cmocka_unit_test(tri_mstep_matches_explicit_sums_over_nonzero_rows),
        cmocka_unit_test(tri_mstep_avx2_tile_gives_the_same_bits),
        cmocka_unit_test(diag_logdens_matches_direct_sum),
        cmocka_unit_test(diag_stats_match_row_sums),
        cmocka_unit_test(rng_streams_are_reproducible_distinct_and_uniform),
        cmocka_unit_test(coretype_suggested_only_for_generic_cores_on_capable_cpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
