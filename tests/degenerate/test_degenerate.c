/* Degenerate data and collapsing components (issue 6): what each policy does
 * with duplicate points, a constant feature, fewer distinct points than K,
 * features on scales 1e-8 and 1e8, a component that loses all its points,
 * n = K and d > n.  Every test asserts the outcome: the status and the
 * component it names, the fitted parameters, the lower bounds, the reseeds. */
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

static const char *const pname[2] = {"error", "reseed"};

static emgmm_params params(int policy, double reg, double floor)
{
    emgmm_params p = emgmm_params_default();
    p.degenerate = policy;
    p.reg_covar = reg;
    p.var_floor = floor;
    p.seed = 11;
    return p;
}

static emgmm_model *model(int K, int d, int cov)
{
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, cov), EMGMM_OK);
    return m;
}

/* Lower bounds from iteration `from` (1-based) on never decrease (to rounding). */
static void assert_monotone_from(const emgmm_model *m, int from, const char *what)
{
    int n = 0;
    const double *lb = emgmm_model_lower_bounds(m, &n);
    for (int i = from; i < n; i++)
        if (lb[i] < lb[i - 1] - 1e-12 * fabs(lb[i - 1])) {
            print_error("%s: lower bound fell from %.17g (iteration %d) to %.17g (iteration %d)\n",
                        what, lb[i - 1], i, lb[i], i + 1);
            fail();
        }
}

static int component_at(const emgmm_model *m, const double *pt)
{
    const int K = emgmm_model_n_components(m), d = emgmm_model_n_features(m);
    const double *mu = emgmm_model_means(m);
    for (int k = 0; k < K; k++) {
        double dist = 0.0;
        for (int j = 0; j < d; j++) dist = fmax(dist, fabs(mu[(size_t)k * d + j] - pt[j]));
        if (dist < 1e-9) return k;
    }
    return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* A component that loses all its points: two clusters, and a third component started 1e4    */
/* away, whose responsibilities underflow to exactly 0 at the first E-step.                   */
/* ---------------------------------------------------------------------------------------- */
#define FAR_N 600
static double far_x[FAR_N * 2];

static void far_data(void)
{
    tu_rng r;
    tu_rng_seed(&r, 0x6d);
    for (size_t i = 0; i < FAR_N; i++) {
        const int k = (int)(i % 3); /* cluster 0 holds 2/3: a third component has room */
        far_x[i * 2] = (k == 2 ? 6.0 : -2.0) + (k == 1 ? 1.7 : 0.9) * tu_normal(&r);
        far_x[i * 2 + 1] = (k == 1 ? 2.385 : 0.0) + 0.8 * tu_normal(&r);
    }
}

static emgmm_model *far_model(int cov)
{
    emgmm_model *m = model(3, 2, cov);
    const double w[3] = {0.45, 0.45, 0.1}, mu[6] = {-2.0, 0.5, 6.0, 0.0, 1e4, 1e4};
    double c[12];
    const size_t len = cov == EMGMM_COV_FULL   ? 12
                       : cov == EMGMM_COV_TIED ? 4
                       : cov == EMGMM_COV_DIAG ? 6
                                               : 3;
    for (size_t i = 0; i < len; i++) c[i] = 1.0;
    if (cov == EMGMM_COV_FULL)
        for (int k = 0; k < 3; k++) c[k * 4 + 1] = c[k * 4 + 2] = 0.0;
    if (cov == EMGMM_COV_TIED) c[1] = c[2] = 0.0;
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, c), EMGMM_OK);
    return m;
}

static void empty_component_error_policy_behaves_as_sklearn(void **state)
{
    (void)state;
    far_data();
    for (int cov = 0; cov < 4; cov++) {
        emgmm_model *m = far_model(cov);
        emgmm_params p = params(EMGMM_DEGEN_ERROR, 1e-6, 0.0);
        p.init = EMGMM_INIT_USER;
        const emgmm_data X = emgmm_data_f64(far_x, FAR_N, 2, 2);
        assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
        /* scikit-learn: mean Σ r x / (N_k + 10ε) = 0, weight ~10ε, never revived (tied:
         * the shared covariance is wide enough for the dead component to take a few 1e-15
         * of responsibility, so its mean moves, but it stays dead) */
        const double *mu = emgmm_model_means(m);
        if (cov != EMGMM_COV_TIED) assert_true(mu[4] == 0.0 && mu[5] == 0.0);
        assert_true(emgmm_model_weights(m)[2] < 1e-12);
        assert_int_equal(emgmm_model_n_reseeds(m), 0);
        emgmm_model_free(m);
    }
}

