/* test_missing.c — EM on data with missing values (issue 8).
 *  - from the same start, 10 iterations of the library and of the textbook EM
 *    (tests/ref/textbook_em.c: per-row loops over observed indices, explicit conditional
 *    formulas)
 *    agree to 1e-9 for full, tied, diag and spherical covariances, f64 and (looser) f32;
 *  - with no NaN, the missing mode gives a bit-identical fit;
 *  - rows with nothing observed: an error naming the row, or dropped (= removing them);
 *  - Inf is still an error; the observed-data log-likelihood never decreases;
 *  - recovery: 20% deleted completely at random, the fit stays near the complete-data fit (much
 *    nearer than a fit after mean-imputation) and imputations beat mean-imputation;
 *  - score_samples / predict_proba / impute against the textbook formulas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"
#include "../ref/textbook_em.h"

#define ITERS 10
#define RTOL 1e-9

/* Data from a mixture, then each entry deleted with probability frac (the first rows keep at
 * least one observed value unless allow_empty); rows 0..2 are kept complete. */
static double *make_data(tu_mixture *mix, size_t n, int d, int K, double frac, uint64_t seed,
                         int allow_empty)
{
    tu_rng r;
    tu_rng_seed(&r, seed);
    tu_mixture_make(mix, &r, n, d, K, 1.0, 2.5, 2.0);
    double *x = tu_xmalloc(sizeof(double) * n * d);
    memcpy(x, mix->x, sizeof(double) * n * d);
    for (size_t i = 3; i < n; i++) {
        int obs = 0;
        for (int j = 0; j < d; j++) {
            if (tu_uniform(&r) < frac)
                x[i * d + j] = NAN;
            else
                obs++;
        }
        if (!obs && !allow_empty) x[i * d + (i % d)] = mix->x[i * d + (i % d)];
    }
    return x;
}

/* Full [K][d][d] covariances in the shape of a covariance type (tied: the first, spherical:
 * the first variance); tb_cov_to_full goes back. */
static void to_type(int type, int K, int d, const double *full, double *out)
{
    for (int k = 0; k < K; k++)
        for (int a = 0; a < d; a++) {
            const double v = full[(size_t)k * d * d + a * d + a];
            if (type == EMGMM_COV_DIAG) out[k * d + a] = v;
            if (type == EMGMM_COV_SPHERICAL && a == 0) out[k] = v;
        }
    if (type == EMGMM_COV_FULL) memcpy(out, full, sizeof(double) * K * d * d);
    if (type == EMGMM_COV_TIED) memcpy(out, full, sizeof(double) * d * d);
}

typedef struct {
    int type, d, K;
    size_t n;
    double frac;
    int f32;
    int lanes; /* no pattern cache: the full family's rows take the vector-lane path */
} tb_case;

/* A start near the truth, in full form, projected on the type. */
static void make_start(const tu_mixture *mix, int type, double *w, double *mu, double *covf)
{
    const int d = mix->d, K = mix->K;
    tu_rng r;
    tu_rng_seed(&r, 99);
    double ws = 0.0;
    for (int k = 0; k < K; k++) {
        w[k] = mix->w[k] * (0.8 + 0.4 * tu_uniform(&r));
        ws += w[k];
        for (int j = 0; j < d; j++) mu[k * d + j] = mix->mu[k * d + j] + 0.4 * tu_normal(&r);
        for (int e = 0; e < d * d; e++)
            covf[(size_t)k * d * d + e] =
                1.2 * mix->cov[(size_t)k * d * d + e] + (e % (d + 1) == 0 ? 0.1 : 0.0);
    }
    for (int k = 0; k < K; k++) w[k] /= ws;
    if (type == EMGMM_COV_TIED)
        for (int k = 1; k < K; k++) memcpy(covf + (size_t)k * d * d, covf, sizeof(double) * d * d);
    double *c = tu_xmalloc(sizeof(double) * K * d * d);
    to_type(type, K, d, covf, c);
    tb_cov_to_full(type, K, d, c, covf);
    free(c);
}

