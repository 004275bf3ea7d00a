/* test_family_sklearn.c — the library, started from the committed initial models, reproduces
 * scikit-learn's GaussianMixture for tied/diag/spherical (and all four types on the weighted
 * set, which scikit-learn fitted with rows repeated) to 1e-6; BIC/AIC of scikit-learn's fitted
 * parameters to 1e-9; and the textbook EM reproduces the fixtures too (checking both). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"
#include "family_check.h"
#include "../common/fixture_file.h"
#include "../ref/textbook_em.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR must name tests/fixtures"
#endif

/* The tolerances: library vs scikit-learn after an EM run, and BIC/AIC of the same
 * parameters.  The textbook and scikit-learn run the same formulas in double, so they are held
 * to the library-vs-textbook bound. */
#define SK_RTOL 1e-6
#define CRIT_RTOL 1e-9
#define TB_RTOL 1e-9

typedef struct {
    const char *file, *type_name;
    char name[64];
} fcase;

/* Everything a test needs from one fixture file for one covariance type. */
typedef struct {
    ff_file f;
    int type, K, d, max_iter;
    size_t n, cs;
    double reg;
    const double *x, *sw, *init_w, *init_mu, *init_cov;
    const double *w, *mu, *cov, *prec_chol, *lbs;
} fview;

static void load(fview *v, const fcase *c)
{
    if (ff_load(&v->f, FIXTURE_DIR, c->file) != 0)
        fail_msg("fixture %s/family_%s.txt did not load", FIXTURE_DIR, c->file);
    const ff_file *f = &v->f;
    const char *t = c->type_name;
    v->type = emgmm_covariance_type_from_name(t);
    assert_true(v->type >= 0);
    v->n = (size_t)ff_scalar(f, NULL, "n");
    v->d = (int)ff_scalar(f, NULL, "d");
    v->K = (int)ff_scalar(f, NULL, "k");
    v->max_iter = (int)ff_scalar(f, NULL, "max_iter");
    v->reg = ff_scalar(f, NULL, "reg_covar");
    const size_t K = (size_t)v->K, kd = K * v->d;
    v->cs = tb_cov_size(v->type, v->K, v->d);
    v->x = ff_get(f, NULL, "data", v->n * v->d);
    v->sw = ff_has(f, NULL, "sample_weights") ? ff_get(f, NULL, "sample_weights", v->n) : NULL;
    v->init_w = ff_get(f, NULL, "init_weights", K);
    v->init_mu = ff_get(f, NULL, "init_means", kd);
    v->init_cov = ff_get(f, t, "init_covariances", v->cs);
    v->w = ff_get(f, t, "weights", K);
    v->mu = ff_get(f, t, "means", kd);
    v->cov = ff_get(f, t, "covariances", v->cs);
    v->prec_chol = ff_get(f, t, "precisions_cholesky", v->cs);
    v->lbs = ff_get(f, t, "lower_bounds", (size_t)v->max_iter);
    if (!v->x || !v->init_w || !v->init_mu || !v->init_cov || !v->w || !v->mu || !v->cov ||
        !v->prec_chol || !v->lbs || (ff_has(f, NULL, "sample_weights") && !v->sw))
        fail_msg("fixture family_%s.txt lacks a section for %s (see stderr)", c->file, t);
}

static emgmm_model *model_with(const fview *v, const double *w, const double *mu, const double *cov)
{
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, v->K, v->d, v->type), EMGMM_OK);
    const int rc = emgmm_model_set_parameters(m, w, mu, cov);
    if (rc != EMGMM_OK)
        fail_msg("set_parameters: %s: %s", emgmm_strerror(rc), emgmm_model_last_error(m));
    return m;
}

static void library_reproduces_sklearn(void **state)
{
    const fcase *c = *state;
    fview v;
    load(&v, c);
    const ff_file *f = &v.f;
    const char *t = c->type_name;
    emgmm_model *m = model_with(&v, v.init_w, v.init_mu, v.init_cov);
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_USER;
    p.tol = 0.0;
    p.max_iter = v.max_iter;
    p.reg_covar = v.reg;
    emgmm_data X = emgmm_data_f64(v.x, v.n, (size_t)v.d, (size_t)v.d);
    X.weights = v.sw; /* scikit-learn saw each row sample_weights[i] times */
    const int rc = emgmm_fit(m, &p, &X);
    if (rc != EMGMM_OK)
        fail_msg("%s: emgmm_fit: %s: %s", c->name, emgmm_strerror(rc), emgmm_model_last_error(m));

    assert_int_equal(emgmm_model_n_iter(m), (int)ff_scalar(f, t, "n_iter"));
    assert_int_equal(emgmm_model_converged(m), (int)ff_scalar(f, t, "converged"));
    assert_int_equal(emgmm_model_n_parameters(m), (long)ff_scalar(f, t, "n_parameters"));
    assert_int_equal(emgmm_model_covariances_size(m), v.cs);
    fc_assert_gmm_close(v.type, v.K, v.d, emgmm_model_weights(m), emgmm_model_means(m),
                        emgmm_model_covariances(m), v.w, v.mu, v.cov, SK_RTOL, c->name);
    fc_assert_prec_chol_close(v.type, v.K, v.d, emgmm_model_precisions_cholesky(m), v.prec_chol,
                              SK_RTOL, c->name);
    tu_assert_close(emgmm_model_lower_bound(m), ff_scalar(f, t, "lower_bound"), SK_RTOL, 0.0,
                    "%s: lower_bound", c->name);
    int count = -1;
    const double *lbs = emgmm_model_lower_bounds(m, &count);
    assert_int_equal(count, v.max_iter);
    for (int i = 0; i < count; i++)
        tu_assert_close(lbs[i], v.lbs[i], SK_RTOL, 0.0, "%s: lower bound of iteration %d", c->name,
                        i + 1);

    if (ff_has(f, t, "bic")) {
        const double sk_score = ff_scalar(f, t, "score"), sk_bic = ff_scalar(f, t, "bic"),
                     sk_aic = ff_scalar(f, t, "aic");
        double score = NAN, bic = NAN, aic = NAN;
        /* the library's own fit: as close as the parameters are */
        assert_int_equal(emgmm_score(m, &X, &score), EMGMM_OK);
        assert_int_equal(emgmm_bic(m, &X, &bic), EMGMM_OK);
        assert_int_equal(emgmm_aic(m, &X, &aic), EMGMM_OK);
        tu_assert_close(score, sk_score, SK_RTOL, 0.0, "%s: score of the fit", c->name);
        tu_assert_close(bic, sk_bic, SK_RTOL, 0.0, "%s: bic of the fit", c->name);
        tu_assert_close(aic, sk_aic, SK_RTOL, 0.0, "%s: aic of the fit", c->name);
        /* scikit-learn's fitted parameters: the criteria themselves, to 1e-9 */
        emgmm_model *s = model_with(&v, v.w, v.mu, v.cov);
        assert_int_equal(emgmm_score(s, &X, &score), EMGMM_OK);
        assert_int_equal(emgmm_bic(s, &X, &bic), EMGMM_OK);
        assert_int_equal(emgmm_aic(s, &X, &aic), EMGMM_OK);
        tu_assert_close(score, sk_score, CRIT_RTOL, 0.0, "%s: score of sklearn's fit", c->name);
        tu_assert_close(bic, sk_bic, CRIT_RTOL, 0.0, "%s: bic of sklearn's fit", c->name);
        tu_assert_close(aic, sk_aic, CRIT_RTOL, 0.0, "%s: aic of sklearn's fit", c->name);
        emgmm_model_free(s);
    }
    emgmm_model_free(m);
    ff_free(&v.f);
}

