/* test_model_json.c — the model file: a written model reads back bit for bit,
 * a hand-written minimal file is valid, and each kind of bad file is rejected
 * with a message naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emgmm_io.h"

#define MINIMAL_HEAD                                                                               \
    "{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"full\", "                \
    "\"n_components\": 2, \"n_features\": 2, "
#define GOOD_W "\"weights\": [0.375, 0.625], "
#define GOOD_MU "\"means\": [[1.5, -2.385], [0.0625, 7.75]], "
#define GOOD_COV "\"covariances\": [[[2.25, 0.3], [0.3, 1.125]], [[0.5, -0.125], [-0.125, 3.5]]]"

static int parse(const char *text, emgmm_io_model_file *mf, emgmm_io_error *err)
{
    memset(err, 0, sizeof *err);
    return emgmm_io_model_parse(text, strlen(text), "t.json", mf, err);
}

static void test_minimal_hand_written_file_is_valid(void **state)
{
    (void)state;
    emgmm_io_model_file mf;
    emgmm_io_error err;
    int rc = parse(MINIMAL_HEAD GOOD_W GOOD_MU GOOD_COV "}", &mf, &err);
    if (rc) fail_msg("%s", err.msg);
    assert_int_equal(mf.n_components, 2);
    assert_int_equal(mf.n_features, 2);
    assert_int_equal(mf.covariance_type, EMGMM_COV_FULL);
    assert_true(mf.weights[1] == 0.625 && mf.means[1] == -2.385 && mf.covariances[6] == -0.125);
    assert_int_equal(mf.cov_size, 8);
    assert_false(mf.has_n_iter || mf.has_converged || mf.has_lower_bound);
    emgmm_io_model_file_free(&mf);
}

static void expect_bad(const char *text, const char *substring)
{
    emgmm_io_model_file mf;
    emgmm_io_error err;
    assert_int_not_equal(parse(text, &mf, &err), 0);
    assert_int_equal(err.code, EMGMM_IO_EINPUT);
    if (!strstr(err.msg, substring)) fail_msg("message '%s' lacks '%s'", err.msg, substring);
    assert_null(mf.weights);
}

static void test_bad_files_name_the_field(void **state)
{
    (void)state;
    expect_bad("{\"format\": ", "invalid JSON");
    expect_bad("{\n\"format\": \"emgmm-model\",\n  oops}", "(t.json:3:");
    expect_bad("[1, 2]", "top level must be a JSON object");
    expect_bad("{\"format\": \"gmm\"}", "field 'format'");
    expect_bad("{\"format\": \"emgmm-model\", \"version\": 2}", "field 'version'");
    expect_bad("{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"fool\"}",
               "not \"fool\"");
    expect_bad("{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"full\", "
               "\"n_components\": 0, \"n_features\": 2}",
               "field 'n_components' must be an integer");
    expect_bad("{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"full\", "
               "\"n_components\": 2.5, \"n_features\": 2}",
               "field 'n_components'");
    expect_bad(MINIMAL_HEAD GOOD_MU GOOD_COV "}", "missing field 'weights'");
    expect_bad(MINIMAL_HEAD "\"weights\": [1.0], " GOOD_MU GOOD_COV "}",
               "field 'weights' has 1 entries, expected 2");
    expect_bad(MINIMAL_HEAD "\"weights\": [1.25, -0.25], " GOOD_MU GOOD_COV "}",
               "field 'weights[1]' is negative");
    expect_bad(MINIMAL_HEAD "\"weights\": [0.375, 0.6], " GOOD_MU GOOD_COV "}",
               "field 'weights' sums to");
    expect_bad(MINIMAL_HEAD GOOD_W "\"means\": [[1.5, -2.385], [\"x\", 7.75]], " GOOD_COV "}",
               "field 'means[1][0]' must be a finite number");
    expect_bad(MINIMAL_HEAD GOOD_W "\"means\": [[1.5, -2.385, 3], [0.0625, 7.75]], " GOOD_COV "}",
               "field 'means[0]' has 3 entries, expected 2");
    expect_bad(MINIMAL_HEAD GOOD_W GOOD_MU
               "\"covariances\": [[[2.25, 0.3], [0.31, 1.125]], [[0.5, -0.125], [-0.125, 3.5]]]}",
               "field 'covariances[0]' is not symmetric at [1][0]");
    expect_bad(MINIMAL_HEAD GOOD_W GOOD_MU
               "\"covariances\": [[[2.25, 0.3], [0.3, 1.125]], [[0.5, 1.5], [1.5, 3.5]]]}",
               "field 'covariances[1]' is not positive definite");
    expect_bad(MINIMAL_HEAD GOOD_W GOOD_MU "\"covariances\": [[2.25, 0.3], [0.3, 1.125]]}",
               "field 'covariances[0][0]' must be an array");
    /* huge claimed sizes are caught by the shape check, before any allocation */
    expect_bad("{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"diag\", "
               "\"n_components\": 65536, \"n_features\": 65536, " GOOD_W GOOD_MU
               "\"covariances\": [[2.25, 0.3], [0.5, 3.5]]}",
               "field 'weights' has 2 entries, expected 65536");
    expect_bad("{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"diag\", "
               "\"n_components\": 1, \"n_features\": 1000000, \"weights\": [1], "
               "\"means\": [[1.5, 2]], \"covariances\": [[1]]}",
               "field 'means[0]' has 2 entries, expected 1000000");
    expect_bad(MINIMAL_HEAD GOOD_W GOOD_MU GOOD_COV ", \"converged\": \"yes\"}",
               "field 'converged'");
    expect_bad(MINIMAL_HEAD GOOD_W GOOD_MU GOOD_COV ", \"n_iter\": -3}", "field 'n_iter'");
    expect_bad(MINIMAL_HEAD GOOD_W GOOD_W GOOD_MU GOOD_COV "}", "invalid JSON");
    expect_bad("{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"diag\", "
               "\"n_components\": 2, \"n_features\": 2, " GOOD_W GOOD_MU
               "\"covariances\": [[2.25, 0.0], [0.5, 3.5]]}",
               "non-positive variance");
}