static void agrees_with_textbook(void **state)
{
    const tb_case *c = *state;
    const int d = c->d, K = c->K, type = c->type;
    const size_t n = c->n;
    tu_mixture mix;
    double *x = make_data(&mix, n, d, K, c->frac, 1234 + (uint64_t)type, 0);
    double *w = tu_xmalloc(sizeof(double) * K), *mu = tu_xmalloc(sizeof(double) * K * d);
    double *covf = tu_xmalloc(sizeof(double) * K * d * d),
           *ct = tu_xmalloc(sizeof(double) * K * d * d);
    make_start(&mix, type, w, mu, covf);
    to_type(type, K, d, covf, ct);

    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, type), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, ct), EMGMM_OK);
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_USER;
    p.tol = 0.0;
    p.max_iter = ITERS;
    p.missing = EMGMM_MISSING_NAN;
    p.block_size = 37; /* blocks with and without incomplete rows, a ragged last one */
    p.pattern_cache_max = c->lanes ? -1 : 0;
    float *xf = NULL;
    emgmm_data X = emgmm_data_f64(x, n, (size_t)d, (size_t)d);
    if (c->f32) {
        xf = tu_xmalloc(sizeof(float) * n * d);
        for (size_t i = 0; i < n * d; i++) {
            xf[i] = (float)x[i];
            x[i] = (double)xf[i]; /* the reference sees the same values */
        }
        X = emgmm_data_f32(xf, n, (size_t)d, (size_t)d);
    }
    const int rc = emgmm_fit(m, &p, &X);
    if (rc) fail_msg("fit: %s (%s)", emgmm_strerror(rc), emgmm_model_last_error(m));

    double lbs[ITERS];
    assert_int_equal(tb_em(type, x, n, d, (size_t)d, NULL, K, p.reg_covar, ITERS, w, mu, ct, lbs),
                     0);
    tb_cov_to_full(type, K, d, ct, covf);
    double *got = tu_xmalloc(sizeof(double) * K * d * d);
    tb_cov_to_full(type, K, d, emgmm_model_covariances(m), got);
    const double rtol = c->f32 ? 1e-6 : RTOL;
    char what[64];
    snprintf(what, sizeof what, "%s d=%d K=%d%s%s", emgmm_covariance_type_name(type), d, K,
             c->f32 ? " f32" : "", c->lanes ? " lanes" : "");
    tu_assert_gmm_close(K, d, emgmm_model_weights(m), emgmm_model_means(m), got, w, mu, covf, rtol,
                        what);
    int cnt = 0;
    const double *ml = emgmm_model_lower_bounds(m, &cnt);
    assert_int_equal(cnt, ITERS);
    for (int i = 0; i < ITERS; i++)
        tu_assert_close(ml[i], lbs[i], c->f32 ? 1e-6 : RTOL, 0.0, "%s: lower bound %d", what, i);

    /* the fitted model's marginal densities and posteriors, and its imputations */
    if (!c->f32) {
        double *ld = tu_xmalloc(sizeof(double) * n), *ldr = tu_xmalloc(sizeof(double) * n);
        double *pr = tu_xmalloc(sizeof(double) * n * K), *prr = tu_xmalloc(sizeof(double) * n * K);
        double *im = tu_xmalloc(sizeof(double) * n * d), *imr = tu_xmalloc(sizeof(double) * n * d);
        const double *cm = emgmm_model_covariances(m);
        tb_estep(type, x, n, d, (size_t)d, NULL, K, emgmm_model_weights(m), emgmm_model_means(m),
                 cm, prr, ldr);
        assert_int_equal(tb_impute(type, x, n, d, (size_t)d, K, emgmm_model_weights(m),
                                   emgmm_model_means(m), cm, imr),
                         0);
        assert_int_equal(emgmm_model_missing(m), EMGMM_MISSING_NAN);
        assert_int_equal(emgmm_score_samples(m, &X, ld), EMGMM_OK);
        assert_int_equal(emgmm_predict_proba(m, &X, pr), EMGMM_OK);
        assert_int_equal(emgmm_impute(m, &X, 0, 0, 0, im), EMGMM_OK);
        for (size_t i = 0; i < n; i++) {
            tu_assert_close(ld[i], ldr[i], RTOL, 1.0, "%s: score_samples[%zu]", what, i);
            for (int k = 0; k < K; k++)
                tu_assert_close(pr[i * K + k], prr[i * K + k], RTOL, 1.0, "%s: proba[%zu][%d]",
                                what, i, k);
            for (int j = 0; j < d; j++) {
                if (!isnan(x[i * d + j])) assert_true(im[i * d + j] == x[i * d + j]);
                tu_assert_close(im[i * d + j], imr[i * d + j], RTOL, 1.0, "%s: impute[%zu][%d]",
                                what, i, j);
            }
        }
        /* the same predictions refused when the model is told NaN is an error */
        int has_nan = 0;
        for (size_t i = 0; i < n * d; i++) has_nan |= isnan(x[i]);
        assert_int_equal(emgmm_model_set_missing(m, EMGMM_MISSING_ERROR), EMGMM_OK);
        assert_int_equal(emgmm_score_samples(m, &X, ld), has_nan ? EMGMM_ERR_NONFINITE : EMGMM_OK);
        free(ld);
        free(ldr);
        free(pr);
        free(prr);
        free(im);
        free(imr);
    }
    emgmm_model_free(m);
    free(got);
    free(w);
    free(mu);
    free(covf);
    free(ct);
    free(x);
    free(xf);
    tu_mixture_free(&mix);
}

