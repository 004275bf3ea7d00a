/* test_accel.c — accelerated EM, SQUAREM and Anderson (params.accel, src/em/accel.c,
 * docs/accel.md), each:
 *   - the monotone guard: an extrapolated point made worse on purpose is rejected, the
 *     iteration then is exactly plain EM's step from the EM point (SQUAREM: and the step cap
 *     shrinks; Anderson: and the memory restarts with that step);
 *   - validity: every model a caller sees during an accelerated fit has PD covariances
 *     (checked by a Cholesky written here) and weights on the simplex;
 *   - the accelerated fit reaches plain EM's optimum (lower bound to 1e-8 per sample) on the
 *     scikit-learn fixtures, for all four covariance types, float32, missing data and
 *     per-sample weights, in fewer data passes on overlapping data;
 *   - the lower bound never decreases between reported iterations;
 *   - determinism for a seed and thread count (bitwise), and a resume through the
 *     accelerated state API continuing bit for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "emgmm.h"
#include "../common/tu.h"
#include "../ref/fixture.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR must name tests/fixtures"
#endif

/* the same optimum: mean log-likelihood per sample, absolute */
#define SAME_OPT 1e-8

/* A Cholesky of the test's own: 0 when the d×d matrix is symmetric positive definite. */
static int spd(const double *S, int d)
{
    double *L = tu_xmalloc((size_t)d * d * sizeof(double));
    int ok = 1;
    for (int j = 0; j < d && ok; j++) {
        for (int i = j; i < d && ok; i++) {
            if (fabs(S[(size_t)i * d + j] - S[(size_t)j * d + i]) >
                1e-12 * (fabs(S[(size_t)i * d + i]) + fabs(S[(size_t)j * d + j])))
                ok = 0;
            double s = S[(size_t)i * d + j];
            for (int l = 0; l < j; l++) s -= L[(size_t)i * d + l] * L[(size_t)j * d + l];
            if (i == j) {
                if (!(s > 0.0))
                    ok = 0;
                else
                    L[(size_t)j * d + j] = sqrt(s);
            } else {
                L[(size_t)i * d + j] = s / L[(size_t)j * d + j];
            }
        }
    }
    free(L);
    return ok ? 0 : -1;
}

/* Weights on the simplex, every covariance positive definite. */
static void assert_valid(const emgmm_model *m, const char *what, int it)
{
    const int K = emgmm_model_n_components(m), d = emgmm_model_n_features(m);
    const int ct = emgmm_model_covariance_type(m);
    const double *w = emgmm_model_weights(m), *c = emgmm_model_covariances(m);
    double s = 0.0;
    for (int k = 0; k < K; k++) {
        if (!(w[k] > 0.0)) fail_msg("%s: iteration %d: weight[%d] = %g", what, it, k, w[k]);
        s += w[k];
    }
    if (fabs(s - 1.0) > 1e-12) fail_msg("%s: iteration %d: weights sum to %.17g", what, it, s);
    if (ct == EMGMM_COV_FULL || ct == EMGMM_COV_TIED) {
        const int nc = ct == EMGMM_COV_FULL ? K : 1;
        for (int k = 0; k < nc; k++)
            if (spd(c + (size_t)k * d * d, d))
                fail_msg("%s: iteration %d: covariance %d is not positive definite", what, it, k);
    } else {
        const size_t len = emgmm_model_covariances_size(m);
        for (size_t i = 0; i < len; i++)
            if (!(c[i] > 0.0)) fail_msg("%s: iteration %d: variance %zu = %g", what, it, i, c[i]);
    }
}

/* A fit step by step, as emgmm_fit runs it for n_init = 1, checking after every iteration
 * that the lower bound did not decrease and that the model is valid. */
static int run_checked(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, const char *what)
{
    int st = emgmm_fit_init(m, p, X);
    if (st) return st;
    double prev = -INFINITY, lb = 0.0;
    while (emgmm_model_n_iter(m) < p->max_iter) {
        st = emgmm_fit_iterate(m, p, X, &lb);
        if (st) return st;
        const int it = emgmm_model_n_iter(m);
        /* An extrapolation is only ever accepted at a lower bound >= the last (checked
         * exactly in monotone_guard_rejects); an EM step itself may lower it a little:
         * reg_covar makes the M-step not quite the maximiser (by about (reg/σ²)²/2, 5e-13 for
         * the defaults on unit data — seen after an accepted extrapolation, which is not at a
         * fixed point), and a float32 pass rounds its products at float precision (plain
         * EM's own lower bound falls by 1e-8 relative there). */
        const double slack = X->dtype == EMGMM_F32 ? 1e-7 : 1e-11;
        if (lb < prev - slack * fabs(prev))
            fail_msg("%s: lower bound fell at iteration %d: %.17g after %.17g", what, it, lb, prev);
        assert_valid(m, what, it);
        prev = lb;
        if (emgmm_fit_converged(m, p->tol)) break;
    }
    return EMGMM_OK;
}

