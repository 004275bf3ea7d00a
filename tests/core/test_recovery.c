/* test_recovery.c — on synthetic, well-separated mixtures with known truth (d = 1, 2, 16;
 * K up to 8) a default fit finds the clusters (adjusted Rand index >= 0.95 against the true
 * labels) and the weights, means and covariances lie within a few standard errors of the truth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"

/* Standard errors allowed: with a few hundred compared quantities per case, 5 SE keeps the
 * chance of a false alarm per case around 1e-4 while a wrong estimator misses by far more. */
#define N_SE 5.0

/* The ARI helper itself, on cases worked by hand from the contingency table. */
static void ari_helper_matches_hand_computed_values(void **state)
{
    (void)state;
    const int32_t a[] = {0, 0, 1, 1}, b[] = {0, 0, 1, 2}, c[] = {0, 1, 0, 1};
    /* Σ C(n_ij,2) = 1, Σ C(a_i,2) = 2, Σ C(b_j,2) = 1, C(4,2) = 6: (1 - 1/3) / (1.5 - 1/3) = 4/7 */
    tu_assert_close(tu_ari(a, b, 4, 2, 3), 4.0 / 7.0, 1e-15, 0.0, "ari(a, b)");
    /* Σ C(n_ij,2) = 0, expected 2·2/6: (0 - 2/3) / (2 - 2/3) = -1/2 */
    tu_assert_close(tu_ari(a, c, 4, 2, 2), -0.5, 1e-15, 0.0, "ari(a, c)");
    const int32_t p[] = {0, 0, 0, 1, 1, 1, 2, 2}, q[] = {1, 1, 0, 0, 2, 2, 2, 2};
    /* 3 - 7·8/28 = 1 over 7.5 - 2 = 5.5 */
    tu_assert_close(tu_ari(p, q, 8, 3, 3), 1.0 / 5.5, 1e-15, 0.0, "ari(p, q)");
    /* A relabelling of the same partition scores exactly 1. */
    const int32_t r[] = {2, 2, 2, 0, 0, 0, 1, 1};
    tu_assert_close(tu_ari(p, r, 8, 3, 3), 1.0, 1e-15, 0.0, "ari(p, relabelled p)");
}

typedef struct {
    int d, K;
    size_t n;
    double spread; /* sd of the mean coordinates; large enough to place K means 8 sd apart */
    uint64_t seed;
} recovery_case;

static void fit_recovers_well_separated_mixture(void **state)
{
    const recovery_case *c = *state;
    const int d = c->d, K = c->K;
    tu_rng r;
    tu_rng_seed(&r, c->seed);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, c->n, d, K, 1.0, 8.0, c->spread);

    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    emgmm_params p = emgmm_params_default();
    p.tol = 1e-7;
    p.max_iter = 300;
    p.n_init = 3;
    p.seed = c->seed ^ 0x5eedULL;
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, (size_t)d, (size_t)d);
    const int rc = emgmm_fit(m, &p, &X);
    if (rc != EMGMM_OK)
        fail_msg("emgmm_fit: %s (%s)", emgmm_strerror(rc), emgmm_model_last_error(m));
    assert_true(emgmm_model_converged(m));

    int32_t *labels = tu_xmalloc(sizeof(int32_t) * mix.n);
    assert_int_equal(emgmm_predict(m, &X, labels), EMGMM_OK);
    for (size_t i = 0; i < mix.n; i++) assert_true(labels[i] >= 0 && labels[i] < K);
    const double ari = tu_ari(labels, mix.labels, mix.n, K, K);
    if (!(ari >= 0.95)) fail_msg("d=%d K=%d: adjusted Rand index %.4f < 0.95", d, K, ari);

    /* Match each fitted component to the true component with the nearest mean; on data this
     * well separated the match must be one to one. */
    const double *w = emgmm_model_weights(m), *mu = emgmm_model_means(m);
    const double *cov = emgmm_model_covariances(m);
    int *match = tu_xmalloc(sizeof(int) * K), *used = tu_xmalloc(sizeof(int) * K);
    for (int k = 0; k < K; k++) {
        double best = INFINITY;
        for (int t = 0; t < K; t++) {
            double dist2 = 0.0;
            for (int j = 0; j < d; j++) {
                const double e = mu[k * d + j] - mix.mu[t * d + j];
                dist2 += e * e;
            }
            if (dist2 < best) {
                best = dist2;
                match[k] = t;
            }
        }
        if (used[match[k]]++)
            fail_msg("d=%d K=%d: two fitted components near true component %d", d, K, match[k]);
    }

    for (int k = 0; k < K; k++) {
        const int t = match[k];
        const double nt = (double)mix.count[t], wt = mix.w[t];
        const double *S = mix.cov + (size_t)t * d * d, *Sh = cov + (size_t)k * d * d;
        /* the count of a component is binomial(n, w) */
        const double se_w = sqrt(wt * (1.0 - wt) / (double)mix.n);
        if (fabs(w[k] - wt) > N_SE * se_w)
            fail_msg("d=%d K=%d: weight %d = %.6f, truth %.6f, SE %.3g", d, K, k, w[k], wt, se_w);
        for (int j = 0; j < d; j++) {
            const double se = sqrt(S[j * d + j] / nt);
            const double e = mu[k * d + j] - mix.mu[t * d + j];
            if (fabs(e) > N_SE * se)
                fail_msg("d=%d K=%d: mean[%d][%d] off by %.3g, SE %.3g", d, K, k, j, e, se);
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                /* Var of a sample covariance of Gaussian data: (S_ii S_jj + S_ij²) / n */
                const double sij = S[i * d + j];
                const double se = sqrt((S[i * d + i] * S[j * d + j] + sij * sij) / nt);
                const double e = Sh[i * d + j] - sij;
                if (fabs(e) > N_SE * se)
                    fail_msg("d=%d K=%d: cov[%d][%d][%d] off by %.3g, SE %.3g", d, K, k, i, j, e,
                             se);
            }
    }
    free(match);
    free(used);
    free(labels);
    emgmm_model_free(m);
    tu_mixture_free(&mix);
}

static const recovery_case case_d1_k3 = {1, 3, 1500, 14.0, 0x2385a};
static const recovery_case case_d2_k5 = {2, 5, 2500, 12.0, 0x2385b};
static const recovery_case case_d2_k8 = {2, 8, 4000, 16.0, 0x2385c};
static const recovery_case case_d16_k4 = {16, 4, 2000, 3.0, 0x2385d};
static const recovery_case case_d16_k8 = {16, 8, 4000, 3.0, 0x2385e};

#define RECOVERY(c)                                                                                \
    {                                                                                              \
        "fit_recovers_well_separated_mixture_" #c, fit_recovers_well_separated_mixture, NULL,      \
            NULL, (void *)&c                                                                       \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ari_helper_matches_hand_computed_values),
        RECOVERY(case_d1_k3),
        RECOVERY(case_d2_k5),
        RECOVERY(case_d2_k8),
        RECOVERY(case_d16_k4),
        RECOVERY(case_d16_k8),
    };
    return cmocka_run_group_tests_name("recovery", tests, NULL, NULL);
}
