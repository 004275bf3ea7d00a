/* test_family_textbook.c — the library agrees with the textbook EM (tests/ref/textbook_em.c)
 * for every covariance type: 10 iterations from the same user-given start (tol = 0), d = 1, 3,
 * 17 and K = 1, 4, plus data far from the origin; parameters, lower bounds and scores to 1e-9. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"
#include "family_check.h"
#include "../ref/textbook_em.h"

/* Both sides run the same formulas in double; they differ only by summation order. */
#define RTOL 1e-9
#define ITERS 10
#define N 600

typedef struct {
    int type, d, K;
    double offset; /* added to every coordinate: covariances must come from centred sums */
    uint64_t seed;
    char name[64];
} tcase;

static void library_matches_textbook(void **state)
{
    const tcase *c = *state;
    const int type = c->type, d = c->d, K = c->K;
    tu_rng r;
    tu_rng_seed(&r, c->seed);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, N, d, K, 1.0, 3.0, 3.0);
    for (size_t e = 0; e < (size_t)N * d; e++) mix.x[e] += c->offset;
    for (size_t e = 0; e < (size_t)K * d; e++) mix.mu[e] += c->offset;

    const size_t cs = tb_cov_size(type, K, d);
    double *w = tu_xmalloc(sizeof(double) * K), *mu = tu_xmalloc(sizeof(double) * K * d);
    double *cov = tu_xmalloc(sizeof(double) * cs), *lbs = tu_xmalloc(sizeof(double) * ITERS);
    fc_perturbed_start(&mix, &r, type, w, mu, cov);

    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, type), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov), EMGMM_OK);
    assert_int_equal(emgmm_model_covariances_size(m), cs);
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_USER;
    p.tol = 0.0;
    p.max_iter = ITERS;
    p.reg_covar = 1e-6;
    const emgmm_data X = emgmm_data_f64(mix.x, N, (size_t)d, (size_t)d);
    const int rc = emgmm_fit(m, &p, &X);
    if (rc != EMGMM_OK)
        fail_msg("%s: emgmm_fit: %s: %s", c->name, emgmm_strerror(rc), emgmm_model_last_error(m));

    assert_int_equal(
        tb_em(type, mix.x, N, d, (size_t)d, NULL, K, p.reg_covar, ITERS, w, mu, cov, lbs), 0);
    assert_int_equal(emgmm_model_n_iter(m), ITERS);
    assert_false(emgmm_model_converged(m));
    fc_assert_gmm_close(type, K, d, emgmm_model_weights(m), emgmm_model_means(m),
                        emgmm_model_covariances(m), w, mu, cov, RTOL, c->name);
    int count = -1;
    const double *lib_lbs = emgmm_model_lower_bounds(m, &count);
    assert_int_equal(count, ITERS);
    for (int i = 0; i < ITERS; i++)
        tu_assert_close(lib_lbs[i], lbs[i], RTOL, 0.0, "%s: lower bound of iteration %d", c->name,
                        i + 1);

    double *U = tu_xmalloc(sizeof(double) * cs);
    assert_int_equal(tb_precisions_cholesky(type, K, d, cov, U), 0);
    fc_assert_prec_chol_close(type, K, d, emgmm_model_precisions_cholesky(m), U, RTOL, c->name);

    /* The prediction path of the type (its own E-step) against the textbook's at the fit. */
    double *ld_lib = tu_xmalloc(sizeof(double) * N), *ld_tb = tu_xmalloc(sizeof(double) * N);
    double *rs_lib = tu_xmalloc(sizeof(double) * N * K),
           *rs_tb = tu_xmalloc(sizeof(double) * N * K);
    const double mean_tb =
        tb_estep(type, mix.x, N, d, (size_t)d, NULL, K, w, mu, cov, rs_tb, ld_tb);
    double mean_lib = NAN;
    assert_int_equal(emgmm_score_samples(m, &X, ld_lib), EMGMM_OK);
    assert_int_equal(emgmm_predict_proba(m, &X, rs_lib), EMGMM_OK);
    assert_int_equal(emgmm_score(m, &X, &mean_lib), EMGMM_OK);
    tu_assert_close(mean_lib, mean_tb, RTOL, 0.0, "%s: score", c->name);
    for (size_t i = 0; i < N; i++) {
        tu_assert_close(ld_lib[i], ld_tb[i], RTOL, 1.0, "%s: score_samples[%zu]", c->name, i);
        for (int k = 0; k < K; k++)
            tu_assert_close(rs_lib[i * K + k], rs_tb[i * K + k], RTOL, 1.0,
                            "%s: predict_proba[%zu][%d]", c->name, i, k);
    }
    free(ld_lib);
    free(ld_tb);
    free(rs_lib);
    free(rs_tb);
    free(U);
    free(w);
    free(mu);
    free(cov);
    free(lbs);
    emgmm_model_free(m);
    tu_mixture_free(&mix);
}

#define NTYPES 4
#define NCASES (NTYPES * 3 * 2 + NTYPES)

int main(void)
{
    static tcase cases[NCASES];
    static struct CMUnitTest tests[NCASES];
    static const int ds[3] = {1, 3, 17}, ks[2] = {1, 4};
    int nc = 0;
    for (int t = 0; t < NTYPES; t++) {
        const char *tn = emgmm_covariance_type_name(fc_types[t]);
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 2; b++) {
                tcase *c = &cases[nc];
                *c = (tcase){fc_types[t], ds[a], ks[b], 0.0, 1000u + 37u * (unsigned)nc, ""};
                snprintf(c->name, sizeof c->name, "%s_d%d_k%d", tn, c->d, c->K);
                nc++;
            }
        /* |x| ~ 1e6 with spread ~1: E[xx]−μμ on raw data would lose ~1e-4 here */
        tcase *c = &cases[nc];
        *c = (tcase){fc_types[t], 3, 2, 1.0e6, 7000u + (unsigned)t, ""};
        snprintf(c->name, sizeof c->name, "%s_d3_k2_offset1e6", tn);
        nc++;
    }
    for (int i = 0; i < nc; i++)
        tests[i] =
            (struct CMUnitTest){cases[i].name, library_matches_textbook, NULL, NULL, &cases[i]};
    return cmocka_run_group_tests_name("family_textbook", tests, NULL, NULL);
}