typedef struct {
    double lb;
    int n_iter;
    long long passes;
} outcome;

static const int methods[] = {EMGMM_ACCEL_SQUAREM, EMGMM_ACCEL_ANDERSON};
#define N_METHODS (int)(sizeof methods / sizeof *methods)

/* Plain EM and the accelerated method ACC from the same start to tol 1e-12: the same lower
 * bound to SAME_OPT. */
static void same_optimum(int acc, const emgmm_params *base, const emgmm_data *X, int K, int ct,
                         const double *w0, const double *mu0, const double *cov0, const char *what,
                         outcome *plain_out, outcome *acc_out)
{
    outcome o[2];
    for (int a = 0; a < 2; a++) {
        emgmm_model *m = NULL;
        assert_int_equal(emgmm_model_create(&m, K, (int)X->d, ct), EMGMM_OK);
        emgmm_params p = *base;
        /* float32 passes round the lower bound at about 1e-9: a tolerance below that is
         * never met */
        p.tol = X->dtype == EMGMM_F32 ? 1e-9 : 1e-12;
        p.max_iter = 20000;
        p.accel = a ? acc : EMGMM_ACCEL_NONE;
        if (w0) {
            assert_int_equal(emgmm_model_set_parameters(m, w0, mu0, cov0), EMGMM_OK);
            p.init = EMGMM_INIT_USER;
        }
        char name[128];
        snprintf(name, sizeof name, "%s (%s)", what, emgmm_accel_method_name(p.accel));
        const int st = run_checked(m, &p, X, name);
        if (st) fail_msg("%s: %s: %s", name, emgmm_strerror(st), emgmm_model_last_error(m));
        if (!emgmm_model_converged(m))
            fail_msg("%s: not converged in %d iterations", name, p.max_iter);
        o[a].lb = emgmm_model_lower_bound(m);
        /* float32: a pass's lower bound carries float32 rounding (about 1e-8 relative), so the
         * two optima are compared by their score on the same values in double */
        if (X->dtype == EMGMM_F32) {
            const float *xf = X->x;
            double *xd = tu_xmalloc(X->n * X->d * sizeof(double));
            for (size_t i = 0; i < X->n * X->d; i++) xd[i] = xf[i];
            const emgmm_data Xd = emgmm_data_f64(xd, X->n, X->d, X->d);
            assert_int_equal(emgmm_score(m, &Xd, &o[a].lb), EMGMM_OK);
            free(xd);
        }
        o[a].n_iter = emgmm_model_n_iter(m);
        o[a].passes = emgmm_model_n_passes(m);
        if (!a) assert_int_equal(o[a].passes, o[a].n_iter); /* plain EM: one pass an iteration */
        assert_true(o[a].passes >= o[a].n_iter);
        emgmm_model_free(m);
    }
    if (fabs(o[1].lb - o[0].lb) > SAME_OPT)
        fail_msg("%s: %s's optimum %.17g differs from plain EM's %.17g by %.3g", what,
                 emgmm_accel_method_name(acc), o[1].lb, o[0].lb, o[1].lb - o[0].lb);
    print_message("    %-28s plain %5lld passes, %-8s %5lld passes (%d iterations), |Δlb| %.2g\n",
                  what, o[0].passes, emgmm_accel_method_name(acc), o[1].passes, o[1].n_iter,
                  fabs(o[1].lb - o[0].lb));
    if (plain_out) *plain_out = o[0];
    if (acc_out) *acc_out = o[1];
}

static const char *const fixtures[] = {"d1_k2_classic", "d2_k3_overlap", "d3_k2_offset",
                                       "d5_k4_bigreg", "d64_k3"};

static void fixtures_same_optimum(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
        sk_fixture f;
        if (sk_fixture_load(&f, FIXTURE_DIR, fixtures[i]) != 0) fail_msg("fixture %s", fixtures[i]);
        emgmm_params p = emgmm_params_default();
        p.reg_covar = f.reg_covar;
        p.n_threads = 2;
        const emgmm_data X = emgmm_data_f64(f.x, f.n, (size_t)f.d, (size_t)f.d);
        for (int a = 0; a < N_METHODS; a++)
            same_optimum(methods[a], &p, &X, f.K, EMGMM_COV_FULL, f.init_w, f.init_mu, f.init_cov,
                         fixtures[i], NULL, NULL);
        sk_fixture_free(&f);
    }
}

