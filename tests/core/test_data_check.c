/* test_data_check.c — issue 21: emgmm_data_check scans the values once and marks the view
 * (X.finite) so that a sweep's fits, k-means and scores skip their own scans.  A marked view
 * gives the same fit, score and centres bit for bit as an unmarked one, for float64 and
 * float32, with weights and under a missing policy; the check finds the first NaN or
 * infinity and leaves the view unmarked; its errors are the documented ones; and an unmarked
 * view is still checked by every entry point. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"

static void assert_same_model(const emgmm_model *a, const emgmm_model *b)
{
    const int K = emgmm_model_n_components(a), d = emgmm_model_n_features(a);
    assert_int_equal(emgmm_model_n_iter(a), emgmm_model_n_iter(b));
    assert_memory_equal(emgmm_model_weights(a), emgmm_model_weights(b), sizeof(double) * K);
    assert_memory_equal(emgmm_model_means(a), emgmm_model_means(b), sizeof(double) * K * d);
    assert_memory_equal(emgmm_model_covariances(a), emgmm_model_covariances(b),
                        sizeof(double) * emgmm_model_covariances_size(a));
}

/* fit, score and k-means centres on X unmarked and marked: the same bits */
static void same_results(const emgmm_data *X0, const emgmm_params *p, int cov)
{
    emgmm_data X1 = *X0;
    assert_int_equal(X1.finite, 0);
    assert_int_equal(emgmm_data_check(&X1, 2, NULL, NULL), EMGMM_OK);
    assert_int_equal(X1.finite, 1);
    const int K = 3, d = (int)X0->d;
    emgmm_model *a = tu_model(K, d, cov), *b = tu_model(K, d, cov);
    assert_int_equal(emgmm_fit(a, p, X0), EMGMM_OK);
    assert_int_equal(emgmm_fit(b, p, &X1), EMGMM_OK);
    assert_same_model(a, b);
    double sa = 0.0, sb = 1.0;
    assert_int_equal(emgmm_score(a, X0, &sa), EMGMM_OK);
    assert_int_equal(emgmm_score(b, &X1, &sb), EMGMM_OK);
    assert_memory_equal(&sa, &sb, sizeof sa);
    double ca[3 * 8], cb[3 * 8];
    assert_true(d <= 8);
    assert_int_equal(emgmm_kmeans_centres(a, p, X0, 0, ca), EMGMM_OK);
    assert_int_equal(emgmm_kmeans_centres(b, p, &X1, 0, cb), EMGMM_OK);
    assert_memory_equal(ca, cb, sizeof(double) * (size_t)(K * d));
    emgmm_model_free(a);
    emgmm_model_free(b);
}

static void marked_view_gives_the_same_bits(void **state)
{
    (void)state;
    tu_mixture mix;
    const emgmm_data X = tu_mixture_view(&mix, NULL, 0xdc1, 1800, 4, 3, 2.5, 3.0);
    emgmm_params p = emgmm_params_default();
    p.n_threads = 2;
    for (int cov = EMGMM_COV_FULL; cov <= EMGMM_COV_SPHERICAL; cov++) same_results(&X, &p, cov);
    float *xf = tu_xmalloc(mix.n * (size_t)mix.d * sizeof(float));
    for (size_t i = 0; i < mix.n * (size_t)mix.d; i++) xf[i] = (float)mix.x[i];
    const emgmm_data Xf = emgmm_data_f32(xf, mix.n, (size_t)mix.d, (size_t)mix.d);
    same_results(&Xf, &p, EMGMM_COV_FULL);
    double *w = tu_xmalloc(mix.n * sizeof(double));
    for (size_t i = 0; i < mix.n; i++) w[i] = (double)(i % 3);
    emgmm_data Xw = X;
    Xw.weights = w;
    same_results(&Xw, &p, EMGMM_COV_DIAG);
    emgmm_params q = p;
    q.missing = EMGMM_MISSING_NAN; /* finite data under a missing policy */
    same_results(&X, &q, EMGMM_COV_TIED);
    free(w);
    free(xf);
    tu_mixture_free(&mix);
}

static void check_finds_the_first_bad_value(void **state)
{
    (void)state;
    tu_mixture mix;
    const emgmm_data X0 = tu_mixture_view(&mix, NULL, 0xdc2, 5000, 3, 2, 3.0, 3.0);
    const int d = mix.d;
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (int b = 0; b < 3; b++) {
        const double keep1 = mix.x[3217 * d + 2], keep2 = mix.x[4001 * d + 0];
        mix.x[3217 * d + 2] = bad[b];
        mix.x[4001 * d + 0] = NAN; /* a later one */
        for (int threads = 1; threads <= 3; threads++) {
            emgmm_data X = X0;
            X.finite = 1; /* stale: the check clears it */
            long long row = 0, col = 0;
            assert_int_equal(emgmm_data_check(&X, threads, &row, &col), EMGMM_ERR_NONFINITE);
            assert_int_equal(X.finite, 0);
            assert_int_equal(row, 3217);
            assert_int_equal(col, 2);
            /* unmarked, the fit finds it too */
            emgmm_model *m = tu_model(2, d, EMGMM_COV_FULL);
            emgmm_params p = emgmm_params_default();
            p.n_threads = threads;
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NONFINITE);
            emgmm_model_free(m);
        }
        mix.x[3217 * d + 2] = keep1;
        mix.x[4001 * d + 0] = keep2;
    }
    /* float32 */
    float xf[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    xf[7] = NAN;
    emgmm_data Xf = emgmm_data_f32(xf, 4, 3, 3);
    long long row = 0, col = 0;
    assert_int_equal(emgmm_data_check(&Xf, 1, &row, &col), EMGMM_ERR_NONFINITE);
    assert_int_equal(row, 2);
    assert_int_equal(col, 1);
    /* a leading dimension past d: the padding is not data */
    xf[7] = 8;
    xf[5] = NAN;
    Xf = emgmm_data_f32(xf, 2, 2, 6);
    assert_int_equal(emgmm_data_check(&Xf, 1, NULL, NULL), EMGMM_OK);
    assert_int_equal(Xf.finite, 1);
    tu_mixture_free(&mix);
}

static void errors_are_the_documented_ones(void **state)
{
    (void)state;
    double x[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(emgmm_data_check(NULL, 1, NULL, NULL), EMGMM_ERR_NULL);
    emgmm_data X = emgmm_data_f64(NULL, 2, 3, 3);
    assert_int_equal(emgmm_data_check(&X, 1, NULL, NULL), EMGMM_ERR_NULL);
    X = emgmm_data_f64(x, 2, 0, 3);
    assert_int_equal(emgmm_data_check(&X, 1, NULL, NULL), EMGMM_ERR_NO_FEATURES);
    X = emgmm_data_f64(x, 2, 3, 2);
    assert_int_equal(emgmm_data_check(&X, 1, NULL, NULL), EMGMM_ERR_SHAPE);
    X = emgmm_data_f64(x, 2, 3, 3);
    X.dtype = (emgmm_dtype)7;
    assert_int_equal(emgmm_data_check(&X, 1, NULL, NULL), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(X.finite, 0);
    X = emgmm_data_f64(NULL, 0, 3, 3); /* no rows: nothing to scan */
    assert_int_equal(emgmm_data_check(&X, 1, NULL, NULL), EMGMM_OK);
    assert_int_equal(X.finite, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(marked_view_gives_the_same_bits),
        cmocka_unit_test(check_finds_the_first_bad_value),
        cmocka_unit_test(errors_are_the_documented_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
