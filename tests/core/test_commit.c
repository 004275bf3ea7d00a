/* test_commit.c — emgmm_model_parameter_buffers / emgmm_model_commit_parameters
 * (issue 22): a model filled in place with its stored precision factors is
 * the model emgmm_model_set_parameters builds (bit for bit, log-dets and
 * scores included), and every cheap check rejects what it should, naming the
 * component, leaving the model unfitted. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emgmm.h"

enum {
    K = 3,
    D = 5,
    N = 200
};

/* A reference model from set_parameters: high-entropy SPD covariances. */
static emgmm_model *reference(int type)
{
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, D, type), EMGMM_OK);
    double w[K] = {0.2385, 0.4615, 0.3}, mu[K * D], cov[K * D * D];
    for (int i = 0; i < K * D; i++) mu[i] = 0.37 * i - 1.9 + 0.013 * i * i;
    size_t len = emgmm_model_covariances_size(m);
    if (type == EMGMM_COV_FULL || type == EMGMM_COV_TIED) {
        int nm = type == EMGMM_COV_FULL ? K : 1;
        for (int k = 0; k < nm; k++)
            for (int i = 0; i < D; i++)
                for (int j = 0; j < D; j++) {
                    double a = 0.1 * sin(1.7 * (i + 1) * (j + 1) + k) * cos(0.3 * (i + j + k));
                    cov[k * D * D + i * D + j] = (i == j ? 1.25 + 0.5 * k + 0.1 * i : 0.0) + a;
                }
        /* symmetrise exactly */
        for (int k = 0; k < nm; k++)
            for (int i = 0; i < D; i++)
                for (int j = 0; j < i; j++) cov[k * D * D + i * D + j] = cov[k * D * D + j * D + i];
    } else {
        for (size_t i = 0; i < len; i++) cov[i] = 0.75 + 0.125 * (double)i;
    }
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov), EMGMM_OK);
    return m;
}

/* A fresh model of the reference's shape, filled from it (the factors too). */
static emgmm_model *filled(const emgmm_model *ref, int type, int with_factors)
{
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, D, type), EMGMM_OK);
    double *w, *mu, *cv, *pc;
    assert_int_equal(emgmm_model_parameter_buffers(m, &w, &mu, &cv, &pc), EMGMM_OK);
    size_t len = emgmm_model_covariances_size(m);
    memcpy(w, emgmm_model_weights(ref), K * sizeof(double));
    memcpy(mu, emgmm_model_means(ref), K * D * sizeof(double));
    memcpy(cv, emgmm_model_covariances(ref), len * sizeof(double));
    if (with_factors) memcpy(pc, emgmm_model_precisions_cholesky(ref), len * sizeof(double));
    return m;
}

static void scores(emgmm_model *m, double *out)
{
    double x[N * D];
    for (int i = 0; i < N * D; i++) x[i] = 2.0 * sin(0.731 * i) + 0.01 * (i % 17);
    emgmm_data X = emgmm_data_f64(x, N, D, D);
    assert_int_equal(emgmm_score_samples(m, &X, out), EMGMM_OK);
}

static void test_stored_factors_give_the_set_parameters_model_bit_for_bit(void **state)
{
    (void)state;
    static const int types[4] = {EMGMM_COV_FULL, EMGMM_COV_TIED, EMGMM_COV_DIAG,
                                 EMGMM_COV_SPHERICAL};
    for (int t = 0; t < 4; t++) {
        for (unsigned flags = 0; flags <= EMGMM_COMMIT_CHECK_PRECISIONS; flags += 2) {
            emgmm_model *ref = reference(types[t]);
            emgmm_model *m = filled(ref, types[t], 1);
            assert_false(emgmm_model_is_fitted(m));
            assert_int_equal(emgmm_model_commit_parameters(m, flags), EMGMM_OK);
            assert_true(emgmm_model_is_fitted(m));
            size_t len = emgmm_model_covariances_size(m);
            assert_memory_equal(emgmm_model_precisions_cholesky(m),
                                emgmm_model_precisions_cholesky(ref), len * sizeof(double));
            double a[N], b[N];
            scores(ref, a);
            scores(m, b);
            assert_memory_equal(a, b, sizeof a); /* the log-dets agree bit for bit */
            emgmm_model_free(m);
            emgmm_model_free(ref);
        }
    }
}