/* Strongly overlapping: components whose means lie within one standard deviation. */
static emgmm_data overlap_data(tu_mixture *mx, uint64_t seed, size_t n, int d, int K)
{
    return tu_mixture_view(mx, NULL, seed, n, d, K, 0.8, 1.0);
}

static void overlap_all_types_fewer_passes(void **state)
{
    (void)state;
    tu_mixture mx;
    const emgmm_data X = overlap_data(&mx, 8151, 1500, 3, 3);
    for (int a = 0; a < N_METHODS; a++)
        for (int ct = 0; ct < 4; ct++) {
            emgmm_params p = emgmm_params_default();
            p.n_threads = 2;
            p.seed = 3;
            outcome pl, ac;
            same_optimum(methods[a], &p, &X, 3, ct, NULL, NULL, NULL,
                         emgmm_covariance_type_name(ct), &pl, &ac);
            /* overlapping components: plain EM crawls, acceleration must save passes */
            if (pl.passes >= 60 && !(ac.passes * 2 <= pl.passes))
                fail_msg("%s: %s %lld passes against plain %lld", emgmm_covariance_type_name(ct),
                         emgmm_accel_method_name(methods[a]), ac.passes, pl.passes);
        }
    tu_mixture_free(&mx);
}

/* float32, per-sample weights and missing values on n rows: the same optimum as plain EM */
static void variants_same_optimum(size_t n)
{
    const int d = 4;
    /* separated enough that plain EM, stopped at the 1e-9 a float32 pass can resolve, is
     * within 1e-8 of its optimum (on overlapping data it stops 1e-7 short: the slow
     * convergence SQUAREM is for) */
    tu_mixture mx;
    const emgmm_data X64 = tu_mixture_view(&mx, NULL, 2385, n, d, 3, 0.8, 2.5);
    float *xf = tu_xmalloc(mx.n * d * sizeof(float));
    for (size_t i = 0; i < mx.n * d; i++) xf[i] = (float)mx.x[i];
    emgmm_params p = emgmm_params_default();
    p.n_threads = 2;
    p.seed = 11;
    /* float32 */
    emgmm_data X = emgmm_data_f32(xf, mx.n, d, d);
    for (int a = 0; a < N_METHODS; a++)
        same_optimum(methods[a], &p, &X, 3, EMGMM_COV_FULL, NULL, NULL, NULL, "float32", NULL,
                     NULL);
    for (int a = 0; a < N_METHODS; a++)
        same_optimum(methods[a], &p, &X, 3, EMGMM_COV_DIAG, NULL, NULL, NULL, "float32 diag", NULL,
                     NULL);
    /* per-sample weights */
    double *wt = tu_xmalloc(mx.n * sizeof(double));
    tu_rng r;
    tu_rng_seed(&r, 77);
    for (size_t i = 0; i < mx.n; i++) wt[i] = 0.25 + 2.0 * tu_uniform(&r);
    X = X64;
    X.weights = wt;
    for (int a = 0; a < N_METHODS; a++)
        same_optimum(methods[a], &p, &X, 3, EMGMM_COV_FULL, NULL, NULL, NULL, "weights", NULL,
                     NULL);
    /* missing values: about 10% of the entries, never a whole row */
    double *xm = tu_xmalloc(mx.n * d * sizeof(double));
    memcpy(xm, mx.x, mx.n * d * sizeof(double));
    for (size_t i = 0; i < mx.n; i++)
        if (tu_uniform(&r) < 0.4) xm[i * d + (size_t)(tu_uniform(&r) * d) % d] = NAN;
    X = emgmm_data_f64(xm, mx.n, d, d);
    p.missing = EMGMM_MISSING_NAN;
    for (int a = 0; a < N_METHODS; a++)
        same_optimum(methods[a], &p, &X, 3, EMGMM_COV_FULL, NULL, NULL, NULL, "missing (nan)", NULL,
                     NULL);
    for (int a = 0; a < N_METHODS; a++)
        same_optimum(methods[a], &p, &X, 3, EMGMM_COV_TIED, NULL, NULL, NULL, "missing tied", NULL,
                     NULL);
    free(xm);
    free(wt);
    free(xf);
    tu_mixture_free(&mx);
}

