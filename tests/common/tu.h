/* tu.h — shared helpers of the emgmm correctness tests (header only, no library code):
 * a seeded generator (splitmix64 + xoshiro256** + Box–Muller), the one relative-tolerance
 * compare helper, synthetic Gaussian mixtures with known truth, the adjusted Rand index, and
 * a few checks of fits made through the public API that several test files run.
 * Include after <cmocka.h> (the assertion macros use cmocka's print_error/fail). */
#ifndef EMGMM_TESTS_TU_H
#define EMGMM_TESTS_TU_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emgmm.h"

/* ---------------------------------------------------------------- random numbers */
/* The tests' own generator, independent of the library's on purpose (review finding D4).  It is
 * the same kind as src/base/rng.c (xoshiro256** seeded through splitmix64, Box–Muller normals,
 * though seeded its own way), written out again rather than called: the data a test fits must not change when the library's
 * generator changes (a new stream layout, a faster normal), or every fixed-seed expectation in
 * the suite would move with it, and a bug in the library's generator would then shape the data
 * that is meant to test it.  tests/unit/test_kernels.c calls emgmm_rng_* instead, because there
 * the generator only fills arbitrary inputs of kernels compared with plain loops. */
typedef struct {
    uint64_t s[4];
    int have_spare;
    double spare;
} tu_rng;

static inline uint64_t tu_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void tu_rng_seed(tu_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = tu_splitmix64(&seed);
    r->have_spare = 0;
    r->spare = 0.0;
}

static inline uint64_t tu_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t tu_next(tu_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = tu_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = tu_rotl(s[3], 45);
    return result;
}

