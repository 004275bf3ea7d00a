/* test_init_centres.c — issue 21: init 'kmeans' with its k-means run once and shared
 * (emgmm_kmeans_centres, params.init_centres), as `emgmm select` does for the covariance types
 * of one K.  Every fit from the shared centres is the fit with its own k-means bit for bit, for
 * every covariance type, several K, n_init 2, float32, weights and missing values; the centres
 * do not depend on the type of the model that computed them; the errors are the documented
 * ones; the search inits ignore the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"

/* The centres of every initialisation of p for K, computed on a model of type `via`. */
static double *centres_for(const emgmm_params *p, const emgmm_data *X, int K, int via)
{
    const size_t Kd = (size_t)K * X->d;
    double *c = tu_xmalloc((size_t)p->n_init * Kd * sizeof(double));
    emgmm_model *m = tu_model(K, (int)X->d, via);
    for (int r = 0; r < p->n_init; r++) {
        const int rc = emgmm_kmeans_centres(m, p, X, r, c + (size_t)r * Kd);
        if (rc != EMGMM_OK)
            fail_msg("emgmm_kmeans_centres K=%d: %s (%s)", K, emgmm_strerror(rc),
                     emgmm_model_last_error(m));
    }
    assert_false(emgmm_model_is_fitted(m)); /* the model's parameters are not touched */
    emgmm_model_free(m);
    return c;
}

/* For K = 1..kmax and each type: the fit with its own k-means and the fit from the centres
 * computed once (on a spherical model) are the same bit for bit. */
static void sweep_matches(const emgmm_params *p0, const emgmm_data *X, int kmax, const int *types,
                          int ntypes, const char *what)
{
    for (int K = 1; K <= kmax; K++) {
        double *c = centres_for(p0, X, K, EMGMM_COV_SPHERICAL);
        for (int t = 0; t < ntypes; t++) {
            emgmm_params p = *p0, q = *p0;
            q.init_centres = c;
            emgmm_model *a = tu_model(K, (int)X->d, types[t]), *b = tu_model(K, (int)X->d, types[t]);
            const int ra = emgmm_fit(a, &p, X), rb = emgmm_fit(b, &q, X);
            char label[160];
            snprintf(label, sizeof label, "%s K=%d %s", what, K,
                     emgmm_covariance_type_name(types[t]));
            if (ra != rb)
                fail_msg("%s: own k-means %s, shared %s (%s)", label, emgmm_strerror(ra),
                         emgmm_strerror(rb), emgmm_model_last_error(b));
            if (ra == EMGMM_OK) tu_assert_same_model(a, b, label);
            emgmm_model_free(a);
            emgmm_model_free(b);
        }
        free(c);
    }
}

static const int four[] = {EMGMM_COV_FULL, EMGMM_COV_TIED, EMGMM_COV_DIAG, EMGMM_COV_SPHERICAL};

static emgmm_params sweep_params(void)
{
    emgmm_params p = emgmm_params_default();
    p.n_threads = 2;
    p.block_size = 97;
    p.n_init = 2;
    p.seed = 2385;
    return p;
}

static void shared_kmeans_gives_the_same_fits(void **state)
{
    (void)state;
    tu_mixture mix;
    const emgmm_data X = tu_mixture_view(&mix, NULL, 0x5e1, 2500, 5, 4, 2.0, 3.0);
    const emgmm_params p = sweep_params();
    sweep_matches(&p, &X, 6, four, 4, "f64");
    /* mclust structures too: the k-means does not know the type */
    const int mcl[] = {EMGMM_COV_VEI, EMGMM_COV_EVE};
    sweep_matches(&p, &X, 3, mcl, 2, "f64 mclust");
    /* one thread, the error policy for degenerate components */
    emgmm_params q = p;
    q.n_threads = 1;
    q.degenerate = EMGMM_DEGEN_ERROR;
    q.n_init = 1;
    sweep_matches(&q, &X, 4, four, 4, "f64 1 thread");
    tu_mixture_free(&mix);
}