static void empty_component_is_reseeded_reported_and_fits_better(void **state)
{
    (void)state;
    far_data();
    for (int cov = 0; cov < 4; cov++) {
        const char *cname = emgmm_covariance_type_name(cov);
        const emgmm_data X = emgmm_data_f64(far_x, FAR_N, 2, 2);
        double lb[2];
        for (int pol = 0; pol < 2; pol++) {
            emgmm_model *m = far_model(cov);
            emgmm_params p = params(pol, 1e-6, 0.0);
            p.init = EMGMM_INIT_USER;
            p.tol = 1e-10;
            p.max_iter = 500;
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
            lb[pol] = emgmm_model_lower_bound(m);
            if (pol == EMGMM_DEGEN_ERROR) {
                emgmm_model_free(m);
                continue;
            }
            /* reported: the first iteration's M-step found component 2 empty */
            assert_true(emgmm_model_n_reseeds(m) >= 1);
            int it = -1, comp = -1;
            double ld = 0.0;
            assert_int_equal(emgmm_model_reseed_event(m, 0, &it, &comp, &ld), EMGMM_OK);
            assert_int_equal(it, 1);
            assert_int_equal(comp, 2);
            assert_true(isfinite(ld));
            assert_int_equal(
                emgmm_model_reseed_event(m, emgmm_model_n_reseeds(m), NULL, NULL, NULL),
                EMGMM_ERR_INVALID_PARAM);
            /* the component is alive and somewhere in the data */
            const double *mu = emgmm_model_means(m);
            assert_true(emgmm_model_weights(m)[2] > 1e-3);
            assert_true(fabs(mu[4]) < 20.0 && fabs(mu[5]) < 20.0);
            /* the lower bound may drop once (iteration last_reseed + 1 vs the one before),
             * and never again */
            int last = 0;
            for (int i = 0; i < emgmm_model_n_reseeds(m); i++) {
                emgmm_model_reseed_event(m, i, &it, NULL, NULL);
                last = it;
            }
            assert_monotone_from(m, last + 2, cname);
            assert_true(emgmm_model_converged(m));
            assert_true(emgmm_model_n_iter(m) >= last + 2);
            emgmm_model_free(m);
        }
        /* three live components explain the data better than two and a dead one */
        if (!(lb[EMGMM_DEGEN_RESEED] > lb[EMGMM_DEGEN_ERROR] + 1e-3)) {
            print_error("%s: reseed lower bound %.10g, error policy %.10g\n", cname,
                        lb[EMGMM_DEGEN_RESEED], lb[EMGMM_DEGEN_ERROR]);
            fail();
        }
    }
}

/* Convergence is never declared on the iteration that reseeds nor on the next one, whose
 * change spans the reseed: with a tolerance so large that any change passes, the error
 * policy stops at iteration 2 and the reseed policy only at 3. */
static void convergence_is_not_declared_across_a_reseed(void **state)
{
    (void)state;
    far_data();
    const emgmm_data X = emgmm_data_f64(far_x, FAR_N, 2, 2);
    for (int pol = 0; pol < 2; pol++) {
        emgmm_model *m = far_model(EMGMM_COV_FULL);
        emgmm_params p = params(pol, 1e-6, 0.0);
        p.init = EMGMM_INIT_USER;
        p.tol = 1e300;
        assert_int_equal(emgmm_fit_init(m, &p, &X), EMGMM_OK);
        double lb;
        int iters = 0;
        do {
            assert_int_equal(emgmm_fit_iterate(m, &p, &X, &lb), EMGMM_OK);
            iters++;
        } while (!emgmm_fit_converged(m, p.tol) && iters < 10);
        assert_int_equal(iters, pol == EMGMM_DEGEN_RESEED ? 3 : 2);
        assert_int_equal(emgmm_model_n_reseeds(m), pol == EMGMM_DEGEN_RESEED ? 1 : 0);
        /* emgmm_fit gives the same */
        emgmm_model *f = far_model(EMGMM_COV_FULL);
        assert_int_equal(emgmm_fit(f, &p, &X), EMGMM_OK);
        assert_int_equal(emgmm_model_n_iter(f), iters);
        assert_memory_equal(emgmm_model_means(f), emgmm_model_means(m), 6 * sizeof(double));
        emgmm_model_free(f);
        emgmm_model_free(m);
    }
}

/* Same data, params and threads: the same reseeds and a bitwise-identical model; a copy
 * carries the events. */
