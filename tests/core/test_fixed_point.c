/* test_fixed_point.c — emgmm_fit stops passing over the data once EM is at its fixed point
 * (src/em/run.c at_fixed_point): with one component and no missing values, from the third
 * iteration on.  The iterations it then records without a pass are the ones the step-by-step
 * loop (emgmm_fit_iterate, always a pass) computes: the same n_iter and converged, the same lower
 * bounds and parameters to rounding, in two passes.  Where EM still moves (K >= 2, missing
 * values, SQUAREM) every iteration passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"

/* fit_init, then fit_iterate (a pass each) until fit_converged or max_iter. */
static emgmm_model *stepped(int K, int type, const emgmm_params *p, const emgmm_data *X)
{
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, (int)X->d, type), EMGMM_OK);
    assert_int_equal(emgmm_fit_init(m, p, X), EMGMM_OK);
    while (emgmm_model_n_iter(m) < p->max_iter) {
        assert_int_equal(emgmm_fit_iterate(m, p, X, NULL), EMGMM_OK);
        if (emgmm_fit_converged(m, p->tol)) break;
    }
    return m;
}

static void assert_same_run(const emgmm_model *a, const emgmm_model *b, double rtol, const char *what)
{
    assert_int_equal(emgmm_model_n_iter(a), emgmm_model_n_iter(b));
    assert_int_equal(emgmm_model_converged(a), emgmm_model_converged(b));
    int ca, cb;
    const double *la = emgmm_model_lower_bounds(a, &ca), *lb = emgmm_model_lower_bounds(b, &cb);
    assert_int_equal(ca, cb);
    for (int i = 0; i < ca; i++) tu_assert_close(la[i], lb[i], rtol, 0.0, "%s: lower bound %d", what, i + 1);
    const int K = emgmm_model_n_components(a), d = emgmm_model_n_features(a);
    for (int k = 0; k < K; k++) tu_assert_close(emgmm_model_weights(a)[k], emgmm_model_weights(b)[k], rtol, 0.0,
                                                "%s: weight %d", what, k);
    for (int i = 0; i < K * d; i++)
        tu_assert_close(emgmm_model_means(a)[i], emgmm_model_means(b)[i], rtol, 1.0, "%s: mean %d", what, i);
}

/* K = 1: every E-step gives r = 1, so EM's fixed point is the first M-step's result and the
 * lower bound is constant from the second iteration on.  With tol = 0 (never converged, as
 * scikit-learn) emgmm_fit still reports max_iter iterations, not converged, in 2 passes; with a
 * positive tol the same iterations as the stepped loop.  For the four types and mclust's
 * structures (EVE/VVE: the orientation of W_1 exactly, no inner iterations to wander). */
static void k1_stops_after_two_passes(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0xf1e1d);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 700, 3, 2, 1.0, 2.0, 2.0);
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, 3, 3);
    static const char *types[] = {"full", "tied", "diag", "spherical", "VEI", "VEE", "EVE", "VVE", "VEV", "EVV"};
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        const int type = emgmm_covariance_type_from_name(types[t]);
        for (int tol0 = 0; tol0 < 2; tol0++) {
            emgmm_params p = emgmm_params_default();
            p.seed = 23;
            p.tol = tol0 ? 0.0 : 1e-3;
            p.max_iter = 17;
            emgmm_model *a = tu_fit(1, type, &p, &X), *b = stepped(1, type, &p, &X);
            assert_same_run(a, b, 1e-12, types[t]);
            assert_int_equal(emgmm_model_n_iter(a), tol0 ? 17 : 2);
            assert_int_equal(emgmm_model_converged(a), !tol0);
            assert_int_equal(emgmm_model_n_passes(a), 2);
            assert_int_equal(emgmm_model_n_passes(b), emgmm_model_n_iter(b));
            int fails = -1, most = -1;
            emgmm_model_inner_report(a, &fails, &most);
            assert_int_equal(fails, 0);
            emgmm_model_free(a);
            emgmm_model_free(b);
        }
    }
    tu_mixture_free(&mix);
}

/* With missing values (NaN as missing) the E-step fills them from the current parameters, so
 * the statistics move even at K = 1: no shortcut, one pass per iteration. */