static void shared_kmeans_float32_weights_missing(void **state)
{
    (void)state;
    tu_mixture mix;
    const emgmm_data X = tu_mixture_view(&mix, NULL, 0x5e2, 2000, 4, 3, 2.5, 3.0);
    const emgmm_params p = sweep_params();
    float *xf = tu_xmalloc(mix.n * (size_t)mix.d * sizeof(float));
    for (size_t i = 0; i < mix.n * (size_t)mix.d; i++) xf[i] = (float)mix.x[i];
    const emgmm_data Xf = emgmm_data_f32(xf, mix.n, (size_t)mix.d, (size_t)mix.d);
    sweep_matches(&p, &Xf, 4, four, 4, "f32");

    double *w = tu_xmalloc(mix.n * sizeof(double));
    for (size_t i = 0; i < mix.n; i++) w[i] = 0.25 + (double)(i % 7) * 0.5;
    emgmm_data Xw = X;
    Xw.weights = w;
    sweep_matches(&p, &Xw, 4, four, 4, "weighted");

    /* missing values: k-means runs on the mean-imputed view, in both ways */
    double *xm = tu_xmalloc(mix.n * (size_t)mix.d * sizeof(double));
    memcpy(xm, mix.x, mix.n * (size_t)mix.d * sizeof(double));
    for (size_t i = 0; i < mix.n; i += 5) xm[i * (size_t)mix.d + i % (size_t)mix.d] = NAN;
    emgmm_params pm = p;
    pm.missing = EMGMM_MISSING_NAN;
    const emgmm_data Xm = emgmm_data_f64(xm, mix.n, (size_t)mix.d, (size_t)mix.d);
    sweep_matches(&pm, &Xm, 3, four, 4, "missing");
    free(xm);
    free(w);
    free(xf);
    tu_mixture_free(&mix);
}

/* The centres are the same whatever the type of the model that computed them, and not the
 * same for two initialisations. */
static void centres_depend_on_k_not_type(void **state)
{
    (void)state;
    tu_mixture mix;
    const emgmm_data X = tu_mixture_view(&mix, NULL, 0x5e3, 1500, 3, 3, 3.0, 3.0);
    const emgmm_params p = sweep_params();
    double *a = centres_for(&p, &X, 3, EMGMM_COV_FULL);
    double *b = centres_for(&p, &X, 3, EMGMM_COV_EVV);
    assert_memory_equal(a, b, 2 * 9 * sizeof(double));
    assert_memory_not_equal(a, a + 9, 9 * sizeof(double));
    free(a);
    free(b);
    tu_mixture_free(&mix);
}

static void errors_are_the_documented_ones(void **state)
{
    (void)state;
    tu_mixture mix;
    const emgmm_data X = tu_mixture_view(&mix, NULL, 0x5e4, 800, 3, 2, 3.0, 3.0);
    emgmm_params p = sweep_params();
    p.n_init = 1;
    emgmm_model *m = tu_model(2, 3, EMGMM_COV_FULL);
    double c[6];
    assert_int_equal(emgmm_kmeans_centres(NULL, &p, &X, 0, c), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_kmeans_centres(m, NULL, &X, 0, c), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_kmeans_centres(m, &p, NULL, 0, c), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_kmeans_centres(m, &p, &X, 0, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_kmeans_centres(m, &p, &X, -1, c), EMGMM_ERR_INVALID_PARAM);
    emgmm_data bad = X;
    bad.d = 4;
    assert_int_equal(emgmm_kmeans_centres(m, &p, &bad, 0, c), EMGMM_ERR_SHAPE);
    assert_int_equal(emgmm_kmeans_centres(m, &p, &X, 0, c), EMGMM_OK);

    /* a non-finite centre; an initialisation with no centres */
    emgmm_params q = p;
    q.init_centres = c;
    const double keep = c[4];
    c[4] = NAN;
    assert_int_equal(emgmm_fit(m, &q, &X), EMGMM_ERR_INVALID_PARAM);
    assert_non_null(strstr(emgmm_model_last_error(m), "init_centres"));
    assert_false(emgmm_model_is_fitted(m));
    c[4] = keep;
    assert_int_equal(emgmm_fit_init_at(m, &q, &X, 1), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_fit_init_at(m, &q, &X, 0), EMGMM_OK);

    /* init 'emem' runs its own k-means: the field is ignored */
    c[4] = NAN;
    emgmm_params e = p;
    e.init = EMGMM_INIT_EMEM;
    e.search_starts = 3;
    emgmm_model *a = tu_model(2, 3, EMGMM_COV_FULL), *b = tu_model(2, 3, EMGMM_COV_FULL);
    assert_int_equal(emgmm_fit(a, &e, &X), EMGMM_OK);
    e.init_centres = c;
    assert_int_equal(emgmm_fit(b, &e, &X), EMGMM_OK);
    tu_assert_same_model(a, b, "emem");
    emgmm_model_free(a);
    emgmm_model_free(b);
    emgmm_model_free(m);
    tu_mixture_free(&mix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_kmeans_gives_the_same_fits),
        cmocka_unit_test(shared_kmeans_float32_weights_missing),
        cmocka_unit_test(centres_depend_on_k_not_type),
        cmocka_unit_test(errors_are_the_documented_ones),
    };
    return cmocka_run_group_tests_name("init_centres", tests, NULL, NULL);
}