static void textbook_reproduces_sklearn(void **state)
{
    const fcase *c = *state;
    fview v;
    load(&v, c);
    const size_t kd = (size_t)v.K * v.d;
    double *w = tu_xmalloc(sizeof(double) * v.K), *mu = tu_xmalloc(sizeof(double) * kd);
    double *cov = tu_xmalloc(sizeof(double) * v.cs), *U = tu_xmalloc(sizeof(double) * v.cs);
    double *lbs = tu_xmalloc(sizeof(double) * v.max_iter);
    memcpy(w, v.init_w, sizeof(double) * v.K);
    memcpy(mu, v.init_mu, sizeof(double) * kd);
    memcpy(cov, v.init_cov, sizeof(double) * v.cs);
    assert_int_equal(
        tb_em(v.type, v.x, v.n, v.d, (size_t)v.d, v.sw, v.K, v.reg, v.max_iter, w, mu, cov, lbs),
        0);
    fc_assert_gmm_close(v.type, v.K, v.d, w, mu, cov, v.w, v.mu, v.cov, TB_RTOL, c->name);
    assert_int_equal(tb_precisions_cholesky(v.type, v.K, v.d, cov, U), 0);
    fc_assert_prec_chol_close(v.type, v.K, v.d, U, v.prec_chol, TB_RTOL, c->name);
    for (int i = 0; i < v.max_iter; i++)
        tu_assert_close(lbs[i], v.lbs[i], TB_RTOL, 0.0, "%s: lower bound %d", c->name, i + 1);
    if (ff_has(&v.f, c->type_name, "score")) {
        const double s =
            tb_estep(v.type, v.x, v.n, v.d, (size_t)v.d, NULL, v.K, w, mu, cov, NULL, NULL);
        tu_assert_close(s, ff_scalar(&v.f, c->type_name, "score"), TB_RTOL, 0.0, "%s: score",
                        c->name);
    }
    free(w);
    free(mu);
    free(cov);
    free(U);
    free(lbs);
    ff_free(&v.f);
}

int main(void)
{
    static fcase cases[] = {
        {"d2_k3", "tied", ""},
        {"d2_k3", "diag", ""},
        {"d2_k3", "spherical", ""},
        {"d5_k4_bigreg", "tied", ""},
        {"d5_k4_bigreg", "diag", ""},
        {"d5_k4_bigreg", "spherical", ""},
        {"d64_k3", "tied", ""},
        {"d64_k3", "diag", ""},
        {"d64_k3", "spherical", ""},
        {"d3_k2_weighted", "full", ""},
        {"d3_k2_weighted", "tied", ""},
        {"d3_k2_weighted", "diag", ""},
        {"d3_k2_weighted", "spherical", ""},
    };
    enum {
        NC = sizeof cases / sizeof cases[0]
    };
    static struct CMUnitTest tests[2 * NC];
    static char names[2 * NC][96];
    for (int i = 0; i < NC; i++) {
        snprintf(cases[i].name, sizeof cases[i].name, "%s_%s", cases[i].file, cases[i].type_name);
        snprintf(names[2 * i], sizeof names[0], "library_reproduces_sklearn_%s", cases[i].name);
        snprintf(names[2 * i + 1], sizeof names[0], "textbook_reproduces_sklearn_%s",
                 cases[i].name);
        tests[2 * i] =
            (struct CMUnitTest){names[2 * i], library_reproduces_sklearn, NULL, NULL, &cases[i]};
        tests[2 * i + 1] = (struct CMUnitTest){names[2 * i + 1], textbook_reproduces_sklearn, NULL,
                                               NULL, &cases[i]};
    }
    return cmocka_run_group_tests_name("family_sklearn", tests, NULL, NULL);
}