static void reseeds_are_deterministic_and_copied(void **state)
{
    (void)state;
    far_data();
    const emgmm_data X = emgmm_data_f64(far_x, FAR_N, 2, 2);
    emgmm_params p = params(EMGMM_DEGEN_RESEED, 1e-6, 0.0);
    p.init = EMGMM_INIT_USER;
    p.n_threads = 2;
    p.block_size = 64;
    emgmm_model *a = far_model(EMGMM_COV_FULL), *b = far_model(EMGMM_COV_FULL), *c = NULL;
    assert_int_equal(emgmm_fit(a, &p, &X), EMGMM_OK);
    assert_int_equal(emgmm_fit(b, &p, &X), EMGMM_OK);
    assert_memory_equal(emgmm_model_means(a), emgmm_model_means(b), 6 * sizeof(double));
    assert_memory_equal(emgmm_model_covariances(a), emgmm_model_covariances(b),
                        12 * sizeof(double));
    assert_int_equal(emgmm_model_copy(&c, a), EMGMM_OK);
    assert_int_equal(emgmm_model_n_reseeds(c), emgmm_model_n_reseeds(a));
    for (int i = 0; i < emgmm_model_n_reseeds(a); i++) {
        int ia, ic, ka, kc;
        double la, lc;
        emgmm_model_reseed_event(a, i, &ia, &ka, &la);
        emgmm_model_reseed_event(c, i, &ic, &kc, &lc);
        assert_true(ia == ic && ka == kc && la == lc);
    }
    /* new parameters clear the old fit's record */
    assert_true(emgmm_model_n_reseeds(b) > 0);
    const double w[3] = {0.45, 0.45, 0.1}, mu[6] = {-2.0, 0.5, 6.0, 0.0, 1e4, 1e4};
    const double cv[12] = {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1};
    assert_int_equal(emgmm_model_set_parameters(b, w, mu, cv), EMGMM_OK);
    assert_int_equal(emgmm_model_n_reseeds(b), 0);
    emgmm_model_free(a);
    emgmm_model_free(b);
    emgmm_model_free(c);
}

/* float32 data: the same reseed (the scoring pass runs on float rows). */
static void empty_component_is_reseeded_on_float32_data(void **state)
{
    (void)state;
    far_data();
    float xf[FAR_N * 2];
    for (size_t i = 0; i < FAR_N * 2; i++) xf[i] = (float)far_x[i];
    const emgmm_data X = emgmm_data_f32(xf, FAR_N, 2, 2);
    double lb[2];
    for (int pol = 0; pol < 2; pol++) {
        emgmm_model *m = far_model(EMGMM_COV_FULL);
        emgmm_params p = params(pol, 1e-6, 0.0);
        p.init = EMGMM_INIT_USER;
        p.tol = 1e-10;
        p.max_iter = 500;
        assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
        lb[pol] = emgmm_model_lower_bound(m);
        assert_int_equal(emgmm_model_n_reseeds(m) >= 1, pol == EMGMM_DEGEN_RESEED);
        emgmm_model_free(m);
    }
    assert_true(lb[EMGMM_DEGEN_RESEED] > lb[EMGMM_DEGEN_ERROR] + 1e-3);
}

/* A row of weight 0 is not in the fit, so it is never a reseed point; with weight 1 the
 * same far row is the worst explained and becomes the reseeded mean exactly. */
static void reseed_points_carry_weight(void **state)
{
    (void)state;
    far_data();
    double x[(FAR_N + 1) * 2], w[FAR_N + 1];
    memcpy(x, far_x, sizeof far_x);
    x[FAR_N * 2] = 50.0;
    x[FAR_N * 2 + 1] = -40.0;
    for (int i = 0; i <= FAR_N; i++) w[i] = 1.0 + 0.25 * (i % 3);
    for (int zero = 0; zero < 2; zero++) {
        w[FAR_N] = zero ? 0.0 : 1.0;
        emgmm_data X = emgmm_data_f64(x, FAR_N + 1, 2, 2);
        X.weights = w;
        emgmm_model *m = far_model(EMGMM_COV_DIAG);
        emgmm_params p = params(EMGMM_DEGEN_RESEED, 1e-6, 0.0);
        p.init = EMGMM_INIT_USER;
        assert_int_equal(emgmm_fit_init(m, &p, &X), EMGMM_OK);
        double lb;
        assert_int_equal(emgmm_fit_iterate(m, &p, &X, &lb), EMGMM_OK);
        assert_int_equal(emgmm_model_n_reseeds(m), 1);
        const double *mu = emgmm_model_means(m) + 4;
        const int at_far = mu[0] == 50.0 && mu[1] == -40.0;
        assert_int_equal(at_far, !zero);
        if (zero) { /* then it is one of the weighted rows */
            int found = 0;
            for (int i = 0; i < FAR_N; i++) found |= mu[0] == x[i * 2] && mu[1] == x[i * 2 + 1];
            assert_true(found);
        }
        emgmm_model_free(m);
    }
}