static void float32_missing_weights(void **state)
{
    (void)state;
    variants_same_optimum(1200);
}

/* Anderson's subsample warm-up (docs/accel.md) needs 8000 rows: the variants and the four
 * covariance types with it reach plain EM's optimum, the lower bound never falling and every
 * model valid on the way (run_checked) */
static void warm_up_same_optimum(void **state)
{
    (void)state;
    variants_same_optimum(10000);
    tu_mixture mx;
    const emgmm_data X = tu_mixture_view(&mx, NULL, 6012, 10000, 3, 4, 0.8, 2.5);
    emgmm_params p = emgmm_params_default();
    p.n_threads = 2;
    p.seed = 8;
    for (int ct = 0; ct < 4; ct++)
        same_optimum(EMGMM_ACCEL_ANDERSON, &p, &X, 4, ct, NULL, NULL, NULL,
                     emgmm_covariance_type_name(ct), NULL, NULL);
    tu_mixture_free(&mx);
}

/* init and two iterations of method ACC; the data passes they took */
static long long two_iterations(emgmm_model **m, const emgmm_params *base, int acc,
                                const emgmm_data *X, int K)
{
    emgmm_params p = *base;
    p.accel = acc;
    assert_int_equal(emgmm_model_create(m, K, (int)X->d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_fit_init(*m, &p, X), EMGMM_OK);
    double lb1 = 0.0, lb2 = 0.0;
    assert_int_equal(emgmm_fit_iterate(*m, &p, X, &lb1), EMGMM_OK);
    assert_int_equal(emgmm_model_n_passes(*m), 1);
    assert_int_equal(emgmm_fit_iterate(*m, &p, X, &lb2), EMGMM_OK);
    assert_true(lb2 >= lb1);
    assert_valid(*m, emgmm_accel_method_name(acc), 2);
    return emgmm_model_n_passes(*m);
}

/* The warm-up's three outcomes at Anderson's second iteration:
 *  - accepted on overlapping data: its passes on every 4th row counted (at least one data
 *    pass besides the two iterations'), and a lower bound above plain EM's second;
 *  - not made under 8000 rows: two iterations, two passes;
 *  - rejected when every 4th row lies far from the others (the subsample's fit is of those rows
 *    alone, far below on all rows): the second iteration is then plain EM's to the bit, at
 *    the cost of the warm-up's passes, the candidate's and the EM step's. */
static void anderson_warm_up(void **state)
{
    (void)state;
    const int d = 2, K = 3;
    tu_mixture mx;
    const emgmm_data X = overlap_data(&mx, 5150, 12000, d, K);
    emgmm_params p = emgmm_params_default();
    p.n_threads = 2;
    p.seed = 4;
    emgmm_model *a = NULL, *e = NULL;
    const long long used = two_iterations(&a, &p, EMGMM_ACCEL_ANDERSON, &X, K);
    assert_int_equal(two_iterations(&e, &p, EMGMM_ACCEL_NONE, &X, K), 2);
    assert_true(used >= 3);
    assert_true(emgmm_model_lower_bound(a) > emgmm_model_lower_bound(e));
    emgmm_model_free(a);
    emgmm_model_free(e);

    emgmm_data small = X;
    small.n = 7999;
    assert_int_equal(two_iterations(&a, &p, EMGMM_ACCEL_ANDERSON, &small, K), 2);
    assert_int_equal(two_iterations(&e, &p, EMGMM_ACCEL_NONE, &small, K), 2);
    tu_assert_same_model(a, e, "under 8000 rows");
    emgmm_model_free(a);
    emgmm_model_free(e);

    double *far = tu_xmalloc(X.n * d * sizeof(double));
    memcpy(far, mx.x, X.n * d * sizeof(double));
    for (size_t i = 0; i < X.n; i += 4)
        for (int j = 0; j < d; j++) far[i * d + j] += 1000.0;
    const emgmm_data Xf = emgmm_data_f64(far, X.n, d, d);
    assert_true(two_iterations(&a, &p, EMGMM_ACCEL_ANDERSON, &Xf, K) >= 4);
    assert_int_equal(two_iterations(&e, &p, EMGMM_ACCEL_NONE, &Xf, K), 2);
    tu_assert_same_model(a, e, "warm-up rejected");
    emgmm_model_free(a);
    emgmm_model_free(e);
    free(far);
    tu_mixture_free(&mx);
}

/* m's next iteration (its held extrapolation made bad) is rejected: it costs two passes (the
 * bad point, then the EM point) from PASSES and reports one iteration whose lower bound and
 * parameters are those of plain EM from the same state, to the bit, and no lower than before. */
static void assert_next_rejected(emgmm_model *m, const emgmm_params *p, const emgmm_data *X,
                                 long long passes)
{
    const int K = emgmm_model_n_components(m), d = emgmm_model_n_features(m);
    emgmm_model *ref = NULL;
    assert_int_equal(emgmm_model_copy(&ref, m), EMGMM_OK);
    emgmm_params pp = *p;
    pp.accel = EMGMM_ACCEL_NONE;
    double lb_ref = 0.0, lb = 0.0;
    assert_int_equal(emgmm_fit_iterate(ref, &pp, X, &lb_ref), EMGMM_OK);
    const int it0 = emgmm_model_n_iter(m);
    const double prev = emgmm_model_lower_bound(m);
    assert_int_equal(emgmm_fit_iterate(m, p, X, &lb), EMGMM_OK);
    assert_int_equal(emgmm_model_n_iter(m), it0 + 1);
    assert_int_equal(emgmm_model_n_passes(m), passes + 2);
    assert_true(lb >= prev);
    assert_true(lb == lb_ref);
    assert_memory_equal(emgmm_model_means(m), emgmm_model_means(ref),
                        (size_t)K * d * sizeof(double));
    assert_memory_equal(emgmm_model_covariances(m), emgmm_model_covariances(ref),
                        emgmm_model_covariances_size(m) * sizeof(double));
    assert_memory_equal(emgmm_model_weights(m), emgmm_model_weights(ref),
                        (size_t)K * sizeof(double));
    emgmm_model_free(ref);
}

/* Runs accelerated iterations until the model holds an extrapolated point in waiting
 * (phase 2); returns 0 when none came within max iterations. */
static int until_phase2(emgmm_model *m, const emgmm_params *p, const emgmm_data *X, int max)
{
    for (int i = 0; i < max; i++) {
        int phase = -1;
        double step = 0;
        long long passes = 0;
        size_t len = 0;
        assert_int_equal(emgmm_model_accel_state(m, &phase, &step, &passes, NULL, &len), EMGMM_OK);
        if (phase == 2) return 1;
        assert_int_equal(emgmm_fit_iterate(m, p, X, NULL), EMGMM_OK);
    }
    return 0;
}

static void monotone_guard_rejects(void **state)
{
    (void)state;
    const int d = 2, K = 3;
    tu_mixture mx;
    const emgmm_data X = overlap_data(&mx, 4242, 1500, d, K);
    emgmm_params p = emgmm_params_default();
    p.n_threads = 2;
    p.accel = EMGMM_ACCEL_SQUAREM;
    p.max_iter = 1000;
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_fit_init(m, &p, &X), EMGMM_OK);
    assert_true(until_phase2(m, &p, &X, 50));

    /* the held extrapolated point, made worse: every mean moved 40 units away (coordinates:
     * log-weights [K], means [K][d], covariance factors) */
    int phase;
    double step;
    long long passes;
    size_t len = 0;
    assert_int_equal(emgmm_model_accel_state(m, &phase, &step, &passes, NULL, &len), EMGMM_OK);
    assert_int_equal(len, (size_t)(K + K * d + K * d * (d + 1) / 2 + 1));
    double *vec = tu_xmalloc(len * sizeof(double));
    assert_int_equal(emgmm_model_accel_state(m, &phase, &step, &passes, vec, &len), EMGMM_OK);
    for (int i = K; i < K + K * d; i++) vec[i] += 40.0;
    vec[len - 1] = step; /* the step that made it: the cap then shrinks below it */
    assert_int_equal(emgmm_model_set_accel_state(m, 2, step, passes, vec, len), EMGMM_OK);

    /* rejected: two passes (the bad point, then the EM point), one reported iteration equal
     * to plain EM's from the same state to the bit */
    assert_next_rejected(m, &p, &X, passes);
    double lb = 0.0;
    double step2;
    long long passes2;
    size_t len2 = 0;
    assert_int_equal(emgmm_model_accel_state(m, &phase, &step2, &passes2, NULL, &len2), EMGMM_OK);
    assert_int_equal(phase, 1); /* the EM point starts the next cycle */
    assert_true(step2 < step || step2 == 1.0);

    /* an extrapolation left alone is accepted: one pass, and no lower bound below the last */
    assert_true(until_phase2(m, &p, &X, 50));
    assert_int_equal(emgmm_model_accel_state(m, &phase, &step, &passes, NULL, &len2), EMGMM_OK);
    const double before = emgmm_model_lower_bound(m);
    assert_int_equal(emgmm_fit_iterate(m, &p, &X, &lb), EMGMM_OK);
    assert_true(lb >= before);
    const long long used = emgmm_model_n_passes(m) - passes;
    assert_true(used == 1 || used == 2);
    free(vec);
    emgmm_model_free(m);
    tu_mixture_free(&mx);
}

