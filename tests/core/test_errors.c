/* test_errors.c — every documented failure is provoked on purpose and its status asserted:
 * bad sizes, NaN/Inf in the data (with row and column), NULL pointers, bad user parameters,
 * covariances that stop being positive definite, shape mismatches, bad params, unfitted models;
 * a failed fit leaves the model as it was, and not converging is not an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>

#include "../common/tu.h"
#include "emgmm.h"

/* A small well-behaved data set: n rows of d features from a 2-component mixture. */
static double *small_data(size_t n, int d, uint64_t seed)
{
    tu_rng r;
    tu_rng_seed(&r, seed);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, n, d, 2, 1.0, 6.0, 5.0);
    double *x = mix.x;
    mix.x = NULL;
    tu_mixture_free(&mix);
    return x;
}

static emgmm_model *new_model(int K, int d)
{
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_non_null(m);
    return m;
}

static void strerror_names_every_status_distinctly(void **state)
{
    (void)state;
    for (int s = EMGMM_OK; s <= EMGMM_ERR_TOO_LARGE; s++) {
        const char *a = emgmm_strerror(s);
        assert_non_null(a);
        assert_true(strlen(a) > 0);
        for (int t = EMGMM_OK; t < s; t++) assert_string_not_equal(a, emgmm_strerror(t));
    }
    assert_string_equal(emgmm_strerror(-7), "unknown emgmm status");
    assert_string_equal(emgmm_strerror(2385), "unknown emgmm status");
}

static void create_rejects_zero_components_and_features(void **state)
{
    (void)state;
    emgmm_model *m = (emgmm_model *)&m; /* not NULL, so that the reset to NULL is observable */
    assert_int_equal(emgmm_model_create(&m, 0, 3, EMGMM_COV_FULL), EMGMM_ERR_NO_COMPONENTS);
    assert_null(m);
    m = (emgmm_model *)&m;
    assert_int_equal(emgmm_model_create(&m, -3, 3, EMGMM_COV_FULL), EMGMM_ERR_NO_COMPONENTS);
    assert_null(m);
    m = (emgmm_model *)&m;
    assert_int_equal(emgmm_model_create(&m, 3, 0, EMGMM_COV_FULL), EMGMM_ERR_NO_FEATURES);
    assert_null(m);
    m = (emgmm_model *)&m;
    assert_int_equal(emgmm_model_create(&m, 3, 2, 17), EMGMM_ERR_INVALID_PARAM);
    assert_null(m);
    assert_int_equal(emgmm_model_create(NULL, 3, 2, EMGMM_COV_FULL), EMGMM_ERR_NULL);
}

static void fit_rejects_fewer_samples_than_components(void **state)
{
    (void)state;
    double *x = small_data(4, 2, 11);
    emgmm_model *m = new_model(5, 2);
    const emgmm_params p = emgmm_params_default();
    const emgmm_data X = emgmm_data_f64(x, 4, 2, 2);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_TOO_FEW_SAMPLES);
    assert_false(emgmm_model_is_fitted(m));
    emgmm_model_free(m);
    free(x);
}

/* The first non-finite value in row-major order is reported, whatever follows it. */
static void fit_reports_first_nonfinite_row_and_column(void **state)
{
    (void)state;
    const size_t n = 120;
    const int d = 5;
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (int b = 0; b < 3; b++) {
        double *x = small_data(n, d, 12);
        x[37 * d + 2] = bad[b];
        x[37 * d + 4] = INFINITY;
        x[80 * d + 0] = NAN;
        emgmm_model *m = new_model(2, d);
        const emgmm_params p = emgmm_params_default();
        const emgmm_data X = emgmm_data_f64(x, n, (size_t)d, (size_t)d);
        assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NONFINITE);
        long long row = -2, col = -2;
        int comp = -2;
        emgmm_model_error_location(m, &row, &col, &comp);
        assert_int_equal(row, 37);
        assert_int_equal(col, 2);
        assert_int_equal(comp, -1);
        /* the header's example: "data contains NaN or Inf at row 12, column 3" */
        assert_non_null(strstr(emgmm_model_last_error(m), "row 37"));
        assert_non_null(strstr(emgmm_model_last_error(m), "column 2"));
        emgmm_model_error_location(m, NULL, NULL, NULL); /* any pointer may be NULL */
        emgmm_model_free(m);
        free(x);
    }
}

