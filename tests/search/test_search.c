/* The 'emem' search (issue 18, part 2): each move leaves the lower bound no
 * lower (the kept short run is the best of all, replayed here one by one, and
 * EM from it is monotone), determinism for a seed and thread count, a
 * constructed problem where k-means gets stuck and the search does not, every
 * covariance type, float32, sample weights, missing values, and the errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <emgmm.h>

#include "../common/tu.h"
#include "src/em/search.h"

static emgmm_params emem_params(uint64_t seed)
{
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_EMEM;
    p.seed = seed;
    p.n_threads = 1;
    p.search_starts = 7;
    p.search_iter = 4;
    return p;
}

/* Lower bounds never decrease over the kept history (to rounding). */
static void assert_monotone(const emgmm_model *m, const char *what)
{
    int n = 0;
    const double *lb = emgmm_model_lower_bounds(m, &n);
    assert_true(n >= 1);
    for (int i = 1; i < n; i++)
        if (lb[i] < lb[i - 1] - 1e-12 * fabs(lb[i - 1])) {
            print_error("%s: lower bound fell from %.17g (iteration %d) to %.17g (iteration %d)\n",
                        what, lb[i - 1], i, lb[i], i + 1);
            fail();
        }
}

/* Replays the search's short runs one by one (the same streams and settings as
 * search.c) and checks the moves: the initialisation leaves the model at the
 * best short run's parameters bit for bit, and the fit from there never goes
 * below that run's lower bound (EM from it is monotone). */
static void assert_search_moves_up(const emgmm_params *p, const emgmm_data *X, int K, int cov,
                                   const char *what)
{
    const int d = (int)X->d;
    emgmm_model *init = tu_model(K, d, cov);
    assert_int_equal(emgmm_fit_init(init, p, X), EMGMM_OK);
    assert_int_equal(emgmm_model_n_iter(init), 0); /* the short runs are the initialisation */

    emgmm_params q = *p;
    q.init = EMGMM_INIT_KMEANS;
    q.kmeans_max_iter = EMGMM_SEARCH_KMEANS_ITER;
    const int L = p->search_iter;
    if (q.max_iter < L) q.max_iter = L;
    double best = -INFINITY;
    int best_s = -1;
    emgmm_model *best_m = NULL;
    for (int s = 0; s < p->search_starts; s++) {
        emgmm_model *m = tu_model(K, d, cov);
        assert_int_equal(emgmm_fit_init(m, &q, X), EMGMM_OK); /* the data checks */
        assert_int_equal(emgmm_driver_init(m, &q, X, emgmm_search_run_stream(0, s)), EMGMM_OK);
        double lb = 0.0;
        while (emgmm_model_n_iter(m) < L) {
            assert_int_equal(emgmm_fit_iterate(m, &q, X, &lb), EMGMM_OK);
            if (emgmm_fit_converged(m, q.tol)) break;
        }
        if (lb > best) {
            best = lb;
            best_s = s;
            emgmm_model_free(best_m);
            best_m = m;
        } else {
            emgmm_model_free(m);
        }
    }
    assert_true(best_s >= 0);
    assert_memory_equal(emgmm_model_means(init), emgmm_model_means(best_m),
                        (size_t)K * d * sizeof(double));
    assert_memory_equal(emgmm_model_covariances(init), emgmm_model_covariances(best_m),
                        emgmm_model_covariances_size(init) * sizeof(double));
    assert_memory_equal(emgmm_model_weights(init), emgmm_model_weights(best_m),
                        (size_t)K * sizeof(double));

    emgmm_model *fit = tu_model(K, d, cov);
    assert_int_equal(emgmm_fit(fit, p, X), EMGMM_OK);
    assert_monotone(fit, what);
    char below[96];
    snprintf(below, sizeof below, "%s (floor: the best short run's, run %d)", what, best_s);
    tu_assert_history_at_least(fit, best, below);
    assert_true(emgmm_model_lower_bound(fit) >= best - 1e-12 * fabs(best));
    emgmm_model_free(fit);
    emgmm_model_free(init);
    emgmm_model_free(best_m);
}