static void test_compute_flag_equals_set_parameters(void **state)
{
    (void)state;
    emgmm_model *ref = reference(EMGMM_COV_FULL);
    emgmm_model *m = filled(ref, EMGMM_COV_FULL, 0);
    assert_int_equal(emgmm_model_commit_parameters(m, EMGMM_COMMIT_COMPUTE_PRECISIONS), EMGMM_OK);
    assert_memory_equal(emgmm_model_precisions_cholesky(m), emgmm_model_precisions_cholesky(ref),
                        K * D * D * sizeof(double));
    emgmm_model_free(m);
    emgmm_model_free(ref);
}

/* Changes one entry of the filled model, commits, expects BAD_INIT with WHAT
 * in the message and COMP as the component, and an unfitted model. */
static void expect_rejected(int type, unsigned flags, int array, size_t index, double value,
                            const char *what, int comp)
{
    emgmm_model *ref = reference(type);
    emgmm_model *m = filled(ref, type, 1);
    double *p[4];
    emgmm_model_parameter_buffers(m, &p[0], &p[1], &p[2], &p[3]);
    p[array][index] = value;
    assert_int_equal(emgmm_model_commit_parameters(m, flags), EMGMM_ERR_BAD_INIT);
    if (!strstr(emgmm_model_last_error(m), what))
        fail_msg("message '%s' lacks '%s'", emgmm_model_last_error(m), what);
    int c = -2;
    emgmm_model_error_location(m, NULL, NULL, &c);
    assert_int_equal(c, comp);
    assert_false(emgmm_model_is_fitted(m));
    double ll;
    double x[D] = {0};
    emgmm_data X = emgmm_data_f64(x, 1, D, D);
    assert_int_equal(emgmm_score(m, &X, &ll), EMGMM_ERR_NOT_FITTED);
    emgmm_model_free(m);
    emgmm_model_free(ref);
}

static void test_each_cheap_check_rejects_and_names_the_component(void **state)
{
    (void)state;
    const int F = EMGMM_COV_FULL;
    expect_rejected(F, 0, 0, 1, NAN, "weight of component 1", 1);
    expect_rejected(F, 0, 0, 2, -0.3, "weight of component 2", 2);
    expect_rejected(F, 0, 0, 0, 0.9, "weights sum to", -1);
    expect_rejected(F, 0, 1, 2 * D + 3, INFINITY, "mean of component 2", 2);
    expect_rejected(F, 0, 2, 1 * D * D + 7, NAN, "covariance entry of component 1", 1);
    expect_rejected(F, 0, 2, 2 * D * D + 1 * D + 3, 9.5, "component 2 is not symmetric", 2);
    /* the factor: non-finite, below the diagonal, non-positive diagonal */
    expect_rejected(F, 0, 3, 1 * D * D + 4, NAN, "precisions_cholesky entry of component 1", 1);
    expect_rejected(F, 0, 3, 2 * D * D + 3 * D + 1, 0.25, "component 2 is not upper triangular", 2);
    expect_rejected(F, 0, 3, 0 * D * D + 2 * D + 2, 0.0, "non-positive diagonal", 0);
    expect_rejected(F, 0, 3, 1 * D * D + 4 * D + 4, -1.5, "non-positive diagonal", 1);
    expect_rejected(EMGMM_COV_TIED, 0, 3, 3 * D + 3, -0.5, "non-positive diagonal", 0);
    expect_rejected(EMGMM_COV_DIAG, 0, 3, 1 * D + 2, 0.0,
                    "precisions_cholesky entry of component 1", 1);
    expect_rejected(EMGMM_COV_DIAG, 0, 2, 2 * D + 4, -1.0, "variance of component 2", 2);
    expect_rejected(EMGMM_COV_SPHERICAL, 0, 3, 1, -2.0, "component 1", 1);
}