static void fit_reports_nonfinite_in_float32_data(void **state)
{
    (void)state;
    const size_t n = 90;
    const int d = 3;
    double *x = small_data(n, d, 13);
    float *xf = tu_xmalloc(sizeof(float) * n * d);
    for (size_t i = 0; i < n * d; i++) xf[i] = (float)x[i];
    xf[(n - 1) * d + 1] = -INFINITY; /* the very last row: no block may skip it */
    emgmm_model *m = new_model(2, d);
    const emgmm_params p = emgmm_params_default();
    const emgmm_data X = emgmm_data_f32(xf, n, (size_t)d, (size_t)d);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NONFINITE);
    long long row = -2, col = -2;
    emgmm_model_error_location(m, &row, &col, NULL);
    assert_int_equal(row, (long long)n - 1);
    assert_int_equal(col, 1);
    emgmm_model_free(m);
    free(xf);
    free(x);
}

static void null_pointers_are_rejected(void **state)
{
    (void)state;
    const size_t n = 60;
    double *x = small_data(n, 2, 14);
    emgmm_model *m = new_model(2, 2);
    const emgmm_params p = emgmm_params_default();
    const emgmm_data X = emgmm_data_f64(x, n, 2, 2);
    const emgmm_data Xnull = emgmm_data_f64(NULL, n, 2, 2);
    assert_int_equal(emgmm_fit(NULL, &p, &X), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_fit(m, NULL, &X), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_fit(m, &p, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_fit(m, &p, &Xnull), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_fit_init(m, &p, NULL), EMGMM_ERR_NULL);

    const double w[2] = {0.385, 0.615}, mu[4] = {0.0, 1.0, 2.385, 3.0};
    const double cov[8] = {1.0, 0.25, 0.25, 2.0, 1.5, 0.0, 0.0, 0.5};
    assert_int_equal(emgmm_model_set_parameters(NULL, w, mu, cov), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_model_set_parameters(m, NULL, mu, cov), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_model_set_parameters(m, w, NULL, cov), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, NULL), EMGMM_ERR_NULL);

    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
    int32_t labels[60];
    double s;
    assert_int_equal(emgmm_predict(m, &X, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_predict(NULL, &X, labels), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_predict(m, NULL, labels), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_predict(m, &Xnull, labels), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_predict_proba(m, &X, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_score_samples(m, &X, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_score(m, &X, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_bic(m, &X, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_aic(m, NULL, &s), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_sample(m, 10, 7, NULL, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_model_copy(NULL, m), EMGMM_ERR_NULL);
    emgmm_model *c = (emgmm_model *)&c;
    assert_int_equal(emgmm_model_copy(&c, NULL), EMGMM_ERR_NULL);
    emgmm_model_free(NULL); /* accepted, does nothing */
    emgmm_model_free(m);
    free(x);
}

/* set_parameters validates what a user hands in; a failure leaves the model unfitted. */
static void set_parameters_rejects_invalid_user_model(void **state)
{
    (void)state;
    emgmm_model *m = new_model(2, 2);
    const double w[2] = {0.385, 0.615}, mu[4] = {0.0, 1.0, 2.385, 3.0};
    const double cov_ok[8] = {1.0, 0.25, 0.25, 2.0, 1.5, 0.0, 0.0, 0.5};
    /* second covariance indefinite: eigenvalues of [[1, 2], [2, 1]] are 3 and -1 */
    const double cov_indef[8] = {1.0, 0.25, 0.25, 2.0, 1.0, 2.0, 2.0, 1.0};
    /* singular: [[1, 1], [1, 1]] */
    const double cov_sing[8] = {1.0, 1.0, 1.0, 1.0, 1.5, 0.0, 0.0, 0.5};
    const double cov_asym[8] = {1.0, 0.25, 0.35, 2.0, 1.5, 0.0, 0.0, 0.5};
    const double cov_nan[8] = {1.0, 0.25, 0.25, 2.0, 1.5, 0.0, 0.0, NAN};
    const double w_neg[2] = {-0.385, 1.385}, w_sum[2] = {0.385, 0.7}, w_nan[2] = {NAN, 0.5};
    const double mu_inf[4] = {0.0, INFINITY, 2.385, 3.0};
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov_indef), EMGMM_ERR_BAD_INIT);
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov_sing), EMGMM_ERR_BAD_INIT);
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov_asym), EMGMM_ERR_BAD_INIT);
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov_nan), EMGMM_ERR_BAD_INIT);
    assert_int_equal(emgmm_model_set_parameters(m, w_neg, mu, cov_ok), EMGMM_ERR_BAD_INIT);
    assert_int_equal(emgmm_model_set_parameters(m, w_sum, mu, cov_ok), EMGMM_ERR_BAD_INIT);
    assert_int_equal(emgmm_model_set_parameters(m, w_nan, mu, cov_ok), EMGMM_ERR_BAD_INIT);
    assert_int_equal(emgmm_model_set_parameters(m, w, mu_inf, cov_ok), EMGMM_ERR_BAD_INIT);
    assert_true(strlen(emgmm_model_last_error(m)) > 0);
    assert_false(emgmm_model_is_fitted(m));
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov_ok), EMGMM_OK);
    assert_true(emgmm_model_is_fitted(m));
    assert_int_equal(emgmm_model_n_iter(m), 0);
    assert_false(emgmm_model_converged(m));
    emgmm_model_free(m);
}

