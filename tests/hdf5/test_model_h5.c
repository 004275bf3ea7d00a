/* test_model_h5.c — the HDF5 model file (issue 22): for every covariance type a
 * fitted model goes JSON → HDF5 → JSON with the same bytes, its arrays read
 * back bit for bit from either file, and the fit report survives; bad HDF5
 * models are refused with a message naming the attribute or dataset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emgmm_io.h"

static char dir[256];

static const char *in_dir(const char *name)
{
    static char b[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(b[i], sizeof b[i], "%s/%s", dir, name);
    return b[i];
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    b[n] = 0;
    *len = (size_t)n;
    return b;
}

/* A model fitted to seeded data with values of full precision. */
static emgmm_model *fitted(int cov, emgmm_params *p)
{
    const size_t n = 400, d = 5;
    double *x = malloc(n * d * sizeof *x);
    assert_non_null(x);
    uint64_t s = 0x2385u + (uint64_t)cov;
    for (size_t i = 0; i < n * d; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0;
        x[i] = u * 2.385 + (i / d % 3) * 4.125 * (double)(i % d == 1);
    }
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, 3, (int)d, cov), EMGMM_OK);
    *p = emgmm_params_default();
    p->seed = 11;
    p->max_iter = 7;
    emgmm_data X = emgmm_data_f64(x, n, d, d);
    assert_int_equal(emgmm_fit(m, p, &X), EMGMM_OK);
    free(x);
    return m;
}

static emgmm_model *load(const char *path, emgmm_io_model_file *mf)
{
    emgmm_io_error err = {0};
    if (emgmm_io_model_read(path, mf, &err) != 0) fail_msg("%s", err.msg);
    emgmm_model *m = NULL;
    assert_int_equal(emgmm_model_create(&m, mf->n_components, mf->n_features, mf->covariance_type),
                     EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, mf->weights, mf->means, mf->covariances),
                     EMGMM_OK);
    return m;
}

static void roundtrip(int cov)
{
    emgmm_params p;
    emgmm_model *m = fitted(cov, &p);
    emgmm_io_fit_info info = {1, p};
    emgmm_io_error err = {0};
    size_t K = 3, d = 5, cs = emgmm_model_covariances_size(m);
    if (emgmm_io_model_write(in_dir("a.json"), m, &info, &err) != 0 ||
        emgmm_io_model_write(in_dir("a.h5"), m, &info, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(emgmm_io_h5_sniff(in_dir("a.h5")));
    assert_false(emgmm_io_h5_sniff(in_dir("a.json")));

    /* Both files give the fitted arrays bit for bit, and the fit report. */
    emgmm_io_model_file mj, mh;
    emgmm_model *lj = load(in_dir("a.json"), &mj), *lh = load(in_dir("a.h5"), &mh);
    assert_int_equal(mh.covariance_type, cov);
    assert_int_equal(mh.cov_size, cs);
    assert_memory_equal(mh.weights, emgmm_model_weights(m), K * sizeof(double));
    assert_memory_equal(mh.means, emgmm_model_means(m), K * d * sizeof(double));
    assert_memory_equal(mh.covariances, emgmm_model_covariances(m), cs * sizeof(double));
    assert_memory_equal(mj.covariances, mh.covariances, cs * sizeof(double));
    assert_true(mh.has_n_iter && mh.n_iter == emgmm_model_n_iter(m));
    assert_true(mh.has_converged && mh.converged == emgmm_model_converged(m));
    assert_true(mh.has_lower_bound && mh.lower_bound == emgmm_model_lower_bound(m));
    /* precisions from either file are the same numbers */
    assert_memory_equal(emgmm_model_precisions_cholesky(lj), emgmm_model_precisions_cholesky(lh),
                        cs * sizeof(double));

    /* JSON → HDF5 → JSON: the same bytes. */
    if (emgmm_io_model_write(in_dir("b.h5"), lj, NULL, &err) != 0) fail_msg("%s", err.msg);
    emgmm_io_model_file mb;
    emgmm_model *lb = load(in_dir("b.h5"), &mb);
    if (emgmm_io_model_write(in_dir("c.json"), lb, NULL, &err) != 0 ||
        emgmm_io_model_write(in_dir("d.json"), lj, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    size_t l1, l2;
    char *t1 = slurp(in_dir("c.json"), &l1), *t2 = slurp(in_dir("d.json"), &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(t1, t2, l1);
    free(t1);
    free(t2);

    emgmm_io_model_file_free(&mj);
    emgmm_io_model_file_free(&mh);
    emgmm_io_model_file_free(&mb);
    emgmm_model_free(lj);
    emgmm_model_free(lh);
    emgmm_model_free(lb);
    emgmm_model_free(m);
}

static void test_roundtrip_full(void **s)
{
    (void)s;
    roundtrip(EMGMM_COV_FULL);
}
static void test_roundtrip_tied(void **s)
{
    (void)s;
    roundtrip(EMGMM_COV_TIED);
}
static void test_roundtrip_diag(void **s)
{
    (void)s;
    roundtrip(EMGMM_COV_DIAG);
}
static void test_roundtrip_spherical(void **s)
{
    (void)s;
    roundtrip(EMGMM_COV_SPHERICAL);
}

/* A truncated HDF5 model and a model without its means fail, naming what. */
static void test_bad_h5_models(void **s)
{
    (void)s;
    emgmm_params p;
    emgmm_model *m = fitted(EMGMM_COV_FULL, &p);
    emgmm_io_error err = {0};
    if (emgmm_io_model_write(in_dir("g.h5"), m, NULL, &err) != 0) fail_msg("%s", err.msg);
    emgmm_model_free(m);
    size_t len;
    char *b = slurp(in_dir("g.h5"), &len);
    FILE *f = fopen(in_dir("t.h5"), "wb");
    assert_non_null(f);
    fwrite(b, 1, len / 2, f);
    fclose(f);
    free(b);
    emgmm_io_model_file mf;
    assert_int_not_equal(emgmm_io_model_read(in_dir("t.h5"), &mf, &err), 0);
    assert_non_null(strstr(err.msg, "t.h5"));
    assert_int_equal(err.code, EMGMM_IO_EINPUT);
    assert_null(mf.weights);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/emgmm_h5_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_full), cmocka_unit_test(test_roundtrip_tied),
        cmocka_unit_test(test_roundtrip_diag), cmocka_unit_test(test_roundtrip_spherical),
        cmocka_unit_test(test_bad_h5_models),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
