/* test_fit_memory.c — the fit's memory cuts (issue 22) keep its results: the
 * component regime of the pass (statistics accumulated by threads owning
 * whole components, taken when K·d² statistics outweigh a thread's
 * workspace) gives the same bytes at every thread count and agrees with the
 * per-thread regime to rounding; the in-place M-step finish and the
 * snapshots without precision factors leave a model whose step or fit fails
 * exactly as it was, precision factors included. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"

/* d = 256, K = 10: the statistics (5.2 MB) outweigh a thread's workspace
 * (~4.5 MB), so the pass takes the component regime. */
enum {
    BIG_N = 4000,
    BIG_D = 256,
    BIG_K = 10
};

static emgmm_model *fit_big(const tu_mixture *mix, int threads, int missing)
{
    emgmm_params p = emgmm_params_default();
    p.n_threads = threads;
    p.init = EMGMM_INIT_KMEANSPP;
    p.seed = 2385;
    p.tol = 0.0;
    p.max_iter = 3;
    p.missing = missing;
    const emgmm_data X = emgmm_data_f64(mix->x, mix->n, (size_t)mix->d, (size_t)mix->d);
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, BIG_K, BIG_D, EMGMM_COV_FULL), EMGMM_OK);
    const int rc = emgmm_fit(m, &p, &X);
    if (rc != EMGMM_OK)
        fail_msg("emgmm_fit: %s (%s)", emgmm_strerror(rc), emgmm_model_last_error(m));
    return m;
}

static void big_mixture(tu_mixture *mix)
{
    tu_rng r;
    tu_rng_seed(&r, 77);
    tu_mixture_make(mix, &r, BIG_N, BIG_D, BIG_K, 1.0, 4.0, 3.0);
}

static void component_regime_gives_the_same_bytes_at_any_thread_count(void **state)
{
    (void)state;
    tu_mixture mix;
    big_mixture(&mix);
    emgmm_model *a = fit_big(&mix, 1, EMGMM_MISSING_ERROR);
    const size_t cl = emgmm_model_covariances_size(a);
    for (int T = 2; T <= 3; T++) {
        emgmm_model *b = fit_big(&mix, T, EMGMM_MISSING_ERROR);
        assert_memory_equal(emgmm_model_weights(a), emgmm_model_weights(b), sizeof(double) * BIG_K);
        assert_memory_equal(emgmm_model_means(a), emgmm_model_means(b),
                            sizeof(double) * BIG_K * BIG_D);
        assert_memory_equal(emgmm_model_covariances(a), emgmm_model_covariances(b),
                            sizeof(double) * cl);
        assert_true(emgmm_model_lower_bound(a) == emgmm_model_lower_bound(b));
        emgmm_model_free(b);
    }
    emgmm_model_free(a);
    tu_mixture_free(&mix);
}

/* A missing-value policy keeps the per-thread regime (its cross terms are per
 * thread); on data without NaN it is the same EM, summed in another order. */
static void component_regime_agrees_with_the_per_thread_regime(void **state)
{
    (void)state;
    tu_mixture mix;
    big_mixture(&mix);
    emgmm_model *a = fit_big(&mix, 2, EMGMM_MISSING_ERROR);
    emgmm_model *b = fit_big(&mix, 2, EMGMM_MISSING_NAN);
    const double *ca = emgmm_model_covariances(a), *cb = emgmm_model_covariances(b);
    double worst = 0.0;
    for (size_t i = 0; i < emgmm_model_covariances_size(a); i++)
        worst = fmax(worst, fabs(ca[i] - cb[i]) / fmax(fabs(ca[i]), 1e-3));
    for (int i = 0; i < BIG_K * BIG_D; i++) {
        const double x = emgmm_model_means(a)[i], y = emgmm_model_means(b)[i];
        worst = fmax(worst, fabs(x - y) / fmax(fabs(x), 1e-3));
    }
    print_message("component vs per-thread regime: worst relative difference %.3g\n", worst);
    assert_true(worst < 1e-10);
    assert_true(fabs(emgmm_model_lower_bound(a) - emgmm_model_lower_bound(b)) <
                1e-10 * fabs(emgmm_model_lower_bound(a)));
    emgmm_model_free(a);
    emgmm_model_free(b);
    tu_mixture_free(&mix);
}

typedef struct {
    double w[3], mu[12], cov[48], prec[48];
    int n_iter;
    double lb;
} saved_model;

static void save(const emgmm_model *m, saved_model *s)
{
    memcpy(s->w, emgmm_model_weights(m), sizeof s->w);
    memcpy(s->mu, emgmm_model_means(m), sizeof s->mu);
    memcpy(s->cov, emgmm_model_covariances(m), sizeof s->cov);
    memcpy(s->prec, emgmm_model_precisions_cholesky(m), sizeof s->prec);
    s->n_iter = emgmm_model_n_iter(m);
    s->lb = emgmm_model_lower_bound(m);
}

static void assert_as_saved(const emgmm_model *m, const saved_model *s)
{
    assert_true(emgmm_model_is_fitted(m));
    assert_memory_equal(emgmm_model_weights(m), s->w, sizeof s->w);
    assert_memory_equal(emgmm_model_means(m), s->mu, sizeof s->mu);
    assert_memory_equal(emgmm_model_covariances(m), s->cov, sizeof s->cov);
    assert_memory_equal(emgmm_model_precisions_cholesky(m), s->prec, sizeof s->prec);
    assert_int_equal(emgmm_model_n_iter(m), s->n_iter);
    assert_true(emgmm_model_lower_bound(m) == s->lb);
}