/* The documented tolerances of set_parameters: weights summing to 1 within 1e-9 are accepted
 * and renormalised, 2e-9 off is rejected; covariances symmetric to 1e-10 relative pass, 1e-8
 * asymmetry does not. */
static void set_parameters_tolerances_are_as_documented(void **state)
{
    (void)state;
    emgmm_model *m = new_model(2, 2);
    const double mu[4] = {0.0, 1.0, 2.385, 3.0};
    const double cov_ok[8] = {1.0, 0.25, 0.25, 2.0, 1.5, 0.0, 0.0, 0.5};
    const double w_close[2] = {0.385, 0.615 + 5e-10}, w_far[2] = {0.385, 0.615 + 2e-9};
    assert_int_equal(emgmm_model_set_parameters(m, w_far, mu, cov_ok), EMGMM_ERR_BAD_INIT);
    assert_int_equal(emgmm_model_set_parameters(m, w_close, mu, cov_ok), EMGMM_OK);
    const double *w = emgmm_model_weights(m);
    tu_assert_close(w[0] + w[1], 1.0, 4.0 * DBL_EPSILON, 0.0, "renormalised weights sum");
    tu_assert_close(w[0], 0.385 / (1.0 + 5e-10), 4.0 * DBL_EPSILON, 0.0, "renormalised weight 0");
    double cov_tiny[8], cov_big[8];
    memcpy(cov_tiny, cov_ok, sizeof cov_ok);
    memcpy(cov_big, cov_ok, sizeof cov_ok);
    cov_tiny[2] = 0.25 * (1.0 + 1e-12);
    cov_big[2] = 0.25 * (1.0 + 1e-8);
    assert_int_equal(emgmm_model_set_parameters(m, w_close, mu, cov_big), EMGMM_ERR_BAD_INIT);
    assert_int_equal(emgmm_model_set_parameters(m, w_close, mu, cov_tiny), EMGMM_OK);
    emgmm_model_free(m);
}

/* n = K is the smallest legal problem: every component gets one row (covariance reg_covar·I). */
static void fit_accepts_as_many_samples_as_components(void **state)
{
    (void)state;
    double *x = small_data(4, 2, 23);
    emgmm_model *m = new_model(4, 2);
    emgmm_params p = emgmm_params_default();
    p.max_iter = 5;
    const emgmm_data X = emgmm_data_f64(x, 4, 2, 2);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
    assert_true(emgmm_model_is_fitted(m));
    emgmm_model_free(m);
    free(x);
}

/* init = user on a model that was never given parameters has nothing to start from. */
static void user_init_without_parameters_is_bad_init(void **state)
{
    (void)state;
    double *x = small_data(50, 2, 15);
    emgmm_model *m = new_model(2, 2);
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_USER;
    const emgmm_data X = emgmm_data_f64(x, 50, 2, 2);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_BAD_INIT);
    assert_false(emgmm_model_is_fitted(m));
    emgmm_model_free(m);
    free(x);
}

/* Component 1 owns every row whose third feature is exactly 0; component 0's rows are 1000
 * apart, so their responsibilities for component 1 underflow to exactly 0.  With reg_covar = 0
 * the M-step gives component 1 a zero variance: not PD, and it is component 1, not 0. */