/* The pass's tuning fields fit_default sets (emgmm_params.pass_kernels,
 * miss_store_max, pattern_cache_max): the white-box tests below force the
 * GEMM and recompute paths through them. */
static int tune_kernels;
static long tune_store, tune_cache;

static void fit_default(const emgmm_data *X, int K, int type, int missing, int iters,
                        emgmm_model **out)
{
    assert_int_equal(emgmm_model_create(out, K, (int)X->d, type), EMGMM_OK);
    emgmm_params p = emgmm_params_default();
    p.missing = missing;
    p.max_iter = iters;
    p.tol = 0.0;
    p.seed = 7;
    p.pass_kernels = tune_kernels;
    p.miss_store_max = tune_store;
    p.pattern_cache_max = tune_cache;
    const int rc = emgmm_fit(*out, &p, X);
    if (rc) fail_msg("fit: %s (%s)", emgmm_strerror(rc), emgmm_model_last_error(*out));
}

/* No NaN: the missing mode runs exactly the ordinary fit. */
static void no_nan_is_bit_identical(void **state)
{
    (void)state;
    for (int type = 0; type < 4; type++) {
        tu_mixture mix;
        tu_rng r;
        tu_rng_seed(&r, 5);
        tu_mixture_make(&mix, &r, 3000, 6, 3, 1.0, 3.0, 2.0);
        const emgmm_data X = emgmm_data_f64(mix.x, mix.n, 6, 6);
        emgmm_model *a, *b;
        fit_default(&X, 3, type, EMGMM_MISSING_ERROR, 20, &a);
        fit_default(&X, 3, type, EMGMM_MISSING_NAN, 20, &b);
        assert_memory_equal(emgmm_model_means(a), emgmm_model_means(b), sizeof(double) * 18);
        assert_memory_equal(emgmm_model_weights(a), emgmm_model_weights(b), sizeof(double) * 3);
        assert_memory_equal(emgmm_model_covariances(a), emgmm_model_covariances(b),
                            sizeof(double) * emgmm_model_covariances_size(a));
        int ca, cb;
        const double *la = emgmm_model_lower_bounds(a, &ca), *lb = emgmm_model_lower_bounds(b, &cb);
        assert_int_equal(ca, cb);
        assert_memory_equal(la, lb, sizeof(double) * ca);
        emgmm_model_free(a);
        emgmm_model_free(b);
        tu_mixture_free(&mix);
    }
}

/* Rows with nothing observed: named as an error, or dropped — then the fit is the fit without
 * them.  Inf stays an error in a missing mode. */
