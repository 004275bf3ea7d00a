/* The 'smem' search (issue 18, part 2): every kept split-and-merge move
 * raises the lower bound by more than tol / EMGMM_SMEM_TOL_DIV and the fit never goes below the
 * last kept move, for every covariance type, float32, weights and missing
 * values and mclust's ten further structures (which the fitted model keeps);
 * determinism for a seed and thread count; a constructed problem
 * where weak em-EM starts get stuck and the moves get out. */
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
#include "../mclust/mclust_util.h"
#include "src/em/search.h"

/* Weak em-EM (one start, two iterations) so that the moves have work. */
static emgmm_params smem_params(uint64_t seed)
{
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_SMEM;
    p.seed = seed;
    p.n_threads = 1;
    p.search_starts = 1;
    p.search_iter = 2;
    return p;
}

/* Runs the search with its trace and checks the moves: the trace (after
 * emem's EM, then after each kept move) rises by more than tol / EMGMM_SMEM_TOL_DIV
 * each time, and
 * the fit from the search's end never goes below the last entry.  Returns the
 * number of kept moves. */
static int assert_moves_up(const emgmm_params *p, const emgmm_data *X, int K, int cov,
                           const char *what)
{
    const int d = (int)X->d;
    emgmm_model *m = tu_model(K, d, cov);
    assert_int_equal(emgmm_fit_init(m, p, X), EMGMM_OK); /* the data checks */
    double trace[64];
    int nt = 0;
    assert_int_equal(emgmm_search_smem(m, p, X, 0, trace, 64, &nt), EMGMM_OK);
    assert_true(nt >= 1);
    for (int i = 1; i < nt; i++)
        if (!(trace[i] > trace[i - 1] + p->tol / EMGMM_SMEM_TOL_DIV)) {
            print_error("%s: move %d took the lower bound from %.17g to %.17g\n", what, i,
                        trace[i - 1], trace[i]);
            fail();
        }
    emgmm_model *fit = tu_model(K, d, cov);
    assert_int_equal(emgmm_fit(fit, p, X), EMGMM_OK);
    char below[256];
    if (snprintf(below, sizeof below, "%s (floor: the last kept move's lower bound)", what) >=
        (int)sizeof below)
        fail_msg("test label too long: %s", what);
    tu_assert_history_at_least(fit, trace[nt - 1], below);
    emgmm_model_free(m);
    emgmm_model_free(fit);
    return nt - 1;
}

/* assert_moves_up for structure COV (named NAME) from seed SEED's starts on the
 * 12-cluster grid, with reg_covar 0 when REG0; the moves kept. */
static int moves_for(const emgmm_data *X, int cov, const char *name, uint64_t seed, int reg0)
{
    char what[64];
    snprintf(what, sizeof what, "%s seed %d", name, (int)seed);
    emgmm_params p = smem_params(seed);
    if (reg0) p.reg_covar = 0.0;
    return assert_moves_up(&p, X, 12, cov, what);
}

static void test_each_kept_move_raises_lower_bound(void **state)
{
    (void)state;
    double mu[12][2];
    size_t n;
    double *x = tu_grid12(&n, mu);
    emgmm_data X = emgmm_data_f64(x, n, 2, 2);
    int moves_full = 0;
    for (int cov = 0; cov < 4; cov++)
        for (uint64_t seed = 0; seed < 6; seed++) {
            const int kept = moves_for(&X, cov, emgmm_covariance_type_name(cov), seed, 0);
            if (cov == EMGMM_COV_FULL) moves_full += kept;
        }
    assert_true(moves_full >= 1); /* else the test shows nothing */
    free(x);
}

/* With weak em-EM starts k-means-like optima are left by the moves: every
 * cluster found, and never lower than plain emem with the same starts. */
