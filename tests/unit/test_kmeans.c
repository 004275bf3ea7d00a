/* test_kmeans.c — white-box checks of the k-means initialisation (src/init/kmeans.c)
 * against plain reference loops: k-means++ picks the same seed rows as the textbook
 * greedy seeding (direct distances, sums in row order), Lloyd's iterations reach the
 * same centres in the same number of steps as Lloyd with direct distances, and
 * neither depends on the thread count — for float64 and float32 rows, weighted rows,
 * data far from the origin (where an expanded ‖x‖² − 2x·c + ‖c‖² cancels), and
 * inputs smaller than one tile. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/tu.h"
#include "src/base/base.h"
#include "src/init/init.h"

typedef struct {
    size_t n, d;
    int K;
    double *x;     /* [n][d], the values the library sees (float-rounded for f32) */
    float *xf;     /* [n][d] or NULL */
    double *w;     /* [n] or NULL */
    double spread; /* scale of the data around its centres */
} km_case;

/* K + 2 centres spread by sep, rows scattered around them (unit spread), all
 * shifted by offset; f32: the rows are rounded to float first; weighted: one row in
 * seven weighs 0, the others 0.25..2. */
static km_case make_case_sep(size_t n, size_t d, int K, double sep, double offset, int f32,
                             int weighted, uint64_t seed)
{
    km_case c = {n, d, K, NULL, NULL, NULL, 1.0};
    tu_rng r;
    tu_rng_seed(&r, seed);
    const int ntrue = K + 2;
    double *mu = malloc(sizeof(double) * (size_t)ntrue * d);
    for (size_t i = 0; i < (size_t)ntrue * d; i++) mu[i] = sep * tu_normal(&r);
    c.x = malloc(sizeof(double) * n * d);
    for (size_t i = 0; i < n; i++) {
        const size_t k = (size_t)(tu_uniform(&r) * ntrue);
        for (size_t j = 0; j < d; j++) c.x[i * d + j] = offset + mu[k * d + j] + tu_normal(&r);
    }
    if (f32) {
        c.xf = malloc(sizeof(float) * n * d);
        for (size_t i = 0; i < n * d; i++) {
            c.xf[i] = (float)c.x[i];
            c.x[i] = (double)c.xf[i];
        }
    }
    if (weighted) {
        c.w = malloc(sizeof(double) * n);
        for (size_t i = 0; i < n; i++) c.w[i] = i % 7 == 3 ? 0.0 : 0.25 + 1.75 * tu_uniform(&r);
    }
    free(mu);
    return c;
}

static km_case make_case(size_t n, size_t d, int K, double offset, int f32, int weighted,
                         uint64_t seed)
{
    return make_case_sep(n, d, K, 6.0, offset, f32, weighted, seed);
}

static void free_case(km_case *c)
{
    free(c->x);
    free(c->xf);
    free(c->w);
}

static emgmm_data case_data(const km_case *c)
{
    emgmm_data X =
        c->xf ? emgmm_data_f32(c->xf, c->n, c->d, c->d) : emgmm_data_f64(c->x, c->n, c->d, c->d);
    X.weights = c->w;
    return X;
}

static double wref(const km_case *c, size_t i) { return c->w ? c->w[i] : 1.0; }

static double dist2(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

/* The textbook greedy k-means++ (scikit-learn's): 2 + ⌊ln K⌋ candidates drawn with
 * probability ∝ w·D², the one that lowers the potential most kept; the generator is
 * consumed exactly as the library does. */
static void ref_kmeanspp(const km_case *c, uint64_t seed, size_t *chosen)
{
    const size_t n = c->n, d = c->d, K = (size_t)c->K;
    const int trials = 2 + (int)log((double)K);
    emgmm_rng rng;
    emgmm_rng_seed(&rng, seed, 0);
    double *closest = malloc(sizeof(double) * n), *nc = malloc(sizeof(double) * n);
    size_t c0 = (size_t)(emgmm_rng_uniform(&rng) * (double)n);
    if (c0 >= n) c0 = n - 1;
    while (wref(c, c0) == 0.0) c0 = (c0 + 1) % n;
    chosen[0] = c0;
    for (size_t i = 0; i < n; i++) closest[i] = dist2(c->x + i * d, c->x + c0 * d, d);
    for (size_t k = 1; k < K; k++) {
        double pot = 0.0;
        for (size_t i = 0; i < n; i++) pot += wref(c, i) * closest[i];
        size_t cand[32] = {0};
        for (int t = 0; t < trials; t++) {
            const double u = emgmm_rng_uniform(&rng);
            size_t idx = n - 1;
            if (pot > 0.0) {
                double acc = 0.0, target = u * pot;
                size_t i;
                for (i = 0; i < n; i++) {
                    acc += wref(c, i) * closest[i];
                    if (acc > target) break;
                }
                if (i < n) {
                    idx = i;
                } else {
                    for (i = n; i-- > 0;)
                        if (wref(c, i) > 0.0 && closest[i] > 0.0) break;
                    idx = i;
                }
            } else {
                idx = (size_t)(u * (double)n);
                if (idx >= n) idx = n - 1;
            }
            cand[t] = idx;
        }
        int best = 0;
        double best_pot = INFINITY;
        for (int t = 0; t < trials; t++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++) {
                const double dd = dist2(c->x + i * d, c->x + cand[t] * d, d);
                s += wref(c, i) * (dd < closest[i] ? dd : closest[i]);
            }
            if (s < best_pot) {
                best_pot = s;
                best = t;
            }
        }
        chosen[k] = cand[best];
        for (size_t i = 0; i < n; i++) {
            const double dd = dist2(c->x + i * d, c->x + chosen[k] * d, d);
            nc[i] = dd < closest[i] ? dd : closest[i];
        }
        memcpy(closest, nc, sizeof(double) * n);
    }
    free(closest);
    free(nc);
}