/* Uniform in the open interval (0, 1): never 0, so log() in Box–Muller is finite. */
static inline double tu_uniform(tu_rng *r)
{
    return ((double)(tu_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static inline double tu_normal(tu_rng *r)
{
    if (r->have_spare) {
        r->have_spare = 0;
        return r->spare;
    }
    const double u1 = tu_uniform(r), u2 = tu_uniform(r);
    const double rad = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
    r->spare = rad * sin(th);
    r->have_spare = 1;
    return rad * cos(th);
}

/* ---------------------------------------------------------------- comparisons */
/* The one compare rule of the suite: |got - want| <= rtol * max(|want|, scale).
 * scale = 0 gives a pure relative test; a positive scale is the natural size of the quantity
 * (a standard deviation for a mean coordinate, sqrt(S_ii S_jj) for a covariance entry), so that
 * entries that happen to be near zero are judged against the size of their neighbours rather
 * than against themselves.  NaN never compares close. */
static inline int tu_close(double got, double want, double rtol, double scale)
{
    const double ref = fabs(want) > scale ? fabs(want) : scale;
    return fabs(got - want) <= rtol * ref;
}

#define tu_assert_close(got, want, rtol, scale, ...)                                               \
    do {                                                                                           \
        const double tu_g_ = (got), tu_w_ = (want), tu_s_ = (scale);                               \
        if (!tu_close(tu_g_, tu_w_, (rtol), tu_s_)) {                                              \
            print_error(__VA_ARGS__);                                                              \
            print_error(": got %.17g, want %.17g (|diff| %.3g, allowed %.3g)\n", tu_g_, tu_w_,     \
                        fabs(tu_g_ - tu_w_),                                                       \
                        (rtol) * (fabs(tu_w_) > tu_s_ ? fabs(tu_w_) : tu_s_));                     \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* Compares a full-covariance mixture (weights [K], means [K][d], covariances [K][d][d]) with
 * the rule above: weights relative, a mean coordinate against max(|mu|, sd of that feature in
 * that component), a covariance entry against sqrt(S_ii S_jj) (>= |S_ij| for an SPD matrix). */
static inline void tu_assert_gmm_close(int K, int d, const double *w, const double *mu,
                                       const double *cov, const double *w_ref, const double *mu_ref,
                                       const double *cov_ref, double rtol, const char *what)
{
    for (int k = 0; k < K; k++) {
        tu_assert_close(w[k], w_ref[k], rtol, 0.0, "%s: weight[%d]", what, k);
        const double *S = cov_ref + (size_t)k * d * d;
        for (int j = 0; j < d; j++)
            tu_assert_close(mu[(size_t)k * d + j], mu_ref[(size_t)k * d + j], rtol,
                            sqrt(S[(size_t)j * d + j]), "%s: mean[%d][%d]", what, k, j);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                tu_assert_close(cov[(size_t)k * d * d + (size_t)i * d + j], S[(size_t)i * d + j],
                                rtol, sqrt(S[(size_t)i * d + i] * S[(size_t)j * d + j]),
                                "%s: cov[%d][%d][%d]", what, k, i, j);
    }
}

/* ---------------------------------------------------------------- synthetic mixtures */
/* A mixture with known truth: component k has weight w[k], mean mu[k], covariance
 * cov[k] = L_k L_kᵀ; x holds n rows (ld = d) and labels the component each row came from. */
typedef struct {
    size_t n;
    int d, K;
    double *x;
    int32_t *labels;
    double *w, *mu, *cov, *chol;
    size_t *count; /* rows drawn from each component */
} tu_mixture;

static inline void *tu_xmalloc(size_t bytes)
{
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "tests: out of memory (%zu bytes)\n", bytes);
        abort();
    }
    return p;
}

/* Means drawn until every pair is at least `sep` apart (in units of the largest component
 * standard deviation `sd`); covariances random SPD with standard deviations in [0.6, 1]·sd and
 * correlations; weights drawn in [1, 2.5] and normalised, so components differ in size.
 * With sep = 0 the means are simply N(0, spread²) per coordinate. */
static inline void tu_mixture_make(tu_mixture *m, tu_rng *r, size_t n, int d, int K, double sd,
                                   double sep, double spread)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    m->d = d;
    m->K = K;
    m->x = tu_xmalloc(n * (size_t)d * sizeof(double));
    m->labels = tu_xmalloc(n * sizeof(int32_t));
    m->w = tu_xmalloc((size_t)K * sizeof(double));
    m->mu = tu_xmalloc((size_t)K * d * sizeof(double));
    m->cov = tu_xmalloc((size_t)K * d * d * sizeof(double));
    m->chol = tu_xmalloc((size_t)K * d * d * sizeof(double));
    m->count = tu_xmalloc((size_t)K * sizeof(size_t));

    double wsum = 0.0;
    for (int k = 0; k < K; k++) wsum += (m->w[k] = 1.0 + 1.5 * tu_uniform(r));
    for (int k = 0; k < K; k++) m->w[k] /= wsum;

    for (int k = 0; k < K; k++) {
        for (int tries = 0;; tries++) {
            double *mk = m->mu + (size_t)k * d;
            for (int j = 0; j < d; j++) mk[j] = 2.385 + spread * tu_normal(r);
            int ok = 1;
            for (int q = 0; q < k && sep > 0.0; q++) {
                double dist2 = 0.0;
                for (int j = 0; j < d; j++) {
                    const double t = mk[j] - m->mu[(size_t)q * d + j];
                    dist2 += t * t;
                }
                if (dist2 < sep * sep * sd * sd) ok = 0;
            }
            if (ok) break;
            if (tries > 100000) {
                fprintf(stderr, "tests: cannot place %d means %g apart\n", K, sep);
                abort();
            }
        }
        /* L lower triangular; rows normalised so that every feature's standard deviation is
         * a drawn value in [0.6, 1]·sd whatever the correlations. */
        double *L = m->chol + (size_t)k * d * d;
        for (int i = 0; i < d; i++) {
            double norm2 = 0.0;
            for (int j = 0; j <= i; j++) {
                L[(size_t)i * d + j] = (j == i) ? 1.0 + tu_uniform(r) : 0.45 * tu_normal(r);
                norm2 += L[(size_t)i * d + j] * L[(size_t)i * d + j];
            }
            const double s = sd * (0.6 + 0.4 * tu_uniform(r)) / sqrt(norm2);
            for (int j = 0; j <= i; j++) L[(size_t)i * d + j] *= s;
        }
        double *S = m->cov + (size_t)k * d * d;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double acc = 0.0;
                for (int t = 0; t < d; t++) acc += L[(size_t)i * d + t] * L[(size_t)j * d + t];
                S[(size_t)i * d + j] = acc;
            }
    }

    double *z = tu_xmalloc((size_t)d * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        const double u = tu_uniform(r);
        int k = 0;
        double c = m->w[0];
        while (k < K - 1 && u > c) c += m->w[++k];
        m->labels[i] = k;
        m->count[k]++;
        for (int j = 0; j < d; j++) z[j] = tu_normal(r);
        const double *L = m->chol + (size_t)k * d * d;
        for (int j = 0; j < d; j++) {
            double acc = m->mu[(size_t)k * d + j];
            for (int t = 0; t <= j; t++) acc += L[(size_t)j * d + t] * z[t];
            m->x[i * (size_t)d + j] = acc;
        }
    }
    free(z);
}

static inline void tu_mixture_free(tu_mixture *m)
{
    free(m->x);
    free(m->labels);
    free(m->w);
    free(m->mu);
    free(m->cov);
    free(m->chol);
    free(m->count);
    memset(m, 0, sizeof *m);
}

/* The set-up most fits start from: tu_mixture_make's mixture (component standard deviations
 * up to 1) drawn from a generator seeded with seed, and the float64 view of its rows (ld = d, no
 * weights).  r: that generator, left after the draws for the caller's own (NULL: a local one).
 * Free with tu_mixture_free. */
static inline emgmm_data tu_mixture_view(tu_mixture *m, tu_rng *r, uint64_t seed, size_t n, int d,
                                         int K, double sep, double spread)
{
    tu_rng local;
    if (!r) r = &local;
    tu_rng_seed(r, seed);
    tu_mixture_make(m, r, n, d, K, 1.0, sep, spread);
    return emgmm_data_f64(m->x, m->n, (size_t)d, (size_t)d);
}

/* ---------------------------------------------------------------- adjusted Rand index */
/* Hubert & Arabie's ARI from the contingency table of two labelings with labels in [0, ka) and
 * [0, kb).  1 for identical partitions (whatever the label names), ~0 for independent ones. */
static inline double tu_ari(const int32_t *a, const int32_t *b, size_t n, int ka, int kb)
{
    double *tab = tu_xmalloc((size_t)ka * kb * sizeof(double));
    double *ra = tu_xmalloc((size_t)ka * sizeof(double));
    double *rb = tu_xmalloc((size_t)kb * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        tab[(size_t)a[i] * kb + b[i]] += 1.0;
        ra[a[i]] += 1.0;
        rb[b[i]] += 1.0;
    }
#define TU_C2(v) ((v) * ((v)-1.0) * 0.5)
    double sum_ij = 0.0, sum_a = 0.0, sum_b = 0.0;
    for (int i = 0; i < ka; i++)
        for (int j = 0; j < kb; j++) sum_ij += TU_C2(tab[(size_t)i * kb + j]);
    for (int i = 0; i < ka; i++) sum_a += TU_C2(ra[i]);
    for (int j = 0; j < kb; j++) sum_b += TU_C2(rb[j]);
    const double expected = sum_a * sum_b / TU_C2((double)n);
#undef TU_C2
    free(tab);
    free(ra);
    free(rb);
    const double max_index = 0.5 * (sum_a + sum_b);
    if (max_index == expected) /* both partitions trivial (one cluster or all singletons) */
        return 1.0;
    return (sum_ij - expected) / (max_index - expected);
}

/* ---------------------------------------------------------------- fits through the public API */
/* A new model of K components, d features and a covariance type; the test fails if it cannot. */
static inline emgmm_model *tu_model(int K, int d, int cov)
{
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, K, d, cov), EMGMM_OK);
    return m;
}

