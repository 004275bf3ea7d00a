/* test_textbook_agreement.c — from the same user-given start, 10 EM iterations of the library
 * and of the textbook EM (textbook_em.c) agree to 1e-9 relative in weights, means, covariances,
 * precision Cholesky factors and the lower bound of every iteration (d = 1, 3, 17; K = 1, 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../common/tu.h"
#include "emgmm.h"
#include "textbook_em.h"

#define RTOL 1e-9
#define ITERS 10

typedef struct {
    int d, K;
    size_t n;
    uint64_t seed;
    double offset; /* added to every coordinate: data far from the origin */
    int outliers;  /* rows moved 60 sd away, whose densities underflow exp() without the max */
    int dead;      /* start the last component 1000 sd from the data, so that it gets no rows */
} agree_case;

/* Data from a 4-component mixture with overlapping components (means ~3 sd apart), so ten
 * iterations keep moving the parameters; a start near, not at, the truth.  For K = 1 the start
 * is a deliberately poor mean and covariance so the first M-step has real work. */
typedef struct {
    tu_mixture mix;
    double *w0, *mu0, *cov0;
} agree_problem;

static void make_problem(agree_problem *pb, const agree_case *c)
{
    tu_rng r;
    tu_rng_seed(&r, c->seed);
    tu_mixture_make(&pb->mix, &r, c->n, c->d, 4, 1.0, 3.0, 2.0);
    const int d = c->d, K = c->K;
    for (size_t i = 0; i < pb->mix.n * d; i++) pb->mix.x[i] += c->offset;
    for (int i = 0; i < 4 * d; i++) pb->mix.mu[i] += c->offset;
    for (int o = 0; o < c->outliers; o++) /* spread over the data, alternating sides */
        pb->mix.x[(size_t)(o * 97 % (int)pb->mix.n) * d + (size_t)(o % d)] +=
            (o % 2 ? -60.0 : 60.0);
    pb->w0 = tu_xmalloc(sizeof(double) * K);
    pb->mu0 = tu_xmalloc(sizeof(double) * K * d);
    pb->cov0 = tu_xmalloc(sizeof(double) * K * d * d);
    double wsum = 0.0;
    for (int k = 0; k < K; k++) {
        const int t = (K == 1) ? 0 : k; /* true component this start is near */
        pb->w0[k] = (K == 1) ? 1.0 : pb->mix.w[t] * (0.8 + 0.4 * tu_uniform(&r));
        wsum += pb->w0[k];
        for (int j = 0; j < d; j++)
            pb->mu0[k * d + j] = pb->mix.mu[t * d + j] + 0.5 * tu_normal(&r);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                pb->cov0[(size_t)k * d * d + i * d + j] =
                    1.3 * pb->mix.cov[(size_t)t * d * d + i * d + j] + (i == j ? 0.2385 : 0.0);
    }
    for (int k = 0; k < K; k++) pb->w0[k] /= wsum;
    if (c->dead) /* its responsibilities underflow to exactly 0: N_k is only the 10ε guard */
        for (int j = 0; j < d; j++)
            pb->mu0[(K - 1) * d + j] = c->offset + (j % 2 ? -1000.0 : 1000.0);
}

static void free_problem(agree_problem *pb)
{
    tu_mixture_free(&pb->mix);
    free(pb->w0);
    free(pb->mu0);
    free(pb->cov0);
}

/* Runs the textbook EM from the start; fills w, mu, cov, U (precisions_cholesky) and lbs. */
static void textbook_run(const agree_problem *pb, int K, double reg, double *w, double *mu,
                         double *cov, double *U, double *lbs)
{
    const int d = pb->mix.d;
    memcpy(w, pb->w0, sizeof(double) * K);
    memcpy(mu, pb->mu0, sizeof(double) * K * d);
    memcpy(cov, pb->cov0, sizeof(double) * K * d * d);
    assert_int_equal(
        tb_em(TB_FULL, pb->mix.x, pb->mix.n, d, (size_t)d, NULL, K, reg, ITERS, w, mu, cov, lbs),
        0);
    assert_int_equal(tb_precisions_cholesky(TB_FULL, K, d, cov, U), 0);
}

