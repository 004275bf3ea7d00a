/* test_score_entropy.c — issue 21: emgmm_score_entropy gives the score and ICL's entropy term
 * from one E-step pass, and the numbers are those of the separate path: the score is
 * emgmm_score's bit for bit; on one thread the entropy is the sum over predict_proba's rows in
 * row order bit for bit (on two, to 1e-12); with weights both are the weighted sums; emgmm_icl,
 * now from that pass too, equals ICL written out from score_samples and predict_proba.  Every
 * covariance type, float64 and float32, missing values, several blocks of rows. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"

enum {
    N = 3001, /* several blocks of rows, the last one short */
    D = 5,
    K = 4
};

/* The separate path: −Σ w_i log max_k r_ik over predict_proba's rows in row order, and
 * Σ log p(x_i) from score_samples (w_i = 1 without weights). */
static void written_out(emgmm_model *m, const emgmm_data *X, double *ent, double *ll)
{
    double *resp = tu_xmalloc(X->n * K * sizeof(double)), *ld = tu_xmalloc(X->n * sizeof(double));
    emgmm_data Xu = *X;
    Xu.weights = NULL;
    assert_int_equal(emgmm_predict_proba(m, &Xu, resp), EMGMM_OK);
    assert_int_equal(emgmm_score_samples(m, &Xu, ld), EMGMM_OK);
    double e = 0.0, l = 0.0;
    for (size_t i = 0; i < X->n; i++) {
        double mx = 0.0;
        for (int k = 0; k < K; k++) mx = resp[i * K + k] > mx ? resp[i * K + k] : mx;
        const double w = X->weights ? X->weights[i] : 1.0;
        if (mx > 0.0 && w != 0.0) e -= X->weights ? w * log(mx) : log(mx);
        l += ld[i];
    }
    *ent = e;
    *ll = l;
    free(resp);
    free(ld);
}

static void check(emgmm_model *m, const emgmm_data *X, const char *what)
{
    double s1 = 0.0, s2 = 0.0, ent = 0.0, want_ent, ll;
    written_out(m, X, &want_ent, &ll);
    for (int T = 1; T <= 2; T++) {
        emgmm_model_set_n_threads(m, T);
        assert_int_equal(emgmm_score(m, X, &s1), EMGMM_OK);
        assert_int_equal(emgmm_score_entropy(m, X, &s2, &ent), EMGMM_OK);
        if (memcmp(&s1, &s2, sizeof s1) != 0)
            fail_msg("%s, %d threads: score %.17g, with the entropy %.17g", what, T, s1, s2);
        if (T == 1 ? memcmp(&ent, &want_ent, sizeof ent) != 0
                   : !tu_close(ent, want_ent, 1e-12, 0.0))
            fail_msg("%s, %d threads: entropy %.17g, written out %.17g", what, T, ent, want_ent);
        assert_true(ent > 0.0); /* overlapping components: soft assignments */
    }
    if (!X->weights) { /* emgmm_icl from the one pass; it ignores weights */
        double icl;
        size_t n = X->n;
        assert_int_equal(emgmm_n_scored(m, X, &n), EMGMM_OK);
        assert_int_equal(emgmm_icl(m, X, &icl), EMGMM_OK);
        const double want =
            -2.0 * ll + (double)emgmm_model_n_parameters(m) * log((double)X->n) + 2.0 * want_ent;
        if (!tu_close(icl, want, 1e-12, 0.0))
            fail_msg("%s: ICL %.17g, written out %.17g", what, icl, want);
    }
}

static void each_type(const emgmm_data *X, int missing, const char *what)
{
    const int types[] = {EMGMM_COV_FULL, EMGMM_COV_TIED, EMGMM_COV_DIAG, EMGMM_COV_SPHERICAL,
                         EMGMM_COV_VEV};
    emgmm_params p = emgmm_params_default();
    p.n_threads = 1;
    p.max_iter = 20;
    p.missing = missing;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        emgmm_model *m = tu_fit(K, types[t], &p, X);
        char label[128];
        snprintf(label, sizeof label, "%s %s", what, emgmm_covariance_type_name(types[t]));
        check(m, X, label);
        emgmm_model_free(m);
    }
}

static void test_score_entropy_equals_separate_passes(void **s)
{
    (void)s;
    tu_rng r;
    tu_rng_seed(&r, 0x5e122);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, N, D, K, 1.0, 2.385, 2.0); /* overlapping: soft responsibilities */
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, D, D);
    each_type(&X, EMGMM_MISSING_ERROR, "float64");

    float *xf = tu_xmalloc(mix.n * D * sizeof(float));
    for (size_t i = 0; i < mix.n * D; i++) xf[i] = (float)mix.x[i];
    const emgmm_data Xf = emgmm_data_f32(xf, mix.n, D, D);
    each_type(&Xf, EMGMM_MISSING_ERROR, "float32");

    double *wt = tu_xmalloc(mix.n * sizeof(double));
    for (size_t i = 0; i < mix.n; i++) wt[i] = i % 7 == 3 ? 0.0 : 0.25 + tu_uniform(&r) * 2.0;
    emgmm_data Xw = X;
    Xw.weights = wt;
    each_type(&Xw, EMGMM_MISSING_ERROR, "weights");

    double *xm = tu_xmalloc(mix.n * D * sizeof(double));
    memcpy(xm, mix.x, mix.n * D * sizeof(double));
    for (size_t i = 0; i < mix.n * D; i++)
        if (tu_uniform(&r) < 0.1) xm[i] = NAN;
    const emgmm_data Xm = emgmm_data_f64(xm, mix.n, D, D);
    each_type(&Xm, EMGMM_MISSING_NAN, "missing values");

    free(xf);
    free(wt);
    free(xm);
    tu_mixture_free(&mix);
}

static void test_score_entropy_errors(void **s)
{
    (void)s;
    tu_rng r;
    tu_rng_seed(&r, 0x5e123);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 200, D, K, 1.0, 3.0, 2.0);
    const emgmm_data X = emgmm_data_f64(mix.x, mix.n, D, D);
    double sc, ent;
    emgmm_model *m = tu_model(K, D, EMGMM_COV_FULL);
    assert_int_equal(emgmm_score_entropy(m, &X, &sc, &ent), EMGMM_ERR_NOT_FITTED);
    emgmm_params p = emgmm_params_default();
    assert_int_equal(emgmm_fit(m, &p, &X), EMGMM_OK);
    assert_int_equal(emgmm_score_entropy(m, &X, &sc, NULL), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_score_entropy(m, &X, NULL, &ent), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_score_entropy(NULL, &X, &sc, &ent), EMGMM_ERR_NULL);
    emgmm_data X0 = X;
    X0.n = 0;
    assert_int_equal(emgmm_score_entropy(m, &X0, &sc, &ent), EMGMM_ERR_TOO_FEW_SAMPLES);
    emgmm_model_free(m);
    tu_mixture_free(&mix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score_entropy_equals_separate_passes),
        cmocka_unit_test(test_score_entropy_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