/* A model of K components of type cov fitted to X with p; the test fails, naming the error, if
 * the fit does not succeed. */
static inline emgmm_model *tu_fit(int K, int cov, const emgmm_params *p, const emgmm_data *X)
{
    emgmm_model *m = tu_model(K, (int)X->d, cov);
    const int rc = emgmm_fit(m, p, X);
    if (rc != EMGMM_OK)
        fail_msg("emgmm_fit: %s (%s)", emgmm_strerror(rc), emgmm_model_last_error(m));
    return m;
}

/* a and b are the same fit bit for bit: iterations, weights, means, covariances, precision
 * factors, the lower-bound history, the best initialisation and the reseeds. */
static inline void tu_assert_same_model(const emgmm_model *a, const emgmm_model *b, const char *what)
{
    const int K = emgmm_model_n_components(a), d = emgmm_model_n_features(a);
    if (emgmm_model_n_iter(a) != emgmm_model_n_iter(b))
        fail_msg("%s: %d against %d iterations", what, emgmm_model_n_iter(a), emgmm_model_n_iter(b));
    assert_memory_equal(emgmm_model_weights(a), emgmm_model_weights(b), sizeof(double) * K);
    assert_memory_equal(emgmm_model_means(a), emgmm_model_means(b), sizeof(double) * K * d);
    assert_memory_equal(emgmm_model_covariances(a), emgmm_model_covariances(b),
                        sizeof(double) * emgmm_model_covariances_size(a));
    assert_memory_equal(emgmm_model_precisions_cholesky(a), emgmm_model_precisions_cholesky(b),
                        sizeof(double) * emgmm_model_covariances_size(a));
    int ca = -1, cb = -2;
    const double *la = emgmm_model_lower_bounds(a, &ca), *lb = emgmm_model_lower_bounds(b, &cb);
    assert_int_equal(ca, cb);
    assert_memory_equal(la, lb, sizeof(double) * ca);
    assert_int_equal(emgmm_model_best_init(a), emgmm_model_best_init(b));
    assert_int_equal(emgmm_model_n_reseeds(a), emgmm_model_n_reseeds(b));
}