static void zero_variance_without_reg_covar_is_not_pd_with_component(void **state)
{
    (void)state;
    const size_t n = 200;
    const int d = 3;
    tu_rng r;
    tu_rng_seed(&r, 16);
    double *x = tu_xmalloc(sizeof(double) * n * d);
    for (size_t i = 0; i < n; i++) {
        const int k = (int)(i % 2);
        x[i * d + 0] = (k ? -500.0 : 500.0) + 1.3 * tu_normal(&r);
        x[i * d + 1] = 2.385 + 0.7 * tu_normal(&r);
        x[i * d + 2] = k ? 0.0 : 1.1 * tu_normal(&r);
    }
    emgmm_model *m = new_model(2, d);
    const double w[2] = {0.5, 0.5}, mu[6] = {500.0, 2.385, 0.0, -500.0, 2.385, 0.0};
    const double cov[18] = {2.0, 0, 0, 0, 0.5, 0, 0, 0, 1.0, 2.0, 0, 0, 0, 0.5, 0, 0, 0, 1.0};
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov), EMGMM_OK);
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_USER;
    p.reg_covar = 0.0;
    p.degenerate = EMGMM_DEGEN_ERROR; /* the policy that reports it (reseed: tests/degenerate) */
    const emgmm_data X = emgmm_data_f64(x, n, (size_t)d, (size_t)d);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NOT_PD);
    int comp = -2;
    emgmm_model_error_location(m, NULL, NULL, &comp);
    assert_int_equal(comp, 1);
    /* the message says what to try (issue 2: raise reg_covar, ...) */
    assert_non_null(strstr(emgmm_model_last_error(m), "reg_covar"));
    /* nothing half-done: the user's parameters are still in place */
    assert_memory_equal(emgmm_model_covariances(m), cov, sizeof cov);
    assert_memory_equal(emgmm_model_means(m), mu, sizeof mu);
    /* one step at a time: fit_iterate fails the same way and leaves the model as it was */
    assert_int_equal(emgmm_fit_init(m, &p, &X), EMGMM_OK);
    double lb = 2.385;
    assert_int_equal(emgmm_fit_iterate(m, &p, &X, &lb), EMGMM_ERR_NOT_PD);
    comp = -2;
    emgmm_model_error_location(m, NULL, NULL, &comp);
    assert_int_equal(comp, 1);
    assert_int_equal(emgmm_model_n_iter(m), 0);
    assert_memory_equal(emgmm_model_covariances(m), cov, sizeof cov);
    assert_memory_equal(emgmm_model_means(m), mu, sizeof mu);
    /* the default reg_covar rescues the same data */
    p.reg_covar = 1e-6;
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
    emgmm_model_free(m);
    free(x);
}

/* A feature that is exactly constant everywhere, default (k-means) init, reg_covar = 0. */
static void constant_feature_without_reg_covar_is_not_pd(void **state)
{
    (void)state;
    const size_t n = 150;
    const int d = 2;
    double *x = small_data(n, d, 17);
    for (size_t i = 0; i < n; i++) x[i * d + 1] = 0.0;
    emgmm_model *m = new_model(2, d);
    emgmm_params p = emgmm_params_default();
    p.reg_covar = 0.0;
    const emgmm_data X = emgmm_data_f64(x, n, (size_t)d, (size_t)d);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NOT_PD);
    int comp = -2;
    emgmm_model_error_location(m, NULL, NULL, &comp);
    assert_true(comp >= 0 && comp < 2);
    assert_false(emgmm_model_is_fitted(m));
    emgmm_model_free(m);
    free(x);
}

static void shape_mismatch_and_short_leading_dimension_are_rejected(void **state)
{
    (void)state;
    const size_t n = 80;
    double *x = small_data(n, 3, 18);
    emgmm_model *m = new_model(2, 3);
    const emgmm_params p = emgmm_params_default();
    const emgmm_data short_ld = emgmm_data_f64(x, n, 3, 2);
    assert_int_equal(emgmm_fit(m, &p, &short_ld), EMGMM_ERR_SHAPE);
    const emgmm_data wrong_d = emgmm_data_f64(x, n, 2, 3);
    assert_int_equal(emgmm_fit(m, &p, &wrong_d), EMGMM_ERR_SHAPE);
    const emgmm_data X = emgmm_data_f64(x, n, 3, 3);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
    int32_t *labels = tu_xmalloc(sizeof(int32_t) * n);
    double s;
    assert_int_equal(emgmm_predict(m, &short_ld, labels), EMGMM_ERR_SHAPE);
    assert_int_equal(emgmm_predict(m, &wrong_d, labels), EMGMM_ERR_SHAPE);
    assert_int_equal(emgmm_score(m, &wrong_d, &s), EMGMM_ERR_SHAPE);
    free(labels);
    emgmm_model_free(m);
    free(x);
}

