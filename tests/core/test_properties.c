/* test_properties.c — properties every fit must have: the lower bound never decreases (by more
 * than 1e-10 relative) between iterations; predict, predict_proba, score_samples and score agree
 * with each other; bic/aic follow their formulas; the step-by-step loop is emgmm_fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"

typedef struct {
    int d, K, init;
    size_t n;
    double sep;
    uint64_t seed;
} mono_case;

/* EM is an ascent method: each E-step's mean log-likelihood is at least the previous one.
 * Overlapping data, more components than clusters and every init, run to 150 iterations with
 * tol = 0 so the late, tiny increments (where rounding could show) are checked too. */
static void lower_bound_never_decreases(void **state)
{
    const mono_case *c = *state;
    tu_rng r;
    tu_rng_seed(&r, c->seed);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, c->n, c->d, 3, 1.0, c->sep, 1.5);
    emgmm_params p = emgmm_params_default();
    p.init = c->init;
    p.tol = 0.0;
    p.max_iter = 150;
    p.seed = c->seed;
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, (size_t)c->d, (size_t)c->d);
    emgmm_model *m = tu_fit(c->K, EMGMM_COV_FULL, &p, &X);
    int count = -1;
    const double *lbs = emgmm_model_lower_bounds(m, &count);
    assert_int_equal(count, 150);
    for (int i = 1; i < count; i++)
        if (lbs[i] < lbs[i - 1] - 1e-10 * fabs(lbs[i - 1]))
            fail_msg("init %s: lower bound fell from %.17g to %.17g at iteration %d",
                     emgmm_init_method_name(c->init), lbs[i - 1], lbs[i], i + 1);
    assert_true(lbs[count - 1] > lbs[0]);
    /* the last lower bound was taken before the last M-step, which cannot lower the
     * likelihood: the final model scores at least as well */
    double score;
    assert_int_equal(emgmm_score(m, &X, &score), EMGMM_OK);
    if (score < lbs[count - 1] - 1e-10 * fabs(lbs[count - 1]))
        fail_msg("score %.17g below the last lower bound %.17g", score, lbs[count - 1]);
    emgmm_model_free(m);
    tu_mixture_free(&mix);
}

/* proba rows sum to 1 and their argmax is predict; the mean of score_samples is score; the
 * per-sample log-density is the log-sum-exp behind the posteriors (checked through
 * score_samples(x) = log p(x) >= log of any single weighted component, i.e. proba <= 1). */
static void predictions_are_mutually_consistent(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0xc0de);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 2000, 5, 4, 1.0, 2.0, 2.0);
    const int K = 4, d = 5;
    const size_t n = mix.n;
    emgmm_params p = emgmm_params_default();
    p.seed = 9;
    const emgmm_data X = emgmm_data_f64(mix.x, n, (size_t)d, (size_t)d);
    emgmm_model *m = tu_fit(K, EMGMM_COV_FULL, &p, &X);
    emgmm_model_set_n_threads(m, 2);
    int32_t *lab = tu_xmalloc(sizeof(int32_t) * n);
    double *pr = tu_xmalloc(sizeof(double) * n * K), *ls = tu_xmalloc(sizeof(double) * n);
    double score = NAN;
    assert_int_equal(emgmm_predict(m, &X, lab), EMGMM_OK);
    assert_int_equal(emgmm_predict_proba(m, &X, pr), EMGMM_OK);
    assert_int_equal(emgmm_score_samples(m, &X, ls), EMGMM_OK);
    assert_int_equal(emgmm_score(m, &X, &score), EMGMM_OK);
    double mean = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = 0.0, best = -1.0;
        int arg = -1;
        for (int k = 0; k < K; k++) {
            const double q = pr[i * K + k];
            assert_true(q >= 0.0 && q <= 1.0);
            s += q;
            if (q > best) {
                best = q;
                arg = k;
            }
        }
        tu_assert_close(s, 1.0, 1e-12, 0.0, "row %zu of predict_proba sums", i);
        if (lab[i] != arg && pr[i * K + lab[i]] < best) /* exact ties may go either way */
            fail_msg("row %zu: predict %d but argmax of proba %d", i, lab[i], arg);
        assert_true(isfinite(ls[i]));
        mean += ls[i];
    }
    mean /= (double)n;
    tu_assert_close(score, mean, 1e-12, 0.0, "score vs mean of score_samples");

    /* Predictions are per row: one thread gives the same answers as two. */
    emgmm_model_set_n_threads(m, 1);
    double *ls1 = tu_xmalloc(sizeof(double) * n), score1 = NAN;
    int32_t *lab1 = tu_xmalloc(sizeof(int32_t) * n);
    assert_int_equal(emgmm_score_samples(m, &X, ls1), EMGMM_OK);
    assert_int_equal(emgmm_predict(m, &X, lab1), EMGMM_OK);
    assert_int_equal(emgmm_score(m, &X, &score1), EMGMM_OK);
    for (size_t i = 0; i < n; i++)
        tu_assert_close(ls1[i], ls[i], 1e-12, 0.0, "score_samples[%zu], 1 vs 2 threads", i);
    tu_assert_close(score1, score, 1e-12, 0.0, "score, 1 vs 2 threads");
    assert_memory_equal(lab1, lab, sizeof(int32_t) * n);
    free(ls1);
    free(lab1);

    /* A row subset through a strided view gives the same per-row answers. */
    const size_t ld = 2 * (size_t)d; /* every second row, read as one strided matrix */
    const emgmm_data Xs = emgmm_data_f64(mix.x, n / 2, (size_t)d, ld);
    double *ls2 = tu_xmalloc(sizeof(double) * (n / 2));
    assert_int_equal(emgmm_score_samples(m, &Xs, ls2), EMGMM_OK);
    for (size_t i = 0; i < n / 2; i++)
        tu_assert_close(ls2[i], ls[2 * i], 1e-12, 0.0, "strided score_samples[%zu]", i);
    free(ls2);
    free(lab);
    free(pr);
    free(ls);
    emgmm_model_free(m);
    tu_mixture_free(&mix);
}