/* Fits K components of type cov to X twice with params p and checks that the two models are the
 * same bit for bit (iterations, means, covariances, lower bound).  Returns the first; the caller
 * frees it. */
static inline emgmm_model *tu_assert_fit_deterministic(const emgmm_params *p, const emgmm_data *X,
                                                       int K, int cov)
{
    const int d = (int)X->d;
    emgmm_model *a = tu_model(K, d, cov), *b = tu_model(K, d, cov);
    assert_int_equal(emgmm_fit(a, p, X), EMGMM_OK);
    assert_int_equal(emgmm_fit(b, p, X), EMGMM_OK);
    assert_int_equal(emgmm_model_n_iter(a), emgmm_model_n_iter(b));
    assert_memory_equal(emgmm_model_means(a), emgmm_model_means(b), (size_t)K * d * sizeof(double));
    assert_memory_equal(emgmm_model_covariances(a), emgmm_model_covariances(b),
                        emgmm_model_covariances_size(a) * sizeof(double));
    assert_true(emgmm_model_lower_bound(a) == emgmm_model_lower_bound(b));
    emgmm_model_free(b);
    return a;
}

/* Every lower bound in m's history is at least floor (to 1e-12 relative), and there is one. */
static inline void tu_assert_history_at_least(const emgmm_model *m, double floor, const char *what)
{
    int n = 0;
    const double *hist = emgmm_model_lower_bounds(m, &n);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++)
        if (hist[i] < floor - 1e-12 * fabs(floor)) {
            print_error("%s: iteration %d's lower bound %.17g is below %.17g\n", what, i + 1,
                        hist[i], floor);
            fail();
        }
}

/* Twelve tight clusters (standard deviation 0.7) on a 3×4 grid 6 apart, with sizes from 20 to
 * 200: k-means++ then Lloyd often puts two centres in one big cluster and one between two small
 * ones, an optimum EM cannot leave.  mu gets the centres; returns the n×2 rows (caller frees). */
static inline double *tu_grid12(size_t *n_out, double mu[12][2])
{
    tu_rng r;
    tu_rng_seed(&r, 4242);
    size_t size[12], n = 0;
    for (int k = 0; k < 12; k++) {
        mu[k][0] = 6.0 * (k / 4) + 1.385;
        mu[k][1] = 6.0 * (k % 4) - 2.5;
        size[k] = 20 + (size_t)(180.0 * tu_uniform(&r));
        n += size[k];
    }
    double *x = tu_xmalloc(n * 2 * sizeof(double));
    size_t i = 0;
    for (int k = 0; k < 12; k++)
        for (size_t t = 0; t < size[k]; t++, i++) {
            x[2 * i] = mu[k][0] + 0.7 * tu_normal(&r);
            x[2 * i + 1] = mu[k][1] + 0.7 * tu_normal(&r);
        }
    *n_out = n;
    return x;
}

/* How many of tu_grid12's centres have one of a 12-component model's means within 0.5. */
static inline int tu_grid12_found(const emgmm_model *m, const double mu[12][2])
{
    int found = 0;
    for (int k = 0; k < 12; k++) {
        double best = INFINITY;
        for (int j = 0; j < 12; j++) {
            const double *a = emgmm_model_means(m) + 2 * j;
            best = fmin(best, hypot(a[0] - mu[k][0], a[1] - mu[k][1]));
        }
        found += best < 0.5;
    }
    return found;
}

/* The other kinds of input a fit must take, made from rows x (n×d): the same rows as float32,
 * per-row weights drawn in [0.5, 2.885) from r, and a copy in which every 7th row has lost one
 * value (NaN).  Free with tu_variants_free. */
typedef struct {
    float *xf;
    double *w, *xm;
} tu_variants;

static inline void tu_variants_make(tu_variants *v, const double *x, size_t n, int d, tu_rng *r)
{
    v->xf = tu_xmalloc(n * d * sizeof(float));
    for (size_t i = 0; i < n * d; i++) v->xf[i] = (float)x[i];
    v->w = tu_xmalloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) v->w[i] = 0.5 + 2.385 * tu_uniform(r);
    v->xm = tu_xmalloc(n * d * sizeof(double));
    memcpy(v->xm, x, n * d * sizeof(double));
    for (size_t i = 0; i < n; i += 7) v->xm[i * d + (i % (size_t)d)] = NAN;
}

static inline void tu_variants_free(tu_variants *v)
{
    free(v->xf);
    free(v->w);
    free(v->xm);
}

#endif /* EMGMM_TESTS_TU_H */