static void test_moves_escape_where_emem_is_stuck(void **state)
{
    (void)state;
    double mu[12][2];
    size_t n;
    double *x = tu_grid12(&n, mu);
    emgmm_data X = emgmm_data_f64(x, n, 2, 2);
    int better = 0;
    for (uint64_t seed = 0; seed < 6; seed++) {
        emgmm_params ps = smem_params(seed), pe = ps;
        pe.init = EMGMM_INIT_EMEM;
        emgmm_model *ms = tu_model(12, 2, EMGMM_COV_FULL), *me = tu_model(12, 2, EMGMM_COV_FULL);
        assert_int_equal(emgmm_fit(ms, &ps, &X), EMGMM_OK);
        assert_int_equal(emgmm_fit(me, &pe, &X), EMGMM_OK);
        const int found = tu_grid12_found(ms, mu);
        if (found != 12) {
            print_error("seed %d: smem found %d of 12 clusters\n", (int)seed, found);
            fail();
        }
        assert_true(emgmm_model_lower_bound(ms) >= emgmm_model_lower_bound(me) - 1e-9);
        better += emgmm_model_lower_bound(ms) > emgmm_model_lower_bound(me) + 1e-3;
        emgmm_model_free(ms);
        emgmm_model_free(me);
    }
    assert_true(better >= 1);
    free(x);
}

static void test_deterministic_for_seed_and_threads(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 77);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 3000, 4, 8, 1.0, 2.0, 3.0);
    emgmm_data X = emgmm_data_f64(mix.x, mix.n, 4, 4);
    for (int threads = 1; threads <= 2; threads++) {
        emgmm_params p = smem_params(9);
        p.n_threads = threads;
        emgmm_model_free(tu_assert_fit_deterministic(&p, &X, 8, EMGMM_COV_FULL));
    }
    tu_mixture_free(&mix);
}

/* float32 data, sample weights and missing values go through the moves too. */
static void test_float32_weights_missing(void **state)
{
    (void)state;
    tu_rng r;
    tu_rng_seed(&r, 31);
    tu_mixture mix;
    tu_mixture_make(&mix, &r, 2000, 3, 6, 1.0, 3.0, 3.0);
    const size_t n = mix.n;
    tu_variants v;
    tu_variants_make(&v, mix.x, n, 3, &r);
    emgmm_data X32 = emgmm_data_f32(v.xf, n, 3, 3);
    emgmm_params p = smem_params(3);
    assert_moves_up(&p, &X32, 6, EMGMM_COV_FULL, "float32");
    emgmm_data XW = emgmm_data_f64(mix.x, n, 3, 3);
    XW.weights = v.w;
    assert_moves_up(&p, &XW, 6, EMGMM_COV_DIAG, "weights");
    emgmm_data XM = emgmm_data_f64(v.xm, n, 3, 3);
    emgmm_params pm = p;
    pm.missing = EMGMM_MISSING_NAN;
    assert_moves_up(&pm, &XM, 6, EMGMM_COV_FULL, "missing");
    tu_variants_free(&v);
    tu_mixture_free(&mix);
}

/* |a − b| within rel of their size (or of `scale` near zero). */
static int near(double a, double b, double scale, double rel)
{
    return fabs(a - b) <= rel * (fabs(a) + fabs(b) + scale);
}

/* Checks that a d = 2 model's covariances have the structure NAME (mclust's
 * Σ_k = λ_k D_k A_k D_kᵀ, letters volume, shape, orientation): E volume: equal
 * determinants; E shape: equal eigenvalue ratio (for the diagonal structures
 * *I, equal a/c in coordinate order); E orientation: the Σ_k commute; I: Σ_k
 * diagonal (II: a multiple of I).  reg_covar is 0, so the constraints hold to
 * rounding. */
static void assert_structure(const emgmm_model *m, const char *name)
{
    const int K = emgmm_model_n_components(m);
    double *S = malloc((size_t)K * 4 * sizeof(double));
    assert_non_null(S);
    mu_expand(m, S);
    const double rel = 1e-8;
    double scale = 0.0;
    for (int k = 0; k < K; k++) scale = fmax(scale, S[4 * k] + S[4 * k + 3]);
    for (int k = 0; k < K; k++) {
        const double a = S[4 * k], b = S[4 * k + 1], c = S[4 * k + 3];
        const double a0 = S[0], b0 = S[1], c0 = S[3];
        const double det = a * c - b * b, det0 = a0 * c0 - b0 * b0;
        const double h = sqrt(0.25 * (a - c) * (a - c) + b * b),
                     h0 = sqrt(0.25 * (a0 - c0) * (a0 - c0) + b0 * b0);
        const double ratio = (0.5 * (a + c) + h) / (0.5 * (a + c) - h);
        const double ratio0 = (0.5 * (a0 + c0) + h0) / (0.5 * (a0 + c0) - h0);
        int ok = 1;
        if (name[0] == 'E') ok &= near(det, det0, scale * scale, rel);
        if (name[2] == 'I') {
            ok &= b == 0.0;
            if (name[1] == 'I') ok &= near(a, c, scale, rel);
            if (name[1] == 'E') ok &= near(a / c, a0 / c0, 1.0, rel);
        } else {
            if (name[1] == 'E') ok &= near(ratio, ratio0, 1.0, rel);
            if (name[2] == 'E') ok &= near(b * (a0 - c0), b0 * (a - c), scale * scale, rel);
        }
        if (!ok) {
            print_error("%s: component %d's covariance [%.17g %.17g; %.17g %.17g] breaks the "
                        "structure (component 0: [%.17g %.17g; %.17g %.17g])\n",
                        name, k, a, b, b, c, a0, b0, b0, c0);
            fail();
        }
    }
    free(S);
}