typedef void (*params_breaker)(emgmm_params *);
static void bad_tol(emgmm_params *p) { p->tol = -1e-3; }
static void nan_tol(emgmm_params *p) { p->tol = NAN; }
static void bad_reg(emgmm_params *p) { p->reg_covar = -2.385e-6; }
static void nan_reg(emgmm_params *p) { p->reg_covar = NAN; }
static void bad_max_iter(emgmm_params *p) { p->max_iter = 0; }
static void bad_n_init(emgmm_params *p) { p->n_init = 0; }
static void bad_init_hi(emgmm_params *p) { p->init = EMGMM_INIT_SMEM + 1; } /* one past the last */
static void bad_init_lo(emgmm_params *p) { p->init = -1; }
static void bad_threads(emgmm_params *p) { p->n_threads = -2; }
static void bad_block(emgmm_params *p) { p->block_size = -256; }
static void bad_kmeans_iter(emgmm_params *p) { p->kmeans_max_iter = 0; }
static void bad_kmeans_tol(emgmm_params *p) { p->kmeans_tol = -1e-4; }

static void out_of_range_params_are_invalid(void **state)
{
    (void)state;
    const params_breaker breakers[] = {bad_tol,      nan_tol,    bad_reg,         nan_reg,
                                       bad_max_iter, bad_n_init, bad_init_hi,     bad_init_lo,
                                       bad_threads,  bad_block,  bad_kmeans_iter, bad_kmeans_tol};
    double *x = small_data(60, 2, 19);
    const emgmm_data X = emgmm_data_f64(x, 60, 2, 2);
    emgmm_params ok = emgmm_params_default();
    assert_int_equal(emgmm_params_validate(&ok), EMGMM_OK);
    for (size_t b = 0; b < sizeof breakers / sizeof breakers[0]; b++) {
        emgmm_params p = emgmm_params_default();
        breakers[b](&p);
        if (emgmm_params_validate(&p) != EMGMM_ERR_INVALID_PARAM)
            fail_msg("params_validate accepts breaker %zu", b);
        emgmm_model *m = new_model(2, 2);
        if (emgmm_fit(m, &p, &X) != EMGMM_ERR_INVALID_PARAM) fail_msg("fit accepts breaker %zu", b);
        emgmm_model_free(m);
    }
    free(x);
}

static void unfitted_model_refuses_predictions(void **state)
{
    (void)state;
    double *x = small_data(40, 2, 20);
    emgmm_model *m = new_model(3, 2);
    const emgmm_data X = emgmm_data_f64(x, 40, 2, 2);
    int32_t labels[40];
    double buf[120], s;
    assert_false(emgmm_model_is_fitted(m));
    assert_int_equal(emgmm_predict(m, &X, labels), EMGMM_ERR_NOT_FITTED);
    assert_int_equal(emgmm_predict_proba(m, &X, buf), EMGMM_ERR_NOT_FITTED);
    assert_int_equal(emgmm_score_samples(m, &X, buf), EMGMM_ERR_NOT_FITTED);
    assert_int_equal(emgmm_score(m, &X, &s), EMGMM_ERR_NOT_FITTED);
    assert_int_equal(emgmm_bic(m, &X, &s), EMGMM_ERR_NOT_FITTED);
    assert_int_equal(emgmm_aic(m, &X, &s), EMGMM_ERR_NOT_FITTED);
    assert_int_equal(emgmm_sample(m, 5, 1, buf, NULL), EMGMM_ERR_NOT_FITTED);
    assert_true(isinf(emgmm_model_lower_bound(m)) && emgmm_model_lower_bound(m) < 0);
    emgmm_model_free(m);
    free(x);
}