static void empty_rows_and_inf(void **state)
{
    (void)state;
    const int d = 4, K = 2;
    const size_t n = 800;
    tu_mixture mix;
    double *x = make_data(&mix, n, d, K, 0.2, 77, 0);
    for (int j = 0; j < d; j++) x[100 * d + j] = x[517 * d + j] = NAN;
    emgmm_model *m;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    emgmm_params p = emgmm_params_default();
    p.missing = EMGMM_MISSING_NAN;
    emgmm_data X = emgmm_data_f64(x, n, d, d);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NONFINITE);
    long long row = -2;
    emgmm_model_error_location(m, &row, NULL, NULL);
    assert_int_equal(row, 100);
    assert_non_null(strstr(emgmm_model_last_error(m), "row 100 has no observed value"));

    /* drop-empty-rows from a user start == the same start on the data without those rows */
    double w[2] = {0.5, 0.5}, mu[8], cov[32];
    for (int k = 0; k < K; k++)
        for (int a = 0; a < d; a++) {
            mu[k * d + a] = mix.mu[k * d + a] + 0.3;
            for (int b = 0; b < d; b++) cov[k * 16 + a * d + b] = a == b ? 2.0 : 0.3;
        }
    p.missing = EMGMM_MISSING_DROP_EMPTY;
    p.init = EMGMM_INIT_USER;
    p.tol = 0;
    p.max_iter = 15;
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov), EMGMM_OK);
    int rc = emgmm_fit(m, &p, &X);
    if (rc) fail_msg("fit: %s (%s)", emgmm_strerror(rc), emgmm_model_last_error(m));
    double *x2 = tu_xmalloc(sizeof(double) * n * d);
    size_t n2 = 0;
    for (size_t i = 0; i < n; i++)
        if (i != 100 && i != 517) memcpy(x2 + d * n2++, x + i * d, sizeof(double) * d);
    emgmm_model *m2;
    assert_int_equal(emgmm_model_create(&m2, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m2, w, mu, cov), EMGMM_OK);
    p.missing = EMGMM_MISSING_NAN;
    emgmm_data X2 = emgmm_data_f64(x2, n2, d, d);
    assert_int_equal(emgmm_fit(m2, &p, &X2), EMGMM_OK);
    double cf[32], cf2[32];
    memcpy(cf, emgmm_model_covariances(m), sizeof cf);
    memcpy(cf2, emgmm_model_covariances(m2), sizeof cf2);
    tu_assert_gmm_close(K, d, emgmm_model_weights(m), emgmm_model_means(m), cf,
                        emgmm_model_weights(m2), emgmm_model_means(m2), cf2, 1e-10, "dropped rows");
    tu_assert_close(emgmm_model_lower_bound(m), emgmm_model_lower_bound(m2), 1e-10, 0.0,
                    "lower bound");
    /* predictions for an empty row: the weights, and a log-density of 0 */
    double pr[2], ld;
    emgmm_data X1 = emgmm_data_f64(x + 100 * d, 1, d, d);
    assert_int_equal(emgmm_predict_proba(m, &X1, pr), EMGMM_OK);
    tu_assert_close(pr[0], emgmm_model_weights(m)[0], 1e-12, 1.0, "empty-row proba");
    assert_int_equal(emgmm_score_samples(m, &X1, &ld), EMGMM_OK);
    tu_assert_close(ld, 0.0, 1e-12, 1.0, "empty-row log-density");

    /* Inf: an error with its place, in both missing modes */
    x[300 * d + 2] = INFINITY;
    for (int pol = EMGMM_MISSING_NAN; pol <= EMGMM_MISSING_DROP_EMPTY; pol++) {
        p.missing = pol;
        assert_int_equal(emgmm_fit(m2, &p, &X), EMGMM_ERR_NONFINITE);
        long long col = -2;
        emgmm_model_error_location(m2, &row, &col, NULL);
        assert_int_equal(row, 300);
        assert_int_equal(col, 2);
    }
    emgmm_model_free(m);
    emgmm_model_free(m2);
    free(x);
    free(x2);
    tu_mixture_free(&mix);
}

/* The observed-data log-likelihood never decreases, from the default (k-means) init, for every
 * type, with float data too. */
static void loglik_monotone(void **state)
{
    (void)state;
    const int d = 5, K = 3;
    const size_t n = 4000;
    tu_mixture mix;
    double *x = make_data(&mix, n, d, K, 0.3, 11, 1); /* some rows entirely missing */
    float *xf = tu_xmalloc(sizeof(float) * n * d);
    for (size_t i = 0; i < n * d; i++) xf[i] = (float)x[i];
    for (int type = 0; type < 4; type++)
        for (int f32 = 0; f32 < 2; f32++) {
            emgmm_data X = f32 ? emgmm_data_f32(xf, n, d, d) : emgmm_data_f64(x, n, d, d);
            emgmm_model *m;
            fit_default(&X, K, type, EMGMM_MISSING_DROP_EMPTY, 60, &m);
            int cnt;
            const double *lb = emgmm_model_lower_bounds(m, &cnt);
            assert_int_equal(cnt, 60);
            for (int i = 1; i < cnt; i++)
                if (lb[i] < lb[i - 1] - (f32 ? 1e-6 : 1e-12) * fabs(lb[i - 1]))
                    fail_msg("%s f32=%d: lower bound fell at iteration %d: %.17g -> %.17g",
                             emgmm_covariance_type_name(type), f32, i + 1, lb[i - 1], lb[i]);
            emgmm_model_free(m);
        }
    free(x);
    free(xf);
    tu_mixture_free(&mix);
}