/* Two components started identical stay identical under EM (error: scikit-learn's
 * behaviour); under reseed the second counts as collapsed onto the first and is moved. */
static void identical_components_are_separated_by_reseed(void **state)
{
    (void)state;
    far_data();
    const emgmm_data X = emgmm_data_f64(far_x, FAR_N, 2, 2);
    const double w[3] = {0.3, 0.3, 0.4}, mu[6] = {-2.0, 0.5, -2.0, 0.5, 6.0, 0.0};
    const double cv[12] = {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1};
    double lb[2];
    for (int pol = 0; pol < 2; pol++) {
        emgmm_model *m = model(3, 2, EMGMM_COV_FULL);
        assert_int_equal(emgmm_model_set_parameters(m, w, mu, cv), EMGMM_OK);
        emgmm_params p = params(pol, 1e-6, 0.0);
        p.init = EMGMM_INIT_USER;
        p.tol = 1e-10;
        p.max_iter = 500;
        assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
        const double *mf = emgmm_model_means(m);
        const int same = mf[0] == mf[2] && mf[1] == mf[3];
        assert_int_equal(same, pol == EMGMM_DEGEN_ERROR);
        if (pol == EMGMM_DEGEN_RESEED) {
            int it, k;
            assert_int_equal(emgmm_model_reseed_event(m, 0, &it, &k, NULL), EMGMM_OK);
            assert_true(it == 1 && k == 1);
        }
        lb[pol] = emgmm_model_lower_bound(m);
        emgmm_model_free(m);
    }
    assert_true(lb[EMGMM_DEGEN_RESEED] > lb[EMGMM_DEGEN_ERROR] + 1e-3);
}

/* ---------------------------------------------------------------------------------------- */
/* Many exact duplicates: 200 copies of one point among 300 rows.                            */
/* ---------------------------------------------------------------------------------------- */
static double dup_x[300 * 2];
static const double dup_pt[2] = {2.385, -1.5};

static void dup_data(void)
{
    tu_rng r;
    tu_rng_seed(&r, 7);
    for (size_t i = 0; i < 300; i++) {
        if (i % 3 != 2) {
            dup_x[i * 2] = dup_pt[0];
            dup_x[i * 2 + 1] = dup_pt[1];
        } else {
            dup_x[i * 2] = 6.0 + tu_normal(&r);
            dup_x[i * 2 + 1] = 6.0 + tu_normal(&r);
        }
    }
}

static void duplicates_get_one_component_with_variance_reg_covar(void **state)
{
    (void)state;
    dup_data();
    const emgmm_data X = emgmm_data_f64(dup_x, 300, 2, 2);
    for (int pol = 0; pol < 2; pol++)
        for (int K = 2; K <= 3; K++) {
            emgmm_model *m = model(K, 2, EMGMM_COV_FULL);
            emgmm_params p = params(pol, 1e-6, 0.0);
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
            const int k = component_at(m, dup_pt);
            if (k < 0) fail_msg("%s K=%d: no component at the duplicated point", pname[pol], K);
            tu_assert_close(emgmm_model_weights(m)[k], 2.0 / 3.0, 1e-9, 0.0, "weight");
            const double *S = emgmm_model_covariances(m) + (size_t)k * 4;
            /* the duplicates' own variance is 0: what is left is reg_covar */
            tu_assert_close(S[0], 1e-6, 1e-6, 0.0, "%s K=%d: variance 0", pname[pol], K);
            tu_assert_close(S[3], 1e-6, 1e-6, 0.0, "%s K=%d: variance 1", pname[pol], K);
            assert_int_equal(emgmm_model_n_reseeds(m), 0);
            emgmm_model_free(m);
        }
}