/* Lloyd with direct distances (the first nearest on ties), sums in row order, an empty
 * cluster keeping its centre, and the library's stopping rule: the squared shift of all
 * centres at or below tol × the mean per-feature variance.  Returns the iterations. */
static int ref_lloyd(const km_case *c, double *centres, int max_iter, double tol)
{
    const size_t n = c->n, d = c->d, K = (size_t)c->K;
    double var = 0.0;
    for (size_t j = 0; j < d; j++) {
        double m = 0.0, v = 0.0;
        for (size_t i = 0; i < n; i++) m += c->x[i * d + j];
        m /= (double)n;
        for (size_t i = 0; i < n; i++) v += (c->x[i * d + j] - m) * (c->x[i * d + j] - m);
        var += v / (double)n;
    }
    const double thresh = tol * var / (double)d;
    double *s = malloc(sizeof(double) * K * d), *wk = malloc(sizeof(double) * K);
    int it;
    for (it = 0; it < max_iter; it++) {
        memset(s, 0, sizeof(double) * K * d);
        memset(wk, 0, sizeof(double) * K);
        for (size_t i = 0; i < n; i++) {
            size_t best = 0;
            double bd = INFINITY;
            for (size_t k = 0; k < K; k++) {
                const double t = dist2(c->x + i * d, centres + k * d, d);
                if (t < bd) {
                    bd = t;
                    best = k;
                }
            }
            wk[best] += wref(c, i);
            for (size_t j = 0; j < d; j++) s[best * d + j] += wref(c, i) * c->x[i * d + j];
        }
        double shift = 0.0;
        for (size_t k = 0; k < K; k++) {
            if (wk[k] == 0.0) continue;
            for (size_t j = 0; j < d; j++) {
                const double v = s[k * d + j] / wk[k], t = v - centres[k * d + j];
                shift += t * t;
                centres[k * d + j] = v;
            }
        }
        if (shift <= thresh) {
            it++;
            break;
        }
    }
    free(s);
    free(wk);
    return it;
}

static emgmm_model *model_for(const km_case *c)
{
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, c->K, (int)c->d, EMGMM_COV_FULL), EMGMM_OK);
    return m;
}

/* Seeds (1, 2 and 3 threads) against the reference, then Lloyd from them against the
 * reference Lloyd from the same seeds; every thread count gives the same bits. */
static void check_case(const km_case *c, uint64_t seed)
{
    const size_t d = c->d, K = (size_t)c->K;
    emgmm_model *m = model_for(c);
    const emgmm_data X = case_data(c);
    size_t want[64], got[64];
    ref_kmeanspp(c, seed, want);
    double *cen1 = malloc(sizeof(double) * K * d), *cen = malloc(sizeof(double) * K * d);
    double *ref = malloc(sizeof(double) * K * d);
    for (int T = 1; T <= 3; T++) {
        emgmm_rng rng;
        emgmm_rng_seed(&rng, seed, 0);
        assert_int_equal(emgmm_kmeanspp(m, &X, &rng, T, cen, got), EMGMM_OK);
        for (size_t k = 0; k < K; k++) {
            if (got[k] != want[k])
                fail_msg("n %zu d %zu K %zu, %d threads: seed %zu is row %zu, reference row %zu",
                         c->n, d, K, T, k, got[k], want[k]);
            assert_memory_equal(cen + k * d, c->x + got[k] * d, sizeof(double) * d);
        }
    }
    for (size_t k = 0; k < K; k++) memcpy(ref + k * d, c->x + want[k] * d, sizeof(double) * d);
    const int it_ref = ref_lloyd(c, ref, 300, 1e-4);
    for (int T = 1; T <= 3; T++) {
        for (size_t k = 0; k < K; k++) memcpy(cen + k * d, c->x + want[k] * d, sizeof(double) * d);
        int it = -1;
        assert_int_equal(emgmm_kmeans_lloyd(m, &X, 300, 1e-4, T, cen, &it), EMGMM_OK);
        if (it != it_ref)
            fail_msg("n %zu d %zu K %zu, %d threads: %d Lloyd iterations, reference %d", c->n, d, K,
                     T, it, it_ref);
        /* rounding apart (1e-10 of the spread, or 1e-13 of a value far from the
         * origin); a row on the other side would move its centre by ~1/n_k */
        for (size_t i = 0; i < K * d; i++)
            tu_assert_close(cen[i], ref[i], 1e-13, 1e3 * c->spread,
                            "n %zu d %zu K %zu, %d threads: centre value %zu", c->n, d, K, T, i);
        if (T == 1)
            memcpy(cen1, cen, sizeof(double) * K * d);
        else
            assert_memory_equal(cen, cen1, sizeof(double) * K * d);
    }
    free(cen1);
    free(cen);
    free(ref);
    emgmm_model_free(m);
}

