/* test_family_weights.c — per-sample weights, for every covariance type: integer weights
 * (0, 1, 2, 3) give the fit of the data with rows repeated, to 1e-9; fractional weights give the
 * weighted textbook EM; negative, NaN, Inf and all-zero weights are EMGMM_ERR_BAD_WEIGHTS with
 * the offending row, and leave the model as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"
#include "family_check.h"
#include "../ref/textbook_em.h"

#define RTOL 1e-9
#define ITERS 10
#define N 240
#define D 3
#define K 3

/* The data, a start in each type's shape, and weights; shared by the tests. */
typedef struct {
    tu_mixture mix;
    double w0[K], mu0[K * D], cov0[4][K * D * D];
} fixture;

static int setup(void **state)
{
    fixture *f = tu_xmalloc(sizeof *f);
    tu_rng r;
    tu_rng_seed(&r, 2385);
    tu_mixture_make(&f->mix, &r, N, D, K, 1.0, 2.5, 2.0);
    for (int t = 0; t < 4; t++) {
        tu_rng rt;
        tu_rng_seed(&rt, 77 + (uint64_t)t);
        fc_perturbed_start(&f->mix, &rt, fc_types[t], f->w0, f->mu0, f->cov0[t]);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_mixture_free(&f->mix);
    free(f);
    return 0;
}

static emgmm_model *started(const fixture *f, int type)
{
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, D, type), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, f->w0, f->mu0, f->cov0[type]), EMGMM_OK);
    return m;
}

static emgmm_params fixed_iters(void)
{
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_USER;
    p.tol = 0.0;
    p.max_iter = ITERS;
    return p;
}

static void fit_ok(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, const char *what)
{
    const int rc = emgmm_fit(m, p, X);
    if (rc != EMGMM_OK)
        fail_msg("%s: emgmm_fit: %s: %s", what, emgmm_strerror(rc), emgmm_model_last_error(m));
}

static void weighted_fit_equals_fit_on_repeated_rows(void **state)
{
    const fixture *f = *state;
    /* weights 0..3 from the tests' generator; every value occurs */
    double *sw = tu_xmalloc(sizeof(double) * N);
    size_t nrep = 0, zeros = 0;
    tu_rng r;
    tu_rng_seed(&r, 31);
    for (size_t i = 0; i < N; i++) {
        sw[i] = (double)(tu_next(&r) % 4);
        nrep += (size_t)sw[i];
        zeros += sw[i] == 0.0;
    }
    assert_true(zeros > 0 && nrep > N);
    double *xr = tu_xmalloc(sizeof(double) * nrep * D);
    size_t o = 0;
    for (size_t i = 0; i < N; i++)
        for (int c = 0; c < (int)sw[i]; c++, o++)
            memcpy(xr + o * D, f->mix.x + i * D, sizeof(double) * D);

    for (int t = 0; t < 4; t++) {
        const int type = fc_types[t];
        const char *tn = emgmm_covariance_type_name(type);
        emgmm_model *mw = started(f, type), *mr = started(f, type);
        const emgmm_params p = fixed_iters();
        emgmm_data Xw = emgmm_data_f64(f->mix.x, N, D, D);
        Xw.weights = sw;
        const emgmm_data Xr = emgmm_data_f64(xr, nrep, D, D);
        fit_ok(mw, &p, &Xw, tn);
        fit_ok(mr, &p, &Xr, tn);
        assert_int_equal(emgmm_model_n_iter(mw), emgmm_model_n_iter(mr));
        fc_assert_gmm_close(type, K, D, emgmm_model_weights(mw), emgmm_model_means(mw),
                            emgmm_model_covariances(mw), emgmm_model_weights(mr),
                            emgmm_model_means(mr), emgmm_model_covariances(mr), RTOL, tn);
        int cw = -1, cr = -2;
        const double *lw = emgmm_model_lower_bounds(mw, &cw),
                     *lr = emgmm_model_lower_bounds(mr, &cr);
        assert_int_equal(cw, ITERS);
        assert_int_equal(cr, ITERS);
        for (int i = 0; i < ITERS; i++)
            tu_assert_close(lw[i], lr[i], RTOL, 0.0, "%s: lower bound of iteration %d", tn, i + 1);
        /* the weights mattered: the unweighted fit is a different model */
        emgmm_model *mu = started(f, type);
        const emgmm_data X1 = emgmm_data_f64(f->mix.x, N, D, D);
        fit_ok(mu, &p, &X1, tn);
        assert_false(tu_close(emgmm_model_lower_bound(mu), emgmm_model_lower_bound(mr), 1e-6, 0));
        emgmm_model_free(mu);
        emgmm_model_free(mw);
        emgmm_model_free(mr);
    }
    free(xr);
    free(sw);
}