static void duplicates_without_reg_covar(void **state)
{
    (void)state;
    dup_data();
    const emgmm_data X = emgmm_data_f64(dup_x, 300, 2, 2);
    /* error: the component on the duplicates is named */
    emgmm_model *m = model(3, 2, EMGMM_COV_FULL);
    emgmm_params p = params(EMGMM_DEGEN_ERROR, 0.0, 0.0);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NOT_PD);
    int comp = -2;
    emgmm_model_error_location(m, NULL, NULL, &comp);
    assert_true(comp >= 0 && comp < 3);
    assert_non_null(strstr(emgmm_model_last_error(m), "var_floor"));
    assert_false(emgmm_model_is_fitted(m));
    /* reseed: whichever component lands on the duplicates collapses again; after
     * EMGMM_RESEED_LIMIT reseeds of one component the fit gives up, naming it */
    p.degenerate = EMGMM_DEGEN_RESEED;
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_DEGENERATE);
    emgmm_model_error_location(m, NULL, NULL, &comp);
    assert_true(comp >= 0 && comp < 3);
    assert_non_null(strstr(emgmm_model_last_error(m), "reseeds"));
    assert_false(emgmm_model_is_fitted(m));
    /* the variance floor is what fits it: the duplicates' variances sit exactly at the floor */
    for (int pol = 0; pol < 2; pol++) {
        p = params(pol, 0.0, 1e-3);
        assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
        const int k = component_at(m, dup_pt);
        assert_true(k >= 0);
        double mean[2] = {0, 0}, var[2] = {0, 0};
        for (size_t i = 0; i < 300; i++)
            for (int j = 0; j < 2; j++) mean[j] += dup_x[i * 2 + j] / 300.0;
        for (size_t i = 0; i < 300; i++)
            for (int j = 0; j < 2; j++) var[j] += pow(dup_x[i * 2 + j] - mean[j], 2) / 300.0;
        const double *S = emgmm_model_covariances(m) + (size_t)k * 4;
        tu_assert_close(S[0], 1e-3 * var[0], 1e-9, 0.0, "%s: floored variance 0", pname[pol]);
        tu_assert_close(S[3], 1e-3 * var[1], 1e-9, 0.0, "%s: floored variance 1", pname[pol]);
    }
    emgmm_model_free(m);
}

/* ---------------------------------------------------------------------------------------- */
/* A constant feature.                                                                       */
/* ---------------------------------------------------------------------------------------- */
static void constant_feature(void **state)
{
    (void)state;
    const size_t n = 400;
    double *x = tu_xmalloc(n * 3 * sizeof(double));
    int32_t *truth = tu_xmalloc(n * sizeof(int32_t)), *lab = tu_xmalloc(n * sizeof(int32_t));
    tu_rng r;
    tu_rng_seed(&r, 31);
    for (size_t i = 0; i < n; i++) {
        truth[i] = (int32_t)(i % 2);
        x[i * 3] = (truth[i] ? 5.0 : -5.0) + tu_normal(&r);
        x[i * 3 + 1] = 7.25; /* constant */
        x[i * 3 + 2] = 1.1 * tu_normal(&r);
    }
    const emgmm_data X = emgmm_data_f64(x, n, 3, 3);
    for (int cov = 0; cov < 4; cov++)
        for (int pol = 0; pol < 2; pol++) {
            /* with reg_covar the feature costs nothing: clusters found, its variance = reg */
            emgmm_model *m = model(2, 3, cov);
            emgmm_params p = params(pol, 1e-6, 0.0);
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
            assert_int_equal(emgmm_predict(m, &X, lab), EMGMM_OK);
            tu_assert_close(tu_ari(truth, lab, n, 2, 2), 1.0, 1e-12, 0.0, "ARI");
            assert_int_equal(emgmm_model_n_reseeds(m), 0);
            const double *S = emgmm_model_covariances(m);
            if (cov == EMGMM_COV_FULL)
                tu_assert_close(S[4], 1e-6, 1e-6, 0.0, "variance of the constant");
            if (cov == EMGMM_COV_TIED)
                tu_assert_close(S[4], 1e-6, 1e-6, 0.0, "variance of the constant");
            if (cov == EMGMM_COV_DIAG)
                tu_assert_close(S[1], 1e-6, 1e-6, 0.0, "variance of the constant");
            /* without: every component is singular, whatever the policy (reseeding
             * cannot help, and the floor of a constant feature is 0) */
            p = params(pol, 0.0, 1e-3);
            int st = emgmm_fit(m, &p, &X);
            if (cov == EMGMM_COV_SPHERICAL) {
                /* one variance per component: the other features keep it positive */
                assert_int_equal(st, EMGMM_OK);
            } else {
                assert_int_equal(st, EMGMM_ERR_NOT_PD);
                assert_non_null(strstr(emgmm_model_last_error(m), "reg_covar"));
                int comp = -2;
                emgmm_model_error_location(m, NULL, NULL, &comp);
                /* a tied covariance belongs to no one component */
                if (cov == EMGMM_COV_TIED)
                    assert_int_equal(comp, -1);
                else
                    assert_true(comp >= 0 && comp < 2);
            }
            emgmm_model_free(m);
        }
    free(x);
    free(truth);
    free(lab);
}