static void assert_model_matches(emgmm_model *m, int K, int d, const double *w, const double *mu,
                                 const double *cov, const double *U, const double *lbs,
                                 const char *what)
{
    assert_int_equal(emgmm_model_n_iter(m), ITERS);
    assert_int_equal(emgmm_model_converged(m), 0);
    tu_assert_gmm_close(K, d, emgmm_model_weights(m), emgmm_model_means(m),
                        emgmm_model_covariances(m), w, mu, cov, RTOL, what);
    const double *Um = emgmm_model_precisions_cholesky(m);
    for (int k = 0; k < K; k++)
        for (int i = 0; i < d; i++) {
            double p_ii = 0.0; /* (Σ⁻¹)_ii = Σ_j U_ij², the size of row i of U */
            for (int j = 0; j < d; j++)
                p_ii += U[(size_t)k * d * d + i * d + j] * U[(size_t)k * d * d + i * d + j];
            for (int j = 0; j < d; j++)
                tu_assert_close(Um[(size_t)k * d * d + i * d + j], U[(size_t)k * d * d + i * d + j],
                                RTOL, sqrt(p_ii), "%s: precisions_cholesky[%d][%d][%d]", what, k, i,
                                j);
        }
    int count = -1;
    const double *mlbs = emgmm_model_lower_bounds(m, &count);
    assert_int_equal(count, ITERS);
    for (int i = 0; i < ITERS; i++)
        tu_assert_close(mlbs[i], lbs[i], RTOL, 0.0, "%s: lower bound of iteration %d", what, i + 1);
    tu_assert_close(emgmm_model_lower_bound(m), lbs[ITERS - 1], RTOL, 0.0, "%s: lower_bound", what);
}

static emgmm_params user_params(double reg)
{
    emgmm_params p = emgmm_params_default();
    p.init = EMGMM_INIT_USER;
    p.tol = 0.0;
    p.max_iter = ITERS;
    p.reg_covar = reg;
    p.degenerate =
        EMGMM_DEGEN_ERROR; /* the textbook lets a dead component die (scikit-learn's way) */
    return p;
}

/* The plain case: contiguous double data, default threads and blocks. */
static void library_matches_textbook_em(void **state)
{
    const agree_case *c = *state;
    const int d = c->d, K = c->K;
    const double reg = 1e-6;
    agree_problem pb;
    make_problem(&pb, c);
    double *w = tu_xmalloc(sizeof(double) * K), *mu = tu_xmalloc(sizeof(double) * K * d);
    double *cov = tu_xmalloc(sizeof(double) * K * d * d),
           *U = tu_xmalloc(sizeof(double) * K * d * d);
    double lbs[ITERS];
    textbook_run(&pb, K, reg, w, mu, cov, U, lbs);

    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, pb.w0, pb.mu0, pb.cov0), EMGMM_OK);
    const emgmm_params p = user_params(reg);
    const emgmm_data X = emgmm_data_f64(pb.mix.x, pb.mix.n, (size_t)d, (size_t)d);
    const int rc = emgmm_fit(m, &p, &X);
    if (rc != EMGMM_OK)
        fail_msg("emgmm_fit: %s (%s)", emgmm_strerror(rc), emgmm_model_last_error(m));
    char what[64];
    snprintf(what, sizeof what, "d=%d K=%d", d, K);
    assert_model_matches(m, K, d, w, mu, cov, U, lbs, what);

    /* The fitted model's densities and posteriors are the textbook E-step's. */
    double *ld_ref = tu_xmalloc(sizeof(double) * pb.mix.n),
           *ld = tu_xmalloc(sizeof(double) * pb.mix.n);
    double *pr_ref = tu_xmalloc(sizeof(double) * pb.mix.n * K),
           *pr = tu_xmalloc(sizeof(double) * pb.mix.n * K);
    tb_estep(TB_FULL, pb.mix.x, pb.mix.n, d, (size_t)d, NULL, K, emgmm_model_weights(m),
             emgmm_model_means(m), emgmm_model_covariances(m), pr_ref, ld_ref);
    assert_int_equal(emgmm_score_samples(m, &X, ld), EMGMM_OK);
    assert_int_equal(emgmm_predict_proba(m, &X, pr), EMGMM_OK);
    for (size_t i = 0; i < pb.mix.n; i++) {
        tu_assert_close(ld[i], ld_ref[i], RTOL, 0.0, "%s: score_samples[%zu]", what, i);
        for (int k = 0; k < K; k++) /* probabilities: their natural scale is 1 */
            tu_assert_close(pr[i * K + k], pr_ref[i * K + k], RTOL, 1.0, "%s: proba[%zu][%d]", what,
                            i, k);
    }
    free(ld_ref);
    free(ld);
    free(pr_ref);
    free(pr);
    emgmm_model_free(m);
    free(w);
    free(mu);
    free(cov);
    free(U);
    free_problem(&pb);
}