/* Anderson: the held memory rewritten so that the next candidate is the model's point g with
 * every mean moved 40 units back: one difference pair with Δf = e_0 and x_0 = g_0 − 1
 * (coordinate 0 is log weight[0]), so that γ = 1, and Δg = 40 in every mean coordinate; the
 * means of x one unit ahead of g's, so that the candidate's step goes the EM step's way
 * (f = g − x), and a step cap of 1000 (about 40 EM steps are asked for). */
static void anderson_guard_rejects(void **state)
{
    (void)state;
    const int d = 2, K = 3;
    tu_mixture mx;
    const emgmm_data X = overlap_data(&mx, 4242, 1500, d, K);
    emgmm_params p = emgmm_params_default();
    p.n_threads = 2;
    p.accel = EMGMM_ACCEL_ANDERSON;
    p.max_iter = 1000;
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_fit_init(m, &p, &X), EMGMM_OK);
    for (int i = 0; i < 6; i++) assert_int_equal(emgmm_fit_iterate(m, &p, &X, NULL), EMGMM_OK);
    int phase;
    double step;
    long long passes;
    size_t len = 0;
    const size_t P = (size_t)(K + K * d + K * d * (d + 1) / 2);
    assert_int_equal(emgmm_model_accel_state(m, &phase, &step, &passes, NULL, &len), EMGMM_OK);
    assert_int_equal(phase, 3);
    assert_true(len >= 1 + 3 * P);
    double *vec = tu_xmalloc(len * sizeof(double));
    assert_int_equal(emgmm_model_accel_state(m, &phase, &step, &passes, vec, &len), EMGMM_OK);
    assert_true(vec[0] >= 1.0);
    assert_int_equal(len, 1 + P + 2 * (size_t)vec[0] * P);
    /* [pairs, x, Δf, Δg] with one pair */
    double *bad = tu_xmalloc((1 + 3 * P) * sizeof(double));
    memset(bad, 0, (1 + 3 * P) * sizeof(double));
    bad[0] = 1.0;
    memcpy(bad + 1, vec + 1, P * sizeof(double));
    bad[1] = log(emgmm_model_weights(m)[0]) - 1.0;
    for (int i = 0; i < K * d; i++) bad[1 + K + i] = emgmm_model_means(m)[i] + 1.0;
    bad[1 + P] = 1.0;
    for (size_t i = (size_t)K; i < (size_t)(K + K * d); i++) bad[1 + 2 * P + i] = 40.0;
    assert_int_equal(emgmm_model_set_accel_state(m, 3, 1000.0, passes, bad, 1 + 3 * P), EMGMM_OK);

    /* rejected: two passes (the bad point, then the EM point), one reported iteration equal
     * to plain EM's from the same state to the bit */
    assert_next_rejected(m, &p, &X, passes);
    double lb = 0.0;
    /* the memory restarted: one pair, the EM step just made; the cap shrank */
    size_t len2 = 0;
    assert_int_equal(emgmm_model_accel_state(m, &phase, &step, &passes, NULL, &len2), EMGMM_OK);
    assert_int_equal(phase, 3);
    assert_int_equal(len2, 1 + 3 * P);
    assert_true(step < 1000.0);

    /* left alone, every later iteration costs one pass (accepted) or two (rejected) and never
     * lowers the lower bound */
    for (int i = 0; i < 30; i++) {
        const double before = emgmm_model_lower_bound(m);
        const long long p0 = emgmm_model_n_passes(m);
        assert_int_equal(emgmm_fit_iterate(m, &p, &X, &lb), EMGMM_OK);
        assert_true(lb >= before);
        const long long used = emgmm_model_n_passes(m) - p0;
        assert_true(used == 1 || used == 2);
    }
    free(bad);
    free(vec);
    emgmm_model_free(m);
    tu_mixture_free(&mx);
}