/* ---------------------------------------------------------------------------------------- */
/* Fewer distinct points than components: 3 points, 20 copies each.                          */
/* ---------------------------------------------------------------------------------------- */
static void fewer_distinct_points_than_components(void **state)
{
    (void)state;
    double x[60 * 2];
    const double pts[3][2] = {{0.0, -0.5}, {2.385, 1.0}, {4.77, -0.5}};
    for (size_t i = 0; i < 60; i++) {
        x[i * 2] = pts[i % 3][0];
        x[i * 2 + 1] = pts[i % 3][1];
    }
    const emgmm_data X = emgmm_data_f64(x, 60, 2, 2);
    for (int cov = 0; cov < 4; cov++)
        for (int K = 3; K <= 5; K++) {
            /* error (scikit-learn): the spare components die at the origin with weight ~1e-17 */
            emgmm_model *m = model(K, 2, cov);
            emgmm_params p = params(EMGMM_DEGEN_ERROR, 1e-6, 0.0);
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
            int live = 0;
            for (int k = 0; k < K; k++) live += emgmm_model_weights(m)[k] > 1e-9;
            assert_int_equal(live, 3);
            for (int q = 0; q < 3; q++) assert_true(component_at(m, pts[q]) >= 0);
            /* reseed: with K = 3 nothing collapses; with more there is no point left to start
             * a new component from, and the fit says so, whatever the initialisation (random
             * rows as means pick a point twice: the copies coincide) */
            p.degenerate = EMGMM_DEGEN_RESEED;
            p.init = K % 2 ? EMGMM_INIT_KMEANS : EMGMM_INIT_RANDOM_FROM_DATA;
            const int st = emgmm_fit(m, &p, &X);
            if (K == 3) {
                assert_int_equal(st, EMGMM_OK);
                assert_int_equal(emgmm_model_n_reseeds(m), 0);
            } else {
                assert_int_equal(st, EMGMM_ERR_DEGENERATE);
                assert_non_null(strstr(emgmm_model_last_error(m), "fewer distinct points"));
                int comp = -2;
                emgmm_model_error_location(m, NULL, NULL, &comp);
                assert_true(comp >= 0 && comp < K);
                assert_int_equal(emgmm_strerror(st)[0] != '\0', 1);
            }
            emgmm_model_free(m);
        }
}

/* ---------------------------------------------------------------------------------------- */
/* Features on scales 1e-8 and 1e8: the clusters differ only in the tiny feature.            */
/* ---------------------------------------------------------------------------------------- */
static void wildly_different_scales_need_the_relative_floor(void **state)
{
    (void)state;
    const size_t n = 600;
    double *x = tu_xmalloc(n * 2 * sizeof(double));
    int32_t *truth = tu_xmalloc(n * sizeof(int32_t)), *lab = tu_xmalloc(n * sizeof(int32_t));
    tu_rng r;
    tu_rng_seed(&r, 99);
    for (size_t i = 0; i < n; i++) {
        truth[i] = (int32_t)(i % 2);
        x[i * 2] = (truth[i] ? 4e-8 : -4e-8) + 1e-8 * tu_normal(&r);
        x[i * 2 + 1] = 1e8 * tu_normal(&r);
    }
    const emgmm_data X = emgmm_data_f64(x, n, 2, 2);
    /* Started near the truth (k-means on raw data would split the 1e8 feature): the data's
     * variances and means off by a quarter of the separation. */
    const double w[2] = {0.5, 0.5}, mu[4] = {-3e-8, 1e6, 3e-8, -1e6};
    const double full[8] = {1.7e-15, 0, 0, 1e16, 1.7e-15, 0, 0, 1e16};
    const double diag[4] = {1.7e-15, 1e16, 1.7e-15, 1e16};
    for (int cov = 0; cov < 3; cov++) /* spherical cannot weigh the features apart */
        for (int pol = 0; pol < 2; pol++) {
            emgmm_model *m = model(2, 2, cov);
            const double *c0 = cov == EMGMM_COV_DIAG ? diag : full;
            /* the absolute reg_covar 1e-6 is 1e10 times the tiny feature's variance: it is
             * drowned, and the clusters are not found */
            emgmm_params p = params(pol, 1e-6, 0.0);
            p.init = EMGMM_INIT_USER;
            assert_int_equal(emgmm_model_set_parameters(m, w, mu, c0), EMGMM_OK);
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
            assert_int_equal(emgmm_predict(m, &X, lab), EMGMM_OK);
            const double ari_reg = tu_ari(truth, lab, n, 2, 2);
            /* a floor relative to each feature's variance instead: found exactly */
            p = params(pol, 0.0, 1e-6);
            p.init = EMGMM_INIT_USER;
            assert_int_equal(emgmm_model_set_parameters(m, w, mu, c0), EMGMM_OK);
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
            assert_int_equal(emgmm_predict(m, &X, lab), EMGMM_OK);
            const double ari_floor = tu_ari(truth, lab, n, 2, 2);
            if (!(ari_reg < 0.5 && ari_floor == 1.0)) {
                print_error("%s %s: ARI %.3f with reg_covar, %.3f with the floor\n",
                            emgmm_covariance_type_name(cov), pname[pol], ari_reg, ari_floor);
                fail();
            }
            /* and the tiny feature's variance is its own (1e-16), not a regulariser's */
            const double *S = emgmm_model_covariances(m);
            assert_true(S[0] > 0.5e-16 && S[0] < 2e-16);
            emgmm_model_free(m);
        }
    free(x);
    free(truth);
    free(lab);
}