static void test_each_move_leaves_lower_bound_no_lower(void **state)
{
    (void)state;
    tu_mixture mix;
    const emgmm_data X = tu_mixture_view(&mix, NULL, 2385, 1200, 3, 6, 2.5, 3.0);
    for (int cov = 0; cov < 4; cov++) {
        char what[64];
        snprintf(what, sizeof what, "%s", emgmm_covariance_type_name(cov));
        emgmm_params p = emem_params(5);
        assert_search_moves_up(&p, &X, 6, cov, what);
    }
    tu_mixture_free(&mix);
}

static void test_deterministic_for_seed_and_threads(void **state)
{
    (void)state;
    tu_mixture mix;
    const emgmm_data X = tu_mixture_view(&mix, NULL, 77, 3000, 4, 8, 2.0, 3.0);
    for (int threads = 1; threads <= 2; threads++) {
        emgmm_params p = emem_params(9);
        p.n_threads = threads;
        emgmm_model *a = tu_assert_fit_deterministic(&p, &X, 8, EMGMM_COV_FULL);
        /* the step-by-step API gives emgmm_fit's result bit for bit */
        emgmm_model *c = tu_model(8, 4, EMGMM_COV_FULL);
        assert_int_equal(emgmm_fit_init(c, &p, &X), EMGMM_OK);
        while (emgmm_model_n_iter(c) < p.max_iter) {
            assert_int_equal(emgmm_fit_iterate(c, &p, &X, NULL), EMGMM_OK);
            if (emgmm_fit_converged(c, p.tol)) break;
        }
        assert_memory_equal(emgmm_model_means(a), emgmm_model_means(c), 8 * 4 * sizeof(double));
        assert_true(emgmm_model_lower_bound(a) == emgmm_model_lower_bound(c));
        /* another seed searches other starts */
        p.seed = 10;
        emgmm_model *b = tu_model(8, 4, EMGMM_COV_FULL);
        assert_int_equal(emgmm_fit(b, &p, &X), EMGMM_OK);
        assert_memory_not_equal(emgmm_model_means(a), emgmm_model_means(b), 8 * 4 * sizeof(double));
        emgmm_model_free(a);
        emgmm_model_free(b);
        emgmm_model_free(c);
    }
    tu_mixture_free(&mix);
}

/* Twelve tight clusters on a 3×4 grid (tu_grid12), where k-means gets stuck: for seeds 0..7
 * the search recovers every cluster each time and never ends lower than k-means; k-means gets
 * stuck on some seed (else the problem would not show anything). */
static void test_search_escapes_where_kmeans_is_stuck(void **state)
{
    (void)state;
    enum {
        K = 12
    };
    double mu[K][2];
    size_t n;
    double *x = tu_grid12(&n, mu);
    emgmm_data X = emgmm_data_f64(x, n, 2, 2);
    int stuck = 0;
    for (uint64_t seed = 0; seed < 8; seed++) {
        emgmm_params pk = emgmm_params_default(), pe = emgmm_params_default();
        pk.seed = pe.seed = seed;
        pk.n_threads = pe.n_threads = 1;
        pe.init = EMGMM_INIT_EMEM;
        emgmm_model *mk = tu_model(K, 2, EMGMM_COV_FULL), *me = tu_model(K, 2, EMGMM_COV_FULL);
        assert_int_equal(emgmm_fit(mk, &pk, &X), EMGMM_OK);
        assert_int_equal(emgmm_fit(me, &pe, &X), EMGMM_OK);
        const int found_k = tu_grid12_found(mk, mu), found_e = tu_grid12_found(me, mu);
        if (found_e != K) {
            print_error("seed %llu: the search found %d of %d clusters\n", (unsigned long long)seed,
                        found_e, K);
            fail();
        }
        assert_true(emgmm_model_lower_bound(me) >= emgmm_model_lower_bound(mk) - 1e-9);
        if (found_k < K) {
            stuck++;
            assert_true(emgmm_model_lower_bound(me) > emgmm_model_lower_bound(mk) + 1e-3);
        }
        emgmm_model_free(mk);
        emgmm_model_free(me);
    }
    assert_true(stuck >= 1);
    free(x);
}