/* Rows with ld > d whose padding holds NaN (the library must read only x[i*ld + j], j < d),
 * two threads and a block size that divides nothing: same numbers as the textbook, and reg_covar
 * large enough to matter. */
static void library_matches_textbook_em_strided_threaded(void **state)
{
    const agree_case *c = *state;
    const int d = c->d, K = c->K;
    const size_t ld = (size_t)d + 3;
    const double reg = 0.0385;
    agree_problem pb;
    make_problem(&pb, c);
    double *w = tu_xmalloc(sizeof(double) * K), *mu = tu_xmalloc(sizeof(double) * K * d);
    double *cov = tu_xmalloc(sizeof(double) * K * d * d),
           *U = tu_xmalloc(sizeof(double) * K * d * d);
    double lbs[ITERS];
    textbook_run(&pb, K, reg, w, mu, cov, U, lbs);

    double *xs = tu_xmalloc(sizeof(double) * pb.mix.n * ld);
    for (size_t i = 0; i < pb.mix.n; i++)
        for (size_t j = 0; j < ld; j++) xs[i * ld + j] = j < (size_t)d ? pb.mix.x[i * d + j] : NAN;
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, pb.w0, pb.mu0, pb.cov0), EMGMM_OK);
    emgmm_params p = user_params(reg);
    p.n_threads = 2;
    p.block_size = d == 3 ? 1 : 61; /* one-row blocks once: every row its own GEMM/SYRK */
    const emgmm_data X = emgmm_data_f64(xs, pb.mix.n, (size_t)d, ld);
    const int rc = emgmm_fit(m, &p, &X);
    if (rc != EMGMM_OK)
        fail_msg("emgmm_fit: %s (%s)", emgmm_strerror(rc), emgmm_model_last_error(m));
    char what[64];
    snprintf(what, sizeof what, "strided d=%d K=%d", d, K);
    assert_model_matches(m, K, d, w, mu, cov, U, lbs, what);
    emgmm_model_free(m);
    free(xs);
    free(w);
    free(mu);
    free(cov);
    free(U);
    free_problem(&pb);
}

/* A tiny problem with more threads than blocks (8 threads, 3 blocks of at most 3 rows): idle
 * threads must contribute nothing, not garbage. */
static void library_matches_textbook_em_more_threads_than_blocks(void **state)
{
    (void)state;
    const int d = 2, K = 2;
    const size_t n = 8;
    const double x[16] = {0.2385, 1.1, -0.7, 0.35, 0.9,  -1.2, 4.1, 3.3,
                          5.2,    2.9, 4.6,  4.4,  -0.1, 0.6,  3.8, 3.75};
    const double w0[2] = {0.55, 0.45}, mu0[4] = {0.5, 0.5, 4.0, 3.0};
    const double cov0[8] = {1.2, 0.1, 0.1, 0.9, 0.8, -0.2, -0.2, 1.1};
    double w[2], mu[4], cov[8], U[8], lbs[ITERS];
    memcpy(w, w0, sizeof w);
    memcpy(mu, mu0, sizeof mu);
    memcpy(cov, cov0, sizeof cov);
    assert_int_equal(tb_em(TB_FULL, x, n, d, (size_t)d, NULL, K, 1e-6, ITERS, w, mu, cov, lbs), 0);
    assert_int_equal(tb_precisions_cholesky(TB_FULL, K, d, cov, U), 0);
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, w0, mu0, cov0), EMGMM_OK);
    emgmm_params p = user_params(1e-6);
    p.n_threads = 8;
    p.block_size = 3;
    const emgmm_data X = emgmm_data_f64(x, n, (size_t)d, (size_t)d);
    const int rc = emgmm_fit(m, &p, &X);
    if (rc != EMGMM_OK)
        fail_msg("emgmm_fit: %s (%s)", emgmm_strerror(rc), emgmm_model_last_error(m));
    assert_model_matches(m, K, d, w, mu, cov, U, lbs, "8 threads, 3 blocks");
    emgmm_model_free(m);
}

/* The fine-grained loop (fit_init, then fit_iterate ITERS times) hands out each iteration's
 * lower bound as it goes: the same values as the textbook, and the same final model. */