/* Matches fitted components to the truth by nearest mean. */
static double mean_err(const emgmm_model *m, const tu_mixture *mix, double *cov_err)
{
    const int d = mix->d, K = mix->K;
    double e = 0.0, ce = 0.0;
    for (int t = 0; t < K; t++) {
        int best = 0;
        double bd = INFINITY;
        for (int k = 0; k < K; k++) {
            double s = 0.0;
            for (int j = 0; j < d; j++) {
                const double df = emgmm_model_means(m)[k * d + j] - mix->mu[t * d + j];
                s += df * df;
            }
            if (s < bd) {
                bd = s;
                best = k;
            }
        }
        e += sqrt(bd);
        const double *c = emgmm_model_covariances(m) + (size_t)best * d * d;
        for (int q = 0; q < d * d; q++) {
            const double df = c[q] - mix->cov[(size_t)t * d * d + q];
            ce += df * df;
        }
    }
    *cov_err = sqrt(ce);
    return e;
}

static void recovery_beats_mean_imputation(void **state)
{
    (void)state;
    const int d = 4, K = 3;
    const size_t n = 20000;
    tu_mixture mix;
    double *x = make_data(&mix, n, d, K, 0.2, 2024, 0);
    /* mean-imputed copy */
    double *xm = tu_xmalloc(sizeof(double) * n * d), colm[4] = {0}, cnt[4] = {0};
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            if (!isnan(x[i * d + j])) {
                colm[j] += x[i * d + j];
                cnt[j] += 1;
            }
    for (int j = 0; j < d; j++) colm[j] /= cnt[j];
    for (size_t i = 0; i < n * d; i++) xm[i] = isnan(x[i]) ? colm[i % d] : x[i];
    emgmm_data Xc = emgmm_data_f64(mix.x, n, d, d), Xn = emgmm_data_f64(x, n, d, d),
               Xm = emgmm_data_f64(xm, n, d, d);
    emgmm_model *mc, *mn, *mm;
    fit_default(&Xc, K, EMGMM_COV_FULL, EMGMM_MISSING_ERROR, 200, &mc);
    fit_default(&Xn, K, EMGMM_COV_FULL, EMGMM_MISSING_NAN, 200, &mn);
    fit_default(&Xm, K, EMGMM_COV_FULL, EMGMM_MISSING_ERROR, 200, &mm);
    double cc, cn, cm;
    const double ec = mean_err(mc, &mix, &cc), en = mean_err(mn, &mix, &cn),
                 em = mean_err(mm, &mix, &cm);
    print_message("mean error vs truth: complete %.4f, missing-EM %.4f, mean-imputed %.4f\n", ec,
                  en, em);
    print_message("covariance error:    complete %.4f, missing-EM %.4f, mean-imputed %.4f\n", cc,
                  cn, cm);
    assert_true(en < 0.5 * em);
    assert_true(cn < 0.5 * cm);
    assert_true(en < ec + 0.1 && cn < cc + 0.3); /* close to what complete data gives */

    /* imputations: conditional expectations beat column means, draws are deterministic */
    double *im = tu_xmalloc(sizeof(double) * n * d), *im2 = tu_xmalloc(sizeof(double) * n * d);
    assert_int_equal(emgmm_impute(mn, &Xn, 0, 0, 0, im), EMGMM_OK);
    double se = 0.0, sm = 0.0;
    size_t nm = 0;
    for (size_t i = 0; i < n * d; i++)
        if (isnan(x[i])) {
            se += (im[i] - mix.x[i]) * (im[i] - mix.x[i]);
            sm += (xm[i] - mix.x[i]) * (xm[i] - mix.x[i]);
            nm++;
        }
    print_message("imputation RMSE: conditional %.4f, column mean %.4f (%zu entries)\n",
                  sqrt(se / nm), sqrt(sm / nm), nm);
    assert_true(se < 0.7 * sm);
    assert_int_equal(emgmm_impute(mn, &Xn, 1, 42, 0, im), EMGMM_OK);
    emgmm_model_set_n_threads(mn, 1);
    assert_int_equal(emgmm_impute(mn, &Xn, 1, 42, 0, im2), EMGMM_OK);
    assert_memory_equal(im, im2, sizeof(double) * n * d);
    /* block by block with row0 = the block's first row: the same draws */
    for (size_t i0 = 0; i0 < n; i0 += 777) {
        const size_t rows = n - i0 < 777 ? n - i0 : 777;
        emgmm_data B = emgmm_data_f64(x + i0 * d, rows, d, d);
        assert_int_equal(emgmm_impute(mn, &B, 1, 42, i0, im2 + i0 * d), EMGMM_OK);
    }
    assert_memory_equal(im, im2, sizeof(double) * n * d);
    assert_int_equal(emgmm_impute(mn, &Xn, 1, 43, 0, im2), EMGMM_OK);
    assert_true(memcmp(im, im2, sizeof(double) * n * d) != 0);
    /* a draw's error is larger than the conditional mean's, but of the right size: the
     * mean squared error of a draw is (error of the mean)² + conditional variance, i.e. about
     * twice the mean's MSE; anything far from that means a wrong conditional spread */
    double sd = 0.0;
    for (size_t i = 0; i < n * d; i++)
        if (isnan(x[i])) sd += (im[i] - mix.x[i]) * (im[i] - mix.x[i]);
    print_message("draw MSE / conditional-mean MSE = %.3f\n", sd / se);
    assert_true(sd / se > 1.6 && sd / se < 2.4);
    emgmm_model_free(mc);
    emgmm_model_free(mn);
    emgmm_model_free(mm);
    free(im);
    free(im2);
    free(x);
    free(xm);
    tu_mixture_free(&mix);
}