/* ---------------------------------------------------------------------------------------- */
/* n = K and d > n.                                                                           */
/* ---------------------------------------------------------------------------------------- */
static void n_equal_to_k_puts_one_component_on_each_point(void **state)
{
    (void)state;
    const double x[4 * 2] = {0.0, 0.0, 3.3, 0.1, -1.2, 4.4, 2.385, -7.0};
    const emgmm_data X = emgmm_data_f64(x, 4, 2, 2);
    for (int cov = 0; cov < 4; cov++)
        for (int pol = 0; pol < 2; pol++) {
            emgmm_model *m = model(4, 2, cov);
            emgmm_params p = params(pol, 1e-6, 0.0);
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
            if (cov != EMGMM_COV_TIED) {
                for (int q = 0; q < 4; q++) {
                    const int k = component_at(m, x + q * 2);
                    if (k < 0)
                        fail_msg("%s %s: no component at point %d", emgmm_covariance_type_name(cov),
                                 pname[pol], q);
                    tu_assert_close(emgmm_model_weights(m)[k], 0.25, 1e-9, 0.0, "weight");
                }
            }
            assert_int_equal(emgmm_model_n_reseeds(m), 0);
            assert_true(isfinite(emgmm_model_lower_bound(m)));
            emgmm_model_free(m);
        }
    /* one point fewer than components: refused up front */
    emgmm_model *m = model(5, 2, EMGMM_COV_FULL);
    emgmm_params p = params(EMGMM_DEGEN_RESEED, 1e-6, 0.0);
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_TOO_FEW_SAMPLES);
    emgmm_model_free(m);
}

static void more_features_than_points(void **state)
{
    (void)state;
    enum {
        N = 12,
        D = 40
    };
    double *x = tu_xmalloc(N * D * sizeof(double));
    int32_t truth[N], lab[N];
    tu_rng r;
    tu_rng_seed(&r, 5);
    for (int i = 0; i < N; i++) {
        truth[i] = i % 2;
        for (int j = 0; j < D; j++) x[i * D + j] = (truth[i] ? 3.0 : -3.0) + 0.5 * tu_normal(&r);
    }
    const emgmm_data X = emgmm_data_f64(x, N, D, D);
    for (int cov = 0; cov < 4; cov++)
        for (int pol = 0; pol < 2; pol++) {
            emgmm_model *m = model(2, D, cov);
            emgmm_params p = params(pol, 1e-6, 0.0);
            /* each full covariance has rank <= 5 < 40: reg_covar makes it PD */
            assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
            assert_true(isfinite(emgmm_model_lower_bound(m)));
            assert_int_equal(emgmm_predict(m, &X, lab), EMGMM_OK);
            tu_assert_close(tu_ari(truth, lab, N, 2, 2), 1.0, 1e-12, 0.0, "ARI");
            assert_int_equal(emgmm_model_n_reseeds(m), 0);
            /* without reg_covar a full covariance from 6 points in 40 dimensions is singular */
            if (cov == EMGMM_COV_FULL || cov == EMGMM_COV_TIED) {
                p = params(pol, 0.0, 0.0);
                assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_ERR_NOT_PD);
            }
            emgmm_model_free(m);
        }
    free(x);
}