static void fit_iterate_lower_bounds_match_textbook_em(void **state)
{
    const agree_case *c = *state;
    const int d = c->d, K = c->K;
    const double reg = 1e-6;
    agree_problem pb;
    make_problem(&pb, c);
    double *w = tu_xmalloc(sizeof(double) * K), *mu = tu_xmalloc(sizeof(double) * K * d);
    double *cov = tu_xmalloc(sizeof(double) * K * d * d),
           *U = tu_xmalloc(sizeof(double) * K * d * d);
    double lbs[ITERS];
    textbook_run(&pb, K, reg, w, mu, cov, U, lbs);

    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, pb.w0, pb.mu0, pb.cov0), EMGMM_OK);
    const emgmm_params p = user_params(reg);
    const emgmm_data X = emgmm_data_f64(pb.mix.x, pb.mix.n, (size_t)d, (size_t)d);
    assert_int_equal(emgmm_fit_init(m, &p, &X), EMGMM_OK);
    for (int it = 0; it < ITERS; it++) {
        double lb = NAN;
        assert_int_equal(emgmm_fit_iterate(m, &p, &X, &lb), EMGMM_OK);
        tu_assert_close(lb, lbs[it], RTOL, 0.0, "fit_iterate lower bound %d", it + 1);
        assert_int_equal(emgmm_fit_converged(m, p.tol), 0);
    }
    char what[64];
    snprintf(what, sizeof what, "fine-grained d=%d K=%d", d, K);
    assert_model_matches(m, K, d, w, mu, cov, U, lbs, what);
    emgmm_model_free(m);
    free(w);
    free(mu);
    free(cov);
    free(U);
    free_problem(&pb);
}

static const agree_case case_d1_k1 = {1, 1, 500, 0x2385, 0.0, 0, 0};
static const agree_case case_d1_k4 = {1, 4, 800, 0x2386, 0.0, 0, 0};
static const agree_case case_d3_k1 = {3, 1, 500, 0x2387, 0.0, 0, 0};
static const agree_case case_d3_k4 = {3, 4, 900, 0x2388, 0.0, 0, 0};
static const agree_case case_d17_k1 = {17, 1, 600, 0x2389, 0.0, 0, 0};
static const agree_case case_d17_k4 = {17, 4, 1500, 0x238a, 0.0, 0, 0};
/* Far from the origin: E[xxᵀ] − μμᵀ would lose ~1e-6 relative at 2.385e5; shifted sums do not. */
static const agree_case case_d3_k4_offset = {3, 4, 900, 0x238b, 2.385e5, 0, 0};
/* The last component starts where no data are and stays empty (see test_sklearn_fixtures.c). */
static const agree_case case_d3_k4_dead = {3, 4, 900, 0x238d, 0.0, 0, 1};
/* Rows whose every component density is below exp(-745): log-sum-exp needs its maximum. */
static const agree_case case_d3_k4_outliers = {3, 4, 900, 0x238c, 0.0, 6, 0};

#define AGREE(fn, c)                                                                               \
    {                                                                                              \
#fn "_" #c, fn, NULL, NULL, (void *)&c                                                     \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        AGREE(library_matches_textbook_em, case_d1_k1),
        AGREE(library_matches_textbook_em, case_d1_k4),
        AGREE(library_matches_textbook_em, case_d3_k1),
        AGREE(library_matches_textbook_em, case_d3_k4),
        AGREE(library_matches_textbook_em, case_d17_k1),
        AGREE(library_matches_textbook_em, case_d17_k4),
        AGREE(library_matches_textbook_em, case_d3_k4_offset),
        AGREE(library_matches_textbook_em, case_d3_k4_outliers),
        AGREE(library_matches_textbook_em, case_d3_k4_dead),
        AGREE(library_matches_textbook_em_strided_threaded, case_d1_k4),
        AGREE(library_matches_textbook_em_strided_threaded, case_d3_k4),
        AGREE(library_matches_textbook_em_strided_threaded, case_d17_k4),
        AGREE(library_matches_textbook_em_strided_threaded, case_d17_k1),
        cmocka_unit_test(library_matches_textbook_em_more_threads_than_blocks),
        AGREE(fit_iterate_lower_bounds_match_textbook_em, case_d3_k4),
        AGREE(fit_iterate_lower_bounds_match_textbook_em, case_d17_k4),
    };
    return cmocka_run_group_tests_name("textbook_agreement", tests, NULL, NULL);
}