/* scikit-learn's definitions: p = K·d(d+1)/2 + K·d + K − 1 free parameters for full
 * covariances, BIC = −2·n·score + p·ln n, AIC = −2·n·score + 2p. */
static void bic_and_aic_follow_their_formulas(void **state)
{
    (void)state;
    const int dims[] = {1, 3, 7}, comps[] = {1, 2, 5};
    for (int t = 0; t < 3; t++) {
        const int d = dims[t], K = comps[t];
        tu_rng r;
        tu_rng_seed(&r, 0xb1c + (uint64_t)t);
        tu_mixture mix;
        tu_mixture_make(&mix, &r, 700, d, K, 1.0, 4.0, 4.0);
        emgmm_params p = emgmm_params_default();
        const emgmm_data X = emgmm_data_f64(mix.x, mix.n, (size_t)d, (size_t)d);
        emgmm_model *m = tu_fit(K, EMGMM_COV_FULL, &p, &X);
        const long want_p = (long)K * d * (d + 1) / 2 + (long)K * d + K - 1;
        assert_int_equal(emgmm_model_n_parameters(m), want_p);
        double score, bic, aic;
        assert_int_equal(emgmm_score(m, &X, &score), EMGMM_OK);
        assert_int_equal(emgmm_bic(m, &X, &bic), EMGMM_OK);
        assert_int_equal(emgmm_aic(m, &X, &aic), EMGMM_OK);
        const double nn = (double)mix.n;
        tu_assert_close(bic, -2.0 * nn * score + (double)want_p * log(nn), 1e-12, 0.0,
                        "bic d=%d K=%d", d, K);
        tu_assert_close(aic, -2.0 * nn * score + 2.0 * (double)want_p, 1e-12, 0.0, "aic d=%d K=%d",
                        d, K);
        emgmm_model_free(m);
        tu_mixture_free(&mix);
    }
}

/* The documented loop — fit_init, then fit_iterate until fit_converged or max_iter — is one
 * initialisation of emgmm_fit: same iterations, same bytes. */
static void step_by_step_loop_equals_fit(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0x57e9);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 1500, 4, 3, 1.0, 3.0, 3.0);
    const int K = 3, d = 4;
    emgmm_params p = emgmm_params_default();
    p.seed = 2385;
    p.tol = 1e-5;
    p.n_threads = 2;
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, (size_t)d, (size_t)d);
    emgmm_model *a = tu_fit(K, EMGMM_COV_FULL, &p, &X);
    emgmm_model *b = NULL;
    assert_int_equal(emgmm_model_create(&b, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_fit_init(b, &p, &X), EMGMM_OK);
    double lb;
    do {
        assert_int_equal(emgmm_fit_iterate(b, &p, &X, &lb), EMGMM_OK);
        assert_true(lb == emgmm_model_lower_bound(b));
    } while (!emgmm_fit_converged(b, p.tol) && emgmm_model_n_iter(b) < p.max_iter);
    assert_int_equal(emgmm_model_n_iter(b), emgmm_model_n_iter(a));
    assert_int_equal(emgmm_model_converged(b), emgmm_model_converged(a));
    assert_memory_equal(emgmm_model_weights(a), emgmm_model_weights(b), sizeof(double) * K);
    assert_memory_equal(emgmm_model_means(a), emgmm_model_means(b), sizeof(double) * K * d);
    assert_memory_equal(emgmm_model_covariances(a), emgmm_model_covariances(b),
                        sizeof(double) * K * d * d);
    emgmm_model_free(a);
    emgmm_model_free(b);
    tu_mixture_free(&mix);
}