static void deterministic_and_resumable(void **state)
{
    (void)state;
    /* the last case: Anderson on 12000 rows, whose second iteration is the warm-up */
    for (int am = 0; am <= N_METHODS; am++) {
        const int d = 3, K = 4;
        tu_mixture mx;
        const emgmm_data X = overlap_data(&mx, 99, am < N_METHODS ? 1500 : 12000, d, K);
        emgmm_params p = emgmm_params_default();
        p.n_threads = 2;
        p.seed = 5;
        p.tol = 1e-9;
        p.max_iter = 500;
        p.accel = am < N_METHODS ? methods[am] : EMGMM_ACCEL_ANDERSON;
        emgmm_model *a = NULL, *b = NULL;
        assert_int_equal(emgmm_model_create(&a, K, d, EMGMM_COV_FULL), EMGMM_OK);
        assert_int_equal(emgmm_model_create(&b, K, d, EMGMM_COV_FULL), EMGMM_OK);
        assert_int_equal(emgmm_fit(a, &p, &X), EMGMM_OK);
        assert_int_equal(emgmm_fit(b, &p, &X), EMGMM_OK);
        assert_int_equal(emgmm_model_n_iter(a), emgmm_model_n_iter(b));
        assert_int_equal(emgmm_model_n_passes(a), emgmm_model_n_passes(b));
        assert_memory_equal(emgmm_model_means(a), emgmm_model_means(b),
                            (size_t)K * d * sizeof(double));
        assert_memory_equal(emgmm_model_covariances(a), emgmm_model_covariances(b),
                            emgmm_model_covariances_size(a) * sizeof(double));
        int na = 0, nb = 0;
        const double *la = emgmm_model_lower_bounds(a, &na),
                     *lbb = emgmm_model_lower_bounds(b, &nb);
        assert_memory_equal(la, lbb, (size_t)na * sizeof(double));

        /* a resume at every iteration in turn: parameters, fit state and accelerated state into
         * a fresh model, then on to the end — the same fit to the bit */
        const int total = emgmm_model_n_iter(a);
        for (int stop = 1; stop < total; stop += 4) {
            emgmm_model *c = NULL, *r = NULL;
            emgmm_params q = p;
            q.max_iter = stop;
            /* step by step, as the CLI runs a checkpointed fit (emgmm_fit itself ends its
             * accelerated cycle when it returns) */
            assert_int_equal(emgmm_model_create(&c, K, d, EMGMM_COV_FULL), EMGMM_OK);
            assert_int_equal(emgmm_fit_init(c, &q, &X), EMGMM_OK);
            int conv = 0;
            while (!conv && emgmm_model_n_iter(c) < stop) {
                assert_int_equal(emgmm_fit_iterate(c, &q, &X, NULL), EMGMM_OK);
                conv = emgmm_fit_converged(c, q.tol);
            }
            if (conv) {
                emgmm_model_free(c);
                break;
            }
            int phase;
            double step;
            long long passes;
            size_t len = 0;
            assert_int_equal(emgmm_model_accel_state(c, &phase, &step, &passes, NULL, &len),
                             EMGMM_OK);
            double *vec = tu_xmalloc((len ? len : 1) * sizeof(double));
            assert_int_equal(emgmm_model_accel_state(c, &phase, &step, &passes, vec, &len),
                             EMGMM_OK);
            assert_int_equal(emgmm_model_create(&r, K, d, EMGMM_COV_FULL), EMGMM_OK);
            assert_int_equal(emgmm_model_set_parameters(r, emgmm_model_weights(c),
                                                        emgmm_model_means(c),
                                                        emgmm_model_covariances(c)),
                             EMGMM_OK);
            int nc = 0;
            const double *lc = emgmm_model_lower_bounds(c, &nc);
            assert_int_equal(emgmm_model_set_fit_state(r, lc, nc, 0), EMGMM_OK);
            assert_int_equal(emgmm_model_set_accel_state(r, phase, step, passes, vec, len),
                             EMGMM_OK);
            while (emgmm_model_n_iter(r) < p.max_iter) {
                assert_int_equal(emgmm_fit_iterate(r, &p, &X, NULL), EMGMM_OK);
                if (emgmm_fit_converged(r, p.tol)) break;
            }
            assert_int_equal(emgmm_model_n_iter(r), total);
            assert_int_equal(emgmm_model_n_passes(r), emgmm_model_n_passes(a));
            assert_memory_equal(emgmm_model_means(r), emgmm_model_means(a),
                                (size_t)K * d * sizeof(double));
            assert_memory_equal(emgmm_model_covariances(r), emgmm_model_covariances(a),
                                emgmm_model_covariances_size(a) * sizeof(double));
            free(vec);
            emgmm_model_free(r);
            emgmm_model_free(c);
        }
        emgmm_model_free(a);
        emgmm_model_free(b);
        tu_mixture_free(&mx);
    }
}