/* Several chunks of rows (20011 is no multiple of a tile), coordinates below, at and
 * above one 8-wide block, and a K with 2 + ⌊ln 9⌋ = 4 candidates per centre. */
static void seeds_and_centres_match_reference_for_float64(void **state)
{
    (void)state;
    const size_t dims[] = {3, 8, 16, 19};
    for (int i = 0; i < 4; i++) {
        km_case c = make_case(20011, dims[i], 9, 0.0, 0, 0, 0x2385 + (uint64_t)i);
        check_case(&c, 11 + (uint64_t)i);
        free_case(&c);
    }
}

static void seeds_and_centres_match_reference_for_float32_and_weights(void **state)
{
    (void)state;
    km_case c = make_case(12345, 16, 7, 0.0, 1, 0, 0xf32);
    check_case(&c, 5);
    free_case(&c);
    c = make_case(12345, 5, 12, 0.0, 0, 1, 0x3e16);
    check_case(&c, 6);
    free_case(&c);
    c = make_case(9001, 11, 4, 0.0, 1, 1, 0x3e17);
    check_case(&c, 7);
    free_case(&c);
}

/* Overlapping clusters 10⁸ away from the origin: there the products x·c of an
 * expanded ‖x − c‖² carry errors of d·ε·‖x‖‖c‖ ≈ 10³, more than the distances that
 * decide.  Seeding's distances are direct and Lloyd's are taken on rows centred at
 * the mean of the seeds, so both still agree with the direct reference. */
static void far_from_origin_data_keeps_seeds_and_partition(void **state)
{
    (void)state;
    km_case c = make_case_sep(15013, 16, 16, 2.0, 1e8, 0, 0, 0xfa7);
    check_case(&c, 3);
    free_case(&c);
    c = make_case(15013, 6, 5, -2.385e6, 0, 1, 0xfa8);
    check_case(&c, 4);
    free_case(&c);
}

/* Fewer rows than one tile, as many rows as centres, and a single centre (no second
 * nearest to bound a row by). */
static void inputs_smaller_than_a_tile(void **state)
{
    (void)state;
    km_case one = make_case(2001, 3, 1, 0.0, 0, 1, 0x1);
    check_case(&one, 9);
    free_case(&one);
    km_case c = make_case(5, 2, 3, 0.0, 0, 0, 0x5);
    check_case(&c, 1);
    free_case(&c);
    c = make_case(13, 9, 13, 0.0, 1, 0, 0x13);
    check_case(&c, 2);
    free_case(&c);
}

/* A centre that no row is nearest to keeps its place, exactly; so does one whose rows
 * all weigh 0 (its weight sum is 0 whatever rows come and go). */
static void empty_cluster_keeps_its_centre(void **state)
{
    (void)state;
    for (int weighted = 0; weighted < 2; weighted++) {
        km_case c = make_case(3001, 4, 3, 0.0, 0, weighted, 0xe3);
        if (weighted) /* 200 rows of weight 0 around the third centre */
            for (size_t i = 0; i < 200; i++) {
                c.w[i] = 0.0;
                for (size_t j = 0; j < 4; j++)
                    c.x[i * 4 + j] = 1e3 + (double)j + 0.01 * (double)(i % 17);
            }
        emgmm_model *m = model_for(&c);
        const emgmm_data X = case_data(&c);
        double cen[12], ref[12];
        for (size_t j = 0; j < 4; j++) {
            cen[j] = c.x[1000 * 4 + j];
            cen[4 + j] = c.x[2000 * 4 + j];
            cen[8 + j] = 1e3 + (double)j;
        }
        memcpy(ref, cen, sizeof cen);
        const int it_ref = ref_lloyd(&c, ref, 300, 1e-4);
        int it = -1;
        assert_int_equal(emgmm_kmeans_lloyd(m, &X, 300, 1e-4, 2, cen, &it), EMGMM_OK);
        assert_int_equal(it, it_ref);
        for (size_t j = 0; j < 4; j++) assert_true(cen[8 + j] == 1e3 + (double)j);
        for (int i = 0; i < 8; i++)
            tu_assert_close(cen[i], ref[i], 1e-13, 1e3, "weighted %d: centre value %d", weighted,
                            i);
        emgmm_model_free(m);
        free_case(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seeds_and_centres_match_reference_for_float64),
        cmocka_unit_test(seeds_and_centres_match_reference_for_float32_and_weights),
        cmocka_unit_test(far_from_origin_data_keeps_seeds_and_partition),
        cmocka_unit_test(inputs_smaller_than_a_tile),
        cmocka_unit_test(empty_cluster_keeps_its_centre),
    };
    return cmocka_run_group_tests_name("kmeans", tests, NULL, NULL);
}