/* init = user starts from the parameters in the model, so a fit of 4 iterations followed by a
 * user-init fit of 6 more is one fit of 10 iterations. */
static void user_init_continues_from_the_current_model(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0xc047);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 1200, 3, 3, 1.0, 2.5, 2.0);
    const int K = 3, d = 3;
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, (size_t)d, (size_t)d);
    emgmm_params p = emgmm_params_default();
    p.seed = 12;
    p.tol = 0.0;
    p.max_iter = 10;
    emgmm_model *whole = tu_fit(K, EMGMM_COV_FULL, &p, &X);
    p.max_iter = 4;
    emgmm_model *part = tu_fit(K, EMGMM_COV_FULL, &p, &X);
    p.init = EMGMM_INIT_USER;
    p.max_iter = 6;
    const int rc = emgmm_fit(part, &p, &X);
    assert_int_equal(rc, EMGMM_OK);
    assert_int_equal(emgmm_model_n_iter(part), 6);
    tu_assert_gmm_close(K, d, emgmm_model_weights(part), emgmm_model_means(part),
                        emgmm_model_covariances(part), emgmm_model_weights(whole),
                        emgmm_model_means(whole), emgmm_model_covariances(whole), 1e-12,
                        "4 + 6 iterations vs 10");
    int cw, cp;
    const double *lw = emgmm_model_lower_bounds(whole, &cw),
                 *lp = emgmm_model_lower_bounds(part, &cp);
    for (int i = 0; i < cp; i++)
        tu_assert_close(lp[i], lw[4 + i], 1e-12, 0.0, "lower bound of iteration %d", 5 + i);
    emgmm_model_free(whole);
    emgmm_model_free(part);
    tu_mixture_free(&mix);
}

/* Convergence is |Δ lower bound| < tol, strictly, as in scikit-learn: with tol equal to the
 * change at iteration 4 the fit goes on; with the next double above it, it stops at 4. */
static void convergence_test_is_strictly_less_than_tol(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0x7011);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 1000, 2, 3, 1.0, 2.0, 2.0);
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, 2, 2);
    emgmm_params p = emgmm_params_default();
    p.seed = 99;
    p.tol = 0.0;
    p.max_iter = 8;
    emgmm_model *m = tu_fit(3, EMGMM_COV_FULL, &p, &X);
    int count;
    const double *lbs = emgmm_model_lower_bounds(m, &count);
    const double d4 = fabs(lbs[3] - lbs[2]);
    /* the test needs the changes before iteration 4 to be larger than the one at 4 */
    assert_true(fabs(lbs[1] - lbs[0]) > d4 && fabs(lbs[2] - lbs[1]) > d4 && d4 > 0.0);
    emgmm_model_free(m);
    p.tol = d4;
    m = tu_fit(3, EMGMM_COV_FULL, &p, &X);
    assert_true(emgmm_model_n_iter(m) > 4 || !emgmm_model_converged(m));
    emgmm_model_free(m);
    p.tol = nextafter(d4, INFINITY);
    m = tu_fit(3, EMGMM_COV_FULL, &p, &X);
    assert_int_equal(emgmm_model_n_iter(m), 4);
    assert_int_equal(emgmm_model_converged(m), 1);
    emgmm_model_free(m);
    tu_mixture_free(&mix);
}

/* The model keeps no pointer to the caller's data, and a copy is independent of its original:
 * after the fitted data are overwritten and the original refit elsewhere, the copy still
 * predicts what the original did. */