/* float32 data, sample weights and missing values go through the search too. */
static void test_float32_weights_missing(void **state)
{
    (void)state;
    tu_rng r;
    tu_mixture mix;
    const emgmm_data X64 = tu_mixture_view(&mix, &r, 31, 2000, 3, 5, 3.0, 3.0);
    const size_t n = mix.n;
    tu_variants v;
    tu_variants_make(&v, mix.x, n, 3, &r);
    const emgmm_data X32 = emgmm_data_f32(v.xf, n, 3, 3);
    emgmm_params p = emem_params(3);
    assert_search_moves_up(&p, &X32, 5, EMGMM_COV_DIAG, "float32");
    emgmm_model *a = tu_model(5, 3, EMGMM_COV_FULL), *b = tu_model(5, 3, EMGMM_COV_FULL);
    assert_int_equal(emgmm_fit(a, &p, &X64), EMGMM_OK);
    assert_int_equal(emgmm_fit(b, &p, &X32), EMGMM_OK);
    /* the same data rounded to float: the same optimum to float precision */
    assert_true(tu_close(emgmm_model_lower_bound(b), emgmm_model_lower_bound(a), 1e-5, 0.0));

    emgmm_data XW = X64;
    XW.weights = v.w;
    assert_search_moves_up(&p, &XW, 5, EMGMM_COV_SPHERICAL, "weights");

    emgmm_data XM = emgmm_data_f64(v.xm, n, 3, 3);
    emgmm_params pm = p;
    pm.missing = EMGMM_MISSING_NAN;
    emgmm_model *c = tu_model(5, 3, EMGMM_COV_TIED);
    assert_int_equal(emgmm_fit(c, &pm, &XM), EMGMM_OK);
    assert_monotone(c, "missing");
    assert_int_equal(emgmm_fit(c, &p, &XM), EMGMM_ERR_NONFINITE); /* NaN an error by default */
    emgmm_model_free(a);
    emgmm_model_free(b);
    emgmm_model_free(c);
    tu_variants_free(&v);
    tu_mixture_free(&mix);
}

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(emgmm_init_method_from_name("emem"), EMGMM_INIT_EMEM);
    assert_int_equal(emgmm_init_method_from_name("em-em"), EMGMM_INIT_EMEM);
    assert_string_equal(emgmm_init_method_name(EMGMM_INIT_EMEM), "emem");
    assert_null(emgmm_init_method_name(EMGMM_INIT_EMEM + 1));
    emgmm_params p = emem_params(1);
    p.search_starts = -1;
    assert_int_equal(emgmm_params_validate(&p), EMGMM_ERR_INVALID_PARAM);
    p = emem_params(1);
    p.search_iter = -2;
    assert_int_equal(emgmm_params_validate(&p), EMGMM_ERR_INVALID_PARAM);
    p = emem_params(1);
    p.init = EMGMM_INIT_EMEM + 1;
    assert_int_equal(emgmm_params_validate(&p), EMGMM_ERR_INVALID_PARAM);

    /* every short run collapses: 4 distinct points for 3 components, with no
     * regularisation and scikit-learn's policy (a singular covariance fails) */
    double x[16][2];
    for (int i = 0; i < 16; i++) {
        x[i][0] = (double)(i % 4 == 1) + 2.385;
        x[i][1] = (double)(i % 4 == 2);
    }
    emgmm_data X = emgmm_data_f64(&x[0][0], 16, 2, 2);
    p = emem_params(1);
    p.degenerate = EMGMM_DEGEN_ERROR;
    p.reg_covar = 0.0;
    emgmm_model *m = tu_model(3, 2, EMGMM_COV_FULL);
    const int st = emgmm_fit(m, &p, &X);
    assert_int_equal(st, EMGMM_ERR_NOT_PD);
    assert_non_null(strstr(emgmm_model_last_error(m), "emem"));
    assert_int_equal(emgmm_model_is_fitted(m), 0); /* the model keeps what it had */
    emgmm_model_free(m);

    /* data errors are the data check's, before any short run */
    x[5][1] = NAN;
    m = tu_model(3, 2, EMGMM_COV_FULL);
    p = emem_params(1);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NONFINITE);
    long long row = -1, col = -1;
    emgmm_model_error_location(m, &row, &col, NULL);
    assert_int_equal(row, 5);
    assert_int_equal(col, 1);
    X.n = 2;
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_TOO_FEW_SAMPLES);
    emgmm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_move_leaves_lower_bound_no_lower),
        cmocka_unit_test(test_deterministic_for_seed_and_threads),
        cmocka_unit_test(test_search_escapes_where_kmeans_is_stuck),
        cmocka_unit_test(test_float32_weights_missing),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