static void k1_with_missing_values_passes_every_iteration(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0x5a11);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 400, 3, 2, 1.0, 2.0, 2.0);
    for (size_t i = 0; i < mix.n; i += 7) mix.x[i * 3 + i % 3] = NAN;
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, 3, 3);
    emgmm_params p = emgmm_params_default();
    p.missing = EMGMM_MISSING_NAN;
    p.tol = 0.0;
    p.max_iter = 9;
    emgmm_model *a = tu_fit(1, EMGMM_COV_FULL, &p, &X), *b = stepped(1, EMGMM_COV_FULL, &p, &X);
    assert_int_equal(emgmm_model_n_passes(a), 9);
    int ca, cb;
    const double *la = emgmm_model_lower_bounds(a, &ca), *lb = emgmm_model_lower_bounds(b, &cb);
    assert_int_equal(ca, 9);
    assert_memory_equal(la, lb, sizeof(double) * 9);
    assert_true(la[8] > la[1]); /* still climbing: the imputations moved */
    emgmm_model_free(a);
    emgmm_model_free(b);
    tu_mixture_free(&mix);
}

/* A start far from the fixed point (one data row as the mean, reg_covar·I as the covariance),
 * sample weights, and a positive tol: iteration 1 scores the start, iteration 2 the fixed point,
 * iteration 3 (no pass) the fixed point again, so both loops converge at iteration 3. */
static void k1_far_start_with_weights_converges_at_three(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0x77e1);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 500, 4, 3, 1.0, 3.0, 2.0);
    double *w = tu_xmalloc(mix.n * sizeof(double));
    for (size_t i = 0; i < mix.n; i++) w[i] = 0.25 + (double)(i % 7) * 0.385;
    emgmm_data X = emgmm_data_f64(mix.x, mix.n, 4, 4);
    X.weights = w;
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_RANDOM_FROM_DATA;
    p.seed = 5;
    p.tol = 1e-9;
    p.max_iter = 40;
    static const char *types[] = {"full", "diag", "VVE", "VEV"};
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        const int type = emgmm_covariance_type_from_name(types[t]);
        emgmm_model *a = tu_fit(1, type, &p, &X), *b = stepped(1, type, &p, &X);
        assert_same_run(a, b, 1e-12, types[t]);
        assert_int_equal(emgmm_model_n_iter(a), 3);
        assert_int_equal(emgmm_model_converged(a), 1);
        assert_int_equal(emgmm_model_n_passes(a), 2);
        int c;
        const double *lb = emgmm_model_lower_bounds(a, &c);
        assert_true(lb[1] > lb[0] + 1.0); /* the start was far from the fixed point */
        assert_memory_equal(&lb[2], &lb[1], sizeof(double));
        emgmm_model_free(a);
        emgmm_model_free(b);
    }
    free(w);
    tu_mixture_free(&mix);
}

/* SQUAREM's steps are not EM's: no shortcut at K = 1, a pass (or two) per iteration. */
static void k1_squarem_passes_every_iteration(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0x5e1a);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 300, 2, 2, 1.0, 2.0, 2.0);
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, 2, 2);
    emgmm_params p = emgmm_params_default();
    p.accel = EMGMM_ACCEL_SQUAREM;
    p.tol = 0.0;
    p.max_iter = 6;
    emgmm_model *a = tu_fit(1, EMGMM_COV_FULL, &p, &X);
    assert_int_equal(emgmm_model_n_iter(a), 6);
    assert_true(emgmm_model_n_passes(a) >= 6);
    emgmm_model_free(a);
    tu_mixture_free(&mix);
}

/* Where EM still moves (K >= 2), emgmm_fit passes over the data once per iteration. */
static void moving_fit_passes_every_iteration(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0x3a0e);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 900, 2, 3, 1.0, 1.0, 1.5);
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, 2, 2);
    emgmm_params p = emgmm_params_default();
    p.tol = 0.0;
    p.max_iter = 25;
    p.seed = 8;
    emgmm_model *a = tu_fit(3, EMGMM_COV_FULL, &p, &X);
    assert_int_equal(emgmm_model_n_passes(a), 25);
    emgmm_model_free(a);
    tu_mixture_free(&mix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(k1_stops_after_two_passes),
        cmocka_unit_test(k1_with_missing_values_passes_every_iteration),
        cmocka_unit_test(k1_far_start_with_weights_converges_at_three),
        cmocka_unit_test(k1_squarem_passes_every_iteration),
        cmocka_unit_test(moving_fit_passes_every_iteration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