static void model_owns_its_state(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 0x0e1);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 600, 3, 2, 1.0, 4.0, 3.0);
    const size_t n = mix.n;
    double *x = tu_xmalloc(sizeof(double) * n * 3);
    memcpy(x, mix.x, sizeof(double) * n * 3);
    emgmm_params p = emgmm_params_default();
    const emgmm_data X = emgmm_data_f64(x, n, 3, 3);
    emgmm_model *m = tu_fit(2, EMGMM_COV_FULL, &p, &X);
    const emgmm_data Xkeep = emgmm_data_f64(mix.x, n, 3, 3);
    double *before = tu_xmalloc(sizeof(double) * n), *after = tu_xmalloc(sizeof(double) * n);
    assert_int_equal(emgmm_score_samples(m, &Xkeep, before), EMGMM_OK);
    emgmm_model *c = NULL;
    assert_int_equal(emgmm_model_copy(&c, m), EMGMM_OK);
    for (size_t i = 0; i < n * 3; i++) x[i] = NAN;
    assert_int_equal(emgmm_score_samples(m, &Xkeep, after), EMGMM_OK);
    assert_memory_equal(before, after, sizeof(double) * n);
    /* refit the original on other data (the first 100 rows, widened) */
    for (size_t i = 0; i < 100 * 3; i++) x[i] = 2.385 * mix.x[i];
    const emgmm_data X2 = emgmm_data_f64(x, 100, 3, 3);
    assert_int_equal(emgmm_fit(m, &p, &X2), EMGMM_OK);
    assert_int_equal(emgmm_score_samples(c, &Xkeep, after), EMGMM_OK);
    assert_memory_equal(before, after, sizeof(double) * n);
    free(before);
    free(after);
    free(x);
    emgmm_model_free(m);
    emgmm_model_free(c);
    tu_mixture_free(&mix);
}

/* sample draws from the model: reproducible by seed, labels in range, and the sample means of
 * a large draw lie within a few standard errors of the model's means. */
static void sample_is_seeded_and_follows_the_model(void **state)
{
    (void)state;
    const int K = 2, d = 2;
    const double w[2] = {0.385, 0.615}, mu[4] = {-2.385, 1.0, 4.0, 0.5};
    const double cov[8] = {1.0, 0.3, 0.3, 0.5, 2.0, -0.4, -0.4, 0.8};
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov), EMGMM_OK);
    const size_t n = 20000;
    double *x = tu_xmalloc(sizeof(double) * n * d), *y = tu_xmalloc(sizeof(double) * n * d);
    int32_t *c = tu_xmalloc(sizeof(int32_t) * n), *c2 = tu_xmalloc(sizeof(int32_t) * n);
    assert_int_equal(emgmm_sample(m, n, 5, x, c), EMGMM_OK);
    assert_int_equal(emgmm_sample(m, n, 5, y, c2), EMGMM_OK);
    assert_memory_equal(x, y, sizeof(double) * n * d);
    assert_memory_equal(c, c2, sizeof(int32_t) * n);
    double sum[2][2] = {{0}}, cnt[2] = {0};
    for (size_t i = 0; i < n; i++) {
        assert_true(c[i] == 0 || c[i] == 1);
        cnt[c[i]] += 1.0;
        for (int j = 0; j < d; j++) sum[c[i]][j] += x[i * d + j];
    }
    for (int k = 0; k < K; k++) {
        assert_true(fabs(cnt[k] / n - w[k]) < 5.0 * sqrt(w[k] * (1 - w[k]) / n));
        for (int j = 0; j < d; j++)
            assert_true(fabs(sum[k][j] / cnt[k] - mu[k * d + j]) <
                        5.0 * sqrt(cov[k * 4 + j * 3] / cnt[k]));
    }
    free(x);
    free(y);
    free(c);
    free(c2);
    emgmm_model_free(m);
}

static const mono_case mono_kmeans = {2, 5, EMGMM_INIT_KMEANS, 1500, 1.5, 0x301};
static const mono_case mono_kmeanspp = {4, 4, EMGMM_INIT_KMEANSPP, 1500, 1.0, 0x302};
static const mono_case mono_random = {3, 4, EMGMM_INIT_RANDOM, 1500, 1.0, 0x303};
static const mono_case mono_rfd = {16, 3, EMGMM_INIT_RANDOM_FROM_DATA, 2000, 2.0, 0x304};

#define MONO(c)                                                                                    \
    {                                                                                              \
        "lower_bound_never_decreases_" #c, lower_bound_never_decreases, NULL, NULL, (void *)&c     \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        MONO(mono_kmeans),
        MONO(mono_kmeanspp),
        MONO(mono_random),
        MONO(mono_rfd),
        cmocka_unit_test(predictions_are_mutually_consistent),
        cmocka_unit_test(bic_and_aic_follow_their_formulas),
        cmocka_unit_test(step_by_step_loop_equals_fit),
        cmocka_unit_test(user_init_continues_from_the_current_model),
        cmocka_unit_test(convergence_test_is_strictly_less_than_tol),
        cmocka_unit_test(model_owns_its_state),
        cmocka_unit_test(sample_is_seeded_and_follows_the_model),
    };
    return cmocka_run_group_tests_name("properties", tests, NULL, NULL);
}