/* A failed fit on a fitted model keeps the parameters it had, byte for byte. */
static void failed_fit_keeps_previous_model(void **state)
{
    (void)state;
    const size_t n = 100;
    const int d = 3, K = 2;
    double *x = small_data(n, d, 21);
    emgmm_model *m = new_model(K, d);
    const emgmm_params p = emgmm_params_default();
    const emgmm_data X = emgmm_data_f64(x, n, (size_t)d, (size_t)d);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
    double w[2], mu[6], cov[18];
    memcpy(w, emgmm_model_weights(m), sizeof w);
    memcpy(mu, emgmm_model_means(m), sizeof mu);
    memcpy(cov, emgmm_model_covariances(m), sizeof cov);
    const double lb = emgmm_model_lower_bound(m);
    x[55 * d + 1] = NAN;
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NONFINITE);
    assert_true(emgmm_model_is_fitted(m));
    assert_memory_equal(emgmm_model_weights(m), w, sizeof w);
    assert_memory_equal(emgmm_model_means(m), mu, sizeof mu);
    assert_memory_equal(emgmm_model_covariances(m), cov, sizeof cov);
    assert_true(emgmm_model_lower_bound(m) == lb);

    /* The same after a failure inside the fit (NOT_PD once the initialisation has run): a
     * constant column and reg_covar = 0. */
    const int n_iter = emgmm_model_n_iter(m);
    for (size_t i = 0; i < n; i++) x[i * d + 1] = 0.0;
    emgmm_params p0 = p;
    p0.reg_covar = 0.0;
    assert_int_equal(emgmm_fit(m, &p0, &X), EMGMM_ERR_NOT_PD);
    assert_true(emgmm_model_is_fitted(m));
    assert_memory_equal(emgmm_model_weights(m), w, sizeof w);
    assert_memory_equal(emgmm_model_means(m), mu, sizeof mu);
    assert_memory_equal(emgmm_model_covariances(m), cov, sizeof cov);
    assert_int_equal(emgmm_model_n_iter(m), n_iter);
    assert_true(emgmm_model_lower_bound(m) == lb);
    emgmm_model_free(m);
    free(x);
}

/* tol = 0 can never be met: max_iter iterations, status OK, converged false. */
static void hitting_max_iter_is_not_an_error(void **state)
{
    (void)state;
    const size_t n = 300;
    double *x = small_data(n, 2, 22);
    emgmm_model *m = new_model(3, 2);
    emgmm_params p = emgmm_params_default();
    p.tol = 0.0;
    p.max_iter = 3;
    const emgmm_data X = emgmm_data_f64(x, n, 2, 2);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
    assert_int_equal(emgmm_model_converged(m), 0);
    assert_int_equal(emgmm_model_n_iter(m), 3);
    assert_true(emgmm_model_is_fitted(m));
    /* and a tolerance that is easily met stops early with converged = 1 */
    p.tol = 1e-2;
    p.max_iter = 500;
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
    assert_int_equal(emgmm_model_converged(m), 1);
    assert_true(emgmm_model_n_iter(m) < 500);
    int count = -1;
    const double *lbs = emgmm_model_lower_bounds(m, &count);
    assert_int_equal(count, emgmm_model_n_iter(m));
    assert_true(count >= 2 && fabs(lbs[count - 1] - lbs[count - 2]) < p.tol);
    emgmm_model_free(m);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strerror_names_every_status_distinctly),
        cmocka_unit_test(create_rejects_zero_components_and_features),
        cmocka_unit_test(fit_rejects_fewer_samples_than_components),
        cmocka_unit_test(fit_reports_first_nonfinite_row_and_column),
        cmocka_unit_test(fit_reports_nonfinite_in_float32_data),
        cmocka_unit_test(null_pointers_are_rejected),
        cmocka_unit_test(set_parameters_rejects_invalid_user_model),
        cmocka_unit_test(set_parameters_tolerances_are_as_documented),
        cmocka_unit_test(fit_accepts_as_many_samples_as_components),
        cmocka_unit_test(user_init_without_parameters_is_bad_init),
        cmocka_unit_test(zero_variance_without_reg_covar_is_not_pd_with_component),
        cmocka_unit_test(constant_feature_without_reg_covar_is_not_pd),
        cmocka_unit_test(shape_mismatch_and_short_leading_dimension_are_rejected),
        cmocka_unit_test(out_of_range_params_are_invalid),
        cmocka_unit_test(unfitted_model_refuses_predictions),
        cmocka_unit_test(failed_fit_keeps_previous_model),
        cmocka_unit_test(hitting_max_iter_is_not_an_error),
    };
    return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