static void test_check_flag_catches_a_factor_of_other_covariances(void **state)
{
    (void)state;
    /* upper triangular with a positive diagonal, so the cheap checks pass;
     * only the probe sees that it no longer inverts the covariance */
    expect_rejected(EMGMM_COV_FULL, EMGMM_COMMIT_CHECK_PRECISIONS, 3, 1 * D * D + 1 * D + 3, 0.5,
                    "component 1 does not invert its covariance", 1);
    expect_rejected(EMGMM_COV_FULL, EMGMM_COMMIT_CHECK_PRECISIONS, 2, 2 * D * D + 0, 7.5,
                    "component 2 does not invert its covariance", 2);
    expect_rejected(EMGMM_COV_TIED, EMGMM_COMMIT_CHECK_PRECISIONS, 3, 2 * D + 2, 3.0,
                    "component 0 does not invert its covariance", 0);
    expect_rejected(EMGMM_COV_DIAG, EMGMM_COMMIT_CHECK_PRECISIONS, 3, 1 * D + 2, 0.5,
                    "component 1 does not invert its covariance", 1);
    /* without the flag the same file loads: the check is opt-in */
    emgmm_model *ref = reference(EMGMM_COV_FULL);
    emgmm_model *m = filled(ref, EMGMM_COV_FULL, 1);
    double *pc;
    emgmm_model_parameter_buffers(m, NULL, NULL, NULL, &pc);
    pc[D * D + D + 3] = 0.5;
    assert_int_equal(emgmm_model_commit_parameters(m, 0), EMGMM_OK);
    emgmm_model_free(m);
    emgmm_model_free(ref);
}

static void test_compute_flag_rejects_a_covariance_not_pd(void **state)
{
    (void)state;
    emgmm_model *ref = reference(EMGMM_COV_FULL);
    emgmm_model *m = filled(ref, EMGMM_COV_FULL, 0);
    double *cv;
    emgmm_model_parameter_buffers(m, NULL, NULL, &cv, NULL);
    cv[2 * D * D + 0] = -4.0; /* a negative variance: not PD */
    assert_int_equal(emgmm_model_commit_parameters(m, EMGMM_COMMIT_COMPUTE_PRECISIONS),
                     EMGMM_ERR_BAD_INIT);
    assert_non_null(strstr(emgmm_model_last_error(m), "component 2 is not positive definite"));
    assert_false(emgmm_model_is_fitted(m));
    emgmm_model_free(m);
    emgmm_model_free(ref);
}

static void test_weights_off_by_rounding_are_kept_else_renormalised(void **state)
{
    (void)state;
    emgmm_model *ref = reference(EMGMM_COV_DIAG);
    emgmm_model *m = filled(ref, EMGMM_COV_DIAG, 1);
    double *w;
    emgmm_model_parameter_buffers(m, &w, NULL, NULL, NULL);
    w[0] += 5e-10; /* within 1e-9: accepted, renormalised */
    assert_int_equal(emgmm_model_commit_parameters(m, 0), EMGMM_OK);
    double s = 0;
    for (int k = 0; k < K; k++) s += emgmm_model_weights(m)[k];
    assert_true(fabs(s - 1.0) <= 4 * K * 2.220446049250313e-16);
    assert_true(emgmm_model_weights(m)[1] != emgmm_model_weights(ref)[1]);
    emgmm_model_free(m);
    emgmm_model_free(ref);
}

static void test_null_and_bad_flags(void **state)
{
    (void)state;
    assert_int_equal(emgmm_model_parameter_buffers(NULL, NULL, NULL, NULL, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_model_commit_parameters(NULL, 0), EMGMM_ERR_NULL);
    emgmm_model *ref = reference(EMGMM_COV_FULL);
    emgmm_model *m = filled(ref, EMGMM_COV_FULL, 1);
    assert_int_equal(emgmm_model_commit_parameters(m, 4u), EMGMM_ERR_INVALID_PARAM);
    assert_false(emgmm_model_is_fitted(m));
    /* buffers of a fitted model: unfitted until the next commit */
    assert_int_equal(emgmm_model_commit_parameters(m, 0), EMGMM_OK);
    assert_int_equal(emgmm_model_parameter_buffers(m, NULL, NULL, NULL, NULL), EMGMM_OK);
    assert_false(emgmm_model_is_fitted(m));
    emgmm_model_free(m);
    emgmm_model_free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stored_factors_give_the_set_parameters_model_bit_for_bit),
        cmocka_unit_test(test_compute_flag_equals_set_parameters),
        cmocka_unit_test(test_each_cheap_check_rejects_and_names_the_component),
        cmocka_unit_test(test_check_flag_catches_a_factor_of_other_covariances),
        cmocka_unit_test(test_compute_flag_rejects_a_covariance_not_pd),
        cmocka_unit_test(test_weights_off_by_rounding_are_kept_else_renormalised),
        cmocka_unit_test(test_null_and_bad_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