static void bad_arguments(void **state)
{
    (void)state;
    emgmm_params p = emgmm_params_default();
    assert_int_equal(p.accel, EMGMM_ACCEL_NONE);
    p.accel = 3;
    assert_int_equal(emgmm_params_validate(&p), EMGMM_ERR_INVALID_PARAM);
    p.accel = EMGMM_ACCEL_ANDERSON;
    assert_int_equal(emgmm_params_validate(&p), EMGMM_OK);
    p.accel = -1;
    assert_int_equal(emgmm_params_validate(&p), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_accel_method_from_name("squarem"), EMGMM_ACCEL_SQUAREM);
    assert_int_equal(emgmm_accel_method_from_name("none"), EMGMM_ACCEL_NONE);
    assert_int_equal(emgmm_accel_method_from_name("anderson"), EMGMM_ACCEL_ANDERSON);
    assert_int_equal(emgmm_accel_method_from_name("daarem"), -1);
    assert_string_equal(emgmm_accel_method_name(EMGMM_ACCEL_ANDERSON), "anderson");
    assert_null(emgmm_accel_method_name(7));
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, 2, 2, EMGMM_COV_DIAG), EMGMM_OK);
    const double v[9] = {0};
    assert_int_equal(emgmm_model_set_accel_state(m, 4, 1.0, 0, NULL, 0), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_model_set_accel_state(m, 0, 0.5, 0, NULL, 0), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_model_set_accel_state(m, 1, 1.0, 0, NULL, 0), EMGMM_ERR_NULL);
    assert_int_equal(emgmm_model_set_accel_state(m, 1, 1.0, 0, v, 9),
                     EMGMM_ERR_INVALID_PARAM); /* no iteration yet */
    assert_int_equal(emgmm_model_set_accel_state(m, 0, 1.0, -1, NULL, 0), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_model_set_accel_state(NULL, 0, 1.0, 0, NULL, 0), EMGMM_ERR_NULL);
    /* Anderson (phase 3): [pairs, x, Δf, Δg] — P = K + K·d + K·d = 10 coordinates for diag */
    double w[31] = {0};
    assert_int_equal(emgmm_model_set_accel_state(m, 3, 1.0, 0, w, 11),
                     EMGMM_ERR_INVALID_PARAM); /* no iteration yet */
    const double w0[2] = {0.375, 0.625}, mu0[4] = {0.0, 1.5, -2.25, 0.5},
                 cov0[4] = {1.0, 2.0, 0.5, 1.25};
    assert_int_equal(emgmm_model_set_parameters(m, w0, mu0, cov0), EMGMM_OK);
    const double lb1 = -1.25;
    assert_int_equal(emgmm_model_set_fit_state(m, &lb1, 1, 0), EMGMM_OK);
    assert_int_equal(emgmm_model_set_accel_state(m, 3, 1.0, 0, w, 11), EMGMM_OK);
    w[0] = 1.0;
    assert_int_equal(emgmm_model_set_accel_state(m, 3, 1.0, 0, w, 11), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_model_set_accel_state(m, 3, 1.0, 0, w, 31), EMGMM_OK);
    w[0] = 0.5;
    assert_int_equal(emgmm_model_set_accel_state(m, 3, 1.0, 0, w, 31), EMGMM_ERR_INVALID_PARAM);
    w[0] = 99.0;
    assert_int_equal(emgmm_model_set_accel_state(m, 3, 1.0, 0, w, 31), EMGMM_ERR_INVALID_PARAM);
    w[0] = 1.0;
    w[5] = NAN;
    assert_int_equal(emgmm_model_set_accel_state(m, 3, 1.0, 0, w, 31), EMGMM_ERR_INVALID_PARAM);
    assert_int_equal(emgmm_model_n_passes(NULL), 0);
    emgmm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(monotone_guard_rejects),
        cmocka_unit_test(anderson_guard_rejects),
        cmocka_unit_test(fixtures_same_optimum),
        cmocka_unit_test(overlap_all_types_fewer_passes),
        cmocka_unit_test(float32_missing_weights),
        cmocka_unit_test(deterministic_and_resumable),
        cmocka_unit_test(anderson_warm_up),
        cmocka_unit_test(warm_up_same_optimum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