/* mclust's fourteen structures (the four types among them): each kept move raises the
 * lower bound and the fitted model keeps its structure (a move's moment-matched
 * merge and split break it; the M-steps after it must restore it). */
static void test_mclust_structures(void **state)
{
    (void)state;
    double mu[12][2];
    size_t n;
    double *x = tu_grid12(&n, mu);
    emgmm_data X = emgmm_data_f64(x, n, 2, 2);
    int moves = 0;
    for (int i = 0; i < 14; i++) {
        const int cov = emgmm_covariance_type_from_name(mu_models[i]);
        assert_true(cov >= 0);
        for (int si = 0; si < 2; si++) {
            const uint64_t seed = si ? 5 : 0; /* 5: starts that leave moves to make */
            moves += moves_for(&X, cov, mu_models[i], seed, 1);
            emgmm_params p = smem_params(seed);
            p.reg_covar = 0.0;
            emgmm_model *fit = tu_model(12, 2, cov);
            assert_int_equal(emgmm_fit(fit, &p, &X), EMGMM_OK);
            assert_structure(fit, mu_models[i]);
            emgmm_model_free(fit);
        }
    }
    assert_true(moves >= 14); /* moves were made (seed 5: 17 under the 14 structures) */
    free(x);
}

/* The search is the initialisation: its EM runs have their own iteration cap,
 * so the start does not depend on max_iter, and a fit stopped by max_iter and
 * resumed with a larger one started where the uninterrupted fit started
 * (tol 0: the search's EM runs to its cap). */
static void test_start_independent_of_max_iter(void **state)
{
    (void)state;
    double mu[12][2];
    size_t n;
    double *x = tu_grid12(&n, mu);
    emgmm_data X = emgmm_data_f64(x, n, 2, 2);
    emgmm_params a = smem_params(5), b = a;
    a.tol = b.tol = 0.0;
    a.max_iter = 3;
    b.max_iter = 140;
    emgmm_model *ma = tu_model(12, 2, EMGMM_COV_FULL), *mb = tu_model(12, 2, EMGMM_COV_FULL);
    assert_int_equal(emgmm_fit_init(ma, &a, &X), EMGMM_OK);
    assert_int_equal(emgmm_fit_init(mb, &b, &X), EMGMM_OK);
    tu_assert_same_model(ma, mb, "smem start with max_iter 3 and 140");
    emgmm_model_free(ma);
    emgmm_model_free(mb);
    free(x);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(emgmm_init_method_from_name("smem"), EMGMM_INIT_SMEM);
    assert_int_equal(emgmm_init_method_from_name("split-merge"), EMGMM_INIT_SMEM);
    assert_string_equal(emgmm_init_method_name(EMGMM_INIT_SMEM), "smem");
    assert_null(emgmm_init_method_name(EMGMM_INIT_SMEM + 1));
    assert_int_equal(emgmm_init_method_from_name("resp"), -1); /* not by name */
    emgmm_params p = smem_params(1);
    p.init = EMGMM_INIT_SMEM + 1;
    assert_int_equal(emgmm_params_validate(&p), EMGMM_ERR_INVALID_PARAM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kept_move_raises_lower_bound),
        cmocka_unit_test(test_moves_escape_where_emem_is_stuck),
        cmocka_unit_test(test_deterministic_for_seed_and_threads),
        cmocka_unit_test(test_float32_weights_missing),
        cmocka_unit_test(test_mclust_structures),
        cmocka_unit_test(test_start_independent_of_max_iter),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