/* The paths taken when the per-block store or the pattern cache is full (forced here through
 * the params' tuning fields) give the same fit: for tied, bit for bit without the cache (the
 * same arithmetic); for full, without the cache every row takes the vector-lane path instead
 * of the cached per-pattern factors (other arithmetic), the same to 1e-12; and to 1e-12 when
 * the M-step recomputes the conditional moments. */
static void fallback_paths_agree(void **state)
{
    (void)state;
    const int d = 7, K = 3;
    const size_t n = 1500;
    tu_mixture mix;
    double *x = make_data(&mix, n, d, K, 0.35, 321, 1);
    const emgmm_data X = emgmm_data_f64(x, n, d, d);
    for (int type = EMGMM_COV_FULL; type <= EMGMM_COV_TIED; type++) {
        emgmm_model *a, *b, *c;
        fit_default(&X, K, type, EMGMM_MISSING_DROP_EMPTY, 25, &a);
        tune_cache = -1;
        fit_default(&X, K, type, EMGMM_MISSING_DROP_EMPTY, 25, &b);
        tune_cache = 0;
        tune_store = -1;
        fit_default(&X, K, type, EMGMM_MISSING_DROP_EMPTY, 25, &c);
        tune_store = 0;
        const size_t cl = emgmm_model_covariances_size(a);
        if (type == EMGMM_COV_TIED) {
            assert_memory_equal(emgmm_model_means(a), emgmm_model_means(b),
                                sizeof(double) * K * d);
            assert_memory_equal(emgmm_model_covariances(a), emgmm_model_covariances(b),
                                sizeof(double) * cl);
        }
        for (int q = 0; q < K * d; q++)
            tu_assert_close(emgmm_model_means(b)[q], emgmm_model_means(a)[q], 1e-12, 1.0,
                            "lane-path mean %d", q);
        for (size_t q = 0; q < cl; q++)
            tu_assert_close(emgmm_model_covariances(b)[q], emgmm_model_covariances(a)[q], 1e-12,
                            1.0, "lane-path covariance %zu", q);
        for (int q = 0; q < K * d; q++)
            tu_assert_close(emgmm_model_means(c)[q], emgmm_model_means(a)[q], 1e-12, 1.0,
                            "recomputed mean %d", q);
        for (size_t q = 0; q < cl; q++)
            tu_assert_close(emgmm_model_covariances(c)[q], emgmm_model_covariances(a)[q], 1e-12,
                            1.0, "recomputed covariance %zu", q);
        emgmm_model_free(a);
        emgmm_model_free(b);
        emgmm_model_free(c);
    }
    free(x);
    tu_mixture_free(&mix);
}