/* ---------------------------------------------------------------------------------------- */
/* Parameters.                                                                               */
/* ---------------------------------------------------------------------------------------- */
static void policy_params_are_validated_and_named(void **state)
{
    (void)state;
    emgmm_params p = emgmm_params_default();
    assert_int_equal(p.degenerate, EMGMM_DEGEN_RESEED);
    assert_true(p.var_floor == 0.0);
    assert_int_equal(emgmm_params_validate(&p), EMGMM_OK);
    p.degenerate = 2;
    assert_int_equal(emgmm_params_validate(&p), EMGMM_ERR_INVALID_PARAM);
    p = emgmm_params_default();
    const double bad[] = {-1e-9, 1.5, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.var_floor = bad[i];
        assert_int_equal(emgmm_params_validate(&p), EMGMM_ERR_INVALID_PARAM);
    }
    assert_string_equal(emgmm_degenerate_policy_name(EMGMM_DEGEN_ERROR), "error");
    assert_string_equal(emgmm_degenerate_policy_name(EMGMM_DEGEN_RESEED), "reseed");
    assert_null(emgmm_degenerate_policy_name(2));
    assert_int_equal(emgmm_degenerate_policy_from_name("reseed"), EMGMM_DEGEN_RESEED);
    assert_int_equal(emgmm_degenerate_policy_from_name("error"), EMGMM_DEGEN_ERROR);
    assert_int_equal(emgmm_degenerate_policy_from_name("Reseed"), -1);
    assert_non_null(strstr(emgmm_strerror(EMGMM_ERR_DEGENERATE), "collapsing"));
    assert_int_equal(emgmm_model_n_reseeds(NULL), 0);
    assert_int_equal(emgmm_model_reseed_event(NULL, 0, NULL, NULL, NULL), EMGMM_ERR_NULL);
    /* restoring a record (checkpoints): in order, within the iterations run, K·limit at most */
    emgmm_model *m = far_model(EMGMM_COV_DIAG);
    const double lbs[2] = {-4.5, -4.25};
    assert_int_equal(emgmm_model_set_fit_state(m, lbs, 2, 0), EMGMM_OK);
    assert_int_equal(emgmm_model_add_reseed_event(NULL, 1, 0, 0.0), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_model_add_reseed_event(m, 3, 0, 0.0), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_model_add_reseed_event(m, 1, 3, 0.0), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_model_add_reseed_event(m, 2, 1, -7.5), EMGMM_OK);
    assert_int_equal(emgmm_model_add_reseed_event(m, 1, 1, -7.5), EMGMM_ERR_INVALID_PARAM);
    for (int i = 1; i < 3 * EMGMM_RESEED_LIMIT; i++)
        assert_int_equal(emgmm_model_add_reseed_event(m, 2, i % 3, -7.5), EMGMM_OK);
    assert_int_equal(emgmm_model_add_reseed_event(m, 2, 0, -7.5), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_model_n_reseeds(m), 3 * EMGMM_RESEED_LIMIT);
    int it = -1, k = -1;
    double ld = 0.0;
    assert_int_equal(emgmm_model_reseed_event(m, 0, &it, &k, &ld), EMGMM_OK);
    assert_true(it == 2 && k == 1 && ld == -7.5);
    /* a reseed at the last iteration blocks the convergence test, whatever the tolerance */
    assert_int_equal(emgmm_fit_converged(m, 1e300), 0);
    emgmm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_component_error_policy_behaves_as_sklearn),
        cmocka_unit_test(empty_component_is_reseeded_reported_and_fits_better),
        cmocka_unit_test(convergence_is_not_declared_across_a_reseed),
        cmocka_unit_test(reseeds_are_deterministic_and_copied),
        cmocka_unit_test(empty_component_is_reseeded_on_float32_data),
        cmocka_unit_test(reseed_points_carry_weight),
        cmocka_unit_test(identical_components_are_separated_by_reseed),
        cmocka_unit_test(duplicates_get_one_component_with_variance_reg_covar),
        cmocka_unit_test(duplicates_without_reg_covar),
        cmocka_unit_test(constant_feature),
        cmocka_unit_test(fewer_distinct_points_than_components),
        cmocka_unit_test(wildly_different_scales_need_the_relative_floor),
        cmocka_unit_test(n_equal_to_k_puts_one_component_on_each_point),
        cmocka_unit_test(more_features_than_points),
        cmocka_unit_test(policy_params_are_validated_and_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