static void test_other_covariance_shapes_parse(void **state)
{
    (void)state;
    emgmm_io_model_file mf;
    emgmm_io_error err;
    const char *tied =
        "{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"tied\", "
        "\"n_components\": 2, \"n_features\": 2, " GOOD_W GOOD_MU
        "\"covariances\": [[2.25, 0.3], [0.3, 1.125]]}";
    assert_int_equal(parse(tied, &mf, &err), 0);
    assert_int_equal(mf.cov_size, 4);
    emgmm_io_model_file_free(&mf);
    const char *sph =
        "{\"format\": \"emgmm-model\", \"version\": 1, \"covariance_type\": \"spherical\", "
        "\"n_components\": 2, \"n_features\": 2, " GOOD_W GOOD_MU
        "\"covariances\": [2.25, 0.125], \"seed\": 18446744073709551615}";
    assert_int_equal(parse(sph, &mf, &err), 0);
    assert_int_equal(mf.cov_size, 2);
    assert_true(mf.covariances[1] == 0.125);
    emgmm_io_model_file_free(&mf);
}

/* SPD covariances A·Aᵀ + c·I from high-entropy entries. */
static void make_params(int K, int d, double *w, double *mu, double *cov)
{
    uint64_t s = 0x9d2c5680u;
    double sum = 0;
    for (int k = 0; k < K; k++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        w[k] = 0.2 + (double)(s >> 11) * 0x1.0p-53;
        sum += w[k];
        for (int j = 0; j < d; j++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            mu[k * d + j] = ((double)(s >> 11) * 0x1.0p-53 - 0.5) * 37.3;
        }
        double a[16];
        for (int i = 0; i < d * d; i++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            a[i] = (double)(s >> 11) * 0x1.0p-53 - 0.5;
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double t = i == j ? 0.731 : 0;
                for (int l = 0; l < d; l++) t += a[i * d + l] * a[j * d + l];
                cov[(k * d + i) * d + j] = t;
            }
    }
    for (int k = 0; k < K; k++) w[k] /= sum;
}

static char *print_model(const emgmm_model *m, const emgmm_io_fit_info *info, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    assert_int_equal(emgmm_io_model_fprint(f, m, info), 0);
    fclose(f);
    return text;
}

static void test_written_model_reads_back_bit_exactly(void **state)
{
    (void)state;
    enum {
        K = 3,
        D = 4
    };
    double w[K], mu[K * D], cov[K * D * D];
    make_params(K, D, w, mu, cov);
    emgmm_model *m;
    assert_int_equal(emgmm_model_create(&m, K, D, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m, w, mu, cov), EMGMM_OK);
    emgmm_io_fit_info info = {1, emgmm_params_default()};
    info.params.seed = UINT64_MAX;
    info.params.tol = 2.385e-7;
    size_t len;
    char *text = print_model(m, &info, &len);

    emgmm_io_model_file mf;
    emgmm_io_error err;
    if (emgmm_io_model_parse(text, len, "mem", &mf, &err) != 0) fail_msg("%s", err.msg);
    assert_memory_equal(mf.weights, emgmm_model_weights(m), K * sizeof(double));
    assert_memory_equal(mf.means, emgmm_model_means(m), K * D * sizeof(double));
    assert_memory_equal(mf.covariances, emgmm_model_covariances(m), K * D * D * sizeof(double));
    assert_true(mf.has_n_iter && mf.n_iter == 0 && mf.has_converged && !mf.converged);

    /* written again from the loaded parameters: the same text */
    emgmm_model *m2;
    assert_int_equal(emgmm_model_create(&m2, K, D, EMGMM_COV_FULL), EMGMM_OK);
    assert_int_equal(emgmm_model_set_parameters(m2, mf.weights, mf.means, mf.covariances),
                     EMGMM_OK);
    size_t len2;
    char *text2 = print_model(m2, &info, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(text, text2, len);
    assert_non_null(strstr(text, "\"seed\": 18446744073709551615"));
    assert_non_null(strstr(text, "\"tol\": 2.385e-07"));

    emgmm_io_model_file_free(&mf);
    free(text);
    free(text2);
    emgmm_model_free(m);
    emgmm_model_free(m2);
}

static void test_unfitted_model_is_not_written(void **state)
{
    (void)state;
    emgmm_model *m;
    assert_int_equal(emgmm_model_create(&m, 2, 3, EMGMM_COV_FULL), EMGMM_OK);
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    assert_int_not_equal(emgmm_io_model_fprint(f, m, NULL), 0);
    fclose(f);
    free(text);
    emgmm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_hand_written_file_is_valid),
        cmocka_unit_test(test_bad_files_name_the_field),
        cmocka_unit_test(test_other_covariance_shapes_parse),
        cmocka_unit_test(test_written_model_reads_back_bit_exactly),
        cmocka_unit_test(test_unfitted_model_is_not_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