/* The full family's rows on the cached-pattern path (the pattern's factors laid out
 * for the lanes), with more distinct patterns than the pass's first 256 (cache hits extend
 * that budget), with a cache that fills part-way through a pass (later new patterns take the
 * lanes) and with the M-step recomputing t from the cached factors: the same fit to 1e-12 as
 * every row on the lane path (no cache).  K = 11: a second group of 8 with 5 padding lanes. */
static void cached_lane_paths_agree(void **state)
{
    (void)state;
    const int d = 12, K = 11;
    const size_t n = 4000;
    tu_mixture mix;
    double *x = make_data(&mix, n, d, K, 0.3, 4242, 1);
    const emgmm_data X = emgmm_data_f64(x, n, d, d);
    emgmm_model *ref, *alt;
    tune_cache = -1;
    fit_default(&X, K, EMGMM_COV_FULL, EMGMM_MISSING_DROP_EMPTY, 12, &ref);
    const size_t cl = emgmm_model_covariances_size(ref);
    const long caches[] = {0, 0, 2000};
    const long stores[] = {0, -1, 0};
    for (int c = 0; c < 3; c++) {
        tune_cache = caches[c];
        tune_store = stores[c];
        fit_default(&X, K, EMGMM_COV_FULL, EMGMM_MISSING_DROP_EMPTY, 12, &alt);
        for (int q = 0; q < K * d; q++)
            tu_assert_close(emgmm_model_means(alt)[q], emgmm_model_means(ref)[q], 1e-12, 1.0,
                            "case %d mean %d", c, q);
        for (size_t q = 0; q < cl; q++)
            tu_assert_close(emgmm_model_covariances(alt)[q], emgmm_model_covariances(ref)[q],
                            1e-12, 1.0, "case %d covariance %zu", c, q);
        for (int q = 0; q < K; q++)
            tu_assert_close(emgmm_model_weights(alt)[q], emgmm_model_weights(ref)[q], 1e-12, 1.0,
                            "case %d weight %d", c, q);
        emgmm_model_free(alt);
    }
    tune_cache = 0;
    tune_store = 0;
    emgmm_model_free(ref);
    free(x);
    tu_mixture_free(&mix);
}

/* The E-step kernels (fused for d <= 4, triangular above; triangular for any
 * d in float32) and the triangular M-step kernel give the same fit as the GEMM
 * path to rounding, for full and tied, with and without missing values
 * (pass_kernels = EMGMM_KERNELS_GEMM forces the GEMM path for both steps,
 * EMGMM_KERNELS_GEMM_MSTEP for the M-step alone).  d crosses the kernels' groups of 8 columns and 16 lanes. */
