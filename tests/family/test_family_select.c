/* test_family_select.c — model selection by BIC, with the library directly: on data drawn from a
 * known, well-separated mixture of each covariance type, fitting every K in 1..6 × every type
 * and keeping the lowest BIC picks the true K and type, and the chosen model finds the clusters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"

#define KMAX 6
#define DMAX 4

/* A known mixture: K components in d dimensions with full covariances (row-major), whose
 * structure is that of `type` (tied: all equal; diag: diagonal; spherical: multiples of I). */
typedef struct {
    const char *name;
    int type, K, d;
    size_t n;
    double w[KMAX], mu[KMAX][DMAX], cov[KMAX][DMAX * DMAX];
} truth;

/* Lower Cholesky factor of an SPD d×d matrix (test data only: the matrices here are SPD). */
static void chol_lower(const double *S, double *L, int d)
{
    memset(L, 0, sizeof(double) * d * d);
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            double s = S[i * d + j];
            for (int k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
            L[i * d + j] = i == j ? sqrt(s) : s / L[j * d + j];
        }
}

static double *draw(const truth *t, uint64_t seed, int32_t *labels)
{
    tu_rng r;
    tu_rng_seed(&r, seed);
    double L[KMAX][DMAX * DMAX], z[DMAX];
    for (int k = 0; k < t->K; k++) chol_lower(t->cov[k], L[k], t->d);
    double *x = tu_xmalloc(sizeof(double) * t->n * t->d);
    for (size_t i = 0; i < t->n; i++) {
        const double u = tu_uniform(&r);
        int k = 0;
        for (double c = t->w[0]; k < t->K - 1 && u > c;) c += t->w[++k];
        labels[i] = k;
        for (int j = 0; j < t->d; j++) z[j] = tu_normal(&r);
        for (int j = 0; j < t->d; j++) {
            double v = t->mu[k][j];
            for (int q = 0; q <= j; q++) v += L[k][j * t->d + q] * z[q];
            x[i * t->d + j] = v;
        }
    }
    return x;
}

static void lowest_bic_picks_the_true_k_and_type(void **state)
{
    const truth *t = *state;
    int32_t *truth_labels = tu_xmalloc(sizeof(int32_t) * t->n);
    double *x = draw(t, 0x5e1ec7u + (uint64_t)t->type, truth_labels);
    const emgmm_data X = emgmm_data_f64(x, t->n, (size_t)t->d, (size_t)t->d);
    emgmm_params p = emgmm_params_default(); /* what a user of `emgmm select` gets */
    p.n_init = 2;
    p.seed = 2385;

    double best = INFINITY;
    int best_k = -1, best_type = -1;
    emgmm_model *best_m = NULL;
    for (int k = 1; k <= KMAX; k++)
        for (int type = EMGMM_COV_FULL; type <= EMGMM_COV_SPHERICAL; type++) {
            emgmm_model *m = NULL;
            assert_int_equal(emgmm_model_create(&m, k, t->d, type), EMGMM_OK);
            const int rc = emgmm_fit(m, &p, &X);
            if (rc != EMGMM_OK)
                fail_msg("%s: K=%d %s: %s: %s", t->name, k, emgmm_covariance_type_name(type),
                         emgmm_strerror(rc), emgmm_model_last_error(m));
            double bic = NAN, score = NAN;
            assert_int_equal(emgmm_bic(m, &X, &bic), EMGMM_OK);
            assert_int_equal(emgmm_score(m, &X, &score), EMGMM_OK);
            /* the criterion is scikit-learn's: −2·n·score + p·log n, lower is better */
            tu_assert_close(bic,
                            -2.0 * (double)t->n * score +
                                (double)emgmm_model_n_parameters(m) * log((double)t->n),
                            1e-12, 0.0, "%s: K=%d %s: bic", t->name, k,
                            emgmm_covariance_type_name(type));
            if (bic < best) {
                best = bic;
                best_k = k;
                best_type = type;
                emgmm_model_free(best_m);
                best_m = m;
            } else {
                emgmm_model_free(m);
            }
        }
    if (best_k != t->K || best_type != t->type)
        fail_msg("%s: lowest BIC %.6f at K=%d %s, the truth is K=%d %s", t->name, best, best_k,
                 emgmm_covariance_type_name(best_type), t->K, emgmm_covariance_type_name(t->type));
    int32_t *labels = tu_xmalloc(sizeof(int32_t) * t->n);
    assert_int_equal(emgmm_predict(best_m, &X, labels), EMGMM_OK);
    const double ari = tu_ari(labels, truth_labels, t->n, best_k, t->K);
    if (!(ari > 0.99))
        fail_msg("%s: the chosen model's clusters have ARI %.4f with the truth", t->name, ari);
    free(labels);
    emgmm_model_free(best_m);
    free(truth_labels);
    free(x);
}

/* Components many standard deviations apart; within each, structure that only the true type
 * describes with the fewest parameters. */
static truth truths[] = {
    {"diag_k3_d4",
     EMGMM_COV_DIAG,
     3,
     4,
     3000,
     {0.5, 0.3, 0.2},
     {{0, 0, 0, 0}, {8, -6, 3, 5}, {-7, 5, 9, -4}},
     {{0.25, 0, 0, 0, 0, 4.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 0.64},
      {2.25, 0, 0, 0, 0, 0.16, 0, 0, 0, 0, 0.81, 0, 0, 0, 0, 4.84},
      {0.49, 0, 0, 0, 0, 1.44, 0, 0, 0, 0, 6.25, 0, 0, 0, 0, 0.25}}},
    {"full_k2_d3",
     EMGMM_COV_FULL,
     2,
     3,
     2000,
     {0.45, 0.55},
     {{0, 0, 0}, {6, -4, 5}},
     {{2.0, 1.6, 1.0, 1.6, 2.0, 1.2, 1.0, 1.2, 2.0},
      {1.0, -0.7, 0.2, -0.7, 1.0, -0.3, 0.2, -0.3, 1.0}}},
    {"tied_k3_d3",
     EMGMM_COV_TIED,
     3,
     3,
     2400,
     {0.3, 0.3, 0.4},
     {{0, 0, 0}, {9, 0, 0}, {0, 9, 3}},
     {{2.0, 1.2, 0.6, 1.2, 1.5, 0.4, 0.6, 0.4, 1.0},
      {2.0, 1.2, 0.6, 1.2, 1.5, 0.4, 0.6, 0.4, 1.0},
      {2.0, 1.2, 0.6, 1.2, 1.5, 0.4, 0.6, 0.4, 1.0}}},
    {"spherical_k4_d2",
     EMGMM_COV_SPHERICAL,
     4,
     2,
     2400,
     {0.2, 0.3, 0.25, 0.25},
     {{0, 0}, {10, 0}, {0, 10}, {10, 10}},
     {{1.0, 0, 0, 1.0}, {2.25, 0, 0, 2.25}, {0.5, 0, 0, 0.5}, {1.5, 0, 0, 1.5}}},
};

int main(void)
{
    struct CMUnitTest tests[sizeof truths / sizeof truths[0]];
    for (size_t i = 0; i < sizeof truths / sizeof truths[0]; i++)
        tests[i] = (struct CMUnitTest){truths[i].name, lowest_bic_picks_the_true_k_and_type, NULL,
                                       NULL, &truths[i]};
    return cmocka_run_group_tests_name("family_select", tests, NULL, NULL);
}