static void fractional_weights_match_weighted_textbook(void **state)
{
    const fixture *f = *state;
    double *sw = tu_xmalloc(sizeof(double) * N);
    tu_rng r;
    tu_rng_seed(&r, 4099);
    for (size_t i = 0; i < N; i++) sw[i] = i % 7 == 3 ? 0.0 : 0.05 + 2.385 * tu_uniform(&r);
    for (int t = 0; t < 4; t++) {
        const int type = fc_types[t];
        const char *tn = emgmm_covariance_type_name(type);
        const size_t cs = tb_cov_size(type, K, D);
        double w[K], mu[K * D], cov[K * D * D], lbs[ITERS];
        memcpy(w, f->w0, sizeof w);
        memcpy(mu, f->mu0, sizeof mu);
        memcpy(cov, f->cov0[type], sizeof(double) * cs);
        assert_int_equal(tb_em(type, f->mix.x, N, D, D, sw, K, 1e-6, ITERS, w, mu, cov, lbs), 0);
        emgmm_model *m = started(f, type);
        const emgmm_params p = fixed_iters();
        emgmm_data X = emgmm_data_f64(f->mix.x, N, D, D);
        X.weights = sw;
        fit_ok(m, &p, &X, tn);
        fc_assert_gmm_close(type, K, D, emgmm_model_weights(m), emgmm_model_means(m),
                            emgmm_model_covariances(m), w, mu, cov, RTOL, tn);
        int c = -1;
        const double *l = emgmm_model_lower_bounds(m, &c);
        assert_int_equal(c, ITERS);
        for (int i = 0; i < ITERS; i++)
            tu_assert_close(l[i], lbs[i], RTOL, 0.0, "%s: lower bound of iteration %d", tn, i + 1);
        emgmm_model_free(m);
    }
    free(sw);
}

/* One bad weights vector: emgmm_fit and emgmm_fit_init both refuse it with BAD_WEIGHTS, name
 * the row (bad_row >= 0) in the error location and message, and keep the model's parameters. */
static void expect_bad_weights(const fixture *f, const double *sw, long long bad_row,
                               const char *what)
{
    for (int t = 0; t < 4; t++) {
        const int type = fc_types[t];
        emgmm_model *m = started(f, type);
        const size_t cs = emgmm_model_covariances_size(m);
        double *before = tu_xmalloc(sizeof(double) * (K + K * D + cs));
        memcpy(before, emgmm_model_weights(m), sizeof(double) * K);
        memcpy(before + K, emgmm_model_means(m), sizeof(double) * K * D);
        memcpy(before + K + K * D, emgmm_model_covariances(m), sizeof(double) * cs);
        emgmm_params p = fixed_iters();
        emgmm_data X = emgmm_data_f64(f->mix.x, N, D, D);
        X.weights = sw;
        for (int api = 0; api < 2; api++) {
            const int rc = api == 0 ? emgmm_fit(m, &p, &X) : emgmm_fit_init(m, &p, &X);
            if (rc != EMGMM_ERR_BAD_WEIGHTS)
                fail_msg("%s, %s, %s: got status %d (%s), want EMGMM_ERR_BAD_WEIGHTS", what,
                         emgmm_covariance_type_name(type), api ? "fit_init" : "fit", rc,
                         emgmm_strerror(rc));
            assert_true(strlen(emgmm_model_last_error(m)) > 0);
            if (bad_row >= 0) {
                long long row = -7;
                emgmm_model_error_location(m, &row, NULL, NULL);
                assert_int_equal(row, bad_row);
                char needle[32];
                snprintf(needle, sizeof needle, "%lld", bad_row);
                assert_non_null(strstr(emgmm_model_last_error(m), needle));
            }
        }
        assert_memory_equal(emgmm_model_weights(m), before, sizeof(double) * K);
        assert_memory_equal(emgmm_model_means(m), before + K, sizeof(double) * K * D);
        assert_memory_equal(emgmm_model_covariances(m), before + K + K * D, sizeof(double) * cs);
        free(before);
        emgmm_model_free(m);
    }
}