/* A step that fails in the finish (a constant feature, reg_covar = 0) after
 * the in-place finish has written some precision factors over the model's:
 * the model is as it was, factors included, under either degenerate policy;
 * and the same for a whole fit (its snapshot keeps no factors). */
static void failed_step_or_fit_leaves_the_model_and_its_factors(void **state)
{
    (void)state;
    const size_t n = 400;
    const int d = 4, K = 3;
    tu_rng r;
    tu_rng_seed(&r, 2385);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, n, d, K, 1.0, 5.0, 3.0);
    const emgmm_data X = emgmm_data_f64(mix.x, n, (size_t)d, (size_t)d);
    for (int policy = EMGMM_DEGEN_ERROR; policy <= EMGMM_DEGEN_RESEED; policy++) {
        emgmm_params p = emgmm_params_default();
        p.n_threads = 1;
        p.degenerate = policy;
        p.max_iter = 5;
        emgmm_model *m = NULL;
        assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
        assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
        saved_model s;
        save(m, &s);
        double *x = tu_xmalloc(n * (size_t)d * sizeof(double));
        memcpy(x, mix.x, n * (size_t)d * sizeof(double));
        for (size_t i = 0; i < n; i++) x[i * (size_t)d + 2] = 1.5;
        const emgmm_data Xc = emgmm_data_f64(x, n, (size_t)d, (size_t)d);
        emgmm_params p0 = p;
        p0.reg_covar = 0.0;
        double lb = 0.0;
        /* the constant feature's variance reaches exactly 0 within a few steps */
        int rc = EMGMM_OK;
        for (int i = 0; i < 20 && rc == EMGMM_OK; i++) {
            save(m, &s);
            rc = emgmm_fit_iterate(m, &p0, &Xc, &lb);
        }
        assert_int_equal(rc, EMGMM_ERR_NOT_PD);
        assert_as_saved(m, &s);
        p0.init = EMGMM_INIT_USER;
        p0.max_iter = 50;
        assert_int_equal(emgmm_fit(m, &p0, &Xc), EMGMM_ERR_NOT_PD);
        assert_as_saved(m, &s);
        /* and the model still fits */
        assert_int_equal(emgmm_fit_iterate(m, &p, &X, &lb), EMGMM_OK);
        free(x);
        emgmm_model_free(m);
    }
    tu_mixture_free(&mix);
}

/* emgmm_fit_iterate's step keeps only the covariances' diagonals apart: the
 * pass, the reduction over threads and the finish write upper triangles
 * only, so a failed step puts an exactly symmetric covariance back from its
 * own lower triangle, signed zeros included, and copies one that is not
 * exactly symmetric (within the model's tolerance) whole.  Two threads
 * (per-thread statistics added up), either policy; the means on the constant
 * feature make its variance exactly 0 in the first step. */
static void failed_step_puts_back_signed_zeros_and_asymmetric_covariances(void **state)
{
    (void)state;
    const size_t n = 400;
    const int d = 4, K = 3;
    tu_rng r;
    tu_rng_seed(&r, 2385);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, n, d, K, 1.0, 5.0, 3.0);
    const emgmm_data X = emgmm_data_f64(mix.x, n, (size_t)d, (size_t)d);
    double *x = tu_xmalloc(n * (size_t)d * sizeof(double));
    memcpy(x, mix.x, n * (size_t)d * sizeof(double));
    for (size_t i = 0; i < n; i++) x[i * (size_t)d + 2] = 1.5;
    const emgmm_data Xc = emgmm_data_f64(x, n, (size_t)d, (size_t)d);
    for (int variant = 0; variant < 2; variant++)
        for (int policy = EMGMM_DEGEN_ERROR; policy <= EMGMM_DEGEN_RESEED; policy++) {
            emgmm_params p = emgmm_params_default();
            p.n_threads = 2;
            p.block_size = 64; /* blocks for both threads */
            p.degenerate = policy;
            p.max_iter = 5;
            emgmm_model *m = NULL;
            assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
            double w[3], mu[12], cov[48];
            memcpy(w, emgmm_model_weights(m), sizeof w);
            memcpy(mu, emgmm_model_means(m), sizeof mu);
            memcpy(cov, emgmm_model_covariances(m), sizeof cov);
            for (int k = 0; k < K; k++) {
                double *c = cov + k * d * d;
                mu[k * d + 2] = 1.5;
                if (variant == 0) { /* signed zeros off the diagonal */
                    c[0 * d + 3] = c[3 * d + 0] = -0.0;
                    c[1 * d + 3] = c[3 * d + 1] = -0.0;
                } else { /* one ulp apart across the diagonal */
                    c[1 * d + 0] = nextafter(c[0 * d + 1], INFINITY);
                }
            }
            assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov), EMGMM_OK);
            saved_model s;
            save(m, &s);
            assert_memory_equal(s.cov, cov, sizeof cov);
            emgmm_params p0 = p;
            p0.reg_covar = 0.0;
            double lb = 0.0;
            assert_int_equal(emgmm_fit_iterate(m, &p0, &Xc, &lb), EMGMM_ERR_NOT_PD);
            assert_as_saved(m, &s);
            emgmm_model_free(m);
        }
    free(x);
    tu_mixture_free(&mix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(component_regime_gives_the_same_bytes_at_any_thread_count),
        cmocka_unit_test(component_regime_agrees_with_the_per_thread_regime),
        cmocka_unit_test(failed_step_or_fit_leaves_the_model_and_its_factors),
        cmocka_unit_test(failed_step_puts_back_signed_zeros_and_asymmetric_covariances),
    };
    return cmocka_run_group_tests_name("fit_memory", tests, NULL, NULL);
}