static void kernels_match_gemm_path(void **state)
{
    (void)state;
    const int dims[] = {1, 3, 16, 17, 24, 37};
    for (int q = 0; q < 6; q++)
        for (int frac10 = 0; frac10 <= 2; frac10 += 2)
            for (int f32 = 0; f32 < 2; f32++) {
                const int d = dims[q], K = 3,
                          type = (q + frac10 / 2) % 2 ? EMGMM_COV_TIED : EMGMM_COV_FULL;
                const size_t n = 2500;
                tu_mixture mix;
                double *x = make_data(&mix, n, d, K, frac10 / 10.0, 99 + (uint64_t)d, 0);
                float *xf = malloc(n * (size_t)d * sizeof(float));
                assert_non_null(xf);
                for (size_t i = 0; i < n * (size_t)d; i++) xf[i] = (float)x[i];
                const emgmm_data X = f32 ? emgmm_data_f32(xf, n, d, d) : emgmm_data_f64(x, n, d, d);
                emgmm_model *a, *b, *c;
                fit_default(&X, K, type, EMGMM_MISSING_NAN, 15, &a);
                tune_kernels = EMGMM_KERNELS_GEMM;
                fit_default(&X, K, type, EMGMM_MISSING_NAN, 15, &b);
                tune_kernels = EMGMM_KERNELS_AUTO;
                tune_kernels = EMGMM_KERNELS_GEMM_MSTEP;
                fit_default(&X, K, type, EMGMM_MISSING_NAN, 15, &c);
                tune_kernels = EMGMM_KERNELS_AUTO;
                /* float64: the paths agree to rounding.  float32: each path's products
                 * round at 6e-8 in its own order, so each is held to the float64 fit
                 * instead, all three to the same bound. */
                emgmm_model *ref = b;
                if (f32) {
                    const emgmm_data X64 = emgmm_data_f64(x, n, d, d);
                    fit_default(&X64, K, type, EMGMM_MISSING_NAN, 15, &ref);
                }
                const double tol = f32 ? 1e-5 : 1e-11, tlb = f32 ? 1e-6 : 1e-13;
                emgmm_model *const cmp[3] = {a, c, f32 ? b : NULL};
                for (int t = 0; t < 3 && cmp[t]; t++) {
                    const emgmm_model *o = cmp[t];
                    for (int i = 0; i < K * d; i++)
                        tu_assert_close(emgmm_model_means(o)[i], emgmm_model_means(ref)[i], tol,
                                        1.0, "d=%d f32=%d path %d: mean %d", d, f32, t, i);
                    for (size_t i = 0; i < emgmm_model_covariances_size(a); i++)
                        tu_assert_close(emgmm_model_covariances(o)[i],
                                        emgmm_model_covariances(ref)[i], tol, 1.0,
                                        "d=%d f32=%d path %d: covariance %zu", d, f32, t, i);
                    tu_assert_close(emgmm_model_lower_bound(o), emgmm_model_lower_bound(ref), tlb,
                                    0.0, "d=%d f32=%d path %d: lower bound", d, f32, t);
                }
                if (ref != b) emgmm_model_free(ref);
                emgmm_model_free(a);
                emgmm_model_free(b);
                emgmm_model_free(c);
                free(xf);
                free(x);
                tu_mixture_free(&mix);
            }
}

int main(void)
{
    static const tb_case cases[] = {
        {EMGMM_COV_FULL, 5, 3, 500, 0.25, 0, 0},  {EMGMM_COV_TIED, 5, 3, 500, 0.25, 0, 0},
        {EMGMM_COV_DIAG, 5, 3, 500, 0.25, 0, 0},  {EMGMM_COV_SPHERICAL, 5, 3, 500, 0.25, 0, 0},
        {EMGMM_COV_FULL, 17, 2, 400, 0.4, 0, 0},  {EMGMM_COV_FULL, 1, 2, 300, 0.0, 0, 0},
        {EMGMM_COV_FULL, 6, 3, 600, 0.15, 1, 0},  {EMGMM_COV_DIAG, 6, 3, 600, 0.15, 1, 0},
        {EMGMM_COV_FULL, 48, 2, 400, 0.85, 0, 0}, /* many missing per row (m up to 48) */
        /* full, K = 11: a second group of 8 lanes (missing_impl.h) with 5 padding lanes */
        {EMGMM_COV_FULL, 9, 11, 900, 0.3, 0, 0},
        /* full, m above EMGMM_MISS_LANE_MAX (128) on some rows: the per-pattern path */
        {EMGMM_COV_FULL, 131, 2, 120, 0.985, 0, 0},
        /* the same full cases with every eligible row on the lane path (no pattern cache;
         * with it, rows whose pattern is cached take the per-pattern factors) */
        {EMGMM_COV_FULL, 5, 3, 500, 0.25, 0, 1},
        {EMGMM_COV_FULL, 17, 2, 400, 0.4, 0, 1},
        {EMGMM_COV_FULL, 6, 3, 600, 0.15, 1, 1},
        {EMGMM_COV_FULL, 48, 2, 400, 0.85, 0, 1},
        {EMGMM_COV_FULL, 9, 11, 900, 0.3, 0, 1},
        {EMGMM_COV_FULL, 131, 2, 120, 0.985, 0, 1},
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[0]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[1]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[2]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[3]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[4]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[5]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[6]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[7]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[8]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[9]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[10]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[11]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[12]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[13]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[14]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[15]),
        cmocka_unit_test_prestate(agrees_with_textbook, (void *)&cases[16]),
        cmocka_unit_test(no_nan_is_bit_identical),
        cmocka_unit_test(fallback_paths_agree),
        cmocka_unit_test(cached_lane_paths_agree),
        cmocka_unit_test(kernels_match_gemm_path),
        cmocka_unit_test(empty_rows_and_inf),
        cmocka_unit_test(loglik_monotone),
        cmocka_unit_test(recovery_beats_mean_imputation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