static void bad_weights_are_refused_with_their_row(void **state)
{
    const fixture *f = *state;
    double sw[N];
    for (size_t i = 0; i < N; i++) sw[i] = 1.0 + (double)(i % 3);
    const double bad[] = {-1e-300, -2.385, NAN, INFINITY, -INFINITY};
    const long long rows[] = {0, 117, N - 1};
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
        for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
            const double keep = sw[rows[ri]];
            sw[rows[ri]] = bad[b];
            char what[64];
            snprintf(what, sizeof what, "weight %g at row %lld", bad[b], rows[ri]);
            expect_bad_weights(f, sw, rows[ri], what);
            sw[rows[ri]] = keep;
        }
    /* two bad rows: the first is named */
    sw[40] = NAN;
    sw[12] = -1.0;
    expect_bad_weights(f, sw, 12, "NaN at row 40 and -1 at row 12");
}

static void all_zero_weights_are_refused(void **state)
{
    const fixture *f = *state;
    double sw[N] = {0};
    expect_bad_weights(f, sw, -1, "all weights 0");
    /* -0.0 is zero, not negative */
    for (size_t i = 0; i < N; i++) sw[i] = -0.0;
    expect_bad_weights(f, sw, -1, "all weights -0");
}

static void zero_weight_rows_do_not_count(void **state)
{
    const fixture *f = *state;
    /* rows with weight 0 are absent: moving them far away (1e8, many σ, yet no overflow in
     * squares) changes nothing */
    double *x = tu_xmalloc(sizeof(double) * N * D), sw[N];
    memcpy(x, f->mix.x, sizeof(double) * N * D);
    for (size_t i = 0; i < N; i++) {
        sw[i] = i % 5 == 0 ? 0.0 : 1.0;
        if (i % 5 == 0)
            for (int j = 0; j < D; j++) x[i * D + j] = (j % 2 ? -1.0 : 1.0) * 1e8;
    }
    for (int t = 0; t < 4; t++) {
        const int type = fc_types[t];
        const char *tn = emgmm_covariance_type_name(type);
        emgmm_model *mw = started(f, type), *ms = started(f, type);
        const emgmm_params p = fixed_iters();
        emgmm_data Xw = emgmm_data_f64(x, N, D, D);
        Xw.weights = sw;
        fit_ok(mw, &p, &Xw, tn);
        /* the rows of positive weight alone */
        double *xs = tu_xmalloc(sizeof(double) * N * D);
        size_t ns = 0;
        for (size_t i = 0; i < N; i++)
            if (sw[i] > 0) memcpy(xs + ns++ * D, f->mix.x + i * D, sizeof(double) * D);
        const emgmm_data Xs = emgmm_data_f64(xs, ns, D, D);
        fit_ok(ms, &p, &Xs, tn);
        fc_assert_gmm_close(type, K, D, emgmm_model_weights(mw), emgmm_model_means(mw),
                            emgmm_model_covariances(mw), emgmm_model_weights(ms),
                            emgmm_model_means(ms), emgmm_model_covariances(ms), RTOL, tn);
        tu_assert_close(emgmm_model_lower_bound(mw), emgmm_model_lower_bound(ms), RTOL, 0.0,
                        "%s: lower bound", tn);
        free(xs);
        emgmm_model_free(mw);
        emgmm_model_free(ms);
    }
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(weighted_fit_equals_fit_on_repeated_rows),
        cmocka_unit_test(fractional_weights_match_weighted_textbook),
        cmocka_unit_test(zero_weight_rows_do_not_count),
        cmocka_unit_test(bad_weights_are_refused_with_their_row),
        cmocka_unit_test(all_zero_weights_are_refused),
    };
    return cmocka_run_group_tests_name("family_weights", tests, setup, teardown);
}
